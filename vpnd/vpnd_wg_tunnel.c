/* nym-vpnd's two-hop mode (settings.tunnel.two_hop): two nested WireGuard tunnels through an
 * entry and an exit gateway (docs/ARCHITECTURE.md "nym-vpnd", docs/PROTOCOLS.md §8.7), run
 * by the tunnel thread of vpnd_tunnel.c in place of the mixnet client.
 *
 *   topology -> entry (entry + wireguard roles, else any entry) and exit (exit + wireguard,
 *   else any exit), never the same -> keys <keys>/wg-entry.key, wg-exit.key (0600) -> kill
 *   switch lets the entry's clients_port (TCP) and WireGuard port (UDP) through, marked ->
 *   registration with the entry over a marked link (a wg-entry ticket) -> entry device
 *   (MTU 1420, fwmark 0x14d, peer AllowedIPs = the exit's addresses + 10.1.0.1/32) -> the
 *   exit's addresses routed through it (main table) -> registration with the exit over a link
 *   through the entry tunnel (a wg-exit ticket) -> exit device (MTU 1340, peer 0/0 and ::/0,
 *   endpoint the exit's WireGuard port, through the entry tunnel) -> addresses -> the policy
 *   routing of the mixnet mode with the exit device as the tunnel.
 * The caller (vpnd_tunnel.c) then sets src_valid_mark, the kill switch's devices and DNS. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <net/if.h>
#include <poll.h>

#include "clientio/clientio_wgreg.h"
#include "util/hex.h"
#include "crypto/secret.h"
#include "dirclient/dir_client.h"
#include "net/net_addr.h"
#include "netlink/net_sysctl.h"
#include "netlink/nl_link.h"
#include "netlink/nl_policy.h"
#include "topology/descriptor.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "vpnd/vpnd.h"
#include "awg/awg.h"
#include "wg/wg_awg_relay.h"
#include "wg/wg_device.h"

#define WG_ENTRY_IF "nym-wg-entry"
#define WG_EXIT_IF "nym-wg-exit"
#define WG_ENTRY_MTU 1420
#define WG_EXIT_MTU 1340
#define WG_KEEPALIVE_S 25
#define WG_STALE_S 180
#define WG_REG_TIMEOUT_MS 10000
#define WG_MAX_ADDRS NYM_DESCRIPTOR_ADDRS_MAX
#define WG_META_PORT 51830

struct vpnd_wg {
	const struct vpnd_tunnel_params *p;
	const struct vpnd_wg_hooks *h;
	struct wg_device *entry_dev, *exit_dev;
	struct wg_awg_relay *relay; /* AmneziaWG on the entry hop, userspace backend */
	struct nym_x25519_keypair entry_key, exit_key;
	struct net_addr exit_addrs[WG_MAX_ADDRS];
	size_t n_exit_addrs;
	bool routes;
	int64_t up_since;
	uint64_t entry_ticket_bytes, exit_ticket_bytes; /* the balance at registration: one ticket's worth */
	int64_t entry_left, exit_left;			/* -1: unknown */
	unsigned ticks;
};

