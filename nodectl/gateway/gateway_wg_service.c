#include "nodectl/gateway/gateway_wg_service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "gateway/gateway_wg_meta.h"
#include "netlink/nl_link.h"
#include "nodectl/node/node_keys.h"
#include "util/clock.h"
#include "util/log.h"
#include "awg/awg_genl.h"
#include "nodectl/node/node_amnezia.h"
#include "wg/wg_device.h"

#define META_CONNS 32
#define META_DEADLINE_MS 5000
#define META_OUT_MAX 1024

struct meta_conn {
	int fd; /* -1: free */
	int family;
	uint8_t src[16];
	int64_t deadline_ms;
	size_t len;
	uint8_t buf[GATEWAY_WG_META_MAX_REQUEST];
};

struct gateway_wg_service {
	const struct node_config *cfg;
	char ifname[CONF_STR_MAX]; /* validated: 1-15 characters */
	enum wg_backend backend;
	struct nym_x25519_keypair key;
	struct gateway_wg_pool_config pool;
	pthread_mutex_t lock; /* engine and device */
	struct gateway_wg *engine;
	struct gateway_clients *db;
	struct wg_device *dev;
	bool amnezia_on;	   /* wireguard.amnezia is not off: nym_awg.ko on the device's port */
	struct awg_params amnezia;
	int (*spend)(void *ctx, struct gateway_clients *db, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		     const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance);
	void *spend_ctx;
	pthread_t thread;
	bool started;
	int stop_fd;
	int listen_fd;
	struct meta_conn conns[META_CONNS];
};

/* ---- configuration ---- */

/* "A.B.C.D/P" or "X::/P" into net and prefix; the gateway takes the network's first host. */
static int parse_net(int family, const char *text, uint8_t *net, uint8_t *prefix, uint8_t *gw)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", text);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (*end || p < 0 || p > (family == AF_INET ? 32 : 128))
		return -EINVAL;
	if (inet_pton(family, buf, net) != 1)
		return -EINVAL;
	*prefix = (uint8_t)p;
	size_t n = family == AF_INET ? 4 : 16;
	memcpy(gw, net, n);
	gw[n - 1] |= 1;
	return 0;
}

/* ---- the engine's hooks ---- */

static int hook_spend(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		      const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance)
{
	struct gateway_wg_service *s = ctx;
	return s->spend(s->spend_ctx, s->db, ticket, len, type, id, bytes, balance);
}

static int hook_apply(void *ctx, const struct gateway_wg_action *a)
{
	struct gateway_wg_service *s = ctx;
	struct wg_allowed_ip ips[2] = { { .family = AF_INET, .cidr = 32 }, { .family = AF_INET6, .cidr = 128 } };
	struct wg_peer_conf peer = { 0 };
	struct wg_conf c = { .peers = &peer, .n_peers = 1 };
	memcpy(peer.public_key, a->key, WG_KEY_LEN);
	char b64[WG_KEY_B64_LEN];
	wg_key_to_base64(b64, a->key);
	if (a->kind == GATEWAY_WG_ADD_PEER) {
		memcpy(ips[0].addr, a->ips.v4, 4);
		memcpy(ips[1].addr, a->ips.v6, 16);
		peer.flags = WG_PEER_REPLACE_ALLOWED_IPS;
		peer.allowed_ips = ips;
		peer.n_allowed_ips = 2;
	} else {
		peer.flags = WG_PEER_REMOVE;
	}
	int rc = s->dev ? wg_device_set(s->dev, &c) : -ENODEV;
	if (rc)
		log_ratelimited(NYM_LOG_WARN, "wireguard: cannot %s peer %s: %s",
				a->kind == GATEWAY_WG_ADD_PEER ? "add" : "remove", b64, strerror(-rc));
	else if (a->kind == GATEWAY_WG_REMOVE_PEER)
		log_info("wireguard: peer %s removed (%s)", b64,
			 a->reason == GATEWAY_WG_REMOVED_NO_BANDWIDTH ? "out of bandwidth" : "unknown");
	else
		log_debug("wireguard: peer %s added", b64);
	return rc;
}

/* ---- the device ---- */

/* AmneziaWG 1.0 on the device's port (a new device each time: the module forgets a deleted
 * one). RESPONDER: the exit hop of other clients' two-hop tunnels arrives plain at the same
 * port, and AWG clients are learned as they come. */
