#include "nodectl/gateway/gateway_service.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "awg/awg_genl.h"
#include "cred/issuer_keyset.h"
#include "credstore/ticket_store.h"
#include "crypto/secret.h"
#include "gateway/gateway_clients.h"
#include "gateway/gateway_final.h"
#include "gateway/gateway_link.h"
#include "gateway/gateway_outbox.h"
#include "gateway/gateway_tickets.h"
#include "io/conn_limit.h"
#include "io/sock.h"
#include "io/uring_loop.h"
#include "mix/mix_node_addr.h"
#include "nodectl/gateway/gateway_authorities.h"
#include "nodectl/gateway/gateway_ipr.h"
#include "nodectl/gateway/gateway_plane.h"
#include "nodectl/gateway/gateway_wg_service.h"
#include "nodectl/mixnode/mix_worker.h"
#include "nodectl/node/node_amnezia.h"
#include "nodectl/node/node_directory.h"
#include "nodectl/node/node_keys.h"
#include "nodectl/node/node_metrics.h"
#include "util/clock.h"
#include "util/log.h"

#define RING_ENTRIES 1024
#define RBUF_LEN 16384
#define ID_BUCKETS 1024
#define HOUSEKEEPING_NS (1000 * NYM_NS_PER_MS)
#define BALANCE_SAVE_NS (10 * NYM_NS_PER_SEC)
#define PURGE_NS (60 * NYM_NS_PER_SEC)
#define HTTP_TIMEOUT_MS 5000
#define INBOX_BATCH 64 /* stored messages handed over per pass */

struct gw_conn {
	struct gateway_service *g;
	struct gw_conn *prev, *next;
	struct gw_conn *id_next; /* in g->by_id once authenticated */
	int fd;
	int ops;
	bool closing, sending, registered, handshake_taken;
	bool inbox_pending; /* stored messages may wait: hand them over before new ones */
	bool quota_blocked; /* ... but the balance is 0 */
	uint32_t addr_slot;
	uint8_t identity[32];
	struct conn_limit_timer timer;
	struct uring_loop_op recv_op, send_op;
	struct gateway_link link;
	uint8_t rbuf[RBUF_LEN];
};

struct gateway_service {
	const char *context;
	const struct node_config *cfg;
	enum node_mode mode;
	char node_dir[NODE_DIR_MAX], data_dir[NODE_PATH_MAX];
	struct nym_ed25519_keypair identity;
	struct nym_x25519_keypair noise;
	struct worker_metrics *m;
	struct mix_shared *mix;
	struct gateway_plane *plane;

	/* The authorities, as the ticket engine reaches them. */
	const char *urls[NODE_DIRECTORY_AUTHORITIES_MAX];
	struct gateway_authorities ga;
	struct gateway_tickets_authorities auth;

	/* Tickets: the store and the issuer keys, shared with the tickets thread under tlock. */
	pthread_mutex_t tlock;
	pthread_cond_t tcond;
	struct nym_ticket_store *store;
	struct nym_issuer_keyset *keys;
	pthread_t tickets_thread;
	bool tickets_started, tickets_stop, report_due;

	/* The service thread. */
	pthread_t thread;
	bool started;
	_Atomic bool stopping;
	int start_rc;
	pthread_barrier_t ready;
	struct uring_loop loop;
	int listen_fd;
	struct uring_loop_op accept_op, final_op;
	uint64_t final_value;
	struct conn_limit limits;
	struct conn_limit_timeouts timeouts;
	struct gw_conn *conns;
	size_t nconns;
	struct gw_conn *by_id[ID_BUCKETS];
	struct gateway_link_counters lc;
	uint8_t scratch[NOISE_MAX_PLAINTEXT_LEN];
	struct gateway_clients *clients;
	struct gateway_final final;
	struct gateway_ipr *ipr;
	struct gateway_wg_service *wg; /* wireguard.enabled */
	uint64_t next_housekeeping_ns, next_balance_save_ns, next_purge_ns;
	uint64_t inbox_stored, inbox_dropped, inbox_delivered, inbox_purged;
};

/* ---- identities of connected clients ---- */

static size_t bucket(const uint8_t id[32])
{
	return ((size_t)id[0] | (size_t)id[1] << 8) % ID_BUCKETS;
}

static struct gw_conn *find_client(struct gateway_service *g, const uint8_t id[32])
{
	for (struct gw_conn *c = g->by_id[bucket(id)]; c; c = c->id_next)
		if (memcmp(c->identity, id, 32) == 0)
			return c;
	return NULL;
}

static void unregister(struct gw_conn *c)
{
	if (!c->registered)
		return;
	struct gw_conn **pp = &c->g->by_id[bucket(c->identity)];
	while (*pp && *pp != c)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = c->id_next;
	c->registered = false;
}

static void save_balance(struct gw_conn *c)
{
	if (!c->registered || !c->link.balance_dirty)
		return;
	int rc = gateway_clients_balance_set(c->g->clients, c->identity, c->link.balance, nym_clock_unix_now());
	if (rc)
		log_ratelimited(NYM_LOG_WARN, "gateway: cannot save a client's balance: %s", strerror(-rc));
	else
		c->link.balance_dirty = false;
}

/* ---- connections ---- */

