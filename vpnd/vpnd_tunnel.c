/* The mixnet tunnel (C6), run by a thread of its own so the control loop never waits on the
 * network: the connect pipeline, then a watch until asked to stop, then the teardown. What
 * it learns goes to the loop as events (a locked queue and an eventfd); the loop's state
 * machine (lib/vpn/vpn_state) decides. The kill switch is never removed here: only the loop
 * removes it, on an explicit disconnect.
 *
 * Pipeline: kill switch (authority API only) -> TUN up -> clientio_start (GATEWAYS: the
 * entry's link endpoints are let through before the link opens) -> wait for the IPR ->
 * addresses -> policy routing (nl_policy_up) -> src_valid_mark -> kill switch with the
 * tunnel -> DNS -> UP. Teardown: DNS revert, policy down, src_valid_mark restored, clientio
 * stopped, TUN closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "client/client_keys.h"
#include "clientio/clientio.h"
#include "clientio/clientio_wgreg.h"
#include "crypto/secret.h"
#include "io/tun.h"
#include "netlink/net_sysctl.h"
#include "netlink/nl_link.h"
#include "netlink/nl_policy.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "vpnd/vpnd.h"

#define NS_PER_MS 1000000ull
#define IPR_TIMEOUT_MS 60000
#define SRC_VALID_MARK "net/ipv4/conf/all/src_valid_mark"
#define SRC_VALID_MARK_SAVE "src_valid_mark.orig"
#define IP_FORWARD "net/ipv4/ip_forward"
#define IP_FORWARD_SAVE "ip_forward.orig"
#define IP6_FORWARD "net/ipv6/conf/all/forwarding"
#define IP6_FORWARD_SAVE "ipv6_forwarding.orig"

struct vpnd_tunnel {
	struct vpnd_tunnel_params p;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	pthread_mutex_t mu;
	struct vpnd_tev queue[VPND_TEV_QUEUE];
	size_t head, count;
	/* Thread-only. */
	int tun_fd;
	char ifname[IF_NAMESIZE];
	struct clientio *io;
	atomic_bool up_sent; /* read by clientio's driver thread too */
	bool gateways_seen, fw_failed;
	atomic_bool discarding; /* a client drawn again is being stopped: its events are noise */
	char fw_err[256];
	struct vpn_state_connection conn;
	struct client_keys keys;
	bool routing, dns, mark_saved, forwarding;
	struct vpnd_wg *wg; /* two-hop */
};

