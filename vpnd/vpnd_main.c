/* nym-vpnd (C6): the client daemon. Foreground; configuration from /etc/nym/nym-vpnd.yaml,
 * state in <data_dir>/<network>/, control socket /run/nym-vpnd.sock. See docs/nym-vpnd.8.md. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clientio/clientio.h"
#include "crypto/secret.h"
#include "http/http_client.h"
#include "netlink/nl_route.h"
#include "util/cli.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "util/signals.h"
#include "vpnd/vpnd.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define ROUTE_CHECK_NS (2ull * 1000000000ull)
#define POLL_MAX 80
#define VPND_LINK_RETRIES 6

/* ---- state directory and target.json ---- */

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool target_read(const struct vpnd *d)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (nym_file_read(d->target_path, 4096, &data, &len) != 0)
		return false;
	json_t *j = json_loadb((const char *)data, len, 0, NULL);
	free(data);
	const char *t = json_string_value(json_object_get(j, "target"));
	bool connected = t && strcmp(t, "connected") == 0;
	if (!t)
		log_warn("%s: not a target file: taken as disconnected", d->target_path);
	json_decref(j);
	return connected;
}

static void target_write(const struct vpnd *d, bool connected)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "{\"target\": \"%s\"}\n", connected ? "connected" : "disconnected");
	int rc = nym_file_write_atomic(d->target_path, text, (size_t)n, 0600);
	if (rc)
		log_error("cannot write %s: %s", d->target_path, strerror(-rc));
}

/* ---- state machine glue ---- */

static void publish_state(struct vpnd *d)
{
	json_t *s = vpn_state_to_json(&d->st);
	char *line = NULL;
	if (s && vpn_ctl_event_state(s, &line) == 0 && d->ctl)
		vpnd_ctl_broadcast(d->ctl, line);
	free(line);
	json_decref(s);
}

static void broadcast_progress(struct vpnd *d, enum vpn_ctl_step s);

static void start_tunnel(struct vpnd *d)
{
	struct vpnd_tunnel_params p;
	memset(&p, 0, sizeof(p));
	p.cfg = &d->cfg;
	p.settings = d->settings;
	p.authority_urls = d->authority_urls;
	p.n_authorities = d->n_authorities;
	p.trust = &d->trust;
	snprintf(p.keys_dir, sizeof(p.keys_dir), "%s", d->keys_dir);
	snprintf(p.tickets_dir, sizeof(p.tickets_dir), "%s", d->tickets_dir);
	snprintf(p.dns_dir, sizeof(p.dns_dir), "%s", d->dns_dir);
	snprintf(p.state_dir, sizeof(p.state_dir), "%s", d->state_dir);
	p.dns_backend = d->dns_backend;
	p.fw = &d->fw;
	p.event_fd = d->event_fd;
	int rc = vpnd_tunnel_start(&p, &d->tunnel);
	if (rc) {
		/* No thread: report its failure and teardown ourselves. */
		d->tunnel = NULL;
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot start the tunnel thread: %s", strerror(-rc));
		struct vpn_state_event f = { .kind = VPN_EV_FAILED, .reason = VPN_REASON_INTERNAL, .fatal = true, .message = msg };
		vpnd_handle(d, &f);
		struct vpn_state_event t = { .kind = VPN_EV_TORN_DOWN };
		vpnd_handle(d, &t);
	}
}

