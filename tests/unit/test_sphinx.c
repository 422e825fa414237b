#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <openssl/bn.h>
#include <sodium.h>
#include <string.h>

#include "../support/testdata.h"
#include "crypto/x25519.h"
#include "sphinx/sphinx_keys.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_payload.h"
#include "sphinx/sphinx_sender.h"
#include "sphinx/sphinx_surb.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(sphinx, .init = setup);

/* Nym's regular, ack and extended payload sizes. */
static const size_t payload_sizes[] = { 38, 2065, 8209, 16401, 32785 };

struct network {
	struct nym_x25519_keypair nodes[SPHINX_MAX_HOPS];
	struct sphinx_hop route[SPHINX_MAX_HOPS];
	uint8_t destination[32], identifier[16];
};

static void make_network(struct network *n, size_t hops)
{
	for (size_t i = 0; i < hops; i++) {
		nym_x25519_generate(&n->nodes[i]);
		nym_random(n->route[i].address, 32);
		memcpy(n->route[i].public_key, n->nodes[i].public_key, 32);
		n->route[i].delay_ns = 1000000ull * (i + 1) + i;
	}
	nym_random(n->destination, 32);
	nym_random(n->identifier, 16);
}

static struct sphinx_packet_params params_for(struct network *n, size_t hops, uint16_t version)
{
	return (struct sphinx_packet_params){ .route = n->route,
					      .hops = hops,
					      .destination = n->destination,
					      .identifier = n->identifier,
					      .version = version };
}

/* Runs the packet through every hop, checking what each one learns; returns the final rc. */
static void walk_route(struct network *n, size_t hops, uint8_t *packet, size_t len,
		       const uint8_t *msg, size_t msg_len, uint16_t version)
{
	for (size_t i = 0; i < hops; i++) {
		struct sphinx_processed out;
		int rc = sphinx_packet_process(packet, len, n->nodes[i].secret, &out);
		cr_assert_eq(rc, 0, "hop %zu of %zu failed: %d", i, hops, rc);
		cr_assert_eq(out.version, version);
		if (i + 1 < hops) {
			cr_assert_eq(out.kind, SPHINX_HOP_FORWARD);
			cr_assert_arr_eq(out.address, n->route[i + 1].address, 32);
			cr_assert_eq(out.delay_ns, n->route[i].delay_ns);
		} else {
			cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
			cr_assert_arr_eq(out.address, n->destination, 32);
			cr_assert_arr_eq(out.identifier, n->identifier, 16);
			const uint8_t *got;
			size_t got_len;
			cr_assert_eq(sphinx_packet_message(packet, len, &got, &got_len), 0);
			cr_assert_eq(got_len, msg_len);
			cr_assert_arr_eq(got, msg, msg_len);
		}
	}
}

Test(sphinx, kdf_known_answer)
{
	json_t *v = testdata_load("sphinx_kdf.json");
	size_t l;
	uint8_t *sk1 = testdata_hex(testdata_str(v, "sk1_hex"), &l);
	uint8_t *sk2 = testdata_hex(testdata_str(v, "sk2_hex"), &l);
	uint8_t *pk1 = testdata_hex(testdata_str(v, "pk1_hex"), &l);
	uint8_t *ss = testdata_hex(testdata_str(v, "shared_secret_hex"), &l);
	uint8_t *expanded = testdata_hex(testdata_str(v, "expanded_shared_secret_hex"), &l);
	cr_assert_eq(l, 288);
	uint8_t *v259 = testdata_hex(testdata_str(v, "v259_payload_key.hex"), &l);
	cr_assert_eq(l, 192);

	uint8_t pub[32], shared[32], key[192];
	nym_x25519_public(pub, sk1);
	cr_assert_arr_eq(pub, pk1, 32);
	cr_assert_eq(nym_x25519(shared, sk2, pub), 0);
	cr_assert_arr_eq(shared, ss, 32);

	struct sphinx_hop_keys keys;
	sphinx_keys_expand(&keys, shared);
	cr_assert_arr_eq((uint8_t *)&keys, expanded, 288);
	size_t fl;
	uint8_t *tag = testdata_hex(testdata_str(v, "fields.replay_tag.hex"), &fl);
	cr_assert_arr_eq(keys.replay_tag, tag, 32);
	uint8_t *blind = testdata_hex(testdata_str(v, "fields.blinding_factor.hex"), &fl);
	cr_assert_arr_eq(keys.blinding, blind, 32);

	cr_assert_eq(sphinx_payload_key(key, keys.payload, SPHINX_VERSION_259), 0);
	cr_assert_arr_eq(key, v259, 192);
	cr_assert_eq(sphinx_payload_key(key, keys.payload, SPHINX_VERSION_258), 0);
	cr_assert_arr_eq(key, expanded + 32, 192);
	cr_assert_eq(sphinx_payload_key(key, keys.payload, 257), -EPROTONOSUPPORT);

	free(sk1), free(sk2), free(pk1), free(ss), free(expanded), free(v259), free(tag), free(blind);
	json_decref(v);
}

