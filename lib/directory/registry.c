#include "directory/registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sha256.h"
#include "directory/allowlist.h"
#include "store/db.h"
#include "topology/canonical.h"
#include "util/array.h"
#include "util/log.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE nodes ("
	"  identity BLOB PRIMARY KEY,"
	"  published INTEGER NOT NULL,"
	"  roles INTEGER NOT NULL,"
	"  description TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_announced INTEGER NOT NULL,"
	"  last_mix_ok INTEGER NOT NULL DEFAULT 0,"
	"  last_http_ok INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE TABLE votes ("
	"  epoch INTEGER NOT NULL,"
	"  authority BLOB NOT NULL,"
	"  body TEXT NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  PRIMARY KEY (epoch, authority)) WITHOUT ROWID;"
	"CREATE TABLE documents ("
	"  epoch INTEGER PRIMARY KEY,"
	"  digest BLOB NOT NULL,"
	"  body TEXT NOT NULL,"
	"  own INTEGER NOT NULL);"
	"CREATE TABLE signatures ("
	"  epoch INTEGER NOT NULL,"
	"  authority BLOB NOT NULL,"
	"  signature BLOB NOT NULL,"
	"  PRIMARY KEY (epoch, authority)) WITHOUT ROWID;",
	/* 2: admission (directory/allowlist.h) and how long each node has been reachable. */
	"ALTER TABLE nodes ADD COLUMN reachable_since INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE admissions ("
	"  identity BLOB NOT NULL,"
	"  authority BLOB NOT NULL,"
	"  admitted INTEGER NOT NULL,"
	"  changed INTEGER NOT NULL,"
	"  PRIMARY KEY (identity, authority)) WITHOUT ROWID;"
	"CREATE INDEX admissions_authority ON admissions (authority);"
	"CREATE INDEX nodes_eviction ON nodes (reachable_since, min(last_mix_ok, last_http_ok), last_announced);",
};

struct nym_registry {
	sqlite3 *db;
	struct nym_registry_config cfg;
};

void nym_registry_config_default(struct nym_registry_config *cfg)
{
	cfg->max_age_s = 86400;
	cfg->max_skew_s = 300;
	cfg->max_nodes = 4096;
	cfg->allowlist = false; /* the daemon sets it from authority.admission (allowlist by default) */
}

sqlite3 *nym_registry_db(struct nym_registry *r)
{
	return r->db;
}

/* Makes room for one more node: the one that has answered its probes least recently (never
 * first), as long as it is not answering now. -EDQUOT when every node answers. */
static int make_room(struct nym_registry *r)
{
	uint64_t count;
	int rc = nym_db_query_u64(r->db, "SELECT count(*) FROM nodes", &count);
	if (rc || count < r->cfg.max_nodes)
		return rc;
	sqlite3_stmt *st;
	if ((rc = nym_db_prepare(r->db, &st,
				 "DELETE FROM nodes WHERE identity = (SELECT identity FROM nodes WHERE reachable_since = 0 "
				 "ORDER BY min(last_mix_ok, last_http_ok), last_announced LIMIT 1)")))
		return rc;
	int step = sqlite3_step(st);
	rc = step != SQLITE_DONE ? nym_db_errno(step) : sqlite3_changes(r->db) ? 0 : -EDQUOT;
	sqlite3_finalize(st);
	return rc;
}

