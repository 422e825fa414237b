#include "cred/blind_rsa.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "util/log.h"

#define PEM_MAX 8192
#define DER_MAX 8192

struct nym_blind_rsa_public_key {
	enum nym_blind_rsa_variant variant;
	unsigned bits;
	size_t k;
	EVP_PKEY *pkey; /* type RSA, public part only: for EVP verification */
	BIGNUM *n, *e;
	BN_MONT_CTX *mont; /* for n; built once, then only read */
	uint8_t n_bytes[NYM_BRSA_MAX_LEN];
};

struct nym_blind_rsa_private_key {
	struct nym_blind_rsa_public_key *pub;
	EVP_PKEY *pkey; /* type RSA, with the CRT values */
};

static const struct {
	const char *name;
	size_t salt_len;
	bool randomized;
} variants[] = {
	[NYM_BRSA_PSS_RANDOMIZED] = { "RSABSSA-SHA384-PSS-Randomized", 48, true },
	[NYM_BRSA_PSS_DETERMINISTIC] = { "RSABSSA-SHA384-PSS-Deterministic", 48, false },
	[NYM_BRSA_PSSZERO_RANDOMIZED] = { "RSABSSA-SHA384-PSSZERO-Randomized", 0, true },
	[NYM_BRSA_PSSZERO_DETERMINISTIC] = { "RSABSSA-SHA384-PSSZERO-Deterministic", 0, false },
};

static bool variant_valid(enum nym_blind_rsa_variant v)
{
	return (unsigned)v < sizeof(variants) / sizeof(variants[0]);
}

const char *nym_blind_rsa_variant_name(enum nym_blind_rsa_variant v)
{
	return variant_valid(v) ? variants[v].name : "unknown";
}

int nym_blind_rsa_variant_parse(const char *name, enum nym_blind_rsa_variant *out)
{
	for (unsigned i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (strcmp(name, variants[i].name) == 0) {
			*out = (enum nym_blind_rsa_variant)i;
			return 0;
		}
	}
	return -EINVAL;
}

size_t nym_blind_rsa_variant_salt_len(enum nym_blind_rsa_variant v)
{
	return variant_valid(v) ? variants[v].salt_len : 0;
}

bool nym_blind_rsa_variant_randomized(enum nym_blind_rsa_variant v)
{
	return variant_valid(v) && variants[v].randomized;
}

/* Reports an unexpected libcrypto failure and empties the per-thread error queue, so a stale
 * entry is never blamed for a later, unrelated failure. */
static int ossl_fail(const char *what)
{
	char buf[256] = "no detail";
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	log_ratelimited(NYM_LOG_ERROR, "blind_rsa: %s: %s", what, buf);
	ERR_clear_error();
	return -EPROTO;
}

/* SHA-384 fetched once: the implicit fetch behind EVP_sha384() costs a lookup on every use. */
static EVP_MD *sha384_md;
static pthread_once_t sha384_once = PTHREAD_ONCE_INIT;

static void sha384_fetch(void)
{
	sha384_md = EVP_MD_fetch(NULL, "SHA2-384", NULL);
}

static const EVP_MD *sha384(void)
{
	pthread_once(&sha384_once, sha384_fetch);
	return sha384_md;
}

