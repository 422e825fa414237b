/* The gateway's ticket protocol against authorities in this process: real spent-merge
 * databases and a real issuer, reached through the engine's authority functions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "credstore/spent_merge.h"
#include "crypto/ed25519.h"
#include "gateway/gateway_tickets.h"

TestSuite(gateway_tickets, .timeout = 120);

#define AUTHORITIES 2

struct authority {
	bool down;
	struct nym_spent_merge *spent;
	size_t reports;
};

struct world {
	struct credfix f;
	struct nym_ticketbook *book;
	struct authority auth[AUTHORITIES];
	size_t complaints;
	struct gateway_tickets_authorities a;
};

static int issuer_keys(void *ctx, size_t i, int64_t now, struct nym_issuer_keyset *out, char *err, size_t errlen)
{
	struct world *w = ctx;
	(void)now;
	nym_issuer_keyset_init(out);
	if (w->auth[i].down) {
		snprintf(err, errlen, "authority %zu is down", i);
		return -EIO;
	}
	return nym_issuer_keyset_merge(out, &w->f.ks);
}

static int spent_filter(void *ctx, size_t i, int64_t now, uint8_t **data, size_t *len, int64_t *created, char *err,
			size_t errlen)
{
	struct world *w = ctx;
	if (w->auth[i].down) {
		snprintf(err, errlen, "authority %zu is down", i);
		return -EIO;
	}
	*created = now + (int64_t)i; /* tells which authority's filter was taken */
	return nym_spent_merge_filter(w->auth[i].spent, now, NYM_SPENT_FILTER_FPR, data, len);
}

static int post_report(void *ctx, size_t i, const uint8_t *report, size_t len, char *err, size_t errlen)
{
	struct world *w = ctx;
	struct nym_spent_merge_result res;
	if (w->auth[i].down) {
		snprintf(err, errlen, "report to authority %zu: down", i);
		return -EIO;
	}
	w->auth[i].reports++;
	return nym_spent_merge_accept(w->auth[i].spent, report, len, w->f.now, NULL, NULL, &res);
}

static void complain(void *ctx, const char *msg)
{
	struct world *w = ctx;
	cr_assert(strlen(msg) > 0);
	w->complaints++;
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	credfix_init(&w->f, 1u << NYM_TICKET_MIXNET_ENTRY);
	w->book = credfix_issue_book(&w->f, NYM_TICKET_MIXNET_ENTRY, 4);
	for (size_t i = 0; i < AUTHORITIES; i++) {
		char path[300], name[32];
		snprintf(name, sizeof(name), "spent%zu.db", i);
		test_path(path, sizeof(path), w->f.dir, name);
		cr_assert_eq(nym_spent_merge_open(&w->auth[i].spent, path), 0);
	}
	w->a = (struct gateway_tickets_authorities){ AUTHORITIES, w, issuer_keys, spent_filter, post_report, complain };
}

static void world_fini(struct world *w)
{
	for (size_t i = 0; i < AUTHORITIES; i++)
		nym_spent_merge_close(w->auth[i].spent);
	nym_ticketbook_free(w->book);
	credfix_fini(&w->f);
}

static struct nym_ticket_store *gateway_store(struct world *w, const char *name)
{
	char path[300];
	struct nym_ticket_store *st;
	test_path(path, sizeof(path), w->f.dir, name);
	cr_assert_eq(nym_ticket_store_open(&st, path), 0);
	return st;
}