static void post(struct vpnd_tunnel *t, const struct vpnd_tev *ev)
{
	pthread_mutex_lock(&t->mu);
	if (t->count == VPND_TEV_QUEUE && ev->kind != VPND_TEV_TORN_DOWN && ev->kind != VPND_TEV_FAILED &&
	    ev->kind != VPND_TEV_UP) {
		pthread_mutex_unlock(&t->mu);
		return; /* a full queue drops progress and link noise, never the decisive events */
	}
	if (t->count == VPND_TEV_QUEUE) { /* drop the oldest instead */
		t->head = (t->head + 1) % VPND_TEV_QUEUE;
		t->count--;
	}
	t->queue[(t->head + t->count) % VPND_TEV_QUEUE] = *ev;
	t->count++;
	pthread_mutex_unlock(&t->mu);
	uint64_t one = 1;
	if (write(t->p.event_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; the loop drains the queue anyway */
	}
}

int vpnd_tunnel_next_event(struct vpnd_tunnel *t, struct vpnd_tev *out)
{
	int got = 0;
	pthread_mutex_lock(&t->mu);
	if (t->count) {
		*out = t->queue[t->head];
		t->head = (t->head + 1) % VPND_TEV_QUEUE;
		t->count--;
		got = 1;
	}
	pthread_mutex_unlock(&t->mu);
	return got;
}

static void progress(struct vpnd_tunnel *t, enum vpn_ctl_step p)
{
	struct vpnd_tev ev = { .kind = VPND_TEV_PROGRESS, .progress = p };
	post(t, &ev);
}

static void failed(struct vpnd_tunnel *t, enum vpn_state_reason reason, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void failed(struct vpnd_tunnel *t, enum vpn_state_reason reason, bool fatal, const char *fmt, ...)
{
	struct vpnd_tev ev = { .kind = VPND_TEV_FAILED, .reason = reason, .fatal = fatal };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
	va_end(ap);
	log_warn("tunnel: %s", ev.message);
	post(t, &ev);
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		snprintf(out, cap, "?");
	}
}

/* clientio's callback: GATEWAYS from this thread (inside clientio_start), the rest from the
 * driver's thread. */
static void on_event(void *ctx, const struct clientio_event *ev)
{
	struct vpnd_tunnel *t = ctx;
	struct vpnd_tev e;
	if (atomic_load(&t->discarding))
		return;
	memset(&e, 0, sizeof(e));
	switch (ev->kind) {
	case CLIENTIO_EV_TOPOLOGY:
		progress(t, VPN_CTL_STEP_SELECTING_GATEWAYS);
		break;
	case CLIENTIO_EV_GATEWAYS:
		/* Synchronously: the link opens only after this returns. */
		t->gateways_seen = true;
		nym_base58_encode(t->conn.entry_id, sizeof(t->conn.entry_id), ev->entry, 32);
		nym_base58_encode(t->conn.exit_id, sizeof(t->conn.exit_id), ev->exit, 32);
		if (ev->n_entry_addrs)
			addr_text(&ev->entry_addrs[0], t->conn.entry_address, sizeof(t->conn.entry_address));
		if (vpnd_fw_set_entry(t->p.fw, ev->entry_addrs, ev->n_entry_addrs, t->fw_err, sizeof(t->fw_err)) != 0)
			t->fw_failed = true; /* the old, stricter table stays: the link cannot leak, it fails */
		log_info("tunnel: entry gateway %s (%s), exit gateway %s", t->conn.entry_id, t->conn.entry_address,
			 t->conn.exit_id);
		break;
	case CLIENTIO_EV_LINK_CONNECTING:
		if (!t->up_sent)
			progress(t, VPN_CTL_STEP_CONNECTING_ENTRY);
		break;
	case CLIENTIO_EV_LINK_UP:
		if (ev->detail[0]) {
			pthread_mutex_lock(&t->mu);
			snprintf(t->conn.entry_address, sizeof(t->conn.entry_address), "%s", ev->detail);
			pthread_mutex_unlock(&t->mu);
		}
		e.kind = VPND_TEV_LINK_UP;
		post(t, &e);
		break;
	case CLIENTIO_EV_LINK_DOWN:
		e.kind = VPND_TEV_LINK_DOWN;
		snprintf(e.message, sizeof(e.message), "the link to the entry gateway went down: %s", ev->detail);
		log_info("tunnel: %s", e.message);
		post(t, &e);
		break;
	case CLIENTIO_EV_TICKET_SPENT:
		if (!t->up_sent)
			progress(t, VPN_CTL_STEP_SPENDING_TICKET);
		e.kind = VPND_TEV_TICKETS;
		e.tickets_left = (long)ev->tickets_left;
		post(t, &e);
		break;
	case CLIENTIO_EV_TICKETS_LOW:
		e.kind = VPND_TEV_TICKETS;
		e.tickets_left = (long)ev->tickets_left;
		e.low = true;
		post(t, &e);
		break;
	case CLIENTIO_EV_IPR_WAIT:
		if (!t->up_sent)
			progress(t, VPN_CTL_STEP_WAITING_FOR_IPR);
		break;
	case CLIENTIO_EV_IPR_UP:
		break;
	case CLIENTIO_EV_IPR_FAILED:
		if (t->up_sent)
			failed(t, VPN_REASON_TUNNEL_PROVIDER, false, "the exit gateway's IP packet router dropped the session: %s",
			       ev->detail);
		break; /* before UP, clientio_wait_ipr reports it */
	}
}

static void set_engine(struct clientio_config *cfg, const struct vpn_tunnel_settings *ts)
{
	struct client_engine_config *e = &cfg->engine;
	e->average_packet_delay_ns = ts->average_packet_delay_ms * NS_PER_MS;
	e->average_ack_delay_ns = ts->average_packet_delay_ms * NS_PER_MS;
	e->poisson.message_sending_average_delay_ns = ts->message_sending_delay_ms * NS_PER_MS;
	if (ts->loop_cover_stream_average_delay_ms == 0)
		e->poisson.disable_loop_cover_traffic_stream = true;
	else
		e->poisson.loop_cover_traffic_average_delay_ns = ts->loop_cover_stream_average_delay_ms * NS_PER_MS;
	if (ts->disable_real_traffic_poisson_rate) {
		e->poisson.disable_main_poisson_packet_distribution = true;
		cfg->ipr_flush_when_idle = true;
		cfg->ipr_config.ipr_buffer_timeout_ms = 0;
	} else {
		/* A reply-SURB top-up of one packet's worth keeps the stock full without queueing a
		 * long burst ahead of the next IP packet (as nym-node probe does). */
		cfg->ipr_config.surb_batch = 3;
	}
}

/* A sysctl this process changes: its value before is saved in <state>/FILE (kept if one is
 * there already: a previous run's original survives a crash) and restored, file removed, by
 * sysctl_restore, at teardown or at the next start. */
static void sysctl_save_set(const char *state_dir, const char *key, const char *file, const char *value)
{
	char path[PATH_MAX + 32], cur[32];
	snprintf(path, sizeof(path), "%s/%s", state_dir, file);
	if (access(path, F_OK) != 0 && net_sysctl_read(key, cur, sizeof(cur)) == 0)
		nym_file_write_atomic(path, cur, strlen(cur), 0600);
	int rc = net_sysctl_write(key, value);
	if (rc)
		log_warn("tunnel: cannot set %s to %s: %s", key, value, strerror(-rc));
}

static void sysctl_restore(const char *state_dir, const char *key, const char *file)
{
	char path[PATH_MAX + 32];
	uint8_t *data = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s", state_dir, file);
	if (nym_file_read(path, 32, &data, &len) != 0)
		return;
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (net_sysctl_write(key, (const char *)data) == 0)
		unlink(path);
	free(data);
}

static void save_src_valid_mark(struct vpnd_tunnel *t)
{
	sysctl_save_set(t->p.state_dir, SRC_VALID_MARK, SRC_VALID_MARK_SAVE, "1");
	t->mark_saved = true;
}

static void restore_src_valid_mark(const char *state_dir)
{
	sysctl_restore(state_dir, SRC_VALID_MARK, SRC_VALID_MARK_SAVE);
}

/* Router mode: forwarding on while the tunnel is up (the kill switch's forward chain lets
 * the LAN reach nothing but the tunnel), the previous values restored after. */
static void forwarding_on(struct vpnd_tunnel *t, bool v6)
{
	sysctl_save_set(t->p.state_dir, IP_FORWARD, IP_FORWARD_SAVE, "1");
	if (v6)
		sysctl_save_set(t->p.state_dir, IP6_FORWARD, IP6_FORWARD_SAVE, "1");
	t->forwarding = true;
}

static void forwarding_restore(const char *state_dir)
{
	sysctl_restore(state_dir, IP_FORWARD, IP_FORWARD_SAVE);
	sysctl_restore(state_dir, IP6_FORWARD, IP6_FORWARD_SAVE);
}

static int finish(struct vpnd_tunnel *t, bool v6, const char *outer);

/* The tunnel's policy routing through t->ifname (IPv6 too when v6); t->routing is set even on
 * a failure, so that teardown removes what was made. Returns 0, else posted FAILED. */
static int routing_up(struct vpnd_tunnel *t, bool v6)
{
	const struct vpn_config *cfg = t->p.cfg;
	struct nl_policy_routing r = { .ifname = t->ifname,
				       .table = (uint32_t)cfg->tunnel.table,
				       .fwmark = (uint32_t)cfg->tunnel.fwmark,
				       .ipv4 = true,
				       .ipv6 = v6 };
	int rc = nl_policy_up(&r);
	t->routing = true;
	if (rc)
		failed(t, VPN_REASON_ROUTING, true, "cannot set up the tunnel's routing (table %u, fwmark 0x%x): %s", r.table,
		       r.fwmark, strerror(-rc));
	return rc;
}

/* Returns 0 when configured, else posted FAILED. */
static int configure(struct vpnd_tunnel *t, const struct ipr_addr_pair *ips)
{
	const struct vpn_settings *s = &t->p.settings;
	char key[128];
	progress(t, VPN_CTL_STEP_CONFIGURING_TUNNEL);
	/* Replies come in on the TUN from addresses routed elsewhere: no strict rp_filter. */
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/rp_filter", t->ifname);
	net_sysctl_write_int(key, 0);
	int rc = nl_link_addr_add(t->ifname, AF_INET, ips->v4, 32);
	if (rc && rc != -EEXIST) {
		failed(t, VPN_REASON_TUN_DEVICE, true, "cannot add the IPv4 address to %s: %s", t->ifname, strerror(-rc));
		return rc;
	}
	inet_ntop(AF_INET, ips->v4, t->conn.ipv4, sizeof(t->conn.ipv4));
	bool v6 = s->tunnel.ipv6;
	if (v6) {
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", t->ifname);
		net_sysctl_write_int(key, 0);
		rc = nl_link_addr_add(t->ifname, AF_INET6, ips->v6, 128);
		if (rc && rc != -EEXIST) {
			log_warn("tunnel: no IPv6 on %s (%s): IPv4 only", t->ifname, strerror(-rc));
			v6 = false;
		} else {
			inet_ntop(AF_INET6, ips->v6, t->conn.ipv6, sizeof(t->conn.ipv6));
		}
	}
	rc = routing_up(t, v6);
	if (rc)
		return rc;
	return finish(t, v6, NULL);
}

/* src_valid_mark, the kill switch with the tunnel (and the outer device of two-hop), DNS.
 * Returns 0 when done, else posted FAILED. */
static int finish(struct vpnd_tunnel *t, bool v6, const char *outer)
{
	const struct vpn_config *cfg = t->p.cfg;
	const struct vpn_settings *s = &t->p.settings;
	int rc;
	save_src_valid_mark(t);
	char err[256];
	const char *defaults[CONF_LIST_MAX], *servers[VPN_SETTINGS_DNS_MAX + CONF_LIST_MAX], *use[VPN_STATE_DNS_MAX];
	for (size_t i = 0; i < cfg->dns.default_servers.count; i++)
		defaults[i] = cfg->dns.default_servers.item[i];
	size_t n = vpn_settings_dns_effective(s, defaults, cfg->dns.default_servers.count, servers,
					      sizeof(servers) / sizeof(servers[0]));
	size_t nu = 0;
	for (size_t i = 0; i < n && nu < VPN_STATE_DNS_MAX; i++) {
		if (!v6 && strchr(servers[i], ':'))
			continue; /* unreachable without IPv6 in the tunnel */
		use[nu++] = servers[i];
	}
	if (nu == 0) {
		failed(t, VPN_REASON_SET_DNS, true,
		       "no DNS server usable without IPv6 in the tunnel: add an IPv4 one with `nym-vpnc dns set` or turn IPv6 on");
		return -EINVAL;
	}
	vpnd_fw_set_router_dns(t->p.fw, use, nu);
	rc = vpnd_fw_set_tunnels(t->p.fw, t->ifname, outer, err, sizeof(err));
	if (rc) {
		failed(t, VPN_REASON_FIREWALL, true, "%s", err);
		return rc;
	}
	if (cfg->router.lan_interfaces.count)
		forwarding_on(t, v6);
	enum dns_config_backend used;
	t->dns = true;
	rc = dns_config_apply(t->p.dns_backend, t->ifname, use, nu, t->p.dns_dir, cfg->dns.resolv_conf, &used, err,
			      sizeof(err));
	if (rc) {
		failed(t, VPN_REASON_SET_DNS, true, "cannot set the tunnel's DNS servers: %s", err);
		return rc;
	}
	t->conn.n_dns = nu;
	for (size_t i = 0; i < nu; i++)
		snprintf(t->conn.dns[i], sizeof(t->conn.dns[i]), "%s", use[i]);
	snprintf(t->conn.tun, sizeof(t->conn.tun), "%s", t->ifname);
	t->conn.since = (int64_t)time(NULL);
	log_info("tunnel: up on %s: %s %s, DNS through %s (%s)%s", t->ifname, t->conn.ipv4, t->conn.ipv6, nu ? use[0] : "-",
		 dns_config_backend_name(used), t->forwarding ? "; router mode: the LAN forwarded through it" : "");
	return 0;
}

static bool stopping(struct vpnd_tunnel *t)
{
	return atomic_load(&t->stop);
}

static void wait_for_stop(struct vpnd_tunnel *t)
{
	unsigned tick = 0;
	while (!stopping(t)) {
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL);
		char why_wg[VPN_STATE_MESSAGE_MAX];
		bool changed = false;
		int64_t el = -1, xl = -1;
		if (t->wg && t->up_sent && ++tick % 25 == 0) {
			if (vpnd_wg_watch(t->wg, &changed, &el, &xl, why_wg, sizeof(why_wg)) != 0) {
				failed(t, VPN_REASON_TUNNEL_PROVIDER, false, "%s", why_wg); /* the loop reconnects */
				atomic_store(&t->up_sent, false);
			} else if (changed) {
				struct vpnd_tev up = { .kind = VPND_TEV_UP }; /* refreshed figures */
				pthread_mutex_lock(&t->mu);
				t->conn.entry_bandwidth = el;
				t->conn.exit_bandwidth = xl;
				up.connection = t->conn;
				pthread_mutex_unlock(&t->mu);
				post(t, &up);
			}
		}
		if (t->io && t->up_sent && clientio_gave_up(t->io)) {
			char why[256];
			clientio_last_error(t->io, why, sizeof(why));
			bool no_tickets = strstr(why, "ticket") || strstr(why, "balance") || strstr(why, "bandwidth");
			failed(t, no_tickets ? VPN_REASON_NO_TICKETS : VPN_REASON_TUNNEL_PROVIDER, true,
			       "the client gave up: %s", why);
			atomic_store(&t->up_sent, false); /* report once */
		}
	}
}