/* Hashes the concatenation of up to three parts. */
static int sha384_parts(uint8_t out[NYM_BRSA_HASH_LEN], const void *a, size_t a_len, const void *b,
			size_t b_len, const void *c, size_t c_len)
{
	const EVP_MD *md = sha384();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -ENOMEM;
	if (!md || !ctx)
		goto out;
	rc = -EPROTO;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, a, a_len) != 1 ||
	    (b_len && EVP_DigestUpdate(ctx, b, b_len) != 1) ||
	    (c_len && EVP_DigestUpdate(ctx, c, c_len) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
		ossl_fail("SHA-384");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* --- Keys ------------------------------------------------------------------------------- */

static bool bits_accepted(int bits)
{
	return bits == 2048 || bits == 3072 || bits == 4096;
}

void nym_blind_rsa_public_key_free(struct nym_blind_rsa_public_key *pk)
{
	if (!pk)
		return;
	EVP_PKEY_free(pk->pkey);
	BN_free(pk->n);
	BN_free(pk->e);
	BN_MONT_CTX_free(pk->mont);
	free(pk);
}

/* Takes ownership of n and e whatever the outcome. */
static int public_key_build(struct nym_blind_rsa_public_key **out, enum nym_blind_rsa_variant v, BIGNUM *n,
			    BIGNUM *e)
{
	struct nym_blind_rsa_public_key *pk = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BN_CTX *bctx = NULL;
	int rc = -EINVAL;

	*out = NULL;
	if (!n || !e) {
		rc = -ENOMEM;
		goto out;
	}
	if (!variant_valid(v) || !BN_is_word(e, NYM_BRSA_PUBLIC_EXPONENT) ||
	    !bits_accepted(BN_num_bits(n)) || !BN_is_odd(n))
		goto out;
	rc = -ENOMEM;
	pk = calloc(1, sizeof(*pk));
	bctx = BN_CTX_new();
	if (!pk || !bctx)
		goto out;
	pk->variant = v;
	pk->bits = (unsigned)BN_num_bits(n);
	pk->k = (pk->bits + 7) / 8;
	pk->n = n;
	pk->e = e;
	n = e = NULL;
	if (BN_bn2binpad(pk->n, pk->n_bytes, (int)pk->k) != (int)pk->k)
		goto fail;
	pk->mont = BN_MONT_CTX_new();
	if (!pk->mont || BN_MONT_CTX_set(pk->mont, pk->n, bctx) != 1)
		goto fail;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, pk->n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, pk->e) != 1)
		goto fail;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pk->pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	*out = pk;
	pk = NULL;
	rc = 0;
	goto out;
fail:
	rc = ossl_fail("building a public key");
out:
	BN_free(n);
	BN_free(e);
	nym_blind_rsa_public_key_free(pk);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_CTX_free(bctx);
	return rc;
}

int nym_blind_rsa_public_key_from_ne(struct nym_blind_rsa_public_key **out, enum nym_blind_rsa_variant v,
				const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
	*out = NULL;
	if (n_len == 0 || n_len > NYM_BRSA_MAX_LEN + 1 || e_len == 0 || e_len > 8)
		return -EINVAL;
	return public_key_build(out, v, BN_bin2bn(n, (int)n_len, NULL),
				BN_bin2bn(e, (int)e_len, NULL));
}

int nym_blind_rsa_public_key_copy(struct nym_blind_rsa_public_key **out, const struct nym_blind_rsa_public_key *pk)
{
	return public_key_build(out, pk->variant, BN_dup(pk->n), BN_dup(pk->e));
}

size_t nym_blind_rsa_public_key_len(const struct nym_blind_rsa_public_key *pk)
{
	return pk->k;
}

unsigned nym_blind_rsa_public_key_bits(const struct nym_blind_rsa_public_key *pk)
{
	return pk->bits;
}

enum nym_blind_rsa_variant nym_blind_rsa_public_key_variant(const struct nym_blind_rsa_public_key *pk)
{
	return pk->variant;
}

const uint8_t *nym_blind_rsa_public_key_modulus(const struct nym_blind_rsa_public_key *pk)
{
	return pk->n_bytes;
}

bool nym_blind_rsa_public_key_equal(const struct nym_blind_rsa_public_key *a,
			       const struct nym_blind_rsa_public_key *b)
{
	return a->variant == b->variant && a->k == b->k && BN_cmp(a->e, b->e) == 0 &&
	       memcmp(a->n_bytes, b->n_bytes, a->k) == 0;
}