static void arm_recv(struct gw_conn *c);
static void flush(struct gw_conn *c);

static void conn_finalize(struct gw_conn *c)
{
	struct gateway_service *g = c->g;
	close(c->fd);
	gateway_link_free(&c->link);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->nconns--;
	METRIC_SET(g->m, gateway_clients, g->nconns);
	conn_limit_release(&g->limits, c->addr_slot);
	free(c);
}

static void conn_close(struct gw_conn *c)
{
	if (!c->closing) {
		save_balance(c);
		unregister(c);
		c->closing = true;
		shutdown(c->fd, SHUT_RDWR);
	}
	if (c->ops == 0)
		conn_finalize(c);
}

static void drain_inbox_pass(struct gw_conn *c);

/* Hands stored messages to the link, oldest first, deleting each once it is in the output. */
static void drain_inbox(struct gw_conn *c)
{
	struct gateway_service *g = c->g;
	bool txn = gateway_clients_begin(g->clients) == 0; /* one sync for the pass's deletions */
	drain_inbox_pass(c);
	if (txn && gateway_clients_commit(g->clients) != 0)
		log_ratelimited(NYM_LOG_WARN, "gateway: cannot commit the inbox deliveries");
}

static void drain_inbox_pass(struct gw_conn *c)
{
	struct gateway_service *g = c->g;
	static struct gateway_inbox_item it;
	for (int i = 0; i < INBOX_BATCH; i++) {
		int rc = gateway_clients_inbox_next(g->clients, c->identity, 0, &it);
		if (rc == -ENOENT) {
			c->inbox_pending = false;
			return;
		}
		if (rc) {
			log_ratelimited(NYM_LOG_WARN, "gateway: cannot read the inbox: %s", strerror(-rc));
			return;
		}
		rc = gateway_link_deliver(&c->link, it.size, it.item, it.len);
		if (rc == -ENOBUFS)
			return; /* again when the output drains */
		if (rc == -EDQUOT) {
			c->quota_blocked = true; /* again after a ticket */
			return;
		}
		if (rc == -ENOTCONN)
			return;
		if (rc == 0)
			g->inbox_delivered++;
		gateway_clients_inbox_delete(g->clients, it.id); /* also a stored item that cannot be sent */
	}
}

static void after_io(struct gw_conn *c)
{
	if (c->closing)
		return;
	if (c->inbox_pending && !c->quota_blocked && gateway_link_authenticated(&c->link))
		drain_inbox(c);
	flush(c);
}

static void on_send(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct gw_conn *c = container_of(op, struct gw_conn, send_op);
	c->ops--;
	c->sending = false;
	if (c->closing) {
		if (c->ops == 0)
			conn_finalize(c);
		return;
	}
	if (res <= 0) {
		conn_close(c);
		return;
	}
	gateway_link_written(&c->link, (size_t)res);
	after_io(c);
}

static void flush(struct gw_conn *c)
{
	const uint8_t *out;
	if (c->sending || c->closing)
		return;
	size_t n = gateway_link_output(&c->link, &out);
	if (n) {
		struct io_uring_sqe *sqe = uring_loop_sqe(&c->g->loop, &c->send_op);
		io_uring_prep_send(sqe, c->fd, out, n, MSG_NOSIGNAL);
		c->sending = true;
		c->ops++;
		return;
	}
	if (gateway_link_closing(&c->link))
		conn_close(c);
}

static void on_recv(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct gw_conn *c = container_of(op, struct gw_conn, recv_op);
	struct gateway_service *g = c->g;
	c->ops--;
	if (c->closing || res <= 0) {
		conn_close(c);
		return;
	}
	if (!c->handshake_taken) {
		/* Before any X25519: the first message alone makes the responder compute one. */
		c->handshake_taken = true;
		if (!conn_limit_take_handshake(&g->limits, c->addr_slot, g->loop.now_ns)) {
			METRIC_INC(g->m, gateway_clients_refused);
			log_ratelimited(NYM_LOG_INFO, "gateway: closing a client link from an address over its handshake budget");
			conn_close(c);
			return;
		}
	}
	uint64_t frames = c->link.frames_in;
	int rc = gateway_link_feed(&c->link, c->rbuf, (size_t)res, (uint64_t)nym_clock_unix_now());
	if (c->link.frames_in != frames)
		conn_limit_timer_frame(&c->timer, g->loop.now_ns);
	if (rc)
		log_ratelimited(NYM_LOG_INFO, "gateway: ending a client link: %s", strerror(-rc));
	/* Re-armed first: after_io may close the connection, and frees it when nothing is in
	 * flight, so c must not be touched after it. */
	if (!gateway_link_closing(&c->link))
		arm_recv(c);
	after_io(c);
}

static void arm_recv(struct gw_conn *c)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&c->g->loop, &c->recv_op);
	io_uring_prep_recv(sqe, c->fd, c->rbuf, sizeof(c->rbuf), 0);
	c->ops++;
}

/* ---- the link's hooks ---- */

