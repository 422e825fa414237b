/* Gateways spending tickets: every refusal, double spending at one gateway (also across a
 * restart and a crash), spent reports, and the authorities' merged filter stopping a serial
 * spent at two gateways from being spent at a third. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "credstore/spent_merge.h"
#include "cred/spent_report.h"
#include "credstore/ticket_store.h"
#include "crypto/ed25519.h"
#include "util/bloom.h"

TestSuite(ticket_store, .timeout = 120);

#define ALL NYM_TICKET_TYPES_ALL

struct env {
	struct credfix f;
	struct nym_ticketbook *book;
	char path[300];
};

static void env_init(struct env *e, enum nym_ticket_type type)
{
	credfix_init(&e->f, 1u << type);
	e->book = credfix_issue_book(&e->f, type, 50);
	test_path(e->path, sizeof(e->path), e->f.dir, "gateway.db");
}

static void env_fini(struct env *e)
{
	nym_ticketbook_free(e->book);
	credfix_fini(&e->f);
}

static struct nym_ticket_store *open_store(const char *path)
{
	struct nym_ticket_store *st;
	cr_assert_eq(nym_ticket_store_open(&st, path), 0);
	return st;
}

Test(ticket_store, refusals)
{
	struct env e;
	env_init(&e, NYM_TICKET_WG_ENTRY);
	struct nym_ticket_store *st = open_store(e.path);
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len = credfix_ticket(e.book, 0, t);
	int64_t now = e.f.now, expiry = e.f.ks.keys[0].expiry;

	/* A flipped bit anywhere: in the prefix, the serial, the signature. */
	size_t positions[] = { 0, 31, 41, 72, 73, 200, len - 1 };
	for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		t[positions[i]] ^= 0x10;
		cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, now, ALL, NULL), -EBADMSG,
			     "flipped bit at byte %zu", positions[i]);
		t[positions[i]] ^= 0x10;
	}
	/* The type byte flipped to another type: no key for it. Flipped to nothing: malformed. */
	t[32] = NYM_TICKET_WG_EXIT;
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, now, ALL, NULL), -ENOKEY);
	t[32] = 0x09;
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, now, ALL, NULL), -EINVAL);
	t[32] = NYM_TICKET_WG_ENTRY;
	/* Wrong lengths. */
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len - 1, now, ALL, NULL), -EINVAL);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len + 1, now, ALL, NULL), -EINVAL);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, 72, now, ALL, NULL), -EINVAL);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, 0, now, ALL, NULL), -EINVAL);
	/* Expired: at its expiry second and after. */
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, expiry, ALL, NULL), -EKEYEXPIRED);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, expiry + 86400, ALL, NULL),
		     -EKEYEXPIRED);
	/* The wrong type for this gateway: a wg-entry ticket at an exit. */
	cr_assert_eq(
		nym_ticket_store_spend(st, &e.f.ks, t, len, now, 1u << NYM_TICKET_WG_EXIT, NULL),
		-EPERM);
	/* An unknown key: a directory without this issuer's keys, and one whose key for
	 * (type, expiry) is another issuer's. */
	struct nym_issuer_keyset empty;
	nym_issuer_keyset_init(&empty);
	cr_assert_eq(nym_ticket_store_spend(st, &empty, t, len, now, ALL, NULL), -ENOKEY);
	struct credfix other;
	credfix_init(&other, 1u << NYM_TICKET_WG_ENTRY);
	cr_assert_eq(other.ks.keys[0].expiry, expiry);
	cr_assert_eq(nym_ticket_store_spend(st, &other.ks, t, len, now, ALL, NULL), -EBADMSG);
	credfix_fini(&other);

	/* None of that recorded anything: the genuine ticket is still good, once. */
	struct nym_ticket_msg m;
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, now, ALL, &m), 0);
	cr_assert_eq(m.type, NYM_TICKET_WG_ENTRY);
	cr_assert_eq(nym_ticket_type_bytes(m.type), 500000000);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, now, ALL, NULL), -EALREADY);
	struct nym_ticket_store_counters c;
	nym_ticket_store_counters(st, &c);
	cr_assert_eq(c.accepted, 1);
	cr_assert_eq(c.spent_here, 1);
	cr_assert_eq(c.bad_signature, 8);
	cr_assert_eq(c.expired, 2);
	cr_assert_eq(c.wrong_type, 1);
	cr_assert_eq(c.unknown_key, 2);
	cr_assert_eq(c.malformed, 5);
	nym_ticket_store_close(st);
	env_fini(&e);
}

