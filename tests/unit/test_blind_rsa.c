/* RFC 9474 blind RSA: the Appendix A vectors through the deterministic core, the negative
 * cases of spec/blind-rsa.md §9, and round trips with real randomness. */
#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "../support/testdata.h"
#include "cred/blind_rsa.h"
#include "crypto/secret.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(blind_rsa, .init = setup);

struct buf {
	uint8_t *p;
	size_t len;
};

static struct buf field(json_t *obj, const char *name)
{
	struct buf b;
	json_t *v = json_object_get(obj, name);
	cr_assert(json_is_string(v), "vector field %s missing", name);
	b.p = testdata_hex(json_string_value(v), &b.len);
	return b;
}

/* The key shared by every vector, with the derived CRT values. */
static struct nym_blind_rsa_private_key *vector_key(json_t *root, json_t *vec, enum nym_blind_rsa_variant v)
{
	json_t *derived = json_object_get(root, "derived");
	struct buf n = field(vec, "n"), e = field(vec, "e"), d = field(vec, "d"),
		   p = field(vec, "p"), q = field(vec, "q"), dp = field(derived, "dp"),
		   dq = field(derived, "dq"), qinv = field(derived, "qinv");
	struct nym_blind_rsa_components c = {
		.n = n.p,
		.n_len = n.len,
		.e = e.p,
		.e_len = e.len,
		.d = d.p,
		.d_len = d.len,
		.p = p.p,
		.p_len = p.len,
		.q = q.p,
		.q_len = q.len,
		.dp = dp.p,
		.dp_len = dp.len,
		.dq = dq.p,
		.dq_len = dq.len,
		.qinv = qinv.p,
		.qinv_len = qinv.len,
	};
	struct nym_blind_rsa_private_key *sk;
	cr_assert_eq(nym_blind_rsa_private_key_from_components(&sk, v, &c), 0);
	/* p and q swapped in the CRT coefficient's role: the consistency check refuses it. */
	struct nym_blind_rsa_components bad = c;
	bad.qinv = dp.p;
	bad.qinv_len = dp.len;
	struct nym_blind_rsa_private_key *none = (void *)1;
	cr_assert_eq(nym_blind_rsa_private_key_from_components(&none, v, &bad), -EINVAL);
	cr_assert_null(none);
	struct buf *all[] = { &n, &e, &d, &p, &q, &dp, &dq, &qinv };
	for (size_t i = 0; i < 8; i++)
		free(all[i]->p);
	return sk;
}

Test(blind_rsa, key_load_n_is_p_times_q)
{
	json_t *root = testdata_load("rfc9474.json");
	json_t *vec = json_array_get(json_object_get(root, "vectors"), 0);
	struct buf n = field(vec, "n"), p = field(vec, "p"), q = field(vec, "q"),
		   e = field(vec, "e");
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *bp = BN_bin2bn(p.p, (int)p.len, NULL), *bq = BN_bin2bn(q.p, (int)q.len, NULL),
	       *bn = BN_bin2bn(n.p, (int)n.len, NULL), *prod = BN_new();
	cr_assert(BN_mul(prod, bp, bq, ctx));
	cr_assert_eq(BN_cmp(prod, bn), 0);

	struct nym_blind_rsa_public_key *pk;
	cr_assert_eq(
		nym_blind_rsa_public_key_from_ne(&pk, NYM_BRSA_PSS_RANDOMIZED, n.p, n.len, e.p, e.len),
		0);
	cr_assert_eq(nym_blind_rsa_public_key_len(pk), 512);
	cr_assert_eq(nym_blind_rsa_public_key_bits(pk), 4096);
	struct nym_blind_rsa_private_key *sk = vector_key(root, vec, NYM_BRSA_PSS_RANDOMIZED);
	cr_assert(nym_blind_rsa_public_key_equal(pk, nym_blind_rsa_private_key_public(sk)));
	nym_blind_rsa_public_key_free(pk);
	nym_blind_rsa_private_key_free(sk);
	BN_free(bp);
	BN_free(bq);
	BN_free(bn);
	BN_free(prod);
	BN_CTX_free(ctx);
	free(n.p);
	free(p.p);
	free(q.p);
	free(e.p);
	json_decref(root);
}

