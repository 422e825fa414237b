#include "clientio/clientio_wgreg.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_wg_register.h"
#include "clientio/clientio.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"
#include "io/sock.h"
#include "link/link_frame.h"
#include "noise/noise_session.h"
#include "util/clock.h"

struct wgreg_link {
	int fd;
	long timeout_ms;
	struct noise_session noise;
	struct link_frame_decoder dec;
	uint8_t rbuf[16384];
	uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
	uint8_t frame[LINK_FRAME_MAX_LEN];
	uint8_t sealed[2 * LINK_FRAME_MAX_LEN];
	bool eof;
};

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t read_some(struct wgreg_link *l, long ms)
{
	struct pollfd p = { l->fd, POLLIN, 0 };
	int r = poll(&p, 1, (int)ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	ssize_t n = recv(l->fd, l->rbuf, sizeof(l->rbuf), 0);
	return n < 0 ? -errno : n;
}

static int send_msg(struct wgreg_link *l, const struct link_msg *m)
{
	size_t n, w;
	int rc = link_msg_encode(m, l->frame, sizeof(l->frame), &n);
	if (rc == 0)
		rc = noise_session_seal(&l->noise, l->frame, n, l->sealed, sizeof(l->sealed), &w);
	nym_memzero(l->frame, sizeof(l->frame));
	return rc ? rc : write_all(l->fd, l->sealed, w);
}

static int next_msg(struct wgreg_link *l, struct link_msg *m)
{
	uint64_t deadline = nym_clock_now_ns() / NYM_NS_PER_MS + (uint64_t)l->timeout_ms;
	for (;;) {
		struct link_frame f;
		int rc = link_frame_decoder_next(&l->dec, &f);
		if (rc == 0)
			return link_msg_decode(&f, LINK_FROM_GATEWAY, m);
		if (rc != -EAGAIN)
			return rc;
		struct noise_session_event ev;
		rc = noise_session_next(&l->noise, l->plain, sizeof(l->plain), &ev);
		if (rc == 0) {
			if (ev.send && (rc = write_all(l->fd, ev.send, ev.send_len)) != 0)
				return rc;
			if (ev.data_len && (rc = link_frame_decoder_feed(&l->dec, ev.data, ev.data_len)) != 0)
				return rc;
			continue;
		}
		if (rc != -EAGAIN)
			return rc;
		if (l->eof)
			return -ECONNRESET;
		uint64_t now = nym_clock_now_ns() / NYM_NS_PER_MS;
		if (now >= deadline)
			return -ETIMEDOUT;
		ssize_t n = read_some(l, (long)(deadline - now));
		if (n == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (n <= 0) {
			l->eof = true;
			continue;
		}
		if ((rc = noise_session_feed(&l->noise, l->rbuf, (size_t)n)) != 0)
			return rc;
	}
}

static int handshake(struct wgreg_link *l, const uint8_t gateway_noise[32])
{
	struct nym_x25519_keypair kp;
	uint8_t first[128];
	size_t n;
	nym_x25519_generate(&kp); /* a fresh static key: the link proves nothing about us */
	int rc = noise_session_init(&l->noise, NOISE_INITIATOR, &kp, gateway_noise, NULL);
	nym_x25519_keypair_clear(&kp);
	if (rc || (rc = noise_session_start(&l->noise, first, sizeof(first), &n)) != 0 ||
	    (rc = write_all(l->fd, first, n)) != 0)
		return rc;
	while (!noise_session_established(&l->noise)) {
		ssize_t got = read_some(l, l->timeout_ms);
		if (got <= 0)
			return got == 0 ? -ECONNRESET : (int)got;
		if ((rc = noise_session_feed(&l->noise, l->rbuf, (size_t)got)) != 0)
			return rc;
		struct noise_session_event ev;
		while ((rc = noise_session_next(&l->noise, l->plain, sizeof(l->plain), &ev)) == 0) {
			if (ev.send && (rc = write_all(l->fd, ev.send, ev.send_len)) != 0)
				return rc;
			if (ev.data_len && (rc = link_frame_decoder_feed(&l->dec, ev.data, ev.data_len)) != 0)
				return rc;
		}
		if (rc != -EAGAIN)
			return rc;
	}
	return 0;
}

static int connect_marked(const struct clientio_wgreg_config *c, long timeout_ms, int *out)
{
	int fd = socket(c->gateway->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (c->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &c->fwmark, sizeof(c->fwmark)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (c->bind_ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->bind_ifname, (socklen_t)strlen(c->bind_ifname)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int rc = connect(fd, c->gateway, c->gateway_len);
	if (rc != 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		rc = poll(&p, 1, (int)timeout_ms);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
			rc = 0;
		} else {
			errno = rc == 0 ? ETIMEDOUT : (soerr ? soerr : EIO);
			rc = -1;
		}
	}
	if (rc != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	sock_tcp_tune(fd);
	*out = fd;
	return 0;
}

/* Waits for an answer other than noise (BANDWIDTH, LOW_BALANCE pass by). */
static int expect(struct wgreg_link *l, struct link_msg *m)
{
	for (;;) {
		int rc = next_msg(l, m);
		if (rc)
			return rc;
		if (m->type != LINK_MSG_BANDWIDTH && m->type != LINK_MSG_LOW_BALANCE && m->type != LINK_MSG_RECEIVE)
			return 0;
	}
}

int clientio_wgreg_register(const struct clientio_wgreg_config *c, struct clientio_wgreg_result *out, char *err,
			    size_t errlen)
{
	struct wgreg_link *l = calloc(1, sizeof(*l));
	struct client_wg_register reg;
	struct link_msg m, send;
	bool more;
	int rc;
	memset(out, 0, sizeof(*out));
	memset(&reg, 0, sizeof(reg));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fd = -1;
	l->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
	link_frame_decoder_init(&l->dec, LINK_FROM_GATEWAY);
	rc = client_wg_register_init(&reg, c->wg_key, NULL, c->ticket, c->ticket_len);
	if (rc) {
		snprintf(err, errlen, "a ticket of a length the link does not carry");
		goto out;
	}
	rc = connect_marked(c, l->timeout_ms, &l->fd);
	if (rc) {
		snprintf(err, errlen, "cannot connect to the gateway: %s", strerror(-rc));
		goto out;
	}
	rc = handshake(l, c->gateway_noise);
	if (rc) {
		snprintf(err, errlen, "the Noise handshake with the gateway failed: %s", strerror(-rc));
		goto out;
	}
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
	if ((rc = send_msg(l, &hello)) != 0 || (rc = expect(l, &m)) != 0) {
		snprintf(err, errlen, "no VERSION from the gateway: %s", strerror(-rc));
		goto out;
	}
	if (m.type != LINK_MSG_VERSION) {
		rc = -EPROTO;
		snprintf(err, errlen, "the gateway answered HELLO with %s", link_msg_type_name(m.type));
		goto out;
	}
	if ((rc = client_wg_register_start(&reg, &send)) != 0 || (rc = send_msg(l, &send)) != 0) {
		snprintf(err, errlen, "cannot send WG_INIT: %s", strerror(-rc));
		goto out;
	}
	while (!client_wg_register_done(&reg)) {
		rc = expect(l, &m);
		if (rc) {
			snprintf(err, errlen, "no registration answer from the gateway: %s", strerror(-rc));
			goto out;
		}
		if (m.type == LINK_MSG_CLOSE) {
			rc = -ECONNRESET;
			snprintf(err, errlen, "the gateway closed the link during the registration");
			goto out;
		}
		rc = client_wg_register_on_msg(&reg, &m, &send, &more);
		if (rc == -ENOMSG)
			continue;
		if (rc) {
			if (rc == -ECONNREFUSED) {
				const char *name = link_error_name(reg.error);
				snprintf(err, errlen, "the gateway refused the registration: %s", name ? name : "unknown error");
			} else {
				snprintf(err, errlen, "bad registration answer from the gateway: %s",
					 rc == -EBADMSG ? "bad MAC" : "out of place or inconsistent");
			}
			goto out;
		}
		if (more && (rc = send_msg(l, &send)) != 0) {
			snprintf(err, errlen, "cannot send WG_FINAL: %s", strerror(-rc));
			goto out;
		}
		nym_memzero(&send, sizeof(send));
	}
	out->reg = reg.result;
	out->ticket_used = client_wg_register_ticket_used(&reg);
	struct link_msg cl = { .type = LINK_MSG_CLOSE };
	send_msg(l, &cl); /* best effort */
	rc = 0;
out:
	if (rc && reg.ticket_used)
		out->ticket_used = true;
	client_wg_register_clear(&reg);
	if (l->fd >= 0)
		close(l->fd);
	noise_session_clear(&l->noise);
	nym_memzero(l, sizeof(*l));
	free(l);
	return rc;
}

size_t clientio_wgreg_tickets_left(const char *dir, enum nym_ticket_type type, int64_t now)
{
	char p[PATH_MAX];
	size_t total = 0;
	clientio_ticketbook_pick(dir, type, now, p, sizeof(p), &total);
	return total;
}

int clientio_wgreg_take_ticket(const char *dir, enum nym_ticket_type type, int64_t now, uint8_t *ticket, size_t cap,
			       size_t *len, size_t *left)
{
	char path[PATH_MAX];
	size_t total = 0, index;
	if (left)
		*left = 0;
	int rc = clientio_ticketbook_pick(dir, type, now, path, sizeof(path), &total);
	if (rc)
		return rc;
	struct nym_ticketbook *book = NULL;
	if ((rc = nym_ticketbook_load(&book, path)) != 0)
		return rc;
	if ((rc = nym_ticketbook_take(book, &index)) == 0 && (rc = nym_ticketbook_save(book, path)) == 0)
		rc = nym_ticketbook_ticket(book, index, ticket, cap, len); /* spent in the file first */
	nym_ticketbook_free(book);
	if (rc == 0 && left)
		*left = total - 1;
	return rc;
}
