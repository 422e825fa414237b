#include "gateway/gateway_clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mix/mix_surb_ack.h"
#include "store/db.h"
#include "util/log.h"

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
	/* 2: the ticket credits (gateway_clients_spend_ticket). A row is kept, applied, until its
	 * ticket expires: as long as the ticket store keeps the serial. */
	"CREATE TABLE credits ("
	"  serial BLOB PRIMARY KEY,"
	"  identity BLOB NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  expiry INTEGER NOT NULL,"
	"  applied INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX credits_pending ON credits (serial) WHERE applied = 0;"
	"CREATE INDEX credits_by_expiry ON credits (expiry);",
	/* 3: registered WireGuard peers (gateway_wg); their balances are rows of `balances` under
	 * gateway_wg's namespaced id of the key. */
	"CREATE TABLE wg_peers ("
	"  public_key BLOB PRIMARY KEY,"
	"  ipv4 BLOB NOT NULL UNIQUE,"
	"  ipv6 BLOB NOT NULL UNIQUE,"
	"  nonce INTEGER NOT NULL,"
	"  counter INTEGER NOT NULL," /* rx + tx last read from the device */
	"  last_active INTEGER NOT NULL,"
	"  registered INTEGER NOT NULL);",
};

enum {
	ST_BAL_GET,
	ST_BAL_SET,
	ST_PUT,
	ST_NEXT,
	ST_DELETE,
	ST_COUNT,
	ST_PURGE,
	ST_CR_PENDING,
	ST_CR_GET,
	ST_CR_APPLIED,
	ST_CR_DROP,
	ST_CR_LIST,
	ST_CR_PRUNE,
	ST_WG_PUT,
	ST_WG_DELETE,
	ST_WG_LIST,
	ST_N
};