Test(gateway_tickets, keys_from_any_authority_that_answers)
{
	static struct world w;
	world_init(&w);
	struct nym_issuer_keyset ks;
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len = credfix_ticket(w.book, 0, t);
	w.auth[0].down = true;
	cr_assert_eq(gateway_tickets_gather_keys(&w.a, w.f.now, &ks), 0);
	cr_assert_eq(w.complaints, 1);
	cr_assert_eq(ks.count, w.f.ks.count);
	cr_assert_eq(nym_issuer_keyset_verify_ticket(&ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	nym_issuer_keyset_clear(&ks);
	w.auth[1].down = true;
	cr_assert_eq(gateway_tickets_gather_keys(&w.a, w.f.now, &ks), -EIO);
	cr_assert_eq(ks.count, 0);
	cr_assert_eq(w.complaints, 3);
	world_fini(&w);
}

/* Spent at one gateway and reported: another gateway that refreshes its filter refuses it. */
Test(gateway_tickets, a_reported_serial_is_refused_elsewhere)
{
	static struct world w;
	world_init(&w);
	struct nym_ed25519_keypair id;
	nym_ed25519_generate(&id);
	struct nym_ticket_store *g1 = gateway_store(&w, "g1.db"), *g2 = gateway_store(&w, "g2.db");
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len = credfix_ticket(w.book, 0, t), reported = 99;
	int64_t created;
	cr_assert_eq(nym_ticket_store_spend(g1, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	cr_assert_eq(gateway_tickets_report(&w.a, g1, &id, w.f.now, NULL, &reported), 0);
	cr_assert_eq(reported, 1);
	cr_assert_eq(w.auth[0].reports, 1);
	cr_assert_eq(w.auth[1].reports, 1);
	/* Nothing waits now: no report is posted. */
	cr_assert_eq(gateway_tickets_report(&w.a, g1, &id, w.f.now, NULL, &reported), 0);
	cr_assert_eq(reported, 0);
	cr_assert_eq(w.auth[0].reports, 1);

	cr_assert_eq(gateway_tickets_refresh_filter(&w.a, g2, w.f.now, &created), 0);
	cr_assert_eq(created, w.f.now); /* the first authority's */
	cr_assert_eq(nym_ticket_store_spend(g2, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), -EALREADY);
	len = credfix_ticket(w.book, 1, t);
	cr_assert_eq(nym_ticket_store_spend(g2, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	cr_assert_eq(w.complaints, 0);
	nym_ticket_store_close(g1);
	nym_ticket_store_close(g2);
	world_fini(&w);
}

/* A report one authority did not take stays queued and goes out again, with what came after. */
Test(gateway_tickets, a_report_not_taken_by_all_is_sent_again)
{
	static struct world w;
	world_init(&w);
	struct nym_ed25519_keypair id;
	nym_ed25519_generate(&id);
	struct nym_ticket_store *g = gateway_store(&w, "g.db");
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len, reported = 99;
	len = credfix_ticket(w.book, 0, t);
	cr_assert_eq(nym_ticket_store_spend(g, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	w.auth[1].down = true;
	cr_assert_eq(gateway_tickets_report(&w.a, g, &id, w.f.now, NULL, &reported), 0);
	cr_assert_eq(reported, 0);
	cr_assert_eq(w.complaints, 1);
	len = credfix_ticket(w.book, 1, t);
	cr_assert_eq(nym_ticket_store_spend(g, &w.f.ks, t, len, w.f.now, NYM_TICKET_TYPES_ALL, NULL), 0);
	w.auth[1].down = false;
	char save[300];
	test_path(save, sizeof(save), w.f.dir, "report.bin");
	cr_assert_eq(gateway_tickets_report(&w.a, g, &id, w.f.now, save, &reported), 0);
	cr_assert_eq(reported, 2);
	cr_assert_eq(w.auth[0].reports, 2);
	cr_assert_eq(w.auth[1].reports, 1);
	FILE *f = fopen(save, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	cr_assert_eq(ftell(f), (long)NYM_SPENT_REPORT_LEN(2));
	fclose(f);
	nym_ticket_store_close(g);
	world_fini(&w);
}

Test(gateway_tickets, the_filter_of_the_first_authority_that_answers)
{
	static struct world w;
	world_init(&w);
	struct nym_ticket_store *g = gateway_store(&w, "g.db");
	int64_t created = -1;
	w.auth[0].down = true;
	cr_assert_eq(gateway_tickets_refresh_filter(&w.a, g, w.f.now, &created), 0);
	cr_assert_eq(created, w.f.now + 1);
	w.auth[1].down = true;
	cr_assert_eq(gateway_tickets_refresh_filter(&w.a, g, w.f.now, &created), -EIO);
	cr_assert_eq(created, 0);
	cr_assert_eq(w.complaints, 3);
	nym_ticket_store_close(g);
	world_fini(&w);
}
