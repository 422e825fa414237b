/* lib/clientio without sockets: the ticketbook picked from a directory (type, state,
 * expiry, unspent tickets, order), the event names, and start's refusals of bad countries. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "clientio/clientio.h"
#include "cred/ticketbook.h"

static struct credfix cf;
static char dir[256];

static void setup(void)
{
	credfix_init(&cf, 1u << NYM_TICKET_MIXNET_ENTRY | 1u << NYM_TICKET_WG_ENTRY);
	test_tmpdir(dir, sizeof(dir));
}

static void teardown(void)
{
	test_tmpdir_remove(dir);
	credfix_fini(&cf);
}

TestSuite(clientio, .init = setup, .fini = teardown);

static int64_t save_book(const char *name, enum nym_ticket_type type, size_t count, size_t spend)
{
	struct nym_ticketbook *b = credfix_issue_book(&cf, type, count);
	cr_assert_not_null(b);
	for (size_t i = 0; i < spend; i++) {
		size_t idx;
		cr_assert_eq(nym_ticketbook_take(b, &idx), 0);
	}
	char p[512];
	test_path(p, sizeof(p), dir, name);
	cr_assert_eq(nym_ticketbook_save(b, p), 0);
	int64_t e = b->expiry;
	nym_ticketbook_free(b);
	return e;
}

static void write_file(const char *name, const char *text)
{
	char p[512];
	test_path(p, sizeof(p), dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(clientio, empty_or_missing_dir_has_no_book)
{
	char path[512];
	size_t left = 99;
	cr_assert_eq(clientio_ticketbook_pick(dir, NYM_TICKET_MIXNET_ENTRY, cf.now, path, sizeof(path), &left), -ENOENT);
	cr_assert_eq(left, 0);
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	cr_assert_eq(clientio_ticketbook_pick(missing, NYM_TICKET_MIXNET_ENTRY, cf.now, path, sizeof(path), &left), -ENOENT);
}

Test(clientio, picks_ready_mixnet_entry_books_only)
{
	save_book("wg.json", NYM_TICKET_WG_ENTRY, 10, 0);
	save_book("used.json", NYM_TICKET_MIXNET_ENTRY, 3, 3);
	save_book("b.json", NYM_TICKET_MIXNET_ENTRY, 4, 1);
	int64_t expiry = save_book("a.json", NYM_TICKET_MIXNET_ENTRY, 5, 0);
	save_book("c.json.tmp", NYM_TICKET_MIXNET_ENTRY, 5, 0);
	save_book(".hidden.json", NYM_TICKET_MIXNET_ENTRY, 5, 0);
	write_file("corrupt.json", "{\"not\": \"a book\"}");
	write_file("notes.txt", "hello");

	char path[512], want[512];
	size_t left = 0;
	cr_assert_eq(clientio_ticketbook_pick(dir, NYM_TICKET_MIXNET_ENTRY, cf.now, path, sizeof(path), &left), 0);
	test_path(want, sizeof(want), dir, "a.json");
	cr_assert_str_eq(path, want, "same expiry: the smallest name first");
	cr_assert_eq(left, 5 + 3);

	/* Expired at its expiry instant: nothing usable. */
	cr_assert_eq(clientio_ticketbook_pick(dir, NYM_TICKET_MIXNET_ENTRY, expiry, path, sizeof(path), &left), -ENOENT);
	cr_assert_eq(left, 0);
	cr_assert_eq(clientio_ticketbook_pick(dir, NYM_TICKET_MIXNET_ENTRY, expiry - 1, path, sizeof(path), &left), 0);

	/* a.json spent out: b.json next. */
	unlink(want);
	save_book("a.json", NYM_TICKET_MIXNET_ENTRY, 2, 2);
	cr_assert_eq(clientio_ticketbook_pick(dir, NYM_TICKET_MIXNET_ENTRY, cf.now, path, sizeof(path), &left), 0);
	test_path(want, sizeof(want), dir, "b.json");
	cr_assert_str_eq(path, want);
	cr_assert_eq(left, 3);
	cr_assert_eq(clientio_ticketbook_pick(dir, NYM_TICKET_MIXNET_ENTRY, cf.now, path, 8, NULL), -ENAMETOOLONG);
}

Test(clientio, event_names)
{
	cr_assert_str_eq(clientio_event_name(CLIENTIO_EV_TOPOLOGY), "topology");
	cr_assert_str_eq(clientio_event_name(CLIENTIO_EV_GATEWAYS), "gateways");
	cr_assert_str_eq(clientio_event_name(CLIENTIO_EV_LINK_DOWN), "link_down");
	cr_assert_str_eq(clientio_event_name(CLIENTIO_EV_IPR_FAILED), "ipr_failed");
	cr_assert_str_eq(clientio_event_name(CLIENTIO_EV_TICKETS_LOW), "tickets_low");
}

Test(clientio, bad_countries_are_refused_before_the_network)
{
	struct clientio_config cfg;
	clientio_config_default(&cfg);
	struct nym_x25519_keypair enc;
	struct nym_ed25519_keypair id;
	memset(&enc, 0, sizeof(enc));
	memset(&id, 0, sizeof(id));
	struct nym_dir_client_trust trust = { .count = 1, .threshold = 1 };
	const char *urls[] = { "http://127.0.0.1:1" };
	cfg.authority_urls = urls;
	cfg.authority_count = 1;
	cfg.trust = &trust;
	cfg.engine.identity = &id;
	cfg.engine.encryption = &enc;
	const char *bad[] = { "D", "DEU", "1E", "d-" };
	struct clientio *io = NULL;
	char err[CLIENTIO_ERR_MAX];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.entry_country = bad[i];
		cfg.exit_country = NULL;
		cr_assert_eq(clientio_start(&cfg, &io, err, sizeof(err)), -EINVAL, "%s", bad[i]);
		cr_assert_not_null(strstr(err, "entry country"), "%s", err);
		cfg.entry_country = NULL;
		cfg.exit_country = bad[i];
		cr_assert_eq(clientio_start(&cfg, &io, err, sizeof(err)), -EINVAL, "%s", bad[i]);
		cr_assert_not_null(strstr(err, "exit country"), "%s", err);
	}
	cr_assert_null(io);
}
