#include "util/retire.h"

#include <stdbool.h>
#include <string.h>

void nym_retire_init(struct nym_retire *r, int64_t grace_s, nym_retire_release_fn release, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->grace_s = grace_s;
	r->release = release;
	r->ctx = ctx;
}

static void release_at(struct nym_retire *r, size_t i)
{
	void *item = r->items[i].item;
	memmove(&r->items[i], &r->items[i + 1], (r->count - i - 1) * sizeof(r->items[0]));
	r->count--;
	r->release(r, item);
}

static void reap(struct nym_retire *r, int64_t now, bool all)
{
	size_t i = 0;
	while (i < r->count) {
		if (all || now - r->items[i].at >= r->grace_s)
			release_at(r, i);
		else
			i++;
	}
}

void nym_retire_add(struct nym_retire *r, void *item, int64_t now)
{
	if (!item)
		return;
	if (r->count == NYM_RETIRE_MAX) {
		release_at(r, 0);
		reap(r, now, false);
	}
	r->items[r->count].item = item;
	r->items[r->count++].at = now;
}

void nym_retire_reap(struct nym_retire *r, int64_t now)
{
	reap(r, now, false);
}

void nym_retire_drain(struct nym_retire *r)
{
	reap(r, 0, true);
}