int nym_registry_open(struct nym_registry **out, const char *path, const struct nym_registry_config *cfg)
{
	struct nym_registry *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return -ENOMEM;
	if (cfg)
		r->cfg = *cfg;
	else
		nym_registry_config_default(&r->cfg);
	int rc = nym_db_open(&r->db, path, migrations, sizeof(migrations) / sizeof(migrations[0]));
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void nym_registry_close(struct nym_registry *r)
{
	if (!r)
		return;
	nym_db_close(r->db);
	free(r);
}

static int envelope_bytes(const struct nym_descriptor_signed *sd, char **out, size_t *len)
{
	json_t *j = nym_descriptor_signed_to_json(sd);
	if (!j)
		return -EINVAL;
	int rc = nym_canonical_encode(j, out, len);
	json_decref(j);
	return rc;
}

int nym_registry_submit(struct nym_registry *r, const struct nym_descriptor_signed *sd, int64_t now,
			enum nym_registry_outcome *outcome)
{
	const struct nym_descriptor *d = &sd->d;
	if (d->published < now - r->cfg.max_age_s || d->published > now + r->cfg.max_skew_s)
		return -ERANGE;
	bool admitted = true;
	int rc = r->cfg.allowlist ? nym_allowlist_admitted(r->db, d->identity, &admitted) : 0;
	if (rc)
		return rc;
	if (!admitted)
		return -EPERM;
	char *text;
	size_t len;
	if ((rc = envelope_bytes(sd, &text, &len)) != 0)
		return rc;
	sqlite3_stmt *get = NULL, *put = NULL;
	if ((rc = nym_db_begin(r->db)) != 0) {
		free(text);
		return rc;
	}
	if ((rc = nym_db_prepare(r->db, &get, "SELECT published, description FROM nodes WHERE identity = ?")))
		goto fail;
	sqlite3_bind_blob(get, 1, d->identity, 32, SQLITE_STATIC);
	int step = sqlite3_step(get);
	bool exists = step == SQLITE_ROW;
	if (!exists && step != SQLITE_DONE) {
		rc = nym_db_errno(step);
		goto fail;
	}
	if (exists) {
		int64_t published = sqlite3_column_int64(get, 0);
		const char *stored = (const char *)sqlite3_column_text(get, 1);
		size_t stored_len = (size_t)sqlite3_column_bytes(get, 1);
		bool same = stored && stored_len == len && memcmp(stored, text, len) == 0;
		if (published > d->published || (published == d->published && !same)) {
			rc = -ESTALE;
			goto fail;
		}
		if (same) { /* a repeat (or a replay) changes nothing at all */
			*outcome = NYM_REGISTRY_UNCHANGED;
			goto commit;
		}
	} else if ((rc = make_room(r)) != 0) {
		goto fail;
	}
	if ((rc = nym_db_prepare(r->db, &put,
				 "INSERT INTO nodes (identity, published, roles, description, first_seen, last_announced) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (identity) DO UPDATE SET "
				 "published = excluded.published, roles = excluded.roles, "
				 "description = excluded.description, last_announced = excluded.last_announced")))
		goto fail;
	sqlite3_bind_blob(put, 1, d->identity, 32, SQLITE_STATIC);
	sqlite3_bind_int64(put, 2, d->published);
	sqlite3_bind_int64(put, 3, d->roles);
	sqlite3_bind_text(put, 4, text, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(put, 5, now);
	if ((step = sqlite3_step(put)) != SQLITE_DONE) {
		rc = nym_db_errno(step);
		goto fail;
	}
	*outcome = exists ? NYM_REGISTRY_UPDATED : NYM_REGISTRY_ADDED;
commit:
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	free(text);
	return nym_db_commit(r->db);
fail:
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	free(text);
	nym_db_rollback(r->db);
	return rc;
}

static int answer(int *status, char **resp, size_t *resp_len, int code, json_t *body)
{
	*status = code;
	*resp = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!*resp)
		return -ENOMEM;
	*resp_len = strlen(*resp);
	return 0;
}

int nym_registry_handle_post(struct nym_registry *r, const char *body, size_t len, int64_t now, int *status,
			     char **resp, size_t *resp_len)
{
	struct nym_descriptor_signed sd;
	enum nym_registry_outcome outcome;
	int rc = len > NYM_REGISTRY_POST_MAX ? -EMSGSIZE : nym_descriptor_signed_decode(body, len, &sd);
	if (rc == 0)
		rc = nym_registry_submit(r, &sd, now, &outcome);
	const char *why;
	int code;
	switch (rc) {
	case 0: {
		static const char *const names[] = { "added", "updated", "unchanged" };
		char id[64];
		json_t *idj = nym_canonical_b58(sd.d.identity, 32);
		snprintf(id, sizeof(id), "%s", idj ? json_string_value(idj) : "");
		json_decref(idj);
		return answer(status, resp, resp_len, 200,
			      json_pack("{s:s, s:s, s:I}", "result", names[outcome], "identity", id, "published",
					(json_int_t)sd.d.published));
	}
	case -EMSGSIZE:
		code = 413, why = "description too large";
		break;
	case -EBADMSG:
		code = 401, why = "bad signature";
		break;
	case -ESTALE:
		code = 409, why = "a newer description of this node is registered";
		break;
	case -ERANGE:
		code = 400, why = "published time out of range";
		break;
	case -EPERM:
		code = 403, why = "not admitted to this directory (nym-node authority admit)";
		break;
	case -EDQUOT:
		code = 503, why = "registry full";
		break;
	case -EINVAL:
		code = 400, why = "malformed description";
		break;
	case -EBUSY:
		code = 503, why = "busy";
		break;
	default:
		code = 500, why = "internal error";
		break;
	}
	log_ratelimited(NYM_LOG_INFO, "registry: description refused (%d): %s", code, why);
	return answer(status, resp, resp_len, code, json_pack("{s:s}", "error", why));
}

int nym_registry_nodes_json(struct nym_registry *r, const uint8_t *after, size_t limit, char **out, size_t *len)
{
	static const uint8_t none[32];
	sqlite3_stmt *st = NULL;
	json_t *nodes = json_array(), *next = NULL;
	int rc = nodes ? nym_db_prepare(r->db, &st,
					"SELECT description, first_seen, last_announced, last_mix_ok, last_http_ok, identity "
					"FROM nodes WHERE identity > ?1 ORDER BY identity LIMIT ?2")
		       : -ENOMEM;
	int step = SQLITE_DONE;
	size_t listed = 0;
	if (!rc) {
		/* An empty blob sorts before every identity. */
		sqlite3_bind_blob(st, 1, after ? after : none, after ? 32 : 0, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)limit + 1); /* one more tells whether a page follows */
	}
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (listed == limit) {
			next = json_true(); /* replaced by the last identity listed below */
			break;
		}
		json_t *env = json_loadb((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
					 0, NULL);
		json_t *e = env ? json_pack("{s:o, s:I, s:I, s:I, s:I}", "node", env, "first_seen",
					    (json_int_t)sqlite3_column_int64(st, 1), "last_announced",
					    (json_int_t)sqlite3_column_int64(st, 2), "last_mix_ok",
					    (json_int_t)sqlite3_column_int64(st, 3), "last_http_ok",
					    (json_int_t)sqlite3_column_int64(st, 4))
				: NULL;
		if (!e || json_array_append_new(nodes, e))
			rc = -ENOMEM;
		listed++;
	}
	if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = nym_db_errno(step);
	sqlite3_finalize(st);
	if (!rc) {
		json_t *last = json_object_get(json_object_get(json_array_get(nodes, listed - 1), "node"), "description");
		json_t *o = json_pack("{s:o}", "nodes", nodes);
		nodes = NULL;
		if (o && next)
			json_object_set(o, "next", json_object_get(last, "identity"));
		*out = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		rc = *out ? 0 : -ENOMEM;
		if (!rc)
			*len = strlen(*out);
	}
	json_decref(next);
	json_decref(nodes);
	return rc;
}

