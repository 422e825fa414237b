/* The issuer engine: issuance then verification, vouchers, key rotation, what it stores, and
 * that bad requests change nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "cred/issue.h"
#include "credstore/issuer.h"
#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "util/file.h"
#include "util/hex.h"

TestSuite(issuer, .timeout = 120);

#define ALL NYM_TICKET_TYPES_ALL

Test(issuer, issuance_then_verification)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_WG_ENTRY);
	cr_assert_eq(f.ks.count, 1);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	cr_assert_eq(k->type, NYM_TICKET_WG_ENTRY);
	cr_assert_eq(k->issue_from, nym_issuer_day_start(f.now));
	cr_assert_eq(k->issue_until, k->issue_from + 86400);
	cr_assert_eq(k->expiry, k->issue_from + 8 * 86400, "at least 7 full days of validity");

	struct nym_ticketbook *book =
		credfix_issue_book(&f, NYM_TICKET_WG_ENTRY, NYM_TICKETBOOK_SIZE);
	cr_assert_eq(book->count, 50);
	uint8_t t[NYM_TICKET_MAX_LEN];
	uint8_t serials[50][32];
	for (size_t i = 0; i < book->count; i++) {
		size_t len = credfix_ticket(book, i, t);
		cr_assert_eq(len, 73 + 256);
		struct nym_ticket_msg m;
		cr_assert_eq(nym_issuer_keyset_verify_ticket(&f.ks, t, len, f.now, ALL, &m), 0);
		cr_assert_eq(m.type, NYM_TICKET_WG_ENTRY);
		cr_assert_eq(m.expiry, k->expiry);
		memcpy(serials[i], m.serial, 32);
		for (size_t j = 0; j < i; j++)
			cr_assert(memcmp(serials[i], serials[j], 32) != 0, "serials repeat");
	}
	/* The keyset survives its JSON form. */
	char *json;
	cr_assert_eq(nym_issuer_keyset_to_json(&f.ks, &json), 0);
	struct nym_issuer_keyset back;
	cr_assert_eq(nym_issuer_keyset_from_json(&back, json, strlen(json)), 0);
	cr_assert_eq(back.count, 1);
	cr_assert(nym_blind_rsa_public_key_equal(back.keys[0].key, k->key));
	size_t len = credfix_ticket(book, 7, t);
	cr_assert_eq(nym_issuer_keyset_verify_ticket(&back, t, len, f.now, ALL, NULL), 0);
	nym_issuer_keyset_clear(&back);
	free(json);
	nym_ticketbook_free(book);
	credfix_fini(&f);
}

/* A textual dump of every table: equal dumps, equal state. */
static char *dump_state(const char *path)
{
	sqlite3 *db;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	static const char *const sql[] = {
		"SELECT type, expiry, issue_from, issue_until, bits, public_pem, hex(private_der) "
		"FROM issuer_keys ORDER BY type, expiry",
		"SELECT hex(code_hash), created, redeemed FROM vouchers ORDER BY code_hash",
		"SELECT hex(code_hash), type, expiry, count, hex(blinded), issued FROM issuances "
		"ORDER BY code_hash",
	};
	size_t cap = 1 << 20, len = 0;
	char *out = calloc(1, cap);
	for (size_t q = 0; q < 3; q++) {
		sqlite3_stmt *st;
		cr_assert_eq(sqlite3_prepare_v2(db, sql[q], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const char *v = (const char *)sqlite3_column_text(st, c);
				len += (size_t)snprintf(out + len, cap - len, "%s|",
							v ? v : "NULL");
				cr_assert(len < cap);
			}
			out[len++] = '\n';
		}
		sqlite3_finalize(st);
		out[len++] = '#';
	}
	sqlite3_close(db);
	return out;
}

static int post(struct credfix *f, const char *body, size_t len, char **resp)
{
	int status;
	size_t resp_len;
	cr_assert_eq(
		nym_issuer_handle_ticketbooks(f->iss, body, len, f->now, &status, resp, &resp_len),
		0);
	cr_assert_not_null(*resp);
	cr_assert_eq(strlen(*resp), resp_len);
	return status;
}

