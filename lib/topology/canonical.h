/* Canonical JSON: the one byte string a JSON value is signed as (docs/PROTOCOLS.md §7.1).
 *
 *   - values are objects, arrays, strings and integers; no floats, booleans or null;
 *   - strings (and object keys) hold printable ASCII (0x20..0x7e) other than '"' and '\\',
 *     so no string ever needs an escape;
 *   - integers are signed 64-bit, written in shortest decimal form ("-" only for negatives);
 *   - object members are sorted by key, bytewise; no key twice;
 *   - no whitespace anywhere; nesting at most NYM_CANONICAL_DEPTH_MAX deep.
 *
 * A signer encodes its value canonically and signs DOMAIN || 0x00 || bytes; a verifier parses
 * whatever it received (strictly: duplicate keys, floats and bad strings are refused),
 * re-encodes it canonically and checks the signature over that. Pure functions. */
#ifndef NYM_TOPOLOGY_CANONICAL_H
#define NYM_TOPOLOGY_CANONICAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"

#define NYM_CANONICAL_DEPTH_MAX 16
#define NYM_CANONICAL_DIGEST_LEN 32

/* Whether a string may appear in a canonical value. */
bool nym_canonical_string_ok(const char *s, size_t len);

/* *out is malloc'd and NUL-terminated, *len its length. -EINVAL for a value outside the
 * canonical subset, -ENOMEM. */
int nym_canonical_encode(const json_t *v, char **out, size_t *len);

/* Parses `len` bytes (at most `max`) as one JSON object in the canonical subset (not
 * necessarily in canonical form). -EMSGSIZE when longer than max, -EINVAL otherwise. */
int nym_canonical_parse(const char *text, size_t len, size_t max, json_t **out);

/* SHA-256 of the canonical encoding. */
int nym_canonical_digest(const json_t *v, uint8_t out[NYM_CANONICAL_DIGEST_LEN]);

/* Ed25519 over domain || 0x00 || canonical(v). */
int nym_canonical_sign(const struct nym_ed25519_keypair *kp, const char *domain, const json_t *v,
		       uint8_t sig[NYM_ED25519_SIG_LEN]);
/* 0, -EBADMSG (bad signature) or -EINVAL (value not canonical). */
int nym_canonical_verify(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], const char *domain,
			 const json_t *v, const uint8_t sig[NYM_ED25519_SIG_LEN]);
/* The same over bytes already encoded. */
bool nym_canonical_verify_bytes(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], const char *domain,
				const char *bytes, size_t len, const uint8_t sig[NYM_ED25519_SIG_LEN]);
void nym_canonical_sign_bytes(const struct nym_ed25519_keypair *kp, const char *domain,
			      const char *bytes, size_t len, uint8_t sig[NYM_ED25519_SIG_LEN]);

/* Strict field access for the parsers built on this module. Each returns false when the
 * member is missing or of another type. */
bool nym_canonical_get_int(const json_t *obj, const char *key, int64_t min, int64_t max,
			   int64_t *out);
const char *nym_canonical_get_str(const json_t *obj, const char *key, size_t max_len);
bool nym_canonical_get_key(const json_t *obj, const char *key, uint8_t out[32]);
/* A string value holding a base58 32-byte key, in its one spelling. */
bool nym_canonical_key_value(const json_t *v, uint8_t out[32]);
bool nym_canonical_get_sig(const json_t *obj, const char *key, uint8_t out[NYM_ED25519_SIG_LEN]);
/* True when every member of obj is one of the NULL-terminated names and every name in
 * `required` (a prefix count of names) is present. */
bool nym_canonical_only_fields(const json_t *obj, const char *const *names, size_t required);

/* A JSON string holding the base58 of a 32-byte key or a 64-byte signature. */
json_t *nym_canonical_b58(const uint8_t *data, size_t len);

#endif