int nym_registry_merge(struct nym_registry *r, const char *body, size_t len, int64_t now, size_t *added)
{
	*added = 0;
	if (len > NYM_REGISTRY_LIST_MAX)
		return -EMSGSIZE;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *nodes = json_object_get(j, "nodes");
	if (!json_is_array(nodes)) {
		json_decref(j);
		return -EINVAL;
	}
	int rc = 0;
	for (size_t i = 0; i < json_array_size(nodes) && i < NYM_TOPOLOGY_NODES_MAX && rc != -EBUSY; i++) {
		struct nym_descriptor_signed sd;
		enum nym_registry_outcome outcome;
		json_t *env = json_object_get(json_array_get(nodes, i), "node");
		/* Each description stands on its node's signature, whoever relays it. */
		if (!env || nym_descriptor_signed_from_json(env, &sd) != 0)
			continue;
		rc = nym_registry_submit(r, &sd, now, &outcome);
		if (rc == 0 && outcome != NYM_REGISTRY_UNCHANGED)
			(*added)++;
	}
	json_decref(j);
	return rc == -EBUSY ? rc : 0;
}

/* Rows of descriptions, parsed (and so checked again) on the way out. */
static int load_descriptions(sqlite3_stmt *st, struct nym_descriptor_signed **out, size_t *n)
{
	size_t cap = 0, count = 0;
	struct nym_descriptor_signed *list = NULL;
	int step, rc = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = nym_array_grow((void **)&list, &cap, count + 1, sizeof(*list))) != 0)
			break;
		if (nym_descriptor_signed_decode((const char *)sqlite3_column_text(st, 0),
						 (size_t)sqlite3_column_bytes(st, 0), &list[count]) == 0)
			count++;
	}
	if (!rc && step != SQLITE_DONE)
		rc = nym_db_errno(step);
	if (rc) {
		free(list);
		return rc;
	}
	*out = list;
	*n = count;
	return 0;
}

