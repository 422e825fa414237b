#include "gateway/gateway_link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"

#define COUNT(l, field) ((l)->cfg.counters ? (void)((l)->cfg.counters->field++) : (void)0)
#define COUNT_ADD(l, field, n) ((l)->cfg.counters ? (void)((l)->cfg.counters->field += (n)) : (void)0)

int gateway_link_init(struct gateway_link *l, const struct nym_x25519_keypair *noise_key,
		      const struct gateway_link_config *cfg, const struct gateway_link_hooks *hooks)
{
	memset(l, 0, offsetof(struct gateway_link, noise));
	if (!cfg || !cfg->scratch || !hooks || !hooks->authenticated || !hooks->spend || !hooks->forward ||
	    !hooks->balance_saved)
		return -EINVAL;
	l->cfg = *cfg;
	if (!l->cfg.max_skew_s)
		l->cfg.max_skew_s = LINK_AUTH_DEFAULT_SKEW_S;
	l->hooks = *hooks;
	l->out = malloc(GATEWAY_LINK_OUT_MAX);
	if (!l->out)
		return -ENOMEM;
	int rc = noise_session_init(&l->noise, NOISE_RESPONDER, noise_key, NULL, NULL);
	if (rc) {
		free(l->out);
		l->out = NULL;
		return rc;
	}
	link_frame_decoder_init(&l->dec, LINK_FROM_CLIENT);
	l->state = GATEWAY_LINK_HANDSHAKE;
	return 0;
}

void gateway_link_free(struct gateway_link *l)
{
	noise_session_clear(&l->noise);
	free(l->out);
	l->out = NULL;
}

/* Appends raw bytes (handshake frames) to the output. */
static int out_raw(struct gateway_link *l, const uint8_t *b, size_t n)
{
	if (GATEWAY_LINK_OUT_MAX - l->out_tail < n)
		return -ENOBUFS;
	memcpy(l->out + l->out_tail, b, n);
	l->out_tail += n;
	return 0;
}

/* Seals one encoded frame into the output. */
static int out_sealed(struct gateway_link *l, const uint8_t *frame, size_t n)
{
	size_t w;
	if (GATEWAY_LINK_OUT_MAX - l->out_tail < noise_session_sealed_len(n))
		return -ENOBUFS;
	int rc = noise_session_seal(&l->noise, frame, n, l->out + l->out_tail, GATEWAY_LINK_OUT_MAX - l->out_tail, &w);
	if (rc)
		return rc;
	l->out_tail += w;
	return 0;
}

/* Encodes and seals a small message (everything but RECEIVE). */
static int send_msg(struct gateway_link *l, const struct link_msg *m)
{
	uint8_t frame[LINK_FRAME_HEADER_LEN + LINK_ERROR_MAX_LEN + 16];
	size_t n;
	int rc = link_msg_encode(m, frame, sizeof(frame), &n);
	if (rc == 0)
		rc = out_sealed(l, frame, n);
	return rc;
}

static void send_balance(struct gateway_link *l, enum link_msg_type type)
{
	struct link_msg m = { .type = type, .balance = l->balance };
	if (send_msg(l, &m))
		gateway_link_close(l, 0, NULL);
}

void gateway_link_close(struct gateway_link *l, enum link_error_code code, const char *text)
{
	if (l->state == GATEWAY_LINK_CLOSING)
		return;
	bool transport = l->state != GATEWAY_LINK_HANDSHAKE && noise_session_established(&l->noise);
	l->state = GATEWAY_LINK_CLOSING;
	if (!transport)
		return;
	struct link_msg m;
	if (code) {
		link_msg_error(&m, code, text ? text : link_error_name(code));
		send_msg(l, &m);
	}
	m = (struct link_msg){ .type = LINK_MSG_CLOSE };
	send_msg(l, &m);
}

/* A refusal that ends the link. */
static int fail(struct gateway_link *l, int err, enum link_error_code code, const char *text)
{
	l->error = err;
	gateway_link_close(l, code, text);
	return err;
}

/* Charges n Sphinx bytes; sends LOW_BALANCE and ERROR bandwidth_exhausted as the balance
 * crosses their levels. */
static void meter(struct gateway_link *l, uint64_t n)
{
	uint64_t before = l->balance;
	l->balance = n >= l->balance ? 0 : l->balance - n;
	l->balance_dirty = true;
	COUNT_ADD(l, bytes_metered, before - l->balance);
	if (l->balance < LINK_LOW_BALANCE_BYTES && l->balance > 0 && !l->low_sent) {
		l->low_sent = true;
		COUNT(l, low_balance_sent);
		send_balance(l, LINK_MSG_LOW_BALANCE);
	}
	if (l->balance == 0 && before > 0 && !l->exhausted_sent) {
		struct link_msg m;
		l->exhausted_sent = true;
		l->low_sent = true;
		COUNT(l, exhausted_sent);
		link_msg_error(&m, LINK_ERR_BANDWIDTH_EXHAUSTED, "balance 0: spend a ticket");
		if (send_msg(l, &m))
			gateway_link_close(l, 0, NULL);
	}
}

