#include "nodectl/debug/link_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clientio/clientio_link.h"
#include "cred/ticketbook.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "link/link_frame.h"
#include "link/link_msg.h"
#include "noise/noise_session.h"
#include "util/clock.h"
#include "util/hex.h"

/* Notes the gateway's ERROR frames by name as they pass. */
static void note_error(void *arg, const struct link_msg *m)
{
	if (m->type == LINK_MSG_ERROR)
		json_array_append_new((json_t *)arg, json_string(clientio_link_answer_name(m)));
}

static int send_packets(struct clientio_link *c, const struct link_client_options *o)
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
		int rc = clientio_link_send_msg(c, &m);
		if (rc)
			return rc;
		done += k;
	}
	return 0;
}

int link_client_run(const struct link_client_options *o, json_t **out, char *err, size_t errlen)
{
	static struct clientio_link c;
	struct nym_ticketbook *book = NULL;
	struct nym_ed25519_keypair id;
	struct link_msg m;
	json_t *r = json_object(), *spends = json_array(), *errors = json_array();
	int rc;
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	*out = NULL;
	if (o->book_path && (rc = nym_ticketbook_load(&book, o->book_path)) != 0) {
		snprintf(err, errlen, "%s: cannot load the ticketbook: %s", o->book_path, strerror(-rc));
		goto fail;
	}
	if (o->have_seed)
		nym_ed25519_from_seed(&id, o->identity_seed);
	else
		nym_ed25519_generate(&id);
	struct clientio_link_options lo = { .timeout_ms = o->timeout_ms, .on_msg = note_error, .arg = errors };
	if ((rc = clientio_link_connect(&c, (const struct sockaddr *)&o->gateway.ss, o->gateway.len, &lo)) != 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(-rc));
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
		clientio_link_write_all(&c, junk, sizeof(junk));
		json_object_set_new(r, "closed_by_gateway", json_boolean(clientio_link_read_some(&c, c.timeout_ms) <= 0 || clientio_link_read_some(&c, c.timeout_ms) <= 0));
		goto done;
	}
	if ((rc = clientio_link_handshake(&c, o->gateway_noise)) != 0) {
		json_object_set_new(r, "handshake", json_false());
		json_object_set_new(r, "handshake_error", json_string(strerror(-rc)));
		goto done;
	}
	json_object_set_new(r, "handshake", json_true());
	if (o->abuse == LINK_CLIENT_NO_AUTH) {
		struct link_msg h = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
		clientio_link_send_msg(&c, &h);
		clientio_link_expect(&c, &m, LINK_MSG_VERSION, LINK_MSG_ERROR);
		struct link_client_options one = *o;
		one.send = 1;
		send_packets(&c, &one);
		json_object_set_new(r, "closed_by_gateway", json_boolean(clientio_link_drain(&c, c.timeout_ms)));
		goto done;
	}
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
	if ((rc = clientio_link_send_msg(&c, &hello)) != 0 || (rc = clientio_link_expect(&c, &m, LINK_MSG_VERSION, LINK_MSG_ERROR)) != 0) {
		json_object_set_new(r, "version_error", json_string(strerror(-rc)));
		goto done;
	}
	if (m.type != LINK_MSG_VERSION) {
		json_object_set_new(r, "version", json_string(clientio_link_answer_name(&m)));
		goto done;
	}
	json_object_set_new(r, "version", json_integer(m.version));
	if (o->abuse == LINK_CLIENT_OVERSIZE) {
		uint8_t hdr[4 + 64] = { LINK_MSG_AUTH, 0, 0x10, 0x00 };
		clientio_link_send_plain(&c, hdr, sizeof(hdr));
		json_object_set_new(r, "closed_by_gateway", json_boolean(clientio_link_drain(&c, c.timeout_ms)));
		goto done;
	}
	uint8_t h[32];
	noise_session_handshake_hash(&c.noise, h);
	struct link_msg auth = { .type = LINK_MSG_AUTH };
	link_auth_sign(&id, h, (uint64_t)(nym_clock_unix_now() + o->skew_s), &auth.auth);
	if (o->abuse == LINK_CLIENT_BAD_SIGNATURE)
		auth.auth.signature[0] ^= 0x80;
	if ((rc = clientio_link_send_msg(&c, &auth)) != 0 || (rc = clientio_link_expect(&c, &m, LINK_MSG_AUTH_OK, LINK_MSG_ERROR)) != 0) {
		json_object_set_new(r, "auth", json_string(strerror(-rc)));
		goto done;
	}
	json_object_set_new(r, "auth", json_string(m.type == LINK_MSG_AUTH_OK ? "ok" : clientio_link_answer_name(&m)));
	if (m.type != LINK_MSG_AUTH_OK) {
		json_object_set_new(r, "closed_by_gateway", json_boolean(clientio_link_drain(&c, c.timeout_ms)));
		goto done;
	}
	json_object_set_new(r, "balance_at_auth", json_integer((json_int_t)m.balance));
	if (o->abuse == LINK_CLIENT_GARBAGE_FRAME) {
		uint8_t junk[8] = { 0x42, 0, 0, 4, 1, 2, 3, 4 };
		clientio_link_send_plain(&c, junk, sizeof(junk));
		json_object_set_new(r, "closed_by_gateway", json_boolean(clientio_link_drain(&c, c.timeout_ms)));
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
		if ((rc = clientio_link_send_msg(&c, &sp)) != 0 || (rc = clientio_link_expect(&c, &m, LINK_MSG_BANDWIDTH, LINK_MSG_ERROR)) != 0) {
			json_array_append_new(spends, json_pack("{s:b, s:s}", "ok", 0, "answer", strerror(-rc)));
			break;
		}
		if (m.type == LINK_MSG_BANDWIDTH)
			json_array_append_new(spends, json_pack("{s:b, s:I}", "ok", 1, "balance", (json_int_t)m.balance));
		else
			json_array_append_new(spends, json_pack("{s:b, s:s}", "ok", 0, "answer", clientio_link_answer_name(&m)));
	}
	json_object_set_new(r, "spends", spends);
	spends = NULL;
	if (o->send && (rc = send_packets(&c, o)) != 0)
		json_object_set_new(r, "send_error", json_string(strerror(-rc)));
	json_object_set_new(r, "sent", json_integer((json_int_t)o->send));
	bool closed = false;
	if (o->wait_ms)
		closed = clientio_link_drain(&c, o->wait_ms);
	json_object_set_new(r, "closed_by_gateway", json_boolean(closed));
	if (!closed) {
		struct link_msg cl = { .type = LINK_MSG_CLOSE };
		clientio_link_send_msg(&c, &cl);
		closed = clientio_link_drain(&c, c.timeout_ms);
	}
	json_object_set_new(r, "closed", json_boolean(closed));
done:
	json_object_set_new(r, "received", json_integer((json_int_t)c.received));
	json_object_set_new(r, "received_acks", json_integer((json_int_t)c.received_acks));
	json_object_set_new(r, "low_balance", json_integer((json_int_t)c.low_balance));
	if (c.have_balance)
		json_object_set_new(r, "balance", json_integer((json_int_t)c.last_balance));
	json_object_set_new(r, "errors", errors);
	errors = NULL;
	if (spends)
		json_decref(spends);
	*out = r;
	rc = 0;
	goto out;
fail:
	json_decref(r);
	json_decref(spends);
	json_decref(errors);
out:
	clientio_link_close(&c);
	nym_ed25519_keypair_clear(&id);
	nym_ticketbook_free(book);
	return rc;
}