static int hook_authenticated(void *ctx, const uint8_t identity[32], uint64_t *balance)
{
	struct gw_conn *c = ctx;
	struct gateway_service *g = c->g;
	struct gw_conn *old = find_client(g, identity);
	if (old && old != c) {
		/* The newest link of an identity wins; the older one's balance is saved first. */
		save_balance(old);
		unregister(old);
		gateway_link_close(&old->link, 0, NULL);
		flush(old);
	}
	int rc = gateway_clients_balance_get(g->clients, identity, balance);
	if (rc)
		return rc;
	memcpy(c->identity, identity, 32);
	c->id_next = g->by_id[bucket(identity)];
	g->by_id[bucket(identity)] = c;
	c->registered = true;
	c->inbox_pending = true;
	c->quota_blocked = false;
	return 0;
}

static int hook_spend(void *ctx, const uint8_t *ticket, size_t len, uint64_t *granted)
{
	struct gw_conn *c = ctx;
	struct gateway_service *g = c->g;
	struct nym_ticket_msg msg;
	int rc;
	pthread_mutex_lock(&g->tlock);
	/* The spend and the credit to the stored balance, crash-safe (gateway_clients.h); the
	 * link adds the same bytes to its balance and saves it. */
	if (!g->keys || !g->store)
		rc = -EAGAIN; /* no issuer keys yet: not the client's fault */
	else
		rc = gateway_clients_spend_ticket(g->clients, g->store, g->keys, ticket, len, nym_clock_unix_now(),
						  1u << NYM_TICKET_MIXNET_ENTRY, c->identity,
						  g->cfg->gateway.bandwidth_per_ticket, NULL, &msg);
	if (rc == 0) {
		g->report_due = true;
		pthread_cond_signal(&g->tcond);
	}
	pthread_mutex_unlock(&g->tlock);
	if (rc == 0) {
		*granted = g->cfg->gateway.bandwidth_per_ticket;
		c->quota_blocked = false;
	} else {
		log_ratelimited(NYM_LOG_INFO, "gateway: ticket refused: %s", nym_ticket_store_refusal_text(rc));
	}
	return rc;
}

static int hook_balance_saved(void *ctx, const uint8_t identity[32], uint64_t balance)
{
	struct gw_conn *c = ctx;
	return gateway_clients_balance_set(c->g->clients, identity, balance, nym_clock_unix_now());
}

static int hook_forward(void *ctx, enum mix_packet_size size, const struct link_send_entry *e)
{
	struct gw_conn *c = ctx;
	struct net_addr hop;
	size_t consumed;
	if (mix_node_addr_decode(e->first_hop, MIX_NODE_ADDR_MAX_UNPADDED_LEN, &hop.ss, &hop.len, &consumed))
		return -EINVAL;
	return gateway_plane_inject(c->g->plane, &hop, e->key_rotation, size, e->packet, e->packet_len);
}

static int hook_wg(void *ctx, const struct link_msg *req, struct link_msg *resp)
{
	struct gw_conn *c = ctx;
	return gateway_wg_service_handle(c->g->wg, req, resp);
}

/* The WireGuard engine's ticket hook (from either of its callers' threads, with its own
 * database connection): the same ticket store and issuer keys as the links' tickets. */
static int wg_spend(void *ctx, struct gateway_clients *db, const uint8_t *ticket, size_t len,
		    enum nym_ticket_type type, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes,
		    uint64_t *balance)
{
	struct gateway_service *g = ctx;
	struct nym_ticket_msg msg;
	int rc;
	pthread_mutex_lock(&g->tlock);
	if (!g->keys || !g->store)
		rc = -EAGAIN;
	else
		rc = gateway_clients_spend_ticket(db, g->store, g->keys, ticket, len, nym_clock_unix_now(), 1u << type,
						  id, bytes, balance, &msg);
	if (rc == 0) {
		g->report_due = true;
		pthread_cond_signal(&g->tcond);
	}
	pthread_mutex_unlock(&g->tlock);
	if (rc)
		log_ratelimited(NYM_LOG_INFO, "wireguard: ticket refused: %s", nym_ticket_store_refusal_text(rc));
	return rc;
}

/* ---- accepting ---- */

static void adopt(struct gateway_service *g, int fd, uint32_t addr_slot)
{
	struct gw_conn *c = NULL;
	if (g->nconns >= g->cfg->gateway.max_clients) {
		METRIC_INC(g->m, gateway_clients_refused);
		log_ratelimited(NYM_LOG_WARN, "gateway: gateway.max_clients reached, refusing a client link");
	} else {
		c = malloc(sizeof(*c));
	}
	if (c) {
		memset(c, 0, offsetof(struct gw_conn, link));
		c->g = g;
		struct gateway_link_config lcfg = { .counters = &g->lc, .scratch = g->scratch };
		struct gateway_link_hooks hooks = { c, hook_authenticated, hook_spend, hook_balance_saved, hook_forward,
						    g->wg ? hook_wg : NULL };
		if (gateway_link_init(&c->link, &g->noise, &lcfg, &hooks)) {
			free(c);
			c = NULL;
		}
	}
	if (!c) {
		conn_limit_release(&g->limits, addr_slot);
		close(fd);
		return;
	}
	c->fd = fd;
	c->addr_slot = addr_slot;
	c->recv_op.cb = on_recv;
	c->send_op.cb = on_send;
	conn_limit_timer_start(&c->timer, g->loop.now_ns);
	sock_tcp_tune(fd);
	c->next = g->conns;
	if (g->conns)
		g->conns->prev = c;
	g->conns = c;
	g->nconns++;
	METRIC_SET(g->m, gateway_clients, g->nconns);
	arm_recv(c);
}

