/* The ticket encoding, the ticketbook's life and file, the issuance messages, and the
 * SQLite helper's schema versioning. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "cred/issue.h"
#include "cred/ticket.h"
#include "cred/ticketbook.h"
#include "store/db.h"
#include "util/file.h"
#include "util/hex.h"

TestSuite(ticket, .timeout = 120);

Test(ticket, message_layout)
{
	struct nym_ticket_msg m = { .type = NYM_TICKET_WG_EXIT, .expiry = 0x0102030405060708 };
	for (int i = 0; i < 32; i++)
		m.serial[i] = (uint8_t)(0xa0 + i);
	uint8_t out[NYM_TICKET_MSG_LEN];
	nym_ticket_msg_encode(out, &m);
	cr_assert_eq(out[0], 3);
	static const uint8_t be[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	cr_assert_arr_eq(out + 1, be, 8);
	cr_assert_arr_eq(out + 9, m.serial, 32);
	struct nym_ticket_msg back;
	cr_assert_eq(nym_ticket_msg_decode(&back, out, sizeof(out)), 0);
	cr_assert_eq(back.type, m.type);
	cr_assert_eq(back.expiry, m.expiry);
	cr_assert_arr_eq(back.serial, m.serial, 32);
	cr_assert_eq(nym_ticket_msg_decode(&back, out, 40), -EINVAL);
	cr_assert_eq(nym_ticket_msg_decode(&back, out, 42), -EINVAL);
	out[0] = 0;
	cr_assert_eq(nym_ticket_msg_decode(&back, out, 41), -EINVAL);
	out[0] = 4;
	cr_assert_eq(nym_ticket_msg_decode(&back, out, 41), -EINVAL);
	out[0] = 1;
	out[1] = 0x80; /* expiry beyond INT64_MAX */
	cr_assert_eq(nym_ticket_msg_decode(&back, out, 41), -EINVAL);

	cr_assert_str_eq(nym_ticket_type_name(NYM_TICKET_MIXNET_ENTRY), "mixnet-entry");
	cr_assert_str_eq(nym_ticket_type_name(NYM_TICKET_WG_ENTRY), "wg-entry");
	cr_assert_str_eq(nym_ticket_type_name(NYM_TICKET_WG_EXIT), "wg-exit");
	cr_assert_eq(nym_ticket_type_bytes(NYM_TICKET_MIXNET_ENTRY), 200000000);
	cr_assert_eq(nym_ticket_type_bytes(NYM_TICKET_WG_EXIT), 500000000);
	enum nym_ticket_type t;
	cr_assert_eq(nym_ticket_type_parse("wg-exit", &t), 0);
	cr_assert_eq(t, NYM_TICKET_WG_EXIT);
	cr_assert_eq(nym_ticket_type_parse("wg", &t), -EINVAL);
}

Test(ticket, parse_and_lengths)
{
	uint8_t buf[NYM_TICKET_MAX_LEN] = { 0 };
	struct nym_ticket_msg m = { .type = NYM_TICKET_MIXNET_ENTRY, .expiry = 1796256000 };
	nym_ticket_msg_encode(buf + 32, &m);
	struct nym_ticket_view v;
	cr_assert_eq(nym_ticket_parse(&v, buf, 72), -EINVAL);
	cr_assert_eq(nym_ticket_parse(&v, buf, 73), 0);
	cr_assert_eq(v.sig_len, 0);
	cr_assert_eq(nym_ticket_check_len(&v, 384), -EINVAL);
	cr_assert_eq(nym_ticket_parse(&v, buf, 73 + 384), 0);
	cr_assert_eq(v.sig, buf + 73);
	cr_assert_eq(v.msg.expiry, 1796256000);
	cr_assert_eq(nym_ticket_check_len(&v, 384), 0);
	cr_assert_eq(nym_ticket_check_len(&v, 256), -EINVAL);
	uint8_t out[NYM_TICKET_MAX_LEN];
	size_t len;
	cr_assert_eq(nym_ticket_encode(out, 73 + 383, &len, buf, buf + 73, 384), -ENOSPC);
	cr_assert_eq(nym_ticket_encode(out, sizeof(out), &len, buf, buf + 73, 384), 0);
	cr_assert_eq(len, 457, "457 bytes at 3072 bits (spec §5)");
	cr_assert_eq(nym_ticket_encode(out, sizeof(out), &len, buf, buf + 73, 513), -EINVAL);
}