static void teardown(struct vpnd_tunnel *t)
{
	char err[256];
	if (t->dns && dns_config_revert(t->p.dns_dir, t->p.cfg->dns.resolv_conf, err, sizeof(err)) != 0)
		log_error("tunnel: cannot restore the DNS configuration: %s", err);
	if (t->routing) {
		int rc = nl_policy_down((uint32_t)t->p.cfg->tunnel.table, (uint32_t)t->p.cfg->tunnel.fwmark);
		if (rc)
			log_error("tunnel: cannot remove the tunnel's routing: %s", strerror(-rc));
	}
	if (t->mark_saved)
		restore_src_valid_mark(t->p.state_dir);
	if (t->forwarding)
		forwarding_restore(t->p.state_dir);
	if (t->io)
		clientio_stop(t->io);
	t->io = NULL;
	vpnd_wg_down(t->wg);
	t->wg = NULL;
	if (t->tun_fd >= 0)
		close(t->tun_fd);
	t->tun_fd = -1;
	client_keys_clear(&t->keys);
}

static bool all_authorities_missing(const struct vpnd_tunnel *t)
{
	return t->p.n_authorities == 0;
}

static void wg_progress(void *ctx, enum vpn_ctl_step step)
{
	progress(ctx, step);
}

static void wg_failed(void *ctx, enum vpn_state_reason reason, bool fatal, const char *message)
{
	failed(ctx, reason, fatal, "%s", message);
}

