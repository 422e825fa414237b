/* RSA blind signatures, RFC 9474 (RSABSSA with SHA-384, MGF1-SHA-384), as specified for the
 * project in spec/blind-rsa.md. Production keys are RSABSSA-SHA384-PSS-Randomized; the other
 * three variants exist for the RFC's known-answer tests.
 *
 * Keys are checked when built: e = 65537 and a modulus of exactly 2048, 3072 or 4096 bits.
 * k (the modulus length in bytes) is always taken from the key. Keys are immutable once built
 * and may be shared between threads; every operation allocates its own scratch state.
 *
 * Errors (spec §4): -EINVAL invalid input, out of range or wrong size; -EBADMSG invalid
 * signature; -EAGAIN no inverse for the drawn blind (only from the deterministic core);
 * -EIO the signing fault check failed; -EMSGSIZE encoding error; -ENOMEM; -EPROTO any other
 * libcrypto failure (logged, error queue cleared); -ENOSPC an output buffer too small. */
#ifndef NYM_CRED_BLIND_RSA_H
#define NYM_CRED_BLIND_RSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NYM_BRSA_MAX_LEN 512 /* largest accepted k: a 4096-bit modulus */
#define NYM_BRSA_PREFIX_LEN 32
#define NYM_BRSA_HASH_LEN 48 /* SHA-384 */
#define NYM_BRSA_PUBLIC_EXPONENT 65537

enum nym_blind_rsa_variant {
	NYM_BRSA_PSS_RANDOMIZED = 0, /* salt 48, 32-byte random prefix: bandwidth tickets */
	NYM_BRSA_PSS_DETERMINISTIC,
	NYM_BRSA_PSSZERO_RANDOMIZED,
	NYM_BRSA_PSSZERO_DETERMINISTIC,
};

/* "RSABSSA-SHA384-PSS-Randomized" and so on, as RFC 9474 names them. */
const char *nym_blind_rsa_variant_name(enum nym_blind_rsa_variant v);
int nym_blind_rsa_variant_parse(const char *name, enum nym_blind_rsa_variant *out);
size_t nym_blind_rsa_variant_salt_len(enum nym_blind_rsa_variant v);
bool nym_blind_rsa_variant_randomized(enum nym_blind_rsa_variant v);

struct nym_blind_rsa_public_key;
struct nym_blind_rsa_private_key;

/* --- Public keys ------------------------------------------------------------------------ */

/* From big-endian n and e (leading zero bytes allowed). */
int nym_blind_rsa_public_key_from_ne(struct nym_blind_rsa_public_key **out, enum nym_blind_rsa_variant v,
				const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len);

/* PEM SubjectPublicKeyInfo labelled id-RSASSA-PSS with the variant's parameters (SHA-384,
 * MGF1-SHA-384, its salt length), the form RFC 9578 publishes. Import accepts only that form
 * with parameters matching `v`: an rsaEncryption key or other PSS parameters are -EINVAL. */
int nym_blind_rsa_public_key_from_pem(struct nym_blind_rsa_public_key **out, enum nym_blind_rsa_variant v,
				 const char *pem, size_t pem_len);
/* *pem gets a malloc'd NUL-terminated string; free() it. */
int nym_blind_rsa_public_key_to_pem(const struct nym_blind_rsa_public_key *pk, char **pem);

int nym_blind_rsa_public_key_copy(struct nym_blind_rsa_public_key **out,
			     const struct nym_blind_rsa_public_key *pk);
void nym_blind_rsa_public_key_free(struct nym_blind_rsa_public_key *pk);

size_t nym_blind_rsa_public_key_len(const struct nym_blind_rsa_public_key *pk); /* k */
unsigned nym_blind_rsa_public_key_bits(const struct nym_blind_rsa_public_key *pk);
enum nym_blind_rsa_variant nym_blind_rsa_public_key_variant(const struct nym_blind_rsa_public_key *pk);
/* The modulus as exactly k big-endian bytes. */
const uint8_t *nym_blind_rsa_public_key_modulus(const struct nym_blind_rsa_public_key *pk);
bool nym_blind_rsa_public_key_equal(const struct nym_blind_rsa_public_key *a,
			       const struct nym_blind_rsa_public_key *b);

/* --- Private keys (issuer) -------------------------------------------------------------- */