/* Re-encodes a request after `mutate` changed it. */
static char *encode(const struct nym_issue_request *req, size_t *len)
{
	char *json;
	cr_assert_eq(nym_issue_request_encode(req, &json, len), 0);
	return json;
}

Test(issuer, bad_requests_leave_state_unchanged)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_MIXNET_ENTRY);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(&f, code);
	struct nym_ticketbook *book;
	cr_assert_eq(
		nym_ticketbook_create(&book, k->key, NYM_TICKET_MIXNET_ENTRY, k->expiry, 50, code),
		0);
	char *good;
	size_t good_len;
	cr_assert_eq(nym_ticketbook_request(book, &good, &good_len), 0);
	struct nym_issue_request *req = malloc(sizeof(*req));
	cr_assert_eq(nym_issue_request_decode(req, good, good_len), 0);

	char *before = dump_state(f.issuer_db);
	struct {
		const char *what;
		char *body;
		size_t len;
		int status;
	} cases[32];
	size_t n = 0;
#define CASE(w, b, l, s)                                                                           \
	cases[n++] = (typeof(cases[0]))                                                            \
	{                                                                                          \
		w, b, l, s                                                                         \
	}

	/* Oversized: a valid request padded with whitespace past the limit. */
	char *big = malloc(NYM_ISSUE_BODY_MAX + 10);
	memset(big, ' ', NYM_ISSUE_BODY_MAX + 10);
	memcpy(big, good, good_len);
	CASE("oversized", big, NYM_ISSUE_BODY_MAX + 10, 413);
	CASE("not json", strdup("{\"voucher\": "), 12, 400);
	CASE("empty", strdup(""), 0, 400);
	CASE("array", strdup("[1,2]"), 5, 400);
	char *dup = malloc(good_len + 64);
	int dl = snprintf(dup, good_len + 64, "{\"type\": \"wg-exit\", %s", good + 1);
	CASE("duplicate field", dup, (size_t)dl, 400);
	char *extra = malloc(good_len + 64);
	int el = snprintf(extra, good_len + 64, "{\"extra\": 1, %s", good + 1);
	CASE("unknown field", extra, (size_t)el, 400);

	struct nym_issue_request *m = malloc(sizeof(*m));
	size_t len;
	/* One element equal to n, at the end: everything before it was fine. */
	*m = *req;
	memcpy(m->blinded[49], nym_blind_rsa_public_key_modulus(k->key), 256);
	CASE("last element = n", encode(m, &len), len, 400);
	*m = *req;
	memset(m->blinded[0], 0xff, 256);
	CASE("first element > n", encode(m, &len), len, 400);
	/* 51 elements. */
	*m = *req;
	{
		char *body = encode(m, &len);
		char *more = malloc(len + 600);
		char *end = strrchr(body, ']');
		*end = '\0';
		char hex[513];
		nym_hex_encode(hex, m->blinded[0], 256);
		int ml = snprintf(more, len + 600, "%s,\"%s\"]}", body, hex);
		free(body);
		CASE("51 elements", more, (size_t)ml, 400);
	}
	*m = *req;
	m->count = 0;
	CASE("no elements", encode(m, &len), len, 400);
	*m = *req;
	m->elem_len = 384; /* a 3072-bit length against a 2048-bit key */
	CASE("length of another key size", encode(m, &len), len, 400);
	*m = *req;
	m->elem_len = 255;
	CASE("short elements", encode(m, &len), len, 400);
	*m = *req;
	m->type = NYM_TICKET_WG_EXIT;
	CASE("type without a key", encode(m, &len), len, 404);
	*m = *req;
	m->expiry += 86400;
	CASE("expiry without a key", encode(m, &len), len, 404);
	*m = *req;
	m->expiry += 1;
	CASE("expiry off the grid", encode(m, &len), len, 400);
	*m = *req;
	memcpy(m->voucher, "Unknown1234567890123456", 23);
	CASE("unknown voucher", encode(m, &len), len, 403);
	*m = *req;
	strcpy(m->voucher, "bad-voucher!");
	CASE("voucher with bad characters", encode(m, &len), len, 400);

	for (size_t i = 0; i < n; i++) {
		char *resp;
		int status = post(&f, cases[i].body, cases[i].len, &resp);
		cr_assert_eq(status, cases[i].status, "%s: status %d (%s)", cases[i].what, status,
			     resp);
		cr_assert(strstr(resp, "\"error\""), "%s: %s", cases[i].what, resp);
		free(resp);
		char *after = dump_state(f.issuer_db);
		cr_assert_str_eq(after, before, "%s changed the issuer's state", cases[i].what);
		free(after);
		free(cases[i].body);
	}

	/* The voucher was never spent by the refused requests: the good one still works. */
	char *resp;
	cr_assert_eq(post(&f, good, good_len, &resp), 200, "%s", resp);
	cr_assert_eq(nym_ticketbook_finalize(book, resp, strlen(resp)), 0);
	free(resp);
	struct nym_issuer_stats stats;
	cr_assert_eq(nym_issuer_stats(f.iss, &stats), 0);
	cr_assert_eq(stats.vouchers_redeemed, 1);
	cr_assert_eq(stats.vouchers_unused, 0);

	free(before);
	free(m);
	free(req);
	free(good);
	nym_ticketbook_free(book);
	credfix_fini(&f);
}

