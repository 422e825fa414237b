#include "nodectl/gateway/gateway_ipr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "io/tun.h"
#include "ipr/ipr_addr.h"
#include "netlink/nl_link.h"
#include "policy/policy.h"
#include "util/file.h"
#include "util/log.h"

#define POLICY_FILE_MAX (16u << 20)
#define TUN_BATCH 64
#define TUN_READ_MAX 65536

struct ipr_item {
	struct ipr_item *next;
	enum mix_packet_size size;
	size_t len;
	uint8_t data[];
};

struct gateway_ipr {
	struct gateway_ipr_hooks hooks;
	struct gateway_ipr_engine *engine;
	int tun_fd, event_fd;
	char tun_name[IF_NAMESIZE];
	pthread_t thread;
	bool started;
	atomic_bool stopping;

	pthread_mutex_t lock; /* the delivery queue and the stats copy */
	struct ipr_item *head, *tail;
	size_t queued, queue_max;
	uint64_t deliver_dropped;
	struct gateway_ipr_stats stats;

	uint64_t tun_write_dropped;
	uint8_t *rx;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The mixnodes' Sphinx key schedule (sphinx.*) on the engine's monotonic clock: a rotation
 * starts at genesis + k * epoch_duration * epochs_per_rotation (wall clock), and the previous
 * key lives one epoch more. */
static void surb_schedule(const struct node_config *cfg, struct gateway_ipr_engine_config *ec)
{
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	uint64_t mono = now_ns(), period = cfg->sphinx.epoch_duration_ns * cfg->sphinx.epochs_per_rotation;
	uint64_t real = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec;
	uint64_t genesis = cfg->sphinx.genesis * 1000000000ull;
	if (!period || real < genesis)
		return; /* before genesis: rotation 1 lasts until then at least; no schedule */
	uint64_t into = (real - genesis) % period;
	if (into > mono)
		return;
	ec->rotation_ns = period;
	ec->rotation_origin_ns = mono - into;
	ec->overlap_ns = cfg->sphinx.epoch_duration_ns;
}

static int hook_tun_write(void *ctx, const uint8_t *packet, size_t len)
{
	struct gateway_ipr *g = ctx;
	ssize_t n = write(g->tun_fd, packet, len);
	if (n < 0)
		return -errno; /* EAGAIN: the kernel's queue is full, the packet is lost as on a link */
	return (size_t)n == len ? 0 : -EIO;
}

static int hook_inject(void *ctx, const struct net_addr *next_hop, enum mix_packet_size size, const uint8_t *packet,
		       size_t len)
{
	struct gateway_ipr *g = ctx;
	return g->hooks.inject(g->hooks.ctx, next_hop, 0, size, packet, len);
}

static void drain_items(struct gateway_ipr *g)
{
	pthread_mutex_lock(&g->lock);
	struct ipr_item *list = g->head;
	g->head = g->tail = NULL;
	g->queued = 0;
	pthread_mutex_unlock(&g->lock);
	uint64_t now = now_ns();
	while (list) {
		struct ipr_item *next = list->next;
		gateway_ipr_engine_item(g->engine, list->size, list->data, list->len, now);
		nym_memzero(list->data, list->len);
		free(list);
		list = next;
	}
}

/* Reads what the TUN device holds, up to TUN_BATCH packets. The packets of one batch for one
 * client share its bundle, and the zero-timeout bundles leave at the end of the batch (when
 * a read found nothing more, or after TUN_BATCH packets: no packet waits for the next poll). */
static void read_tun(struct gateway_ipr *g)
{
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(g->tun_fd, g->rx, TUN_READ_MAX);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				log_ratelimited(NYM_LOG_WARN, "ipr: reading %s: %s", g->tun_name, strerror(errno));
			break;
		}
		gateway_ipr_engine_tun(g->engine, g->rx, (size_t)n, now_ns());
	}
	gateway_ipr_engine_tun_drained(g->engine, now_ns());
}

