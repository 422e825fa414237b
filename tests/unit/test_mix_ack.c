/* SURB-ACKs, envelopes and loop cover, carried through real Sphinx processing at every hop. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "crypto/x25519.h"
#include "mix/mix_cover.h"
#include "mix/mix_envelope.h"
#include "mix/mix_fragment.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_recipient.h"
#include "mix/mix_reply.h"
#include "crypto/ed25519.h"
#include "sphinx/sphinx_surb.h"
#include "mix/mix_surb_ack.h"
#include "sphinx/sphinx_packet.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(mix_ack, .init = setup);

/* Three mixnodes, the sender's gateway and the recipient's gateway. */
enum { MIX1, MIX2, MIX3, GW_SENDER, GW_RECIPIENT, NODES };
static struct nym_x25519_keypair node_keys[NODES];
static struct sphinx_hop hops[NODES];

static void make_nodes(void)
{
	for (int i = 0; i < NODES; i++) {
		nym_x25519_generate(&node_keys[i]);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789) };
		a.sin_addr.s_addr = htonl(0xc6336400u + 11 + (uint32_t)i); /* 198.51.100.11+ */
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&a, sizeof(a), hops[i].address), 0);
		memcpy(hops[i].public_key, node_keys[i].public_key, 32);
		hops[i].delay_ns = 1000000ull * (uint64_t)(i + 1);
	}
}

static void route_to(struct sphinx_hop *route, int gateway)
{
	route[0] = hops[MIX1];
	route[1] = hops[MIX2];
	route[2] = hops[MIX3];
	route[3] = hops[gateway];
}

/* Peels a packet through its four hops; returns the final hop's message. */
static void walk(uint8_t *packet, size_t len, int gateway, const uint8_t destination[32],
		 const uint8_t **msg, size_t *msg_len)
{
	const int order[4] = { MIX1, MIX2, MIX3, gateway };
	struct sphinx_processed out;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(sphinx_packet_process(packet, len, node_keys[order[i]].secret, &out), 0, "hop %d", i);
	cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
	cr_assert_arr_eq(out.address, destination, 32);
	cr_assert_eq(sphinx_packet_message(packet, len, msg, msg_len), 0);
}

static void make_client(struct mix_recipient *r, struct nym_x25519_keypair *enc, int gateway)
{
	nym_random(r->identity, 32);
	nym_x25519_generate(enc);
	memcpy(r->encryption_key, enc->public_key, 32);
	memcpy(r->gateway, node_keys[gateway].public_key, 32);
}

Test(mix_ack, fragment_travels_and_its_ack_comes_back)
{
	for (int v = 258; v <= 259; v++) {
		make_nodes();
		struct mix_recipient sender, recipient;
		struct nym_x25519_keypair sender_enc, recipient_enc;
		make_client(&sender, &sender_enc, GW_SENDER);
		make_client(&recipient, &recipient_enc, GW_RECIPIENT);
		uint8_t ack_key[MIX_ACK_KEY_LEN];
		nym_random(ack_key, sizeof(ack_key));

		/* One fragment of a message, as the fragmenter makes it. */
		enum { PLAIN = 2048 };
		size_t body_len = mix_envelope_body_len(PLAIN);
		cr_assert_eq(body_len, 1611);
		uint8_t body[1611];
		nym_random(body, sizeof(body));
		struct mix_fragment_id id = { .set_id = 123456, .position = 7 };

		struct sphinx_hop ack_route[4], route[4];
		route_to(ack_route, GW_SENDER);
		route_to(route, GW_RECIPIENT);
		struct mix_surb_ack ack;
		cr_assert_eq(mix_surb_ack_create(&ack, ack_route, 4, sender.identity, ack_key, &id, (uint16_t)v, NULL), 0);
		cr_assert_eq(ack.expected_delay_ns, 6000000ull, "all delays but the gateway's");

		uint8_t envelope[PLAIN], packet[MIX_REGULAR_PACKET_LEN];
		cr_assert_eq(mix_envelope_seal(envelope, PLAIN, &ack, recipient.encryption_key, body, body_len, NULL), 0);
		static const uint8_t zero_id[16];
		struct sphinx_packet_params p = { route, 4, recipient.identity, zero_id, (uint16_t)v, NULL };
		cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, envelope, PLAIN), 0);

		/* Through the mixnet to the recipient's gateway. */
		const uint8_t *msg;
		size_t msg_len;
		walk(packet, sizeof(packet), GW_RECIPIENT, recipient.identity, &msg, &msg_len);
		cr_assert_eq(msg_len, PLAIN);

		/* The gateway strips the SURB-ACK; its packet starts back towards the sender. */
		struct sockaddr_storage first;
		socklen_t first_len;
		const uint8_t *ack_packet;
		cr_assert_eq(mix_surb_ack_split(msg, &first, &first_len, &ack_packet), 0);
		uint8_t expect_first[32];
		mix_node_addr_encode((struct sockaddr *)&first, first_len, expect_first);
		cr_assert_arr_eq(expect_first, hops[MIX1].address, 32);

		/* The recipient opens the rest. */
		uint8_t forwarded[PLAIN - MIX_SURB_ACK_LEN];
		memcpy(forwarded, msg + MIX_SURB_ACK_LEN, sizeof(forwarded));
		uint8_t *got;
		size_t got_len;
		cr_assert_eq(mix_envelope_open(forwarded, sizeof(forwarded), recipient_enc.secret, &got, &got_len), 0);
		cr_assert_eq(got_len, body_len);
		cr_assert_arr_eq(got, body, body_len);
		/* Someone else's key opens nothing sensible. */
		memcpy(forwarded, msg + MIX_SURB_ACK_LEN, sizeof(forwarded));
		cr_assert_eq(mix_envelope_open(forwarded, sizeof(forwarded), sender_enc.secret, &got, &got_len), 0);
		cr_assert(memcmp(got, body, body_len) != 0);

		/* The ack goes round to the sender's gateway, which hands its payload over. */
		uint8_t ack_copy[MIX_ACK_PACKET_LEN];
		memcpy(ack_copy, ack_packet, sizeof(ack_copy));
		walk(ack_copy, sizeof(ack_copy), GW_SENDER, sender.identity, &msg, &msg_len);
		struct mix_fragment_id back;
		cr_assert_eq(mix_surb_ack_recognise(msg, msg_len, ack_key, &back), 0);
		cr_assert_eq(back.set_id, id.set_id);
		cr_assert_eq(back.position, id.position);
		uint8_t wrong[MIX_ACK_KEY_LEN];
		nym_random(wrong, sizeof(wrong));
		struct mix_fragment_id other;
		int rc = mix_surb_ack_recognise(msg, msg_len, wrong, &other);
		cr_assert(rc != 0 || other.set_id != id.set_id || other.position != id.position,
			  "a different key must not recover the fragment id");
		cr_assert_eq(mix_surb_ack_recognise(msg, msg_len - 1, ack_key, &back), -EINVAL);
	}
}

