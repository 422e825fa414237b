#include "nodectl/probe/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client_keys.h"
#include "io/tun.h"
#include "netlink/net_sysctl.h"
#include "netlink/nl_link.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/signals.h"

#define NS_PER_MS 1000000ull
/* The TUN's MTU: one IP packet fits a bundle of one Sphinx packet each way. */
#define PROBE_TUN_MTU 1500
/* Reply SURBs (460 bytes) in one SURBS request that fits one Sphinx packet (1581 bytes). */
#define PROBE_POISSON_SURB_BATCH 4 /* one unacknowledged SURBS request (client_ipr_surbs_per_unacked_request) */

void probe_options_default(struct probe_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ping_count = 3;
	o->tun_name = PROBE_DEFAULT_TUN;
	o->table = PROBE_DEFAULT_TABLE;
	o->rule_priority = PROBE_DEFAULT_RULE_PRIORITY;
	o->per_hop_delay_ms = UINT64_MAX;
	o->poisson_ms = UINT64_MAX;
	o->ipr_buffer_ms = UINT64_MAX;
	o->timeout_s = 60;
}

bool probe_interrupted(void)
{
	sigset_t pending;
	if (sigpending(&pending) != 0)
		return false;
	return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
}

/* What the probe changed on the host, undone in reverse by tunnel_down. */
struct tunnel {
	int fd;
	char name[IF_NAMESIZE];
	uint32_t table, priority;
	bool route4, route6, rule4, rule6;
};

static void tunnel_down(struct tunnel *t)
{
	if (t->rule4)
		nl_link_rule_del_oif(t->name, AF_INET, t->table, t->priority);
	if (t->rule6)
		nl_link_rule_del_oif(t->name, AF_INET6, t->table, t->priority);
	if (t->route4)
		nl_link_route_del_default(t->name, AF_INET, t->table);
	if (t->route6)
		nl_link_route_del_default(t->name, AF_INET6, t->table);
	t->rule4 = t->rule6 = t->route4 = t->route6 = false;
	if (t->fd >= 0)
		close(t->fd); /* the device goes with it */
	t->fd = -1;
}

static int tunnel_configure(struct tunnel *t, const struct ipr_addr_pair *ips, char *err, size_t errlen)
{
	char key[128];
	int rc = nl_link_set_up(t->name, PROBE_TUN_MTU);
	if (rc) {
		snprintf(err, errlen, "cannot bring %s up: %s", t->name, strerror(-rc));
		return rc;
	}
	/* Replies arrive on the TUN from addresses the host routes elsewhere: no strict
	 * reverse-path check on this device. */
	snprintf(key, sizeof(key), "ipv4/conf/%s/rp_filter", t->name);
	net_sysctl_write_int(key, 0);
	rc = nl_link_addr_add(t->name, AF_INET, ips->v4, 32);
	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "cannot add the IPv4 address to %s: %s", t->name, strerror(-rc));
		return rc;
	}
	rc = nl_link_route_add_default(t->name, AF_INET, t->table);
	if (rc) {
		snprintf(err, errlen, "cannot add the default route of table %u: %s", t->table, strerror(-rc));
		return rc;
	}
	t->route4 = true;
	rc = nl_link_rule_add_oif(t->name, AF_INET, t->table, t->priority);
	if (rc) {
		snprintf(err, errlen, "cannot add the rule 'oif %s lookup %u': %s", t->name, t->table, strerror(-rc));
		return rc;
	}
	t->rule4 = true;
	/* IPv6 may be off on this host: the IPv4 checks still run. */
	snprintf(key, sizeof(key), "ipv6/conf/%s/disable_ipv6", t->name);
	net_sysctl_write_int(key, 0);
	if (nl_link_addr_add(t->name, AF_INET6, ips->v6, 128) == 0 &&
	    nl_link_route_add_default(t->name, AF_INET6, t->table) == 0) {
		t->route6 = true;
		if (nl_link_rule_add_oif(t->name, AF_INET6, t->table, t->priority) == 0)
			t->rule6 = true;
	}
	return 0;
}