static void *ipr_main(void *arg)
{
	struct gateway_ipr *g = arg;
	struct pollfd fds[2] = { { .fd = g->tun_fd, .events = POLLIN }, { .fd = g->event_fd, .events = POLLIN } };
	while (!atomic_load(&g->stopping)) {
		uint64_t now = now_ns(), due = gateway_ipr_engine_next_due(g->engine);
		int timeout = -1;
		if (due != UINT64_MAX)
			timeout = due <= now ? 0 : (int)((due - now + 999999) / 1000000 > 60000 ? 60000 : (due - now + 999999) / 1000000);
		int rc = poll(fds, 2, timeout);
		if (rc < 0 && errno != EINTR) {
			log_error("ipr: poll: %s", strerror(errno));
			break;
		}
		if (rc > 0 && (fds[1].revents & POLLIN)) {
			uint64_t v;
			if (read(g->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn("ipr: eventfd: %s", strerror(errno));
			drain_items(g);
		}
		if (rc > 0 && (fds[0].revents & POLLIN))
			read_tun(g);
		gateway_ipr_engine_tick(g->engine, now_ns());
		pthread_mutex_lock(&g->lock);
		gateway_ipr_engine_get_stats(g->engine, &g->stats);
		pthread_mutex_unlock(&g->lock);
	}
	return NULL;
}

static int setup_tun(struct gateway_ipr *g, const struct node_config *cfg)
{
	const char *name = cfg->exit_gateway.ip_packet_router.tun_name;
	int rc = tun_open(name, &g->tun_fd);
	if (rc) {
		log_error("ipr: cannot create the TUN device %s: %s", name, strerror(-rc));
		return rc;
	}
	if (tun_name(g->tun_fd, g->tun_name))
		snprintf(g->tun_name, sizeof(g->tun_name), "%.15s", name);
	struct ipr_addr_pair router;
	ipr_addr_tun(&router);
	rc = nl_link_addr_add(g->tun_name, AF_INET, router.v4, IPR_TUN_V4_PREFIX_LEN);
	if (rc && rc != -EEXIST) {
		log_error("ipr: cannot add 10.0.0.1/%d to %s: %s", IPR_TUN_V4_PREFIX_LEN, g->tun_name, strerror(-rc));
		return rc;
	}
	rc = nl_link_addr_add(g->tun_name, AF_INET6, router.v6, IPR_TUN_V6_PREFIX_LEN);
	if (rc && rc != -EEXIST)
		log_warn("ipr: cannot add fc00::1/%d to %s (IPv6 disabled?): %s; IPv6 clients get no route",
			 IPR_TUN_V6_PREFIX_LEN, g->tun_name, strerror(-rc));
	rc = nl_link_set_up(g->tun_name, (unsigned)cfg->exit_gateway.ip_packet_router.tun_mtu);
	if (rc) {
		log_error("ipr: cannot bring %s up: %s", g->tun_name, strerror(-rc));
		return rc;
	}
	return 0;
}

static int load_policy(const struct node_config *cfg, const char *node_dir, struct policy *p)
{
	const char *file = cfg->exit_gateway.ip_packet_router.policy_file;
	char path[NODE_PATH_MAX];
	if (file[0] == '/' || !node_dir)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", node_dir, file);
	uint8_t *text;
	size_t len;
	int rc = nym_file_read(path, POLICY_FILE_MAX, &text, &len);
	if (rc == -ENOENT) {
		/* Fail closed but keep the gateway serving: an empty policy refuses everything. */
		log_error("ipr: no exit policy at %s: every client packet is refused until it exists and the node "
			  "restarts (set exit_gateway.ip_packet_router.policy_file)", path);
		return policy_parse("", 0, p, &(struct policy_error){ 0 });
	}
	if (rc) {
		log_error("ipr: cannot read the exit policy %s: %s", path, strerror(-rc));
		return rc;
	}
	struct policy_error err;
	rc = policy_parse((const char *)text, len, p, &err);
	free(text);
	if (rc == -EINVAL)
		log_error("ipr: %s:%u:%u: %s", path, err.line, err.column, err.message);
	else if (rc)
		log_error("ipr: cannot parse the exit policy %s: %s", path, strerror(-rc));
	else
		log_info("ipr: exit policy %s: %zu entries", path, p->n_entries);
	return rc;
}

int gateway_ipr_start(const struct node_config *cfg, const char *node_dir, const struct nym_ed25519_keypair *identity,
		      const struct gateway_ipr_hooks *hooks, struct gateway_ipr **out)
{
	if (!cfg || !identity || !hooks || !hooks->inject || !out)
		return -EINVAL;
	*out = NULL;
	struct gateway_ipr *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->hooks = *hooks;
	g->tun_fd = g->event_fd = -1;
	g->queue_max = cfg->exit_gateway.ip_packet_router.deliver_queue;
	pthread_mutex_init(&g->lock, NULL);
	atomic_init(&g->stopping, false);
	int rc = -ENOMEM;
	if (!(g->rx = malloc(TUN_READ_MAX)))
		goto fail;
	struct policy p;
	if ((rc = load_policy(cfg, node_dir, &p)))
		goto fail;
	const typeof(cfg->exit_gateway.ip_packet_router) *c = &cfg->exit_gateway.ip_packet_router;
	struct gateway_ipr_engine_config ec;
	gateway_ipr_engine_config_default(&ec);
	ec.max_clients = c->max_clients;
	ec.max_surbs_per_client = c->max_surbs_per_client;
	ec.surb_low_water = c->surb_low_water;
	ec.surb_request_amount = (uint16_t)c->surb_request_amount;
	ec.client_idle_ns = c->client_idle_timeout_ns;
	ec.buffer_timeout_ns = c->buffer_timeout_ns;
	ec.fill_wait_ns = c->fill_wait_ns;
	ec.max_pending_responses = c->max_pending_responses;
	ec.surb_max_age_ns = c->surb_max_age_ns;
	surb_schedule(cfg, &ec);
	uint8_t secret[32];
	nym_ed25519_secret_to_x25519(identity, secret);
	struct gateway_ipr_engine_hooks eh = { g, hook_tun_write, hook_inject };
	rc = gateway_ipr_engine_new(&ec, secret, &p, &eh, NULL, &g->engine);
	nym_memzero(secret, sizeof(secret));
	policy_free(&p);
	if (rc) {
		log_error("ipr: cannot start the engine: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = setup_tun(g, cfg)))
		goto fail;
	g->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->event_fd < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = -pthread_create(&g->thread, NULL, ipr_main, g)))
		goto fail;
	g->started = true;
	log_info("ipr: IP packet router on %s (10.0.0.1/16, fc00::1/112, MTU %llu)", g->tun_name,
		 (unsigned long long)c->tun_mtu);
	*out = g;
	return 0;
fail:
	gateway_ipr_stop(g);
	return rc;
}

void gateway_ipr_deliver(struct gateway_ipr *g, enum mix_packet_size size, const uint8_t *item, size_t len)
{
	if (!g)
		return;
	struct ipr_item *it = malloc(sizeof(*it) + len);
	pthread_mutex_lock(&g->lock);
	if (!it || g->queued >= g->queue_max) {
		g->deliver_dropped++;
		pthread_mutex_unlock(&g->lock);
		free(it);
		return;
	}
	it->next = NULL;
	it->size = size;
	it->len = len;
	memcpy(it->data, item, len);
	if (g->tail)
		g->tail->next = it;
	else
		g->head = it;
	g->tail = it;
	bool wake = g->queued++ == 0;
	pthread_mutex_unlock(&g->lock);
	uint64_t one = 1;
	if (wake && write(g->event_fd, &one, sizeof(one)) < 0)
		log_ratelimited(NYM_LOG_WARN, "ipr: cannot wake the router thread: %s", strerror(errno));
}

void gateway_ipr_get_stats(struct gateway_ipr *g, struct gateway_ipr_stats *out, uint64_t *deliver_dropped)
{
	pthread_mutex_lock(&g->lock);
	*out = g->stats;
	if (deliver_dropped)
		*deliver_dropped = g->deliver_dropped;
	pthread_mutex_unlock(&g->lock);
}

void gateway_ipr_stop(struct gateway_ipr *g)
{
	if (!g)
		return;
	if (g->started) {
		atomic_store(&g->stopping, true);
		uint64_t one = 1;
		if (write(g->event_fd, &one, sizeof(one)) < 0)
			log_warn("ipr: cannot wake the router thread: %s", strerror(errno));
		pthread_join(g->thread, NULL);
	}
	while (g->head) {
		struct ipr_item *next = g->head->next;
		free(g->head);
		g->head = next;
	}
	gateway_ipr_engine_free(g->engine);
	if (g->tun_fd >= 0)
		close(g->tun_fd);
	if (g->event_fd >= 0)
		close(g->event_fd);
	pthread_mutex_destroy(&g->lock);
	free(g->rx);
	free(g);
}