static void fail(struct vpnd_wg *w, enum vpn_state_reason reason, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct vpnd_wg *w, enum vpn_state_reason reason, bool fatal, const char *fmt, ...)
{
	char msg[VPN_STATE_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->h->failed(w->h->ctx, reason, fatal, msg);
}

/* <keys>/NAME: 32 raw secret bytes, created (0600) when absent. */
static int load_key(const char *dir, const char *name, struct nym_x25519_keypair *kp)
{
	char path[PATH_MAX + 32];
	uint8_t *data = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int rc = nym_file_read(path, 64, &data, &len);
	if (rc == 0 && len == NYM_X25519_LEN) {
		memcpy(kp->secret, data, NYM_X25519_LEN);
		nym_memzero(data, len);
		free(data);
		nym_x25519_public(kp->public_key, kp->secret);
		return 0;
	}
	if (data) {
		nym_memzero(data, len);
		free(data);
	}
	if (rc == 0)
		return -EINVAL; /* not ours: leave it for a human */
	if (rc != -ENOENT)
		return rc;
	mkdir(dir, 0700);
	nym_x25519_generate(kp);
	return nym_file_write_atomic(path, kp->secret, NYM_X25519_LEN, 0600);
}

static int pick(const struct nym_epoch_doc *doc, const struct vpn_point *pt, unsigned role, bool amnezia,
		const struct nym_descriptor_signed **out)
{
	struct nym_epoch_doc_gateway_query q = { .roles = role | NYM_ROLE_WIREGUARD, .amnezia = amnezia };
	const uint8_t *id = pt->kind == VPN_POINT_ID ? pt->id : NULL;
	if (pt->kind == VPN_POINT_COUNTRY)
		memcpy(q.country, pt->country, 3);
	int rc = nym_dir_client_pick_gateway(doc, id, &q, out);
	if (rc == -ENOENT && !id && !amnezia) { /* a topology that does not announce WireGuard */
		q.roles = role;
		rc = nym_dir_client_pick_gateway(doc, id, &q, out);
	}
	if (rc == 0 && !((*out)->d.roles & role))
		rc = -ENOENT;
	return rc;
}

/* The descriptor's first usable address with `port`; IPv4 first. */
static int gateway_addr(const struct nym_descriptor *d, uint16_t port, struct net_addr *out)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->address_count; i++) {
			struct net_addr a;
			if (net_addr_parse(&a, d->addresses[i], port) != 0)
				continue;
			if ((a.ss.ss_family == AF_INET) != (pass == 0))
				continue;
			net_addr_set_port(&a, port);
			*out = a;
			return 0;
		}
	return -EHOSTUNREACH;
}