Test(ticket_store, spent_once_also_after_restart)
{
	struct env e;
	env_init(&e, NYM_TICKET_MIXNET_ENTRY);
	uint8_t t[NYM_TICKET_MAX_LEN];
	struct nym_ticket_store *st = open_store(e.path);
	for (size_t i = 0; i < 10; i++) {
		size_t len = credfix_ticket(e.book, i, t);
		cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, e.f.now, ALL, NULL), 0);
	}
	nym_ticket_store_close(st);
	struct stat sb;
	cr_assert_eq(stat(e.path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);

	st = open_store(e.path);
	for (size_t i = 0; i < 10; i++) {
		size_t len = credfix_ticket(e.book, i, t);
		cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, e.f.now, ALL, NULL),
			     -EALREADY, "ticket %zu accepted again after a restart", i);
	}
	size_t len = credfix_ticket(e.book, 10, t);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, e.f.now, ALL, NULL), 0);
	/* Two connections to one file (two worker threads) agree. */
	struct nym_ticket_store *st2 = open_store(e.path);
	cr_assert_eq(nym_ticket_store_spend(st2, &e.f.ks, t, len, e.f.now, ALL, NULL), -EALREADY);
	nym_ticket_store_close(st2);
	nym_ticket_store_close(st);
	env_fini(&e);
}

Test(ticket_store, acknowledged_serials_survive_a_crash)
{
	struct env e;
	env_init(&e, NYM_TICKET_WG_EXIT);
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len = credfix_ticket(e.book, 3, t);
	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The "gateway": accept, acknowledge, then die without closing anything. */
		struct nym_ticket_store *st;
		char ack = 'n';
		if (nym_ticket_store_open(&st, e.path) == 0 &&
		    nym_ticket_store_spend(st, &e.f.ks, t, len, e.f.now, ALL, NULL) == 0)
			ack = 'y';
		if (write(pipefd[1], &ack, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	char ack;
	cr_assert_eq(read(pipefd[0], &ack, 1), 1);
	cr_assert_eq(ack, 'y');
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status));
	struct nym_ticket_store *st = open_store(e.path);
	cr_assert_eq(nym_ticket_store_spend(st, &e.f.ks, t, len, e.f.now, ALL, NULL), -EALREADY);
	uint64_t pending;
	cr_assert_eq(nym_ticket_store_pending_reports(st, &pending), 0);
	cr_assert_eq(pending, 1);
	nym_ticket_store_close(st);
	close(pipefd[0]);
	close(pipefd[1]);
	env_fini(&e);
}

static bool only_known(void *ctx, const uint8_t pub[32])
{
	const struct nym_ed25519_keypair *const *known = ctx;
	for (; *known; known++)
		if (memcmp((*known)->public_key, pub, 32) == 0)
			return true;
	return false;
}

static size_t report(struct nym_ticket_store *st, const struct nym_ed25519_keypair *id, int64_t now,
		     uint8_t *out, uint64_t *last)
{
	size_t len;
	cr_assert_eq(
		nym_ticket_store_report(st, id, now, out, NYM_SPENT_REPORT_MAX_LEN, &len, last), 0);
	return len;
}