/* The RSASSA-PSS form of the key, carrying the variant's parameters, for SPKI export. */
static int pss_pkey(const struct nym_blind_rsa_public_key *pk, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc = -ENOMEM;
	*out = NULL;
	if (!bld)
		goto out;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, pk->n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, pk->e) != 1 ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_RSA_DIGEST, "SHA2-384", 0) != 1 ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, "SHA2-384", 0) !=
		    1 ||
	    OSSL_PARAM_BLD_push_int(bld, OSSL_PKEY_PARAM_RSA_PSS_SALTLEN,
				    (int)variants[pk->variant].salt_len) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = ossl_fail("building the RSASSA-PSS key");
		goto out;
	}
	rc = 0;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

int nym_blind_rsa_public_key_to_pem(const struct nym_blind_rsa_public_key *pk, char **pem)
{
	EVP_PKEY *pss = NULL;
	BIO *bio = NULL;
	char *data;
	*pem = NULL;
	int rc = pss_pkey(pk, &pss);
	if (rc)
		goto out;
	rc = -ENOMEM;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		goto out;
	if (PEM_write_bio_PUBKEY(bio, pss) != 1) {
		rc = ossl_fail("writing PEM");
		goto out;
	}
	long len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || !(*pem = malloc((size_t)len + 1)))
		goto out;
	memcpy(*pem, data, (size_t)len);
	(*pem)[len] = '\0';
	rc = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pss);
	return rc;
}

static bool param_is_sha384(const OSSL_PARAM *params, const char *key)
{
	const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, key);
	const char *name = NULL;
	if (!p || OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1 || !name)
		return false;
	EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
	bool ok = md && EVP_MD_is_a(md, "SHA2-384");
	EVP_MD_free(md);
	return ok;
}

int nym_blind_rsa_public_key_from_pem(struct nym_blind_rsa_public_key **out, enum nym_blind_rsa_variant v,
				 const char *pem, size_t pem_len)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int salt = -1;
	int rc = -EINVAL;

	*out = NULL;
	if (!variant_valid(v) || pem_len == 0 || pem_len > PEM_MAX)
		goto out;
	rc = -ENOMEM;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (!bio)
		goto out;
	rc = -EINVAL;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	/* Only the PSS-labelled form: an rsaEncryption key invites use in other protocols. */
	if (!pkey || !EVP_PKEY_is_a(pkey, "RSA-PSS") ||
	    EVP_PKEY_todata(pkey, EVP_PKEY_PUBLIC_KEY, &params) != 1)
		goto out;
	const OSSL_PARAM *ps = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_PSS_SALTLEN);
	if (!param_is_sha384(params, OSSL_PKEY_PARAM_RSA_DIGEST) ||
	    !param_is_sha384(params, OSSL_PKEY_PARAM_RSA_MGF1_DIGEST) || !ps ||
	    OSSL_PARAM_get_int(ps, &salt) != 1 || salt != (int)variants[v].salt_len)
		goto out;
	if (OSSL_PARAM_get_BN(OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_N), &n) != 1 ||
	    OSSL_PARAM_get_BN(OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_E), &e) != 1)
		goto out;
	rc = public_key_build(out, v, n, e);
	n = e = NULL;
out:
	ERR_clear_error();
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_free(params);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}

void nym_blind_rsa_private_key_free(struct nym_blind_rsa_private_key *sk)
{
	if (!sk)
		return;
	nym_blind_rsa_public_key_free(sk->pub);
	EVP_PKEY_free(sk->pkey); /* libcrypto clears private BIGNUMs when freeing them */
	free(sk);
}

const struct nym_blind_rsa_public_key *nym_blind_rsa_private_key_public(const struct nym_blind_rsa_private_key *sk)
{
	return sk->pub;
}

/* Cheap consistency checks of the CRT key: n = p*q, e*dp = 1 mod p-1, e*dq = 1 mod q-1,
 * q*qinv = 1 mod p. A key failing them would make every signature faulty. */
