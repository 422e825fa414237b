#include "util/bloom.h"
#include "util/bytes.h"

#include <endian.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t magic[8] = { 'N', 'Y', 'M', 'B', 'L', 'O', 'O', 'M' };
#define HASH_SIPHASH128_DOUBLE 1

int nym_bloom_init_raw(struct nym_bloom *b, uint64_t nbits, uint32_t nhashes,
		       const uint8_t key[NYM_BLOOM_KEY_LEN])
{
	memset(b, 0, sizeof(*b));
	if (nbits < 64 || nbits > NYM_BLOOM_MAX_BITS || nbits % 64 || nhashes < 1 ||
	    nhashes > NYM_BLOOM_MAX_HASHES)
		return -EINVAL;
	b->words = calloc(nbits / 64, sizeof(uint64_t));
	if (!b->words)
		return -ENOMEM;
	b->nbits = nbits;
	b->nhashes = nhashes;
	if (key)
		memcpy(b->key, key, NYM_BLOOM_KEY_LEN);
	else
		randombytes_buf(b->key, NYM_BLOOM_KEY_LEN);
	return 0;
}

int nym_bloom_init(struct nym_bloom *b, uint64_t expected_items, double fpr,
		   const uint8_t key[NYM_BLOOM_KEY_LEN])
{
	memset(b, 0, sizeof(*b));
	if (expected_items == 0 || !(fpr > 0.0 && fpr < 1.0))
		return -EINVAL;
	double ln2 = log(2.0);
	double m = ceil(-(double)expected_items * log(fpr) / (ln2 * ln2));
	if (m > (double)NYM_BLOOM_MAX_BITS)
		return -EINVAL;
	uint64_t nbits = ((uint64_t)m + 63) / 64 * 64;
	double k = round((double)nbits / (double)expected_items * ln2);
	uint32_t nhashes = k < 1		      ? 1
			   : k > NYM_BLOOM_MAX_HASHES ? NYM_BLOOM_MAX_HASHES
						      : (uint32_t)k;
	return nym_bloom_init_raw(b, nbits, nhashes, key);
}

void nym_bloom_free(struct nym_bloom *b)
{
	free(b->words);
	sodium_memzero(b, sizeof(*b));
}

struct hashes {
	uint64_t h1, h2;
};

static inline struct hashes hash_item(const struct nym_bloom *b, const void *item, size_t len)
{
	uint8_t out[crypto_shorthash_siphashx24_BYTES];
	crypto_shorthash_siphashx24(out, item, len, b->key);
	struct hashes h;
	memcpy(&h.h1, out, 8);
	memcpy(&h.h2, out + 8, 8);
	return h;
}

/* Lemire's multiply-shift: maps a 64-bit value onto [0, nbits) without a division. */
static inline uint64_t bit_index(const struct nym_bloom *b, const struct hashes *h, uint32_t i)
{
	uint64_t x = h->h1 + (uint64_t)i * h->h2;
	return (uint64_t)(((unsigned __int128)x * b->nbits) >> 64);
}

void nym_bloom_insert(struct nym_bloom *b, const void *item, size_t len)
{
	(void)nym_bloom_test_and_insert(b, item, len);
}

bool nym_bloom_test(const struct nym_bloom *b, const void *item, size_t len)
{
	struct hashes h = hash_item(b, item, len);
	for (uint32_t i = 0; i < b->nhashes; i++) {
		uint64_t bit = bit_index(b, &h, i);
		if (!(b->words[bit / 64] & (1ull << (bit % 64))))
			return false;
	}
	return true;
}

bool nym_bloom_test_and_insert(struct nym_bloom *b, const void *item, size_t len)
{
	struct hashes h = hash_item(b, item, len);
	bool present = true;
	for (uint32_t i = 0; i < b->nhashes; i++) {
		uint64_t bit = bit_index(b, &h, i);
		uint64_t mask = 1ull << (bit % 64);
		if (!(b->words[bit / 64] & mask)) {
			present = false;
			b->words[bit / 64] |= mask;
		}
	}
	if (!present)
		b->inserted++;
	return present;
}

void nym_bloom_clear(struct nym_bloom *b)
{
	memset(b->words, 0, b->nbits / 8);
	b->inserted = 0;
}

double nym_bloom_current_fpr(const struct nym_bloom *b)
{
	uint64_t set = 0;
	for (uint64_t i = 0; i < b->nbits / 64; i++)
		set += (uint64_t)__builtin_popcountll(b->words[i]);
	return pow((double)set / (double)b->nbits, (double)b->nhashes);
}

size_t nym_bloom_serialized_len(const struct nym_bloom *b)
{
	return NYM_BLOOM_HEADER_LEN + (size_t)(b->nbits / 8);
}

int nym_bloom_serialize(const struct nym_bloom *b, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t len = nym_bloom_serialized_len(b);
	if (cap < len)
		return -ENOSPC;
	memcpy(out, magic, 8);
	out[8] = NYM_BLOOM_VERSION;
	out[9] = HASH_SIPHASH128_DOUBLE;
	out[10] = (uint8_t)b->nhashes;
	memset(out + 11, 0, 5);
	nym_bytes_put_be64(out + 16, b->nbits);
	nym_bytes_put_be64(out + 24, b->inserted);
	memcpy(out + 32, b->key, NYM_BLOOM_KEY_LEN);
	uint8_t *p = out + NYM_BLOOM_HEADER_LEN;
	for (uint64_t i = 0; i < b->nbits / 64; i++, p += 8) {
		uint64_t w = htole64(b->words[i]);
		memcpy(p, &w, 8);
	}
	*out_len = len;
	return 0;
}

int nym_bloom_deserialize(struct nym_bloom *b, const uint8_t *in, size_t len)
{
	memset(b, 0, sizeof(*b));
	if (len < NYM_BLOOM_HEADER_LEN || memcmp(in, magic, 8) != 0)
		return -EINVAL;
	if (in[8] != NYM_BLOOM_VERSION || in[9] != HASH_SIPHASH128_DOUBLE)
		return -EPROTONOSUPPORT;
	for (int i = 11; i < 16; i++)
		if (in[i])
			return -EINVAL;
	uint64_t nbits = nym_bytes_get_be64(in + 16);
	if (nbits < 64 || nbits > NYM_BLOOM_MAX_BITS || nbits % 64 ||
	    len - NYM_BLOOM_HEADER_LEN != nbits / 8)
		return -EINVAL;
	int rc = nym_bloom_init_raw(b, nbits, in[10], in + 32);
	if (rc)
		return rc;
	b->inserted = nym_bytes_get_be64(in + 24);
	const uint8_t *p = in + NYM_BLOOM_HEADER_LEN;
	for (uint64_t i = 0; i < nbits / 64; i++, p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		b->words[i] = le64toh(w);
	}
	return 0;
}