static bool wg_stopping(void *ctx)
{
	return stopping(ctx);
}

/* Two-hop: vpnd_wg_tunnel.c brings the devices up; the routing, kill switch and DNS are the
 * mixnet mode's, with the exit device as the tunnel. */
static void run_two_hop(struct vpnd_tunnel *t)
{
	struct vpnd_wg_hooks h = { .ctx = t, .progress = wg_progress, .failed = wg_failed, .stopping = wg_stopping };
	bool v6 = false;
	struct vpn_state_connection conn;
	memset(&conn, 0, sizeof(conn));
	long entry_left = (long)clientio_wgreg_tickets_left(t->p.tickets_dir, NYM_TICKET_WG_ENTRY, nym_clock_unix_now());
	struct vpnd_tev tk = { .kind = VPND_TEV_TICKETS, .tickets_left = entry_left, .low = entry_left < CLIENTIO_TICKETS_LOW };
	post(t, &tk);
	int rc = vpnd_wg_up(&t->p, &h, &conn, &v6, &t->wg);
	pthread_mutex_lock(&t->mu);
	t->conn = conn;
	pthread_mutex_unlock(&t->mu);
	if (rc || stopping(t))
		return;
	snprintf(t->ifname, sizeof(t->ifname), "%s", conn.tun);
	if (routing_up(t, v6) != 0)
		return;
	if (finish(t, v6, vpnd_wg_outer_ifname()) != 0)
		return;
	struct vpnd_tev up = { .kind = VPND_TEV_UP };
	pthread_mutex_lock(&t->mu);
	up.connection = t->conn;
	pthread_mutex_unlock(&t->mu);
	post(t, &up);
	atomic_store(&t->up_sent, true);
}