static int check_crt(BN_CTX *ctx, const BIGNUM *n, const BIGNUM *e, const BIGNUM *p,
		     const BIGNUM *q, const BIGNUM *dp, const BIGNUM *dq, const BIGNUM *qinv)
{
	BN_CTX_start(ctx);
	BIGNUM *t = BN_CTX_get(ctx), *pm1 = BN_CTX_get(ctx), *qm1 = BN_CTX_get(ctx);
	int rc = -ENOMEM;
	/* Once BN_CTX_get fails every later call does too: the last result tells for all. */
	if (!qm1)
		goto out;
	/* A failing operation here (a modulus of zero, say) is the key's fault as much as the
	 * library's: either way the key is refused. */
	rc = -EINVAL;
	if (BN_mul(t, p, q, ctx) != 1 || BN_cmp(t, n) != 0)
		goto out;
	if (!BN_copy(pm1, p) || !BN_sub_word(pm1, 1) || !BN_copy(qm1, q) || !BN_sub_word(qm1, 1))
		goto out;
	if (BN_mod_mul(t, e, dp, pm1, ctx) != 1 || !BN_is_one(t))
		goto out;
	if (BN_mod_mul(t, e, dq, qm1, ctx) != 1 || !BN_is_one(t))
		goto out;
	if (BN_mod_mul(t, q, qinv, p, ctx) != 1 || !BN_is_one(t))
		goto out;
	rc = 0;
out:
	BN_CTX_end(ctx);
	ERR_clear_error();
	return rc;
}

/* OSSL_PARAM_clear_free arrived after 3.0: wipe the copies of private values by hand. */
static void params_clear_free(OSSL_PARAM *params)
{
	for (OSSL_PARAM *p = params; p && p->key; p++)
		if (p->data)
			OPENSSL_cleanse(p->data, p->data_size);
	OSSL_PARAM_free(params);
}

/* Builds the key from BIGNUMs (borrowed), after checking them. */
static int private_key_build(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
			     BIGNUM *const bn[8])
{
	static const char *const names[8] = {
		OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	struct nym_blind_rsa_private_key *sk = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BN_CTX *bctx = BN_CTX_secure_new();
	int rc = -ENOMEM;

	*out = NULL;
	sk = calloc(1, sizeof(*sk));
	if (!sk || !bctx)
		goto out;
	for (int i = 0; i < 8; i++) {
		rc = -EINVAL;
		if (!bn[i] || BN_is_zero(bn[i]))
			goto out;
	}
	rc = public_key_build(&sk->pub, v, BN_dup(bn[0]), BN_dup(bn[1]));
	if (rc)
		goto out;
	rc = check_crt(bctx, bn[0], bn[1], bn[3], bn[4], bn[5], bn[6], bn[7]);
	if (rc)
		goto out;
	rc = -ENOMEM;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		goto out;
	for (int i = 0; i < 8; i++)
		if (OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]) != 1)
			goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !pctx)
		goto out;
	if (EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &sk->pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		rc = ossl_fail("building a private key");
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	nym_blind_rsa_private_key_free(sk);
	params_clear_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_CTX_free(bctx);
	return rc;
}