static void arm_accept(struct gateway_service *g)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&g->loop, &g->accept_op);
	io_uring_prep_multishot_accept(sqe, g->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static void on_accept(struct uring_loop_op *op, int res, uint32_t flags)
{
	struct gateway_service *g = container_of(op, struct gateway_service, accept_op);
	if (atomic_load(&g->stopping)) {
		if (res >= 0)
			close(res);
		return;
	}
	if (!(flags & IORING_CQE_F_MORE))
		arm_accept(g);
	if (res < 0) {
		if (res != -ECANCELED)
			log_ratelimited(NYM_LOG_WARN, "gateway: accept failed: %s", strerror(-res));
		return;
	}
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	uint32_t slot;
	if (getpeername(res, (struct sockaddr *)&peer, &len) != 0 ||
	    conn_limit_admit(&g->limits, (struct sockaddr *)&peer, g->loop.now_ns, &slot) != 0) {
		METRIC_INC(g->m, gateway_clients_refused);
		log_ratelimited(NYM_LOG_INFO, "gateway: refusing a client link over its address's limit");
		close(res);
		return;
	}
	adopt(g, res, slot);
}

/* ---- final hops ---- */

static int final_inject(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
			const uint8_t *packet, size_t len)
{
	struct gateway_service *g = ctx;
	return gateway_plane_inject(g->plane, next_hop, key_rotation, size, packet, len);
}

static void final_ipr(void *ctx, enum mix_packet_size size, const uint8_t *item, size_t len)
{
	struct gateway_service *g = ctx;
	gateway_ipr_deliver(g->ipr, size, item, len);
}

static int final_client(void *ctx, const uint8_t identity[32], enum mix_packet_size size, const uint8_t *item,
			size_t len)
{
	struct gateway_service *g = ctx;
	struct gw_conn *c = find_client(g, identity);
	if (!c || c->closing || !gateway_link_authenticated(&c->link))
		return -ENOENT;
	if (c->inbox_pending)
		return -EBUSY; /* older messages first */
	int rc = gateway_link_deliver(&c->link, size, item, len);
	if (rc == 0)
		flush(c);
	else if (rc == -ENOBUFS || rc == -EDQUOT)
		c->inbox_pending = true, c->quota_blocked = rc == -EDQUOT;
	return rc;
}

static int final_inbox(void *ctx, const uint8_t identity[32], enum mix_packet_size size, const uint8_t *item,
		       size_t len)
{
	struct gateway_service *g = ctx;
	if (memcmp(identity, g->identity.public_key, 32) == 0) {
		/* For this gateway's own router, which is not running: nobody would collect it. */
		g->inbox_dropped++;
		return -ENOENT;
	}
	int rc = gateway_clients_inbox_put(g->clients, identity, size, item, len, nym_clock_unix_now());
	if (rc == 0)
		g->inbox_stored++;
	else
		g->inbox_dropped++;
	return rc;
}

static void arm_final(struct gateway_service *g)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&g->loop, &g->final_op);
	io_uring_prep_read(sqe, gateway_plane_final_fd(g->plane), &g->final_value, sizeof(g->final_value), 0);
}

static void on_final(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct gateway_service *g = container_of(op, struct gateway_service, final_op);
	struct gateway_plane_final *f = gateway_plane_take_final(g->plane);
	/* One commit for the batch: inbox writes would otherwise sync one by one. */
	bool txn = f && f->next && gateway_clients_begin(g->clients) == 0;
	while (f) {
		struct gateway_plane_final *next = f->next;
		gateway_final_handle(&g->final, f->size, f->destination, f->key_rotation, f->msg, f->len);
		free(f);
		f = next;
	}
	if (txn && gateway_clients_commit(g->clients) != 0)
		log_ratelimited(NYM_LOG_WARN, "gateway: cannot commit a batch of inbox messages");
	if (!atomic_load(&g->stopping))
		arm_final(g);
}

/* ---- housekeeping ---- */