static const void *ip_of(const struct net_addr *a)
{
	return a->ss.ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr
					  : (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

static void allowed(struct wg_allowed_ip *a, int family, const void *addr, uint8_t cidr)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (addr)
		memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
	a->cidr = cidr;
}

static int register_with(struct vpnd_wg *w, const char *role, const struct net_addr *at, const uint8_t noise[32],
			 uint32_t mark, const struct nym_x25519_keypair *key, enum nym_ticket_type type,
			 struct clientio_wgreg_result *res)
{
	uint8_t ticket[NYM_TICKET_MAX_LEN];
	size_t tlen = 0, left = 0;
	int rc = clientio_wgreg_take_ticket(w->p->tickets_dir, type, nym_clock_unix_now(), ticket, sizeof(ticket), &tlen,
					    &left);
	if (rc) {
		/* A key registered before needs none: try without, the gateway says. */
		log_info("two-hop: no %s ticket in %s: registering with the %s without one", nym_ticket_type_name(type),
			 w->p->tickets_dir, role);
		tlen = 0;
	}
	struct clientio_wgreg_config c = { .gateway = (const struct sockaddr *)&at->ss,
					   .gateway_len = at->len,
					   .gateway_noise = noise,
					   .fwmark = mark,
					   .wg_key = key,
					   .ticket = tlen ? ticket : NULL,
					   .ticket_len = tlen,
					   .timeout_ms = WG_REG_TIMEOUT_MS };
	char err[256];
	rc = clientio_wgreg_register(&c, res, err, sizeof(err));
	nym_memzero(ticket, sizeof(ticket));
	if (rc) {
		bool no_tickets = strstr(err, "bandwidth") || strstr(err, "ticket");
		fail(w, no_tickets ? VPN_REASON_NO_TICKETS : VPN_REASON_TUNNEL_PROVIDER, no_tickets && tlen == 0,
		     "registration with the %s gateway failed: %s%s", role, err,
		     tlen == 0 && no_tickets ? " (obtain wg tickets with `nym-vpnc credentials obtain`)" : "");
		return rc;
	}
	log_info("two-hop: registered with the %s gateway (%s ticket %s, %llu bytes left)", role,
		 nym_ticket_type_name(type), res->ticket_used ? "spent" : "not needed",
		 (unsigned long long)res->reg.balance);
	return 0;
}

static int device_up(struct vpnd_wg *w, const char *ifname, struct wg_device **dev, const struct nym_x25519_keypair *key,
		     uint32_t fwmark, const struct link_wg_registered *reg, const struct sockaddr *endpoint,
		     const struct wg_allowed_ip *aips, size_t n_aips, unsigned mtu, bool v6)
{
	enum wg_backend want = WG_BACKEND_AUTO;
	wg_backend_parse(w->p->cfg->wireguard.backend, &want); /* validated with the configuration */
	int rc = wg_device_create(ifname, want, NULL, dev);
	if (rc == -EEXIST) { /* a previous run's: ours by its name */
		struct wg_device *old = NULL;
		if (wg_device_open(ifname, WG_BACKEND_AUTO, NULL, &old) == 0)
			wg_device_destroy(old); /* not ours to stop: remove the link at least */
		/* A previous run's wireguard-go ends on its own once its socket is gone, and the
		 * link with it: wait for that (up to 5 s) rather than fail on the link still there. */
		for (int i = 0; i < 100 && if_nametoindex(ifname); i++)
			usleep(50000);
		rc = wg_device_create(ifname, want, NULL, dev);
	}
	if (rc) {
		fail(w, VPN_REASON_TUN_DEVICE, true, "cannot create the WireGuard device %s: %s", ifname, strerror(-rc));
		return rc;
	}
	struct wg_peer_conf peer;
	memset(&peer, 0, sizeof(peer));
	memcpy(peer.public_key, reg->gateway_key, WG_KEY_LEN);
	peer.flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_KEEPALIVE;
	peer.keepalive = WG_KEEPALIVE_S;
	memcpy(&peer.endpoint, endpoint, endpoint->sa_family == AF_INET ? sizeof(struct sockaddr_in)
									 : sizeof(struct sockaddr_in6));
	peer.allowed_ips = aips;
	peer.n_allowed_ips = n_aips;
	struct wg_conf c;
	memset(&c, 0, sizeof(c));
	c.flags = WG_CONF_PRIVATE_KEY | WG_CONF_FWMARK | WG_CONF_REPLACE_PEERS;
	memcpy(c.private_key, key->secret, WG_KEY_LEN);
	c.fwmark = fwmark;
	c.peers = &peer;
	c.n_peers = 1;
	rc = wg_device_set(*dev, &c);
	nym_memzero(c.private_key, sizeof(c.private_key));
	if (rc) {
		fail(w, VPN_REASON_TUN_DEVICE, true, "cannot configure the WireGuard device %s: %s", ifname, strerror(-rc));
		return rc;
	}
	char key_name[96];
	snprintf(key_name, sizeof(key_name), "net/ipv4/conf/%s/rp_filter", ifname);
	net_sysctl_write_int(key_name, 0);
	if (v6) {
		snprintf(key_name, sizeof(key_name), "net/ipv6/conf/%s/disable_ipv6", ifname);
		net_sysctl_write_int(key_name, 0);
	}
	if ((rc = nl_link_set_up(ifname, mtu)) != 0 ||
	    ((rc = nl_link_addr_add(ifname, AF_INET, reg->ips.v4, 32)) != 0 && rc != -EEXIST)) {
		fail(w, VPN_REASON_TUN_DEVICE, true, "cannot bring %s up with its address: %s", ifname, strerror(-rc));
		return rc;
	}
	if (v6 && (rc = nl_link_addr_add(ifname, AF_INET6, reg->ips.v6, 128)) != 0 && rc != -EEXIST)
		log_warn("two-hop: no IPv6 address on %s: %s", ifname, strerror(-rc));
	return 0;
}

/* AmneziaWG on the entry hop (settings.tunnel.amnezia): base = NymVPN's junk-only preset,
 * random = the entry's announced set. On the userspace backend the relay (lib/wg/wg_awg_relay,
 * its socket marked like wireguard-go's, so the kill switch lets it through to the entry)
 * stands between wireguard-go and the entry, and *ep becomes the relay's loopback address. */
static int amnezia_up(struct vpnd_wg *w, const struct nym_descriptor_signed *entry, const struct net_addr *entry_udp,
		      uint32_t mark, struct vpn_state_connection *conn, struct net_addr *ep)
{
	enum vpn_ctl_amnezia am = w->p->settings.tunnel.amnezia;
	struct awg_params params;
	snprintf(conn->amnezia, sizeof(conn->amnezia), "%s", vpn_ctl_amnezia_name(am));
	if (am == VPN_CTL_AMNEZIA_OFF)
		return 0;
	if (am == VPN_CTL_AMNEZIA_BASE)
		awg_params_preset("base", &params);
	else if (entry->d.has_amnezia)
		params = entry->d.amnezia;
	else {
		fail(w, VPN_REASON_TUNNEL_PROVIDER, true,
		     "the entry gateway announces no AmneziaWG parameters, which `--amnezia random` needs: choose "
		     "`nym-vpnc tunnel set --amnezia base` or another entry");
		return -ENOENT;
	}
	enum wg_backend want = WG_BACKEND_AUTO;
	wg_backend_parse(w->p->cfg->wireguard.backend, &want);
	if (want == WG_BACKEND_KERNEL || (want == WG_BACKEND_AUTO && wg_device_kernel_available() == 1)) {
		fail(w, VPN_REASON_TUN_DEVICE, true,
		     "AmneziaWG on the kernel backend needs nym_awg.ko, which this build cannot drive yet: set "
		     "wireguard.backend: userspace in the daemon's configuration, or `nym-vpnc tunnel set --amnezia off`");
		return -EOPNOTSUPP;
	}
	struct wg_awg_relay_config c;
	memset(&c, 0, sizeof(c));
	c.params = params;
	c.net_peer = *entry_udp;
	c.fwmark = mark;
	net_addr_parse(&c.wg_bind, "127.0.0.1:0", -1);
	int rc = wg_awg_relay_start(&c, &w->relay);
	if (rc) {
		fail(w, VPN_REASON_TUN_DEVICE, true, "cannot start the AmneziaWG relay: %s", strerror(-rc));
		return rc;
	}
	wg_awg_relay_wg_addr(w->relay, ep);
	awg_params_format(&params, conn->amnezia_params, sizeof(conn->amnezia_params));
	snprintf(conn->amnezia_applied, sizeof(conn->amnezia_applied), "relay");
	char text[NET_ADDR_STR_LEN];
	net_addr_format((const struct sockaddr *)&ep->ss, text);
	log_info("two-hop: AmneziaWG %s on the entry hop through the relay at %s: %s", conn->amnezia, text,
		 conn->amnezia_params);
	return 0;
}

int vpnd_wg_up(const struct vpnd_tunnel_params *p, const struct vpnd_wg_hooks *h, struct vpn_state_connection *conn,
	       bool *ipv6, struct vpnd_wg **out)
{
	const struct vpn_settings *s = &p->settings;
	uint32_t mark = (uint32_t)p->cfg->tunnel.fwmark;
	struct nym_dir_client_topology topo;
	char err[NYM_DIR_ERR_MAX];
	int rc;
	struct vpnd_wg *w = calloc(1, sizeof(*w));
	memset(&topo, 0, sizeof(topo));
	*out = w;
	if (!w)
		return -ENOMEM;
	w->p = p;
	w->h = h;
	conn->two_hop = true;
	conn->entry_bandwidth = conn->exit_bandwidth = -1;
	rc = nym_dir_client_fetch_topology(p->authority_urls, p->n_authorities, p->trust, 0, VPND_HTTP_TIMEOUT_MS, &topo,
					   err, sizeof(err));
	if (rc) {
		fail(w, VPN_REASON_TUNNEL_PROVIDER, false, "no verified topology: %s", err);
		return rc;
	}
	h->progress(h->ctx, VPN_CTL_STEP_SELECTING_GATEWAYS);
	const struct nym_descriptor_signed *entry = NULL, *exit_gw = NULL;
	for (int draw = 0; draw < 8; draw++) {
		rc = pick(&topo.doc, &s->entry, NYM_ROLE_ENTRY, s->tunnel.amnezia == VPN_CTL_AMNEZIA_RANDOM, &entry);
		if (rc && s->tunnel.amnezia == VPN_CTL_AMNEZIA_RANDOM) {
			fail(w, VPN_REASON_TUNNEL_PROVIDER, true,
			     "no %sentry gateway%s%s announces AmneziaWG parameters, which `--amnezia random` needs: "
			     "choose `nym-vpnc tunnel set --amnezia base` (junk only, works with any gateway) or "
			     "another entry",
			     s->entry.kind == VPN_POINT_ID ? "such " : "", s->entry.kind == VPN_POINT_COUNTRY ? " in " : "",
			     s->entry.kind == VPN_POINT_COUNTRY ? s->entry.country : "");
			goto done;
		}
		if (rc) {
			fail(w, s->entry.kind == VPN_POINT_COUNTRY ? VPN_REASON_INVALID_ENTRY_GATEWAY_COUNTRY
								   : VPN_REASON_TUNNEL_PROVIDER,
			     true, "no %sentry gateway%s%s in the topology: choose another with `nym-vpnc gateway set`",
			     s->entry.kind == VPN_POINT_ID ? "such " : "", s->entry.kind == VPN_POINT_COUNTRY ? " in " : "",
			     s->entry.kind == VPN_POINT_COUNTRY ? s->entry.country : "");
			goto done;
		}
		rc = pick(&topo.doc, &s->exit, NYM_ROLE_EXIT, false, &exit_gw);
		if (rc) {
			fail(w, s->exit.kind == VPN_POINT_COUNTRY ? VPN_REASON_INVALID_EXIT_GATEWAY_COUNTRY
								  : VPN_REASON_TUNNEL_PROVIDER,
			     true, "no %sexit gateway%s%s in the topology: choose another with `nym-vpnc gateway set`",
			     s->exit.kind == VPN_POINT_ID ? "such " : "", s->exit.kind == VPN_POINT_COUNTRY ? " in " : "",
			     s->exit.kind == VPN_POINT_COUNTRY ? s->exit.country : "");
			goto done;
		}
		if (memcmp(entry->d.identity, exit_gw->d.identity, 32) != 0)
			break;
	}
	if (memcmp(entry->d.identity, exit_gw->d.identity, 32) == 0) {
		rc = -EINVAL;
		fail(w, VPN_REASON_SAME_ENTRY_AND_EXIT_GATEWAY, true,
		     "the entry and exit gateways are the same: choose others with `nym-vpnc gateway set`");
		goto done;
	}
	nym_base58_encode(conn->entry_id, sizeof(conn->entry_id), entry->d.identity, 32);
	nym_base58_encode(conn->exit_id, sizeof(conn->exit_id), exit_gw->d.identity, 32);
	struct net_addr entry_link, entry_udp, exit_link;
	uint16_t entry_wg_port = entry->d.wireguard_port ? entry->d.wireguard_port : 51822;
	if (gateway_addr(&entry->d, entry->d.clients_port, &entry_link) != 0 ||
	    gateway_addr(&entry->d, entry_wg_port, &entry_udp) != 0 ||
	    gateway_addr(&exit_gw->d, exit_gw->d.clients_port, &exit_link) != 0) {
		rc = -EHOSTUNREACH;
		fail(w, VPN_REASON_RESOLVE_GATEWAY_ADDRS, false, "the gateways announce no usable address");
		goto done;
	}
	for (size_t i = 0; i < exit_gw->d.address_count && w->n_exit_addrs < WG_MAX_ADDRS; i++)
		if (net_addr_parse(&w->exit_addrs[w->n_exit_addrs], exit_gw->d.addresses[i], 0) == 0)
			w->n_exit_addrs++;
	char text[NET_ADDR_STR_LEN];
	net_addr_format((const struct sockaddr *)&entry_udp.ss, text);
	snprintf(conn->entry_address, sizeof(conn->entry_address), "%s", text);
	net_addr_format((const struct sockaddr *)&exit_link.ss, text);
	snprintf(conn->exit_address, sizeof(conn->exit_address), "%s", text);
	log_info("two-hop: entry gateway %s (%s), exit gateway %s (%s)", conn->entry_id, conn->entry_address,
		 conn->exit_id, conn->exit_address);

	if ((rc = load_key(p->keys_dir, "wg-entry.key", &w->entry_key)) != 0 ||
	    (rc = load_key(p->keys_dir, "wg-exit.key", &w->exit_key)) != 0) {
		fail(w, VPN_REASON_INTERNAL, true, "cannot use the WireGuard keys in %s: %s", p->keys_dir, strerror(-rc));
		goto done;
	}
	char ferr[256];
	if ((rc = vpnd_fw_add_entry(p->fw, (const struct sockaddr *)&entry_link.ss, IPPROTO_TCP, ferr, sizeof(ferr))) != 0 ||
	    (rc = vpnd_fw_add_entry(p->fw, (const struct sockaddr *)&entry_udp.ss, IPPROTO_UDP, ferr, sizeof(ferr))) != 0) {
		fail(w, VPN_REASON_FIREWALL, true, "%s", ferr);
		goto done;
	}
	if (h->stopping(h->ctx))
		goto done;

	/* The entry. */
	h->progress(h->ctx, VPN_CTL_STEP_REGISTERING_ENTRY);
	struct clientio_wgreg_result er, xr;
	if ((rc = register_with(w, "entry", &entry_link, entry->d.noise_key, mark, &w->entry_key, NYM_TICKET_WG_ENTRY,
				&er)) != 0)
		goto done;
	conn->entry_bandwidth = w->entry_left = (int64_t)er.reg.balance;
	w->entry_ticket_bytes = er.reg.balance;
	net_addr_set_port(&entry_udp, er.reg.port);
	bool v6 = s->tunnel.ipv6;
	struct wg_allowed_ip aips[WG_MAX_ADDRS + 2];
	size_t na = 0;
	for (size_t i = 0; i < w->n_exit_addrs; i++)
		allowed(&aips[na++], w->exit_addrs[i].ss.ss_family, ip_of(&w->exit_addrs[i]),
			w->exit_addrs[i].ss.ss_family == AF_INET ? 32 : 128);
	static const uint8_t meta[4] = { 10, 1, 0, 1 };
	allowed(&aips[na++], AF_INET, meta, 32);
	struct net_addr entry_ep = entry_udp;
	if ((rc = amnezia_up(w, entry, &entry_udp, mark, conn, &entry_ep)) != 0)
		goto done;
	if ((rc = device_up(w, WG_ENTRY_IF, &w->entry_dev, &w->entry_key, mark, &er.reg,
			    (const struct sockaddr *)&entry_ep.ss, aips, na, WG_ENTRY_MTU, true)) != 0)
		goto done;
	/* The exit's addresses through the entry tunnel (main: the rule "lookup main
	 * suppress_prefixlength 0" keeps host routes, so the exit device's own UDP and the
	 * exit's link, both unmarked, go there). */
	for (size_t i = 0; i < w->n_exit_addrs; i++) {
		int fam = w->exit_addrs[i].ss.ss_family;
		rc = nl_link_route_replace(WG_ENTRY_IF, fam, ip_of(&w->exit_addrs[i]), fam == AF_INET ? 32 : 128, 254);
		if (rc) {
			fail(w, VPN_REASON_ROUTING, true, "cannot route the exit gateway through %s: %s", WG_ENTRY_IF,
			     strerror(-rc));
			goto done;
		}
		w->routes = true;
	}
	if ((rc = vpnd_fw_set_tunnel(p->fw, WG_ENTRY_IF, ferr, sizeof(ferr))) != 0) {
		fail(w, VPN_REASON_FIREWALL, true, "%s", ferr);
		goto done;
	}
	snprintf(conn->entry_tun, sizeof(conn->entry_tun), "%s", WG_ENTRY_IF);
	inet_ntop(AF_INET, er.reg.ips.v4, conn->entry_ipv4, sizeof(conn->entry_ipv4));
	inet_ntop(AF_INET6, er.reg.ips.v6, conn->entry_ipv6, sizeof(conn->entry_ipv6));
	snprintf(conn->backend, sizeof(conn->backend), "%s", wg_backend_name(wg_device_backend(w->entry_dev)));
	if (h->stopping(h->ctx))
		goto done;

	/* The exit, through the entry. */
	h->progress(h->ctx, VPN_CTL_STEP_REGISTERING_EXIT);
	if ((rc = register_with(w, "exit", &exit_link, exit_gw->d.noise_key, 0, &w->exit_key, NYM_TICKET_WG_EXIT, &xr)) !=
	    0)
		goto done;
	conn->exit_bandwidth = w->exit_left = (int64_t)xr.reg.balance;
	w->exit_ticket_bytes = xr.reg.balance;
	struct net_addr exit_udp = exit_link;
	net_addr_set_port(&exit_udp, xr.reg.port);
	struct wg_allowed_ip all[2];
	allowed(&all[0], AF_INET, NULL, 0);
	allowed(&all[1], AF_INET6, NULL, 0);
	if ((rc = device_up(w, WG_EXIT_IF, &w->exit_dev, &w->exit_key, 0, &xr.reg, (const struct sockaddr *)&exit_udp.ss,
			    all, 2, WG_EXIT_MTU, v6)) != 0)
		goto done;
	h->progress(h->ctx, VPN_CTL_STEP_CONFIGURING_TUNNEL);
	inet_ntop(AF_INET, xr.reg.ips.v4, conn->ipv4, sizeof(conn->ipv4));
	if (v6)
		inet_ntop(AF_INET6, xr.reg.ips.v6, conn->ipv6, sizeof(conn->ipv6));
	snprintf(conn->tun, sizeof(conn->tun), "%s", WG_EXIT_IF);
	*ipv6 = v6;
	w->up_since = (int64_t)time(NULL);
	rc = 0;
done:
	nym_dir_client_topology_free(&topo);
	return rc;
}

const char *vpnd_wg_outer_ifname(void)
{
	return WG_ENTRY_IF;
}

/* Whether a peer's handshake is stale: none for WG_STALE_S since the device came up, or the
 * last one older than that. */
static int check(struct vpnd_wg *w, struct wg_device *dev, const char *what, int64_t *balance_unused, char *msg,
		 size_t cap)
{
	(void)balance_unused;
	int rc = wg_device_alive(dev);
	if (rc) {
		snprintf(msg, cap, "the %s WireGuard device stopped: %s", what, strerror(-rc));
		return -ESTALE;
	}
	struct wg_status st;
	memset(&st, 0, sizeof(st));
	rc = wg_device_get(dev, &st);
	if (rc) {
		wg_status_free(&st);
		return 0; /* a failed read is no verdict */
	}
	int64_t now = (int64_t)time(NULL), last = st.n_peers ? st.peers[0].last_handshake_sec : 0;
	wg_status_free(&st);
	if (last == 0 ? now - w->up_since > WG_STALE_S : now - last > WG_STALE_S) {
		snprintf(msg, cap, "no WireGuard handshake with the %s gateway for %d s", what, WG_STALE_S);
		return -ESTALE;
	}
	return 0;
}

/* One HTTP/1.0 exchange with the gateway's metadata endpoint (docs/PROTOCOLS.md §8.8),
 * 10.1.0.1:51830, on a socket bound to the tunnel's device (each gateway has its own
 * 10.1.0.1: the device says which). Returns the status code (body JSON into *out) or -errno. */
static int meta_request(const char *ifname, const char *method, const char *path, const char *body, json_t **out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(WG_META_PORT) };
	inet_pton(AF_INET, "10.1.0.1", &sa.sin_addr);
	*out = NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int rc = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0 ||
	    connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	char req[2048];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.0\r\nHost: 10.1.0.1:%d\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, WG_META_PORT, body ? strlen(body) : 0, body ? body : "");
	if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		nym_memzero(req, sizeof(req));
		close(fd);
		return -EIO;
	}
	nym_memzero(req, sizeof(req));
	char resp[4096];
	size_t got = 0;
	for (;;) {
		ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(resp) - 1)
			break;
	}
	close(fd);
	resp[got] = 0;
	int status = 0;
	if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1)
		return -EPROTO;
	const char *b = strstr(resp, "\r\n\r\n");
	if (b)
		*out = json_loads(b + 4, 0, NULL);
	return status;
}

