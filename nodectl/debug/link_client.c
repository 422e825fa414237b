#include "nodectl/debug/link_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cred/ticketbook.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "link/link_frame.h"
#include "link/link_msg.h"
#include "noise/noise_session.h"
#include "util/clock.h"
#include "util/hex.h"

struct lc {
	int fd;
	uint64_t timeout_ms;
	struct noise_session noise;
	struct link_frame_decoder dec;
	uint8_t rbuf[65536];
	uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
	size_t plain_len, plain_off; /* decrypted bytes not yet given to the decoder */
	bool eof;
	json_t *errors;
	uint64_t received, low_balance, last_balance;
	uint64_t received_acks; /* RECEIVE items of the ack class */
	bool have_balance;
};

static int write_all(int fd, const uint8_t *b, size_t n)
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
static ssize_t read_some(struct lc *c, uint64_t ms)
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

static int send_plain(struct lc *c, const uint8_t *b, size_t n)
{
	static uint8_t sealed[2 * LINK_FRAME_MAX_LEN];
	size_t w;
	int rc = noise_session_seal(&c->noise, b, n, sealed, sizeof(sealed), &w);
	return rc ? rc : write_all(c->fd, sealed, w);
}

static int send_msg(struct lc *c, const struct link_msg *m)
{
	static uint8_t frame[LINK_FRAME_MAX_LEN];
	size_t n;
	int rc = link_msg_encode(m, frame, sizeof(frame), &n);
	return rc ? rc : send_plain(c, frame, n);
}

/* The next message from the gateway, within ms. Returns 0, -ETIMEDOUT, -ECONNRESET (closed) or a
 * decoding error. Notes RECEIVE, LOW_BALANCE and ERROR frames as they pass. */
static int next_msg(struct lc *c, struct link_msg *m, uint64_t ms)
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
		ssize_t n = read_some(c, deadline - now);
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
static int expect(struct lc *c, struct link_msg *m, enum link_msg_type a, enum link_msg_type b)
{
	for (;;) {
		int rc = next_msg(c, m, c->timeout_ms);
		if (rc)
			return rc;
		if (m->type == a || m->type == b || m->type == LINK_MSG_CLOSE)
			return 0;
	}
}

static const char *answer_name(const struct link_msg *m)
{
	if (m->type == LINK_MSG_ERROR)
		return link_error_name(m->error.code) ? link_error_name(m->error.code) : "unknown";
	return link_msg_type_name(m->type);
}

/* Reads until the gateway closes or ms pass; says whether it closed. */
static bool drain(struct lc *c, uint64_t ms)
{
	struct link_msg m;
	uint64_t end = nym_clock_now_ns() / NYM_NS_PER_MS + ms;
	for (;;) {
		uint64_t now = nym_clock_now_ns() / NYM_NS_PER_MS;
		if (now >= end)
			return false;
		int rc = next_msg(c, &m, end - now);
		if (rc == -ETIMEDOUT)
			return false;
		if (rc)
			return true;
		if (m.type == LINK_MSG_CLOSE)
			return true;
	}
}

static int handshake(struct lc *c, const uint8_t gateway_noise[32])
{
	struct nym_x25519_keypair kp;
	uint8_t first[128];
	size_t n;
	nym_x25519_generate(&kp); /* a fresh static key per connection */
	int rc = noise_session_init(&c->noise, NOISE_INITIATOR, &kp, gateway_noise, NULL);
	nym_x25519_keypair_clear(&kp);
	if (rc || (rc = noise_session_start(&c->noise, first, sizeof(first), &n)) != 0 ||
	    (rc = write_all(c->fd, first, n)) != 0)
		return rc;
	while (!noise_session_established(&c->noise)) {
		ssize_t got = read_some(c, c->timeout_ms);
		if (got <= 0)
			return got == 0 ? -ECONNRESET : (int)got;
		if ((rc = noise_session_feed(&c->noise, c->rbuf, (size_t)got)) != 0)
			return rc;
		struct noise_session_event ev;
		while ((rc = noise_session_next(&c->noise, c->plain, sizeof(c->plain), &ev)) == 0) {
			if (ev.send && (rc = write_all(c->fd, ev.send, ev.send_len)) != 0)
				return rc;
			if (ev.data_len)
				link_frame_decoder_feed(&c->dec, ev.data, ev.data_len);
		}
		if (rc != -EAGAIN)
			return rc;
	}
	return 0;
}