Test(mix_ack, loop_cover_returns_to_its_sender)
{
	make_nodes();
	struct mix_recipient self;
	struct nym_x25519_keypair enc;
	make_client(&self, &enc, GW_SENDER);
	uint8_t ack_key[MIX_ACK_KEY_LEN], packet[MIX_REGULAR_PACKET_LEN];
	nym_random(ack_key, sizeof(ack_key));
	struct sphinx_hop route[4];
	route_to(route, GW_SENDER);
	cr_assert_eq(mix_cover_loop_packet(packet, sizeof(packet), &self, route, 4, route, 4, ack_key,
					   SPHINX_VERSION_259, NULL), 0);
	const uint8_t *msg;
	size_t msg_len;
	walk(packet, sizeof(packet), GW_SENDER, self.identity, &msg, &msg_len);
	uint8_t forwarded[2048 - MIX_SURB_ACK_LEN];
	memcpy(forwarded, msg + MIX_SURB_ACK_LEN, sizeof(forwarded));
	uint8_t *body;
	size_t body_len;
	cr_assert_eq(mix_envelope_open(forwarded, sizeof(forwarded), enc.secret, &body, &body_len), 0);
	cr_assert(mix_cover_is_loop(body, body_len));
	cr_assert_not(mix_cover_is_loop((const uint8_t *)"The cake is a lie?", 18));

	/* Its ack names the cover fragment. */
	struct sockaddr_storage first;
	socklen_t first_len;
	const uint8_t *ack_packet;
	cr_assert_eq(mix_surb_ack_split(msg, &first, &first_len, &ack_packet), 0);
	uint8_t ack_copy[MIX_ACK_PACKET_LEN];
	memcpy(ack_copy, ack_packet, sizeof(ack_copy));
	walk(ack_copy, sizeof(ack_copy), GW_SENDER, self.identity, &msg, &msg_len);
	struct mix_fragment_id id;
	cr_assert_eq(mix_surb_ack_recognise(msg, msg_len, ack_key, &id), 0);
	cr_assert(mix_fragment_id_is_cover(&id));
}

Test(mix_ack, recipient_text_form)
{
	struct mix_recipient r, back;
	nym_random(&r, sizeof(r));
	char text[MIX_RECIPIENT_TEXT_MAX];
	cr_assert_gt(mix_recipient_format(&r, text, sizeof(text)), 0);
	cr_assert_eq(mix_recipient_parse(text, &back), 0);
	cr_assert_arr_eq(&r, &back, sizeof(r));
	uint8_t raw[MIX_RECIPIENT_LEN];
	mix_recipient_encode(&r, raw);
	mix_recipient_decode(raw, &back);
	cr_assert_arr_eq(&r, &back, sizeof(r));
	cr_assert_eq(mix_recipient_parse("abc", &back), -EINVAL);
	cr_assert_eq(mix_recipient_parse("a.b@c", &back), -EINVAL);
	text[strlen(text) - 1] = '0'; /* not base58 */
	cr_assert_eq(mix_recipient_parse(text, &back), -EINVAL);
}