int nym_blind_rsa_private_key_from_components(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
					 const struct nym_blind_rsa_components *c)
{
	const uint8_t *src[8] = { c->n, c->e, c->d, c->p, c->q, c->dp, c->dq, c->qinv };
	size_t len[8] = { c->n_len, c->e_len,  c->d_len,  c->p_len,
			  c->q_len, c->dp_len, c->dq_len, c->qinv_len };
	BIGNUM *bn[8] = { 0 };
	int rc = -EINVAL;
	*out = NULL;
	for (int i = 0; i < 8; i++) {
		if (!src[i] || len[i] == 0 || len[i] > NYM_BRSA_MAX_LEN + 1)
			goto out;
		rc = -ENOMEM;
		if (!(bn[i] = BN_secure_new()) || !BN_bin2bn(src[i], (int)len[i], bn[i]))
			goto out;
		rc = -EINVAL;
	}
	rc = private_key_build(out, v, bn);
out:
	for (int i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return rc;
}

/* Pulls every component out of a libcrypto key and rebuilds it through the checked path. */
static int private_key_from_pkey(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
				 const EVP_PKEY *pkey)
{
	static const char *const names[8] = {
		OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	BIGNUM *bn[8] = { 0 };
	int rc = -EINVAL;
	*out = NULL;
	if (!EVP_PKEY_is_a(pkey, "RSA"))
		goto out;
	for (int i = 0; i < 8; i++)
		if (EVP_PKEY_get_bn_param(pkey, names[i], &bn[i]) != 1)
			goto out;
	rc = private_key_build(out, v, bn);
out:
	ERR_clear_error();
	for (int i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return rc;
}

int nym_blind_rsa_private_key_generate(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
				  unsigned bits)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e = NULL;
	int rc = -EINVAL;
	*out = NULL;
	if (!variant_valid(v) || !bits_accepted((int)bits))
		goto out;
	rc = -ENOMEM;
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	e = BN_new();
	if (!pctx || !e || !BN_set_word(e, NYM_BRSA_PUBLIC_EXPONENT))
		goto out;
	if (EVP_PKEY_keygen_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, (int)bits) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pctx, e) != 1 ||
	    EVP_PKEY_generate(pctx, &pkey) != 1) {
		rc = ossl_fail("generating a key");
		goto out;
	}
	rc = private_key_from_pkey(out, v, pkey);
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	BN_free(e);
	return rc;
}

int nym_blind_rsa_private_key_to_der(const struct nym_blind_rsa_private_key *sk, uint8_t **der,
				size_t *der_len)
{
	OSSL_ENCODER_CTX *ectx = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = -ENOMEM;
	*der = NULL;
	*der_len = 0;
	ectx = OSSL_ENCODER_CTX_new_for_pkey(sk->pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo",
					     NULL);
	if (!ectx)
		goto out;
	if (OSSL_ENCODER_to_data(ectx, &data, &len) != 1 || len == 0) {
		rc = ossl_fail("encoding a private key");
		goto out;
	}
	if (!(*der = malloc(len)))
		goto out;
	memcpy(*der, data, len);
	*der_len = len;
	rc = 0;
out:
	if (data)
		OPENSSL_clear_free(data, len);
	OSSL_ENCODER_CTX_free(ectx);
	return rc;
}

int nym_blind_rsa_private_key_from_der(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
				  const uint8_t *der, size_t der_len)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der;
	size_t left = der_len;
	int rc = -EINVAL;
	*out = NULL;
	if (der_len == 0 || der_len > DER_MAX)
		goto out;
	rc = -ENOMEM;
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "PrivateKeyInfo", "RSA",
					     EVP_PKEY_KEYPAIR, NULL, NULL);
	if (!dctx)
		goto out;
	rc = -EINVAL;
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || !pkey)
		goto out;
	rc = private_key_from_pkey(out, v, pkey);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return rc;
}

void nym_blind_rsa_der_free(uint8_t *der, size_t der_len)
{
	if (!der)
		return;
	nym_memzero(der, der_len);
	free(der);
}

/* --- EMSA-PSS and the client ------------------------------------------------------------ */

/* MGF1 with SHA-384 (RFC 8017 B.2.1), XORed into out[0..len). */
static int mgf1_xor(uint8_t *out, size_t len, const uint8_t seed[NYM_BRSA_HASH_LEN])
{
	uint8_t block[NYM_BRSA_HASH_LEN];
	int rc = 0;
	for (uint32_t counter = 0; len > 0; counter++) {
		uint8_t c[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
				 (uint8_t)(counter >> 8), (uint8_t)counter };
		rc = sha384_parts(block, seed, NYM_BRSA_HASH_LEN, c, 4, NULL, 0);
		if (rc)
			break;
		size_t n = len < sizeof(block) ? len : sizeof(block);
		for (size_t i = 0; i < n; i++)
			out[i] ^= block[i];
		out += n;
		len -= n;
	}
	nym_memzero(block, sizeof(block));
	return rc;
}