/* Fresh key (FIPS 186-5 generation by libcrypto) of 2048, 3072 or 4096 bits, e = 65537. */
int nym_blind_rsa_private_key_generate(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
				  unsigned bits);

/* Big-endian components. The CRT values make the private operation fast; all are required.
 * The key is checked (n = p*q, e = 65537, accepted size) before use. */
struct nym_blind_rsa_components {
	const uint8_t *n, *e, *d, *p, *q, *dp, *dq, *qinv;
	size_t n_len, e_len, d_len, p_len, q_len, dp_len, dq_len, qinv_len;
};
int nym_blind_rsa_private_key_from_components(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
					 const struct nym_blind_rsa_components *c);

/* PKCS#8 PrivateKeyInfo DER, for the issuer's database. *der is malloc'd and secret: release
 * it with nym_blind_rsa_der_free. */
int nym_blind_rsa_private_key_to_der(const struct nym_blind_rsa_private_key *sk, uint8_t **der,
				size_t *der_len);
int nym_blind_rsa_private_key_from_der(struct nym_blind_rsa_private_key **out, enum nym_blind_rsa_variant v,
				  const uint8_t *der, size_t der_len);
void nym_blind_rsa_der_free(uint8_t *der, size_t der_len);

const struct nym_blind_rsa_public_key *
nym_blind_rsa_private_key_public(const struct nym_blind_rsa_private_key *sk);
void nym_blind_rsa_private_key_free(struct nym_blind_rsa_private_key *sk);

/* --- The protocol (spec §3) ------------------------------------------------------------- */

/* Prepare: out = random(32) || msg for the Randomized variants, msg otherwise. */
int nym_blind_rsa_prepare(const struct nym_blind_rsa_public_key *pk, const uint8_t *msg, size_t msg_len,
		     uint8_t *out, size_t out_cap, size_t *out_len);

/* Blind with a fresh salt and r. blinded and inv get k bytes each; inv is the client's secret
 * (wipe it after Finalize). A gcd failure (-EINVAL) means the key is unusable. */
int nym_blind_rsa_blind(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		   size_t prepared_len, uint8_t *blinded, uint8_t *inv);

/* BlindSign: blinded must be k bytes and below n; sig gets k bytes. The result is checked
 * (s^e = m) before it is released (-EIO and a wiped output on a fault). */
int nym_blind_rsa_blind_sign(const struct nym_blind_rsa_private_key *sk, const uint8_t *blinded,
			size_t blinded_len, uint8_t *blind_sig);

/* Finalize: unblinds and verifies; sig gets k bytes. -EINVAL when blind_sig is not k bytes,
 * -EBADMSG when the result does not verify. */
int nym_blind_rsa_finalize(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		      size_t prepared_len, const uint8_t *blind_sig, size_t blind_sig_len,
		      const uint8_t *inv, uint8_t *sig);

/* RSASSA-PSS verification of sig over prepared with the key's salt length: 0 or -EBADMSG. */
int nym_blind_rsa_verify(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
		    size_t prepared_len, const uint8_t *sig, size_t sig_len);

/* --- Deterministic core: known-answer tests only --------------------------------------- */
/* Production code never passes its own salt, prefix or r (spec §6): those are how a client
 * would be tagged. These exist so the RFC vectors can be reproduced. */

/* Prepare with the given prefix (ignored by the Deterministic variants). */
int nym_blind_rsa_prepare_with(const struct nym_blind_rsa_public_key *pk,
			  const uint8_t prefix[NYM_BRSA_PREFIX_LEN], const uint8_t *msg,
			  size_t msg_len, uint8_t *out, size_t out_cap, size_t *out_len);

/* EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384 into em[em_len]. */
int nym_blind_rsa_emsa_pss_encode(uint8_t *em, size_t em_len, unsigned em_bits, const uint8_t *msg,
			     size_t msg_len, const uint8_t *salt, size_t salt_len);

/* Blind with the given salt (the variant's length) and r (big-endian, 0 < r < n). -EAGAIN
 * when r has no inverse mod n. */
int nym_blind_rsa_blind_with(const struct nym_blind_rsa_public_key *pk, const uint8_t *prepared,
			size_t prepared_len, const uint8_t *salt, const uint8_t *r, size_t r_len,
			uint8_t *blinded, uint8_t *inv);

#endif