Test(ticket, book_file_round_trip_and_spending)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_MIXNET_ENTRY);
	const struct nym_issuer_keyset_entry *k = &f.ks.keys[0];
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(&f, code);
	char path[300];
	test_path(path, sizeof(path), f.dir, "book.json");

	/* Pending: saved before the request goes out, reloaded, then finalized. */
	struct nym_ticketbook *book, *loaded;
	cr_assert_eq(
		nym_ticketbook_create(&book, k->key, NYM_TICKET_MIXNET_ENTRY, k->expiry, 50, code),
		0);
	cr_assert_eq(nym_ticketbook_save(book, path), 0);
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(nym_ticketbook_load(&loaded, path), 0);
	cr_assert_eq(loaded->state, NYM_TICKETBOOK_PENDING);
	cr_assert_str_eq(loaded->voucher, code);
	cr_assert_arr_eq(loaded->entries, book->entries, sizeof(book->entries));
	char *req1, *req2, *resp;
	size_t l1, l2, rl;
	int status;
	cr_assert_eq(nym_ticketbook_request(book, &req1, &l1), 0);
	cr_assert_eq(nym_ticketbook_request(loaded, &req2, &l2), 0);
	cr_assert_str_eq(req1, req2, "a reloaded pending book asks for the same thing");
	cr_assert_eq(nym_issuer_handle_ticketbooks(f.iss, req2, l2, f.now, &status, &resp, &rl), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(nym_ticketbook_finalize(loaded, resp, rl), 0);
	cr_assert_eq(nym_ticketbook_save(loaded, path), 0);
	nym_ticketbook_free(loaded);

	cr_assert_eq(nym_ticketbook_load(&loaded, path), 0);
	cr_assert_eq(loaded->state, NYM_TICKETBOOK_READY);
	cr_assert_eq(nym_ticketbook_unspent(loaded), 50);
	cr_assert(test_file_contains(path, "\"ready\"", 7));
	cr_assert_not(test_file_contains(path, "\"inv\"", 5), "inverses kept after finalize");
	cr_assert_not(test_file_contains(path, code, strlen(code)), "voucher kept after finalize");
	uint8_t t[NYM_TICKET_MAX_LEN];
	for (size_t i = 0; i < 50; i++) {
		size_t len = credfix_ticket(loaded, i, t);
		cr_assert_eq(nym_issuer_keyset_verify_ticket(&f.ks, t, len, f.now,
							     NYM_TICKET_TYPES_ALL, NULL),
			     0);
	}
	/* take() hands out every ticket once, not in issuance order. */
	bool seen[50] = { false };
	size_t order[50];
	for (size_t i = 0; i < 50; i++) {
		size_t idx;
		cr_assert_eq(nym_ticketbook_take(loaded, &idx), 0);
		cr_assert_lt(idx, 50);
		cr_assert_not(seen[idx]);
		seen[idx] = true;
		order[i] = idx;
		if (i == 9) {
			cr_assert_eq(nym_ticketbook_save(loaded, path), 0);
		}
	}
	size_t in_order = 0;
	for (size_t i = 0; i < 50; i++)
		in_order += order[i] == i;
	cr_assert_lt(in_order, 50);
	size_t idx;
	cr_assert_eq(nym_ticketbook_take(loaded, &idx), -ENOENT);
	/* The saved file remembers which ten were spent. */
	struct nym_ticketbook *again;
	cr_assert_eq(nym_ticketbook_load(&again, path), 0);
	cr_assert_eq(nym_ticketbook_unspent(again), 40);
	for (size_t i = 0; i < 10; i++)
		cr_assert(again->entries[order[i]].spent);
	cr_assert_eq(nym_ticketbook_ticket(again, 50, t, sizeof(t), &idx), -ENOENT);
	cr_assert_eq(nym_ticketbook_mark_spent(again, 50), -ENOENT);

	nym_ticketbook_free(again);
	nym_ticketbook_free(loaded);
	nym_ticketbook_free(book);
	free(req1);
	free(req2);
	free(resp);
	credfix_fini(&f);
}

