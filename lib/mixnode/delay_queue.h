/* The mixing delay queue: packets held until their due time, a bounded binary min-heap.
 * Owned by one worker thread; not thread-safe. Entries with equal due times leave in
 * insertion order, so zero-delay packets keep their arrival order. */
#ifndef NYM_MIXNODE_DELAY_QUEUE_H
#define NYM_MIXNODE_DELAY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct delay_queue_entry {
	uint64_t due_ns;
	uint64_t seq;
	void *item;
};

struct delay_queue {
	struct delay_queue_entry *heap;
	size_t len, cap;
	uint64_t next_seq;
};

/* Returns 0 or -ENOMEM. cap bounds the number of packets held. */
int delay_queue_init(struct delay_queue *q, size_t cap);
void delay_queue_fini(struct delay_queue *q);

/* Returns 0, or -ENOSPC when the queue is full (the caller drops and counts). */
int delay_queue_push(struct delay_queue *q, uint64_t due_ns, void *item);

/* Pops the earliest entry if it is due at now_ns. */
bool delay_queue_pop_due(struct delay_queue *q, uint64_t now_ns, void **item);

/* Pops the earliest entry regardless of time (for draining at shutdown). */
bool delay_queue_pop(struct delay_queue *q, void **item);

/* Due time of the earliest entry, UINT64_MAX if empty. */
uint64_t delay_queue_next_due(const struct delay_queue *q);

static inline size_t delay_queue_len(const struct delay_queue *q)
{
	return q->len;
}

#endif