int nym_registry_all(struct nym_registry *r, struct nym_descriptor_signed **out, size_t *n)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int rc = nym_db_prepare(r->db, &st, "SELECT description FROM nodes ORDER BY identity");
	if (rc)
		return rc;
	rc = load_descriptions(st, out, n);
	sqlite3_finalize(st);
	return rc;
}

/* The probe's part of a stored description (verified when it was stored). */
static bool probe_target(const char *text, size_t len, struct nym_descriptor *d)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	json_t *desc = json_object_get(j, "description"), *ports = json_object_get(desc, "ports");
	const char *addr = json_string_value(json_array_get(json_object_get(desc, "addresses"), 0));
	json_int_t mix = json_integer_value(json_object_get(ports, "mix")),
		   http = json_integer_value(json_object_get(ports, "http"));
	bool ok = addr && strlen(addr) < NYM_DESCRIPTOR_ADDR_LEN && mix > 0 && mix < 65536 && http > 0 && http < 65536;
	if (ok) {
		snprintf(d->addresses[0], NYM_DESCRIPTOR_ADDR_LEN, "%s", addr);
		d->address_count = 1;
		d->mix_port = (uint16_t)mix;
		d->http_port = (uint16_t)http;
	}
	json_decref(j);
	return ok;
}

int nym_registry_probe_order(struct nym_registry *r, struct nym_descriptor **out, size_t *n)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int rc = nym_db_prepare(r->db, &st,
				r->cfg.allowlist ? "SELECT identity, description FROM nodes WHERE "
						   NYM_ALLOWLIST_ADMITTED_SQL("nodes.identity")
						   " ORDER BY reachable_since = 0, reachable_since, first_seen, identity"
						 : "SELECT identity, description FROM nodes "
						   "ORDER BY reachable_since = 0, reachable_since, first_seen, identity");
	if (rc)
		return rc;
	size_t cap = 0, count = 0;
	struct nym_descriptor *list = NULL;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = nym_array_grow((void **)&list, &cap, count + 1, sizeof(*list))) != 0)
			break;
		memset(&list[count], 0, sizeof(list[count]));
		if (sqlite3_column_bytes(st, 0) == 32 &&
		    probe_target((const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1),
				 &list[count])) {
			memcpy(list[count].identity, sqlite3_column_blob(st, 0), 32);
			count++;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = nym_db_errno(step);
	sqlite3_finalize(st);
	if (rc) {
		free(list);
		return rc;
	}
	*out = list;
	*n = count;
	return 0;
}

