/* Egress: one connection per next hop per worker, created on the first packet for it.
 *
 * Packets wait in the peer's queue (bounded: mixnet.debug.maximum_connection_buffer_size)
 * until the connection is up, then are committed into the output buffer and written in one
 * send per round. Bytes once committed are part of the stream and are always sent (a
 * half-written frame would desynchronise the peer); only packets still waiting can be
 * dropped. A send that stalls past the write timeout is cancelled: the waiting packets are
 * dropped, the committed bytes retried; three timeouts in a row close the connection. A
 * failed connection attempt backs off (initial, doubling, up to the maximum) and packets
 * for that hop are dropped meanwhile, never hoarded.
 *
 * When the topology knows the next hop's Noise key (and mixnet.noise is on), the connection
 * runs Noise XKpsk3 as initiator first; handshake messages and then sealed data frames go
 * through the same output buffer, so "committed" covers encrypted bytes too (their nonces
 * are spent). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/sock.h"
#include "nodectl/mixnode/mix_worker.h"
#include "util/log.h"

static uint32_t addr_hash(const struct net_addr *a)
{
	const uint8_t *p = (const uint8_t *)&a->ss;
	uint32_t h = 2166136261u;
	for (socklen_t i = 0; i < a->len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void drop_queue(struct egress_peer *p)
{
	struct mix_worker *w = p->w;
	while (p->q_head) {
		struct packet_slot *s = p->q_head;
		p->q_head = s->next;
		mix_slot_free(w, s);
		METRIC_INC(w->m, egress_forward_dropped);
	}
	p->q_tail = NULL;
	w->pending_delivery -= p->q_len;
	p->q_len = 0;
}

static void mark_dirty(struct egress_peer *p)
{
	if (p->dirty)
		return;
	p->dirty = true;
	p->dirty_next = p->w->dirty;
	p->w->dirty = p;
}

/* Called when the last operation on a closing connection has completed. */
static void conn_finalize(struct egress_peer *p)
{
	struct mix_worker *w = p->w;
	close(p->fd);
	p->fd = -1;
	p->state = PEER_IDLE;
	p->send_in_flight = false;
	p->consecutive_timeouts = 0;
	if (p->olen > p->osent)
		METRIC_ADD(w->m, egress_forward_dropped, p->obuf_frames);
	p->olen = p->osent = p->obuf_frames = 0;
	free(p->obuf);
	p->obuf = NULL;
	if (p->noise) {
		noise_session_clear(p->noise);
		free(p->noise);
		p->noise = NULL;
	}
	METRIC_ADD(w->m, egress_connections, (uint64_t)-1);
	/* Waiting packets try a fresh connection (unless backing off). */
	if (p->q_len)
		mark_dirty(p);
}

static void conn_close(struct egress_peer *p)
{
	if (p->state != PEER_CLOSING) {
		p->state = PEER_CLOSING;
		shutdown(p->fd, SHUT_RDWR);
	}
	if (p->ops == 0)
		conn_finalize(p);
}

static void enter_backoff(struct egress_peer *p)
{
	struct mix_shared *sh = p->w->shared;
	p->backoff_ns = p->backoff_ns ? p->backoff_ns * 2 : sh->backoff_initial_ns;
	if (p->backoff_ns > sh->backoff_max_ns)
		p->backoff_ns = sh->backoff_max_ns;
	p->backoff_until_ns = p->w->loop.now_ns + p->backoff_ns;
	log_ratelimited(NYM_LOG_WARN, "mixnet: next hop %s unreachable, retrying in %llu s", p->name,
			(unsigned long long)(p->backoff_ns / 1000000000ull));
	drop_queue(p);
}

static void arm_recv(struct egress_peer *p);
static void start_send(struct egress_peer *p);

/* Begins Noise when the topology has the next hop's key, else goes straight to READY.
 * The first handshake message goes out through the output buffer. */
