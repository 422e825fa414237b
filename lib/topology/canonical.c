#include "topology/canonical.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sha256.h"
#include "util/base58.h"

struct buf {
	char *data;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

bool nym_canonical_string_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static int put_string(struct buf *b, const char *s, size_t n)
{
	if (!nym_canonical_string_ok(s, n))
		return -EINVAL;
	int rc = put(b, "\"", 1);
	if (!rc)
		rc = put(b, s, n);
	if (!rc)
		rc = put(b, "\"", 1);
	return rc;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int encode(struct buf *b, const json_t *v, int depth)
{
	if (depth > NYM_CANONICAL_DEPTH_MAX)
		return -EINVAL;
	int rc = 0;
	switch (json_typeof(v)) {
	case JSON_INTEGER: {
		char num[24];
		int n = snprintf(num, sizeof(num), "%" PRId64, (int64_t)json_integer_value(v));
		return put(b, num, (size_t)n);
	}
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v));
	case JSON_ARRAY: {
		rc = put(b, "[", 1);
		for (size_t i = 0; !rc && i < json_array_size(v); i++) {
			if (i)
				rc = put(b, ",", 1);
			if (!rc)
				rc = encode(b, json_array_get(v, i), depth + 1);
		}
		return rc ? rc : put(b, "]", 1);
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
		if (n && !keys)
			return -ENOMEM;
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val)
			keys[i++] = key;
		if (n > 1)
			qsort(keys, n, sizeof(*keys), cmp_keys);
		rc = put(b, "{", 1);
		for (i = 0; !rc && i < n; i++) {
			if (i)
				rc = put(b, ",", 1);
			if (!rc)
				rc = put_string(b, keys[i], strlen(keys[i]));
			if (!rc)
				rc = put(b, ":", 1);
			if (!rc)
				rc = encode(b, json_object_get(v, keys[i]), depth + 1);
		}
		free(keys);
		return rc ? rc : put(b, "}", 1);
	}
	default:
		return -EINVAL; /* floats, booleans, null */
	}
}

int nym_canonical_encode(const json_t *v, char **out, size_t *len)
{
	struct buf b = { 0 };
	int rc = v ? encode(&b, v, 0) : -EINVAL;
	if (rc) {
		free(b.data);
		return rc;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

/* The checks the encoder makes, without building the bytes. */
static bool subset_ok(const json_t *v, int depth)
{
	if (depth > NYM_CANONICAL_DEPTH_MAX)
		return false;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		return true;
	case JSON_STRING:
		return nym_canonical_string_ok(json_string_value(v), json_string_length(v));
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!subset_ok(json_array_get(v, i), depth + 1))
				return false;
		return true;
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val)
			if (!nym_canonical_string_ok(key, strlen(key)) || !subset_ok(val, depth + 1))
				return false;
		return true;
	}
	default:
		return false;
	}
}