Test(blind_rsa, rfc9474_vectors)
{
	json_t *root = testdata_load("rfc9474.json");
	json_t *vectors = json_object_get(root, "vectors");
	struct buf r = field(json_object_get(root, "derived"), "r");
	cr_assert_eq(json_array_size(vectors), 4);
	size_t i;
	json_t *vec;
	json_array_foreach(vectors, i, vec)
	{
		enum nym_blind_rsa_variant v;
		cr_assert_eq(nym_blind_rsa_variant_parse(testdata_str(vec, "variant"), &v), 0);
		cr_assert_eq(nym_blind_rsa_variant_salt_len(v),
			     (size_t)json_integer_value(json_object_get(vec, "salt_len")));
		struct nym_blind_rsa_private_key *sk = vector_key(root, vec, v);
		const struct nym_blind_rsa_public_key *pk = nym_blind_rsa_private_key_public(sk);
		size_t k = nym_blind_rsa_public_key_len(pk);
		struct buf msg = field(vec, "msg"), prefix = field(vec, "msg_prefix"),
			   prepared = field(vec, "prepared_msg"), salt = field(vec, "salt"),
			   encoded = field(vec, "encoded_msg"), inv = field(vec, "inv"),
			   blinded = field(vec, "blinded_msg"), blind_sig = field(vec, "blind_sig"),
			   sig = field(vec, "sig");
		const char *section = testdata_str(vec, "section");

		uint8_t pbuf[256], out[NYM_BRSA_MAX_LEN], out_inv[NYM_BRSA_MAX_LEN];
		uint8_t out_sig[NYM_BRSA_MAX_LEN], out_final[NYM_BRSA_MAX_LEN];
		size_t plen;
		uint8_t zero_prefix[NYM_BRSA_PREFIX_LEN] = { 0 };
		cr_assert_eq(nym_blind_rsa_prepare_with(pk, prefix.len ? prefix.p : zero_prefix, msg.p,
						   msg.len, pbuf, sizeof(pbuf), &plen),
			     0);
		cr_assert_eq(plen, prepared.len, "%s: prepared length", section);
		cr_assert_arr_eq(pbuf, prepared.p, plen, "%s: prepared_msg", section);

		cr_assert_eq(nym_blind_rsa_emsa_pss_encode(out, k, 4095, prepared.p, prepared.len,
						      salt.p, salt.len),
			     0);
		cr_assert_eq(encoded.len, k);
		cr_assert_arr_eq(out, encoded.p, k, "%s: encoded_msg", section);

		cr_assert_eq(nym_blind_rsa_blind_with(pk, prepared.p, prepared.len, salt.p, r.p, r.len,
						 out, out_inv),
			     0);
		cr_assert_arr_eq(out, blinded.p, k, "%s: blinded_msg", section);
		cr_assert_arr_eq(out_inv, inv.p, k, "%s: inv", section);

		cr_assert_eq(nym_blind_rsa_blind_sign(sk, blinded.p, blinded.len, out_sig), 0);
		cr_assert_arr_eq(out_sig, blind_sig.p, k, "%s: blind_sig", section);

		cr_assert_eq(nym_blind_rsa_finalize(pk, prepared.p, prepared.len, blind_sig.p,
					       blind_sig.len, inv.p, out_final),
			     0, "%s: finalize", section);
		cr_assert_arr_eq(out_final, sig.p, k, "%s: sig", section);
		cr_assert_eq(nym_blind_rsa_verify(pk, prepared.p, prepared.len, sig.p, sig.len), 0);

		struct buf *all[] = { &msg, &prefix,  &prepared,  &salt, &encoded,
				      &inv, &blinded, &blind_sig, &sig };
		for (size_t j = 0; j < sizeof(all) / sizeof(all[0]); j++)
			free(all[j]->p);
		nym_blind_rsa_private_key_free(sk);
	}
	free(r.p);
	json_decref(root);
}