/* A reply through a real SURB: the replier seals with the reply key, the packet crosses the
 * route the SURB names, and the creator finds the key by its digest and reads the body. */
Test(mix_ack, reply_through_surb)
{
	make_nodes();
	struct sphinx_hop route[4];
	route_to(route, GW_SENDER);
	uint8_t creator[32], identifier[SPHINX_IDENTIFIER_LEN] = { 0 };
	memset(creator, 0x5c, sizeof(creator));
	struct sphinx_surb surb;
	cr_assert_eq(sphinx_surb_create(&surb, route, 4, creator, identifier, 259, NULL), 0);
	uint8_t key[MIX_REPLY_KEY_LEN];
	nym_random(key, sizeof(key));

	enum { PLAIN = 2048 };
	uint8_t body[PLAIN], message[PLAIN];
	cr_assert_eq(mix_reply_body_len(PLAIN), 1611);
	size_t body_len = mix_reply_unacked_body_len(PLAIN);
	cr_assert_eq(body_len, 1997, "no SURB-ACK: its 386 bytes carry body");
	for (size_t i = 0; i < body_len; i++)
		body[i] = (uint8_t)(i * 7);
	cr_assert_eq(mix_reply_seal(message, PLAIN, NULL, key, body, body_len), 0);
	cr_assert(mix_surb_ack_absent(message));
	cr_assert_eq(mix_reply_seal(message, PLAIN, NULL, key, body, 1611), -EINVAL);
	cr_assert_eq(mix_reply_seal(message, PLAIN, NULL, key, body, body_len - 1), -EINVAL);

	uint8_t packet[MIX_REGULAR_PACKET_LEN];
	cr_assert_eq(sphinx_surb_use(&surb, packet, sizeof(packet), message, PLAIN), 0);
	const uint8_t *msg;
	size_t msg_len;
	walk(packet, sizeof(packet), GW_SENDER, creator, &msg, &msg_len);
	cr_assert_eq(msg_len, PLAIN);
	cr_assert(mix_surb_ack_absent(msg));

	/* The gateway's item: everything after the first hop; the split finds the digest at 0. */
	uint8_t item[PLAIN], *forwarded;
	size_t fwd_len;
	memcpy(item, msg + MIX_SURB_ACK_HOP_LEN, msg_len - MIX_SURB_ACK_HOP_LEN);
	cr_assert_eq(mix_envelope_item_split(item, msg_len - MIX_SURB_ACK_HOP_LEN, &forwarded, &fwd_len), 0);
	cr_assert_eq(forwarded, item);
	cr_assert_eq(fwd_len, 2029);
	const uint8_t *digest;
	uint8_t expect[MIX_REPLY_DIGEST_LEN];
	mix_reply_key_digest(key, expect);
	cr_assert_eq(mix_reply_digest(forwarded, fwd_len, &digest), 0);
	cr_assert_arr_eq(digest, expect, sizeof(expect));

	uint8_t wrong[MIX_REPLY_KEY_LEN];
	memcpy(wrong, key, sizeof(wrong));
	wrong[0] ^= 1;
	uint8_t *opened;
	size_t opened_len;
	cr_assert_eq(mix_reply_open(forwarded, fwd_len, wrong, &opened, &opened_len), -EINVAL);
	cr_assert_eq(mix_reply_open(forwarded, fwd_len, key, &opened, &opened_len), 0);
	cr_assert_eq(opened_len, body_len);
	cr_assert_arr_eq(opened, body, body_len);
	sphinx_surb_clear(&surb);
}

/* A service addressed by a node's Ed25519 identity: the X25519 key derived from the public
 * key is the one the secret's conversion produces, so an envelope sealed to it opens. */
Test(mix_ack, identity_derived_encryption_key)
{
	struct nym_ed25519_keypair id;
	nym_ed25519_generate(&id);
	uint8_t x_pub[32], x_sec[32], check[32];
	cr_assert_eq(nym_ed25519_public_to_x25519(id.public_key, x_pub), 0);
	nym_ed25519_secret_to_x25519(&id, x_sec);
	nym_x25519_public(check, x_sec);
	cr_assert_arr_eq(check, x_pub, 32);
	uint8_t bad[32];
	memset(bad, 0, sizeof(bad));
	bad[0] = 2; /* not on the curve */
	cr_assert_eq(nym_ed25519_public_to_x25519(bad, x_pub), -EINVAL);
	struct mix_recipient service;
	cr_assert_eq(mix_recipient_of_node(id.public_key, &service), 0);
	cr_assert_arr_eq(service.encryption_key, check, 32);
	cr_assert_arr_eq(service.identity, id.public_key, 32);
	cr_assert_arr_eq(service.gateway, id.public_key, 32);
	cr_assert_eq(mix_recipient_of_node(bad, &service), -EINVAL);
	nym_ed25519_keypair_clear(&id);
}