static int start_noise(struct egress_peer *p)
{
	struct mix_shared *sh = p->w->shared;
	const struct mixnode_peers *t = atomic_load_explicit(&sh->topology, memory_order_acquire);
	const struct mixnode_peer *node = mixnode_peers_find(t, (const struct sockaddr *)&p->addr.ss);
	if (!sh->cfg->mixnet.noise || !node || !node->has_noise_key) {
		p->state = PEER_READY;
		return 0;
	}
	size_t written;
	p->noise = malloc(sizeof(*p->noise));
	if (!p->noise || noise_session_init(p->noise, NOISE_INITIATOR, &sh->noise, node->noise_key, NULL) ||
	    noise_session_start(p->noise, p->obuf + p->olen, EGRESS_OBUF - p->olen, &written)) {
		METRIC_INC(p->w->m, noise_failures);
		return -EIO;
	}
	p->olen += written;
	p->state = PEER_HANDSHAKE;
	return 0;
}

/* Handshake replies from the responder; nothing else is expected from it. */
static int consume_noise(struct egress_peer *p, const uint8_t *data, size_t len)
{
	struct mix_worker *w = p->w;
	struct noise_session_event ev;
	int rc = noise_session_feed(p->noise, data, len);
	while (rc == 0 && (rc = noise_session_next(p->noise, w->noise_plain, sizeof(w->noise_plain), &ev)) == 0) {
		if (ev.send) {
			if (p->olen + ev.send_len > EGRESS_OBUF)
				return -ENOSPC;
			memcpy(p->obuf + p->olen, ev.send, ev.send_len);
			p->olen += ev.send_len;
		}
		if (ev.established) {
			p->state = PEER_READY;
			METRIC_INC(w->m, noise_handshakes);
			log_debug("mixnet: Noise session with %s established", p->name);
		}
	}
	return rc == -EAGAIN ? 0 : rc;
}

static void on_connect(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct egress_peer *p = container_of(op, struct egress_peer, connect_op);
	p->ops--;
	if (p->state == PEER_CLOSING) {
		conn_close(p);
		return;
	}
	if (res < 0) {
		METRIC_INC(p->w->m, egress_connect_failures);
		enter_backoff(p);
		conn_close(p);
		return;
	}
	p->backoff_ns = 0;
	p->last_send_ns = p->w->loop.now_ns;
	arm_recv(p);
	if (start_noise(p) != 0) {
		conn_close(p);
		return;
	}
	start_send(p);
}

/* Peers send nothing back except the Noise handshake reply; a read also tells us when they
 * hang up. */
static void on_recv(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct egress_peer *p = container_of(op, struct egress_peer, recv_op);
	p->ops--;
	if (p->state == PEER_CLOSING || res <= 0) {
		conn_close(p);
		return;
	}
	if (p->noise) {
		int rc = consume_noise(p, p->rbuf, (size_t)res);
		if (rc) {
			METRIC_INC(p->w->m, noise_failures);
			log_ratelimited(NYM_LOG_WARN, "mixnet: Noise with %s failed: %s", p->name, strerror(-rc));
			conn_close(p);
			return;
		}
		start_send(p);
		if (p->state == PEER_CLOSING)
			return;
	}
	arm_recv(p);
}

static void arm_recv(struct egress_peer *p)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&p->w->loop, &p->recv_op);
	io_uring_prep_recv(sqe, p->fd, p->rbuf, sizeof(p->rbuf), 0);
	p->ops++;
}

/* Moves waiting packets into the output buffer (sealed into Noise frames of up to 64 KiB on
 * a Noise connection); from here on they are part of the stream. */