static int amnezia_up(struct gateway_wg_service *s)
{
	if (!s->amnezia_on)
		return 0;
	if (wg_device_backend(s->dev) != WG_BACKEND_KERNEL) {
		log_error("wireguard: wireguard.amnezia needs the kernel backend, but %s runs on %s", s->ifname,
			  wg_backend_name(wg_device_backend(s->dev)));
		return -EOPNOTSUPP;
	}
	char text[AWG_PARAMS_TEXT_MAX];
	awg_params_format(&s->amnezia, text, sizeof(text));
	int rc = awg_genl_set(s->ifname, (uint16_t)s->cfg->wireguard.bind_port, AWG_GENL_MODE_RESPONDER, &s->amnezia);
	if (rc) {
		log_error("wireguard: cannot apply AmneziaWG to %s (nym_awg.ko): %s", s->ifname,
			  rc == -ENOENT ? "the module is not loaded" : strerror(-rc));
		return rc;
	}
	log_info("wireguard: AmneziaWG 1.0 on %s port %" PRIu64 ": %s", s->ifname, s->cfg->wireguard.bind_port, text);
	return 0;
}

static int device_up(struct gateway_wg_service *s)
{
	int rc = wg_device_create(s->ifname, s->backend, NULL, &s->dev);
	if (rc) {
		log_error("wireguard: cannot create %s (backend %s): %s", s->ifname, wg_backend_name(s->backend),
			  strerror(-rc));
		return rc;
	}
	log_info("wireguard: device %s, backend %s, port %" PRIu64, s->ifname,
		 wg_backend_name(wg_device_backend(s->dev)), s->cfg->wireguard.bind_port);
	struct wg_conf c = { .flags = WG_CONF_PRIVATE_KEY | WG_CONF_LISTEN_PORT | WG_CONF_REPLACE_PEERS,
			     .listen_port = (uint16_t)s->cfg->wireguard.bind_port };
	memcpy(c.private_key, s->key.secret, WG_KEY_LEN);
	rc = wg_device_set(s->dev, &c);
	wg_conf_clear(&c);
	if (rc) {
		log_error("wireguard: cannot configure %s: %s", s->ifname, strerror(-rc));
		return rc;
	}
	rc = nl_link_addr_add(s->ifname, AF_INET, s->pool.gateway4, s->pool.prefix4);
	if (rc && rc != -EEXIST) {
		log_error("wireguard: cannot add the IPv4 address to %s: %s", s->ifname, strerror(-rc));
		return rc;
	}
	rc = nl_link_addr_add(s->ifname, AF_INET6, s->pool.gateway6, s->pool.prefix6);
	if (rc && rc != -EEXIST)
		log_warn("wireguard: cannot add the IPv6 address to %s: %s (IPv4 only)", s->ifname, strerror(-rc));
	rc = nl_link_set_up(s->ifname, 0);
	if (rc) {
		log_error("wireguard: cannot set %s up: %s", s->ifname, strerror(-rc));
		return rc;
	}
	return amnezia_up(s);
}

/* ---- metering ---- */

static void meter(struct gateway_wg_service *s)
{
	struct wg_status st = { 0 };
	pthread_mutex_lock(&s->lock);
	int rc = wg_device_get(s->dev, &st);
	if (rc == 0) {
		struct gateway_wg_reading *r = calloc(st.n_peers ? st.n_peers : 1, sizeof(*r));
		if (r) {
			for (size_t i = 0; i < st.n_peers; i++) {
				memcpy(r[i].key, st.peers[i].public_key, WG_KEY_LEN);
				r[i].rx = st.peers[i].rx_bytes;
				r[i].tx = st.peers[i].tx_bytes;
				r[i].last_handshake = st.peers[i].last_handshake_sec;
			}
			rc = gateway_wg_meter(s->engine, r, st.n_peers, nym_clock_unix_now());
			if (rc)
				log_ratelimited(NYM_LOG_WARN, "wireguard: cannot save the metering: %s", strerror(-rc));
			free(r);
		}
	} else {
		log_ratelimited(NYM_LOG_WARN, "wireguard: cannot read %s: %s", s->ifname, strerror(-rc));
	}
	wg_status_free(&st);
	pthread_mutex_unlock(&s->lock);
}