static int64_t meta_available(const char *ifname)
{
	json_t *j = NULL;
	int st = meta_request(ifname, "GET", "/v1/bandwidth/available", NULL, &j);
	int64_t v = -1;
	if (st == 200 && json_is_integer(json_object_get(j, "available_bandwidth")))
		v = (int64_t)json_integer_value(json_object_get(j, "available_bandwidth"));
	json_decref(j);
	return v;
}

/* Spends one ticket of `type` through the tunnel's metadata endpoint. New balance or -1. */
static int64_t meta_topup(struct vpnd_wg *w, const char *ifname, enum nym_ticket_type type)
{
	uint8_t ticket[NYM_TICKET_MAX_LEN];
	size_t tlen = 0, left = 0;
	if (clientio_wgreg_take_ticket(w->p->tickets_dir, type, nym_clock_unix_now(), ticket, sizeof(ticket), &tlen,
				       &left) != 0) {
		log_warn("two-hop: %s is low on bandwidth and no %s ticket is left", ifname, nym_ticket_type_name(type));
		return -1;
	}
	char body[2 * NYM_TICKET_MAX_LEN + 32];
	int n = snprintf(body, sizeof(body), "{\"ticket\":\"");
	nym_hex_encode(body + n, ticket, tlen);
	snprintf(body + n + 2 * tlen, sizeof(body) - (size_t)n - 2 * tlen, "\"}");
	nym_memzero(ticket, sizeof(ticket));
	json_t *j = NULL;
	int st = meta_request(ifname, "POST", "/v1/bandwidth/topup", body, &j);
	nym_memzero(body, sizeof(body));
	int64_t v = -1;
	json_t *a = json_object_get(j, "available_bandwidth");
	if (st == 200 && json_is_integer(a))
		v = (int64_t)json_integer_value(a);
	json_decref(j);
	if (st == 200)
		log_info("two-hop: topped up %s with a %s ticket (%zu left)%s", ifname, nym_ticket_type_name(type), left,
			 v < 0 ? "" : "");
	else
		log_warn("two-hop: the top-up of %s was refused (HTTP %d)", ifname, st);
	return st == 200 ? (v >= 0 ? v : meta_available(ifname)) : -1;
}