static void publish_metrics(struct gateway_service *g)
{
	struct worker_metrics *m = g->m;
	const struct gateway_link_counters *l = &g->lc;
	const struct gateway_final_counters *f = &g->final.counters;
	METRIC_SET(m, gateway_acks_sent, f->acks_sent);
	METRIC_SET(m, gateway_final_malformed, f->malformed);
	METRIC_SET(m, gateway_delivered_client, f->to_client);
	METRIC_SET(m, gateway_delivered_ipr, f->to_ipr);
	METRIC_SET(m, gateway_inbox_stored, g->inbox_stored);
	METRIC_SET(m, gateway_inbox_dropped, g->inbox_dropped);
	METRIC_SET(m, gateway_inbox_delivered, g->inbox_delivered);
	METRIC_SET(m, gateway_inbox_purged, g->inbox_purged);
	METRIC_SET(m, gateway_link_handshakes, l->handshakes);
	METRIC_SET(m, gateway_link_noise_failures, l->noise_failures);
	METRIC_SET(m, gateway_link_protocol_errors, l->protocol_errors);
	METRIC_SET(m, gateway_link_out_of_order, l->out_of_order);
	METRIC_SET(m, gateway_link_unauthenticated, l->unauthenticated);
	METRIC_SET(m, gateway_link_version_refused, l->version_refused);
	METRIC_SET(m, gateway_link_auth_ok, l->auth_ok);
	METRIC_SET(m, gateway_link_auth_failed, l->auth_failed);
	METRIC_SET(m, gateway_link_clock_skew, l->clock_skew);
	METRIC_SET(m, gateway_tickets_accepted, l->tickets_accepted);
	METRIC_SET(m, gateway_tickets_malformed, l->tickets_malformed);
	METRIC_SET(m, gateway_tickets_rejected, l->tickets_rejected);
	METRIC_SET(m, gateway_tickets_spent, l->tickets_spent);
	METRIC_SET(m, gateway_tickets_failed, l->tickets_failed);
	METRIC_SET(m, gateway_tickets_too_many, l->tickets_too_many);
	METRIC_SET(m, gateway_send_packets, l->send_packets);
	METRIC_SET(m, gateway_send_no_bandwidth, l->send_no_bandwidth);
	METRIC_SET(m, gateway_send_bad_packet, l->send_bad_packet);
	METRIC_SET(m, gateway_low_balance_sent, l->low_balance_sent);
	METRIC_SET(m, gateway_exhausted_sent, l->exhausted_sent);
	METRIC_SET(m, gateway_bytes_metered, l->bytes_metered);
	if (g->wg) {
		struct gateway_wg_stats ws;
		struct gateway_wg_counters wc;
		gateway_wg_service_stats(g->wg, &ws, &wc);
		METRIC_SET(m, wireguard_bytes_rx, ws.bytes_rx);
		METRIC_SET(m, wireguard_bytes_tx, ws.bytes_tx);
		METRIC_SET(m, wireguard_total_peers, ws.total_peers);
		METRIC_SET(m, wireguard_active_peers, ws.active_peers);
		METRIC_SET(m, wireguard_registrations, wc.registrations);
		METRIC_SET(m, wireguard_refused, wc.bad_mac + wc.not_pending + wc.no_address + wc.bad_key +
							 wc.tickets_wrong_type + wc.tickets_refused +
							 wc.tickets_spent_before + wc.spend_failed + wc.no_bandwidth);
		METRIC_SET(m, wireguard_removed_no_bandwidth, wc.removed_no_bandwidth);
		METRIC_SET(m, wireguard_meta_outside, wc.meta_outside);
	}
	if (g->ipr) {
		struct gateway_ipr_stats st;
		uint64_t dropped = 0;
		gateway_ipr_get_stats(g->ipr, &st, &dropped);
		METRIC_SET(m, ipr_clients, st.clients);
		METRIC_SET(m, ipr_messages, st.messages);
		METRIC_SET(m, ipr_messages_malformed, st.items_malformed + st.messages_malformed + st.version_mismatch);
		METRIC_SET(m, ipr_unknown_client, st.unknown_client);
		METRIC_SET(m, ipr_bundles_malformed, st.bundles_malformed);
		METRIC_SET(m, ipr_packets_refused, st.packets_malformed + st.packets_spoofed + st.packets_refused);
		METRIC_SET(m, ipr_packets_to_tun, st.packets_to_tun);
		METRIC_SET(m, ipr_tun_packets, st.tun_packets);
		METRIC_SET(m, ipr_responses, st.responses);
		METRIC_SET(m, ipr_data_bundles, st.data_bundles);
		METRIC_SET(m, ipr_reply_packets, st.reply_packets);
		METRIC_SET(m, ipr_responses_dropped, st.responses_dropped);
		METRIC_SET(m, ipr_surbs_expired, st.surbs_expired);
		METRIC_SET(m, ipr_deliver_dropped, dropped);
	}
}

static void housekeeping(struct gateway_service *g)
{
	uint64_t now = g->loop.now_ns;
	for (struct gw_conn *c = g->conns, *next; c; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		switch (conn_limit_timer_check(&c->timer, &g->timeouts, now)) {
		case CONN_LIMIT_LIVE:
			continue;
		case CONN_LIMIT_NO_FIRST_FRAME:
			METRIC_INC(g->m, gateway_link_first_frame_timeouts);
			break;
		case CONN_LIMIT_IDLE:
			METRIC_INC(g->m, gateway_link_idle_closed);
			break;
		}
		conn_close(c);
	}
	if (now >= g->next_balance_save_ns) {
		bool txn = g->conns && gateway_clients_begin(g->clients) == 0;
		for (struct gw_conn *c = g->conns; c; c = c->next)
			save_balance(c);
		if (txn && gateway_clients_commit(g->clients) != 0)
			log_ratelimited(NYM_LOG_WARN, "gateway: cannot commit the balances");
		g->next_balance_save_ns = now + BALANCE_SAVE_NS;
	}
	if (now >= g->next_purge_ns) {
		uint64_t purged = 0;
		gateway_clients_inbox_purge(g->clients, nym_clock_unix_now(), &purged);
		gateway_clients_credit_prune(g->clients, nym_clock_unix_now());
		g->inbox_purged += purged;
		g->next_purge_ns = now + PURGE_NS;
	}
	publish_metrics(g);
	g->next_housekeeping_ns = now + HOUSEKEEPING_NS;
}

