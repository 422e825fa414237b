#include "credstore/ticket_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/bloom.h"
#include "util/log.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE spent ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT," /* report order; never reused */
	"  serial BLOB NOT NULL UNIQUE,"
	"  type INTEGER NOT NULL,"
	"  expiry INTEGER NOT NULL,"
	"  spent_at INTEGER NOT NULL,"
	"  reported INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX spent_unreported ON spent (seq) WHERE reported = 0;"
	"CREATE INDEX spent_expiry ON spent (expiry);"
	"CREATE TABLE spent_filter ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  data BLOB NOT NULL,"
	"  loaded INTEGER NOT NULL);",
};

struct nym_ticket_store {
	sqlite3 *db;
	sqlite3_stmt *insert, *lookup;
	bool have_filter;
	struct nym_bloom filter;
	struct nym_ticket_store_counters counters;
};

static int load_filter(struct nym_ticket_store *st)
{
	sqlite3_stmt *s;
	int rc = nym_db_prepare(st->db, &s, "SELECT data FROM spent_filter WHERE id = 1");
	if (rc)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rc = nym_bloom_deserialize(&st->filter, sqlite3_column_blob(s, 0),
					   (size_t)sqlite3_column_bytes(s, 0));
		st->have_filter = rc == 0;
		if (rc)
			log_warn("ticket store: stored spent filter unusable (%s); ignored",
				 strerror(-rc));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
	}
	sqlite3_finalize(s);
	return rc;
}

int nym_ticket_store_open(struct nym_ticket_store **out, const char *path)
{
	struct nym_ticket_store *st = calloc(1, sizeof(*st));
	*out = NULL;
	if (!st)
		return -ENOMEM;
	int rc = nym_db_open(&st->db, path, migrations, sizeof(migrations) / sizeof(migrations[0]));
	if (rc)
		goto fail;
	rc = nym_db_prepare(
		st->db, &st->insert,
		"INSERT INTO spent (serial, type, expiry, spent_at) VALUES (?, ?, ?, ?) "
		"ON CONFLICT (serial) DO NOTHING");
	if (rc)
		goto fail;
	rc = nym_db_prepare(st->db, &st->lookup, "SELECT 1 FROM spent WHERE serial = ?");
	if (rc)
		goto fail;
	rc = load_filter(st);
	if (rc)
		goto fail;
	*out = st;
	return 0;
fail:
	nym_ticket_store_close(st);
	return rc;
}

void nym_ticket_store_close(struct nym_ticket_store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->lookup);
	nym_db_close(st->db);
	if (st->have_filter)
		nym_bloom_free(&st->filter);
	free(st);
}

static void count_refusal(struct nym_ticket_store *st, int rc)
{
	switch (rc) {
	case -EINVAL:
		st->counters.malformed++;
		break;
	case -EPERM:
		st->counters.wrong_type++;
		break;
	case -EKEYEXPIRED:
		st->counters.expired++;
		break;
	case -ENOKEY:
		st->counters.unknown_key++;
		break;
	case -EBADMSG:
		st->counters.bad_signature++;
		break;
	default:
		break;
	}
}

static int serial_recorded(struct nym_ticket_store *st, const uint8_t serial[NYM_TICKET_SERIAL_LEN], bool *spent)
{
	sqlite3_reset(st->lookup);
	sqlite3_bind_blob(st->lookup, 1, serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st->lookup);
	*spent = rc == SQLITE_ROW;
	sqlite3_reset(st->lookup);
	sqlite3_clear_bindings(st->lookup);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
}

int nym_ticket_store_is_spent(struct nym_ticket_store *st, const uint8_t serial[NYM_TICKET_SERIAL_LEN], bool *spent)
{
	return serial_recorded(st, serial, spent);
}

int nym_ticket_store_check(struct nym_ticket_store *st, const struct nym_issuer_keyset *keys,
			   const uint8_t *ticket, size_t len, int64_t now, unsigned accepted_types,
			   struct nym_ticket_msg *msg)
{
	struct nym_ticket_msg m;
	bool spent;
	int rc = nym_issuer_keyset_verify_ticket(keys, ticket, len, now, accepted_types, &m);
	if (rc) {
		count_refusal(st, rc);
		return rc;
	}
	/* Only a verified serial gets this far: unsigned junk never reaches the database. */
	if (st->have_filter && nym_bloom_test(&st->filter, m.serial, sizeof(m.serial))) {
		st->counters.spent_filter++;
		return -EALREADY;
	}
	if ((rc = serial_recorded(st, m.serial, &spent)) != 0)
		return rc;
	if (spent) {
		st->counters.spent_here++;
		return -EALREADY;
	}
	*msg = m;
	return 0;
}

int nym_ticket_store_record(struct nym_ticket_store *st, const struct nym_ticket_msg *m, int64_t now)
{
	sqlite3_reset(st->insert);
	sqlite3_bind_blob(st->insert, 1, m->serial, sizeof(m->serial), SQLITE_STATIC);
	sqlite3_bind_int(st->insert, 2, (int)m->type);
	sqlite3_bind_int64(st->insert, 3, m->expiry);
	sqlite3_bind_int64(st->insert, 4, now);
	/* One statement in autocommit mode is one transaction; with synchronous=FULL it is on
	 * disk when step returns. */
	int rc = sqlite3_step(st->insert);
	sqlite3_reset(st->insert);
	sqlite3_clear_bindings(st->insert);
	if (rc != SQLITE_DONE) {
		rc = nym_db_errno(rc);
		log_ratelimited(NYM_LOG_ERROR, "ticket store: recording a serial failed: %s",
				sqlite3_errmsg(st->db));
		return rc;
	}
	if (sqlite3_changes(st->db) == 0) {
		st->counters.spent_here++;
		return -EALREADY;
	}
	st->counters.accepted++;
	return 0;
}

