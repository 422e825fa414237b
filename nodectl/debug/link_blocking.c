#include "nodectl/debug/link_blocking.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "util/clock.h"


int link_blocking_write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads once (waiting up to ms). Returns bytes, 0 at EOF, -ETIMEDOUT or -errno. */
ssize_t link_blocking_read_some(struct link_blocking *c, uint64_t ms)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	int r = poll(&p, 1, (int)ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
	return n < 0 ? -errno : n;
}

int link_blocking_send_plain(struct link_blocking *c, const uint8_t *b, size_t n)
{
	static _Thread_local uint8_t sealed[2 * LINK_FRAME_MAX_LEN];
	size_t w;
	int rc = noise_session_seal(&c->noise, b, n, sealed, sizeof(sealed), &w);
	return rc ? rc : link_blocking_write_all(c->fd, sealed, w);
}

int link_blocking_send_msg(struct link_blocking *c, const struct link_msg *m)
{
	static _Thread_local uint8_t frame[LINK_FRAME_MAX_LEN];
	size_t n;
	int rc = link_msg_encode(m, frame, sizeof(frame), &n);
	return rc ? rc : link_blocking_send_plain(c, frame, n);
}

/* The next message from the gateway, within ms. Returns 0, -ETIMEDOUT, -ECONNRESET (closed) or a
 * decoding error. Notes RECEIVE, LOW_BALANCE and ERROR frames as they pass. */
int link_blocking_next_msg(struct link_blocking *c, struct link_msg *m, uint64_t ms)
{
	uint64_t deadline = nym_clock_now_ns() / NYM_NS_PER_MS + ms;
	for (;;) {
		struct link_frame f;
		int rc = link_frame_decoder_next(&c->dec, &f);
		if (rc == 0) {
			rc = link_msg_decode(&f, LINK_FROM_GATEWAY, m);
			if (rc)
				return rc;
			if (m->type == LINK_MSG_ERROR)
				json_array_append_new(c->errors, json_string(link_error_name(m->error.code) ? link_error_name(m->error.code) : "unknown"));
			if (m->type == LINK_MSG_RECEIVE) {
				c->received += m->packets.count;
				if (m->packets.size == MIX_PACKET_SIZE_ACK)
					c->received_acks += m->packets.count;
			}
			if (m->type == LINK_MSG_LOW_BALANCE)
				c->low_balance++;
			if (m->type == LINK_MSG_AUTH_OK || m->type == LINK_MSG_BANDWIDTH || m->type == LINK_MSG_LOW_BALANCE) {
				c->last_balance = m->balance;
				c->have_balance = true;
			}
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		/* More plaintext from Noise. */
		struct noise_session_event ev;
		rc = noise_session_next(&c->noise, c->plain, sizeof(c->plain), &ev);
		if (rc == 0) {
			if (ev.data_len && (rc = link_frame_decoder_feed(&c->dec, ev.data, ev.data_len)) != 0)
				return rc;
			continue;
		}
		if (rc != -EAGAIN)
			return rc;
		if (c->eof)
			return -ECONNRESET;
		uint64_t now = nym_clock_now_ns() / NYM_NS_PER_MS;
		if (now >= deadline)
			return -ETIMEDOUT;
		ssize_t n = link_blocking_read_some(c, deadline - now);
		if (n == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (n <= 0) {
			c->eof = true;
			continue;
		}
		if ((rc = noise_session_feed(&c->noise, c->rbuf, (size_t)n)) != 0)
			return rc;
	}
}

/* Waits for an answer of one of the given types, noting what else passes. */
int link_blocking_expect(struct link_blocking *c, struct link_msg *m, enum link_msg_type a, enum link_msg_type b)
{
	for (;;) {
		int rc = link_blocking_next_msg(c, m, c->timeout_ms);
		if (rc)
			return rc;
		if (m->type == a || m->type == b || m->type == LINK_MSG_CLOSE)
			return 0;
	}
}

const char *link_blocking_answer_name(const struct link_msg *m)
{
	if (m->type == LINK_MSG_ERROR)
		return link_error_name(m->error.code) ? link_error_name(m->error.code) : "unknown";
	return link_msg_type_name(m->type);
}

/* Reads until the gateway closes or ms pass; says whether it closed. */
bool link_blocking_drain(struct link_blocking *c, uint64_t ms)
{
	struct link_msg m;
	uint64_t end = nym_clock_now_ns() / NYM_NS_PER_MS + ms;
	for (;;) {
		uint64_t now = nym_clock_now_ns() / NYM_NS_PER_MS;
		if (now >= end)
			return false;
		int rc = link_blocking_next_msg(c, &m, end - now);
		if (rc == -ETIMEDOUT)
			return false;
		if (rc)
			return true;
		if (m.type == LINK_MSG_CLOSE)
			return true;
	}
}

int link_blocking_handshake(struct link_blocking *c, const uint8_t gateway_noise[32])
{
	struct nym_x25519_keypair kp;
	uint8_t first[128];
	size_t n;
	nym_x25519_generate(&kp); /* a fresh static key per connection */
	int rc = noise_session_init(&c->noise, NOISE_INITIATOR, &kp, gateway_noise, NULL);
	nym_x25519_keypair_clear(&kp);
	if (rc || (rc = noise_session_start(&c->noise, first, sizeof(first), &n)) != 0 ||
	    (rc = link_blocking_write_all(c->fd, first, n)) != 0)
		return rc;
	while (!noise_session_established(&c->noise)) {
		ssize_t got = link_blocking_read_some(c, c->timeout_ms);
		if (got <= 0)
			return got == 0 ? -ECONNRESET : (int)got;
		if ((rc = noise_session_feed(&c->noise, c->rbuf, (size_t)got)) != 0)
			return rc;
		struct noise_session_event ev;
		while ((rc = noise_session_next(&c->noise, c->plain, sizeof(c->plain), &ev)) == 0) {
			if (ev.send && (rc = link_blocking_write_all(c->fd, ev.send, ev.send_len)) != 0)
				return rc;
			if (ev.data_len)
				link_frame_decoder_feed(&c->dec, ev.data, ev.data_len);
		}
		if (rc != -EAGAIN)
			return rc;
	}
	return 0;
}


int link_blocking_connect(struct link_blocking *c, const struct net_addr *gateway, uint64_t timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = timeout_ms ? timeout_ms : 5000;
	c->errors = json_array();
	link_frame_decoder_init(&c->dec, LINK_FROM_GATEWAY);
	c->fd = socket(gateway->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (const struct sockaddr *)&gateway->ss, gateway->len) != 0)
		return -errno;
	return 0;
}

int link_blocking_hello(struct link_blocking *c, struct link_msg *m)
{
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
	int rc = link_blocking_send_msg(c, &hello);
	if (rc == 0)
		rc = link_blocking_expect(c, m, LINK_MSG_VERSION, LINK_MSG_ERROR);
	if (rc == 0 && m->type != LINK_MSG_VERSION)
		rc = -ECONNREFUSED;
	return rc;
}

void link_blocking_close(struct link_blocking *c)
{
	if (c->fd > 0)
		close(c->fd);
	c->fd = -1;
	noise_session_clear(&c->noise);
	json_decref(c->errors);
	c->errors = NULL;
}