/* The driver's progress, one log line each (the integration test checks their order). */
static void on_event(void *ctx, const struct clientio_event *ev)
{
	(void)ctx;
	if (ev->kind == CLIENTIO_EV_TICKET_SPENT || ev->kind == CLIENTIO_EV_TICKETS_LOW)
		nym_log(NYM_LOG_INFO, "probe: event %s (%zu tickets left)", clientio_event_name(ev->kind),
			ev->tickets_left);
	else if (ev->kind == CLIENTIO_EV_GATEWAYS)
		nym_log(NYM_LOG_INFO, "probe: event %s (%zu entry addresses)", clientio_event_name(ev->kind),
			ev->n_entry_addrs);
	else
		nym_log(NYM_LOG_INFO, "probe: event %s (%s)", clientio_event_name(ev->kind), ev->detail);
}

static void engine_settings(const struct probe_options *o, struct clientio_config *cfg)
{
	struct client_engine_config *e = &cfg->engine;
	if (o->per_hop_delay_ms != UINT64_MAX) {
		e->average_packet_delay_ns = o->per_hop_delay_ms * NS_PER_MS;
		e->average_ack_delay_ns = o->per_hop_delay_ms * NS_PER_MS;
	}
	if (o->poisson_ms != UINT64_MAX) {
		if (o->poisson_ms == 0)
			e->poisson.disable_main_poisson_packet_distribution = true;
		else
			e->poisson.message_sending_average_delay_ns = o->poisson_ms * NS_PER_MS;
	}
	if (o->no_cover) {
		e->poisson.disable_main_poisson_packet_distribution = true;
		e->poisson.disable_loop_cover_traffic_stream = true;
	}
	/* With the rate lifted nothing waits for a Poisson slot: no bundle waits either. */
	bool lifted = o->poisson_ms == 0 || o->no_cover;
	cfg->ipr_flush_when_idle = lifted;
	/* Under the Poisson rate every queued packet waits its slot (20 ms mean): a top-up of 100
	 * SURBs (25 packets) would queue 0.5 s ahead of the next IP packet. Top-ups of one
	 * packet's worth (4 SURBs) keep the stock as full with no such wait. */
	if (!lifted)
		cfg->ipr_config.surb_batch = PROBE_POISSON_SURB_BATCH;
	if (o->ipr_buffer_ms != UINT64_MAX)
		cfg->ipr_config.ipr_buffer_timeout_ms = o->ipr_buffer_ms;
	else if (lifted)
		cfg->ipr_config.ipr_buffer_timeout_ms = 0;
}