/* The A.1 material, for the negative cases. */
struct a1 {
	json_t *root;
	struct nym_blind_rsa_private_key *sk;
	const struct nym_blind_rsa_public_key *pk;
	struct buf prepared, sig, blinded, blind_sig, inv, salt, r, p, n;
};

static void a1_load(struct a1 *a, size_t index)
{
	a->root = testdata_load("rfc9474.json");
	json_t *vec = json_array_get(json_object_get(a->root, "vectors"), index);
	enum nym_blind_rsa_variant v;
	cr_assert_eq(nym_blind_rsa_variant_parse(testdata_str(vec, "variant"), &v), 0);
	a->sk = vector_key(a->root, vec, v);
	a->pk = nym_blind_rsa_private_key_public(a->sk);
	a->prepared = field(vec, "prepared_msg");
	a->sig = field(vec, "sig");
	a->blinded = field(vec, "blinded_msg");
	a->blind_sig = field(vec, "blind_sig");
	a->inv = field(vec, "inv");
	a->salt = field(vec, "salt");
	a->p = field(vec, "p");
	a->n = field(vec, "n");
	a->r = field(json_object_get(a->root, "derived"), "r");
}

static void a1_free(struct a1 *a)
{
	struct buf *all[] = { &a->prepared, &a->sig, &a->blinded, &a->blind_sig, &a->inv,
			      &a->salt,	    &a->r,   &a->p,	  &a->n };
	for (size_t j = 0; j < sizeof(all) / sizeof(all[0]); j++)
		free(all[j]->p);
	nym_blind_rsa_private_key_free(a->sk);
	json_decref(a->root);
}

