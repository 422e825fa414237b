#include "gateway/gateway_clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE balances ("
	"  identity BLOB PRIMARY KEY,"
	"  bytes INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE inbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," /* delivery order */
	"  identity BLOB NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  item BLOB NOT NULL,"
	"  received INTEGER NOT NULL);"
	"CREATE INDEX inbox_by_identity ON inbox (identity, id);"
	"CREATE INDEX inbox_by_age ON inbox (received);",
};

enum { ST_BAL_GET, ST_BAL_SET, ST_PUT, ST_NEXT, ST_DELETE, ST_COUNT, ST_PURGE, ST_N };

static const char *const statements[ST_N] = {
	[ST_BAL_GET] = "SELECT bytes FROM balances WHERE identity = ?",
	[ST_BAL_SET] = ("INSERT INTO balances (identity, bytes, updated) VALUES (?, ?, ?) "
			"ON CONFLICT (identity) DO UPDATE SET bytes = excluded.bytes, updated = excluded.updated"),
	[ST_PUT] = "INSERT INTO inbox (identity, size, item, received) VALUES (?, ?, ?, ?)",
	[ST_NEXT] = "SELECT id, size, item, received FROM inbox WHERE identity = ? AND id > ? ORDER BY id LIMIT 1",
	[ST_DELETE] = "DELETE FROM inbox WHERE id = ?",
	[ST_COUNT] = "SELECT count(*) FROM inbox WHERE identity = ?",
	[ST_PURGE] = "DELETE FROM inbox WHERE received < ?",
};

struct gateway_clients {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	uint64_t inbox_cap, max_age_s;
	struct gateway_clients_counters counters;
};

int gateway_clients_open(struct gateway_clients **out, const char *path, uint64_t inbox_cap, uint64_t max_age_s)
{
	struct gateway_clients *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->inbox_cap = inbox_cap;
	c->max_age_s = max_age_s;
	int rc = nym_db_open(&c->db, path, migrations, sizeof(migrations) / sizeof(migrations[0]));
	for (size_t i = 0; rc == 0 && i < ST_N; i++)
		rc = nym_db_prepare(c->db, &c->st[i], statements[i]);
	if (rc) {
		gateway_clients_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void gateway_clients_close(struct gateway_clients *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ST_N; i++)
		sqlite3_finalize(c->st[i]);
	nym_db_close(c->db);
	free(c);
}

/* Steps a statement once and resets it; SQLITE_ROW is left for the caller to read. */
static sqlite3_stmt *use(struct gateway_clients *c, int which)
{
	sqlite3_stmt *s = c->st[which];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static int done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
}

int gateway_clients_balance_get(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t *bytes)
{
	sqlite3_stmt *s = use(c, ST_BAL_GET);
	sqlite3_bind_blob(s, 1, id, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*bytes = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
}

int gateway_clients_balance_set(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes,
				int64_t now)
{
	sqlite3_stmt *s = use(c, ST_BAL_SET);
	sqlite3_bind_blob(s, 1, id, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes);
	sqlite3_bind_int64(s, 3, now);
	return done(s);
}

int gateway_clients_inbox_count(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t *n)
{
	sqlite3_stmt *s = use(c, ST_COUNT);
	sqlite3_bind_blob(s, 1, id, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : nym_db_errno(rc);
}

int gateway_clients_inbox_put(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN],
			      enum mix_packet_size size, const uint8_t *item, size_t len, int64_t now)
{
	uint64_t n;
	if (len == 0 || len > MIX_PACKET_MAX_LEN || !mix_packet_size_valid(size))
		return -EINVAL;
	int rc = gateway_clients_inbox_count(c, id, &n);
	if (rc)
		return rc;
	if (n >= c->inbox_cap) {
		c->counters.inbox_refused_cap++;
		return -ENOSPC;
	}
	sqlite3_stmt *s = use(c, ST_PUT);
	sqlite3_bind_blob(s, 1, id, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)size);
	sqlite3_bind_blob(s, 3, item, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	rc = done(s);
	if (rc == 0)
		c->counters.inbox_stored++;
	return rc;
}

int gateway_clients_inbox_next(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], int64_t after_id,
			       struct gateway_inbox_item *out)
{
	sqlite3_stmt *s = use(c, ST_NEXT);
	sqlite3_bind_blob(s, 1, id, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, after_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? -ENOENT : nym_db_errno(rc);
	}
	int len = sqlite3_column_bytes(s, 2);
	out->id = sqlite3_column_int64(s, 0);
	out->size = (enum mix_packet_size)sqlite3_column_int(s, 1);
	out->received = sqlite3_column_int64(s, 3);
	rc = 0;
	if (len <= 0 || (size_t)len > sizeof(out->item)) {
		rc = -EBADMSG;
	} else {
		out->len = (size_t)len;
		memcpy(out->item, sqlite3_column_blob(s, 2), out->len);
	}
	sqlite3_reset(s);
	return rc;
}

int gateway_clients_inbox_delete(struct gateway_clients *c, int64_t row_id)
{
	sqlite3_stmt *s = use(c, ST_DELETE);
	sqlite3_bind_int64(s, 1, row_id);
	int rc = done(s);
	if (rc == 0 && sqlite3_changes(c->db) > 0)
		c->counters.inbox_delivered++;
	return rc;
}

int gateway_clients_inbox_purge(struct gateway_clients *c, int64_t now, uint64_t *purged)
{
	if (purged)
		*purged = 0;
	if (!c->max_age_s)
		return 0;
	sqlite3_stmt *s = use(c, ST_PURGE);
	sqlite3_bind_int64(s, 1, now - (int64_t)c->max_age_s);
	int rc = done(s);
	if (rc == 0) {
		uint64_t n = (uint64_t)sqlite3_changes(c->db);
		c->counters.inbox_purged += n;
		if (purged)
			*purged = n;
	}
	return rc;
}

int gateway_clients_begin(struct gateway_clients *c)
{
	return nym_db_begin(c->db);
}

int gateway_clients_commit(struct gateway_clients *c)
{
	return nym_db_commit(c->db);
}

void gateway_clients_counters(const struct gateway_clients *c, struct gateway_clients_counters *out)
{
	*out = c->counters;
}