static const char *const statements[ST_N] = {
	[ST_BAL_GET] = "SELECT bytes FROM balances WHERE identity = ?",
	[ST_BAL_SET] = ("INSERT INTO balances (identity, bytes, updated) VALUES (?, ?, ?) "
			"ON CONFLICT (identity) DO UPDATE SET bytes = excluded.bytes, updated = excluded.updated"),
	[ST_PUT] = "INSERT INTO inbox (identity, size, item, received) VALUES (?, ?, ?, ?)",
	[ST_NEXT] = "SELECT id, size, item, received FROM inbox WHERE identity = ? AND id > ? ORDER BY id LIMIT 1",
	[ST_DELETE] = "DELETE FROM inbox WHERE id = ?",
	[ST_COUNT] = "SELECT count(*) FROM inbox WHERE identity = ?",
	[ST_PURGE] = "DELETE FROM inbox WHERE received < ?",
	/* A pending credit left by a failed store is replaced: its serial was checked unspent. */
	[ST_CR_PENDING] = ("INSERT INTO credits (serial, identity, bytes, expiry, created) VALUES (?, ?, ?, ?, ?) "
			   "ON CONFLICT (serial) DO UPDATE SET identity = excluded.identity, bytes = excluded.bytes, "
			   "expiry = excluded.expiry, created = excluded.created WHERE applied = 0"),
	[ST_CR_GET] = "SELECT identity, bytes, applied FROM credits WHERE serial = ?",
	[ST_CR_APPLIED] = "UPDATE credits SET applied = 1 WHERE serial = ?",
	[ST_CR_DROP] = "DELETE FROM credits WHERE serial = ? AND applied = 0",
	[ST_CR_LIST] = "SELECT serial FROM credits WHERE applied = 0 LIMIT 64",
	[ST_CR_PRUNE] = "DELETE FROM credits WHERE applied = 1 AND expiry <= ?",
	[ST_WG_PUT] = ("INSERT OR REPLACE INTO wg_peers (public_key, ipv4, ipv6, nonce, counter, last_active, registered) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?)"),
	[ST_WG_DELETE] = "DELETE FROM wg_peers WHERE public_key = ?",
	[ST_WG_LIST] = "SELECT public_key, ipv4, ipv6, nonce, counter, last_active, registered FROM wg_peers",
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
	size_t plain = mix_packet_size_plaintext_len(out->size);
	if (len <= 0 || (size_t)len > sizeof(out->item)) {
		rc = -EBADMSG;
	} else if (out->size != MIX_PACKET_SIZE_ACK && plain > MIX_SURB_ACK_LEN && (size_t)len == plain - MIX_SURB_ACK_LEN) {
		/* Stored before items kept the ack bytes' place (plaintext - 405): today's layout
		 * with those bytes zero, the acknowledged one (docs/PROTOCOLS.md §8.6). */
		out->len = plain - MIX_SURB_ACK_HOP_LEN;
		memset(out->item, 0, out->len - (size_t)len);
		memcpy(out->item + (out->len - (size_t)len), sqlite3_column_blob(s, 2), (size_t)len);
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

/* ---- ticket credits ---- */

int gateway_clients_credit_pending(struct gateway_clients *c, const struct nym_ticket_msg *m,
				   const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, int64_t now)
{
	sqlite3_stmt *s = use(c, ST_CR_PENDING);
	sqlite3_bind_blob(s, 1, m->serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, id, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes);
	sqlite3_bind_int64(s, 4, m->expiry);
	sqlite3_bind_int64(s, 5, now);
	int rc = done(s);
	if (rc == 0 && sqlite3_changes(c->db) == 0)
		rc = -EALREADY;
	return rc;
}

/* Reads a credit: -ENOENT when there is none. */
static int credit_get(struct gateway_clients *c, const uint8_t serial[NYM_TICKET_SERIAL_LEN],
		      uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t *bytes, bool *applied)
{
	sqlite3_stmt *s = use(c, ST_CR_GET);
	sqlite3_bind_blob(s, 1, serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != GATEWAY_CLIENT_ID_LEN) {
			rc = -EBADMSG;
		} else {
			memcpy(id, sqlite3_column_blob(s, 0), GATEWAY_CLIENT_ID_LEN);
			*bytes = (uint64_t)sqlite3_column_int64(s, 1);
			*applied = sqlite3_column_int(s, 2) != 0;
			rc = 0;
		}
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : nym_db_errno(rc);
	}
	sqlite3_reset(s);
	return rc;
}

int gateway_clients_credit_apply(struct gateway_clients *c, const uint8_t serial[NYM_TICKET_SERIAL_LEN], int64_t now,
				 uint64_t *balance)
{
	uint8_t id[GATEWAY_CLIENT_ID_LEN];
	uint64_t bytes = 0, before = 0;
	bool applied = false;
	int rc = nym_db_begin(c->db);
	if (rc)
		return rc;
	if ((rc = credit_get(c, serial, id, &bytes, &applied)) != 0)
		goto fail;
	if (applied) {
		rc = -EALREADY;
		goto fail;
	}
	if ((rc = gateway_clients_balance_get(c, id, &before)) != 0)
		goto fail;
	uint64_t after = bytes > UINT64_MAX - before ? UINT64_MAX : before + bytes;
	if ((rc = gateway_clients_balance_set(c, id, after, now)) != 0)
		goto fail;
	sqlite3_stmt *s = use(c, ST_CR_APPLIED);
	sqlite3_bind_blob(s, 1, serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
	if ((rc = done(s)) != 0)
		goto fail;
	if ((rc = nym_db_commit(c->db)) != 0)
		return rc;
	if (balance)
		*balance = after > INT64_MAX ? INT64_MAX : after;
	return 0;
fail:
	nym_db_rollback(c->db);
	return rc;
}

int gateway_clients_credit_drop(struct gateway_clients *c, const uint8_t serial[NYM_TICKET_SERIAL_LEN])
{
	sqlite3_stmt *s = use(c, ST_CR_DROP);
	sqlite3_bind_blob(s, 1, serial, NYM_TICKET_SERIAL_LEN, SQLITE_STATIC);
	return done(s);
}

int gateway_clients_credit_pending_count(struct gateway_clients *c, uint64_t *n)
{
	return nym_db_query_u64(c->db, "SELECT count(*) FROM credits WHERE applied = 0", n);
}

int gateway_clients_credit_prune(struct gateway_clients *c, int64_t now)
{
	sqlite3_stmt *s = use(c, ST_CR_PRUNE);
	sqlite3_bind_int64(s, 1, now);
	return done(s);
}

int gateway_clients_credit_resolve(struct gateway_clients *c, struct nym_ticket_store *st, int64_t now,
				   uint64_t *applied, uint64_t *dropped)
{
	uint8_t serials[64][NYM_TICKET_SERIAL_LEN];
	uint64_t na = 0, nd = 0;
	int rc = 0;
	for (;;) {
		size_t n = 0;
		sqlite3_stmt *s = use(c, ST_CR_LIST);
		/* A batch first (the statement has LIMIT 64), settled after: no writes under a read. */
		while (n < 64 && (rc = sqlite3_step(s)) == SQLITE_ROW)
			if (sqlite3_column_bytes(s, 0) == NYM_TICKET_SERIAL_LEN)
				memcpy(serials[n++], sqlite3_column_blob(s, 0), NYM_TICKET_SERIAL_LEN);
		sqlite3_reset(s);
		rc = n == 64 || rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
		if (rc || n == 0)
			break;
		for (size_t i = 0; i < n && rc == 0; i++) {
			bool spent;
			if ((rc = nym_ticket_store_is_spent(st, serials[i], &spent)) != 0)
				break;
			if (spent) {
				rc = gateway_clients_credit_apply(c, serials[i], now, NULL);
				na += rc == 0;
			} else {
				rc = gateway_clients_credit_drop(c, serials[i]);
				nd += rc == 0;
			}
		}
		if (rc)
			break;
	}
	if (applied)
		*applied = na;
	if (dropped)
		*dropped = nd;
	return rc;
}

/* A result of nym_ticket_store_spend's refusals that is the gateway's failure, not the
 * ticket's, must not read as a refusal. */
static int not_a_refusal(int rc)
{
	switch (rc) {
	case -EINVAL:
	case -EPERM:
	case -EKEYEXPIRED:
	case -ENOKEY:
	case -EBADMSG:
	case -EALREADY:
		return -EIO;
	default:
		return rc;
	}
}

int gateway_clients_spend_ticket(struct gateway_clients *c, struct nym_ticket_store *st,
				 const struct nym_issuer_keyset *keys, const uint8_t *ticket, size_t len, int64_t now,
				 unsigned accepted_types, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes,
				 uint64_t *balance, struct nym_ticket_msg *msg)
{
	struct nym_ticket_msg m;
	if (!sqlite3_get_autocommit(c->db))
		return -EBUSY; /* each step must commit on its own */
	int rc = nym_ticket_store_check(st, keys, ticket, len, now, accepted_types, &m);
	if (rc)
		return rc;
	/* 1. The intent, keyed by the serial, committed before the serial is spent. */
	if ((rc = gateway_clients_credit_pending(c, &m, id, bytes, now)) != 0)
		return rc; /* -EALREADY: credited before (the serial was pruned from the store) */
	/* 2. The spend, committed. */
	rc = nym_ticket_store_record(st, &m, now);
	if (rc == -EALREADY) {
		/* Refused: nothing is credited. Should the drop fail, the next resolve drops it. */
		gateway_clients_credit_drop(c, m.serial);
		return rc;
	}
	if (rc) /* maybe recorded, maybe not: left pending for gateway_clients_credit_resolve */
		return not_a_refusal(rc);
	/* 3. The credit, applied once. Should it fail, the next resolve applies it. */
	if ((rc = gateway_clients_credit_apply(c, m.serial, now, balance)) != 0) {
		log_ratelimited(NYM_LOG_ERROR, "gateway clients: a spent ticket's credit stays pending: %s",
				strerror(-rc));
		return not_a_refusal(rc);
	}
	if (msg)
		*msg = m;
	return 0;
}

/* ---- WireGuard peers ---- */

static int64_t clamp64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int gateway_clients_wg_peer_put(struct gateway_clients *c, const struct gateway_clients_wg_peer *p)
{
	sqlite3_stmt *s = use(c, ST_WG_PUT);
	sqlite3_bind_blob(s, 1, p->public_key, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, p->ipv4, 4, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, p->ipv6, 16, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)p->nonce); /* bits kept as they are */
	sqlite3_bind_int64(s, 5, clamp64(p->counter));
	sqlite3_bind_int64(s, 6, p->last_active);
	sqlite3_bind_int64(s, 7, p->registered);
	return done(s);
}

int gateway_clients_wg_peer_delete(struct gateway_clients *c, const uint8_t public_key[GATEWAY_CLIENT_ID_LEN])
{
	sqlite3_stmt *s = use(c, ST_WG_DELETE);
	sqlite3_bind_blob(s, 1, public_key, GATEWAY_CLIENT_ID_LEN, SQLITE_STATIC);
	return done(s);
}

int gateway_clients_wg_peer_list(struct gateway_clients *c,
				 int (*each)(void *ctx, const struct gateway_clients_wg_peer *p), void *ctx)
{
	sqlite3_stmt *s = use(c, ST_WG_LIST);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct gateway_clients_wg_peer p;
		if (sqlite3_column_bytes(s, 0) != GATEWAY_CLIENT_ID_LEN || sqlite3_column_bytes(s, 1) != 4 ||
		    sqlite3_column_bytes(s, 2) != 16)
			continue; /* not ours: skipped */
		memcpy(p.public_key, sqlite3_column_blob(s, 0), GATEWAY_CLIENT_ID_LEN);
		memcpy(p.ipv4, sqlite3_column_blob(s, 1), 4);
		memcpy(p.ipv6, sqlite3_column_blob(s, 2), 16);
		p.nonce = (uint64_t)sqlite3_column_int64(s, 3);
		p.counter = (uint64_t)sqlite3_column_int64(s, 4);
		p.last_active = sqlite3_column_int64(s, 5);
		p.registered = sqlite3_column_int64(s, 6);
		if ((rc = each(ctx, &p)) != 0) {
			sqlite3_reset(s);
			return rc;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
}
