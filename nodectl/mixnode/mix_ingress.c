#include "nodectl/mixnode/mix_ingress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/sock.h"
#include "mixnode/mix_forward.h"
#include "sphinx/sphinx_packet.h"
#include "util/log.h"

static void arm_recv(struct ingress_conn *c);

static void conn_finalize(struct ingress_conn *c)
{
	struct mix_worker *w = c->w;
	close(c->fd);
	if (c->noise) {
		noise_session_clear(c->noise);
		free(c->noise);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		w->ingress = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->ingress_count--;
	METRIC_SET(w->m, ingress_connections, w->ingress_count);
	conn_limit_release(&w->shared->limits, c->addr_slot);
	free(c);
}

static void conn_close(struct ingress_conn *c)
{
	if (!c->closing) {
		c->closing = true;
		/* Wakes the pending receive; the connection is freed when it completes. */
		shutdown(c->fd, SHUT_RDWR);
	}
	if (c->ops == 0)
		conn_finalize(c);
}

void mix_ingress_packet(struct mix_worker *w, const struct mix_frame *f)
{
	struct packet_slot *s = mix_slot_alloc(w, MIX_FRAME_HEADER_LEN + f->packet_len);
	if (!s) {
		METRIC_INC(w->m, ingress_forward_dropped);
		log_ratelimited(NYM_LOG_WARN, "mixnet: packet memory budget exhausted, dropping");
		return;
	}
	uint8_t *pkt = s->frame + MIX_FRAME_HEADER_LEN;
	memcpy(pkt, f->packet, f->packet_len);
	struct ingress_pending *p = &w->pending[w->pending_count++];
	p->slot = s;
	p->frame = *f;
	p->frame.packet = pkt;
	if (w->pending_count == MIX_INGRESS_BATCH)
		mix_ingress_flush(w);
}

/* Queues a decided packet or drops and counts it. */
static void act(struct mix_worker *w, struct packet_slot *s, const struct mix_frame *f, const struct mix_forward *d)
{
	struct worker_metrics *m = w->m;
	if (d->secondary_key)
		METRIC_INC(m, ingress_secondary_key);
	switch (d->verdict) {
	case MIX_FORWARD:
		break;
	case MIX_FINAL: {
		/* A mixnode is never a final hop; gateways hand these to their service. */
		METRIC_INC(m, ingress_final_received);
		const uint8_t *msg;
		size_t msg_len;
		if (!w->shared->gateway_final) {
			METRIC_INC(m, ingress_final_dropped);
		} else if (sphinx_packet_message(s->frame + MIX_FRAME_HEADER_LEN, f->packet_len, &msg, &msg_len) != 0) {
			METRIC_INC(m, ingress_malformed);
			log_ratelimited(NYM_LOG_INFO, "mixnet: dropping a final-hop packet whose payload does not parse");
		} else {
			w->shared->gateway_final(w->shared->gateway_ctx, w, f, d, msg, msg_len);
		}
		goto drop;
	}
	case MIX_REPLAY:
		METRIC_INC(m, ingress_replayed);
		log_ratelimited(NYM_LOG_INFO, "mixnet: dropping a replayed packet");
		goto drop;
	case MIX_UNKNOWN_KEY:
		METRIC_INC(m, ingress_malformed);
		log_ratelimited(NYM_LOG_INFO, "mixnet: packet for a Sphinx key no longer held (rotation byte %u)",
				f->header.key_rotation);
		goto drop;
	case MIX_BAD_TYPE:
	case MIX_BAD_PACKET:
	case MIX_BAD_NEXT_HOP:
		METRIC_INC(m, ingress_malformed);
		log_ratelimited(NYM_LOG_INFO, "mixnet: dropping a packet that does not authenticate or parse");
		goto drop;
	}
	METRIC_INC(m, ingress_forward_received);
	if (d->delay_clamped)
		METRIC_INC(m, ingress_excessive_delay);
	s->peer = mix_egress_peer(w, &d->next);
	if (!s->peer) {
		METRIC_INC(m, ingress_forward_dropped);
		log_ratelimited(NYM_LOG_INFO, "mixnet: dropping a packet for a next hop outside the topology");
		goto drop;
	}
	size_t hlen;
	mix_frame_header_encode(&d->out_header, s->frame, &hlen);
	if (delay_queue_push(&w->delays, w->loop.now_ns + d->delay_ns, s) != 0) {
		METRIC_INC(m, ingress_forward_dropped);
		log_ratelimited(NYM_LOG_WARN, "mixnet: delay queue full, dropping");
		goto drop;
	}
	return;
drop:
	mix_slot_free(w, s);
}

void mix_ingress_flush(struct mix_worker *w)
{
	size_t n = w->pending_count;
	if (n == 0)
		return;
	struct mix_shared *sh = w->shared;
	const struct mix_frame *frames[MIX_INGRESS_BATCH];
	uint8_t *packets[MIX_INGRESS_BATCH];
	struct mix_forward d[MIX_INGRESS_BATCH];
	for (size_t i = 0; i < n; i++) {
		frames[i] = &w->pending[i].frame;
		packets[i] = w->pending[i].slot->frame + MIX_FRAME_HEADER_LEN;
	}
	const struct mixnode_keyring *kr = atomic_load_explicit(&sh->keyring, memory_order_acquire);
	mix_forward_decide_batch(kr, sh->replay_protection, sh->max_delay_ns, frames, packets, d, n);
	for (size_t i = 0; i < n; i++)
		act(w, w->pending[i].slot, &w->pending[i].frame, &d[i]);
	w->pending_count = 0;
}

/* Feeds received bytes through the frame decoder. Returns false if the connection must go. */
static bool consume_plain(struct ingress_conn *c, const uint8_t *data, size_t len)
{
	struct mix_frame f;
	bool framed = false;
	int rc = mix_frame_decoder_feed(&c->dec, data, len);
	while (rc == 0 && (rc = mix_frame_decoder_next(&c->dec, &f)) == 0) {
		mix_ingress_packet(c->w, &f);
		framed = true;
	}
	/* Only whole frames keep a connection alive: a byte now and then would hold a slot for
	 * nothing. */
	if (framed)
		conn_limit_timer_frame(&c->timer, c->w->loop.now_ns);
	if (rc == -EAGAIN)
		return true;
	METRIC_INC(c->w->m, ingress_malformed);
	log_ratelimited(NYM_LOG_INFO, "mixnet: closing a connection that sent a bad frame header (%s)",
			strerror(-rc));
	return false;
}

static void on_send(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct ingress_conn *c = container_of(op, struct ingress_conn, send_op);
	c->ops--;
	/* The handshake reply is tiny: anything short of all of it means a dead peer. */
	if (res < 0 && !c->closing)
		conn_close(c);
	else if (c->closing && c->ops == 0)
		conn_finalize(c);
}

/* Runs received bytes through the Noise responder; plaintext goes on to the frame decoder.
 * Returns false if the connection must go. */
static bool consume_noise(struct ingress_conn *c, const uint8_t *data, size_t len)
{
	struct mix_worker *w = c->w;
	struct noise_session_event ev;
	int rc = noise_session_feed(c->noise, data, len);
	while (rc == 0 && (rc = noise_session_next(c->noise, w->noise_plain, sizeof(w->noise_plain), &ev)) == 0) {
		if (ev.send) {
			/* message 2 of XK; sent once, so one buffer and one send suffice */
			memcpy(c->reply, ev.send, ev.send_len);
			struct io_uring_sqe *sqe = uring_loop_sqe(&w->loop, &c->send_op);
			io_uring_prep_send(sqe, c->fd, c->reply, ev.send_len, MSG_NOSIGNAL);
			c->ops++;
		}
		if (ev.established) {
			METRIC_INC(w->m, noise_handshakes);
			log_debug("mixnet: Noise handshake with an ingress peer complete");
		}
		if (ev.data_len && !consume_plain(c, ev.data, ev.data_len))
			return false;
	}
	if (rc == -EAGAIN)
		return true;
	METRIC_INC(w->m, noise_failures);
	METRIC_INC(w->m, ingress_malformed);
	log_ratelimited(NYM_LOG_INFO, "mixnet: closing a Noise connection: %s", strerror(-rc));
	return false;
}

/* A connection's first byte tells its protocol: plain NymCodec frames start with the packet
 * version (7 or 8), Noise frames with the Noise framing version (1). */
static bool pick_protocol(struct ingress_conn *c)
{
	struct mix_worker *w = c->w;
	if (c->rbuf[0] == MIX_FRAME_VERSION || c->rbuf[0] == MIX_FRAME_VERSION_LEGACY) {
		c->proto = INGRESS_PLAIN;
		return true;
	}
	if (c->rbuf[0] == NOISE_FRAME_VERSION) {
		/* Before any X25519: message 1 alone makes a responder compute one. */
		if (!conn_limit_take_handshake(&w->shared->limits, c->addr_slot, w->loop.now_ns)) {
			METRIC_INC(w->m, ingress_refused_handshake_rate);
			log_ratelimited(NYM_LOG_INFO, "mixnet: closing a Noise connection from an address over its handshake budget");
			return false;
		}
		c->noise = malloc(sizeof(*c->noise));
		if (c->noise && noise_session_init(c->noise, NOISE_RESPONDER, &w->shared->noise, NULL, NULL) == 0) {
			c->proto = INGRESS_NOISE;
			return true;
		}
		return false;
	}
	METRIC_INC(w->m, ingress_malformed);
	log_ratelimited(NYM_LOG_INFO, "mixnet: closing a connection with an unknown protocol (first byte %u)",
			c->rbuf[0]);
	return false;
}

static void on_recv(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct ingress_conn *c = container_of(op, struct ingress_conn, recv_op);
	c->ops--;
	if (c->closing || res <= 0) {
		conn_close(c);
		return;
	}
	if (c->proto == INGRESS_UNKNOWN && !pick_protocol(c)) {
		conn_close(c);
		return;
	}
	bool keep = c->proto == INGRESS_NOISE ? consume_noise(c, c->rbuf, (size_t)res)
					      : consume_plain(c, c->rbuf, (size_t)res);
	if (!keep) {
		conn_close(c);
		return;
	}
	arm_recv(c);
}

static void arm_recv(struct ingress_conn *c)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&c->w->loop, &c->recv_op);
	io_uring_prep_recv(sqe, c->fd, c->rbuf, sizeof(c->rbuf), 0);
	c->ops++;
}