int nym_registry_reachable(struct nym_registry *r, int64_t since, struct nym_descriptor_signed **out, size_t *n)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int rc = nym_db_prepare(r->db, &st,
				r->cfg.allowlist ? "SELECT description FROM nodes WHERE last_mix_ok >= ?1 AND last_http_ok >= ?1 "
						   "AND " NYM_ALLOWLIST_ADMITTED_SQL("nodes.identity")
						   " ORDER BY reachable_since = 0, reachable_since, identity"
						 : "SELECT description FROM nodes WHERE last_mix_ok >= ?1 AND last_http_ok >= ?1 "
						   "ORDER BY reachable_since = 0, reachable_since, identity");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, since);
	rc = load_descriptions(st, out, n);
	sqlite3_finalize(st);
	return rc;
}

/* One statement with one integer parameter. */
static int exec_int(sqlite3 *db, const char *sql, int64_t v)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(db, &st, sql);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, v);
	int step = sqlite3_step(st);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : nym_db_errno(step);
}

int nym_registry_probe_results(struct nym_registry *r, const struct nym_registry_probe_outcome *o, size_t n,
			       int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc = nym_db_begin(r->db);
	if (rc)
		return rc;
	if ((rc = nym_db_prepare(r->db, &st,
				 "UPDATE nodes SET last_mix_ok = CASE WHEN ?2 THEN ?4 ELSE last_mix_ok END, "
				 "last_http_ok = CASE WHEN ?3 THEN ?4 ELSE last_http_ok END, "
				 "reachable_since = CASE WHEN ?2 AND ?3 THEN "
				 "  CASE WHEN reachable_since = 0 THEN ?4 ELSE reachable_since END ELSE 0 END "
				 "WHERE identity = ?1")))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, o[i].identity, 32, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, o[i].mix_ok);
		sqlite3_bind_int(st, 3, o[i].http_ok);
		sqlite3_bind_int64(st, 4, now);
		int step = sqlite3_step(st);
		if (step != SQLITE_DONE) {
			rc = nym_db_errno(step);
			goto fail;
		}
	}
	sqlite3_finalize(st);
	return nym_db_commit(r->db);
fail:
	sqlite3_finalize(st);
	nym_db_rollback(r->db);
	return rc;
}

int nym_registry_probe_result(struct nym_registry *r, const uint8_t identity[32], int64_t now, bool mix_ok,
			      bool http_ok)
{
	struct nym_registry_probe_outcome o = { identity, mix_ok, http_ok };
	return nym_registry_probe_results(r, &o, 1, now);
}

bool nym_registry_is_gateway(struct nym_registry *r, const uint8_t identity[32])
{
	sqlite3_stmt *st;
	if (nym_db_prepare(r->db, &st, "SELECT roles FROM nodes WHERE identity = ?"))
		return false;
	sqlite3_bind_blob(st, 1, identity, 32, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_ROW && (sqlite3_column_int64(st, 0) & NYM_ROLES_GATEWAY);
	sqlite3_finalize(st);
	return ok;
}

int nym_registry_prune(struct nym_registry *r, int64_t now, uint64_t keep_epoch)
{
	int rc = nym_db_begin(r->db);
	if (rc)
		return rc;
	if ((rc = exec_int(r->db, "DELETE FROM nodes WHERE last_announced < ?", now - r->cfg.max_age_s)) ||
	    (rc = exec_int(r->db, "DELETE FROM votes WHERE epoch < ?", (int64_t)keep_epoch)) ||
	    (rc = exec_int(r->db, "DELETE FROM documents WHERE epoch < ?", (int64_t)keep_epoch)) ||
	    (rc = exec_int(r->db, "DELETE FROM signatures WHERE epoch < ?", (int64_t)keep_epoch))) {
		nym_db_rollback(r->db);
		return rc;
	}
	return nym_db_commit(r->db);
}

int nym_registry_put_vote(struct nym_registry *r, const struct nym_vote *v, int64_t now)
{
	json_t *j = nym_vote_to_json(v);
	char *text;
	size_t len;
	int rc = j ? nym_canonical_encode(j, &text, &len) : -EINVAL;
	json_decref(j);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = nym_db_prepare(r->db, &st,
				 "INSERT OR IGNORE INTO votes (epoch, authority, body, received) VALUES (?, ?, ?, ?)"))) {
		free(text);
		return rc;
	}
	sqlite3_bind_int64(st, 1, (int64_t)v->epoch);
	sqlite3_bind_blob(st, 2, v->authority, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	int step = sqlite3_step(st);
	rc = step == SQLITE_DONE ? (sqlite3_changes(r->db) ? 0 : -EEXIST) : nym_db_errno(step);
	sqlite3_finalize(st);
	free(text);
	return rc;
}

