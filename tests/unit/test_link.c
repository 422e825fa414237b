/* The client link's frames and messages (lib/link): header bounds per type and sender, the
 * streaming decoder, every message's layout written out by hand, round trips, refusals,
 * version choice and the session-bound authentication. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "link/link_frame.h"
#include "link/link_msg.h"
#include "mix/mix_frame.h"
#include "mix/mix_surb_ack.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(link, .init = setup);

/* Frames m, checks the bytes against want (when given), decodes them back through the
 * streaming decoder of the receiving side and returns the decoded message. */
static void round_trip(const struct link_msg *m, enum link_side from, const uint8_t *want,
		       size_t want_len, struct link_msg *back)
{
	static uint8_t buf[LINK_FRAME_MAX_LEN];
	static struct link_frame_decoder d;
	size_t n;
	cr_assert_eq(link_msg_encode(m, buf, sizeof(buf), &n), 0, "encode type %d", m->type);
	if (want) {
		cr_assert_eq(n, want_len, "type %d: %zu bytes, want %zu", m->type, n, want_len);
		cr_assert_arr_eq(buf, want, want_len, "type %d bytes", m->type);
	}
	link_frame_decoder_init(&d, from);
	cr_assert_eq(link_frame_decoder_feed(&d, buf, n), 0);
	struct link_frame f;
	cr_assert_eq(link_frame_decoder_next(&d, &f), 0);
	cr_assert_eq(f.header.type, m->type);
	cr_assert_eq(f.body_len + LINK_FRAME_HEADER_LEN, n);
	cr_assert_eq(link_msg_decode(&f, from, back), 0, "decode type %d", m->type);
	cr_assert_eq(link_frame_decoder_next(&d, &f), -EAGAIN);
	/* The decoded message encodes to the same bytes. */
	static uint8_t again[LINK_FRAME_MAX_LEN];
	size_t n2;
	cr_assert_eq(link_msg_encode(back, again, sizeof(again), &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_arr_eq(again, buf, n);
}

static int decode_body(unsigned type, const uint8_t *body, size_t len, enum link_side from,
		       struct link_msg *m)
{
	struct link_frame f = { .header = { .type = (uint8_t)type, .len = (uint16_t)len },
				.body = body,
				.body_len = len };
	return link_msg_decode(&f, from, m);
}

/* ---- header ---- */

Test(link, types_senders_and_bounds)
{
	static const struct {
		unsigned type;
		const char *name;
		bool client, gateway;
		size_t min, max;
	} want[] = {
		{ LINK_MSG_HELLO, "hello", true, false, 2, 2 },
		{ LINK_MSG_VERSION, "version", false, true, 1, 1 },
		{ LINK_MSG_AUTH, "auth", true, false, 104, 104 },
		{ LINK_MSG_AUTH_OK, "auth_ok", false, true, 8, 8 },
		{ LINK_MSG_SPEND_TICKET, "spend_ticket", true, false, 329, 585 },
		{ LINK_MSG_BANDWIDTH, "bandwidth", false, true, 8, 8 },
		{ LINK_MSG_LOW_BALANCE, "low_balance", false, true, 8, 8 },
		{ LINK_MSG_SEND, "send", true, false, 407, 65535 },
		{ LINK_MSG_RECEIVE, "receive", false, true, 22, 65535 },
		{ LINK_MSG_ERROR, "error", true, true, 2, 202 },
		{ LINK_MSG_CLOSE, "close", true, true, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		size_t min, max;
		cr_assert_str_eq(link_msg_type_name(want[i].type), want[i].name);
		cr_assert_eq(link_msg_type_allowed(want[i].type, LINK_FROM_CLIENT), want[i].client);
		cr_assert_eq(link_msg_type_allowed(want[i].type, LINK_FROM_GATEWAY), want[i].gateway);
		cr_assert_eq(link_msg_body_bounds(want[i].type, &min, &max), 0);
		cr_assert_eq(min, want[i].min, "%s min", want[i].name);
		cr_assert_eq(max, want[i].max, "%s max", want[i].name);
	}
	static const unsigned unknown[] = { 0, 0x13, 0x80, 0xff };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		size_t min, max;
		cr_assert_null(link_msg_type_name(unknown[i]));
		cr_assert_not(link_msg_type_allowed(unknown[i], LINK_FROM_CLIENT));
		cr_assert_not(link_msg_type_allowed(unknown[i], LINK_FROM_GATEWAY));
		cr_assert_eq(link_msg_body_bounds(unknown[i], &min, &max), -EINVAL);
	}
	cr_assert_eq(LINK_FRAME_MAX_LEN, 65539);
}

Test(link, header_layout_and_refusals)
{
	uint8_t h[LINK_FRAME_HEADER_LEN];
	struct link_frame_header got;
	cr_assert_eq(link_frame_header_encode(LINK_MSG_SEND, 0x1234, h), 0);
	static const uint8_t want[] = { 0x08, 0x00, 0x12, 0x34 };
	cr_assert_arr_eq(h, want, 4);
	cr_assert_eq(link_frame_header_decode(h, 4, LINK_FROM_CLIENT, &got), 0);
	cr_assert_eq(got.type, LINK_MSG_SEND);
	cr_assert_eq(got.len, 0x1234);
	/* Every prefix of a good header asks for more. */
	for (size_t n = 0; n < 4; n++)
		cr_assert_eq(link_frame_header_decode(h, n, LINK_FROM_CLIENT, &got), -EAGAIN);
	/* A gateway's type from a client, and the reverse, at the first byte. */
	cr_assert_eq(link_frame_header_decode(h, 1, LINK_FROM_GATEWAY, &got), -EINVAL);
	uint8_t v[] = { LINK_MSG_VERSION };
	cr_assert_eq(link_frame_header_decode(v, 1, LINK_FROM_CLIENT, &got), -EINVAL);
	/* Unknown types, at the first byte. */
	for (unsigned t = 0; t < 256; t++) {
		uint8_t b[1] = { (uint8_t)t };
		int r = link_frame_header_decode(b, 1, LINK_FROM_CLIENT, &got);
		cr_assert_eq(r, link_msg_type_allowed(t, LINK_FROM_CLIENT) ? -EAGAIN : -EINVAL,
			     "type %u", t);
	}
	/* The reserved byte, at the second. */
	uint8_t r1[] = { LINK_MSG_CLOSE, 0x01 };
	cr_assert_eq(link_frame_header_decode(r1, 2, LINK_FROM_CLIENT, &got), -EINVAL);
	uint8_t r80[] = { LINK_MSG_CLOSE, 0x80, 0, 0 };
	cr_assert_eq(link_frame_header_decode(r80, 4, LINK_FROM_GATEWAY, &got), -EINVAL);
	/* Lengths just outside each type's bounds. */
	for (unsigned t = LINK_MSG_TYPE_MIN; t <= LINK_MSG_TYPE_MAX; t++) {
		size_t min, max;
		enum link_side from = link_msg_type_allowed(t, LINK_FROM_CLIENT) ? LINK_FROM_CLIENT
										 : LINK_FROM_GATEWAY;
		link_msg_body_bounds(t, &min, &max);
		uint8_t b[4] = { (uint8_t)t, 0 };
		if (min > 0) {
			b[2] = (uint8_t)((min - 1) >> 8);
			b[3] = (uint8_t)(min - 1);
			cr_assert_eq(link_frame_header_decode(b, 4, from, &got), -EMSGSIZE, "type %u", t);
			cr_assert_eq(link_frame_header_encode(t, min - 1, h), -EMSGSIZE);
		}
		if (max < LINK_FRAME_MAX_BODY) {
			b[2] = (uint8_t)((max + 1) >> 8);
			b[3] = (uint8_t)(max + 1);
			cr_assert_eq(link_frame_header_decode(b, 4, from, &got), -EMSGSIZE, "type %u", t);
			cr_assert_eq(link_frame_header_encode(t, max + 1, h), -EMSGSIZE);
		}
		cr_assert_eq(link_frame_header_encode(t, min, h), 0);
		cr_assert_eq(link_frame_header_encode(t, max, h), 0);
	}
	cr_assert_eq(link_frame_header_encode(LINK_MSG_SEND, 65536, h), -EMSGSIZE);
	cr_assert_eq(link_frame_header_encode(0, 0, h), -EINVAL);
}

/* ---- messages, byte by byte ---- */

Test(link, hello_and_version_bytes)
{
	struct link_msg m = { .type = LINK_MSG_HELLO, .hello = { 1, 3 } }, back;
	static const uint8_t hello[] = { 0x01, 0x00, 0x00, 0x02, 0x01, 0x03 };
	round_trip(&m, LINK_FROM_CLIENT, hello, sizeof(hello), &back);
	cr_assert_eq(back.hello.min, 1);
	cr_assert_eq(back.hello.max, 3);

	m = (struct link_msg){ .type = LINK_MSG_VERSION, .version = 2 };
	static const uint8_t version[] = { 0x02, 0x00, 0x00, 0x01, 0x02 };
	round_trip(&m, LINK_FROM_GATEWAY, version, sizeof(version), &back);
	cr_assert_eq(back.version, 2);

	uint8_t out[16];
	size_t n;
	m = (struct link_msg){ .type = LINK_MSG_HELLO, .hello = { 0, 1 } };
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	m.hello = (typeof(m.hello)){ 3, 2 };
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	m = (struct link_msg){ .type = LINK_MSG_VERSION, .version = 0 };
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);

	static const uint8_t zero_min[] = { 0, 1 }, inverted[] = { 2, 1 }, zero_version[] = { 0 };
	cr_assert_eq(decode_body(LINK_MSG_HELLO, zero_min, 2, LINK_FROM_CLIENT, &back), -EINVAL);
	cr_assert_eq(decode_body(LINK_MSG_HELLO, inverted, 2, LINK_FROM_CLIENT, &back), -EINVAL);
	cr_assert_eq(decode_body(LINK_MSG_VERSION, zero_version, 1, LINK_FROM_GATEWAY, &back),
		     -EINVAL);
	cr_assert_eq(decode_body(LINK_MSG_HELLO, hello + 4, 1, LINK_FROM_CLIENT, &back), -EMSGSIZE);
	cr_assert_eq(decode_body(LINK_MSG_HELLO, hello + 4, 2, LINK_FROM_GATEWAY, &back), -EINVAL);
}

Test(link, auth_bytes)
{
	struct link_msg m = { .type = LINK_MSG_AUTH }, back;
	uint8_t want[4 + 104] = { 0x03, 0x00, 0x00, 0x68 };
	for (int i = 0; i < 32; i++)
		want[4 + i] = m.auth.identity[i] = (uint8_t)(0x10 + i);
	m.auth.timestamp = 0x0000000065920080ull; /* 2024-01-01T00:00:00Z */
	static const uint8_t ts[8] = { 0, 0, 0, 0, 0x65, 0x92, 0x00, 0x80 };
	memcpy(want + 36, ts, 8);
	for (int i = 0; i < 64; i++)
		want[44 + i] = m.auth.signature[i] = (uint8_t)(0xc0 ^ i);
	round_trip(&m, LINK_FROM_CLIENT, want, sizeof(want), &back);
	cr_assert_arr_eq(back.auth.identity, m.auth.identity, 32);
	cr_assert_eq(back.auth.timestamp, m.auth.timestamp);
	cr_assert_arr_eq(back.auth.signature, m.auth.signature, 64);
	for (size_t n = 0; n < 104; n++)
		cr_assert_eq(decode_body(LINK_MSG_AUTH, want + 4, n, LINK_FROM_CLIENT, &back),
			     -EMSGSIZE, "length %zu", n);
}

Test(link, balance_bytes)
{
	static const unsigned types[] = { LINK_MSG_AUTH_OK, LINK_MSG_BANDWIDTH, LINK_MSG_LOW_BALANCE };
	for (size_t i = 0; i < 3; i++) {
		struct link_msg m = { .type = types[i], .balance = 999999 }, back;
		const uint8_t want[] = { (uint8_t)types[i], 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x3f };
		round_trip(&m, LINK_FROM_GATEWAY, want, sizeof(want), &back);
		cr_assert_eq(back.balance, 999999);
		cr_assert_eq(decode_body(types[i], want + 4, 7, LINK_FROM_GATEWAY, &back), -EMSGSIZE);
		cr_assert_eq(decode_body(types[i], want + 4, 8, LINK_FROM_CLIENT, &back), -EINVAL);
	}
	cr_assert_eq(LINK_LOW_BALANCE_BYTES, 1000000);
}

Test(link, spend_ticket_bytes)
{
	static uint8_t ticket[NYM_TICKET_PREPARED_LEN + 512];
	for (size_t i = 0; i < sizeof(ticket); i++)
		ticket[i] = (uint8_t)(i * 7);
	ticket[NYM_BRSA_PREFIX_LEN] = NYM_TICKET_MIXNET_ENTRY; /* the message's type byte */
	ticket[NYM_BRSA_PREFIX_LEN + 1] = 0;		       /* an expiry that fits int64 */
	struct link_msg m = { .type = LINK_MSG_SPEND_TICKET }, back;
	static const size_t ks[] = { 256, 384, 512 };
	for (size_t i = 0; i < 3; i++) {
		size_t len = NYM_TICKET_PREPARED_LEN + ks[i];
		static uint8_t want[4 + sizeof(ticket)];
		want[0] = 0x05;
		want[1] = 0;
		want[2] = (uint8_t)(len >> 8);
		want[3] = (uint8_t)len;
		memcpy(want + 4, ticket, len);
		m.ticket.bytes = ticket;
		m.ticket.len = len;
		round_trip(&m, LINK_FROM_CLIENT, want, 4 + len, &back);
		cr_assert_eq(back.ticket.len, len);
		cr_assert_arr_eq(back.ticket.bytes, ticket, len);
	}
	cr_assert_eq(NYM_TICKET_PREPARED_LEN + 256, 0x149);
	/* Lengths inside the frame bounds that no key has. */
	static const size_t bad[] = { 329 - 1, 329 + 1, 73 + 383, 73 + 385, 73 + 511 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(decode_body(LINK_MSG_SPEND_TICKET, ticket, bad[i], LINK_FROM_CLIENT, &back),
			     -EMSGSIZE, "length %zu", bad[i]);
		uint8_t out[700];
		size_t n;
		m.ticket.len = bad[i];
		cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EMSGSIZE);
	}
	/* Not a ticket type. */
	ticket[NYM_BRSA_PREFIX_LEN] = 0;
	cr_assert_eq(decode_body(LINK_MSG_SPEND_TICKET, ticket, 329, LINK_FROM_CLIENT, &back), -EINVAL);
	ticket[NYM_BRSA_PREFIX_LEN] = 4;
	cr_assert_eq(decode_body(LINK_MSG_SPEND_TICKET, ticket, 329, LINK_FROM_CLIENT, &back), -EINVAL);
	/* An expiry past INT64_MAX. */
	ticket[NYM_BRSA_PREFIX_LEN] = NYM_TICKET_MIXNET_ENTRY;
	ticket[NYM_BRSA_PREFIX_LEN + 1] = 0x80;
	cr_assert_eq(decode_body(LINK_MSG_SPEND_TICKET, ticket, 329, LINK_FROM_CLIENT, &back), -EINVAL);
}