int nym_blind_rsa_emsa_pss_encode(uint8_t *em, size_t em_len, unsigned em_bits, const uint8_t *msg,
			     size_t msg_len, const uint8_t *salt, size_t salt_len)
{
	static const uint8_t zeros[8];
	uint8_t mhash[NYM_BRSA_HASH_LEN], h[NYM_BRSA_HASH_LEN];
	int rc = -EINVAL;
	if (em_bits == 0 || em_len != (em_bits + 7) / 8 || em_len > NYM_BRSA_MAX_LEN ||
	    salt_len > NYM_BRSA_MAX_LEN)
		goto out;
	rc = -EMSGSIZE;
	if (em_len < NYM_BRSA_HASH_LEN + salt_len + 2)
		goto out;
	rc = sha384_parts(mhash, msg, msg_len, NULL, 0, NULL, 0);
	if (rc)
		goto out;
	rc = sha384_parts(h, zeros, sizeof(zeros), mhash, sizeof(mhash), salt, salt_len);
	if (rc)
		goto out;
	size_t db_len = em_len - NYM_BRSA_HASH_LEN - 1;
	/* DB = PS || 0x01 || salt, masked in place. */
	memset(em, 0, db_len - salt_len - 1);
	em[db_len - salt_len - 1] = 0x01;
	if (salt_len)
		memcpy(em + db_len - salt_len, salt, salt_len);
	rc = mgf1_xor(em, db_len, h);
	if (rc)
		goto out;
	em[0] &= (uint8_t)(0xffu >> (8 * em_len - em_bits));
	memcpy(em + db_len, h, NYM_BRSA_HASH_LEN);
	em[em_len - 1] = 0xbc;
out:
	if (rc)
		nym_memzero(em, em_len <= NYM_BRSA_MAX_LEN ? em_len : 0);
	nym_memzero(mhash, sizeof(mhash));
	nym_memzero(h, sizeof(h));
	return rc;
}

int nym_blind_rsa_prepare_with(const struct nym_blind_rsa_public_key *pk,
			  const uint8_t prefix[NYM_BRSA_PREFIX_LEN], const uint8_t *msg,
			  size_t msg_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	size_t plen = variants[pk->variant].randomized ? NYM_BRSA_PREFIX_LEN : 0;
	if (msg_len > SIZE_MAX - plen || out_cap < plen + msg_len)
		return -ENOSPC;
	memmove(out + plen, msg, msg_len);
	memcpy(out, prefix, plen);
	*out_len = plen + msg_len;
	return 0;
}

int nym_blind_rsa_prepare(const struct nym_blind_rsa_public_key *pk, const uint8_t *msg, size_t msg_len,
		     uint8_t *out, size_t out_cap, size_t *out_len)
{
	uint8_t prefix[NYM_BRSA_PREFIX_LEN];
	nym_random(prefix, sizeof(prefix));
	int rc = nym_blind_rsa_prepare_with(pk, prefix, msg, msg_len, out, out_cap, out_len);
	nym_memzero(prefix, sizeof(prefix));
	return rc;
}