Test(ticket_store, spent_at_two_gateways_refused_at_a_third)
{
	struct env e;
	env_init(&e, NYM_TICKET_WG_ENTRY);
	char p1[300], p2[300], p3[300], pm[300];
	test_path(p1, sizeof(p1), e.f.dir, "g1.db");
	test_path(p2, sizeof(p2), e.f.dir, "g2.db");
	test_path(p3, sizeof(p3), e.f.dir, "g3.db");
	test_path(pm, sizeof(pm), e.f.dir, "authority-spent.db");
	struct nym_ticket_store *g1 = open_store(p1), *g2 = open_store(p2), *g3 = open_store(p3);
	struct nym_ed25519_keypair id1, id2, id3, stranger;
	nym_ed25519_generate(&id1);
	nym_ed25519_generate(&id2);
	nym_ed25519_generate(&id3);
	nym_ed25519_generate(&stranger);
	const struct nym_ed25519_keypair *known[] = { &id1, &id2, &id3, NULL };
	int64_t now = e.f.now;
	uint8_t a[NYM_TICKET_MAX_LEN], b[NYM_TICKET_MAX_LEN], c[NYM_TICKET_MAX_LEN];
	size_t la = credfix_ticket(e.book, 0, a), lb = credfix_ticket(e.book, 1, b),
	       lc = credfix_ticket(e.book, 2, c);
	struct nym_ticket_msg ma, mb;
	/* Ticket a at two gateways before either has heard of the other: both accept. */
	cr_assert_eq(nym_ticket_store_spend(g1, &e.f.ks, a, la, now, ALL, &ma), 0);
	cr_assert_eq(nym_ticket_store_spend(g2, &e.f.ks, a, la, now, ALL, NULL), 0);
	cr_assert_eq(nym_ticket_store_spend(g2, &e.f.ks, b, lb, now, ALL, &mb), 0);

	struct nym_spent_merge *m;
	cr_assert_eq(nym_spent_merge_open(&m, pm), 0);
	uint8_t *r1 = malloc(NYM_SPENT_REPORT_MAX_LEN), *r2 = malloc(NYM_SPENT_REPORT_MAX_LEN);
	uint64_t last1, last2;
	size_t l1 = report(g1, &id1, now, r1, &last1), l2 = report(g2, &id2, now, r2, &last2);
	cr_assert_eq(l1, NYM_SPENT_REPORT_LEN(1));
	cr_assert_eq(l2, NYM_SPENT_REPORT_LEN(2));

	struct nym_spent_merge_result res;
	/* Refused reports change nothing: a stranger's, a tampered one, a truncated one. */
	uint8_t *rs = malloc(NYM_SPENT_REPORT_MAX_LEN);
	uint64_t lasts;
	size_t ls = report(g1, &stranger, now, rs, &lasts);
	cr_assert_eq(nym_spent_merge_accept(m, rs, ls, now, only_known, known, &res), -EACCES);
	r1[70] ^= 1;
	cr_assert_eq(nym_spent_merge_accept(m, r1, l1, now, only_known, known, &res), -EBADMSG);
	r1[70] ^= 1;
	cr_assert_eq(nym_spent_merge_accept(m, r1, l1 - 1, now, only_known, known, &res), -EINVAL);
	uint64_t serials, doubles;
	cr_assert_eq(nym_spent_merge_counts(m, &serials, &doubles), 0);
	cr_assert_eq(serials, 0);

	cr_assert_eq(nym_spent_merge_accept(m, r1, l1, now, only_known, known, &res), 0);
	cr_assert_eq(res.added, 1);
	cr_assert_eq(res.double_spent, 0);
	int status;
	char *resp;
	size_t resp_len;
	cr_assert_eq(nym_spent_merge_handle_report(m, r2, l2, now, only_known, known, &status,
						   &resp, &resp_len),
		     0);
	cr_assert_eq(status, 200, "%s", resp);
	cr_assert_str_eq(resp, "{\"entries\":2,\"added\":2,\"expired\":0,\"double_spent\":1}");
	free(resp);
	/* A replayed report adds nothing. */
	cr_assert_eq(nym_spent_merge_accept(m, r2, l2, now, only_known, known, &res), 0);
	cr_assert_eq(res.added, 0);
	cr_assert_eq(res.double_spent, 0);
	cr_assert_eq(nym_spent_merge_counts(m, &serials, &doubles), 0);
	cr_assert_eq(serials, 2);
	cr_assert_eq(doubles, 1);
	bool dbl;
	cr_assert_eq(nym_spent_merge_is_double_spent(m, ma.serial, &dbl), 0);
	cr_assert(dbl);
	cr_assert_eq(nym_spent_merge_is_double_spent(m, mb.serial, &dbl), 0);
	cr_assert_not(dbl);

	/* Acknowledged reports are not sent again. */
	cr_assert_eq(nym_ticket_store_report_done(g1, last1), 0);
	size_t len;
	cr_assert_eq(
		nym_ticket_store_report(g1, &id1, now, r1, NYM_SPENT_REPORT_MAX_LEN, &len, &last1),
		-ENOENT);

	/* Gateway 3 before the filter: would accept a (it never saw it). After loading the
	 * merged filter it refuses a and b, and still takes c. */
	uint8_t *filter;
	size_t filter_len;
	cr_assert_eq(nym_spent_merge_filter(m, now, NYM_SPENT_FILTER_FPR, &filter, &filter_len), 0);
	cr_assert_eq(nym_ticket_store_set_filter(g3, filter, filter_len, now), 0);
	cr_assert_eq(nym_ticket_store_spend(g3, &e.f.ks, a, la, now, ALL, NULL), -EALREADY);
	cr_assert_eq(nym_ticket_store_spend(g3, &e.f.ks, b, lb, now, ALL, NULL), -EALREADY);
	cr_assert_eq(nym_ticket_store_spend(g3, &e.f.ks, c, lc, now, ALL, NULL), 0);
	struct nym_ticket_store_counters cnt;
	nym_ticket_store_counters(g3, &cnt);
	cr_assert_eq(cnt.spent_filter, 2);
	/* The filter is kept across a restart. */
	nym_ticket_store_close(g3);
	g3 = open_store(p3);
	cr_assert_eq(nym_ticket_store_spend(g3, &e.f.ks, b, lb, now, ALL, NULL), -EALREADY);
	/* A corrupt filter is refused and the current one stays. */
	filter[9] = 99;
	cr_assert_neq(nym_ticket_store_set_filter(g3, filter, filter_len, now), 0);
	cr_assert_eq(nym_ticket_store_spend(g3, &e.f.ks, a, la, now, ALL, NULL), -EALREADY);

	/* After the tickets expire the authority forgets them. */
	int64_t expiry = e.f.ks.keys[0].expiry;
	cr_assert_eq(nym_spent_merge_prune(m, expiry), 0);
	cr_assert_eq(nym_spent_merge_counts(m, &serials, &doubles), 0);
	cr_assert_eq(serials, 0);
	cr_assert_eq(doubles, 0);
	cr_assert_eq(nym_ticket_store_prune(g2, expiry), 0);
	uint64_t pending;
	cr_assert_eq(nym_ticket_store_pending_reports(g2, &pending), 0);
	cr_assert_eq(pending, 0);

	free(filter);
	free(r1);
	free(r2);
	free(rs);
	nym_spent_merge_close(m);
	nym_ticket_store_close(g1);
	nym_ticket_store_close(g2);
	nym_ticket_store_close(g3);
	env_fini(&e);
}