static int on_hello(struct gateway_link *l, const struct link_msg *m)
{
	uint8_t v;
	int rc = link_version_pick(m->hello.min, m->hello.max, LINK_VERSION_MIN, LINK_VERSION_MAX, &v);
	if (rc) {
		COUNT(l, version_refused);
		return fail(l, rc, LINK_ERR_VERSION, "no version in common");
	}
	l->version = v;
	struct link_msg r = { .type = LINK_MSG_VERSION, .version = v };
	if ((rc = send_msg(l, &r)) != 0)
		return fail(l, rc, 0, NULL);
	l->state = GATEWAY_LINK_AUTH;
	return 0;
}

static int on_auth(struct gateway_link *l, const struct link_msg *m, uint64_t now)
{
	uint8_t h[NOISE_HASH_LEN];
	int rc = noise_session_handshake_hash(&l->noise, h);
	if (rc == 0)
		rc = link_auth_verify(&m->auth, h, now, l->cfg.max_skew_s);
	nym_memzero(h, sizeof(h));
	if (rc == -ETIME) {
		COUNT(l, clock_skew);
		return fail(l, rc, LINK_ERR_CLOCK_SKEW, "timestamp too far from the gateway's clock");
	}
	if (rc) {
		COUNT(l, auth_failed);
		return fail(l, -EKEYREJECTED, LINK_ERR_AUTH, "bad signature");
	}
	uint64_t balance = 0;
	if ((rc = l->hooks.authenticated(l->hooks.ctx, m->auth.identity, &balance)) != 0)
		return fail(l, rc, rc == -EBUSY ? LINK_ERR_BUSY : LINK_ERR_INTERNAL, NULL);
	memcpy(l->identity, m->auth.identity, sizeof(l->identity));
	l->balance = balance;
	l->low_sent = balance < LINK_LOW_BALANCE_BYTES;
	l->exhausted_sent = false; /* told at the first SEND it cannot pay for */
	l->state = GATEWAY_LINK_OPEN;
	COUNT(l, auth_ok);
	struct link_msg r = { .type = LINK_MSG_AUTH_OK, .balance = balance };
	if ((rc = send_msg(l, &r)) != 0)
		return fail(l, rc, 0, NULL);
	return 0;
}

/* Counts a refused ticket; past the limit the link ends. */
static int refused_ticket(struct gateway_link *l)
{
	if (++l->tickets_refused <= GATEWAY_LINK_MAX_REFUSED_TICKETS)
		return 0;
	COUNT(l, tickets_too_many);
	return fail(l, -EDQUOT, LINK_ERR_PROTOCOL, "too many refused tickets");
}

static int on_spend(struct gateway_link *l, const struct link_msg *m)
{
	uint64_t granted = 0;
	int rc = l->hooks.spend(l->hooks.ctx, m->ticket.bytes, m->ticket.len, &granted);
	struct link_msg r;
	if (rc != 0 && rc != -EINVAL && rc != -EPERM && rc != -EKEYEXPIRED && rc != -ENOKEY && rc != -EBADMSG &&
	    rc != -EALREADY) {
		/* The gateway's failure: not counted against the client. */
		COUNT(l, tickets_failed);
		link_msg_error(&r, LINK_ERR_INTERNAL, "ticket store failed");
		return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
	}
	if (rc != 0 && refused_ticket(l))
		return l->error;
	switch (rc) {
	case 0:
		break;
	case -EINVAL:
		COUNT(l, tickets_malformed);
		link_msg_error(&r, LINK_ERR_TICKET_MALFORMED, "not a ticket");
		return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
	case -EPERM:
	case -EKEYEXPIRED:
	case -ENOKEY:
	case -EBADMSG:
		COUNT(l, tickets_rejected);
		link_msg_error(&r, LINK_ERR_TICKET_REJECTED,
			       rc == -EPERM	    ? "wrong ticket type"
			       : rc == -EKEYEXPIRED ? "ticket expired"
			       : rc == -ENOKEY	    ? "unknown issuer key"
						    : "bad signature");
		return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
	case -EALREADY:
		COUNT(l, tickets_spent);
		link_msg_error(&r, LINK_ERR_TICKET_SPENT, "serial spent before");
		return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
	default:
		COUNT(l, tickets_failed);
		link_msg_error(&r, LINK_ERR_INTERNAL, "ticket store failed");
		return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
	}
	COUNT(l, tickets_accepted);
	l->balance = granted > UINT64_MAX - l->balance ? UINT64_MAX : l->balance + granted;
	if (l->balance >= LINK_LOW_BALANCE_BYTES)
		l->low_sent = false;
	if (l->balance > 0)
		l->exhausted_sent = false;
	l->hooks.balance_saved(l->hooks.ctx, l->identity, l->balance);
	l->balance_dirty = false;
	r = (struct link_msg){ .type = LINK_MSG_BANDWIDTH, .balance = l->balance };
	return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
}

