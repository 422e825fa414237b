/* The kill switch's current policy (C1): what it allows changes as the connect pipeline
 * advances (authority API, then the entry gateway's link, then the tunnel device), and both
 * the control loop and the tunnel thread change it; every change re-applies the whole table
 * atomically under the lock. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "http/http_client.h"
#include "netlink/nl_policy.h"
#include "util/log.h"
#include "vpnd/vpnd.h"

#define LAN_MAX 32

void vpnd_fw_init(struct vpnd_fw *fw, uint32_t fwmark)
{
	memset(fw, 0, sizeof(*fw));
	pthread_mutex_init(&fw->mu, NULL);
	fw->fwmark = fwmark;
	fw->allow_ipv6 = true;
}

void vpnd_fw_set_router(struct vpnd_fw *fw, const struct conf_list *lan_interfaces)
{
	fw->n_router_lan = 0;
	for (size_t i = 0; i < lan_interfaces->count && i < CONF_LIST_MAX; i++)
		snprintf(fw->router_lan[fw->n_router_lan++], sizeof(fw->router_lan[0]), "%.15s", lan_interfaces->item[i]);
}

void vpnd_fw_set_router_dns(struct vpnd_fw *fw, const char *const *servers, size_t n)
{
	pthread_mutex_lock(&fw->mu);
	fw->n_router_dns = 0;
	for (size_t i = 0; i < n && fw->n_router_dns < sizeof(fw->router_dns) / sizeof(fw->router_dns[0]); i++) {
		struct nft_killswitch_net *d = &fw->router_dns[fw->n_router_dns];
		memset(d, 0, sizeof(*d));
		if (inet_pton(AF_INET, servers[i], d->addr) == 1)
			d->family = AF_INET, d->prefix = 32;
		else if (inet_pton(AF_INET6, servers[i], d->addr) == 1)
			d->family = AF_INET6, d->prefix = 128;
		else
			continue;
		fw->n_router_dns++;
	}
	pthread_mutex_unlock(&fw->mu);
}

static int endpoint_from(const struct sockaddr *sa, uint8_t proto, struct nft_killswitch_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	e->proto = proto;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		e->family = AF_INET;
		memcpy(e->addr, &s4->sin_addr, 4);
		e->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		e->family = AF_INET6;
		memcpy(e->addr, &s6->sin6_addr, 16);
		e->port = ntohs(s6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* "http://host:port/x" -> host, port. */
static int url_host_port(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *p = strstr(url, "://");
	bool https = strncmp(url, "https", 5) == 0;
	if (!p)
		return -EINVAL;
	p += 3;
	const char *end = p + strcspn(p, "/?#");
	const char *h = p, *hend, *colon;
	if (*p == '[') {
		h = p + 1;
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend)
			return -EINVAL;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hend = colon ? colon : end;
	}
	if (hend <= h || (size_t)(hend - h) >= hcap)
		return -EINVAL;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	if (colon && colon + 1 < end) {
		if ((size_t)(end - colon - 1) >= pcap)
			return -EINVAL;
		memcpy(port, colon + 1, (size_t)(end - colon - 1));
		port[end - colon - 1] = '\0';
	} else {
		snprintf(port, pcap, "%s", https ? "443" : "80");
	}
	return 0;
}

int vpnd_fw_set_authorities(struct vpnd_fw *fw, const char *const *urls, size_t n)
{
	struct nft_killswitch_endpoint eps[VPND_ENDPOINTS_MAX];
	size_t ne = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char host[256], port[16];
		if (url_host_port(urls[i], host, sizeof(host), port, sizeof(port)) != 0) {
			log_warn("authority URL %s: cannot find its host and port", urls[i]);
			rc = -EINVAL;
			continue;
		}
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res = NULL;
		int g = getaddrinfo(host, port, &hints, &res);
		if (g != 0) {
			log_warn("authority %s: cannot resolve %s: %s", urls[i], host, gai_strerror(g));
			rc = -EHOSTUNREACH;
			continue;
		}
		/* libcurl would look the name up again for every request, and once the kill switch
		 * is up DNS only works through the tunnel: pin the name to what it resolves to now,
		 * the very addresses the kill switch lets through. */
		char text[VPND_ENDPOINTS_MAX][INET6_ADDRSTRLEN];
		const char *addrs[VPND_ENDPOINTS_MAX];
		size_t na = 0;
		for (struct addrinfo *ai = res; ai && ne < VPND_ENDPOINTS_MAX; ai = ai->ai_next) {
			if (endpoint_from(ai->ai_addr, IPPROTO_TCP, &eps[ne]) != 0)
				continue;
			ne++;
			const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
								 : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
			if (inet_ntop(ai->ai_family, a, text[na], sizeof(text[na])))
				addrs[na] = text[na], na++;
		}
		freeaddrinfo(res);
		struct in6_addr literal;
		bool numeric = inet_pton(AF_INET, host, &literal) == 1 || inet_pton(AF_INET6, host, &literal) == 1;
		int pin = numeric || na == 0 ? 0 : nym_http_pin_host(host, port, addrs, na);
		if (pin && pin != -EEXIST)
			log_warn("authority %s: cannot pin %s to its addresses: %s", urls[i], host, strerror(-pin));
	}
	pthread_mutex_lock(&fw->mu);
	memcpy(fw->authority, eps, ne * sizeof(eps[0]));
	fw->n_authority = ne;
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