int nym_ticket_store_spend(struct nym_ticket_store *st, const struct nym_issuer_keyset *keys,
			   const uint8_t *ticket, size_t len, int64_t now, unsigned accepted_types,
			   struct nym_ticket_msg *msg)
{
	struct nym_ticket_msg m;
	int rc = nym_ticket_store_check(st, keys, ticket, len, now, accepted_types, &m);
	if (rc == 0)
		rc = nym_ticket_store_record(st, &m, now);
	if (rc == 0 && msg)
		*msg = m;
	return rc;
}

int nym_ticket_store_set_filter(struct nym_ticket_store *st, const uint8_t *data, size_t len,
				int64_t now)
{
	struct nym_bloom fresh;
	sqlite3_stmt *s = NULL;
	int rc = nym_bloom_deserialize(&fresh, data, len);
	if (rc)
		return rc;
	if (len > INT32_MAX) {
		rc = -EMSGSIZE;
		goto fail;
	}
	rc = nym_db_prepare(
		st->db, &s,
		"INSERT INTO spent_filter (id, data, loaded) VALUES (1, ?, ?) "
		"ON CONFLICT (id) DO UPDATE SET data = excluded.data, loaded = excluded.loaded");
	if (rc)
		goto fail;
	sqlite3_bind_blob(s, 1, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		rc = nym_db_errno(rc);
		goto fail;
	}
	if (st->have_filter)
		nym_bloom_free(&st->filter);
	st->filter = fresh;
	st->have_filter = true;
	return 0;
fail:
	nym_bloom_free(&fresh);
	return rc;
}

int nym_ticket_store_report(struct nym_ticket_store *st, const struct nym_ed25519_keypair *id,
			    int64_t now, uint8_t *out, size_t cap, size_t *out_len,
			    uint64_t *last_seq)
{
	sqlite3_stmt *s = NULL;
	struct nym_spent_report *r = calloc(1, sizeof(*r));
	int rc = -ENOMEM;
	if (!r)
		goto out;
	rc = nym_db_prepare(st->db, &s,
			    "SELECT seq, serial, expiry FROM spent WHERE reported = 0 "
			    "ORDER BY seq LIMIT ?");
	if (rc)
		goto out;
	sqlite3_bind_int(s, 1, NYM_SPENT_REPORT_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct nym_spent_report_entry *e = &r->entries[r->count];
		if (sqlite3_column_bytes(s, 1) != NYM_TICKET_SERIAL_LEN)
			continue; /* cannot happen: only verified serials are inserted */
		memcpy(e->serial, sqlite3_column_blob(s, 1), NYM_TICKET_SERIAL_LEN);
		e->expiry = sqlite3_column_int64(s, 2);
		r->last_seq = (uint64_t)sqlite3_column_int64(s, 0);
		r->count++;
	}
	if (rc != SQLITE_DONE) {
		rc = nym_db_errno(rc);
		goto out;
	}
	if (r->count == 0) {
		rc = -ENOENT;
		goto out;
	}
	r->created = now;
	rc = nym_spent_report_encode(r, id, out, cap, out_len);
	if (rc == 0)
		*last_seq = r->last_seq;
out:
	sqlite3_finalize(s);
	free(r);
	return rc;
}

static int exec_int64(struct nym_ticket_store *st, const char *sql, int64_t v)
{
	sqlite3_stmt *s;
	int rc = nym_db_prepare(st->db, &s, sql);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, v);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
}

int nym_ticket_store_report_done(struct nym_ticket_store *st, uint64_t last_seq)
{
	if (last_seq > INT64_MAX)
		return -EINVAL;
	return exec_int64(st, "UPDATE spent SET reported = 1 WHERE reported = 0 AND seq <= ?",
			  (int64_t)last_seq);
}

int nym_ticket_store_prune(struct nym_ticket_store *st, int64_t now)
{
	return exec_int64(st, "DELETE FROM spent WHERE expiry <= ?", now);
}

void nym_ticket_store_counters(const struct nym_ticket_store *st,
			       struct nym_ticket_store_counters *out)
{
	*out = st->counters;
}

int nym_ticket_store_pending_reports(struct nym_ticket_store *st, uint64_t *count)
{
	return nym_db_query_u64(st->db, "SELECT count(*) FROM spent WHERE reported = 0", count);
}

const char *nym_ticket_store_refusal_text(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "malformed ticket";
	case -EPERM:
		return "ticket type not accepted";
	case -EKEYEXPIRED:
		return "ticket expired";
	case -ENOKEY:
		return "no issuer key for the ticket's type and expiry";
	case -EBADMSG:
		return "invalid signature";
	case -EALREADY:
		return "ticket already spent";
	default:
		return strerror(-rc);
	}
}