static void commit(struct egress_peer *p)
{
	struct mix_worker *w = p->w;
	if (p->osent == p->olen)
		p->osent = p->olen = p->obuf_frames = 0;
	while (p->q_head) {
		uint8_t *dst = p->noise ? w->noise_plain : p->obuf + p->olen;
		size_t room = p->noise ? sizeof(w->noise_plain) : EGRESS_OBUF - p->olen, used = 0;
		while (p->noise && room && noise_session_sealed_len(room) > EGRESS_OBUF - p->olen)
			room = room > 4096 ? room - 4096 : 0;
		while (p->q_head && used + p->q_head->frame_len <= room) {
			struct packet_slot *s = p->q_head;
			p->q_head = s->next;
			if (!p->q_head)
				p->q_tail = NULL;
			p->q_len--;
			w->pending_delivery--;
			memcpy(dst + used, s->frame, s->frame_len);
			used += s->frame_len;
			p->obuf_frames++;
			METRIC_INC(w->m, egress_forward_sent);
			mix_slot_free(w, s);
		}
		if (!used)
			return; /* the output buffer is full */
		if (!p->noise) {
			p->olen += used;
			continue;
		}
		size_t written;
		int rc = noise_session_seal(p->noise, dst, used, p->obuf + p->olen, EGRESS_OBUF - p->olen, &written);
		if (rc) {
			log_ratelimited(NYM_LOG_WARN, "mixnet: cannot seal for %s: %s", p->name, strerror(-rc));
			METRIC_INC(w->m, noise_failures);
			conn_close(p);
			return;
		}
		p->olen += written;
	}
}

static void on_send(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct egress_peer *p = container_of(op, struct egress_peer, send_op);
	struct mix_worker *w = p->w;
	p->ops--;
	p->send_in_flight = false;
	if (p->state == PEER_CLOSING) {
		conn_close(p);
		return;
	}
	if (res == -ECANCELED) {
		METRIC_INC(w->m, egress_write_timeouts);
		drop_queue(p);
		if (++p->consecutive_timeouts >= 3) {
			log_ratelimited(NYM_LOG_WARN, "mixnet: next hop %s stalled three times, reconnecting", p->name);
			conn_close(p);
			return;
		}
		start_send(p);
		return;
	}
	if (res <= 0) {
		log_ratelimited(NYM_LOG_INFO, "mixnet: connection to %s failed: %s", p->name,
				res ? strerror(-res) : "closed");
		conn_close(p);
		return;
	}
	p->osent += (size_t)res;
	p->last_send_ns = w->loop.now_ns;
	p->consecutive_timeouts = 0;
	start_send(p);
}

static void start_send(struct egress_peer *p)
{
	if ((p->state != PEER_READY && p->state != PEER_HANDSHAKE) || p->send_in_flight)
		return;
	if (p->state == PEER_READY)
		commit(p);
	if (p->osent == p->olen || p->state == PEER_CLOSING)
		return;
	struct mix_worker *w = p->w;
	struct io_uring_sqe *sqe = uring_loop_sqe(&w->loop, &p->send_op);
	io_uring_prep_send(sqe, p->fd, p->obuf + p->osent, p->olen - p->osent, MSG_NOSIGNAL);
	p->ops++;
	p->send_in_flight = true;
	if (w->shared->write_timeout_ns) {
		sqe->flags |= IOSQE_IO_LINK;
		static __thread struct __kernel_timespec ts;
		ts.tv_sec = (long long)(w->shared->write_timeout_ns / 1000000000ull);
		ts.tv_nsec = (long long)(w->shared->write_timeout_ns % 1000000000ull);
		io_uring_prep_link_timeout(uring_loop_sqe_noop(&w->loop), &ts, 0);
	}
}

static void start_connect(struct egress_peer *p)
{
	struct mix_worker *w = p->w;
	int fd = socket(p->addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	p->obuf = fd >= 0 ? malloc(EGRESS_OBUF) : NULL;
	if (!p->obuf) {
		if (fd >= 0)
			close(fd);
		METRIC_INC(w->m, egress_connect_failures);
		enter_backoff(p);
		return;
	}
	sock_tcp_tune(fd);
	p->fd = fd;
	p->state = PEER_CONNECTING;
	METRIC_INC(w->m, egress_connections);
	struct io_uring_sqe *sqe = uring_loop_sqe(&w->loop, &p->connect_op);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&p->addr.ss, p->addr.len);
	sqe->flags |= IOSQE_IO_LINK;
	p->ops++;
	static __thread struct __kernel_timespec ts;
	ts.tv_sec = (long long)(w->shared->connect_timeout_ns / 1000000000ull);
	ts.tv_nsec = (long long)(w->shared->connect_timeout_ns % 1000000000ull);
	io_uring_prep_link_timeout(uring_loop_sqe_noop(&w->loop), &ts, 0);
}

