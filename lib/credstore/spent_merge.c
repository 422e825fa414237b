#include "credstore/spent_merge.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/bloom.h"
#include "util/hex.h"
#include "util/log.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE spent ("
	"  serial BLOB NOT NULL,"
	"  gateway BLOB NOT NULL,"
	"  expiry INTEGER NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  PRIMARY KEY (serial, gateway)) WITHOUT ROWID;"
	"CREATE INDEX spent_expiry ON spent (expiry);"
	"CREATE TABLE double_spent ("
	"  serial BLOB PRIMARY KEY,"
	"  expiry INTEGER NOT NULL,"
	"  gateways INTEGER NOT NULL,"
	"  detected INTEGER NOT NULL) WITHOUT ROWID;",
};

struct nym_spent_merge {
	sqlite3 *db;
};

int nym_spent_merge_open(struct nym_spent_merge **out, const char *path)
{
	struct nym_spent_merge *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m)
		return -ENOMEM;
	int rc = nym_db_open(&m->db, path, migrations, sizeof(migrations) / sizeof(migrations[0]));
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void nym_spent_merge_close(struct nym_spent_merge *m)
{
	if (!m)
		return;
	nym_db_close(m->db);
	free(m);
}

static int apply(struct nym_spent_merge *m, const struct nym_spent_report *r, int64_t now,
		 struct nym_spent_merge_result *res)
{
	sqlite3_stmt *ins = NULL, *cnt = NULL, *dbl = NULL;
	int rc = nym_db_begin(m->db);
	if (rc)
		return rc;
	if ((rc = nym_db_prepare(m->db, &ins,
				 "INSERT OR IGNORE INTO spent (serial, gateway, expiry, received) "
				 "VALUES (?, ?, ?, ?)")) ||
	    (rc = nym_db_prepare(m->db, &cnt, "SELECT count(*) FROM spent WHERE serial = ?")) ||
	    (rc = nym_db_prepare(m->db, &dbl,
				 "INSERT INTO double_spent (serial, expiry, gateways, detected) "
				 "VALUES (?, ?, ?, ?) ON CONFLICT (serial) DO UPDATE SET "
				 "gateways = excluded.gateways")))
		goto fail;
	for (size_t i = 0; i < r->count; i++) {
		const struct nym_spent_report_entry *e = &r->entries[i];
		if (e->expiry <= now) {
			res->expired++;
			continue;
		}
		sqlite3_reset(ins);
		sqlite3_bind_blob(ins, 1, e->serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 2, r->gateway, NYM_ED25519_PUBLIC_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, e->expiry);
		sqlite3_bind_int64(ins, 4, now);
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
			goto step_fail;
		if (sqlite3_changes(m->db) == 0)
			continue; /* this gateway reported it before: a replay */
		res->added++;
		sqlite3_reset(cnt);
		sqlite3_bind_blob(cnt, 1, e->serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
		if ((rc = sqlite3_step(cnt)) != SQLITE_ROW)
			goto step_fail;
		int64_t gateways = sqlite3_column_int64(cnt, 0);
		if (gateways < 2)
			continue;
		res->double_spent++;
		sqlite3_reset(dbl);
		sqlite3_bind_blob(dbl, 1, e->serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(dbl, 2, e->expiry);
		sqlite3_bind_int64(dbl, 3, gateways);
		sqlite3_bind_int64(dbl, 4, now);
		if ((rc = sqlite3_step(dbl)) != SQLITE_DONE)
			goto step_fail;
		char hex[17];
		nym_hex_encode(hex, e->serial, 8);
		log_ratelimited(NYM_LOG_WARN, "spent: serial %s... spent at %lld gateways", hex,
				(long long)gateways);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(cnt);
	sqlite3_finalize(dbl);
	return nym_db_commit(m->db);
step_fail:
	rc = nym_db_errno(rc);
fail:
	sqlite3_finalize(ins);
	sqlite3_finalize(cnt);
	sqlite3_finalize(dbl);
	nym_db_rollback(m->db);
	return rc;
}

int nym_spent_merge_accept(struct nym_spent_merge *m, const uint8_t *report, size_t len,
			   int64_t now, nym_spent_merge_gateway_check check, void *ctx,
			   struct nym_spent_merge_result *res)
{
	struct nym_spent_report *r = malloc(sizeof(*r));
	int rc = -ENOMEM;
	memset(res, 0, sizeof(*res));
	if (!r)
		goto out;
	rc = nym_spent_report_decode(r, report, len);
	if (rc)
		goto out;
	rc = -EACCES;
	if (check && !check(ctx, r->gateway))
		goto out;
	rc = -ERANGE;
	for (size_t i = 0; i < r->count; i++)
		if (r->entries[i].expiry > now + NYM_SPENT_MERGE_MAX_AHEAD_S)
			goto out;
	res->entries = r->count;
	rc = apply(m, r, now, res);
	if (rc) {
		struct nym_spent_merge_result empty = { 0 };
		*res = empty;
	}
out:
	free(r);
	return rc;
}

int nym_spent_merge_handle_report(struct nym_spent_merge *m, const uint8_t *body, size_t len,
				  int64_t now, nym_spent_merge_gateway_check check, void *ctx,
				  int *status, char **resp, size_t *resp_len)
{
	struct nym_spent_merge_result res;
	const char *why;
	json_t *out;
	int rc;
	*resp = NULL;
	if (len > NYM_SPENT_REPORT_MAX_LEN) {
		rc = -EMSGSIZE;
		memset(&res, 0, sizeof(res));
	} else {
		rc = nym_spent_merge_accept(m, body, len, now, check, ctx, &res);
	}
	switch (rc) {
	case 0:
		*status = 200;
		why = NULL;
		break;
	case -EMSGSIZE:
		*status = 413;
		why = "report too large";
		break;
	case -EINVAL:
	case -EPROTONOSUPPORT:
	case -ERANGE:
		*status = 400;
		why = "malformed report";
		break;
	case -EBADMSG:
		*status = 401;
		why = "bad report signature";
		break;
	case -EACCES:
		*status = 403;
		why = "gateway not registered";
		break;
	case -EBUSY:
		*status = 503;
		why = "busy";
		break;
	default:
		*status = 500;
		why = "internal error";
		break;
	}
	if (why) {
		log_ratelimited(NYM_LOG_INFO, "spent: report refused (%d): %s", *status, why);
		out = json_pack("{s:s}", "error", why);
	} else {
		out = json_pack("{s:I, s:I, s:I, s:I}", "entries", (json_int_t)res.entries, "added",
				(json_int_t)res.added, "expired", (json_int_t)res.expired,
				"double_spent", (json_int_t)res.double_spent);
	}
	if (!out || !(*resp = json_dumps(out, JSON_COMPACT))) {
		json_decref(out);
		return -ENOMEM;
	}
	json_decref(out);
	*resp_len = strlen(*resp);
	return 0;
}

int nym_spent_merge_filter(struct nym_spent_merge *m, int64_t now, double fpr, uint8_t **out,
			   size_t *out_len)
{
	sqlite3_stmt *s = NULL;
	struct nym_bloom b = { 0 };
	bool have = false;
	uint64_t n = 0;
	*out = NULL;
	/* One read transaction, so the count and the rows agree. */
	int rc = nym_db_exec(m->db, "BEGIN");
	if (rc)
		return rc;
	rc = nym_db_prepare(m->db, &s, "SELECT count(DISTINCT serial) FROM spent WHERE expiry > ?");
	if (rc)
		goto out;
	sqlite3_bind_int64(s, 1, now);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		rc = nym_db_errno(rc);
		goto out;
	}
	n = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	/* A floor keeps a nearly empty filter from being all ones after a few inserts. */
	rc = nym_bloom_init(&b, n < 1024 ? 1024 : n, fpr, NULL);
	if (rc)
		goto out;
	have = true;
	rc = nym_db_prepare(m->db, &s, "SELECT DISTINCT serial FROM spent WHERE expiry > ?");
	if (rc)
		goto out;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		nym_bloom_insert(&b, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
	if (rc != SQLITE_DONE) {
		rc = nym_db_errno(rc);
		goto out;
	}
	size_t len = nym_bloom_serialized_len(&b);
	rc = -ENOMEM;
	if (!(*out = malloc(len)))
		goto out;
	rc = nym_bloom_serialize(&b, *out, len, out_len);
out:
	sqlite3_finalize(s);
	nym_db_rollback(m->db);
	if (have)
		nym_bloom_free(&b);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int nym_spent_merge_is_double_spent(struct nym_spent_merge *m,
				    const uint8_t serial[NYM_TICKET_SERIAL_LEN], bool *out)
{
	sqlite3_stmt *s;
	int rc = nym_db_prepare(m->db, &s, "SELECT 1 FROM double_spent WHERE serial = ?");
	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
	sqlite3_finalize(s);
	return rc;
}

int nym_spent_merge_counts(struct nym_spent_merge *m, uint64_t *serials, uint64_t *double_spent)
{
	int rc = nym_db_query_u64(m->db, "SELECT count(DISTINCT serial) FROM spent", serials);
	return rc ? rc : nym_db_query_u64(m->db, "SELECT count(*) FROM double_spent", double_spent);
}

int nym_spent_merge_prune(struct nym_spent_merge *m, int64_t now)
{
	int rc = nym_db_begin(m->db);
	if (rc)
		return rc;
	sqlite3_stmt *s = NULL;
	static const char *const sql[] = { "DELETE FROM spent WHERE expiry <= ?",
					   "DELETE FROM double_spent WHERE expiry <= ?" };
	for (size_t i = 0; i < 2; i++) {
		rc = nym_db_prepare(m->db, &s, sql[i]);
		if (rc)
			goto fail;
		sqlite3_bind_int64(s, 1, now);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			rc = nym_db_errno(rc);
			goto fail;
		}
	}
	return nym_db_commit(m->db);
fail:
	nym_db_rollback(m->db);
	return rc;
}
