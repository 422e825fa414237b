/* Replace, then free after a grace period: for tables that threads read without a lock (a
 * node's Sphinx keyring, its peer table). The owner publishes the new table with an atomic
 * store and hands the old one here; it is released once no reader can still be inside it,
 * that is after `grace_s` seconds, far longer than any reader holds a table. */
#ifndef NYM_UTIL_RETIRE_H
#define NYM_UTIL_RETIRE_H

#include <stddef.h>
#include <stdint.h>

#define NYM_RETIRE_MAX 8

/* Frees one retired item. While it runs the item is already off the list, and r->items[0,
 * r->count) hold every item not yet released, so a release can tell whether what it shares
 * with others is still held. */
struct nym_retire;
typedef void (*nym_retire_release_fn)(struct nym_retire *r, void *item);

struct nym_retire {
	int64_t grace_s;
	nym_retire_release_fn release;
	void *ctx; /* for the release function */
	size_t count;
	struct {
		void *item;
		int64_t at;
	} items[NYM_RETIRE_MAX];
};

void nym_retire_init(struct nym_retire *r, int64_t grace_s, nym_retire_release_fn release, void *ctx);
/* Takes an item replaced at `now` (NULL is ignored). With the list full (rotations faster
 * than the grace), the oldest is released first: it has been out of use the longest. */
void nym_retire_add(struct nym_retire *r, void *item, int64_t now);
/* Releases the items retired at least grace_s before `now`. */
void nym_retire_reap(struct nym_retire *r, int64_t now);
/* Releases every item, for when no reader is left (threads joined). */
void nym_retire_drain(struct nym_retire *r);

#endif
