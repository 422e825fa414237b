/* Reassembly of fragmented messages (the receiving side of mix_fragment).
 *
 * Fragments arrive in any order, some twice (Nym retransmits a fragment whose
 * acknowledgement was lost), some never. Sets are collected by id; when a set is complete
 * and every set it is chained to is complete too, the whole padded message is handed out
 * and all its sets are freed.
 *
 * Memory is bounded three ways: a cap on partial sets, a cap on bytes held (fragment data
 * plus per-set bookkeeping), and an idle timeout per set. When a new fragment would exceed a
 * cap, the least recently active sets are evicted first, so a flood of junk sets cannot lock
 * out a real message for longer than it takes to push the junk out. The caller passes the
 * clock (nanoseconds, any monotonic origin), which keeps the engine free of I/O and lets
 * tests step time. Every drop is counted.
 *
 * Ids of recently completed sets are remembered, so a late retransmission of one of their
 * fragments is recognised as a duplicate instead of starting a set that can only time out.
 *
 * Not thread-safe: one instance per receiving client. */
#ifndef NYM_MIX_MIX_REASSEMBLY_H
#define NYM_MIX_MIX_REASSEMBLY_H

#include <stddef.h>
#include <stdint.h>

#include "mix/mix_fragment.h"

#define MIX_REASSEMBLY_DEFAULT_MAX_SETS 1024
#define MIX_REASSEMBLY_DEFAULT_MAX_BYTES (64u << 20)
#define MIX_REASSEMBLY_DEFAULT_TIMEOUT_NS (60ull * 1000000000ull)
#define MIX_REASSEMBLY_DEFAULT_RECENT_IDS 256

struct mix_reassembly_config {
	size_t max_sets;     /* partial sets held at once; 0 = default */
	size_t max_bytes;    /* bytes held at once; 0 = default */
	uint64_t timeout_ns; /* a set with no new fragment for this long is dropped; 0 = default */
	size_t recent_ids;   /* completed set ids remembered; 0 = default */
};

struct mix_reassembly_stats {
	uint64_t fragments;    /* fragments stored */
	uint64_t duplicates;   /* ignored: position already held, or set already completed */
	uint64_t malformed;    /* refused: undecodable, or inconsistent with its set */
	uint64_t messages;     /* whole messages handed out */
	uint64_t expired_sets; /* dropped by the idle timeout */
	uint64_t evicted_sets; /* dropped to make room under a cap */
	uint64_t dropped;      /* fragments refused because they cannot fit under the caps */
	size_t sets;	       /* sets held now */
	size_t bytes;	       /* bytes held now (data and bookkeeping) */
};

struct mix_reassembly_message {
	uint8_t *data; /* the padded NymMessage; release with free() */
	size_t len;
	size_t sets;	      /* how many sets it spanned */
	int32_t first_set_id; /* id of its first set */
};

struct mix_reassembly;

/* cfg may be NULL for all defaults. Returns 0 or -ENOMEM. */
int mix_reassembly_new(const struct mix_reassembly_config *cfg, struct mix_reassembly **out);
void mix_reassembly_free(struct mix_reassembly *r);

/* Adds a fragment received at now_ns (its data is copied). Sets idle past the timeout are
 * dropped first. On return out->data is NULL, or holds a completed message that the caller
 * owns. Returns 0 (stored, duplicate, or message completed), -EINVAL (inconsistent with its
 * set: another total, a conflicting link), -ENOBUFS (cannot fit under the caps) or -ENOMEM. */
int mix_reassembly_add(struct mix_reassembly *r, const struct mix_fragment *f, uint64_t now_ns,
		       struct mix_reassembly_message *out);

/* mix_fragment_decode then mix_reassembly_add; an undecodable fragment counts as malformed
 * and returns the decoding error. */
int mix_reassembly_add_bytes(struct mix_reassembly *r, const uint8_t *in, size_t len,
			     uint64_t now_ns, struct mix_reassembly_message *out);

/* Drops sets with no fragment for the timeout; returns how many. */
size_t mix_reassembly_expire(struct mix_reassembly *r, uint64_t now_ns);

void mix_reassembly_get_stats(const struct mix_reassembly *r, struct mix_reassembly_stats *out);

#endif
