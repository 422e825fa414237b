#include "clientio/clientio_link.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "io/sock.h"
#include "util/clock.h"

static uint64_t now_ms(void)
{
	return nym_clock_now_ns() / NYM_NS_PER_MS;
}

static int poll_ms(uint64_t ms)
{
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int clientio_link_write_all(struct clientio_link *c, const uint8_t *b, size_t n)
{
	uint64_t deadline = now_ms() + c->timeout_ms;
	while (n) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			uint64_t now = now_ms();
			struct pollfd p = { c->fd, POLLOUT, 0 };
			int r = now < deadline ? poll(&p, 1, poll_ms(deadline - now)) : 0;
			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t clientio_link_read_some(struct clientio_link *c, uint64_t ms)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	int r = poll(&p, 1, poll_ms(ms));
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
	return n < 0 ? -errno : n;
}

int clientio_link_send_plain(struct clientio_link *c, const uint8_t *b, size_t n)
{
	size_t w;
	int rc = noise_session_seal(&c->noise, b, n, c->sealed, sizeof(c->sealed), &w);
	return rc ? rc : clientio_link_write_all(c, c->sealed, w);
}

int clientio_link_send_msg(struct clientio_link *c, const struct link_msg *m)
{
	size_t n;
	int rc = link_msg_encode(m, c->frame, sizeof(c->frame), &n);
	if (rc == 0)
		rc = clientio_link_send_plain(c, c->frame, n);
	nym_memzero(c->frame, sizeof(c->frame)); /* it may carry a ticket */
	return rc;
}

static void note(struct clientio_link *c, const struct link_msg *m)
{
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
	if (c->on_msg)
		c->on_msg(c->arg, m);
}

int clientio_link_next_msg(struct clientio_link *c, struct link_msg *m, uint64_t ms)
{
	uint64_t deadline = now_ms() + ms;
	for (;;) {
		struct link_frame f;
		int rc = link_frame_decoder_next(&c->dec, &f);
		if (rc == 0) {
			rc = link_msg_decode(&f, LINK_FROM_GATEWAY, m);
			if (rc == 0)
				note(c, m);
			return rc;
		}
		if (rc != -EAGAIN)
			return rc;
		/* More plaintext from Noise. */
		struct noise_session_event ev;
		rc = noise_session_next(&c->noise, c->plain, sizeof(c->plain), &ev);
		if (rc == 0) {
			if (ev.send && (rc = clientio_link_write_all(c, ev.send, ev.send_len)) != 0)
				return rc;
			if (ev.data_len && (rc = link_frame_decoder_feed(&c->dec, ev.data, ev.data_len)) != 0)
				return rc;
			continue;
		}
		if (rc != -EAGAIN)
			return rc;
		if (c->eof)
			return -ECONNRESET;
		uint64_t now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		ssize_t n = clientio_link_read_some(c, deadline - now);
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

int clientio_link_expect(struct clientio_link *c, struct link_msg *m, enum link_msg_type a, enum link_msg_type b)
{
	for (;;) {
		int rc = clientio_link_next_msg(c, m, c->timeout_ms);
		if (rc)
			return rc;
		if (m->type == a || m->type == b || m->type == LINK_MSG_CLOSE)
			return 0;
	}
}

const char *clientio_link_answer_name(const struct link_msg *m)
{
	if (m->type == LINK_MSG_ERROR)
		return link_error_name(m->error.code) ? link_error_name(m->error.code) : "unknown";
	return link_msg_type_name(m->type);
}

bool clientio_link_drain(struct clientio_link *c, uint64_t ms)
{
	struct link_msg m;
	uint64_t end = now_ms() + ms;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= end)
			return false;
		int rc = clientio_link_next_msg(c, &m, end - now);
		if (rc == -ETIMEDOUT)
			return false;
		if (rc)
			return true;
		if (m.type == LINK_MSG_CLOSE)
			return true;
	}
}

int clientio_link_handshake(struct clientio_link *c, const uint8_t gateway_noise[32])
{
	struct nym_x25519_keypair kp;
	uint8_t first[128];
	size_t n;
	nym_x25519_generate(&kp); /* a fresh static key per connection */
	int rc = noise_session_init(&c->noise, NOISE_INITIATOR, &kp, gateway_noise, NULL);
	nym_x25519_keypair_clear(&kp);
	if (rc || (rc = noise_session_start(&c->noise, first, sizeof(first), &n)) != 0 ||
	    (rc = clientio_link_write_all(c, first, n)) != 0)
		return rc;
	while (!noise_session_established(&c->noise)) {
		ssize_t got = clientio_link_read_some(c, c->timeout_ms);
		if (got <= 0)
			return got == 0 ? -ECONNRESET : (int)got;
		if ((rc = noise_session_feed(&c->noise, c->rbuf, (size_t)got)) != 0)
			return rc;
		struct noise_session_event ev;
		while ((rc = noise_session_next(&c->noise, c->plain, sizeof(c->plain), &ev)) == 0) {
			if (ev.send && (rc = clientio_link_write_all(c, ev.send, ev.send_len)) != 0)
				return rc;
			if (ev.data_len && (rc = link_frame_decoder_feed(&c->dec, ev.data, ev.data_len)) != 0)
				return rc;
		}
		if (rc != -EAGAIN)
			return rc;
	}
	return 0;
}

static int connect_within(int fd, const struct sockaddr *gateway, socklen_t len, uint64_t timeout_ms)
{
	if (connect(fd, gateway, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r = poll(&p, 1, poll_ms(timeout_ms));
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return -errno;
	return soerr ? -soerr : 0;
}

int clientio_link_connect(struct clientio_link *c, const struct sockaddr *gateway, socklen_t gateway_len,
			  const struct clientio_link_options *o)
{
	static const struct clientio_link_options none;
	if (!o)
		o = &none;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	c->on_msg = o->on_msg;
	c->arg = o->arg;
	link_frame_decoder_init(&c->dec, LINK_FROM_GATEWAY);
	int fd = socket(gateway->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (o->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &o->fwmark, sizeof(o->fwmark)) != 0)
		rc = -errno;
	if (rc == 0 && o->bind_ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->bind_ifname, (socklen_t)strlen(o->bind_ifname)) != 0)
		rc = -errno;
	if (rc == 0)
		rc = connect_within(fd, gateway, gateway_len, c->timeout_ms);
	if (rc) {
		close(fd);
		return rc;
	}
	sock_tcp_tune(fd);
	c->fd = fd;
	return 0;
}

int clientio_link_hello(struct clientio_link *c, struct link_msg *m)
{
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
	int rc = clientio_link_send_msg(c, &hello);
	if (rc == 0)
		rc = clientio_link_expect(c, m, LINK_MSG_VERSION, LINK_MSG_ERROR);
	if (rc == 0 && m->type != LINK_MSG_VERSION)
		rc = -ECONNREFUSED;
	return rc;
}

void clientio_link_close(struct clientio_link *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	noise_session_clear(&c->noise);
	nym_memzero(c->plain, sizeof(c->plain));
	nym_memzero(c->frame, sizeof(c->frame));
}