/* ---- the tickets thread: issuer keys, spent filter, reports ---- */

/* Returns whether the authorities gave the issuer keys this time. */
static bool refresh_tickets(struct gateway_service *g)
{
	int64_t now = nym_clock_unix_now();
	struct nym_issuer_keyset *ks = malloc(sizeof(*ks));
	bool got = ks && gateway_tickets_gather_keys(&g->auth, now, ks) == 0;
	if (got) {
		pthread_mutex_lock(&g->tlock);
		struct nym_issuer_keyset *old = g->keys;
		g->keys = ks;
		pthread_mutex_unlock(&g->tlock);
		ks = old;
	} else {
		log_ratelimited(NYM_LOG_WARN, "gateway: no authority gave its issuer keys");
	}
	if (ks) {
		nym_issuer_keyset_clear(ks);
		free(ks);
	}
	/* The filter is fetched without the lock; only loading it holds the store. */
	for (size_t i = 0; i < g->auth.count; i++) {
		uint8_t *data = NULL;
		size_t len;
		int64_t created;
		char err[GATEWAY_TICKETS_ERR_MAX];
		if (g->auth.spent_filter(g->auth.ctx, i, now, &data, &len, &created, err, sizeof(err)) != 0)
			continue;
		pthread_mutex_lock(&g->tlock);
		int rc = nym_ticket_store_set_filter(g->store, data, len, now);
		pthread_mutex_unlock(&g->tlock);
		free(data);
		if (rc == 0)
			break;
	}
	return got;
}

static void *tickets_main(void *arg)
{
	struct gateway_service *g = arg;
	char path[NODE_PATH_MAX + 32];
	struct nym_ticket_store *reports = NULL;
	struct gateway_outbox outbox;
	bool have_outbox = false;
	pthread_setname_np(pthread_self(), "gw-tickets");
	snprintf(path, sizeof(path), "%s/tickets.db", g->data_dir);
	if (g->auth.count && nym_ticket_store_open(&reports, path) == 0 &&
	    gateway_outbox_init(&outbox, &g->auth, 0, 0) == 0)
		have_outbox = true;
	uint64_t refresh_ms = g->cfg->gateway.spent_filter_refresh_ns / NYM_NS_PER_MS, next_refresh = 0, next_report = 0;
	/* Without issuer keys every ticket is refused: ask again soon (1 s, doubling) rather
	 * than at the next refresh (a gateway started before its authorities have a topology). */
	uint64_t retry_ms = 1000;
	pthread_mutex_lock(&g->tlock);
	while (!g->tickets_stop) {
		uint64_t now_ms = nym_clock_now_ns() / NYM_NS_PER_MS;
		bool due = g->report_due;
		g->report_due = false;
		pthread_mutex_unlock(&g->tlock);
		if (g->auth.count && now_ms >= next_refresh) {
			if (refresh_tickets(g)) {
				next_refresh = now_ms + refresh_ms;
				retry_ms = 1000;
			} else {
				if (retry_ms > refresh_ms)
					retry_ms = refresh_ms;
				next_refresh = now_ms + retry_ms;
				retry_ms *= 2;
			}
		}
		if (have_outbox && (due || now_ms >= next_report)) {
			uint64_t next_ms = 0;
			int rc = gateway_outbox_flush(&outbox, reports, &g->identity, nym_clock_unix_now(), now_ms, &next_ms);
			next_report = rc == -EAGAIN ? next_ms : now_ms + refresh_ms;
		}
		uint64_t wake = next_refresh;
		if (have_outbox && next_report < wake)
			wake = next_report;
		if (!g->auth.count)
			wake = now_ms + 60000;
		pthread_mutex_lock(&g->tlock);
		if (g->tickets_stop || g->report_due)
			continue;
		uint64_t wall = (uint64_t)nym_clock_unix_now_ms() + (wake > now_ms ? wake - now_ms : 1);
		struct timespec ts = { (time_t)(wall / 1000), (long)(wall % 1000) * 1000000 };
		pthread_cond_timedwait(&g->tcond, &g->tlock, &ts);
	}
	pthread_mutex_unlock(&g->tlock);
	nym_ticket_store_close(reports);
	return NULL;
}

/* ---- the service thread ---- */

static void close_all(struct gateway_service *g)
{
	while (g->conns) {
		struct gw_conn *c = g->conns;
		save_balance(c);
		unregister(c);
		conn_finalize(c);
	}
}