struct egress_peer *mix_egress_peer(struct mix_worker *w, const struct net_addr *addr)
{
	uint32_t b = addr_hash(addr) % PEER_BUCKETS;
	for (struct egress_peer *p = w->peers[b]; p; p = p->hash_next)
		if (net_addr_equal((const struct sockaddr *)&p->addr.ss, (const struct sockaddr *)&addr->ss))
			return p;
	/* The node refuses to route to nodes outside its topology, when it has one. */
	const struct mixnode_peers *t = atomic_load_explicit(&w->shared->topology, memory_order_acquire);
	if (t && t->count && !mixnode_peers_find(t, (const struct sockaddr *)&addr->ss))
		return NULL;
	if (w->peer_count >= PEER_BUCKETS * 4)
		return NULL;
	struct egress_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->w = w;
	p->addr = *addr;
	p->fd = -1;
	p->state = PEER_IDLE;
	p->connect_op.cb = on_connect;
	p->send_op.cb = on_send;
	p->recv_op.cb = on_recv;
	net_addr_format((const struct sockaddr *)&addr->ss, p->name);
	p->hash_next = w->peers[b];
	w->peers[b] = p;
	w->peer_count++;
	return p;
}

void mix_egress_enqueue(struct mix_worker *w, struct packet_slot *s)
{
	struct egress_peer *p = s->peer;
	if (p->q_len >= w->shared->peer_queue_max ||
	    (p->state == PEER_IDLE && w->loop.now_ns < p->backoff_until_ns)) {
		METRIC_INC(w->m, egress_forward_dropped);
		mix_slot_free(w, s);
		return;
	}
	s->next = NULL;
	if (p->q_tail)
		p->q_tail->next = s;
	else
		p->q_head = s;
	p->q_tail = s;
	p->q_len++;
	w->pending_delivery++;
	mark_dirty(p);
}

void mix_egress_flush_dirty(struct mix_worker *w)
{
	while (w->dirty) {
		struct egress_peer *p = w->dirty;
		w->dirty = p->dirty_next;
		p->dirty = false;
		if (p->state == PEER_IDLE && p->q_len) {
			if (w->loop.now_ns < p->backoff_until_ns)
				drop_queue(p);
			else
				start_connect(p);
		} else if (p->state == PEER_READY) {
			start_send(p);
		}
	}
}

void mix_egress_housekeeping(struct mix_worker *w)
{
	uint64_t idle = w->shared->idle_ns;
	for (size_t b = 0; b < PEER_BUCKETS; b++) {
		for (struct egress_peer *p = w->peers[b]; p; p = p->hash_next) {
			if (idle && p->state == PEER_READY && !p->q_len && p->osent == p->olen &&
			    w->loop.now_ns - p->last_send_ns > idle) {
				METRIC_INC(w->m, idle_closed_egress);
				log_debug("mixnet: closing the idle connection to %s", p->name);
				conn_close(p);
			}
		}
	}
}

void mix_egress_close_all(struct mix_worker *w)
{
	for (size_t b = 0; b < PEER_BUCKETS; b++) {
		while (w->peers[b]) {
			struct egress_peer *p = w->peers[b];
			w->peers[b] = p->hash_next;
			while (p->q_head) {
				struct packet_slot *s = p->q_head;
				p->q_head = s->next;
				mix_slot_free(w, s);
			}
			if (p->fd >= 0)
				close(p->fd);
			if (p->noise) {
				noise_session_clear(p->noise);
				free(p->noise);
			}
			free(p->obuf);
			free(p);
		}
	}
	w->dirty = NULL;
}