/* wireguard-go died (or the kernel link went): a new device, the peers again. */
static void revive(struct gateway_wg_service *s)
{
	pthread_mutex_lock(&s->lock);
	if (wg_device_alive(s->dev) != 0) {
		log_warn("wireguard: %s has gone; creating it again", s->ifname);
		wg_device_destroy(s->dev);
		s->dev = NULL;
		if (device_up(s) == 0)
			gateway_wg_sync_device(s->engine);
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- the metadata endpoint ---- */

static int meta_listen(struct gateway_wg_service *s)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->cfg->wireguard.metadata_port) };
	memcpy(&sin.sin_addr, s->pool.gateway4, 4);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 64) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void meta_close(struct meta_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void meta_accept(struct gateway_wg_service *s)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct meta_conn *c = NULL;
		for (size_t i = 0; i < META_CONNS && !c; i++)
			if (s->conns[i].fd < 0)
				c = &s->conns[i];
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->deadline_ms = nym_clock_unix_now_ms() + META_DEADLINE_MS;
		if (ss.ss_family == AF_INET) {
			c->family = AF_INET;
			memcpy(c->src, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		} else {
			c->family = AF_INET6;
			memcpy(c->src, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		}
	}
}

static void meta_read(struct gateway_wg_service *s, struct meta_conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		meta_close(c);
		return;
	}
	c->len += (size_t)n;
	uint8_t out[META_OUT_MAX];
	size_t written = 0;
	pthread_mutex_lock(&s->lock);
	int rc = gateway_wg_meta_serve(s->engine, c->family, c->src, c->buf, c->len, nym_clock_unix_now(), out,
				       sizeof(out), &written);
	pthread_mutex_unlock(&s->lock);
	if (rc == -EAGAIN && c->len < sizeof(c->buf))
		return;
	if (rc == 0) {
		/* A few hundred bytes into an empty socket buffer: one send. */
		if (send(c->fd, out, written, MSG_NOSIGNAL) < 0)
			log_debug("wireguard: metadata answer not sent: %s", strerror(errno));
	}
	meta_close(c);
}

/* ---- the thread ---- */