void vpnd_handle(struct vpnd *d, const struct vpn_state_event *ev)
{
	struct vpn_state_actions a;
	vpn_state_handle(&d->st, ev, &a);
	char err[256];
	if (a.flags & VPN_ACT_TARGET)
		target_write(d, d->st.target_connected);
	if (a.flags & VPN_ACT_STOP_TUNNEL) {
		if (d->tunnel) {
			vpnd_tunnel_stop(d->tunnel);
		} else {
			struct vpn_state_event t = { .kind = VPN_EV_TORN_DOWN };
			vpnd_handle(d, &t);
			return;
		}
	}
	if (a.flags & VPN_ACT_BLOCK) {
		if (vpnd_fw_block(&d->fw, d->settings.allow_lan, d->settings.tunnel.ipv6, err, sizeof(err)) != 0)
			log_error("%s", err);
	}
	if (a.flags & VPN_ACT_UNBLOCK) {
		if (vpnd_fw_remove(&d->fw, err, sizeof(err)) != 0)
			log_error("%s", err);
	}
	if (a.flags & VPN_ACT_ARM_RETRY) {
		d->retry_at_ns = nym_clock_now_ns() + (uint64_t)a.retry_ms * 1000000ull;
		log_info("tunnel: retry %u in %u ms", d->st.retry_attempt, a.retry_ms);
	}
	if (a.flags & VPN_ACT_START_TUNNEL) {
		d->retry_at_ns = 0;
		start_tunnel(d);
	}
	if (a.flags & VPN_ACT_PROGRESS)
		broadcast_progress(d, d->st.progress);
	if (ev->kind == VPN_EV_UP && d->st.kind == VPN_STATE_CONNECTED)
		broadcast_progress(d, VPN_CTL_STEP_UP);
	if (a.flags & VPN_ACT_WARN) {
		char *line = NULL;
		log_warn("%s", a.warning);
		if (vpn_ctl_event_warning(a.warning, &line) == 0 && d->ctl)
			vpnd_ctl_broadcast(d->ctl, line);
		free(line);
	}
	if (a.flags & VPN_ACT_PUBLISH) {
		log_info("state: %s%s%s", vpn_state_kind_name(d->st.kind), d->st.kind == VPN_STATE_ERROR ? " " : "",
			 d->st.kind == VPN_STATE_ERROR ? vpn_state_reason_name(d->st.reason) : "");
		d->publish_pending = true;
	}
}

static void broadcast_progress(struct vpnd *d, enum vpn_ctl_step s)
{
	char *line = NULL;
	if (vpn_ctl_event_progress(s, vpn_ctl_step_description(s), &line) == 0 && d->ctl)
		vpnd_ctl_broadcast(d->ctl, line);
	free(line);
}

void vpnd_refresh_tickets(struct vpnd *d)
{
	char path[PATH_MAX];
	size_t left = 0;
	if (clientio_ticketbook_pick(d->tickets_dir, NYM_TICKET_MIXNET_ENTRY, nym_clock_unix_now(), path, sizeof(path), &left) != 0)
		left = 0;
	d->st.tickets_left = (long)left;
}

static void drain_tunnel_events(struct vpnd *d)
{
	uint64_t v;
	if (read(d->event_fd, &v, sizeof(v)) < 0) {
		/* nothing signalled: drain anyway */
	}
	struct vpnd_tev e;
	while (d->tunnel && vpnd_tunnel_next_event(d->tunnel, &e)) {
		struct vpn_state_event ev = { .message = e.message };
		switch (e.kind) {
		case VPND_TEV_PROGRESS:
			ev.kind = VPN_EV_PROGRESS;
			ev.progress = e.progress;
			break;
		case VPND_TEV_UP:
			ev.kind = VPN_EV_UP;
			ev.connection = &e.connection;
			break;
		case VPND_TEV_LINK_DOWN:
			ev.kind = VPN_EV_LINK_DOWN;
			break;
		case VPND_TEV_LINK_UP:
			ev.kind = VPN_EV_LINK_UP;
			break;
		case VPND_TEV_FAILED:
			ev.kind = VPN_EV_FAILED;
			ev.reason = e.reason;
			ev.fatal = e.fatal;
			break;
		case VPND_TEV_TICKETS:
			ev.kind = VPN_EV_TICKETS;
			ev.tickets_left = e.tickets_left;
			ev.low = e.low;
			break;
		case VPND_TEV_TORN_DOWN:
			vpnd_tunnel_free(d->tunnel);
			d->tunnel = NULL;
			ev.kind = VPN_EV_TORN_DOWN;
			break;
		}
		vpnd_handle(d, &ev);
		/* clientio retries its one entry gateway for ever; a random entry that stays away
		 * this long is given up for a new draw. */
		if (e.kind == VPND_TEV_LINK_DOWN && d->st.kind == VPN_STATE_CONNECTING &&
		    d->st.retry_attempt >= VPND_LINK_RETRIES && d->settings.entry.kind != VPN_POINT_ID) {
			struct vpn_state_event f = { .kind = VPN_EV_FAILED,
						     .reason = VPN_REASON_TUNNEL_PROVIDER,
						     .message = "the entry gateway stays unreachable: drawing another" };
			vpnd_handle(d, &f);
		}
	}
}

