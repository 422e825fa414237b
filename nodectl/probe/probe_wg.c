/* nym-node probe --two-hop: the probe's checks through two nested WireGuard tunnels
 * (docs/PROTOCOLS.md §8.7), as nym-vpnd's two-hop mode builds them, without touching the
 * host's default route: registration with the entry (a wg-entry ticket from --ticket-dir),
 * device --tun-entry (MTU 1420, peer AllowedIPs the exit's addresses), a host route to the
 * exit through it (main table; removed with the device), registration with the exit over a
 * link bound to that device (a wg-exit ticket), device --tun (MTU 1340, 0/0 and ::/0), whose
 * sockets find their default route in the probe's table through "oif DEV lookup TABLE". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clientio/clientio_wgreg.h"
#include "crypto/secret.h"
#include "dirclient/dir_client.h"
#include "net/net_addr.h"
#include "netlink/net_sysctl.h"
#include "netlink/nl_link.h"
#include "nodectl/probe/probe.h"
#include "topology/descriptor.h"
#include "util/clock.h"
#include "util/log.h"
#include "wg/wg_device.h"

#define ENTRY_MTU 1420
#define EXIT_MTU 1340

static int pick(const struct nym_epoch_doc *doc, const uint8_t *id, unsigned role, const struct nym_descriptor_signed **out)
{
	struct nym_epoch_doc_gateway_query q = { .roles = role | NYM_ROLE_WIREGUARD };
	int rc = nym_dir_client_pick_gateway(doc, id, &q, out);
	if (rc == -ENOENT && !id) {
		q.roles = role;
		rc = nym_dir_client_pick_gateway(doc, id, &q, out);
	}
	return rc == 0 && !((*out)->d.roles & role) ? -ENOENT : rc;
}

static int first_addr(const struct nym_descriptor *d, uint16_t port, struct net_addr *out)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->address_count; i++)
			if (net_addr_parse(out, d->addresses[i], port) == 0 && (out->ss.ss_family == AF_INET) == (pass == 0)) {
				net_addr_set_port(out, port);
				return 0;
			}
	return -EHOSTUNREACH;
}

static const void *ip_of(const struct net_addr *a)
{
	return a->ss.ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr
					  : (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

static int reg(const struct probe_options *o, const struct net_addr *at, const uint8_t noise[32], const char *bind,
	       const struct nym_x25519_keypair *key, enum nym_ticket_type type, struct clientio_wgreg_result *res,
	       char *err, size_t errlen)
{
	uint8_t ticket[NYM_TICKET_MAX_LEN];
	size_t tlen = 0;
	int rc = clientio_wgreg_take_ticket(o->ticket_dir, type, nym_clock_unix_now(), ticket, sizeof(ticket), &tlen, NULL);
	if (rc) {
		snprintf(err, errlen, "no %s ticket in %s", nym_ticket_type_name(type), o->ticket_dir);
		return rc;
	}
	struct clientio_wgreg_config c = { .gateway = (const struct sockaddr *)&at->ss, .gateway_len = at->len,
					   .gateway_noise = noise, .bind_ifname = bind, .wg_key = key,
					   .ticket = ticket, .ticket_len = tlen, .timeout_ms = (long)o->timeout_s * 1000 };
	rc = clientio_wgreg_register(&c, res, err, errlen);
	nym_memzero(ticket, sizeof(ticket));
	return rc;
}

static int dev_up(const char *ifname, struct wg_device **dev, const struct nym_x25519_keypair *key,
		  const struct clientio_wgreg_result *res, const struct net_addr *endpoint, const struct wg_allowed_ip *aips,
		  size_t n, unsigned mtu, char *err, size_t errlen)
{
	int rc = wg_device_create(ifname, WG_BACKEND_AUTO, NULL, dev);
	if (rc) {
		snprintf(err, errlen, "cannot create the WireGuard device %s: %s", ifname, strerror(-rc));
		return rc;
	}
	struct wg_peer_conf peer;
	memset(&peer, 0, sizeof(peer));
	memcpy(peer.public_key, res->reg.gateway_key, WG_KEY_LEN);
	peer.flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_KEEPALIVE;
	peer.keepalive = 25;
	memcpy(&peer.endpoint, &endpoint->ss, endpoint->len);
	peer.allowed_ips = aips;
	peer.n_allowed_ips = n;
	struct wg_conf c;
	memset(&c, 0, sizeof(c));
	c.flags = WG_CONF_PRIVATE_KEY | WG_CONF_REPLACE_PEERS;
	memcpy(c.private_key, key->secret, WG_KEY_LEN);
	c.peers = &peer;
	c.n_peers = 1;
	rc = wg_device_set(*dev, &c);
	nym_memzero(c.private_key, sizeof(c.private_key));
	char k[96];
	snprintf(k, sizeof(k), "ipv4/conf/%s/rp_filter", ifname);
	net_sysctl_write_int(k, 0);
	snprintf(k, sizeof(k), "ipv6/conf/%s/disable_ipv6", ifname);
	net_sysctl_write_int(k, 0);
	if (rc || (rc = nl_link_set_up(ifname, mtu)) != 0 ||
	    ((rc = nl_link_addr_add(ifname, AF_INET, res->reg.ips.v4, 32)) != 0 && rc != -EEXIST)) {
		snprintf(err, errlen, "cannot configure %s: %s", ifname, strerror(-rc));
		return rc;
	}
	nl_link_addr_add(ifname, AF_INET6, res->reg.ips.v6, 128);
	return 0;
}

int probe_run_two_hop(const struct probe_options *o, struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
	struct nym_dir_client_topology topo;
	struct wg_device *edev = NULL, *xdev = NULL;
	struct nym_x25519_keypair ek, xk;
	bool route4 = false, route6 = false, rule4 = false, rule6 = false;
	char derr[NYM_DIR_ERR_MAX];
	int rc;
	memset(&topo, 0, sizeof(topo));
	nym_x25519_generate(&ek);
	nym_x25519_generate(&xk);
	rc = nym_dir_client_fetch_topology(o->authorities, o->authority_count, &o->trust, 0, 10000, &topo, derr, sizeof(derr));
	if (rc) {
		snprintf(r->error, sizeof(r->error), "no verified topology: %s", derr);
		goto out;
	}
	const struct nym_descriptor_signed *entry = NULL, *exit_gw = NULL;
	if ((rc = pick(&topo.doc, o->entry, NYM_ROLE_ENTRY, &entry)) != 0 ||
	    (rc = pick(&topo.doc, o->exit, NYM_ROLE_EXIT, &exit_gw)) != 0 ||
	    (rc = memcmp(entry->d.identity, exit_gw->d.identity, 32) == 0 ? -EINVAL : 0) != 0) {
		snprintf(r->error, sizeof(r->error), "no usable entry and exit gateways (two different ones) in the topology");
		goto out;
	}
	memcpy(r->entry, entry->d.identity, 32);
	memcpy(r->exit, exit_gw->d.identity, 32);
	r->have_gateways = true;
	struct net_addr elink, xlink, eudp, xudp;
	if (first_addr(&entry->d, entry->d.clients_port, &elink) || first_addr(&exit_gw->d, exit_gw->d.clients_port, &xlink)) {
		rc = -EHOSTUNREACH;
		snprintf(r->error, sizeof(r->error), "the gateways announce no usable address");
		goto out;
	}
	struct clientio_wgreg_result er, xr;
	char err[256];
	if ((rc = reg(o, &elink, entry->d.noise_key, NULL, &ek, NYM_TICKET_WG_ENTRY, &er, err, sizeof(err))) != 0) {
		snprintf(r->error, sizeof(r->error), "registration with the entry: %s", err);
		goto out;
	}
	eudp = elink;
	net_addr_set_port(&eudp, er.reg.port);
	struct wg_allowed_ip aips[NYM_DESCRIPTOR_ADDRS_MAX + 1];
	size_t na = 0;
	struct net_addr xa[NYM_DESCRIPTOR_ADDRS_MAX];
	size_t nx = 0;
	for (size_t i = 0; i < exit_gw->d.address_count; i++)
		if (net_addr_parse(&xa[nx], exit_gw->d.addresses[i], 0) == 0) {
			memset(&aips[na], 0, sizeof(aips[na]));
			aips[na].family = xa[nx].ss.ss_family;
			memcpy(aips[na].addr, ip_of(&xa[nx]), aips[na].family == AF_INET ? 4 : 16);
			aips[na].cidr = aips[na].family == AF_INET ? 32 : 128;
			na++, nx++;
		}
	memset(&aips[na], 0, sizeof(aips[na]));
	aips[na].family = AF_INET;
	memcpy(aips[na].addr, (const uint8_t[]){ 10, 1, 0, 1 }, 4);
	aips[na++].cidr = 32;
	if ((rc = dev_up(o->tun_entry_name, &edev, &ek, &er, &eudp, aips, na, ENTRY_MTU, r->error, sizeof(r->error))) != 0)
		goto out;
	snprintf(r->backend, sizeof(r->backend), "%s", wg_backend_name(wg_device_backend(edev)));
	for (size_t i = 0; i < nx; i++) {
		int fam = xa[i].ss.ss_family;
		if ((rc = nl_link_route_replace(o->tun_entry_name, fam, ip_of(&xa[i]), fam == AF_INET ? 32 : 128, 254)) != 0) {
			snprintf(r->error, sizeof(r->error), "cannot route the exit through %s: %s", o->tun_entry_name,
				 strerror(-rc));
			goto out;
		}
	}
	if ((rc = reg(o, &xlink, exit_gw->d.noise_key, o->tun_entry_name, &xk, NYM_TICKET_WG_EXIT, &xr, err, sizeof(err))) !=
	    0) {
		snprintf(r->error, sizeof(r->error), "registration with the exit through %s: %s", o->tun_entry_name, err);
		goto out;
	}
	xudp = xlink;
	net_addr_set_port(&xudp, xr.reg.port);
	struct wg_allowed_ip all[2];
	memset(all, 0, sizeof(all));
	all[0].family = AF_INET;
	all[1].family = AF_INET6;
	if ((rc = dev_up(o->tun_name, &xdev, &xk, &xr, &xudp, all, 2, EXIT_MTU, r->error, sizeof(r->error))) != 0)
		goto out;
	inet_ntop(AF_INET, xr.reg.ips.v4, r->ipv4, sizeof(r->ipv4));
	inet_ntop(AF_INET6, xr.reg.ips.v6, r->ipv6, sizeof(r->ipv6));
	inet_ntop(AF_INET, er.reg.ips.v4, r->entry_ipv4, sizeof(r->entry_ipv4));
	inet_ntop(AF_INET6, er.reg.ips.v6, r->entry_ipv6, sizeof(r->entry_ipv6));
	if ((rc = nl_link_route_add_default(o->tun_name, AF_INET, o->table)) != 0 ||
	    !(route4 = true) || (rc = nl_link_rule_add_oif(o->tun_name, AF_INET, o->table, o->rule_priority)) != 0) {
		snprintf(r->error, sizeof(r->error), "cannot route %s's sockets: %s", o->tun_name, strerror(-rc));
		goto out;
	}
	rule4 = true;
	if (nl_link_route_add_default(o->tun_name, AF_INET6, o->table) == 0) {
		route6 = true;
		rule6 = nl_link_rule_add_oif(o->tun_name, AF_INET6, o->table, o->rule_priority) == 0;
	}
	r->connected = true;
	fprintf(stderr, "nym-node probe: two-hop tunnel %s (inside %s, %s) up: %s %s\n", o->tun_name, o->tun_entry_name,
		r->backend, r->ipv4, r->ipv6);
	unsigned timeout = (unsigned)(o->timeout_s ? o->timeout_s : 60);
	bool ok = true;
	if (o->ping && !probe_interrupted()) {
		probe_check_ping(o->tun_name, o->ping, o->ping_count, timeout, &r->ping);
		ok &= r->ping.ok;
	}
	if (o->ping6 && !probe_interrupted()) {
		probe_check_ping(o->tun_name, o->ping6, o->ping_count, timeout, &r->ping6);
		ok &= r->ping6.ok;
	}
	if (o->dns_server && o->dns_name && !probe_interrupted()) {
		probe_check_dns(o->tun_name, o->dns_server, o->dns_name, timeout, &r->dns);
		ok &= r->dns.ok;
	}
	if (o->http_url && !probe_interrupted()) {
		probe_check_http(o->tun_name, o->http_url, o->dns_server, timeout, &r->http);
		ok &= r->http.ok;
	}
	rc = ok ? 0 : -EAGAIN;
out:
	if (rule4)
		nl_link_rule_del_oif(o->tun_name, AF_INET, o->table, o->rule_priority);
	if (rule6)
		nl_link_rule_del_oif(o->tun_name, AF_INET6, o->table, o->rule_priority);
	if (route4)
		nl_link_route_del_default(o->tun_name, AF_INET, o->table);
	if (route6)
		nl_link_route_del_default(o->tun_name, AF_INET6, o->table);
	if (xdev)
		wg_device_destroy(xdev);
	if (edev)
		wg_device_destroy(edev); /* its host routes go with it */
	nym_x25519_keypair_clear(&ek);
	nym_x25519_keypair_clear(&xk);
	nym_dir_client_topology_free(&topo);
	return rc;
}