/* Blind steps 1-3 and 5-8 for a given salt and a secret r (BN_FLG_CONSTTIME set). */
static int blind_core(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		      size_t prepared_len, const uint8_t *salt, BIGNUM *r, BN_CTX *ctx,
		      uint8_t *blinded, uint8_t *inv_out)
{
	uint8_t em[NYM_BRSA_MAX_LEN];
	int k = (int)pk->k;
	BIGNUM *m = NULL, *g = NULL, *inv = NULL, *x = NULL, *z = NULL;
	int rc = nym_blind_rsa_emsa_pss_encode(em, pk->k, pk->bits - 1, prepared, prepared_len, salt,
					  variants[pk->variant].salt_len);
	if (rc)
		goto out;
	rc = -ENOMEM;
	m = BN_secure_new();
	g = BN_secure_new();
	x = BN_secure_new();
	z = BN_new();
	if (!m || !g || !x || !z || !BN_bin2bn(em, k, m))
		goto out;
	rc = -EPROTO;
	if (BN_gcd(g, m, pk->n, ctx) != 1) {
		rc = ossl_fail("gcd");
		goto out;
	}
	rc = -EINVAL; /* "invalid input": the key is broken or hostile */
	if (!BN_is_one(g))
		goto out;
	if (BN_is_zero(r) || BN_cmp(r, pk->n) >= 0)
		goto out;
	inv = BN_mod_inverse(NULL, r, pk->n, ctx);
	if (!inv) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == BN_R_NO_INVERSE) {
			ERR_clear_error();
			rc = -EAGAIN; /* "blinding error": draw another r */
		} else {
			rc = ossl_fail("modular inverse");
		}
		goto out;
	}
	BN_set_flags(inv, BN_FLG_CONSTTIME);
	if (BN_mod_exp_mont_consttime(x, r, pk->e, pk->n, ctx, pk->mont) != 1 ||
	    BN_mod_mul(z, m, x, pk->n, ctx) != 1) {
		rc = ossl_fail("blinding");
		goto out;
	}
	if (BN_bn2binpad(z, blinded, k) != k || BN_bn2binpad(inv, inv_out, k) != k) {
		rc = ossl_fail("blinding output");
		goto out;
	}
	rc = 0;
out:
	nym_memzero(em, sizeof(em));
	BN_clear_free(m);
	BN_clear_free(g);
	BN_clear_free(inv);
	BN_clear_free(x);
	BN_clear_free(z);
	return rc;
}

int nym_blind_rsa_blind_with(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
			size_t prepared_len, const uint8_t *salt, const uint8_t *r, size_t r_len,
			uint8_t *blinded, uint8_t *inv)
{
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *rb = BN_secure_new();
	int rc = -ENOMEM;
	if (!ctx || !rb)
		goto out;
	rc = -EINVAL;
	if (r_len == 0 || r_len > NYM_BRSA_MAX_LEN || !BN_bin2bn(r, (int)r_len, rb))
		goto out;
	BN_set_flags(rb, BN_FLG_CONSTTIME);
	rc = blind_core(pk, prepared, prepared_len, salt, rb, ctx, blinded, inv);
out:
	BN_clear_free(rb);
	BN_CTX_free(ctx);
	return rc;
}

/* An honest modulus has no small factors, so a draw without an inverse never happens; the
 * bound only stops a hostile key from looping us forever. */
#define BLIND_ATTEMPTS 8

int nym_blind_rsa_blind(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		   size_t prepared_len, uint8_t *blinded, uint8_t *inv)
{
	uint8_t salt[NYM_BRSA_MAX_LEN];
	size_t salt_len = variants[pk->variant].salt_len;
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *r = BN_secure_new();
	int rc = -ENOMEM;
	if (!ctx || !r)
		goto out;
	nym_random(salt, salt_len);
	rc = -EAGAIN;
	for (int attempt = 0; attempt < BLIND_ATTEMPTS && rc == -EAGAIN; attempt++) {
		do {
			if (BN_priv_rand_range_ex(r, pk->n, 0, ctx) != 1) {
				rc = ossl_fail("drawing r");
				goto out;
			}
		} while (BN_is_zero(r));
		BN_set_flags(r, BN_FLG_CONSTTIME);
		rc = blind_core(pk, prepared, prepared_len, salt, r, ctx, blinded, inv);
	}
out:
	nym_memzero(salt, sizeof(salt));
	BN_clear_free(r);
	BN_CTX_free(ctx);
	return rc;
}

/* --- Issuer ----------------------------------------------------------------------------- */