Test(blind_rsa, flipped_bits_are_invalid)
{
	struct a1 a;
	a1_load(&a, 0);
	size_t k = a.sig.len;
	/* Every 7th bit of sig and every bit of prepared_msg (which holds msg_prefix). */
	for (size_t bit = 0; bit < k * 8; bit += 7) {
		a.sig.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_eq(nym_blind_rsa_verify(a.pk, a.prepared.p, a.prepared.len, a.sig.p, k),
			     -EBADMSG, "sig bit %zu", bit);
		a.sig.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < a.prepared.len * 8; bit++) {
		a.prepared.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_eq(nym_blind_rsa_verify(a.pk, a.prepared.p, a.prepared.len, a.sig.p, k),
			     -EBADMSG, "prepared bit %zu", bit);
		a.prepared.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	cr_assert_eq(nym_blind_rsa_verify(a.pk, a.prepared.p, a.prepared.len, a.sig.p, k), 0);
	/* One byte short or long. */
	cr_assert_eq(nym_blind_rsa_verify(a.pk, a.prepared.p, a.prepared.len, a.sig.p, k - 1), -EBADMSG);
	uint8_t longer[NYM_BRSA_MAX_LEN + 1] = { 0 };
	memcpy(longer + 1, a.sig.p, k);
	cr_assert_eq(nym_blind_rsa_verify(a.pk, a.prepared.p, a.prepared.len, longer, k + 1), -EBADMSG);
	a1_free(&a);
}

Test(blind_rsa, zero_salt_signatures_fail_with_salt_48)
{
	/* A.2 and A.4 are PSSZERO; checked under a PSS (salt 48) key they must fail. */
	for (size_t idx = 1; idx <= 3; idx += 2) {
		struct a1 a;
		a1_load(&a, idx);
		struct nym_blind_rsa_public_key *pss;
		const uint8_t *n = nym_blind_rsa_public_key_modulus(a.pk);
		static const uint8_t e[] = { 1, 0, 1 };
		cr_assert_eq(
			nym_blind_rsa_public_key_from_ne(&pss, NYM_BRSA_PSS_RANDOMIZED, n, 512, e, 3),
			0);
		cr_assert_eq(nym_blind_rsa_verify(a.pk, a.prepared.p, a.prepared.len, a.sig.p, 512), 0);
		cr_assert_eq(nym_blind_rsa_verify(pss, a.prepared.p, a.prepared.len, a.sig.p, 512),
			     -EBADMSG);
		nym_blind_rsa_public_key_free(pss);
		a1_free(&a);
	}
}

Test(blind_rsa, blind_sign_rejects_out_of_range_and_wrong_size)
{
	struct a1 a;
	a1_load(&a, 0);
	uint8_t out[NYM_BRSA_MAX_LEN];
	cr_assert_eq(nym_blind_rsa_blind_sign(a.sk, a.n.p, a.n.len, out), -EINVAL); /* = n */
	uint8_t big[NYM_BRSA_MAX_LEN];
	memset(big, 0xff, sizeof(big));
	cr_assert_eq(nym_blind_rsa_blind_sign(a.sk, big, 512, out), -EINVAL);
	cr_assert_eq(nym_blind_rsa_blind_sign(a.sk, a.blinded.p, 511, out), -EINVAL);
	cr_assert_eq(nym_blind_rsa_blind_sign(a.sk, a.blinded.p, 512, out), 0);
	/* n - 1 is in range and gets signed. */
	uint8_t nm1[NYM_BRSA_MAX_LEN];
	memcpy(nm1, a.n.p, 512);
	nm1[511] -= 1;
	cr_assert_eq(nym_blind_rsa_blind_sign(a.sk, nm1, 512, out), 0);
	a1_free(&a);
}

Test(blind_rsa, finalize_refuses_bad_blind_sigs)
{
	struct a1 a;
	a1_load(&a, 0);
	uint8_t sig[NYM_BRSA_MAX_LEN];
	cr_assert_eq(nym_blind_rsa_finalize(a.pk, a.prepared.p, a.prepared.len, a.blind_sig.p, 511,
				       a.inv.p, sig),
		     -EINVAL);
	a.blind_sig.p[511] ^= 1; /* off by one */
	cr_assert_eq(nym_blind_rsa_finalize(a.pk, a.prepared.p, a.prepared.len, a.blind_sig.p, 512,
				       a.inv.p, sig),
		     -EBADMSG);
	uint8_t zero[NYM_BRSA_MAX_LEN] = { 0 };
	cr_assert_arr_eq(sig, zero, 512, "a failed finalize leaves no signature behind");
	a1_free(&a);
}

Test(blind_rsa, blinding_error_when_r_has_no_inverse)
{
	struct a1 a;
	a1_load(&a, 0);
	uint8_t blinded[NYM_BRSA_MAX_LEN], inv[NYM_BRSA_MAX_LEN];
	cr_assert_eq(nym_blind_rsa_blind_with(a.pk, a.prepared.p, a.prepared.len, a.salt.p, a.p.p,
					 a.p.len, blinded, inv),
		     -EAGAIN);
	/* r = 0 and r = n are outside [1, n). */
	uint8_t zero[1] = { 0 };
	cr_assert_eq(nym_blind_rsa_blind_with(a.pk, a.prepared.p, a.prepared.len, a.salt.p, zero, 1,
					 blinded, inv),
		     -EINVAL);
	cr_assert_eq(nym_blind_rsa_blind_with(a.pk, a.prepared.p, a.prepared.len, a.salt.p, a.n.p,
					 a.n.len, blinded, inv),
		     -EINVAL);
	a1_free(&a);
}

Test(blind_rsa, refuses_bad_moduli_and_exponents)
{
	struct a1 a;
	a1_load(&a, 0);
	struct nym_blind_rsa_public_key *pk = (void *)1;
	static const uint8_t e3[] = { 3 }, e65537[] = { 1, 0, 1 }, e_padded[] = { 0, 0, 1, 0, 1 };
	cr_assert_eq(nym_blind_rsa_public_key_from_ne(&pk, NYM_BRSA_PSS_RANDOMIZED, a.n.p, 512, e3, 1),
		     -EINVAL);
	cr_assert_null(pk);
	/* 2049 bits: a leading 0x01 byte in front of a 2048-bit odd value. */
	uint8_t n2049[257];
	n2049[0] = 1;
	memcpy(n2049 + 1, a.n.p, 256);
	n2049[256] |= 1;
	cr_assert_eq(
		nym_blind_rsa_public_key_from_ne(&pk, NYM_BRSA_PSS_RANDOMIZED, n2049, 257, e65537, 3),
		-EINVAL);
	/* 2047 bits. */
	uint8_t n2047[256];
	memcpy(n2047, a.n.p, 256);
	n2047[0] = 0x7f;
	n2047[255] |= 1;
	cr_assert_eq(
		nym_blind_rsa_public_key_from_ne(&pk, NYM_BRSA_PSS_RANDOMIZED, n2047, 256, e65537, 3),
		-EINVAL);
	/* A 2048-bit value is accepted, and e may carry leading zero bytes. */
	n2047[0] = 0xff;
	cr_assert_eq(
		nym_blind_rsa_public_key_from_ne(&pk, NYM_BRSA_PSS_RANDOMIZED, n2047, 256, e_padded, 5),
		0);
	cr_assert_eq(nym_blind_rsa_public_key_len(pk), 256);
	nym_blind_rsa_public_key_free(pk);
	struct nym_blind_rsa_private_key *sk = (void *)1;
	cr_assert_eq(nym_blind_rsa_private_key_generate(&sk, NYM_BRSA_PSS_RANDOMIZED, 2049), -EINVAL);
	cr_assert_null(sk);
	cr_assert_eq(nym_blind_rsa_private_key_generate(&sk, NYM_BRSA_PSS_RANDOMIZED, 1024), -EINVAL);
	a1_free(&a);
}

static void round_trip(struct nym_blind_rsa_private_key *sk)
{
	const struct nym_blind_rsa_public_key *pk = nym_blind_rsa_private_key_public(sk);
	size_t k = nym_blind_rsa_public_key_len(pk);
	uint8_t msg[41];
	nym_random(msg, sizeof(msg));
	uint8_t prep[2][80], blinded[2][NYM_BRSA_MAX_LEN], inv[2][NYM_BRSA_MAX_LEN];
	uint8_t bsig[2][NYM_BRSA_MAX_LEN], sig[2][NYM_BRSA_MAX_LEN];
	size_t plen[2];
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(
			nym_blind_rsa_prepare(pk, msg, sizeof(msg), prep[i], sizeof(prep[i]), &plen[i]),
			0);
		cr_assert_eq(plen[i], 73);
		cr_assert_arr_eq(prep[i] + 32, msg, sizeof(msg));
		cr_assert_eq(nym_blind_rsa_blind(pk, prep[i], plen[i], blinded[i], inv[i]), 0);
		cr_assert_eq(nym_blind_rsa_blind_sign(sk, blinded[i], k, bsig[i]), 0);
		cr_assert_eq(nym_blind_rsa_finalize(pk, prep[i], plen[i], bsig[i], k, inv[i], sig[i]),
			     0);
		cr_assert_eq(nym_blind_rsa_verify(pk, prep[i], plen[i], sig[i], k), 0);
	}
	/* Same message twice: fresh prefix, salt and r each time. */
	cr_assert(memcmp(prep[0], prep[1], 32) != 0);
	cr_assert(memcmp(blinded[0], blinded[1], k) != 0);
	cr_assert(memcmp(sig[0], sig[1], k) != 0);
	/* A signature does not carry over to the other prepared message. */
	cr_assert_eq(nym_blind_rsa_verify(pk, prep[0], plen[0], sig[1], k), -EBADMSG);
}