Test(ticket, book_file_checks)
{
	struct credfix f;
	credfix_init(&f, 1u << NYM_TICKET_WG_ENTRY);
	struct nym_ticketbook *book = credfix_issue_book(&f, NYM_TICKET_WG_ENTRY, 3), *back;
	char *json;
	size_t len;
	cr_assert_eq(nym_ticketbook_to_json(book, &json, &len), 0);
	cr_assert_eq(nym_ticketbook_from_json(&back, json, len), 0);
	nym_ticketbook_free(back);

	/* Edits that must be refused. */
	struct {
		const char *from, *to;
		int want;
	} edits[] = {
		{ "\"version\": 1", "\"version\": 2", -EPROTONOSUPPORT },
		{ "\"state\": \"ready\"", "\"state\": \"spent\"", -EINVAL },
		{ "\"type\": \"wg-entry\"", "\"type\": \"wg-exit\"",
		  -EINVAL }, /* tickets disagree */
		{ "\"variant\": \"RSABSSA-SHA384-PSS-Randomized\"",
		  "\"variant\": \"RSABSSA-SHA384-PSS-Deterministic\"", -EINVAL },
		{ "\"spent\": false", "\"spent\": 0", -EINVAL },
		{ "\"ticket\": \"", "\"ticket\": \"00", -EINVAL },
		{ "\"version\": 1", "\"version\": 1, \"extra\": 1", -EINVAL },
		{ "BEGIN PUBLIC KEY", "BEGIN PRIVATE KEY", -EINVAL },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *at = strstr(json, edits[i].from);
		cr_assert_not_null(at, "edit %zu: %s not in the file", i, edits[i].from);
		size_t fl = strlen(edits[i].from), tl = strlen(edits[i].to);
		char *edited = malloc(len + tl + 1);
		size_t pre = (size_t)(at - json);
		memcpy(edited, json, pre);
		memcpy(edited + pre, edits[i].to, tl);
		strcpy(edited + pre + tl, at + fl);
		back = (void *)1;
		cr_assert_eq(nym_ticketbook_from_json(&back, edited, strlen(edited)), edits[i].want,
			     "edit %zu (%s)", i, edits[i].to);
		cr_assert_null(back);
		free(edited);
	}
	cr_assert_eq(nym_ticketbook_from_json(&back, json, NYM_TICKETBOOK_FILE_MAX + 1), -EMSGSIZE);
	nym_ticketbook_json_free(json, len);
	nym_ticketbook_free(book);
	credfix_fini(&f);
}

Test(ticket, issue_messages)
{
	struct nym_issue_request *req = calloc(1, sizeof(*req)), *back = malloc(sizeof(*back));
	strcpy(req->voucher, "Abc123");
	req->type = NYM_TICKET_WG_EXIT;
	req->expiry = 1796256000;
	req->count = 2;
	req->elem_len = 256;
	memset(req->blinded[0], 0x11, 256);
	memset(req->blinded[1], 0x22, 256);
	char *json;
	size_t len;
	cr_assert_eq(nym_issue_request_encode(req, &json, &len), 0);
	const char *head = "{\"voucher\":\"Abc123\",\"type\":\"wg-exit\",\"expiry\":1796256000,"
			   "\"blinded\":[\"1111";
	cr_assert(strncmp(json, head, strlen(head)) == 0, "%s", json);
	cr_assert_eq(nym_issue_request_decode(back, json, len), 0);
	cr_assert_eq(back->count, 2);
	cr_assert_eq(back->elem_len, 256);
	cr_assert_arr_eq(back->blinded, req->blinded, 2 * NYM_BRSA_MAX_LEN);
	free(json);

	struct nym_issue_response *resp = calloc(1, sizeof(*resp)), *rback = malloc(sizeof(*rback));
	resp->type = NYM_TICKET_MIXNET_ENTRY;
	resp->expiry = 1796256000;
	resp->count = 50;
	resp->elem_len = 512;
	cr_assert_eq(nym_issue_response_encode(resp, &json, &len), 0);
	cr_assert_eq(nym_issue_response_decode(rback, json, len), 0);
	cr_assert_eq(rback->count, 50);
	cr_assert_eq(rback->elem_len, 512);
	free(json);
	cr_assert_eq(nym_issue_error_encode("no", &json, &len), 0);
	cr_assert_str_eq(json, "{\"error\":\"no\"}");
	free(json);

	cr_assert(nym_issue_voucher_valid("a"));
	cr_assert_not(nym_issue_voucher_valid(""));
	cr_assert_not(nym_issue_voucher_valid("a b"));
	char long_code[66];
	memset(long_code, 'x', 65);
	long_code[65] = '\0';
	cr_assert_not(nym_issue_voucher_valid(long_code));
	long_code[64] = '\0';
	cr_assert(nym_issue_voucher_valid(long_code));
	free(req);
	free(back);
	free(resp);
	free(rback);
}