static void *run(void *arg)
{
	struct vpnd_tunnel *t = arg;
	const struct vpn_config *cfg = t->p.cfg;
	const struct vpn_settings *s = &t->p.settings;
	char err[CLIENTIO_ERR_MAX];
	int rc;

	progress(t, VPN_CTL_STEP_FETCHING_TOPOLOGY);
	rc = vpnd_fw_block(t->p.fw, s->allow_lan, s->tunnel.ipv6, err, sizeof(err));
	if (rc) {
		failed(t, VPN_REASON_FIREWALL, true, "%s", err);
		goto out;
	}
	if (all_authorities_missing(t)) {
		failed(t, VPN_REASON_INTERNAL, true,
		       "no directory authority configured: set network.authorities in the configuration or give --authority");
		goto out;
	}
	if (s->tunnel.two_hop) {
		run_two_hop(t);
		goto out;
	}
	char book[PATH_MAX];
	size_t left = 0;
	rc = clientio_ticketbook_pick(t->p.tickets_dir, NYM_TICKET_MIXNET_ENTRY, nym_clock_unix_now(), book, sizeof(book), &left);
	if (rc) {
		failed(t, VPN_REASON_NO_TICKETS, true,
		       "no mixnet-entry tickets in %s: obtain some with `nym-vpnc credentials obtain`", t->p.tickets_dir);
		goto out;
	}
	struct vpnd_tev tk = { .kind = VPND_TEV_TICKETS, .tickets_left = (long)left, .low = left < CLIENTIO_TICKETS_LOW };
	post(t, &tk);
	if (s->entry.kind == VPN_POINT_ID && s->exit.kind == VPN_POINT_ID && memcmp(s->entry.id, s->exit.id, 32) == 0) {
		failed(t, VPN_REASON_SAME_ENTRY_AND_EXIT_GATEWAY, true,
		       "the entry and exit gateways are the same: choose another with `nym-vpnc gateway set`");
		goto out;
	}
	bool created;
	rc = client_keys_load_or_create(t->p.keys_dir, &t->keys, &created);
	if (rc) {
		failed(t, VPN_REASON_INTERNAL, true, "cannot use the client keys in %s: %s", t->p.keys_dir,
		       client_keys_strerror(rc));
		goto out;
	}
	rc = tun_open(cfg->tunnel.device, &t->tun_fd);
	if (rc) {
		failed(t, VPN_REASON_TUN_DEVICE, true, "cannot create the TUN device %s: %s", cfg->tunnel.device,
		       rc == -EBUSY ? "in use by another process" : strerror(-rc));
		goto out;
	}
	if (tun_name(t->tun_fd, t->ifname) != 0)
		snprintf(t->ifname, sizeof(t->ifname), "%.15s", cfg->tunnel.device);
	rc = nl_link_set_up(t->ifname, (unsigned)cfg->tunnel.mtu);
	if (rc) {
		failed(t, VPN_REASON_TUN_DEVICE, true, "cannot bring %s up: %s", t->ifname, strerror(-rc));
		goto out;
	}

	struct clientio_config cc;
	clientio_config_default(&cc);
	cc.authority_urls = t->p.authority_urls;
	cc.authority_count = t->p.n_authorities;
	cc.trust = t->p.trust;
	cc.entry_identity = s->entry.kind == VPN_POINT_ID ? s->entry.id : NULL;
	cc.exit_identity = s->exit.kind == VPN_POINT_ID ? s->exit.id : NULL;
	cc.entry_country = s->entry.kind == VPN_POINT_COUNTRY ? s->entry.country : NULL;
	cc.exit_country = s->exit.kind == VPN_POINT_COUNTRY ? s->exit.country : NULL;
	cc.ticketbook_dir = t->p.tickets_dir;
	cc.fwmark = (uint32_t)cfg->tunnel.fwmark;
	cc.on_event = on_event;
	cc.event_ctx = t;
	cc.engine.identity = &t->keys.identity;
	cc.engine.encryption = &t->keys.encryption;
	set_engine(&cc, &s->tunnel);
	cc.ipr = true;
	cc.tun_fd = t->tun_fd;
	cc.http_timeout_ms = VPND_HTTP_TIMEOUT_MS;
	/* Random points may draw one gateway for both roles (an exit that is also an entry):
	 * draw again a few times before calling it a failure. */
	for (int draw = 0;; draw++) {
		t->gateways_seen = false;
		rc = clientio_start(&cc, &t->io, err, sizeof(err));
		if (rc || !t->gateways_seen || strcmp(t->conn.entry_id, t->conn.exit_id) != 0 || draw == 8 ||
		    (cc.entry_identity && cc.exit_identity) || stopping(t))
			break;
		log_debug("tunnel: the same gateway drawn for entry and exit: drawing again");
		atomic_store(&t->discarding, true);
		clientio_stop(t->io);
		atomic_store(&t->discarding, false);
		t->io = NULL;
	}
	if (rc) {
		t->io = NULL;
		if (rc == -ENOENT && cc.entry_country && strstr(err, "entry gateway"))
			failed(t, VPN_REASON_INVALID_ENTRY_GATEWAY_COUNTRY, true, "%s", err);
		else if (rc == -ENOENT && cc.exit_country && strstr(err, "exit gateway"))
			failed(t, VPN_REASON_INVALID_EXIT_GATEWAY_COUNTRY, true, "%s", err);
		else if (rc == -ENOENT)
			failed(t, VPN_REASON_TUNNEL_PROVIDER, true, "%s: choose another with `nym-vpnc gateway set`", err);
		else /* the authorities could not be reached or did not verify: try again later */
			failed(t, VPN_REASON_TUNNEL_PROVIDER, false, "%s", err);
		goto out;
	}
	if (t->fw_failed) {
		failed(t, VPN_REASON_FIREWALL, true, "%s", t->fw_err);
		goto out;
	}
	if (t->gateways_seen && strcmp(t->conn.entry_id, t->conn.exit_id) == 0) {
		failed(t, VPN_REASON_SAME_ENTRY_AND_EXIT_GATEWAY, true,
		       "the entry and exit gateways are the same: choose others with `nym-vpnc gateway set`");
		goto out;
	}
	struct ipr_addr_pair ips;
	long waited = 0;
	for (;;) {
		rc = clientio_wait_ipr(t->io, 200, &ips, err, sizeof(err));
		if (rc != -ETIMEDOUT || stopping(t))
			break;
		waited += 200;
		if (waited >= IPR_TIMEOUT_MS) {
			snprintf(err, sizeof(err), "no answer from the exit gateway's IP packet router within %d s",
				 IPR_TIMEOUT_MS / 1000);
			break;
		}
	}
	if (stopping(t))
		goto out;
	if (rc) {
		bool fatal = rc == -EIO && clientio_gave_up(t->io);
		bool no_tickets = fatal && (strstr(err, "ticket") || strstr(err, "balance") || strstr(err, "bandwidth"));
		failed(t, no_tickets ? VPN_REASON_NO_TICKETS : VPN_REASON_TUNNEL_PROVIDER, fatal, "%s", err);
		goto out;
	}
	if (configure(t, &ips) != 0)
		goto out;
	struct vpnd_tev up = { .kind = VPND_TEV_UP };
	pthread_mutex_lock(&t->mu);
	up.connection = t->conn;
	pthread_mutex_unlock(&t->mu);
	post(t, &up);
	atomic_store(&t->up_sent, true);
out:
	wait_for_stop(t);
	teardown(t);
	struct vpnd_tev down = { .kind = VPND_TEV_TORN_DOWN };
	post(t, &down);
	return NULL;
}