static void sin4(struct sockaddr_in *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1);
}

Test(link, send_bytes)
{
	static uint8_t packet[MIX_ACK_PACKET_LEN];
	for (size_t i = 0; i < sizeof(packet); i++)
		packet[i] = (uint8_t)(i ^ 0x5a);
	struct sockaddr_in a;
	sin4(&a, "198.51.100.2", 1789);
	uint8_t entry[1 + 19 + MIX_ACK_PACKET_LEN];
	cr_assert_eq(link_send_entry_len(MIX_PACKET_SIZE_ACK), sizeof(entry));
	cr_assert_eq(link_send_entry_write(entry, MIX_PACKET_SIZE_ACK, MIX_KEY_ROTATION_ODD,
					   (struct sockaddr *)&a, sizeof(a), packet, sizeof(packet)),
		     0);
	static uint8_t want[4 + 1 + sizeof(entry)];
	static const uint8_t head[] = {
		0x08, 0x00, 0x01, 0x97, /* SEND, 407 bytes */
		0x02,			/* ack class */
		0x01,			/* odd key */
		0x04, 0x06, 0xfd, 198, 51, 100, 2, /* IPv4, port 1789, address */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* padding to 19 */
	};
	memcpy(want, head, sizeof(head));
	memcpy(want + sizeof(head), packet, sizeof(packet));
	struct link_msg m = { .type = LINK_MSG_SEND,
			      .packets = { .size = MIX_PACKET_SIZE_ACK,
					   .count = 1,
					   .item_len = sizeof(entry),
					   .items = entry } },
			back;
	round_trip(&m, LINK_FROM_CLIENT, want, sizeof(want), &back);
	cr_assert_eq(back.packets.count, 1);
	struct link_send_entry e;
	link_send_entry_get(&back.packets, 0, &e);
	cr_assert_eq(e.key_rotation, MIX_KEY_ROTATION_ODD);
	cr_assert_arr_eq(e.first_hop, head + 6, 19);
	cr_assert_eq(e.packet_len, MIX_ACK_PACKET_LEN);
	cr_assert_arr_eq(e.packet, packet, sizeof(packet));
}