Test(ticket_store, report_format)
{
	struct nym_ed25519_keypair id;
	nym_ed25519_generate(&id);
	struct nym_spent_report *r = calloc(1, sizeof(*r)), *back = calloc(1, sizeof(*back));
	r->created = 1795395600;
	r->last_seq = 77;
	r->count = NYM_SPENT_REPORT_MAX;
	for (size_t i = 0; i < r->count; i++) {
		memset(r->entries[i].serial, (int)i, 32);
		r->entries[i].expiry = 1796000000 + (int64_t)i;
	}
	uint8_t *buf = malloc(NYM_SPENT_REPORT_MAX_LEN);
	size_t len;
	cr_assert_eq(nym_spent_report_encode(r, &id, buf, NYM_SPENT_REPORT_MAX_LEN - 1, &len),
		     -ENOSPC);
	cr_assert_eq(nym_spent_report_encode(r, &id, buf, NYM_SPENT_REPORT_MAX_LEN, &len), 0);
	cr_assert_eq(len, NYM_SPENT_REPORT_MAX_LEN);
	cr_assert_eq(nym_spent_report_decode(back, buf, len), 0);
	cr_assert_arr_eq(back->gateway, id.public_key, 32);
	cr_assert_eq(back->count, r->count);
	cr_assert_eq(back->last_seq, 77);
	cr_assert_eq(back->created, r->created);
	cr_assert_arr_eq(back->entries, r->entries, sizeof(r->entries));
	/* Every byte is covered by the signature. */
	for (size_t i = 0; i < len; i += 97) {
		buf[i] ^= 4;
		cr_assert_neq(nym_spent_report_decode(back, buf, len), 0, "byte %zu", i);
		buf[i] ^= 4;
	}
	buf[8] = 2;
	cr_assert_eq(nym_spent_report_decode(back, buf, len), -EPROTONOSUPPORT);
	r->count = NYM_SPENT_REPORT_MAX + 1;
	cr_assert_eq(nym_spent_report_encode(r, &id, buf, NYM_SPENT_REPORT_MAX_LEN, &len), -EINVAL);
	free(buf);
	free(r);
	free(back);
}
