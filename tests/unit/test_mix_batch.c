/* SURB-ACKs and envelopes made several at a time: each works as one made alone (through real
 * Sphinx hops), and batched envelopes are the bytes single ones make from the same randomness. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "mix/mix_envelope.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_surb_ack.h"
#include "sphinx/sphinx_packet.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(mix_batch, .init = setup);

enum { N = 11 };
static struct nym_x25519_keypair node_keys[N][4];
static struct sphinx_hop routes[N][4];

static void make_routes(void)
{
	for (int k = 0; k < N; k++)
		for (int i = 0; i < 4; i++) {
			nym_x25519_generate(&node_keys[k][i]);
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789) };
			a.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)(k * 4 + i));
			cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&a, sizeof(a), routes[k][i].address), 0);
			memcpy(routes[k][i].public_key, node_keys[k][i].public_key, 32);
			routes[k][i].delay_ns = (uint64_t)(k + i);
		}
}

Test(mix_batch, surb_acks_come_back_recognised)
{
	make_routes();
	static struct mix_surb_ack acks[N];
	const struct sphinx_hop *rp[N];
	struct mix_fragment_id ids[N];
	int rc[N];
	uint8_t key[MIX_ACK_KEY_LEN], me[32] = { 0x33 };
	nym_random(key, sizeof(key));
	for (int k = 0; k < N; k++) {
		rp[k] = routes[k];
		ids[k] = (struct mix_fragment_id){ .set_id = 1000 + k, .position = (uint8_t)(k + 1) };
	}
	mix_surb_ack_create_batch(acks, rp, 4, me, key, ids, SPHINX_VERSION_259, NULL, rc, N);
	for (int k = 0; k < N; k++) {
		cr_assert_eq(rc[k], 0);
		cr_assert_eq(acks[k].expected_delay_ns, (uint64_t)(3 * k + 3));
		struct sockaddr_storage ss;
		socklen_t sl;
		const uint8_t *pkt;
		cr_assert_eq(mix_surb_ack_split(acks[k].bytes, &ss, &sl, &pkt), 0);
		uint8_t first[32], packet[MIX_ACK_PACKET_LEN];
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&ss, sl, first), 0);
		cr_assert_arr_eq(first, routes[k][0].address, 32);
		memcpy(packet, pkt, sizeof(packet));
		struct sphinx_processed out;
		for (int i = 0; i < 4; i++)
			cr_assert_eq(sphinx_packet_process(packet, sizeof(packet), node_keys[k][i].secret, &out), 0);
		cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
		cr_assert_arr_eq(out.address, me, 32);
		const uint8_t *m;
		size_t ml;
		cr_assert_eq(sphinx_packet_message(packet, sizeof(packet), &m, &ml), 0);
		struct mix_fragment_id back;
		cr_assert_eq(mix_surb_ack_recognise(m, ml, key, &back), 0);
		cr_assert_eq(back.set_id, ids[k].set_id);
		cr_assert_eq(back.position, ids[k].position);
	}
	/* A route with a first hop that does not decode fails alone. */
	routes[2][0].address[0] = 9;
	mix_surb_ack_create_batch(acks, rp, 4, me, key, ids, SPHINX_VERSION_259, NULL, rc, N);
	for (int k = 0; k < N; k++)
		cr_assert_eq(rc[k], k == 2 ? -EINVAL : 0);
}

Test(mix_batch, envelopes_equal_single_ones)
{
	/* A mixed batch: even envelopes with a SURB-ACK (1611-byte bodies), odd ones without
	 * (the unacknowledged layout, 1997). */
	enum { PLAIN = 2048, BODY = 1611, UBODY = 1997 };
	static uint8_t outs[N][PLAIN], single[PLAIN], bodies[N][UBODY];
	static struct mix_surb_ack acks[N];
	static struct nym_x25519_keypair rcpt[N];
	uint8_t *op[N];
	const struct mix_surb_ack *ap[N];
	const uint8_t *kp[N], *bp[N];
	size_t bl[N];
	int rc[N];
	for (int k = 0; k < N; k++) {
		nym_x25519_generate(&rcpt[k]);
		nym_random(acks[k].bytes, sizeof(acks[k].bytes));
		nym_random(bodies[k], UBODY);
		op[k] = outs[k];
		ap[k] = k % 2 ? NULL : &acks[k];
		bl[k] = k % 2 ? UBODY : BODY;
		kp[k] = rcpt[k].public_key;
		bp[k] = bodies[k];
	}
	static struct nym_seeded_rng s1, s2;
	static const uint8_t seed[32] = { 0xba, 0x7c };
	struct nym_rng r1 = nym_seeded_rng_init(&s1, seed), r2 = nym_seeded_rng_init(&s2, seed);
	mix_envelope_seal_batch(op, PLAIN, ap, kp, bp, bl, &r1, rc, N);
	for (int k = 0; k < N; k++) {
		cr_assert_eq(rc[k], 0);
		cr_assert_eq(mix_envelope_seal(single, PLAIN, ap[k], kp[k], bodies[k], bl[k], &r2), 0);
		cr_assert_eq(memcmp(single, outs[k], PLAIN), 0, "envelope %d", k);
		cr_assert_eq(mix_surb_ack_absent(outs[k]), k % 2 == 1);
		/* The gateway's item (§8.6), then the receiver's split. */
		uint8_t item[PLAIN - MIX_SURB_ACK_HOP_LEN], *keyed, *body;
		size_t keyed_len, len;
		memcpy(item, outs[k] + MIX_SURB_ACK_HOP_LEN, sizeof(item));
		if (k % 2 == 0)
			memset(item, 0, MIX_ENVELOPE_ITEM_ACK_LEN);
		cr_assert_eq(mix_envelope_item_split(item, sizeof(item), &keyed, &keyed_len), 0);
		cr_assert_eq(mix_envelope_open(keyed, keyed_len, rcpt[k].secret, &body, &len), 0);
		cr_assert_eq(len, bl[k]);
		cr_assert_eq(memcmp(body, bodies[k], bl[k]), 0);
	}
	/* A small-order recipient key fails its envelope only; a wrong body length fails its own. */
	static const uint8_t zero[32];
	kp[4] = zero;
	mix_envelope_seal_batch(op, PLAIN, ap, kp, bp, bl, NULL, rc, N);
	for (int k = 0; k < N; k++)
		cr_assert_eq(rc[k], k == 4 ? -EINVAL : 0);
	for (int k = 0; k < N; k++)
		bl[k] = k % 2 ? BODY : UBODY; /* each the other layout's */
	mix_envelope_seal_batch(op, PLAIN, ap, kp, bp, bl, NULL, rc, N);
	for (int k = 0; k < N; k++)
		cr_assert_eq(rc[k], -EINVAL);
}