Test(link, send_many_and_refusals)
{
	const size_t item = link_send_entry_len(MIX_PACKET_SIZE_REGULAR);
	cr_assert_eq(item, 2433);
	cr_assert_eq(link_packets_per_frame(LINK_MSG_SEND, MIX_PACKET_SIZE_REGULAR), 26);
	cr_assert_eq(link_packets_per_frame(LINK_MSG_SEND, MIX_PACKET_SIZE_EXTENDED32), 1);
	size_t count = 27;
	uint8_t *items = calloc(count, item);
	uint8_t *packet = calloc(1, MIX_REGULAR_PACKET_LEN);
	cr_assert(items && packet);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(1789) };
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::7", &a6.sin6_addr), 1);
	for (size_t i = 0; i < count; i++) {
		packet[0] = (uint8_t)i;
		cr_assert_eq(link_send_entry_write(items + i * item, MIX_PACKET_SIZE_REGULAR,
						   (uint8_t)(i % 3), (struct sockaddr *)&a6, sizeof(a6),
						   packet, MIX_REGULAR_PACKET_LEN),
			     0);
	}
	struct link_msg m = { .type = LINK_MSG_SEND,
			      .packets = { .size = MIX_PACKET_SIZE_REGULAR,
					   .count = 26,
					   .item_len = item,
					   .items = items } },
			back;
	round_trip(&m, LINK_FROM_CLIENT, NULL, 0, &back);
	cr_assert_eq(back.packets.count, 26);
	for (size_t i = 0; i < 26; i++) {
		struct link_send_entry e;
		link_send_entry_get(&back.packets, i, &e);
		cr_assert_eq(e.key_rotation, i % 3);
		cr_assert_eq(e.first_hop[0], 6);
		cr_assert_eq(e.packet[0], i);
	}

	static uint8_t out[LINK_FRAME_MAX_LEN + 4096];
	size_t n;
	m.packets.count = 27; /* one more than a frame holds */
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EMSGSIZE);
	m.packets.count = 0;
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	m.packets.count = 2;
	m.packets.item_len = item - 1;
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	m.packets.item_len = item;
	cr_assert_eq(link_msg_encode(&m, out, 100, &n), -ENOSPC);
	m.packets.size = MIX_PACKET_SIZE_OUTFOX_REGULAR;
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	m.packets.size = MIX_PACKET_SIZE_REGULAR;
	cr_assert_eq(link_send_entry_write(out, MIX_PACKET_SIZE_REGULAR, 3, (struct sockaddr *)&a6,
					   sizeof(a6), packet, MIX_REGULAR_PACKET_LEN),
		     -EINVAL);
	cr_assert_eq(link_send_entry_write(out, MIX_PACKET_SIZE_REGULAR, 0, (struct sockaddr *)&a6,
					   sizeof(a6), packet, MIX_REGULAR_PACKET_LEN - 1),
		     -EINVAL);

	/* Body refusals: two good entries, then one field broken at a time. */
	uint8_t *body = out;
	body[0] = MIX_PACKET_SIZE_REGULAR;
	memcpy(body + 1, items, 2 * item);
	size_t len = 1 + 2 * item;
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), 0);
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len - 1, LINK_FROM_CLIENT, &back), -EMSGSIZE);
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len - item, LINK_FROM_CLIENT, &back), 0);
	static const uint8_t bad_sizes[] = { 0, MIX_PACKET_SIZE_OUTFOX_REGULAR,
					     MIX_PACKET_SIZE_OUTFOX_ACK, 8, 0xff };
	for (size_t i = 0; i < sizeof(bad_sizes); i++) {
		body[0] = bad_sizes[i];
		cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), -EINVAL);
	}
	body[0] = MIX_PACKET_SIZE_ACK; /* a regular run read as acks does not divide */
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), -EMSGSIZE);
	body[0] = MIX_PACKET_SIZE_REGULAR;
	uint8_t *second = body + 1 + item;
	second[0] = 3; /* rotation */
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), -EINVAL);
	second[0] = 0;
	second[1] = 5; /* address family */
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), -EINVAL);
	second[1] = 4; /* IPv4 leaves 12 padding bytes, which must be zero */
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), -EINVAL);
	memset(second + 8, 0, 12);
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), 0);
	second[19] = 1;
	cr_assert_eq(decode_body(LINK_MSG_SEND, body, len, LINK_FROM_CLIENT, &back), -EINVAL);
	free(items);
	free(packet);
}