static void drain_jobs(struct vpnd *d)
{
	uint64_t client;
	long long id;
	json_t *result;
	struct vpn_ctl_error err;
	bool ok, obtained;
	while (vpnd_jobs_next(d->jobs, &client, &id, &result, &err, &ok, &obtained)) {
		vpnd_ctl_reply(d->ctl, client, id, result, ok ? NULL : &err);
		json_decref(result);
		if (obtained)
			vpnd_refresh_tickets(d);
	}
}

/* Offline: no default route (IPv4 or IPv6) but through our own tunnel. */
static bool have_route(const struct vpnd *d)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	for (size_t i = 0; i < 2; i++) {
		char ifname[IF_NAMESIZE];
		if (nl_route_default_ifname(fams[i], ifname) == 0 && strcmp(ifname, d->cfg.tunnel.device) != 0)
			return true;
	}
	return false;
}

static void check_route(struct vpnd *d)
{
	bool online = have_route(d);
	if (online != d->st.online) {
		log_info("%s", online ? "a default route is back: online" : "no default route: offline");
		struct vpn_state_event ev = { .kind = online ? VPN_EV_ONLINE : VPN_EV_OFFLINE };
		vpnd_handle(d, &ev);
	}
}

/* ---- setup ---- */

struct options {
	const char *config, *data_dir, *socket, *log_level, *write_config;
	struct cli_list authorities, keys, lan;
	bool check_config;
};

static int setup_paths(struct vpnd *d)
{
	int n = snprintf(d->state_dir, sizeof(d->state_dir), "%s/%s", d->cfg.daemon.data_dir, d->cfg.network.name);
	if (n < 0 || (size_t)n >= sizeof(d->state_dir))
		return -ENAMETOOLONG;
	snprintf(d->keys_dir, sizeof(d->keys_dir), "%s/keys", d->state_dir);
	snprintf(d->tickets_dir, sizeof(d->tickets_dir), "%s/tickets", d->state_dir);
	snprintf(d->dns_dir, sizeof(d->dns_dir), "%s/dns", d->state_dir);
	snprintf(d->settings_path, sizeof(d->settings_path), "%s/settings.json", d->state_dir);
	snprintf(d->target_path, sizeof(d->target_path), "%s/target.json", d->state_dir);
	int rc = mkdir_p(d->state_dir, 0700);
	if (!rc)
		rc = mkdir_p(d->tickets_dir, 0700);
	if (!rc)
		rc = mkdir_p(d->dns_dir, 0700);
	return rc;
}