Test(sphinx, round_trip_every_length_version_and_size)
{
	static const uint16_t versions[] = { SPHINX_VERSION_258, SPHINX_VERSION_259 };
	for (size_t hops = 1; hops <= SPHINX_MAX_HOPS; hops++) {
		for (size_t vi = 0; vi < 2; vi++) {
			for (size_t si = 0; si < sizeof(payload_sizes) / sizeof(*payload_sizes); si++) {
				struct network n;
				make_network(&n, hops);
				size_t len = SPHINX_HEADER_LEN + payload_sizes[si];
				size_t msg_len = sphinx_payload_capacity(payload_sizes[si]) - hops;
				uint8_t *packet = malloc(len), *msg = malloc(msg_len);
				nym_random(msg, msg_len);
				struct sphinx_packet_params p = params_for(&n, hops, versions[vi]);
				cr_assert_eq(sphinx_packet_create(packet, len, &p, msg, msg_len), 0);
				walk_route(&n, hops, packet, len, msg, msg_len, versions[vi]);
				free(packet);
				free(msg);
			}
		}
	}
}

Test(sphinx, full_capacity_and_empty_messages)
{
	struct network n;
	make_network(&n, 3);
	size_t len = SPHINX_HEADER_LEN + 2065;
	uint8_t packet[SPHINX_HEADER_LEN + 2065], msg[2048];
	memset(msg, 0x01, sizeof(msg)); /* the padding marker inside the message itself */
	struct sphinx_packet_params p = params_for(&n, 3, SPHINX_VERSION_259);
	cr_assert_eq(sphinx_packet_create(packet, len, &p, msg, 2048), 0);
	walk_route(&n, 3, packet, len, msg, 2048, SPHINX_VERSION_259);
	cr_assert_eq(sphinx_packet_create(packet, len, &p, msg, 0), 0);
	walk_route(&n, 3, packet, len, msg, 0, SPHINX_VERSION_259);
	cr_assert_eq(sphinx_packet_create(packet, len, &p, msg, 2049), -EMSGSIZE);
}

Test(sphinx, flipping_any_header_byte_fails)
{
	for (size_t vi = 0; vi < 2; vi++) {
		uint16_t version = vi ? SPHINX_VERSION_259 : SPHINX_VERSION_258;
		struct network n;
		make_network(&n, 4);
		uint8_t packet[SPHINX_HEADER_LEN + 38], copy[sizeof(packet)];
		struct sphinx_packet_params p = params_for(&n, 4, version);
		cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, (const uint8_t *)"x", 1), 0);
		for (size_t i = 0; i < SPHINX_HEADER_LEN; i++) {
			memcpy(copy, packet, sizeof(packet));
			copy[i] ^= (uint8_t)(1u << (i % 8));
			struct sphinx_processed out;
			int rc = sphinx_packet_process(copy, sizeof(copy), n.nodes[0].secret, &out);
			/* alpha, gamma, beta are all covered: a changed alpha gives other keys */
			cr_assert(rc == -EBADMSG || rc == -EINVAL, "byte %zu accepted (rc %d)", i, rc);
		}
	}
}

Test(sphinx, flipping_a_payload_byte_fails_recovery)
{
	struct network n;
	make_network(&n, 4);
	uint8_t packet[SPHINX_HEADER_LEN + 2065];
	struct sphinx_packet_params p = params_for(&n, 4, SPHINX_VERSION_259);
	const uint8_t msg[] = "attack at dawn";
	for (size_t pos = SPHINX_HEADER_LEN; pos < sizeof(packet); pos += 97) {
		cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, msg, sizeof(msg)), 0);
		packet[pos] ^= 0x80;
		struct sphinx_processed out;
		for (size_t i = 0; i < 4; i++)
			cr_assert_eq(sphinx_packet_process(packet, sizeof(packet), n.nodes[i].secret, &out), 0,
				     "the payload is not authenticated per hop");
		const uint8_t *got;
		size_t got_len;
		cr_assert_eq(sphinx_packet_message(packet, sizeof(packet), &got, &got_len), -EBADMSG,
			     "flipped byte at %zu went unnoticed", pos);
	}
}