Test(link, send_built_in_place)
{
	static uint8_t frame[LINK_FRAME_MAX_LEN];
	static uint8_t packet[MIX_REGULAR_PACKET_LEN];
	const size_t item = link_send_entry_len(MIX_PACKET_SIZE_REGULAR);
	struct sockaddr_in a;
	sin4(&a, "203.0.113.9", 1789);
	for (size_t i = 0; i < 3; i++) {
		memset(packet, (int)(0x30 + i), sizeof(packet));
		cr_assert_eq(link_send_entry_write(frame + LINK_PACKETS_OFFSET + i * item,
						   MIX_PACKET_SIZE_REGULAR, MIX_KEY_ROTATION_EVEN,
						   (struct sockaddr *)&a, sizeof(a), packet, sizeof(packet)),
			     0);
	}
	struct link_msg m = { .type = LINK_MSG_SEND,
			      .packets = { .size = MIX_PACKET_SIZE_REGULAR,
					   .count = 3,
					   .item_len = item,
					   .items = frame + LINK_PACKETS_OFFSET } },
			back;
	size_t n;
	cr_assert_eq(link_msg_encode(&m, frame, sizeof(frame), &n), 0);
	cr_assert_eq(n, LINK_PACKETS_OFFSET + 3 * item);
	static const uint8_t head[] = { 0x08, 0x00, 0x1c, 0x84, 0x01 }; /* 7300 bytes, regular */
	cr_assert_arr_eq(frame, head, sizeof(head));
	struct link_frame f = { .header = { .type = LINK_MSG_SEND, .len = (uint16_t)(n - 4) },
				.body = frame + 4,
				.body_len = n - 4 };
	cr_assert_eq(link_msg_decode(&f, LINK_FROM_CLIENT, &back), 0);
	for (size_t i = 0; i < 3; i++) {
		struct link_send_entry e;
		link_send_entry_get(&back.packets, i, &e);
		cr_assert_eq(e.key_rotation, MIX_KEY_ROTATION_EVEN);
		cr_assert_eq(e.packet[0], 0x30 + i);
		cr_assert_eq(e.packet[MIX_REGULAR_PACKET_LEN - 1], 0x30 + i);
	}
}