/* A fresh key of `bits` has a modulus of bits / 8 bytes and goes through the round trip. */
static void round_trip_fresh_key(unsigned bits)
{
	struct nym_blind_rsa_private_key *sk;
	cr_assert_eq(nym_blind_rsa_private_key_generate(&sk, NYM_BRSA_PSS_RANDOMIZED, bits), 0);
	cr_assert_eq(nym_blind_rsa_public_key_len(nym_blind_rsa_private_key_public(sk)), bits / 8);
	round_trip(sk);
	nym_blind_rsa_private_key_free(sk);
}

Test(blind_rsa, round_trip_2048, .timeout = 60)
{
	round_trip_fresh_key(2048);
}

Test(blind_rsa, round_trip_3072, .timeout = 120)
{
	round_trip_fresh_key(3072);
}

Test(blind_rsa, round_trip_4096)
{
	/* The vector key: 4096-bit generation is too slow for every test run. */
	struct a1 a;
	a1_load(&a, 0);
	round_trip(a.sk);
	a1_free(&a);
}

Test(blind_rsa, pem_round_trip_and_labels)
{
	struct a1 a;
	a1_load(&a, 0);
	char *pem;
	cr_assert_eq(nym_blind_rsa_public_key_to_pem(a.pk, &pem), 0);
	cr_assert(strstr(pem, "-----BEGIN PUBLIC KEY-----") == pem);
	struct nym_blind_rsa_public_key *back;
	cr_assert_eq(nym_blind_rsa_public_key_from_pem(&back, NYM_BRSA_PSS_RANDOMIZED, pem, strlen(pem)),
		     0);
	cr_assert(nym_blind_rsa_public_key_equal(back, a.pk));
	nym_blind_rsa_public_key_free(back);
	/* The same key read as a zero-salt variant: the parameters disagree. */
	cr_assert_eq(
		nym_blind_rsa_public_key_from_pem(&back, NYM_BRSA_PSSZERO_RANDOMIZED, pem, strlen(pem)),
		-EINVAL);
	cr_assert_eq(nym_blind_rsa_public_key_from_pem(&back, NYM_BRSA_PSS_RANDOMIZED, pem, 40),
		     -EINVAL);
	free(pem);

	/* The same modulus labelled rsaEncryption is refused. */
	BIO *bio = BIO_new(BIO_s_mem());
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *plain = NULL;
	OSSL_PARAM params[3];
	BIGNUM *n = BN_bin2bn(a.n.p, (int)a.n.len, NULL), *e = BN_new();
	BN_set_word(e, 65537);
	uint8_t nle[512], ele[3];
	BN_bn2lebinpad(n, nle, 512);
	BN_bn2lebinpad(e, ele, 3);
	params[0] = OSSL_PARAM_construct_BN("n", nle, 512);
	params[1] = OSSL_PARAM_construct_BN("e", ele, 3);
	params[2] = OSSL_PARAM_construct_end();
	cr_assert_eq(EVP_PKEY_fromdata_init(ctx), 1);
	cr_assert_eq(EVP_PKEY_fromdata(ctx, &plain, EVP_PKEY_PUBLIC_KEY, params), 1);
	cr_assert_eq(PEM_write_bio_PUBKEY(bio, plain), 1);
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	cr_assert_eq(
		nym_blind_rsa_public_key_from_pem(&back, NYM_BRSA_PSS_RANDOMIZED, data, (size_t)len),
		-EINVAL);
	BIO_free(bio);
	EVP_PKEY_free(plain);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	a1_free(&a);
}