static void *service_main(void *arg)
{
	struct gateway_service *g = arg;
	pthread_setname_np(pthread_self(), "gateway");
	int rc = uring_loop_init(&g->loop, RING_ENTRIES);
	if (rc == 0)
		rc = uring_loop_enable(&g->loop);
	g->start_rc = rc;
	pthread_barrier_wait(&g->ready);
	if (rc)
		return NULL;
	g->accept_op.cb = on_accept;
	g->final_op.cb = on_final;
	g->loop.now_ns = nym_clock_now_ns();
	g->next_housekeeping_ns = g->loop.now_ns + HOUSEKEEPING_NS;
	g->next_balance_save_ns = g->loop.now_ns + BALANCE_SAVE_NS;
	g->next_purge_ns = g->loop.now_ns;
	arm_accept(g);
	arm_final(g);
	uint64_t busy_until = 0;
	while (!atomic_load(&g->stopping)) {
		if (g->loop.now_ns >= g->next_housekeeping_ns)
			housekeeping(g);
		uint64_t timeout = g->next_housekeeping_ns > g->loop.now_ns ? g->next_housekeeping_ns - g->loop.now_ns : 1;
		/* Busy polling as the mix workers do (mixnet.busy_poll): a packet for or from a client
		 * soon after the last one is not delayed by waking the CPU. */
		if (g->loop.now_ns < busy_until)
			timeout = 0;
		rc = uring_loop_run_once(&g->loop, timeout);
		if (rc < 0) {
			log_error("gateway: io_uring failed: %s", strerror(-rc));
			break;
		}
		if (rc > 0 && g->cfg->mixnet.busy_poll_ns)
			busy_until = nym_clock_now_ns() + g->cfg->mixnet.busy_poll_ns;
	}
	uring_loop_fini(&g->loop);
	close_all(g);
	publish_metrics(g);
	return NULL;
}

/* ---- lifecycle ---- */

static int ipr_inject(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
		      const uint8_t *packet, size_t len)
{
	return gateway_plane_inject(ctx, next_hop, key_rotation, size, packet, len);
}