static int load_config(struct vpnd *d, const struct options *o)
{
	char err[CONF_ERROR_MAX];
	snprintf(d->config_path, sizeof(d->config_path), "%s", o->config ? o->config : VPN_CONFIG_DEFAULT_PATH);
	int rc = vpn_config_load(d->config_path, &d->cfg, err);
	if (rc == -ENOENT && !o->config) {
		log_info("no %s: using the defaults", d->config_path);
	} else if (rc) {
		fprintf(stderr, "nym-vpnd: %s\n", err);
		return rc;
	} else {
		d->config_found = true;
	}
	/* Command-line overrides; --authority and --authority-key replace the configured lists. */
	if (o->data_dir)
		snprintf(d->cfg.daemon.data_dir, sizeof(d->cfg.daemon.data_dir), "%s", o->data_dir);
	if (o->socket)
		snprintf(d->cfg.daemon.socket, sizeof(d->cfg.daemon.socket), "%s", o->socket);
	if (o->log_level)
		snprintf(d->cfg.logging.level, sizeof(d->cfg.logging.level), "%s", o->log_level);
	if (o->authorities.count) {
		d->cfg.network.authorities.count = 0;
		for (size_t i = 0; i < o->authorities.count && i < CONF_LIST_MAX; i++)
			snprintf(d->cfg.network.authorities.item[d->cfg.network.authorities.count++], CONF_STR_MAX, "%s",
				 o->authorities.items[i]);
	}
	if (o->keys.count) {
		d->cfg.network.authority_keys.count = 0;
		for (size_t i = 0; i < o->keys.count && i < CONF_LIST_MAX; i++)
			snprintf(d->cfg.network.authority_keys.item[d->cfg.network.authority_keys.count++], CONF_STR_MAX,
				 "%s", o->keys.items[i]);
	}
	if (o->lan.count) {
		d->cfg.router.lan_interfaces.count = 0;
		for (size_t i = 0; i < o->lan.count && i < CONF_LIST_MAX; i++)
			snprintf(d->cfg.router.lan_interfaces.item[d->cfg.router.lan_interfaces.count++], CONF_STR_MAX, "%s",
				 o->lan.items[i]);
		if (o->lan.count > CONF_LIST_MAX) {
			fprintf(stderr, "nym-vpnd: --lan: at most %d interfaces\n", CONF_LIST_MAX);
			return -EINVAL;
		}
	}
	const char *key = "";
	rc = vpn_config_validate(&d->cfg, err, &key);
	if (rc) {
		fprintf(stderr, "nym-vpnd: %s (after the command-line options): %s: %s\n", d->config_path, key, err);
		return rc;
	}
	enum nym_log_level level;
	nym_log_parse_level(d->cfg.logging.level, &level);
	nym_log_set_level(level);
	for (size_t i = 0; i < d->cfg.network.authorities.count && i < VPND_AUTHORITIES_MAX; i++)
		d->authority_urls[d->n_authorities++] = d->cfg.network.authorities.item[i];
	memset(&d->trust, 0, sizeof(d->trust));
	for (size_t i = 0; i < d->cfg.network.authority_keys.count; i++)
		nym_dir_client_trust_add(&d->trust, d->cfg.network.authority_keys.item[i]);
	d->trust.threshold = d->trust.count / 2 + 1;
	if (dns_config_parse_backend(d->cfg.dns.backend, &d->dns_backend) != 0)
		d->dns_backend = DNS_CONFIG_AUTO;
	return 0;
}

/* start.*: the configuration's mode and gateways over the saved settings, and connect. */
static void apply_start(struct vpnd *d)
{
	const struct vpn_config *c = &d->cfg;
	struct vpn_settings s = d->settings;
	struct vpn_point p;
	if (c->start.mode[0])
		s.tunnel.two_hop = strcmp(c->start.mode, "two-hop") == 0;
	if (vpn_config_point(c->start.entry_gateway, &p) == 0)
		s.entry = p;
	if (vpn_config_point(c->start.exit_gateway, &p) == 0)
		s.exit = p;
	char *a = vpn_settings_to_json(&d->settings), *b = vpn_settings_to_json(&s);
	if (a && b && strcmp(a, b) != 0) {
		d->settings = s;
		log_info("settings from the configuration's start section: mode %s", s.tunnel.two_hop ? "two-hop" : "mixnet");
		vpnd_save_settings(d);
	}
	free(a);
	free(b);
	if (c->start.connect) {
		log_info("start.connect: connecting");
		target_write(d, true);
	}
}

/* Restart safety: what a previous process left behind is taken over or removed. */
static void recover(struct vpnd *d)
{
	char err[256];
	bool connected = target_read(d);
	int present = nft_killswitch_present(VPND_TABLE);
	/* Leftover DNS and routing go in both cases; a reconnect sets them up again. */
	vpnd_tunnel_cleanup_leftovers(&d->cfg, d->state_dir, d->dns_dir);
	if (connected) {
		log_info("the target is connected (%s): connecting again%s", d->target_path,
			 present == 1 ? " behind the kill switch left in place" : "");
		d->st.target_connected = true;
		struct vpn_state_event ev = { .kind = VPN_EV_CONNECT };
		vpnd_handle(d, &ev);
	} else if (present == 1) {
		log_info("removing the kill switch a previous run left (target disconnected)");
		if (vpnd_fw_remove(&d->fw, err, sizeof(err)) != 0)
			log_error("%s", err);
	}
}