Test(blind_rsa, private_key_der_round_trip)
{
	struct a1 a;
	a1_load(&a, 0);
	uint8_t *der;
	size_t der_len;
	cr_assert_eq(nym_blind_rsa_private_key_to_der(a.sk, &der, &der_len), 0);
	struct nym_blind_rsa_private_key *back;
	cr_assert_eq(nym_blind_rsa_private_key_from_der(&back, NYM_BRSA_PSS_RANDOMIZED, der, der_len),
		     0);
	cr_assert(nym_blind_rsa_public_key_equal(nym_blind_rsa_private_key_public(back), a.pk));
	uint8_t s1[NYM_BRSA_MAX_LEN], s2[NYM_BRSA_MAX_LEN];
	cr_assert_eq(nym_blind_rsa_blind_sign(a.sk, a.blinded.p, 512, s1), 0);
	cr_assert_eq(nym_blind_rsa_blind_sign(back, a.blinded.p, 512, s2), 0);
	cr_assert_arr_eq(s1, s2, 512);
	der[der_len / 2] ^= 0x40;
	struct nym_blind_rsa_private_key *broken = NULL;
	cr_assert_neq(nym_blind_rsa_private_key_from_der(&broken, NYM_BRSA_PSS_RANDOMIZED, der, der_len),
		      0);
	cr_assert_null(broken);
	nym_blind_rsa_der_free(der, der_len);
	nym_blind_rsa_private_key_free(back);
	a1_free(&a);
}