Test(link, receive_bytes)
{
	cr_assert_eq(link_receive_item_len(MIX_PACKET_SIZE_ACK), 21);
	cr_assert_eq(link_receive_item_len(MIX_PACKET_SIZE_REGULAR), 2048 - 19); /* §8.6 */
	cr_assert_eq(link_receive_item_len(MIX_PACKET_SIZE_EXTENDED8), 8192 - 19);
	cr_assert_eq(link_receive_item_len(MIX_PACKET_SIZE_OUTFOX_ACK), 0);
	cr_assert_eq(link_packets_per_frame(LINK_MSG_RECEIVE, MIX_PACKET_SIZE_REGULAR), 32);
	cr_assert_eq(link_packets_per_frame(LINK_MSG_ERROR, MIX_PACKET_SIZE_REGULAR), 0);
	uint8_t acks[42];
	for (int i = 0; i < 42; i++)
		acks[i] = (uint8_t)(100 + i);
	uint8_t want[4 + 1 + 42] = { 0x09, 0x00, 0x00, 0x2b, 0x02 };
	memcpy(want + 5, acks, 42);
	struct link_msg m = { .type = LINK_MSG_RECEIVE,
			      .packets = { .size = MIX_PACKET_SIZE_ACK,
					   .count = 2,
					   .item_len = 21,
					   .items = acks } },
			back;
	round_trip(&m, LINK_FROM_GATEWAY, want, sizeof(want), &back);
	cr_assert_eq(back.packets.count, 2);
	cr_assert_arr_eq(back.packets.items + 21, acks + 21, 21);
	cr_assert_eq(decode_body(LINK_MSG_RECEIVE, want + 4, 1 + 41, LINK_FROM_GATEWAY, &back),
		     -EMSGSIZE);
	cr_assert_eq(decode_body(LINK_MSG_RECEIVE, want + 4, 1 + 42, LINK_FROM_CLIENT, &back), -EINVAL);
}