static int on_send(struct gateway_link *l, const struct link_msg *m)
{
	const struct link_packets *p = &m->packets;
	struct link_send_entry e;
	/* A bad entry refuses the whole frame: check all before forwarding any. */
	for (size_t i = 0; i < p->count; i++) {
		link_send_entry_get(p, i, &e);
		if (e.key_rotation > 2) {
			COUNT(l, send_bad_packet);
			return fail(l, -EINVAL, LINK_ERR_BAD_PACKET, "bad key rotation");
		}
	}
	uint64_t cost = mix_packet_size_len(p->size);
	if (l->balance == 0 && !l->exhausted_sent) {
		struct link_msg e0;
		l->exhausted_sent = true;
		COUNT(l, exhausted_sent);
		link_msg_error(&e0, LINK_ERR_BANDWIDTH_EXHAUSTED, "balance 0: spend a ticket");
		if (send_msg(l, &e0))
			return fail(l, -ENOBUFS, 0, NULL);
	}
	for (size_t i = 0; i < p->count; i++) {
		if (l->balance == 0) {
			COUNT_ADD(l, send_no_bandwidth, p->count - i);
			break;
		}
		link_send_entry_get(p, i, &e);
		int rc = l->hooks.forward(l->hooks.ctx, p->size, &e);
		if (rc == -EINVAL) {
			COUNT(l, send_bad_packet);
			return fail(l, rc, LINK_ERR_BAD_PACKET, "first hop does not decode");
		}
		if (rc) {
			COUNT(l, send_forward_failed);
			continue;
		}
		COUNT(l, send_packets);
		meter(l, cost);
		if (l->state == GATEWAY_LINK_CLOSING)
			break;
	}
	return 0;
}

static bool wg_request(enum link_msg_type t)
{
	return t == LINK_MSG_WG_INIT || t == LINK_MSG_WG_FINAL || t == LINK_MSG_WG_QUERY || t == LINK_MSG_WG_TOPUP;
}

static int on_wg(struct gateway_link *l, const struct link_msg *m)
{
	struct link_msg r;
	int rc = l->hooks.wg(l->hooks.ctx, m, &r);
	if (rc)
		return fail(l, rc, LINK_ERR_INTERNAL, NULL);
	COUNT(l, wg_requests);
	if (r.type == LINK_MSG_ERROR) {
		COUNT(l, wg_refused);
		/* Each refusal may have cost an X25519 or an RSA verification. */
		if (r.error.code != LINK_ERR_INTERNAL && r.error.code != LINK_ERR_WG_NO_ADDRESS && refused_ticket(l))
			return l->error;
	}
	return send_msg(l, &r) ? fail(l, -ENOBUFS, 0, NULL) : 0;
}

/* One decoded frame from the client. */
static int on_frame(struct gateway_link *l, const struct link_frame *f, uint64_t now)
{
	struct link_msg m;
	l->frames_in++;
	int rc = link_msg_decode(f, LINK_FROM_CLIENT, &m);
	if (rc == -EINVAL && f->header.type == LINK_MSG_SPEND_TICKET && l->state == GATEWAY_LINK_OPEN) {
		/* A ticket-sized body that is no ticket: refused like a bad ticket, the link stays. */
		if (refused_ticket(l))
			return l->error;
		COUNT(l, tickets_malformed);
		link_msg_error(&m, LINK_ERR_TICKET_MALFORMED, "not a ticket");
		return send_msg(l, &m) ? fail(l, -ENOBUFS, 0, NULL) : 0;
	}
	if (rc) {
		COUNT(l, protocol_errors);
		return fail(l, rc, LINK_ERR_PROTOCOL, "malformed frame");
	}
	if (m.type == LINK_MSG_CLOSE) {
		COUNT(l, closed_by_client);
		l->error = 0;
		gateway_link_close(l, 0, NULL);
		return 0;
	}
	if (m.type == LINK_MSG_ERROR) {
		/* The client gave up; answer nothing but CLOSE. */
		l->error = -ECONNABORTED;
		gateway_link_close(l, 0, NULL);
		return 0;
	}
	if (wg_request(m.type) && l->hooks.wg &&
	    (l->state == GATEWAY_LINK_AUTH || l->state == GATEWAY_LINK_OPEN))
		return on_wg(l, &m);
	switch (l->state) {
	case GATEWAY_LINK_HELLO:
		if (m.type == LINK_MSG_HELLO)
			return on_hello(l, &m);
		break;
	case GATEWAY_LINK_AUTH:
		if (m.type == LINK_MSG_AUTH)
			return on_auth(l, &m, now);
		break;
	case GATEWAY_LINK_OPEN:
		if (m.type == LINK_MSG_SPEND_TICKET)
			return on_spend(l, &m);
		if (m.type == LINK_MSG_SEND)
			return on_send(l, &m);
		break;
	default:
		return 0;
	}
	if (l->state != GATEWAY_LINK_OPEN && (m.type == LINK_MSG_SEND || m.type == LINK_MSG_SPEND_TICKET))
		COUNT(l, unauthenticated);
	else
		COUNT(l, out_of_order);
	return fail(l, -EPROTO, LINK_ERR_PROTOCOL, "frame out of order");
}

