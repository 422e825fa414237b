#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "util/retire.h"

/* Records the order of releases and, at each, how many items the list still held. */
struct log {
	int released[16];
	size_t held_at_release[16];
	size_t n;
};

static void record(struct nym_retire *r, void *item)
{
	struct log *l = r->ctx;
	l->released[l->n] = *(int *)item;
	l->held_at_release[l->n++] = r->count;
}

TestSuite(retire);

Test(retire, releases_only_after_the_grace)
{
	struct log l = { 0 };
	struct nym_retire r;
	int a = 1, b = 2;
	nym_retire_init(&r, 5, record, &l);
	nym_retire_add(&r, &a, 100);
	nym_retire_add(&r, &b, 103);
	nym_retire_reap(&r, 104);
	cr_assert_eq(l.n, 0);
	nym_retire_reap(&r, 105);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.released[0], 1);
	cr_assert_eq(r.count, 1);
	nym_retire_reap(&r, 108);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.released[1], 2);
	cr_assert_eq(r.count, 0);
}

Test(retire, null_is_not_taken)
{
	struct log l = { 0 };
	struct nym_retire r;
	nym_retire_init(&r, 5, record, &l);
	nym_retire_add(&r, NULL, 1);
	cr_assert_eq(r.count, 0);
	nym_retire_drain(&r);
	cr_assert_eq(l.n, 0);
}

Test(retire, a_full_list_releases_the_oldest_first)
{
	struct log l = { 0 };
	struct nym_retire r;
	int items[NYM_RETIRE_MAX + 1];
	nym_retire_init(&r, 5, record, &l);
	for (int i = 0; i <= NYM_RETIRE_MAX; i++) {
		items[i] = i;
		nym_retire_add(&r, &items[i], 1000);
	}
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.released[0], 0);
	cr_assert_eq(r.count, NYM_RETIRE_MAX);
}

/* A release sees every item not yet released, so shared parts are freed by the last one. */
Test(retire, a_release_sees_the_items_still_retired)
{
	struct log l = { 0 };
	struct nym_retire r;
	int a = 1, b = 2, c = 3;
	nym_retire_init(&r, 5, record, &l);
	nym_retire_add(&r, &a, 0);
	nym_retire_add(&r, &b, 10);
	nym_retire_add(&r, &c, 1);
	nym_retire_reap(&r, 7);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.released[0], 1);
	cr_assert_eq(l.held_at_release[0], 2); /* b kept, c still to come */
	cr_assert_eq(l.released[1], 3);
	cr_assert_eq(l.held_at_release[1], 1);
	nym_retire_drain(&r);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.released[2], 2);
	cr_assert_eq(l.held_at_release[2], 0);
}