Test(ticket, db_schema_versions)
{
	char dir[256], path[300];
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "x.db");
	static const char *const v1[] = { "CREATE TABLE a (x INTEGER)" };
	static const char *const v2[] = { "CREATE TABLE a (x INTEGER)",
					  "ALTER TABLE a ADD y TEXT" };
	sqlite3 *db;
	cr_assert_eq(nym_db_open(&db, path, v1, 1), 0);
	cr_assert_eq(nym_db_exec(db, "INSERT INTO a (x) VALUES (1)"), 0);
	nym_db_close(db);
	/* An upgrade runs only the new step and keeps the data. */
	cr_assert_eq(nym_db_open(&db, path, v2, 2), 0);
	cr_assert_eq(nym_db_exec(db, "UPDATE a SET y = 'ok' WHERE x = 1"), 0);
	sqlite3_stmt *st;
	cr_assert_eq(nym_db_prepare(db, &st, "PRAGMA journal_mode"), 0);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* A failed transaction leaves nothing. */
	cr_assert_eq(nym_db_begin(db), 0);
	cr_assert_eq(nym_db_exec(db, "INSERT INTO a (x) VALUES (2)"), 0);
	nym_db_rollback(db);
	cr_assert_eq(nym_db_prepare(db, &st, "SELECT count(*) FROM a"), 0);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	nym_db_close(db);
	/* Older code refuses a newer database instead of misreading it. */
	cr_assert_eq(nym_db_open(&db, path, v1, 1), -EPROTONOSUPPORT);
	cr_assert_null(db);
	/* A broken migration leaves the version where it was. */
	const char *const bad[] = { v2[0], v2[1], "CREATE TABLE broken (" };
	cr_assert_neq(nym_db_open(&db, path, bad, 3), 0);
	cr_assert_eq(nym_db_open(&db, path, v2, 2), 0);
	nym_db_close(db);
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	test_tmpdir_remove(dir);
}

Test(ticket, file_helpers)
{
	char dir[256], path[300];
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "f");
	cr_assert_eq(nym_file_write_atomic(path, "hello", 5, 0600), 0);
	cr_assert_eq(nym_file_write_atomic(path, "hello, world", 12, 0640), 0);
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0640);
	uint8_t *data;
	size_t len;
	cr_assert_eq(nym_file_read(path, 12, &data, &len), 0);
	cr_assert_eq(len, 12);
	cr_assert_str_eq((char *)data, "hello, world");
	free(data);
	cr_assert_eq(nym_file_read(path, 11, &data, &len), -EFBIG);
	cr_assert_null(data);
	cr_assert_eq(nym_file_read(dir, 100, &data, &len), -EINVAL);
	test_path(path, sizeof(path), dir, "missing");
	cr_assert_eq(nym_file_read(path, 100, &data, &len), -ENOENT);
	test_path(path, sizeof(path), dir, "no/such/dir");
	cr_assert_eq(nym_file_write_atomic(path, "x", 1, 0600), -ENOENT);
	test_tmpdir_remove(dir);
}
