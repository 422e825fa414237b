/* Batched Sphinx creation: the same bytes as one packet at a time, from the same randomness. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_sender.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(sphinx_batch, .init = setup);

enum { N = 21, LEN = 2413 };

static struct nym_x25519_keypair node[5];
static struct sphinx_hop routes[N][5];

static void make_routes(void)
{
	for (int i = 0; i < 5; i++)
		nym_x25519_generate(&node[i]);
	for (int k = 0; k < N; k++)
		for (int i = 0; i < 5; i++) {
			memset(&routes[k][i], 0, sizeof(routes[k][i]));
			routes[k][i].address[0] = 4;
			routes[k][i].address[1] = (uint8_t)i;
			routes[k][i].delay_ns = (uint64_t)(k * 10 + i);
			memcpy(routes[k][i].public_key, node[i].public_key, 32);
		}
}

Test(sphinx_batch, keys_equal_one_at_a_time)
{
	make_routes();
	static uint8_t x[N][32], alpha[N][32], alpha1[32];
	static struct sphinx_hop_keys keys[N][SPHINX_MAX_HOPS], keys1[SPHINX_MAX_HOPS];
	uint8_t rk[N][SPHINX_MAX_HOPS][32];
	const uint8_t(*rkp[N])[32];
	size_t hops[N];
	int rc[N];
	for (int k = 0; k < N; k++) {
		nym_random(x[k], 32);
		hops[k] = 1 + (size_t)k % 5;
		for (int i = 0; i < 5; i++)
			memcpy(rk[k][i], node[(k + i) % 5].public_key, 32);
		rkp[k] = (const uint8_t(*)[32])rk[k];
	}
	sphinx_sender_keys_batch(alpha, keys, rkp, hops, (const uint8_t(*)[32])x, rc, N);
	for (int k = 0; k < N; k++) {
		cr_assert_eq(rc[k], 0);
		cr_assert_eq(sphinx_sender_keys(alpha1, keys1, rkp[k], hops[k], x[k]), 0);
		cr_assert_arr_eq(alpha[k], alpha1, 32, "packet %d", k);
		cr_assert_eq(memcmp(keys[k], keys1, hops[k] * sizeof(keys1[0])), 0, "packet %d", k);
	}
	/* A small-order route key fails its packet only. */
	static uint8_t zero_point[32];
	memcpy(rk[3][0], zero_point, 32);
	sphinx_sender_keys_batch(alpha, keys, rkp, hops, (const uint8_t(*)[32])x, rc, N);
	for (int k = 0; k < N; k++)
		cr_assert_eq(rc[k], k == 3 ? -EINVAL : 0, "packet %d", k);
}