static int svc_attach(void *ctx, const struct mixnode_runtime *rt)
{
	struct gateway_service *g = ctx;
	char path[NODE_PATH_MAX + 32];
	int rc;
	g->cfg = rt->cfg;
	g->mix = rt->mix;
	node_mode_parse(rt->cfg->mode, &g->mode);
	snprintf(g->node_dir, sizeof(g->node_dir), "%s", rt->node_dir);
	snprintf(g->data_dir, sizeof(g->data_dir), "%s", rt->data_dir);
	g->identity = rt->keys->identity;
	g->noise = rt->keys->noise;
	g->m = &rt->metrics->per_worker[rt->mix->nworkers];
	g->listen_fd = -1;
	if ((rc = gateway_plane_create(&g->plane, g->cfg->gateway.final_queue, g->m)) != 0)
		return rc;
	/* The authorities the node announces to and takes the topology from. */
	const struct node_directory *d = rt->directory;
	for (size_t i = 0; i < d->nurls && i < NODE_DIRECTORY_AUTHORITIES_MAX; i++)
		g->urls[i] = d->urls[i];
	g->ga = (struct gateway_authorities){ g->context, g->urls, d->nurls, &d->trust, HTTP_TIMEOUT_MS };
	gateway_authorities_bind(&g->ga, &g->auth);
	if (g->auth.count > GATEWAY_OUTBOX_AUTHORITIES_MAX)
		g->auth.count = GATEWAY_OUTBOX_AUTHORITIES_MAX;
	snprintf(path, sizeof(path), "%s/tickets.db", g->data_dir);
	if ((rc = nym_ticket_store_open(&g->store, path)) != 0) {
		log_error("gateway: cannot open the ticket store %s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/clients.sqlite", g->data_dir);
	if ((rc = gateway_clients_open(&g->clients, path, g->cfg->gateway.inbox_max_messages,
				       g->cfg->gateway.inbox_max_age_ns / NYM_NS_PER_SEC)) != 0) {
		log_error("gateway: cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	/* Ticket credits a crash interrupted, settled before any link and before the store
	 * forgets expired serials (gateway_clients.h). */
	uint64_t applied = 0, dropped = 0;
	if ((rc = gateway_clients_credit_resolve(g->clients, g->store, nym_clock_unix_now(), &applied, &dropped)) !=
	    0) {
		log_error("gateway: cannot settle the pending ticket credits: %s", strerror(-rc));
		return rc;
	}
	if (applied || dropped)
		log_info("gateway: pending ticket credits after a crash: %" PRIu64 " applied, %" PRIu64 " dropped",
			 applied, dropped);
	nym_ticket_store_prune(g->store, nym_clock_unix_now());
	gateway_clients_credit_prune(g->clients, nym_clock_unix_now());
	struct net_addr addr;
	if (net_addr_parse(&addr, g->cfg->mixnet.bind_address, -1))
		return -EINVAL;
	net_addr_set_port(&addr, (int)g->cfg->gateway.clients_port);
	g->listen_fd = sock_tcp_listen(&addr, false, 1024);
	if (g->listen_fd < 0) {
		rc = g->listen_fd;
		char text[NET_ADDR_STR_LEN];
		net_addr_format((struct sockaddr *)&addr.ss, text);
		log_error("gateway: cannot listen for clients on %s: %s", text, strerror(-rc));
		return rc;
	}
	if ((rc = conn_limit_init(&g->limits, g->cfg->gateway.max_clients, (uint32_t)g->cfg->gateway.max_clients_per_address,
				  g->cfg->mixnet.handshakes_per_second, (uint32_t)g->cfg->mixnet.handshake_burst)) != 0)
		return rc;
	g->timeouts = (struct conn_limit_timeouts){ g->cfg->gateway.link_first_frame_timeout_ns,
						    g->cfg->gateway.link_idle_timeout_ns };
	gateway_plane_attach(g->plane, g->mix);
	return 0;
}

static int svc_start(void *ctx)
{
	struct gateway_service *g = ctx;
	int rc;
	if (g->mode == NODE_MODE_EXIT && g->cfg->exit_gateway.ip_packet_router.enabled) {
		struct gateway_ipr_hooks hooks = { g->plane, ipr_inject };
		rc = gateway_ipr_start(g->cfg, g->node_dir, &g->identity, &hooks, &g->ipr);
		if (rc) {
			/* The gateway still serves clients and the mixnet; its exit traffic waits for a
			 * working router (messages for it go to the inbox of its identity, capped). */
			log_error("gateway: cannot start the IP packet router (%s); running without it", strerror(-rc));
			g->ipr = NULL;
		}
	}
	if (g->cfg->wireguard.enabled && node_amnezia_on(g->cfg) && !awg_genl_available()) {
		/* Never announce (or half-apply) an AmneziaWG that is not there. */
		log_error("gateway: wireguard.amnezia is %s, but the nym_awg kernel module cannot be loaded "
			  "(modprobe nym_awg); refusing to start", g->cfg->wireguard.amnezia);
		return -ENOPKG;
	}
	if (g->cfg->wireguard.enabled) {
		rc = gateway_wg_service_start(&g->wg, g->cfg, g->mode, g->data_dir, wg_spend, g);
		if (rc && node_amnezia_on(g->cfg)) {
			log_error("gateway: the WireGuard service with AmneziaWG did not start; refusing to start");
			g->wg = NULL;
			return rc;
		}
		if (rc) {
			/* As the IPR: the gateway still serves its mixnet clients. */
			log_error("gateway: cannot start the WireGuard service (%s); running without it", strerror(-rc));
			g->wg = NULL;
		}
	}
	struct gateway_final_hooks fh = { g, final_inject, g->ipr ? final_ipr : NULL, final_client, final_inbox };
	gateway_final_init(&g->final, &fh, g->ipr ? g->identity.public_key : NULL);
	pthread_barrier_init(&g->ready, NULL, 2);
	if ((rc = pthread_create(&g->thread, NULL, service_main, g)) != 0) {
		pthread_barrier_destroy(&g->ready);
		return -rc;
	}
	pthread_barrier_wait(&g->ready);
	pthread_barrier_destroy(&g->ready);
	g->started = true;
	if (g->start_rc) {
		pthread_join(g->thread, NULL);
		g->started = false;
		return g->start_rc;
	}
	if ((rc = pthread_create(&g->tickets_thread, NULL, tickets_main, g)) != 0)
		return -rc;
	g->tickets_started = true;
	char text[NET_ADDR_STR_LEN];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	getsockname(g->listen_fd, (struct sockaddr *)&ss, &len);
	net_addr_format((struct sockaddr *)&ss, text);
	log_info("gateway: client links on %s%s%s", text, g->ipr ? ", IP packet router running" : "",
		 g->wg ? ", WireGuard running" : "");
	return 0;
}

static void svc_stop(void *ctx)
{
	struct gateway_service *g = ctx;
	if (g->started) {
		atomic_store(&g->stopping, true);
		uint64_t one = 1;
		if (write(gateway_plane_final_fd(g->plane), &one, sizeof(one)) < 0)
			log_warn("gateway: cannot wake the service thread");
		pthread_join(g->thread, NULL);
		g->started = false;
	}
	if (g->tickets_started) {
		pthread_mutex_lock(&g->tlock);
		g->tickets_stop = true;
		pthread_cond_signal(&g->tcond);
		pthread_mutex_unlock(&g->tlock);
		pthread_join(g->tickets_thread, NULL);
		g->tickets_started = false;
	}
	if (g->ipr) {
		gateway_ipr_stop(g->ipr);
		g->ipr = NULL;
	}
	if (g->wg) {
		publish_metrics(g);
		gateway_wg_service_stop(g->wg);
		g->wg = NULL;
	}
}

int gateway_service_create(struct gateway_service **out, const char *context)
{
	struct gateway_service *g = calloc(1, sizeof(*g));
	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->context = context;
	g->listen_fd = -1;
	pthread_mutex_init(&g->tlock, NULL);
	pthread_cond_init(&g->tcond, NULL);
	*out = g;
	return 0;
}

void gateway_service_free(struct gateway_service *g)
{
	if (!g)
		return;
	svc_stop(g);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->limits.entries)
		conn_limit_fini(&g->limits);
	gateway_clients_close(g->clients);
	nym_ticket_store_close(g->store);
	if (g->keys) {
		nym_issuer_keyset_clear(g->keys);
		free(g->keys);
	}
	gateway_plane_free(g->plane);
	nym_ed25519_keypair_clear(&g->identity);
	nym_x25519_keypair_clear(&g->noise);
	pthread_mutex_destroy(&g->tlock);
	pthread_cond_destroy(&g->tcond);
	free(g);
}

void gateway_service_bind(struct gateway_service *g, struct mixnode_service *out)
{
	*out = (struct mixnode_service){ g, svc_attach, svc_start, svc_stop };
}