Test(sphinx, wrong_key_fails)
{
	struct network n;
	make_network(&n, 3);
	struct nym_x25519_keypair other;
	nym_x25519_generate(&other);
	uint8_t packet[SPHINX_HEADER_LEN + 2065];
	struct sphinx_packet_params p = params_for(&n, 3, SPHINX_VERSION_258);
	cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, (const uint8_t *)"m", 1), 0);
	struct sphinx_processed out;
	cr_assert_eq(sphinx_packet_process(packet, sizeof(packet), other.secret, &out), -EBADMSG);
	cr_assert_eq(sphinx_packet_process(packet, sizeof(packet), n.nodes[1].secret, &out), -EBADMSG);
}

Test(sphinx, malformed_inputs_are_rejected)
{
	struct network n;
	make_network(&n, 2);
	uint8_t packet[SPHINX_HEADER_LEN + 2065] = { 0 };
	struct sphinx_processed out;
	cr_assert_eq(sphinx_packet_process(packet, SPHINX_HEADER_LEN + 32, n.nodes[0].secret, &out),
		     -EMSGSIZE);
	/* an all-zero alpha is a small-order point */
	cr_assert_eq(sphinx_packet_process(packet, sizeof(packet), n.nodes[0].secret, &out), -EINVAL);

	struct sphinx_packet_params p = params_for(&n, 0, SPHINX_VERSION_259);
	cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, NULL, 0), -EINVAL);
	p.hops = 6;
	cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, NULL, 0), -EINVAL);
	p.hops = 2;
	p.version = 257;
	cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, NULL, 0), -EPROTONOSUPPORT);
	p.version = SPHINX_VERSION_259;
	memset(n.route[1].public_key, 0, 32);
	cr_assert_eq(sphinx_packet_create(packet, sizeof(packet), &p, NULL, 0), -EINVAL);
}

Test(sphinx, seeded_creation_is_reproducible)
{
	struct network n;
	make_network(&n, 4);
	uint8_t a[SPHINX_HEADER_LEN + 2065], b[sizeof(a)], seed[32] = { 7 };
	struct nym_seeded_rng s1, s2;
	struct nym_rng r1 = nym_seeded_rng_init(&s1, seed), r2 = nym_seeded_rng_init(&s2, seed);
	struct sphinx_packet_params p = params_for(&n, 4, SPHINX_VERSION_259);
	p.rng = &r1;
	cr_assert_eq(sphinx_packet_create(a, sizeof(a), &p, (const uint8_t *)"m", 1), 0);
	p.rng = &r2;
	cr_assert_eq(sphinx_packet_create(b, sizeof(b), &p, (const uint8_t *)"m", 1), 0);
	cr_assert_arr_eq(a, b, sizeof(a));
	p.rng = NULL;
	cr_assert_eq(sphinx_packet_create(b, sizeof(b), &p, (const uint8_t *)"m", 1), 0);
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
}

static void assert_shortcut_matches_chain(const uint8_t (*route_keys)[32], size_t hops)
{
	struct sphinx_hop_keys fast[SPHINX_MAX_HOPS], slow[SPHINX_MAX_HOPS];
	uint8_t x[32], a_fast[32], a_slow[32];
	nym_random(x, sizeof(x));
	cr_assert_eq(sphinx_sender_keys(a_fast, fast, route_keys, hops, x), 0);
	cr_assert_eq(sphinx_sender_keys_chain(a_slow, slow, route_keys, hops, x), 0);
	cr_assert_arr_eq(a_fast, a_slow, 32);
	cr_assert_arr_eq(fast, slow, hops * sizeof(fast[0]));
}

Test(sphinx, sender_shortcut_equals_literal_chain)
{
	for (int round = 0; round < 200; round++) {
		uint8_t keys[SPHINX_MAX_HOPS][32];
		for (int i = 0; i < SPHINX_MAX_HOPS; i++) {
			struct nym_x25519_keypair kp;
			nym_x25519_generate(&kp);
			memcpy(keys[i], kp.public_key, 32);
		}
		assert_shortcut_matches_chain((const uint8_t(*)[32])keys, SPHINX_MAX_HOPS);
	}
}