int probe_run(const struct probe_options *o, struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
	struct client_keys keys;
	int rc;
	if (o->keys_dir) {
		bool created;
		rc = client_keys_load_or_create(o->keys_dir, &keys, &created);
		if (rc) {
			snprintf(r->error, sizeof(r->error), "cannot use the keys in %s: %s", o->keys_dir,
				 client_keys_strerror(rc));
			return rc;
		}
	} else {
		nym_ed25519_generate(&keys.identity);
		nym_x25519_generate(&keys.encryption);
	}
	sigset_t stop;
	nym_signals_take(&stop, false); /* before any thread starts */

	struct tunnel t = { .fd = -1, .table = o->table, .priority = o->rule_priority };
	rc = tun_open(o->tun_name, &t.fd);
	if (rc) {
		snprintf(r->error, sizeof(r->error), "cannot create the TUN device %s: %s", o->tun_name,
			 rc == -EPERM ? "permission denied (run as root or with CAP_NET_ADMIN)"
			 : rc == -EBUSY ? "in use by another process"
					: strerror(-rc));
		client_keys_clear(&keys);
		return rc;
	}
	if (tun_name(t.fd, t.name) != 0)
		snprintf(t.name, sizeof(t.name), "%s", o->tun_name);

	struct clientio_config cfg;
	clientio_config_default(&cfg);
	cfg.authority_urls = o->authorities;
	cfg.authority_count = o->authority_count;
	cfg.trust = &o->trust;
	cfg.entry_identity = o->entry;
	cfg.exit_identity = o->exit;
	cfg.ticketbook_path = o->ticketbook;
	cfg.engine.identity = &keys.identity;
	cfg.engine.encryption = &keys.encryption;
	engine_settings(o, &cfg);
	cfg.ipr = true;
	cfg.tun_fd = t.fd;
	cfg.on_event = on_event;

	struct clientio *io = NULL;
	char err[CLIENTIO_ERR_MAX];
	rc = clientio_start(&cfg, &io, err, sizeof(err));
	if (rc) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		goto out;
	}
	clientio_gateways(io, r->entry, r->exit);
	r->have_gateways = true;

	struct ipr_addr_pair ips;
	uint64_t waited_ms = 0, limit_ms = o->timeout_s * 1000;
	for (;;) {
		rc = clientio_wait_ipr(io, 200, &ips, err, sizeof(err));
		if (rc != -ETIMEDOUT)
			break;
		waited_ms += 200;
		if (probe_interrupted()) {
			rc = -EINTR;
			snprintf(err, sizeof(err), "interrupted");
			break;
		}
		if (waited_ms >= limit_ms) {
			break;
		}
	}
	if (rc) {
		snprintf(r->error, sizeof(r->error), "no IP packet router session: %s", err);
		goto out;
	}
	r->connected = true;
	inet_ntop(AF_INET, ips.v4, r->ipv4, sizeof(r->ipv4));
	inet_ntop(AF_INET6, ips.v6, r->ipv6, sizeof(r->ipv6));
	rc = tunnel_configure(&t, &ips, r->error, sizeof(r->error));
	if (rc)
		goto out;
	/* For scripts that use the tunnel themselves (--duration): it is usable from here. */
	fprintf(stderr, "nym-node probe: tunnel %s up: %s %s\n", t.name, r->ipv4, r->ipv6);

	unsigned timeout = (unsigned)(o->timeout_s ? o->timeout_s : 60);
	bool all_ok = true;
	if (o->ping && !probe_interrupted()) {
		probe_check_ping(t.name, o->ping, o->ping_count, timeout, &r->ping);
		all_ok &= r->ping.ok;
	}
	if (o->ping6 && !probe_interrupted()) {
		probe_check_ping(t.name, o->ping6, o->ping_count, timeout, &r->ping6);
		all_ok &= r->ping6.ok;
	}
	if (o->dns_server && o->dns_name && !probe_interrupted()) {
		probe_check_dns(t.name, o->dns_server, o->dns_name, timeout, &r->dns);
		all_ok &= r->dns.ok;
	}
	if (o->http_url && !probe_interrupted()) {
		probe_check_http(t.name, o->http_url, o->dns_server, timeout, &r->http);
		all_ok &= r->http.ok;
	}
	bool held = false;
	if (o->duration_s && !probe_interrupted()) {
		/* Other programs may use the tunnel meanwhile; SIGINT ends the wait, not the probe. */
		uint64_t end = nym_clock_now_ns() + o->duration_s * 1000000000ull;
		while (nym_clock_now_ns() < end && !probe_interrupted()) {
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
		}
		held = true;
	}
	if (probe_interrupted() && !held) {
		snprintf(r->error, sizeof(r->error), "interrupted");
		rc = -EINTR;
	} else {
		rc = all_ok ? 0 : -EAGAIN;
	}
out:
	if (io) {
		clientio_get_stats(io, &r->stats);
		clientio_last_error(io, r->notice, sizeof(r->notice));
		clientio_stop(io);
	}
	tunnel_down(&t);
	client_keys_clear(&keys);
	return rc;
}
