/* A Bloom filter with keyed hashing: SipHash-2-4 with a 128-bit output (libsodium) split into
 * two 64-bit values for double hashing (index i = h1 + i*h2, reduced by multiply-shift).
 * The key matters when items are chosen by an adversary: without it, someone could pick items
 * that all land on the same bits. A filter that is published (the authorities' merged spent
 * set) carries its key in the serialization and draws a fresh one each time it is built, so
 * items fixed before publication cannot be aimed at it; a private filter (the mixnode's replay
 * filter) keeps its key to itself.
 *
 * Operations never allocate and touch only the k words they hash to. Threads: test() may run
 * concurrently with other test() calls on a filter nobody modifies; insert(), test_and_insert()
 * and clear() need the caller to exclude every other user of the filter (one writer thread per
 * filter, or a lock around it). */
#ifndef NYM_UTIL_BLOOM_H
#define NYM_UTIL_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NYM_BLOOM_KEY_LEN 16
#define NYM_BLOOM_MAX_HASHES 32
#define NYM_BLOOM_MAX_BITS (1ull << 36) /* 8 GiB of bits; a sanity cap, not a target */
#define NYM_BLOOM_HEADER_LEN 48
#define NYM_BLOOM_VERSION 1

struct nym_bloom {
	uint64_t *words;
	uint64_t nbits; /* a multiple of 64 */
	uint32_t nhashes;
	uint64_t inserted; /* items added that were not already (probably) present */
	uint8_t key[NYM_BLOOM_KEY_LEN];
};

/* Sizes the filter for `expected_items` at false-positive rate `fpr` (0 < fpr < 1):
 * m = -n ln(p) / ln(2)^2 bits rounded up to whole words, k = round(m/n ln 2) hashes.
 * key NULL draws a random key. Returns 0, -EINVAL or -ENOMEM. */
int nym_bloom_init(struct nym_bloom *b, uint64_t expected_items, double fpr,
		   const uint8_t key[NYM_BLOOM_KEY_LEN]);
/* Explicit geometry: nbits a multiple of 64 in [64, NYM_BLOOM_MAX_BITS], 1..32 hashes. */
int nym_bloom_init_raw(struct nym_bloom *b, uint64_t nbits, uint32_t nhashes,
		       const uint8_t key[NYM_BLOOM_KEY_LEN]);
void nym_bloom_free(struct nym_bloom *b);

void nym_bloom_insert(struct nym_bloom *b, const void *item, size_t len);
/* true when the item is probably present (false positives at the sized rate), false when it
 * is certainly absent. */
bool nym_bloom_test(const struct nym_bloom *b, const void *item, size_t len);
/* Returns what test() would have returned, and inserts the item. */
bool nym_bloom_test_and_insert(struct nym_bloom *b, const void *item, size_t len);
void nym_bloom_clear(struct nym_bloom *b);

/* The false-positive rate expected at the current fill (from the count of set bits). */
double nym_bloom_current_fpr(const struct nym_bloom *b);

/* Serialization (all integers big-endian, docs/PROTOCOLS.md §5.7):
 *   "NYMBLOOM" | version u8 = 1 | hash u8 = 1 | nhashes u8 | 0 u8 | 0 u32 | nbits u64 |
 *   inserted u64 | key[16] | nbits/8 bytes of bits (64-bit words, little-endian)
 * Load checks every header field and that the length is exactly header + nbits/8. */
size_t nym_bloom_serialized_len(const struct nym_bloom *b);
/* Returns 0 or -ENOSPC. */
int nym_bloom_serialize(const struct nym_bloom *b, uint8_t *out, size_t cap, size_t *out_len);
/* Returns 0, -EINVAL (bad header or length), -EPROTONOSUPPORT (version or hash) or -ENOMEM. */
int nym_bloom_deserialize(struct nym_bloom *b, const uint8_t *in, size_t len);

#endif