int nym_canonical_parse(const char *text, size_t len, size_t max, json_t **out)
{
	*out = NULL;
	if (len > max)
		return -EMSGSIZE;
	/* Keys with NUL are refused by jansson without JSON_ALLOW_NUL; strings with NUL fail
	 * the printable-ASCII check. */
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!v)
		return -EINVAL;
	if (!json_is_object(v) || !subset_ok(v, 0)) {
		json_decref(v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int nym_canonical_digest(const json_t *v, uint8_t out[NYM_CANONICAL_DIGEST_LEN])
{
	char *bytes;
	size_t len;
	int rc = nym_canonical_encode(v, &bytes, &len);
	if (rc)
		return rc;
	nym_sha256(out, bytes, len);
	free(bytes);
	return 0;
}


static int with_domain(const char *domain, const char *bytes, size_t len, char **msg, size_t *msg_len)
{
	size_t dlen = strlen(domain);
	char *m = malloc(dlen + 1 + len);
	if (!m)
		return -ENOMEM;
	memcpy(m, domain, dlen);
	m[dlen] = '\0';
	memcpy(m + dlen + 1, bytes, len);
	*msg = m;
	*msg_len = dlen + 1 + len;
	return 0;
}

void nym_canonical_sign_bytes(const struct nym_ed25519_keypair *kp, const char *domain,
			      const char *bytes, size_t len, uint8_t sig[NYM_ED25519_SIG_LEN])
{
	char *msg;
	size_t msg_len;
	if (with_domain(domain, bytes, len, &msg, &msg_len)) {
		memset(sig, 0, NYM_ED25519_SIG_LEN); /* never verifies */
		return;
	}
	nym_ed25519_sign(kp, msg, msg_len, sig);
	free(msg);
}

bool nym_canonical_verify_bytes(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], const char *domain,
				const char *bytes, size_t len, const uint8_t sig[NYM_ED25519_SIG_LEN])
{
	char *msg;
	size_t msg_len;
	if (with_domain(domain, bytes, len, &msg, &msg_len))
		return false;
	bool ok = nym_ed25519_verify(pub, msg, msg_len, sig);
	free(msg);
	return ok;
}

int nym_canonical_sign(const struct nym_ed25519_keypair *kp, const char *domain, const json_t *v,
		       uint8_t sig[NYM_ED25519_SIG_LEN])
{
	char *bytes;
	size_t len;
	int rc = nym_canonical_encode(v, &bytes, &len);
	if (rc)
		return rc;
	nym_canonical_sign_bytes(kp, domain, bytes, len, sig);
	free(bytes);
	return 0;
}

int nym_canonical_verify(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], const char *domain,
			 const json_t *v, const uint8_t sig[NYM_ED25519_SIG_LEN])
{
	char *bytes;
	size_t len;
	int rc = nym_canonical_encode(v, &bytes, &len);
	if (rc)
		return rc;
	rc = nym_canonical_verify_bytes(pub, domain, bytes, len, sig) ? 0 : -EBADMSG;
	free(bytes);
	return rc;
}

bool nym_canonical_get_int(const json_t *obj, const char *key, int64_t min, int64_t max,
			   int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v))
		return false;
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return false;
	*out = (int64_t)i;
	return true;
}

const char *nym_canonical_get_str(const json_t *obj, const char *key, size_t max_len)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) > max_len)
		return NULL;
	return json_string_value(v);
}

static bool b58_value(const json_t *v, uint8_t *out, size_t len)
{
	if (!json_is_string(v) || json_string_length(v) > NYM_BASE58_ENCODED_MAX(64) || len > 64)
		return false;
	const char *s = json_string_value(v);
	char again[NYM_BASE58_ENCODED_MAX(64)];
	/* One spelling per value, so a parsed structure re-encodes to the bytes it came from. */
	return nym_base58_decode_exact(out, len, s) == 0 &&
	       nym_base58_encode(again, sizeof(again), out, len) >= 0 && strcmp(again, s) == 0;
}

static bool get_b58(const json_t *obj, const char *key, uint8_t *out, size_t len)
{
	return b58_value(json_object_get(obj, key), out, len);
}

bool nym_canonical_key_value(const json_t *v, uint8_t out[32])
{
	return b58_value(v, out, 32);
}

bool nym_canonical_get_key(const json_t *obj, const char *key, uint8_t out[32])
{
	return get_b58(obj, key, out, 32);
}

bool nym_canonical_get_sig(const json_t *obj, const char *key, uint8_t out[NYM_ED25519_SIG_LEN])
{
	return get_b58(obj, key, out, NYM_ED25519_SIG_LEN);
}

bool nym_canonical_only_fields(const json_t *obj, const char *const *names, size_t required)
{
	if (!json_is_object(obj))
		return false;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)obj, key, val) {
		bool known = false;
		for (size_t i = 0; names[i] && !known; i++)
			known = strcmp(key, names[i]) == 0;
		if (!known)
			return false;
	}
	for (size_t i = 0; i < required; i++)
		if (!json_object_get(obj, names[i]))
			return false;
	return true;
}

json_t *nym_canonical_b58(const uint8_t *data, size_t len)
{
	char text[NYM_BASE58_ENCODED_MAX(64)];
	if (len > 64 || nym_base58_encode(text, sizeof(text), data, len) < 0)
		return NULL;
	return json_string(text);
}