static void shutdown_tunnel(struct vpnd *d)
{
	if (!d->tunnel)
		return;
	vpnd_tunnel_stop(d->tunnel);
	vpnd_tunnel_free(d->tunnel); /* joins: the thread reverts DNS, routing, closes the TUN */
	d->tunnel = NULL;
}

static int run(struct vpnd *d, const sigset_t *stop)
{
	struct pollfd fds[POLL_MAX];
	uint64_t next_route = 0;
	int sigfd_dummy = -1;
	(void)sigfd_dummy;
	for (;;) {
		struct timespec zero = { 0, 0 };
		siginfo_t si;
		int sig = sigtimedwait(stop, &si, &zero);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return 0;
		}
		if (sig == SIGHUP)
			log_info("SIGHUP: nothing to reload (settings change through nym-vpnc)");
		uint64_t now = nym_clock_now_ns();
		if (now >= next_route) {
			check_route(d);
			next_route = now + ROUTE_CHECK_NS;
		}
		if (d->retry_at_ns && now >= d->retry_at_ns) {
			d->retry_at_ns = 0;
			struct vpn_state_event ev = { .kind = VPN_EV_RETRY };
			vpnd_handle(d, &ev);
		}
		if (d->publish_pending) {
			d->publish_pending = false;
			publish_state(d);
		}
		fds[0] = (struct pollfd){ .fd = d->event_fd, .events = POLLIN };
		size_t n = 1 + vpnd_ctl_pollfds(d->ctl, fds + 1, POLL_MAX - 1);
		int timeout = 200; /* signals are polled with sigtimedwait between rounds */
		if (d->retry_at_ns) {
			uint64_t left = d->retry_at_ns > now ? (d->retry_at_ns - now) / 1000000ull : 0;
			if (left < (uint64_t)timeout)
				timeout = (int)left;
		}
		int r = poll(fds, n, timeout);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (fds[0].revents & POLLIN) {
			drain_tunnel_events(d);
			drain_jobs(d);
		}
		vpnd_ctl_dispatch(d->ctl, fds + 1, n - 1);
		if (d->publish_pending) {
			d->publish_pending = false;
			publish_state(d);
		}
	}
}

