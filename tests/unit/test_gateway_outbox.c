/* The gateway's spent-report outbox: an authority that refuses (or does not answer) is tried
 * again with a doubling backoff, each refusal complained about and counted, and the serials
 * are marked reported only once every authority took them; the durable part is the store's
 * unreported serials. Authorities are real spent-merge engines in this process. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "credstore/spent_merge.h"
#include "crypto/ed25519.h"
#include "gateway/gateway_outbox.h"

TestSuite(gateway_outbox, .timeout = 120);

struct world {
	struct credfix f;
	struct nym_ticketbook *book;
	struct nym_spent_merge *spent[2];
	bool refuse[2], down[2];
	size_t posts[2], complaints;
	struct gateway_tickets_authorities a;
};

static int post_report(void *ctx, size_t i, const uint8_t *report, size_t len, char *err, size_t errlen)
{
	struct world *w = ctx;
	struct nym_spent_merge_result res;
	w->posts[i]++;
	if (w->down[i]) {
		snprintf(err, errlen, "authority %zu: no answer", i);
		return -EIO;
	}
	if (w->refuse[i]) {
		snprintf(err, errlen, "authority %zu: HTTP 403 unknown gateway", i);
		return -EACCES;
	}
	return nym_spent_merge_accept(w->spent[i], report, len, w->f.now, NULL, NULL, &res);
}

static void complain(void *ctx, const char *msg)
{
	struct world *w = ctx;
	cr_assert_not_null(strstr(msg, "spent report"), "%s", msg);
	w->complaints++;
}

static size_t held(struct world *w, size_t i)
{
	uint64_t serials = 0, doubles = 0;
	cr_assert_eq(nym_spent_merge_counts(w->spent[i], &serials, &doubles), 0);
	return (size_t)serials;
}

Test(gateway_outbox, refused_then_retried_with_backoff)
{
	static struct world w;
	memset(&w, 0, sizeof(w));
	credfix_init(&w.f, 1u << NYM_TICKET_MIXNET_ENTRY);
	w.book = credfix_issue_book(&w.f, NYM_TICKET_MIXNET_ENTRY, 3);
	for (size_t i = 0; i < 2; i++) {
		char path[300], name[32];
		snprintf(name, sizeof(name), "spent%zu.db", i);
		test_path(path, sizeof(path), w.f.dir, name);
		cr_assert_eq(nym_spent_merge_open(&w.spent[i], path), 0);
	}
	w.a = (struct gateway_tickets_authorities){ 2, &w, NULL, NULL, post_report, complain };
	char path[300];
	struct nym_ticket_store *st;
	test_path(path, sizeof(path), w.f.dir, "gw.db");
	cr_assert_eq(nym_ticket_store_open(&st, path), 0);
	struct nym_ed25519_keypair id;
	nym_ed25519_generate(&id);
	uint8_t t[NYM_TICKET_MAX_LEN];
	for (size_t k = 0; k < 2; k++) {
		size_t len = credfix_ticket(w.book, k, t);
		cr_assert_eq(nym_ticket_store_spend(st, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	}

	struct gateway_outbox o;
	uint64_t next, pending;
	cr_assert_eq(gateway_outbox_init(&o, &w.a, 100, 400), 0);
	w.refuse[1] = true;
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 1000, &next), -EAGAIN);
	cr_assert_eq(held(&w, 0), 2, "authority 0 took the report");
	cr_assert_eq(next, 1100, "authority 1 again after the first backoff");
	cr_assert_eq(o.counters.refused, 1);
	cr_assert_eq(w.complaints, 1);
	cr_assert_eq(nym_ticket_store_pending_reports(st, &pending), 0);
	cr_assert_eq(pending, 2, "not marked reported while one authority lacks it");
	/* Not due yet: nothing is posted. Then the backoff doubles up to its maximum. */
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 1050, &next), -EAGAIN);
	cr_assert_eq(w.posts[1], 1);
	cr_assert_eq(w.posts[0], 1, "authority 0, which took it, is not asked again");
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 1100, &next), -EAGAIN);
	cr_assert_eq(next, 1300);
	w.refuse[1] = false;
	w.down[1] = true;
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 1300, &next), -EAGAIN);
	cr_assert_eq(next, 1700);
	cr_assert_eq(o.counters.failed, 1);
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 1700, &next), -EAGAIN);
	cr_assert_eq(next, 2100, "capped at the maximum backoff");
	/* The authority takes it: the serials are reported, and nothing is left to send. */
	w.down[1] = false;
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 2100, &next), -EAGAIN);
	cr_assert_eq(held(&w, 1), 2);
	cr_assert_eq(nym_ticket_store_pending_reports(st, &pending), 0);
	cr_assert_eq(pending, 0);
	cr_assert_eq(gateway_outbox_flush(&o, st, &id, w.f.now, 2100, &next), 0);
	cr_assert_eq(o.counters.delivered, 2);

	/* A serial spent later goes to both again, as a new report. */
	size_t len = credfix_ticket(w.book, 2, t);
	cr_assert_eq(nym_ticket_store_spend(st, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	size_t delivered = 0;
	cr_assert_eq(gateway_outbox_deliver(&o, st, &id, 1000, &delivered), 0);
	cr_assert_eq(delivered, 1);
	cr_assert_eq(held(&w, 0), 3);
	cr_assert_eq(held(&w, 1), 3);
	cr_assert_eq(gateway_outbox_init(&o, &(struct gateway_tickets_authorities){ 0 }, 0, 0), -EINVAL);

	nym_ticket_store_close(st);
	for (size_t i = 0; i < 2; i++)
		nym_spent_merge_close(w.spent[i]);
	nym_ticketbook_free(w.book);
	credfix_fini(&w.f);
}