/* u = (1 + y) / (1 - y) mod p: the Montgomery form of an Edwards point. */
static void edwards_to_montgomery(uint8_t u[32], const uint8_t ed[32])
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = BN_new(), *y = BN_new(), *num = BN_new(), *den = BN_new(), *res = BN_new();
	uint8_t be[32];
	for (int i = 0; i < 32; i++)
		be[i] = ed[31 - i];
	be[0] &= 0x7f; /* drop the sign of x */
	BN_bin2bn(be, 32, y);
	BN_set_bit(p, 255);
	BN_sub_word(p, 19);
	BN_one(num);
	BN_mod_add(num, num, y, p, ctx);
	BN_one(den);
	BN_mod_sub(den, den, y, p, ctx);
	BN_mod_inverse(den, den, p, ctx);
	BN_mod_mul(res, num, den, p, ctx);
	BN_bn2lebinpad(res, u, 32);
	BN_free(p), BN_free(y), BN_free(num), BN_free(den), BN_free(res);
	BN_CTX_free(ctx);
}

Test(sphinx, sender_shortcut_equals_chain_for_keys_with_small_order_part)
{
	/* A public key outside the prime-order subgroup: P + T with T of order 4 (y = 0). */
	uint8_t t4[32] = { 0 };
	for (int round = 0; round < 20; round++) {
		uint8_t scalar[32], p_ed[32], sum[32], keys[3][32];
		crypto_core_ed25519_scalar_random(scalar);
		cr_assert_eq(crypto_scalarmult_ed25519_base_noclamp(p_ed, scalar), 0);
		cr_assert_eq(crypto_core_ed25519_add(sum, p_ed, t4), 0);
		edwards_to_montgomery(keys[0], sum);
		edwards_to_montgomery(keys[1], p_ed);
		memcpy(keys[2], keys[0], 32);
		assert_shortcut_matches_chain((const uint8_t(*)[32])keys, 3);
	}
}

Test(sphinx, surb_round_trip_both_versions)
{
	for (int vi = 0; vi < 2; vi++) {
		uint16_t version = vi ? SPHINX_VERSION_259 : SPHINX_VERSION_258;
		for (size_t hops = 1; hops <= SPHINX_MAX_HOPS; hops++) {
			struct network n;
			make_network(&n, hops);
			struct sphinx_surb surb, decoded;
			cr_assert_eq(sphinx_surb_create(&surb, n.route, hops, n.destination, n.identifier,
							version, NULL),
				     0);
			uint8_t enc[SPHINX_SURB_MAX_ENCODED];
			int len = sphinx_surb_encode(&surb, enc, sizeof(enc));
			cr_assert_eq((size_t)len,
				     SPHINX_HEADER_LEN + 32 + hops * (vi ? 16 : 192));
			cr_assert_eq(sphinx_surb_decode(&decoded, enc, (size_t)len), 0);
			cr_assert_eq(decoded.hops, hops);
			cr_assert_eq(decoded.version, version);
			cr_assert_arr_eq(decoded.first_hop, n.route[0].address, 32);

			uint8_t packet[SPHINX_HEADER_LEN + 2065];
			const uint8_t reply[] = "a reply the sender never routes itself";
			cr_assert_eq(sphinx_surb_use(&decoded, packet, sizeof(packet), reply, sizeof(reply)), 0);
			walk_route(&n, hops, packet, sizeof(packet), reply, sizeof(reply), version);
			sphinx_surb_clear(&surb);
			sphinx_surb_clear(&decoded);
		}
	}
	struct sphinx_surb s;
	uint8_t junk[SPHINX_HEADER_LEN + 32 + 17] = { 0 };
	cr_assert_eq(sphinx_surb_decode(&s, junk, sizeof(junk)), -EINVAL);
	cr_assert_eq(sphinx_surb_decode(&s, junk, SPHINX_HEADER_LEN + 32), -EINVAL);
}

Test(sphinx, payload_recovery_rules)
{
	uint8_t p[64];
	size_t off, len;
	cr_assert_eq(sphinx_payload_encode(p, sizeof(p), (const uint8_t *)"ab\x01" "c", 4), 0);
	cr_assert_eq(sphinx_payload_recover(p, sizeof(p), &off, &len), 0);
	cr_assert_eq(off, 16);
	cr_assert_eq(len, 4, "the message ends at the LAST 0x01");
	p[3] = 1;
	cr_assert_eq(sphinx_payload_recover(p, sizeof(p), &off, &len), -EBADMSG);
	memset(p, 0, sizeof(p));
	cr_assert_eq(sphinx_payload_recover(p, sizeof(p), &off, &len), -EBADMSG);
	cr_assert_eq(sphinx_payload_encode(p, 32, NULL, 0), -EMSGSIZE);
}