void mix_ingress_adopt(struct mix_worker *w, int fd, uint32_t addr_slot)
{
	struct ingress_conn *c = NULL;
	if (w->ingress_count >= w->shared->ingress_max) {
		METRIC_INC(w->m, ingress_refused_worker_limit);
		log_ratelimited(NYM_LOG_WARN, "mixnet: connection limit reached, refusing a connection");
	} else {
		c = malloc(sizeof(*c));
	}
	if (!c) {
		conn_limit_release(&w->shared->limits, addr_slot);
		close(fd);
		return;
	}
	memset(c, 0, offsetof(struct ingress_conn, dec));
	c->w = w;
	c->fd = fd;
	c->addr_slot = addr_slot;
	c->recv_op.cb = on_recv;
	c->send_op.cb = on_send;
	conn_limit_timer_start(&c->timer, w->loop.now_ns);
	mix_frame_decoder_init(&c->dec);
	sock_tcp_tune(fd);
	c->next = w->ingress;
	if (w->ingress)
		w->ingress->prev = c;
	w->ingress = c;
	w->ingress_count++;
	METRIC_SET(w->m, ingress_connections, w->ingress_count);
	arm_recv(c);
}

void mix_ingress_housekeeping(struct mix_worker *w)
{
	const struct conn_limit_timeouts *to = &w->shared->ingress_timeouts;
	for (struct ingress_conn *c = w->ingress, *next; c; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		switch (conn_limit_timer_check(&c->timer, to, w->loop.now_ns)) {
		case CONN_LIMIT_LIVE:
			continue;
		case CONN_LIMIT_NO_FIRST_FRAME:
			METRIC_INC(w->m, ingress_first_frame_timeouts);
			log_debug("mixnet: closing an ingress connection without a first frame in time");
			break;
		case CONN_LIMIT_IDLE:
			METRIC_INC(w->m, idle_closed_ingress);
			log_debug("mixnet: closing an idle ingress connection");
			break;
		}
		conn_close(c);
	}
}

void mix_ingress_close_all(struct mix_worker *w)
{
	while (w->ingress) {
		conn_finalize(w->ingress);
	}
}