/* Applies the policy as it stands; the lock is held. */
static int apply_locked(struct vpnd_fw *fw, char *err, size_t errlen)
{
	struct nft_killswitch_endpoint eps[2 * VPND_ENDPOINTS_MAX];
	size_t ne = 0;
	for (size_t i = 0; i < fw->n_authority; i++)
		eps[ne++] = fw->authority[i];
	for (size_t i = 0; i < fw->n_entry; i++)
		eps[ne++] = fw->entry[i];
	struct nl_policy_prefix pre[LAN_MAX];
	struct nft_killswitch_net lan[LAN_MAX];
	size_t nl = 0;
	if (fw->allow_lan) {
		static const int fams[] = { AF_INET, AF_INET6 };
		for (size_t f = 0; f < 2; f++) {
			size_t got = 0;
			int rc = nl_policy_onlink_prefixes(fams[f], fw->tunnel[0] ? fw->tunnel : NULL, pre, LAN_MAX - nl, &got);
			if (rc && rc != -ENOSPC)
				got = 0;
			for (size_t i = 0; i < got && nl < LAN_MAX; i++) {
				lan[nl].family = pre[i].family;
				memcpy(lan[nl].addr, pre[i].addr, 16);
				lan[nl].prefix = pre[i].prefix;
				nl++;
			}
		}
	}
	const char *router_lan[CONF_LIST_MAX];
	for (size_t i = 0; i < fw->n_router_lan; i++)
		router_lan[i] = fw->router_lan[i];
	struct nft_killswitch_policy p = {
		.table = VPND_TABLE,
		.tunnel = fw->tunnel[0] ? fw->tunnel : NULL,
		.tunnel_outer = fw->tunnel[0] && fw->outer[0] ? fw->outer : NULL,
		.fwmark = fw->fwmark,
		.endpoints = eps,
		.n_endpoints = ne,
		.allow_lan = fw->allow_lan,
		.lan = lan,
		.n_lan = nl,
		.allow_ipv6 = fw->allow_ipv6,
		.router_lan = router_lan,
		.n_router_lan = fw->n_router_lan,
		.router_dns = fw->router_dns,
		.n_router_dns = fw->tunnel[0] ? fw->n_router_dns : 0,
	};
	struct nft_batch_error be;
	memset(&be, 0, sizeof(be));
	int rc = nft_killswitch_apply(&p, &be);
	if (rc) {
		snprintf(err, errlen, "cannot install the kill switch (nftables table inet %s): %s%s%s", VPND_TABLE,
			 strerror(-rc), be.what[0] ? ": " : "", be.what);
		return rc;
	}
	fw->active = true;
	return 0;
}

int vpnd_fw_block(struct vpnd_fw *fw, bool allow_lan, bool allow_ipv6, char *err, size_t errlen)
{
	pthread_mutex_lock(&fw->mu);
	fw->n_entry = 0;
	fw->tunnel[0] = '\0';
	fw->outer[0] = '\0';
	fw->n_router_dns = 0;
	fw->allow_lan = allow_lan;
	fw->allow_ipv6 = allow_ipv6;
	int rc = apply_locked(fw, err, errlen);
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

int vpnd_fw_set_entry(struct vpnd_fw *fw, const struct sockaddr_storage *addrs, size_t n, char *err, size_t errlen)
{
	pthread_mutex_lock(&fw->mu);
	fw->n_entry = 0;
	for (size_t i = 0; i < n && fw->n_entry < VPND_ENDPOINTS_MAX; i++)
		if (endpoint_from((const struct sockaddr *)&addrs[i], IPPROTO_TCP, &fw->entry[fw->n_entry]) == 0)
			fw->n_entry++;
	int rc = apply_locked(fw, err, errlen);
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

int vpnd_fw_add_entry(struct vpnd_fw *fw, const struct sockaddr *addr, uint8_t proto, char *err, size_t errlen)
{
	int rc = -ENOSPC;
	pthread_mutex_lock(&fw->mu);
	if (fw->n_entry < VPND_ENDPOINTS_MAX && (rc = endpoint_from(addr, proto, &fw->entry[fw->n_entry])) == 0) {
		fw->n_entry++;
		rc = apply_locked(fw, err, errlen);
	} else {
		snprintf(err, errlen, "cannot let the gateway's endpoint through: %s", strerror(-rc));
	}
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

int vpnd_fw_set_tunnels(struct vpnd_fw *fw, const char *tunnel, const char *outer, char *err, size_t errlen)
{
	pthread_mutex_lock(&fw->mu);
	snprintf(fw->tunnel, sizeof(fw->tunnel), "%s", tunnel ? tunnel : "");
	snprintf(fw->outer, sizeof(fw->outer), "%s", outer ? outer : "");
	int rc = apply_locked(fw, err, errlen);
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

int vpnd_fw_set_tunnel(struct vpnd_fw *fw, const char *tunnel, char *err, size_t errlen)
{
	pthread_mutex_lock(&fw->mu);
	snprintf(fw->tunnel, sizeof(fw->tunnel), "%s", tunnel ? tunnel : "");
	fw->outer[0] = '\0';
	int rc = apply_locked(fw, err, errlen);
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

int vpnd_fw_set_lan(struct vpnd_fw *fw, bool allow_lan, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&fw->mu);
	fw->allow_lan = allow_lan;
	if (fw->active)
		rc = apply_locked(fw, err, errlen);
	pthread_mutex_unlock(&fw->mu);
	return rc;
}

int vpnd_fw_remove(struct vpnd_fw *fw, char *err, size_t errlen)
{
	struct nft_batch_error be;
	memset(&be, 0, sizeof(be));
	pthread_mutex_lock(&fw->mu);
	int rc = nft_killswitch_remove(VPND_TABLE, &be);
	if (rc == 0) {
		fw->active = false;
		fw->n_entry = 0;
		fw->tunnel[0] = '\0';
	} else {
		snprintf(err, errlen, "cannot remove the kill switch (inet %s): %s", VPND_TABLE, strerror(-rc));
	}
	pthread_mutex_unlock(&fw->mu);
	return rc;
}