/* Below half of what the registration's ticket bought: one more ticket. */
static void refresh(struct vpnd_wg *w, const char *ifname, enum nym_ticket_type type, uint64_t per_ticket,
		    int64_t *left)
{
	int64_t v = meta_available(ifname);
	if (v < 0)
		return;
	*left = v;
	if (per_ticket && (uint64_t)v < per_ticket / 2) {
		log_info("two-hop: %s has %lld bytes left (below half of %llu): topping up", ifname, (long long)v,
			 (unsigned long long)per_ticket);
		int64_t after = meta_topup(w, ifname, type);
		if (after >= 0)
			*left = after;
	}
}

int vpnd_wg_watch(struct vpnd_wg *w, bool *changed, int64_t *entry_left, int64_t *exit_left, char *msg, size_t cap)
{
	*changed = false;
	if (!w || !w->entry_dev || !w->exit_dev)
		return 0;
	int rc = check(w, w->entry_dev, "entry", NULL, msg, cap);
	if (rc == 0)
		rc = check(w, w->exit_dev, "exit", NULL, msg, cap);
	if (rc)
		return rc;
	int64_t e = w->entry_left, x = w->exit_left;
	refresh(w, WG_ENTRY_IF, NYM_TICKET_WG_ENTRY, w->entry_ticket_bytes, &w->entry_left);
	refresh(w, WG_EXIT_IF, NYM_TICKET_WG_EXIT, w->exit_ticket_bytes, &w->exit_left);
	*changed = e != w->entry_left || x != w->exit_left;
	*entry_left = w->entry_left;
	*exit_left = w->exit_left;
	return 0;
}

void vpnd_wg_down(struct vpnd_wg *w)
{
	if (!w)
		return;
	/* Deleting a device takes its routes with it. */
	if (w->exit_dev)
		wg_device_destroy(w->exit_dev);
	if (w->entry_dev)
		wg_device_destroy(w->entry_dev);
	wg_awg_relay_stop(w->relay);
	nym_x25519_keypair_clear(&w->entry_key);
	nym_x25519_keypair_clear(&w->exit_key);
	nym_memzero(w, sizeof(*w));
	free(w);
}