int nym_registry_votes(struct nym_registry *r, uint64_t epoch, struct nym_vote **out, size_t *n)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int rc = nym_db_prepare(r->db, &st, "SELECT body FROM votes WHERE epoch = ? ORDER BY authority");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)epoch);
	struct nym_vote *list = calloc(NYM_AUTHORITIES_MAX, sizeof(*list));
	size_t count = 0;
	int step;
	if (!list)
		rc = -ENOMEM;
	while (!rc && count < NYM_AUTHORITIES_MAX && (step = sqlite3_step(st)) == SQLITE_ROW)
		if (nym_vote_decode((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
				    &list[count]) == 0)
			count++;
	sqlite3_finalize(st);
	if (rc)
		return rc;
	*out = list;
	*n = count;
	return 0;
}

size_t nym_registry_vote_count(struct nym_registry *r, uint64_t epoch)
{
	sqlite3_stmt *st;
	if (nym_db_prepare(r->db, &st, "SELECT count(*) FROM votes WHERE epoch = ?"))
		return 0;
	sqlite3_bind_int64(st, 1, (int64_t)epoch);
	size_t n = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return n;
}

int nym_registry_votes_json(struct nym_registry *r, uint64_t epoch, char **out, size_t *len)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(r->db, &st, "SELECT body FROM votes WHERE epoch = ? ORDER BY authority");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)epoch);
	json_t *arr = json_array();
	int step;
	while (arr && (step = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *v = json_loadb((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), 0,
				       NULL);
		if (v)
			json_array_append_new(arr, v);
	}
	sqlite3_finalize(st);
	json_t *o = arr ? json_pack("{s:I, s:o}", "epoch", (json_int_t)epoch, "votes", arr) : NULL;
	*out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!*out)
		return -ENOMEM;
	*len = strlen(*out);
	return 0;
}

int nym_registry_put_document(struct nym_registry *r, uint64_t epoch, const char *bytes, size_t len, bool own)
{
	uint8_t digest[32];
	nym_sha256(digest, bytes, len);
	sqlite3_stmt *get = NULL, *put = NULL, *del = NULL;
	int rc = nym_db_begin(r->db), step;
	if (rc)
		return rc;
	if ((rc = nym_db_prepare(r->db, &get, "SELECT digest FROM documents WHERE epoch = ?")))
		goto fail;
	sqlite3_bind_int64(get, 1, (int64_t)epoch);
	step = sqlite3_step(get);
	if (step == SQLITE_ROW && sqlite3_column_bytes(get, 0) == 32 &&
	    memcmp(sqlite3_column_blob(get, 0), digest, 32) == 0) {
		sqlite3_finalize(get);
		return nym_db_commit(r->db); /* the same document */
	}
	if ((rc = nym_db_prepare(r->db, &del, "DELETE FROM signatures WHERE epoch = ?")))
		goto fail;
	sqlite3_bind_int64(del, 1, (int64_t)epoch);
	if ((step = sqlite3_step(del)) != SQLITE_DONE) {
		rc = nym_db_errno(step);
		goto fail;
	}
	if ((rc = nym_db_prepare(r->db, &put,
				 "INSERT OR REPLACE INTO documents (epoch, digest, body, own) VALUES (?, ?, ?, ?)")))
		goto fail;
	sqlite3_bind_int64(put, 1, (int64_t)epoch);
	sqlite3_bind_blob(put, 2, digest, 32, SQLITE_STATIC);
	sqlite3_bind_text(put, 3, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int(put, 4, own);
	if ((step = sqlite3_step(put)) != SQLITE_DONE) {
		rc = nym_db_errno(step);
		goto fail;
	}
	sqlite3_finalize(get);
	sqlite3_finalize(del);
	sqlite3_finalize(put);
	return nym_db_commit(r->db);
fail:
	sqlite3_finalize(get);
	sqlite3_finalize(del);
	sqlite3_finalize(put);
	nym_db_rollback(r->db);
	return rc;
}

int nym_registry_document(struct nym_registry *r, uint64_t epoch, char **bytes, size_t *len, uint8_t digest[32],
			  bool *own)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(r->db, &st, "SELECT body, digest, own FROM documents WHERE epoch = ?");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)epoch);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (bytes) {
			*bytes = malloc(n + 1);
			if (*bytes) {
				memcpy(*bytes, sqlite3_column_text(st, 0), n);
				(*bytes)[n] = '\0';
				*len = n;
			} else {
				rc = -ENOMEM;
			}
		}
		if (digest && sqlite3_column_bytes(st, 1) == 32)
			memcpy(digest, sqlite3_column_blob(st, 1), 32);
		if (own)
			*own = sqlite3_column_int(st, 2) != 0;
	} else {
		rc = step == SQLITE_DONE ? -ENOENT : nym_db_errno(step);
	}
	sqlite3_finalize(st);
	return rc;
}