static int send_packets(struct lc *c, const struct link_client_options *o)
{
	static uint8_t items[LINK_FRAME_MAX_LEN];
	static uint8_t packet[MIX_REGULAR_PACKET_LEN];
	size_t item = link_send_entry_len(MIX_PACKET_SIZE_REGULAR);
	size_t per = link_packets_per_frame(LINK_MSG_SEND, MIX_PACKET_SIZE_REGULAR);
	for (size_t done = 0; done < o->send;) {
		size_t k = o->send - done < per ? o->send - done : per;
		for (size_t i = 0; i < k; i++) {
			nym_random(packet, sizeof(packet));
			int rc = link_send_entry_write(items + i * item, MIX_PACKET_SIZE_REGULAR, 1,
						       (const struct sockaddr *)&o->first_hop.ss, o->first_hop.len, packet,
						       sizeof(packet));
			if (rc)
				return rc;
		}
		struct link_msg m = { .type = LINK_MSG_SEND,
				      .packets = { .size = MIX_PACKET_SIZE_REGULAR, .count = k, .item_len = item, .items = items } };
		int rc = send_msg(c, &m);
		if (rc)
			return rc;
		done += k;
	}
	return 0;
}

int link_client_run(const struct link_client_options *o, json_t **out, char *err, size_t errlen)
{
	static struct lc c;
	struct nym_ticketbook *book = NULL;
	struct nym_ed25519_keypair id;
	struct link_msg m;
	json_t *r = json_object(), *spends = json_array();
	int rc;
	memset(&c, 0, sizeof(c));
	c.timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	c.errors = json_array();
	link_frame_decoder_init(&c.dec, LINK_FROM_GATEWAY);
	*out = NULL;
	if (o->book_path && (rc = nym_ticketbook_load(&book, o->book_path)) != 0) {
		snprintf(err, errlen, "%s: cannot load the ticketbook: %s", o->book_path, strerror(-rc));
		goto fail;
	}
	if (o->have_seed)
		nym_ed25519_from_seed(&id, o->identity_seed);
	else
		nym_ed25519_generate(&id);
	c.fd = socket(o->gateway.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0 || connect(c.fd, (const struct sockaddr *)&o->gateway.ss, o->gateway.len) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot connect: %s", strerror(errno));
		goto fail;
	}
	char idhex[65];
	nym_hex_encode(idhex, id.public_key, 32);
	json_object_set_new(r, "identity", json_string(idhex));
	json_object_set_new(r, "connected", json_true());
	if (o->abuse == LINK_CLIENT_GARBAGE_RAW) {
		uint8_t junk[512];
		nym_random(junk, sizeof(junk));
		junk[0] = 0x01; /* looks like a Noise frame header at first */
		write_all(c.fd, junk, sizeof(junk));
		json_object_set_new(r, "closed_by_gateway", json_boolean(read_some(&c, c.timeout_ms) <= 0 || read_some(&c, c.timeout_ms) <= 0));
		goto done;
	}
	if ((rc = handshake(&c, o->gateway_noise)) != 0) {
		json_object_set_new(r, "handshake", json_false());
		json_object_set_new(r, "handshake_error", json_string(strerror(-rc)));
		goto done;
	}
	json_object_set_new(r, "handshake", json_true());
	if (o->abuse == LINK_CLIENT_NO_AUTH) {
		struct link_msg h = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
		send_msg(&c, &h);
		expect(&c, &m, LINK_MSG_VERSION, LINK_MSG_ERROR);
		struct link_client_options one = *o;
		one.send = 1;
		send_packets(&c, &one);
		json_object_set_new(r, "closed_by_gateway", json_boolean(drain(&c, c.timeout_ms)));
		goto done;
	}
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
	if ((rc = send_msg(&c, &hello)) != 0 || (rc = expect(&c, &m, LINK_MSG_VERSION, LINK_MSG_ERROR)) != 0) {
		json_object_set_new(r, "version_error", json_string(strerror(-rc)));
		goto done;
	}
	if (m.type != LINK_MSG_VERSION) {
		json_object_set_new(r, "version", json_string(answer_name(&m)));
		goto done;
	}
	json_object_set_new(r, "version", json_integer(m.version));
	if (o->abuse == LINK_CLIENT_OVERSIZE) {
		uint8_t hdr[4 + 64] = { LINK_MSG_AUTH, 0, 0x10, 0x00 };
		send_plain(&c, hdr, sizeof(hdr));
		json_object_set_new(r, "closed_by_gateway", json_boolean(drain(&c, c.timeout_ms)));
		goto done;
	}
	uint8_t h[32];
	noise_session_handshake_hash(&c.noise, h);
	struct link_msg auth = { .type = LINK_MSG_AUTH };
	link_auth_sign(&id, h, (uint64_t)(nym_clock_unix_now() + o->skew_s), &auth.auth);
	if (o->abuse == LINK_CLIENT_BAD_SIGNATURE)
		auth.auth.signature[0] ^= 0x80;
	if ((rc = send_msg(&c, &auth)) != 0 || (rc = expect(&c, &m, LINK_MSG_AUTH_OK, LINK_MSG_ERROR)) != 0) {
		json_object_set_new(r, "auth", json_string(strerror(-rc)));
		goto done;
	}
	json_object_set_new(r, "auth", json_string(m.type == LINK_MSG_AUTH_OK ? "ok" : answer_name(&m)));
	if (m.type != LINK_MSG_AUTH_OK) {
		json_object_set_new(r, "closed_by_gateway", json_boolean(drain(&c, c.timeout_ms)));
		goto done;
	}
	json_object_set_new(r, "balance_at_auth", json_integer((json_int_t)m.balance));
	if (o->abuse == LINK_CLIENT_GARBAGE_FRAME) {
		uint8_t junk[8] = { 0x42, 0, 0, 4, 1, 2, 3, 4 };
		send_plain(&c, junk, sizeof(junk));
		json_object_set_new(r, "closed_by_gateway", json_boolean(drain(&c, c.timeout_ms)));
		goto done;
	}
	size_t tickets = book ? (o->tickets ? o->tickets : 1) : 0;
	uint8_t first_ticket[NYM_TICKET_MAX_LEN];
	size_t first_len = 0;
	for (size_t i = 0; i <= tickets; i++) {
		uint8_t t[NYM_TICKET_MAX_LEN];
		size_t tlen;
		if (i == tickets) {
			if (!o->spend_twice || !first_len)
				break;
			memcpy(t, first_ticket, first_len); /* the replay */
			tlen = first_len;
		} else if (nym_ticketbook_ticket(book, o->ticket_index + i, t, sizeof(t), &tlen) != 0) {
			snprintf(err, errlen, "the ticketbook holds no ticket %zu", o->ticket_index + i);
			rc = -ENOENT;
			goto fail;
		} else {
			if (o->forge_ticket)
				t[tlen - 1] ^= 1;
			if (i == 0) {
				memcpy(first_ticket, t, tlen);
				first_len = tlen;
			}
		}
		struct link_msg sp = { .type = LINK_MSG_SPEND_TICKET, .ticket = { t, tlen } };
		if ((rc = send_msg(&c, &sp)) != 0 || (rc = expect(&c, &m, LINK_MSG_BANDWIDTH, LINK_MSG_ERROR)) != 0) {
			json_array_append_new(spends, json_pack("{s:b, s:s}", "ok", 0, "answer", strerror(-rc)));
			break;
		}
		if (m.type == LINK_MSG_BANDWIDTH)
			json_array_append_new(spends, json_pack("{s:b, s:I}", "ok", 1, "balance", (json_int_t)m.balance));
		else
			json_array_append_new(spends, json_pack("{s:b, s:s}", "ok", 0, "answer", answer_name(&m)));
	}
	json_object_set_new(r, "spends", spends);
	spends = NULL;
	if (o->send && (rc = send_packets(&c, o)) != 0)
		json_object_set_new(r, "send_error", json_string(strerror(-rc)));
	json_object_set_new(r, "sent", json_integer((json_int_t)o->send));
	bool closed = false;
	if (o->wait_ms)
		closed = drain(&c, o->wait_ms);
	json_object_set_new(r, "closed_by_gateway", json_boolean(closed));
	if (!closed) {
		struct link_msg cl = { .type = LINK_MSG_CLOSE };
		send_msg(&c, &cl);
		closed = drain(&c, c.timeout_ms);
	}
	json_object_set_new(r, "closed", json_boolean(closed));
done:
	json_object_set_new(r, "received", json_integer((json_int_t)c.received));
	json_object_set_new(r, "received_acks", json_integer((json_int_t)c.received_acks));
	json_object_set_new(r, "low_balance", json_integer((json_int_t)c.low_balance));
	if (c.have_balance)
		json_object_set_new(r, "balance", json_integer((json_int_t)c.last_balance));
	json_object_set_new(r, "errors", c.errors);
	c.errors = NULL;
	if (spends)
		json_decref(spends);
	*out = r;
	rc = 0;
	goto out;
fail:
	json_decref(r);
	json_decref(spends);
	json_decref(c.errors);
out:
	if (c.fd > 0)
		close(c.fd);
	noise_session_clear(&c.noise);
	nym_ed25519_keypair_clear(&id);
	nym_ticketbook_free(book);
	return rc;
}