int main(int argc, char **argv)
{
	nym_log_set_ident("nym-vpnd");
	struct options o;
	memset(&o, 0, sizeof(o));
	struct cli_option opts[] = {
		{ "config", CLI_STRING, &o.config, false, "FILE  configuration (default " VPN_CONFIG_DEFAULT_PATH ")" },
		{ "data-dir", CLI_STRING, &o.data_dir, false, "DIR   state directory (daemon.data_dir); the state is in DIR/<network>/" },
		{ "socket", CLI_STRING, &o.socket, false, "PATH  control socket (daemon.socket)" },
		{ "authority", CLI_LIST, &o.authorities, false, "URL   directory authority; replaces network.authorities" },
		{ "authority-key", CLI_LIST, &o.keys, false, "B58   authority key; replaces network.authority_keys" },
		{ "log-level", CLI_STRING, &o.log_level, false, "L     error, warn, info or debug (logging.level)" },
		{ "lan", CLI_LIST, &o.lan, false, "IF    router mode: forward this LAN interface through the tunnel; replaces router.lan_interfaces" },
		{ "write-config", CLI_STRING, &o.write_config, false, "FILE  write the configuration in effect, every key documented, and exit" },
		{ "check-config", CLI_FLAG, &o.check_config, false, "      load and check the configuration (and options), say what is wrong, and exit" },
		{ 0 },
	};
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("nym-vpnd %s (%s)\n", NYM_VERSION, NYM_COMMIT);
		return EXIT_OK;
	}
	int rc = cli_parse("nym-vpnd", argc - 1, argv + 1, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (nym_crypto_init() != 0) {
		log_error("cannot initialise libsodium");
		return EXIT_FAIL;
	}
	static struct vpnd d;
	d.event_fd = -1;
	vpn_state_init(&d.st);
	if (load_config(&d, &o) != 0)
		return EXIT_FAIL;
	if (o.check_config) {
		printf("%s: %s%s\n", d.config_path, d.config_found ? "valid" : "absent: the defaults are valid",
		       d.cfg.router.lan_interfaces.count ? " (router mode)" : "");
		return EXIT_OK;
	}
	if (o.write_config) {
		rc = conf_write(o.write_config, vpn_config_schema, &d.cfg, 0644);
		if (rc) {
			fprintf(stderr, "nym-vpnd: cannot write %s: %s\n", o.write_config, strerror(-rc));
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	rc = setup_paths(&d);
	if (rc) {
		fprintf(stderr, "nym-vpnd: cannot create the state directory %s: %s\n", d.state_dir, strerror(-rc));
		return EXIT_FAIL;
	}
	char err[512];
	rc = vpn_settings_load(d.settings_path, &d.settings, err, sizeof(err));
	if (rc && rc != -ENOENT)
		log_error("%s: %s: using the default settings (the file is replaced at the next change)", d.settings_path, err);
	apply_start(&d);
	sigset_t stop;
	nym_signals_take(&stop, true); /* before any thread */
	vpnd_fw_init(&d.fw, (uint32_t)d.cfg.tunnel.fwmark);
	vpnd_fw_set_router(&d.fw, &d.cfg.router.lan_interfaces);
	if (d.cfg.router.lan_interfaces.count) {
		char list[CONF_LIST_MAX * 18] = "";
		for (size_t i = 0; i < d.cfg.router.lan_interfaces.count; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
				 d.cfg.router.lan_interfaces.item[i]);
		log_info("router mode: %s forwarded through the tunnel while it is up, never outside it", list);
	}
	if (d.n_authorities && vpnd_fw_set_authorities(&d.fw, d.authority_urls, d.n_authorities) != 0)
		log_warn("not every authority could be resolved: the kill switch lets through those that were");
	if (geteuid() == 0)
		nym_http_set_socket_mark((uint32_t)d.cfg.tunnel.fwmark);
	else
		log_warn("not running as root: the tunnel cannot be set up (credentials and settings still work)");
	d.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.event_fd < 0) {
		log_error("eventfd: %s", strerror(errno));
		return EXIT_FAIL;
	}
	d.jobs = vpnd_jobs_new(d.event_fd);
	if (!d.jobs) {
		log_error("out of memory");
		return EXIT_FAIL;
	}
	mode_t mode = 0660;
	vpn_config_socket_mode(&d.cfg, &mode);
	rc = vpnd_ctl_open(d.cfg.daemon.socket, mode, d.cfg.daemon.socket_group, vpnd_request, &d, &d.ctl, err,
			   sizeof(err));
	if (rc) {
		fprintf(stderr, "nym-vpnd: %s\n", err);
		return EXIT_FAIL;
	}
	log_info("nym-vpnd %s: network %s, state in %s, control socket %s", NYM_VERSION, d.cfg.network.name, d.state_dir,
		 d.cfg.daemon.socket);
	d.st.online = have_route(&d);
	vpnd_refresh_tickets(&d);
	recover(&d);
	vpnd_notify("READY=1");
	rc = run(&d, &stop);
	vpnd_notify("STOPPING=1");
	shutdown_tunnel(&d);
	vpnd_jobs_drain(d.jobs, 2 * VPND_HTTP_TIMEOUT_MS);
	if (!d.st.target_connected) {
		/* Disconnected (or disconnecting): nothing may stay behind. */
		if (d.fw.active || nft_killswitch_present(VPND_TABLE) == 1) {
			if (vpnd_fw_remove(&d.fw, err, sizeof(err)) != 0)
				log_error("%s", err);
		}
	} else {
		log_info("the target is connected: the kill switch stays until the next start or an explicit disconnect");
	}
	vpnd_ctl_close(d.ctl);
	close(d.event_fd);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