int nym_blind_rsa_blind_sign(const struct nym_blind_rsa_private_key *sk, const uint8_t *blinded,
			size_t blinded_len, uint8_t *blind_sig)
{
	const struct nym_blind_rsa_public_key *pk = sk->pub;
	EVP_PKEY_CTX *pctx = NULL;
	BN_CTX *ctx = NULL;
	BIGNUM *m = NULL, *s = NULL, *check = NULL;
	size_t sig_len = pk->k;
	int rc = -EINVAL;

	/* Wire checks first, so a bad element reads "out of range" and not a libcrypto error. */
	if (blinded_len != pk->k || memcmp(blinded, pk->n_bytes, pk->k) >= 0)
		goto out;
	rc = -ENOMEM;
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk->pkey, NULL);
	ctx = BN_CTX_new();
	m = BN_new();
	s = BN_new();
	check = BN_new();
	if (!pctx || !ctx || !m || !s || !check)
		goto out;
	/* RSASP1 through EVP: CRT, constant-time exponentiation and base blinding. */
	if (EVP_PKEY_sign_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_sign(pctx, blind_sig, &sig_len, blinded, blinded_len) != 1 ||
	    sig_len != pk->k) {
		rc = ossl_fail("blind signing");
		goto wipe;
	}
	/* The fault check (spec §3.4 step 5): a faulty CRT result would reveal a factor of n. */
	if (!BN_bin2bn(blinded, (int)pk->k, m) || !BN_bin2bn(blind_sig, (int)pk->k, s) ||
	    BN_mod_exp_mont(check, s, pk->e, pk->n, ctx, pk->mont) != 1) {
		rc = ossl_fail("checking a blind signature");
		goto wipe;
	}
	if (BN_cmp(check, m) != 0) {
		log_error("blind_rsa: CRITICAL: signing failure (s^e != m); signature withheld");
		rc = -EIO;
		goto wipe;
	}
	rc = 0;
	goto out;
wipe:
	nym_memzero(blind_sig, pk->k);
out:
	EVP_PKEY_CTX_free(pctx);
	BN_CTX_free(ctx);
	BN_free(m);
	BN_free(s);
	BN_free(check);
	return rc;
}

/* --- Finalize and Verify ---------------------------------------------------------------- */

int nym_blind_rsa_verify(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		    size_t prepared_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = sha384();
	int rc = -EBADMSG;
	if (sig_len != pk->k)
		goto out;
	rc = -ENOMEM;
	mctx = EVP_MD_CTX_new();
	if (!mctx || !md)
		goto out;
	/* Every PSS parameter explicit: left unset, the salt length is auto-detected and a
	 * zero-salt signature would pass. */
	if (EVP_DigestVerifyInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL, NULL, pk->pkey,
				    NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)variants[pk->variant].salt_len) != 1) {
		rc = ossl_fail("verification setup");
		goto out;
	}
	/* Only 1 means valid; 0 is a bad signature, negative an error on bad input. */
	rc = EVP_DigestVerify(mctx, sig, sig_len, prepared, prepared_len) == 1 ? 0 : -EBADMSG;
out:
	if (rc)
		ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return rc;
}

int nym_blind_rsa_finalize(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		      size_t prepared_len, const uint8_t *blind_sig, size_t blind_sig_len,
		      const uint8_t *inv, uint8_t *sig)
{
	BN_CTX *ctx = NULL;
	BIGNUM *z = NULL, *ib = NULL, *s = NULL;
	int k = (int)pk->k;
	int rc = -EINVAL; /* "unexpected input size" */
	if (blind_sig_len != pk->k)
		goto out;
	rc = -ENOMEM;
	ctx = BN_CTX_secure_new();
	z = BN_new();
	ib = BN_secure_new();
	s = BN_secure_new();
	if (!ctx || !z || !ib || !s || !BN_bin2bn(blind_sig, k, z) || !BN_bin2bn(inv, k, ib))
		goto out;
	if (BN_mod_mul(s, z, ib, pk->n, ctx) != 1 || BN_bn2binpad(s, sig, k) != k) {
		rc = ossl_fail("unblinding");
		goto out;
	}
	/* A signature under any key but the published one must never become a ticket. */
	rc = nym_blind_rsa_verify(pk, prepared, prepared_len, sig, pk->k);
	if (rc)
		nym_memzero(sig, pk->k);
out:
	BN_CTX_free(ctx);
	BN_free(z);
	BN_clear_free(ib);
	BN_clear_free(s);
	return rc;
}