int nym_registry_latest_document(struct nym_registry *r, uint64_t at_most, uint64_t *epoch)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(r->db, &st, "SELECT max(epoch) FROM documents WHERE epoch <= ?");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)at_most);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*epoch = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = step == SQLITE_ROW ? -ENOENT : nym_db_errno(step);
	sqlite3_finalize(st);
	return rc;
}

int nym_registry_add_signature(struct nym_registry *r, uint64_t epoch, const struct nym_epoch_doc_signature *s)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(r->db, &st,
				"INSERT OR REPLACE INTO signatures (epoch, authority, signature) VALUES (?, ?, ?)");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)epoch);
	sqlite3_bind_blob(st, 2, s->authority, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, s->signature, NYM_ED25519_SIG_LEN, SQLITE_STATIC);
	int step = sqlite3_step(st);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : nym_db_errno(step);
}

int nym_registry_signatures(struct nym_registry *r, uint64_t epoch, struct nym_epoch_doc_signatures *out)
{
	sqlite3_stmt *st;
	memset(out, 0, sizeof(*out));
	int rc = nym_db_prepare(r->db, &st, "SELECT authority, signature FROM signatures WHERE epoch = ? "
					    "ORDER BY authority");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)epoch);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW && out->count < NYM_AUTHORITIES_MAX) {
		if (sqlite3_column_bytes(st, 0) != 32 || sqlite3_column_bytes(st, 1) != NYM_ED25519_SIG_LEN)
			continue;
		memcpy(out->sigs[out->count].authority, sqlite3_column_blob(st, 0), 32);
		memcpy(out->sigs[out->count].signature, sqlite3_column_blob(st, 1), NYM_ED25519_SIG_LEN);
		out->count++;
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : nym_db_errno(step);
}

int nym_registry_signed_document(struct nym_registry *r, uint64_t epoch, char **out, size_t *len)
{
	char *bytes;
	size_t n;
	struct nym_epoch_doc_signatures sigs;
	int rc = nym_registry_document(r, epoch, &bytes, &n, NULL, NULL);
	if (rc)
		return rc;
	rc = nym_registry_signatures(r, epoch, &sigs);
	if (!rc)
		rc = nym_epoch_doc_signed_encode(bytes, n, &sigs, out, len);
	free(bytes);
	return rc;
}

int nym_registry_stats(struct nym_registry *r, struct nym_registry_stats *st)
{
	int rc;
	if ((rc = nym_db_query_u64(r->db, "SELECT count(*) FROM nodes", &st->nodes)) ||
	    (rc = nym_db_query_u64(r->db, "SELECT count(*) FROM nodes WHERE roles & 6 != 0", &st->gateways)) ||
	    (rc = nym_db_query_u64(r->db, "SELECT count(*) FROM votes", &st->votes)) ||
	    (rc = nym_db_query_u64(r->db, "SELECT count(*) FROM documents", &st->documents)))
		return rc;
	return 0;
}