Test(issuer, voucher_works_once)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_WG_EXIT);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(&f, code);
	cr_assert_eq(strlen(code), NYM_VOUCHER_CODE_LEN);
	struct nym_ticketbook *a, *b;
	cr_assert_eq(nym_ticketbook_create(&a, k->key, NYM_TICKET_WG_EXIT, k->expiry, 50, code), 0);
	cr_assert_eq(nym_ticketbook_create(&b, k->key, NYM_TICKET_WG_EXIT, k->expiry, 50, code), 0);
	char *ra, *rb, *resp1, *resp2, *resp3;
	size_t la, lb;
	cr_assert_eq(nym_ticketbook_request(a, &ra, &la), 0);
	cr_assert_eq(nym_ticketbook_request(b, &rb, &lb), 0);

	cr_assert_eq(post(&f, ra, la, &resp1), 200);
	char *state = dump_state(f.issuer_db);
	/* A second book with the same voucher is refused... */
	cr_assert_eq(post(&f, rb, lb, &resp2), 403);
	cr_assert(strstr(resp2, "voucher already used"), "%s", resp2);
	/* ...but the same request again (a lost answer) gets the same answer and changes nothing. */
	cr_assert_eq(post(&f, ra, la, &resp3), 200);
	cr_assert_str_eq(resp1, resp3);
	char *after = dump_state(f.issuer_db);
	cr_assert_str_eq(state, after);
	/* A subset of the first request is not the same request. */
	struct nym_issue_request *req = malloc(sizeof(*req));
	cr_assert_eq(nym_issue_request_decode(req, ra, la), 0);
	req->count = 49;
	size_t len;
	char *subset = encode(req, &len), *resp4;
	cr_assert_eq(post(&f, subset, len, &resp4), 403);

	cr_assert_eq(nym_ticketbook_finalize(a, resp3, strlen(resp3)), 0);
	cr_assert_eq(nym_ticketbook_unspent(a), 50);
	free(req);
	free(subset);
	free(resp4);
	free(state);
	free(after);
	free(ra);
	free(rb);
	free(resp1);
	free(resp2);
	free(resp3);
	nym_ticketbook_free(a);
	nym_ticketbook_free(b);
	credfix_fini(&f);
}

/* Issuers on four threads (one database) take one voucher at the same moment: two send the
 * same request, two others each a different one. The voucher is redeemed for one request
 * only, and every copy of that request gets the same signatures. */
struct racer {
	const char *db;
	int64_t now;
	pthread_barrier_t *start;
	const char *body;
	size_t len;
	int status;
	char *resp;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct nym_issuer *iss;
	size_t resp_len;
	if (nym_issuer_open(&iss, r->db, NULL))
		return NULL;
	pthread_barrier_wait(r->start);
	nym_issuer_handle_ticketbooks(iss, r->body, r->len, r->now, &r->status, &r->resp, &resp_len);
	nym_issuer_close(iss);
	return NULL;
}