Test(link, error_and_close_bytes)
{
	struct link_msg m, back;
	link_msg_error(&m, LINK_ERR_BUSY, "busy");
	static const uint8_t err[] = { 0x0a, 0x00, 0x00, 0x06, 0x00, 0x0a, 'b', 'u', 's', 'y' };
	round_trip(&m, LINK_FROM_GATEWAY, err, sizeof(err), &back);
	cr_assert_eq(back.error.code, LINK_ERR_BUSY);
	cr_assert_str_eq(back.error.text, "busy");
	round_trip(&m, LINK_FROM_CLIENT, err, sizeof(err), &back);

	link_msg_error(&m, LINK_ERR_PROTOCOL, NULL);
	static const uint8_t bare[] = { 0x0a, 0x00, 0x00, 0x02, 0x00, 0x01 };
	round_trip(&m, LINK_FROM_GATEWAY, bare, sizeof(bare), &back);
	cr_assert_str_eq(back.error.text, "");

	/* Anything goes in; only printable ASCII comes out, cut at the limit. */
	char longtext[400];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	longtext[3] = '\n';
	link_msg_error(&m, LINK_ERR_INTERNAL, longtext);
	cr_assert_eq(strlen(m.error.text), LINK_ERROR_TEXT_MAX);
	cr_assert_eq(m.error.text[3], '?');
	round_trip(&m, LINK_FROM_GATEWAY, NULL, 0, &back);
	/* A future code is carried as a number. */
	link_msg_error(&m, 0x1234, "later");
	round_trip(&m, LINK_FROM_GATEWAY, NULL, 0, &back);
	cr_assert_eq(back.error.code, 0x1234);
	cr_assert_null(link_error_name(0x1234));
	cr_assert_str_eq(link_error_name(LINK_ERR_TICKET_SPENT), "ticket_spent");

	uint8_t out[300];
	size_t n;
	link_msg_error(&m, 0, "zero");
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	link_msg_error(&m, LINK_ERR_AUTH, "tab");
	m.error.text[1] = '\t';
	cr_assert_eq(link_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	static const uint8_t zero_code[] = { 0, 0, 'a' }, ctl[] = { 0, 1, 'a', 0x7f },
			     high[] = { 0, 1, 0xc3, 0xa9 };
	cr_assert_eq(decode_body(LINK_MSG_ERROR, zero_code, 3, LINK_FROM_CLIENT, &back), -EINVAL);
	cr_assert_eq(decode_body(LINK_MSG_ERROR, ctl, 4, LINK_FROM_CLIENT, &back), -EINVAL);
	cr_assert_eq(decode_body(LINK_MSG_ERROR, high, 4, LINK_FROM_CLIENT, &back), -EINVAL);
	cr_assert_eq(decode_body(LINK_MSG_ERROR, zero_code, 1, LINK_FROM_CLIENT, &back), -EMSGSIZE);

	m = (struct link_msg){ .type = LINK_MSG_CLOSE };
	static const uint8_t close[] = { 0x0b, 0x00, 0x00, 0x00 };
	round_trip(&m, LINK_FROM_CLIENT, close, sizeof(close), &back);
	round_trip(&m, LINK_FROM_GATEWAY, close, sizeof(close), &back);
	cr_assert_eq(decode_body(LINK_MSG_CLOSE, close, 1, LINK_FROM_CLIENT, &back), -EMSGSIZE);
}

Test(link, header_length_must_match_body)
{
	static const uint8_t body[] = { 1, 1 };
	struct link_frame f = { .header = { .type = LINK_MSG_HELLO, .len = 3 }, .body = body, .body_len = 2 };
	struct link_msg m;
	cr_assert_eq(link_msg_decode(&f, LINK_FROM_CLIENT, &m), -EMSGSIZE);
	struct link_msg bad = { .type = (enum link_msg_type)0x42 };
	uint8_t out[16];
	size_t n;
	cr_assert_eq(link_msg_encode(&bad, out, sizeof(out), &n), -EINVAL);
}

/* ---- version and authentication ---- */

Test(link, version_pick)
{
	uint8_t v = 0;
	cr_assert_eq(link_version_pick(1, 1, 1, 1, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(link_version_pick(1, 5, 2, 3, &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(link_version_pick(3, 9, 1, 4, &v), 0);
	cr_assert_eq(v, 4);
	cr_assert_eq(link_version_pick(5, 9, 1, 4, &v), -EPROTONOSUPPORT);
	cr_assert_eq(link_version_pick(1, 1, 2, 4, &v), -EPROTONOSUPPORT);
	cr_assert_eq(link_version_pick(0, 4, 1, 4, &v), -EINVAL);
	cr_assert_eq(link_version_pick(3, 2, 1, 4, &v), -EINVAL);
	cr_assert_eq(link_version_pick(1, 2, 2, 1, &v), -EINVAL);
}

Test(link, auth_binds_session_and_time)
{
	struct nym_ed25519_keypair kp, other;
	uint8_t seed[32], hash[32], hash2[32];
	memset(seed, 1, 32);
	nym_ed25519_from_seed(&kp, seed);
	memset(seed, 2, 32);
	nym_ed25519_from_seed(&other, seed);
	for (int i = 0; i < 32; i++) {
		hash[i] = (uint8_t)i;
		hash2[i] = (uint8_t)i;
	}
	hash2[31] ^= 1;
	const uint64_t now = 1796083200;
	struct link_auth a;
	link_auth_sign(&kp, hash, now - 10, &a);
	cr_assert_arr_eq(a.identity, kp.public_key, 32);
	cr_assert_eq(link_auth_verify(&a, hash, now, LINK_AUTH_DEFAULT_SKEW_S), 0);
	/* Another session's hash: a replayed AUTH. */
	cr_assert_eq(link_auth_verify(&a, hash2, now, LINK_AUTH_DEFAULT_SKEW_S), -EKEYREJECTED);
	/* Skew either way, at and past the limit. */
	link_auth_sign(&kp, hash, now - 300, &a);
	cr_assert_eq(link_auth_verify(&a, hash, now, 300), 0);
	link_auth_sign(&kp, hash, now + 300, &a);
	cr_assert_eq(link_auth_verify(&a, hash, now, 300), 0);
	link_auth_sign(&kp, hash, now - 301, &a);
	cr_assert_eq(link_auth_verify(&a, hash, now, 300), -ETIME);
	link_auth_sign(&kp, hash, now + 301, &a);
	cr_assert_eq(link_auth_verify(&a, hash, now, 300), -ETIME);
	/* A timestamp changed after signing, an identity swapped in, a flipped bit. */
	link_auth_sign(&kp, hash, now, &a);
	struct link_auth t = a;
	t.timestamp++;
	cr_assert_eq(link_auth_verify(&t, hash, now, 300), -EKEYREJECTED);
	t = a;
	memcpy(t.identity, other.public_key, 32);
	cr_assert_eq(link_auth_verify(&t, hash, now, 300), -EKEYREJECTED);
	t = a;
	t.signature[7] ^= 0x20;
	cr_assert_eq(link_auth_verify(&t, hash, now, 300), -EKEYREJECTED);
	/* Through the wire and back it still verifies. */
	struct link_msg m = { .type = LINK_MSG_AUTH, .auth = a }, back;
	round_trip(&m, LINK_FROM_CLIENT, NULL, 0, &back);
	cr_assert_eq(link_auth_verify(&back.auth, hash, now, 300), 0);
	nym_ed25519_keypair_clear(&kp);
	nym_ed25519_keypair_clear(&other);
}

/* ---- streaming decoder ---- */

static size_t build_stream(uint8_t *out, size_t cap)
{
	struct link_msg msgs[4];
	size_t len = 0, n;
	static uint8_t acks[21 * 3];
	memset(acks, 0xab, sizeof(acks));
	msgs[0] = (struct link_msg){ .type = LINK_MSG_VERSION, .version = 1 };
	msgs[1] = (struct link_msg){ .type = LINK_MSG_AUTH_OK, .balance = 200000000 };
	msgs[2] = (struct link_msg){ .type = LINK_MSG_RECEIVE,
				     .packets = { .size = MIX_PACKET_SIZE_ACK,
						  .count = 3,
						  .item_len = 21,
						  .items = acks } };
	msgs[3] = (struct link_msg){ .type = LINK_MSG_CLOSE };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(link_msg_encode(&msgs[i], out + len, cap - len, &n), 0);
		len += n;
	}
	return len;
}

static void expect_stream(struct link_frame_decoder *d, const uint8_t *s, size_t len, size_t chunk)
{
	static const uint8_t types[] = { LINK_MSG_VERSION, LINK_MSG_AUTH_OK, LINK_MSG_RECEIVE,
					 LINK_MSG_CLOSE };
	size_t got = 0;
	link_frame_decoder_init(d, LINK_FROM_GATEWAY);
	for (size_t pos = 0; pos < len; pos += chunk) {
		size_t c = len - pos < chunk ? len - pos : chunk;
		cr_assert_eq(link_frame_decoder_feed(d, s + pos, c), 0);
		struct link_frame f;
		int r;
		while ((r = link_frame_decoder_next(d, &f)) == 0) {
			struct link_msg m;
			cr_assert_lt(got, 4);
			cr_assert_eq(f.header.type, types[got]);
			cr_assert_eq(link_msg_decode(&f, LINK_FROM_GATEWAY, &m), 0);
			got++;
		}
		cr_assert_eq(r, -EAGAIN);
		cr_assert_eq(link_frame_decoder_consumed(d), c);
	}
	cr_assert_eq(got, 4, "chunk %zu", chunk);
	cr_assert_eq(link_frame_decoder_buffered(d), 0);
}

Test(link, decoder_any_chunking)
{
	static struct link_frame_decoder d;
	uint8_t s[256];
	size_t len = build_stream(s, sizeof(s));
	cr_assert_eq(len, 5 + 12 + 68 + 4);
	for (size_t chunk = 1; chunk <= len; chunk++)
		expect_stream(&d, s, len, chunk);
}

Test(link, decoder_refuses_wrong_side_and_keeps_position)
{
	static struct link_frame_decoder d;
	uint8_t s[256];
	size_t len = build_stream(s, sizeof(s));
	/* The gateway's decoder (frames from a client) takes none of the gateway's frames. */
	link_frame_decoder_init(&d, LINK_FROM_CLIENT);
	cr_assert_eq(link_frame_decoder_feed(&d, s, len), 0);
	struct link_frame f;
	cr_assert_eq(link_frame_decoder_next(&d, &f), -EINVAL);
	cr_assert_eq(link_frame_decoder_consumed(&d), 0);
	cr_assert_eq(link_frame_decoder_next(&d, &f), -EINVAL); /* sticky */
	cr_assert_eq(link_frame_decoder_feed(&d, s, len), -EINVAL);

	/* A good frame, then an oversized HELLO: the error points past the good one. */
	uint8_t t[] = { 0x01, 0x00, 0x00, 0x02, 0x01, 0x01, 0x01, 0x00, 0x00, 0x03 };
	link_frame_decoder_init(&d, LINK_FROM_CLIENT);
	cr_assert_eq(link_frame_decoder_feed(&d, t, sizeof(t)), 0);
	cr_assert_eq(link_frame_decoder_next(&d, &f), 0);
	cr_assert_eq(link_frame_decoder_next(&d, &f), -EMSGSIZE);
	cr_assert_eq(link_frame_decoder_consumed(&d), 6);

	/* A SEND announcing 65535 bytes is buffered (it is allowed), and only that much. */
	uint8_t big[] = { 0x08, 0x00, 0xff, 0xff, 0x01 };
	link_frame_decoder_init(&d, LINK_FROM_CLIENT);
	cr_assert_eq(link_frame_decoder_feed(&d, big, sizeof(big)), 0);
	cr_assert_eq(link_frame_decoder_next(&d, &f), -EAGAIN);
	cr_assert_eq(link_frame_decoder_buffered(&d), sizeof(big));
}