static void *service_main(void *arg)
{
	struct gateway_wg_service *s = arg;
	pthread_setname_np(pthread_self(), "gw-wireguard");
	int64_t now_ms = nym_clock_unix_now_ms();
	int64_t next_meter = now_ms + GATEWAY_WG_METER_INTERVAL_S * 1000;
	int64_t next_tick = now_ms + GATEWAY_WG_CLEANUP_INTERVAL_S * 1000;
	for (;;) {
		struct pollfd pfd[2 + META_CONNS + 1];
		struct meta_conn *who[2 + META_CONNS + 1];
		size_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = s->stop_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		int watch = s->dev ? wg_device_watch_fd(s->dev) : -1;
		size_t watch_i = 0;
		if (watch >= 0) {
			watch_i = n;
			pfd[n++] = (struct pollfd){ .fd = watch, .events = POLLIN };
		}
		size_t first_conn = n;
		now_ms = nym_clock_unix_now_ms();
		for (size_t i = 0; i < META_CONNS; i++) {
			struct meta_conn *c = &s->conns[i];
			if (c->fd < 0)
				continue;
			if (now_ms >= c->deadline_ms) {
				meta_close(c);
				continue;
			}
			who[n] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		}
		int64_t wait = next_meter - now_ms;
		if (wait < 0)
			wait = 0;
		if (wait > 1000)
			wait = 1000;
		int rc = poll(pfd, n, (int)wait);
		if (rc < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (watch >= 0 && pfd[watch_i].revents)
			revive(s);
		for (size_t i = first_conn; i < n; i++)
			if (pfd[i].revents)
				meta_read(s, who[i]);
		if (pfd[1].revents)
			meta_accept(s);
		now_ms = nym_clock_unix_now_ms();
		if (now_ms >= next_meter) {
			if (s->dev && wg_device_alive(s->dev) != 0)
				revive(s);
			if (s->dev)
				meter(s);
			next_meter = now_ms + GATEWAY_WG_METER_INTERVAL_S * 1000;
		}
		if (now_ms >= next_tick) {
			pthread_mutex_lock(&s->lock);
			gateway_wg_tick(s->engine, nym_clock_unix_now());
			pthread_mutex_unlock(&s->lock);
			next_tick = now_ms + GATEWAY_WG_CLEANUP_INTERVAL_S * 1000;
		}
	}
	return NULL;
}

/* ---- lifecycle ---- */

int gateway_wg_service_start(struct gateway_wg_service **out, const struct node_config *cfg, enum node_mode mode,
			     const char *data_dir,
			     int (*spend)(void *ctx, struct gateway_clients *db, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
					  const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance),
			     void *spend_ctx)
{
	*out = NULL;
	struct gateway_wg_service *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->spend = spend;
	s->spend_ctx = spend_ctx;
	s->listen_fd = -1;
	s->stop_fd = -1;
	for (size_t i = 0; i < META_CONNS; i++)
		s->conns[i].fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->ifname, sizeof(s->ifname), "%s", cfg->wireguard.interface);
	char err[512];
	int rc = wg_backend_parse(cfg->wireguard.backend, &s->backend);
	if (rc)
		goto fail;
	gateway_wg_pool_default_config(&s->pool);
	if (parse_net(AF_INET, cfg->wireguard.private_network_v4, s->pool.net4, &s->pool.prefix4, s->pool.gateway4) ||
	    parse_net(AF_INET6, cfg->wireguard.private_network_v6, s->pool.net6, &s->pool.prefix6,
		      s->pool.gateway6)) {
		log_error("wireguard: wireguard.private_network_v4 / _v6: expected NET/PREFIX");
		rc = -EINVAL;
		goto fail;
	}
	s->amnezia_on = node_amnezia_on(cfg);
	if (s->amnezia_on && (rc = node_amnezia_params(cfg, data_dir, &s->amnezia, err, sizeof(err))) != 0) {
		log_error("wireguard: %s", err);
		goto fail;
	}
	if ((rc = node_wireguard_key(data_dir, &s->key, err, sizeof(err))) != 0) {
		log_error("wireguard: %s", err);
		goto fail;
	}
	char path[NODE_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/clients.sqlite", data_dir);
	if ((rc = gateway_clients_open(&s->db, path, cfg->gateway.inbox_max_messages,
				       cfg->gateway.inbox_max_age_ns / NYM_NS_PER_SEC)) != 0) {
		log_error("wireguard: cannot open %s: %s", path, strerror(-rc));
		goto fail;
	}
	if ((rc = device_up(s)) != 0)
		goto fail;
	struct gateway_wg_config wc = { .pool = s->pool,
					.port = (uint16_t)cfg->wireguard.announced_port,
					.ticket_type = mode == NODE_MODE_EXIT ? NYM_TICKET_WG_EXIT : NYM_TICKET_WG_ENTRY,
					.bytes_per_ticket = cfg->wireguard.bandwidth_per_ticket };
	struct gateway_wg_hooks hooks = { s, hook_spend, hook_apply };
	if ((rc = gateway_wg_open(&s->engine, &wc, &s->key, s->db, &hooks, nym_clock_unix_now())) != 0) {
		log_error("wireguard: cannot open the WireGuard engine: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = gateway_wg_sync_device(s->engine)) != 0)
		log_warn("wireguard: not every stored peer could be added back: %s", strerror(-rc));
	s->listen_fd = meta_listen(s);
	if (s->listen_fd < 0) {
		rc = s->listen_fd;
		log_error("wireguard: cannot listen for metadata requests: %s", strerror(-rc));
		goto fail;
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = pthread_create(&s->thread, NULL, service_main, s)) != 0) {
		rc = -rc;
		goto fail;
	}
	s->started = true;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, s->pool.gateway4, ip, sizeof(ip));
	struct gateway_wg_stats st;
	gateway_wg_stats(s->engine, nym_clock_unix_now(), &st);
	log_info("wireguard: %s tickets of %" PRIu64 " bytes, %" PRIu64 " peers restored, metadata on %s:%" PRIu64,
		 nym_ticket_type_name(wc.ticket_type), cfg->wireguard.bandwidth_per_ticket, st.total_peers, ip,
		 cfg->wireguard.metadata_port);
	*out = s;
	return 0;
fail:
	gateway_wg_service_stop(s);
	return rc;
}

void gateway_wg_service_stop(struct gateway_wg_service *s)
{
	if (!s)
		return;
	if (s->started) {
		uint64_t one = 1;
		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			log_warn("wireguard: cannot wake the service thread");
		pthread_join(s->thread, NULL);
	}
	for (size_t i = 0; i < META_CONNS; i++)
		if (s->conns[i].fd >= 0)
			meta_close(&s->conns[i]);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->engine && s->dev)
		meter(s); /* the last interval's traffic */
	gateway_wg_close(s->engine);
	gateway_clients_close(s->db);
	if (s->dev)
		wg_device_destroy(s->dev);
	nym_x25519_keypair_clear(&s->key);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int gateway_wg_service_handle(struct gateway_wg_service *s, const struct link_msg *req, struct link_msg *resp)
{
	pthread_mutex_lock(&s->lock);
	int rc = gateway_wg_handle(s->engine, req, nym_clock_unix_now(), resp);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void gateway_wg_service_stats(struct gateway_wg_service *s, struct gateway_wg_stats *st,
			      struct gateway_wg_counters *c)
{
	pthread_mutex_lock(&s->lock);
	gateway_wg_stats(s->engine, nym_clock_unix_now(), st);
	gateway_wg_counters(s->engine, c);
	pthread_mutex_unlock(&s->lock);
}