Test(issuer, concurrent_issuers_redeem_a_voucher_once)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_WG_EXIT);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(&f, code);
	struct nym_ticketbook *books[3];
	char *bodies[3];
	size_t lens[3];
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(nym_ticketbook_create(&books[i], k->key, NYM_TICKET_WG_EXIT, k->expiry, 50, code), 0);
		cr_assert_eq(nym_ticketbook_request(books[i], &bodies[i], &lens[i]), 0);
	}
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 4);
	struct racer r[4];
	pthread_t t[4];
	static const size_t which[4] = { 0, 0, 1, 2 };
	for (size_t i = 0; i < 4; i++) {
		r[i] = (struct racer){ f.issuer_db, f.now, &start, bodies[which[i]], lens[which[i]], 0, NULL };
		cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (size_t i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int winner = -1;
	for (size_t i = 0; i < 4; i++) {
		cr_assert_not_null(r[i].resp);
		cr_assert(r[i].status == 200 || r[i].status == 403, "status %d: %s", r[i].status, r[i].resp);
		if (r[i].status == 200) {
			cr_assert(winner < 0 || (size_t)winner == which[i], "two different requests redeemed one voucher");
			winner = (int)which[i];
		}
	}
	cr_assert_geq(winner, 0, "nobody got the voucher");
	size_t first = winner == 0 ? 0 : (size_t)winner + 1; /* the first racer sending it */
	for (size_t i = 0; i < 4; i++)
		if (which[i] == (size_t)winner) {
			cr_assert_eq(r[i].status, 200, "a copy of the winning request was refused: %s", r[i].resp);
			cr_assert_str_eq(r[i].resp, r[first].resp);
		}
	cr_assert_eq(nym_ticketbook_finalize(books[winner], r[first].resp, strlen(r[first].resp)), 0);
	cr_assert_eq(nym_ticketbook_unspent(books[winner]), 50);
	pthread_barrier_destroy(&start);
	for (size_t i = 0; i < 4; i++)
		free(r[i].resp);
	for (size_t i = 0; i < 3; i++) {
		free(bodies[i]);
		nym_ticketbook_free(books[i]);
	}
	credfix_fini(&f);
}

/* Another process (`nym-node authority voucher create`) makes vouchers while this one keeps
 * several connections open, as the authority does: one per HTTP thread. The helper is forked
 * before this process opens the database: a child forked later would inherit SQLite's
 * in-process lock bookkeeping and so behave unlike a separate program. For each byte read
 * from `cmd` it opens the database, creates one voucher, closes it and writes the code. */
struct voucher_maker {
	pid_t pid;
	int cmd, codes;
};

static void voucher_maker_start(struct voucher_maker *m, const char *db, int64_t now)
{
	int to[2], from[2];
	cr_assert_eq(pipe(to), 0);
	cr_assert_eq(pipe(from), 0);
	m->pid = fork();
	cr_assert_geq(m->pid, 0);
	if (m->pid == 0) {
		char c;
		close(to[1]);
		close(from[0]);
		while (read(to[0], &c, 1) == 1) {
			struct nym_issuer *iss;
			char codes[1][NYM_VOUCHER_MAX + 1];
			if (nym_issuer_open(&iss, db, NULL))
				_exit(1);
			if (nym_issuer_voucher_create(iss, 1, now, codes))
				_exit(2);
			nym_issuer_close(iss);
			if (write(from[1], codes[0], NYM_VOUCHER_CODE_LEN) != NYM_VOUCHER_CODE_LEN)
				_exit(3);
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	m->cmd = to[1];
	m->codes = from[0];
}

static void voucher_maker_make(struct voucher_maker *m, char *code)
{
	cr_assert_eq(write(m->cmd, "v", 1), 1);
	cr_assert_eq(read(m->codes, code, NYM_VOUCHER_CODE_LEN), NYM_VOUCHER_CODE_LEN);
	code[NYM_VOUCHER_CODE_LEN] = '\0';
}

static void voucher_maker_stop(struct voucher_maker *m)
{
	int status;
	close(m->cmd);
	close(m->codes);
	cr_assert_eq(waitpid(m->pid, &status, 0), m->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "voucher maker failed");
}

/* Opening a second connection must not drop the lock the first holds on the database file:
 * without it the other process, closing last as far as the locks tell, checkpointed and
 * deleted the write-ahead log under our connections, which then never saw a later voucher
 * ("unknown voucher" from the second issuance on). */
Test(issuer, vouchers_from_another_process_between_issuances)
{
	char dir[256], db[300];
	struct voucher_maker m;
	test_tmpdir(dir, sizeof(dir));
	test_path(db, sizeof(db), dir, "issuer.db");
	voucher_maker_start(&m, db, CREDFIX_NOW);

	struct nym_issuer_config cfg;
	nym_issuer_config_default(&cfg);
	cfg.key_bits = 2048;
	cfg.days_ahead = 0;
	struct nym_issuer *iss, *other;
	struct nym_issuer_keyset ks;
	cr_assert_eq(nym_crypto_init(), 0);
	cr_assert_eq(nym_issuer_open(&iss, db, &cfg), 0);
	cr_assert_eq(nym_issuer_ensure_key(iss, NYM_TICKET_WG_EXIT, CREDFIX_NOW), 0);
	cr_assert_eq(nym_issuer_keys(iss, CREDFIX_NOW, &ks), 0);
	cr_assert_eq(nym_issuer_open(&other, db, &cfg), 0);
	const struct nym_issuer_keyset_entry *k = &ks.keys[0];
	char wal[320];
	snprintf(wal, sizeof(wal), "%s-wal", db);
	for (int i = 0; i < 3; i++) {
		char code[NYM_VOUCHER_CODE_LEN + 1];
		voucher_maker_make(&m, code);
		struct stat sb;
		cr_assert_eq(stat(wal, &sb), 0, "round %d: the other process deleted the log we use", i);
		struct nym_ticketbook *b;
		cr_assert_eq(nym_ticketbook_create(&b, k->key, NYM_TICKET_WG_EXIT, k->expiry, 5, code), 0);
		char *req, *resp;
		size_t len, resp_len;
		int status;
		cr_assert_eq(nym_ticketbook_request(b, &req, &len), 0);
		cr_assert_eq(nym_issuer_handle_ticketbooks(iss, req, len, CREDFIX_NOW, &status, &resp, &resp_len), 0);
		cr_assert_eq(status, 200, "round %d: %d %s", i, status, resp);
		free(req);
		free(resp);
		nym_ticketbook_free(b);
	}
	voucher_maker_stop(&m);
	struct nym_issuer_stats st;
	cr_assert_eq(nym_issuer_stats(other, &st), 0);
	cr_assert_eq(st.vouchers_redeemed, 3);
	nym_issuer_keyset_clear(&ks);
	nym_issuer_close(other);
	nym_issuer_close(iss);
	test_tmpdir_remove(dir);
}

Test(issuer, voucher_codes_are_stored_hashed)
{
	struct credfix f;
	credfix_init(&f, 0);
	char codes[20][NYM_VOUCHER_MAX + 1];
	cr_assert_eq(nym_issuer_voucher_create(f.iss, 20, f.now, codes), 0);
	cr_assert_eq(nym_issuer_voucher_create(f.iss, 0, f.now, codes), -EINVAL);
	nym_issuer_close(f.iss);
	f.iss = NULL;
	char wal[300];
	test_path(wal, sizeof(wal), f.dir, "issuer.db-wal");
	for (size_t i = 0; i < 20; i++) {
		cr_assert_eq(strlen(codes[i]), NYM_VOUCHER_CODE_LEN);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(codes[i], codes[j]);
		cr_assert_not(test_file_contains(f.issuer_db, codes[i], NYM_VOUCHER_CODE_LEN));
		cr_assert_not(test_file_contains(wal, codes[i], NYM_VOUCHER_CODE_LEN));
		uint8_t h[32];
		nym_sha256(h, codes[i], NYM_VOUCHER_CODE_LEN);
		cr_assert(test_file_contains(f.issuer_db, h, 32) || test_file_contains(wal, h, 32));
	}
	credfix_fini(&f);
}

struct blob {
	uint8_t *p;
	size_t len;
};

static void read_whole(struct blob *b, const char *path)
{
	if (nym_file_read(path, 1u << 30, &b->p, &b->len) != 0) {
		b->p = NULL;
		b->len = 0;
	}
}

static bool blob_has(const struct blob *b, const void *needle, size_t len)
{
	return b->p && memmem(b->p, b->len, needle, len) != NULL;
}

Test(issuer, stored_data_holds_no_serial)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_MIXNET_ENTRY);
	struct nym_ticketbook *books[3];
	for (int b = 0; b < 3; b++)
		books[b] = credfix_issue_book(&f, NYM_TICKET_MIXNET_ENTRY, 50);
	/* Close the issuer (and checkpoint nothing away): look at every byte it left behind. */
	struct nym_issuer_stats st;
	cr_assert_eq(nym_issuer_stats(f.iss, &st), 0);
	cr_assert_eq(st.vouchers_redeemed, 3);
	/* Everything on disk, read once: the database and its write-ahead log. */
	char wal[300];
	test_path(wal, sizeof(wal), f.dir, "issuer.db-wal");
	struct blob files[2];
	read_whole(&files[0], f.issuer_db);
	read_whole(&files[1], wal);
	cr_assert_gt(files[0].len + files[1].len, 3 * 50 * 256, "the issuances are on disk");
	for (int b = 0; b < 3; b++) {
		for (size_t i = 0; i < 50; i++) {
			const struct nym_ticketbook_entry *e = &books[b]->entries[i];
			const uint8_t *serial = e->prepared + 32 + 9;
			char hex[65];
			nym_hex_encode(hex, serial, 32);
			for (int fi = 0; fi < 2; fi++) {
				cr_assert_not(blob_has(&files[fi], serial, 16), "serial stored");
				cr_assert_not(blob_has(&files[fi], serial + 16, 16), "serial stored");
				cr_assert_not(blob_has(&files[fi], hex, 32), "serial hex stored");
				cr_assert_not(blob_has(&files[fi], e->prepared, 32), "prefix stored");
				cr_assert_not(blob_has(&files[fi], e->sig, 32), "signature stored");
			}
		}
	}
	free(files[0].p);
	free(files[1].p);
	/* The method can see what is there: the blinded values of a fresh request are stored. */
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(&f, code);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	struct nym_ticketbook *p;
	cr_assert_eq(
		nym_ticketbook_create(&p, k->key, NYM_TICKET_MIXNET_ENTRY, k->expiry, 50, code), 0);
	char *req, *resp;
	size_t len;
	cr_assert_eq(nym_ticketbook_request(p, &req, &len), 0);
	cr_assert_eq(post(&f, req, len, &resp), 200);
	cr_assert(test_file_contains(f.issuer_db, p->entries[3].blinded, 256) ||
		  test_file_contains(wal, p->entries[3].blinded, 256));
	free(req);
	free(resp);
	nym_ticketbook_free(p);
	for (int b = 0; b < 3; b++)
		nym_ticketbook_free(books[b]);
	credfix_fini(&f);
}

Test(issuer, keys_rotate_with_overlap)
{
	struct credfix f;
	credfix_init(&f, 0);
	nym_issuer_close(f.iss);
	struct nym_issuer_config cfg;
	nym_issuer_config_default(&cfg);
	cfg.key_bits = 2048;
	cfg.days_ahead = 1;
	cr_assert_eq(nym_issuer_open(&f.iss, f.issuer_db, &cfg), 0);
	int64_t day0 = nym_issuer_day_start(f.now);
	char wal_path[300];
	test_path(wal_path, sizeof(wal_path), f.dir, "issuer.db-wal");
	cr_assert_eq(nym_issuer_rotate(f.iss, f.now), 0);
	struct nym_issuer_stats st;
	cr_assert_eq(nym_issuer_stats(f.iss, &st), 0);
	cr_assert_eq(st.keys, 6, "today and tomorrow for three types");
	cr_assert_eq(st.private_keys, 6);
	/* Idempotent. */
	cr_assert_eq(nym_issuer_rotate(f.iss, f.now + 60), 0);
	cr_assert_eq(nym_issuer_stats(f.iss, &st), 0);
	cr_assert_eq(st.keys, 6);

	struct nym_issuer_keyset ks;
	cr_assert_eq(nym_issuer_keys(f.iss, f.now, &ks), 0);
	cr_assert_eq(ks.count, 6);
	const struct nym_issuer_keyset_entry *today =
		nym_issuer_keyset_current(&ks, NYM_TICKET_WG_ENTRY, f.now);
	cr_assert_not_null(today);
	cr_assert_eq(today->expiry, nym_issuer_expiry_for_day(day0));
	const struct nym_issuer_keyset_entry *tomorrow =
		nym_issuer_keyset_current(&ks, NYM_TICKET_WG_ENTRY, day0 + 86400 + 5);
	cr_assert_not_null(tomorrow);
	cr_assert_eq(tomorrow->expiry, today->expiry + 86400);
	cr_assert_not(nym_blind_rsa_public_key_equal(today->key, tomorrow->key));
	nym_issuer_keyset_clear(&ks);

	/* A key keeps signing through the grace period after its day (the voucher is the next
	 * check, so reaching it means the key lookup passed), and not after. */
	struct nym_issue_request *req = calloc(1, sizeof(*req));
	struct nym_issue_response *resp = malloc(sizeof(*resp));
	const char *why;
	strcpy(req->voucher, "abc");
	req->type = NYM_TICKET_WG_ENTRY;
	req->expiry = nym_issuer_expiry_for_day(day0);
	req->count = 1;
	req->elem_len = 256;
	cr_assert_eq(nym_issuer_issue(f.iss, req, day0 + 86400 + 60, resp, &why), -EACCES, "%s",
		     why);
	cr_assert_eq(nym_issuer_issue(f.iss, req, day0 + 86400 + 3600, resp, &why), -ENOKEY);
	cr_assert_eq(nym_issuer_issue(f.iss, req, day0 - 1, resp, &why), -ENOKEY);

	/* A piece of day 0's private key (inside the private exponent), as stored. */
	uint8_t secret_part[64];
	{
		sqlite3 *db;
		sqlite3_stmt *q;
		cr_assert_eq(sqlite3_open_v2(f.issuer_db, &db, SQLITE_OPEN_READONLY, NULL),
			     SQLITE_OK);
		cr_assert_eq(
			sqlite3_prepare_v2(db,
					   "SELECT private_der FROM issuer_keys WHERE type = 2 "
					   "AND expiry = ?",
					   -1, &q, NULL),
			SQLITE_OK);
		sqlite3_bind_int64(q, 1, nym_issuer_expiry_for_day(day0));
		cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
		cr_assert_gt(sqlite3_column_bytes(q, 0), 700);
		memcpy(secret_part, (const uint8_t *)sqlite3_column_blob(q, 0) + 600, 64);
		sqlite3_finalize(q);
		sqlite3_close(db);
		cr_assert(test_file_contains(f.issuer_db, secret_part, 64) ||
			  test_file_contains(wal_path, secret_part, 64));
	}

	/* Two days on (past the grace period): day 0's private keys are gone, its public keys
	 * still published (their tickets are valid), and new keys exist for days 2 and 3. */
	int64_t later = day0 + 2 * 86400 + 7200;
	cr_assert_eq(nym_issuer_rotate(f.iss, later), 0);
	cr_assert_eq(nym_issuer_stats(f.iss, &st), 0);
	cr_assert_eq(st.keys, 12);
	cr_assert_eq(st.private_keys, 6);
	cr_assert_eq(nym_issuer_keys(f.iss, later, &ks), 0);
	cr_assert_eq(ks.count, 12);
	cr_assert_not_null(
		nym_issuer_keyset_find(&ks, NYM_TICKET_WG_ENTRY, nym_issuer_expiry_for_day(day0)));
	nym_issuer_keyset_clear(&ks);
	/* Issuing under day 0's key is refused now, even inside its old window. */
	cr_assert_eq(nym_issuer_issue(f.iss, req, day0 + 60, resp, &why), -ENOKEY);
	/* The destroyed private key bytes are gone from the file and its log. */
	char wal[300];
	test_path(wal, sizeof(wal), f.dir, "issuer.db-wal");
	cr_assert_not(test_file_contains(f.issuer_db, secret_part, sizeof(secret_part)));
	cr_assert_not(test_file_contains(wal, secret_part, sizeof(secret_part)));

	/* Once day 0's tickets expire, its keys leave the list. */
	int64_t expired = nym_issuer_expiry_for_day(day0);
	cr_assert_eq(nym_issuer_rotate(f.iss, expired), 0);
	cr_assert_eq(nym_issuer_keys(f.iss, expired, &ks), 0);
	cr_assert_null(nym_issuer_keyset_find(&ks, NYM_TICKET_WG_ENTRY, expired));
	nym_issuer_keyset_clear(&ks);
	free(req);
	free(resp);
	credfix_fini(&f);
}

Test(issuer, a_bad_answer_drops_the_book)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_WG_ENTRY);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(&f, code);
	struct nym_ticketbook *book;
	cr_assert_eq(nym_ticketbook_create(&book, k->key, NYM_TICKET_WG_ENTRY, k->expiry, 50, code),
		     0);
	char *req, *resp;
	size_t len;
	cr_assert_eq(nym_ticketbook_request(book, &req, &len), 0);
	cr_assert_eq(post(&f, req, len, &resp), 200);
	struct nym_issue_response *r = malloc(sizeof(*r));
	cr_assert_eq(nym_issue_response_decode(r, resp, strlen(resp)), 0);
	/* Garbage is not an answer: the book stays pending. */
	cr_assert_eq(nym_ticketbook_finalize(book, "{\"error\":\"busy\"}", 17), -EINVAL);
	cr_assert_eq(nym_ticketbook_finalize(book, resp, strlen(resp) / 2), -EINVAL);
	cr_assert_eq(book->state, NYM_TICKETBOOK_PENDING);
	/* An answer for another count is a protocol violation: dropped. Tested on a copy. */
	{
		char *copy_json;
		size_t copy_len;
		struct nym_ticketbook *copy;
		cr_assert_eq(nym_ticketbook_to_json(book, &copy_json, &copy_len), 0);
		cr_assert_eq(nym_ticketbook_from_json(&copy, copy_json, copy_len), 0);
		struct nym_issue_response *fewer = malloc(sizeof(*fewer));
		cr_assert_eq(nym_issue_response_decode(fewer, resp, strlen(resp)), 0);
		fewer->count = 49;
		char *fj;
		size_t fl;
		cr_assert_eq(nym_issue_response_encode(fewer, &fj, &fl), 0);
		cr_assert_eq(nym_ticketbook_finalize(copy, fj, fl), -EINVAL);
		cr_assert_eq(copy->state, NYM_TICKETBOOK_FAILED);
		free(fj);
		free(fewer);
		nym_ticketbook_free(copy);
		nym_ticketbook_json_free(copy_json, copy_len);
	}
	r->blind_sigs[17][100] ^= 1; /* one corrupted signature among 50 */
	char *bad;
	size_t bad_len;
	cr_assert_eq(nym_issue_response_encode(r, &bad, &bad_len), 0);
	cr_assert_eq(nym_ticketbook_finalize(book, bad, bad_len), -EBADMSG);
	cr_assert_eq(book->state, NYM_TICKETBOOK_FAILED);
	uint8_t zero[sizeof(book->entries)] = { 0 };
	cr_assert_arr_eq(book->entries, zero, sizeof(zero), "secrets left behind");
	/* Even the right answer is not taken now: the book is never re-used. */
	cr_assert_eq(nym_ticketbook_finalize(book, resp, strlen(resp)), -EINVAL);
	free(bad);
	free(r);
	free(req);
	free(resp);
	nym_ticketbook_free(book);
	credfix_fini(&f);
}