Test(sphinx_batch, packets_equal_one_at_a_time_and_open_at_every_hop)
{
	make_routes();
	static uint8_t packets[N][LEN], single[LEN], msgs[N][2048];
	static struct nym_seeded_rng st[N], st1;
	struct nym_rng rngs[N];
	struct sphinx_packet_params p[N];
	uint8_t *pp[N];
	const uint8_t *mp[N];
	size_t lens[N], mlens[N];
	int rc[N];
	static const uint8_t dest[32] = { 0xde }, id[16];
	for (int k = 0; k < N; k++) {
		uint8_t seed[32] = { (uint8_t)k, 0x5e };
		rngs[k] = nym_seeded_rng_init(&st[k], seed);
		p[k] = (struct sphinx_packet_params){ routes[k], 1 + (size_t)k % 5, dest, id,
						      k % 2 ? SPHINX_VERSION_258 : SPHINX_VERSION_259, &rngs[k] };
		nym_random(msgs[k], sizeof(msgs[k]));
		lens[k] = LEN;
		mlens[k] = k == 7 ? 10 : 2048;
		pp[k] = packets[k];
		/* Half of them with the message already in place in the payload. */
		if (k % 2) {
			memcpy(packets[k] + SPHINX_HEADER_LEN + 16, msgs[k], mlens[k]);
			mp[k] = packets[k] + SPHINX_HEADER_LEN + 16;
		} else {
			mp[k] = msgs[k];
		}
	}
	sphinx_packet_create_batch(pp, lens, p, mp, mlens, rc, N);
	for (int k = 0; k < N; k++) {
		cr_assert_eq(rc[k], 0, "packet %d", k);
		uint8_t seed[32] = { (uint8_t)k, 0x5e };
		struct nym_rng r1 = nym_seeded_rng_init(&st1, seed);
		struct sphinx_packet_params q = p[k];
		q.rng = &r1;
		cr_assert_eq(sphinx_packet_create(single, LEN, &q, msgs[k], mlens[k]), 0);
		cr_assert_eq(memcmp(single, packets[k], LEN), 0, "packet %d differs", k);
		struct sphinx_processed out;
		for (size_t i = 0; i < p[k].hops; i++)
			cr_assert_eq(sphinx_packet_process(packets[k], LEN, node[i].secret, &out), 0);
		cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
		const uint8_t *m;
		size_t ml;
		cr_assert_eq(sphinx_packet_message(packets[k], LEN, &m, &ml), 0);
		cr_assert_eq(ml, mlens[k]);
		cr_assert_eq(memcmp(m, msgs[k], ml), 0);
	}
	/* Bad parameters fail their own packet. */
	p[2].hops = 0;
	mlens[4] = 5000;
	p[6].version = 1;
	sphinx_packet_create_batch(pp, lens, p, mp, mlens, rc, N);
	cr_assert_eq(rc[2], -EINVAL);
	cr_assert_eq(rc[4], -EMSGSIZE);
	cr_assert_eq(rc[6], -EPROTONOSUPPORT);
	cr_assert_eq(rc[5], 0);
}

#include "sphinx/sphinx_surb.h"

Test(sphinx_batch, surbs_carry_replies_and_one_equals_single)
{
	make_routes();
	static struct sphinx_surb surbs[N], single;
	const struct sphinx_hop *rp[N];
	int rc[N];
	static const uint8_t dest[32] = { 0xd1 }, id[16] = { 1 };
	for (int k = 0; k < N; k++)
		rp[k] = routes[k];
	sphinx_surb_create_batch(surbs, rp, 4, dest, id, SPHINX_VERSION_259, NULL, rc, N);
	for (int k = 0; k < N; k++) {
		cr_assert_eq(rc[k], 0);
		static uint8_t packet[LEN], msg[2048];
		nym_random(msg, sizeof(msg));
		cr_assert_eq(sphinx_surb_use(&surbs[k], packet, LEN, msg, sizeof(msg)), 0);
		struct sphinx_processed out;
		for (int i = 0; i < 4; i++)
			cr_assert_eq(sphinx_packet_process(packet, LEN, node[i].secret, &out), 0, "surb %d hop %d", k, i);
		cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
		cr_assert_arr_eq(out.address, dest, 32);
		cr_assert_arr_eq(out.identifier, id, 16);
		const uint8_t *m;
		size_t ml;
		cr_assert_eq(sphinx_packet_message(packet, LEN, &m, &ml), 0);
		cr_assert_eq(ml, sizeof(msg));
		cr_assert_eq(memcmp(m, msg, ml), 0);
	}
	static struct nym_seeded_rng s1, s2;
	static const uint8_t seed[32] = { 0x50 };
	struct nym_rng r1 = nym_seeded_rng_init(&s1, seed), r2 = nym_seeded_rng_init(&s2, seed);
	sphinx_surb_create_batch(surbs, rp, 4, dest, id, SPHINX_VERSION_258, &r1, rc, 1);
	cr_assert_eq(rc[0], 0);
	cr_assert_eq(sphinx_surb_create(&single, routes[0], 4, dest, id, SPHINX_VERSION_258, &r2), 0);
	cr_assert_eq(memcmp(&single, &surbs[0], sizeof(single)), 0);
	sphinx_surb_create_batch(surbs, rp, 6, dest, id, SPHINX_VERSION_259, NULL, rc, 2);
	cr_assert_eq(rc[0], -EINVAL);
	sphinx_surb_create_batch(surbs, rp, 4, dest, id, 7, NULL, rc, 2);
	cr_assert_eq(rc[1], -EPROTONOSUPPORT);
}
