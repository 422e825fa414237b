/* Replay protection for Sphinx packets: a Bloom filter of replay tags shared by every worker
 * of a node, one filter per Sphinx key (a tag is only meaningful while its key is live).
 *
 * Lock-free: bits are set with atomic OR, so workers never wait on each other. The filter is
 * blocked (all of a tag's bits fall in one 64-byte cache line), so a lookup costs one cache
 * miss however large the filter; positions come from SipHash under a per-filter random key,
 * so senders cannot aim tags at chosen bits. The price of lock-freedom: two copies of one
 * packet arriving on two cores within the same few nanoseconds could both pass. */
#ifndef NYM_MIXNODE_REPLAY_FILTER_H
#define NYM_MIXNODE_REPLAY_FILTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_TAG_LEN 32

struct replay_filter {
	uint32_t rotation_id; /* the Sphinx key this filter belongs to */
	uint32_t hashes;      /* bits set per tag */
	uint64_t blocks;      /* 64-byte blocks */
	uint8_t key[16];      /* SipHash key */
	uint64_t capacity;    /* tags it was sized for */
	_Atomic uint64_t inserted;
	_Atomic uint64_t *bits; /* blocks * 8 words */
	/* One flag per 64 KiB region that has had a bit set: saving visits only those, without
	 * faulting in the untouched (zero) pages of a large, young filter. */
	_Atomic uint8_t *touched;
};

/* Sizes a filter for `capacity` tags at false-positive rate `fp` (0 < fp < 1).
 * Returns NULL on allocation failure or absurd parameters. */
struct replay_filter *replay_filter_new(uint32_t rotation_id, uint64_t capacity, double fp);
void replay_filter_free(struct replay_filter *f);

/* Records the tag; returns true if it was (probably) seen before. */
bool replay_filter_check_and_insert(struct replay_filter *f, const uint8_t tag[REPLAY_TAG_LEN]);

/* Bytes of bit array. */
size_t replay_filter_bytes(const struct replay_filter *f);

/* Saves to path atomically (temporary file, fsync, rename). Returns 0 or a negative errno.
 * Safe while other threads insert: a concurrent insert may or may not be in the snapshot. */
int replay_filter_save(const struct replay_filter *f, const char *path);
/* Loads a saved filter, checking its header. Returns 0 or -ENOENT, -EIO, -EINVAL (not a
 * filter file, or truncated). */
int replay_filter_load(const char *path, struct replay_filter **out);

#endif
