#include "mixnode/delay_queue.h"

#include <errno.h>
#include <stdlib.h>

static bool before(const struct delay_queue_entry *a, const struct delay_queue_entry *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

int delay_queue_init(struct delay_queue *q, size_t cap)
{
	q->heap = calloc(cap ? cap : 1, sizeof(*q->heap));
	q->len = 0;
	q->cap = cap;
	q->next_seq = 0;
	return q->heap ? 0 : -ENOMEM;
}

void delay_queue_fini(struct delay_queue *q)
{
	free(q->heap);
	q->heap = NULL;
	q->len = q->cap = 0;
}

int delay_queue_push(struct delay_queue *q, uint64_t due_ns, void *item)
{
	if (q->len == q->cap)
		return -ENOSPC;
	struct delay_queue_entry e = { due_ns, q->next_seq++, item };
	size_t i = q->len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&e, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = e;
	return 0;
}

bool delay_queue_pop(struct delay_queue *q, void **item)
{
	if (q->len == 0)
		return false;
	*item = q->heap[0].item;
	struct delay_queue_entry last = q->heap[--q->len];
	size_t i = 0;
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= q->len)
			break;
		if (child + 1 < q->len && before(&q->heap[child + 1], &q->heap[child]))
			child++;
		if (!before(&q->heap[child], &last))
			break;
		q->heap[i] = q->heap[child];
		i = child;
	}
	if (q->len)
		q->heap[i] = last;
	return true;
}

bool delay_queue_pop_due(struct delay_queue *q, uint64_t now_ns, void **item)
{
	if (q->len == 0 || q->heap[0].due_ns > now_ns)
		return false;
	return delay_queue_pop(q, item);
}

uint64_t delay_queue_next_due(const struct delay_queue *q)
{
	return q->len ? q->heap[0].due_ns : UINT64_MAX;
}