/* Decrypted stream bytes. */
static int on_plain(struct gateway_link *l, const uint8_t *data, size_t len, uint64_t now)
{
	struct link_frame f;
	int rc = link_frame_decoder_feed(&l->dec, data, len);
	while (rc == 0 && l->state != GATEWAY_LINK_CLOSING && (rc = link_frame_decoder_next(&l->dec, &f)) == 0)
		rc = on_frame(l, &f, now);
	if (rc == 0 || rc == -EAGAIN || l->state == GATEWAY_LINK_CLOSING)
		return l->state == GATEWAY_LINK_CLOSING ? l->error : 0;
	COUNT(l, protocol_errors);
	return fail(l, rc, LINK_ERR_PROTOCOL, rc == -EMSGSIZE ? "frame length out of bounds" : "bad frame header");
}

int gateway_link_feed(struct gateway_link *l, const uint8_t *in, size_t len, uint64_t now)
{
	struct noise_session_event ev;
	if (l->state == GATEWAY_LINK_CLOSING)
		return l->error ? l->error : -ESHUTDOWN;
	int rc = noise_session_feed(&l->noise, in, len);
	while (rc == 0 && l->state != GATEWAY_LINK_CLOSING &&
	       (rc = noise_session_next(&l->noise, l->cfg.scratch, NOISE_MAX_PLAINTEXT_LEN, &ev)) == 0) {
		if (ev.send && (rc = out_raw(l, ev.send, ev.send_len)) != 0)
			break;
		if (ev.established) {
			COUNT(l, handshakes);
			l->state = GATEWAY_LINK_HELLO;
		}
		if (ev.data_len && (rc = on_plain(l, ev.data, ev.data_len, now)) != 0)
			return rc;
	}
	if (l->state == GATEWAY_LINK_CLOSING)
		return l->error;
	if (rc == -EAGAIN)
		return 0;
	COUNT(l, noise_failures);
	l->error = rc;
	/* Without a transport nothing can be said: the link just closes. */
	l->state = GATEWAY_LINK_CLOSING;
	return rc;
}

size_t gateway_link_output(const struct gateway_link *l, const uint8_t **out)
{
	*out = l->out_tail > l->out_head ? l->out + l->out_head : NULL;
	return l->out_tail - l->out_head;
}

void gateway_link_written(struct gateway_link *l, size_t n)
{
	if (n > l->out_tail - l->out_head)
		n = l->out_tail - l->out_head;
	l->out_head += n;
	if (l->out_head == l->out_tail) {
		l->out_head = l->out_tail = 0;
	} else if (l->out_head > GATEWAY_LINK_OUT_MAX / 2) {
		memmove(l->out, l->out + l->out_head, l->out_tail - l->out_head);
		l->out_tail -= l->out_head;
		l->out_head = 0;
	}
}

int gateway_link_deliver(struct gateway_link *l, enum mix_packet_size size, const uint8_t *item, size_t len)
{
	uint8_t frame[LINK_PACKETS_OFFSET + MIX_PACKET_MAX_LEN];
	if (l->state != GATEWAY_LINK_OPEN)
		return -ENOTCONN;
	if (len != link_receive_item_len(size))
		return -EINVAL;
	if (l->balance == 0)
		return -EDQUOT;
	if (GATEWAY_LINK_OUT_MAX - l->out_tail < noise_session_sealed_len(LINK_PACKETS_OFFSET + len) + 256)
		return -ENOBUFS;
	memcpy(frame + LINK_PACKETS_OFFSET, item, len);
	struct link_msg m = { .type = LINK_MSG_RECEIVE,
			      .packets = { .size = size, .count = 1, .item_len = len, .items = frame + LINK_PACKETS_OFFSET } };
	size_t n;
	int rc = link_msg_encode(&m, frame, sizeof(frame), &n);
	if (rc == 0)
		rc = out_sealed(l, frame, n);
	if (rc)
		return rc;
	COUNT(l, received_items);
	meter(l, mix_packet_size_len(size));
	return 0;
}