int vpnd_tunnel_start(const struct vpnd_tunnel_params *p, struct vpnd_tunnel **out)
{
	struct vpnd_tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->p = *p;
	t->tun_fd = -1;
	atomic_init(&t->stop, false);
	atomic_init(&t->discarding, false);
	atomic_init(&t->up_sent, false);
	pthread_mutex_init(&t->mu, NULL);
	int rc = pthread_create(&t->thread, NULL, run, t);
	if (rc) {
		pthread_mutex_destroy(&t->mu);
		free(t);
		return -rc;
	}
	t->started = true;
	*out = t;
	return 0;
}

void vpnd_tunnel_stop(struct vpnd_tunnel *t)
{
	if (t)
		atomic_store(&t->stop, true);
}

void vpnd_tunnel_free(struct vpnd_tunnel *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, true);
	if (t->started)
		pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->mu);
	nym_memzero(t, sizeof(*t));
	free(t);
}

void vpnd_tunnel_cleanup_leftovers(const struct vpn_config *cfg, const char *state_dir, const char *dns_dir)
{
	char err[256];
	int rc = dns_config_revert(dns_dir, cfg->dns.resolv_conf, err, sizeof(err));
	if (rc)
		log_error("cannot restore the DNS configuration a previous run left: %s", err);
	rc = nl_policy_down((uint32_t)cfg->tunnel.table, (uint32_t)cfg->tunnel.fwmark);
	if (rc)
		log_warn("cannot remove routing rules a previous run may have left: %s", strerror(-rc));
	restore_src_valid_mark(state_dir);
	forwarding_restore(state_dir);
}
