#include "directory/allowlist.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "topology/canonical.h"
#include "util/base58.h"

int nym_allowlist_set(sqlite3 *db, const uint8_t identity[32], const uint8_t authority[32], bool admitted,
		      int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc = nym_db_begin(db), step;
	if (rc)
		return rc;
	/* A new row must fit under the cap; changing a decision always may. */
	if ((rc = nym_db_prepare(db, &st,
				 "SELECT count(*), sum(identity = ?2) FROM admissions WHERE authority = ?1")))
		goto fail;
	sqlite3_bind_blob(st, 1, authority, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, identity, 32, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		rc = nym_db_errno(step);
		goto fail;
	}
	if (sqlite3_column_int64(st, 1) == 0 && sqlite3_column_int64(st, 0) >= NYM_ALLOWLIST_MAX) {
		rc = -EDQUOT;
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = nym_db_prepare(db, &st,
				 "INSERT INTO admissions (identity, authority, admitted, changed) VALUES (?1, ?2, ?3, ?4) "
				 "ON CONFLICT (identity, authority) DO UPDATE SET admitted = excluded.admitted, "
				 "changed = excluded.changed")))
		goto fail;
	sqlite3_bind_blob(st, 1, identity, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, authority, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, admitted);
	sqlite3_bind_int64(st, 4, now);
	if ((step = sqlite3_step(st)) != SQLITE_DONE) {
		rc = nym_db_errno(step);
		goto fail;
	}
	sqlite3_finalize(st);
	return nym_db_commit(db);
fail:
	sqlite3_finalize(st);
	nym_db_rollback(db);
	return rc;
}

int nym_allowlist_admitted(sqlite3 *db, const uint8_t identity[32], bool *admitted)
{
	sqlite3_stmt *st;
	*admitted = false;
	int rc = nym_db_prepare(db, &st, "SELECT " NYM_ALLOWLIST_ADMITTED_SQL("?1"));
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, identity, 32, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*admitted = sqlite3_column_int(st, 0) != 0;
	else
		rc = nym_db_errno(step);
	sqlite3_finalize(st);
	return rc;
}

static const char *state_name(bool admitted)
{
	return admitted ? "admitted" : "revoked";
}

int nym_allowlist_json(sqlite3 *db, const uint8_t authority[32], char **out, size_t *len)
{
	sqlite3_stmt *st;
	json_t *list = json_array();
	int rc = list ? nym_db_prepare(db, &st,
				       "SELECT identity, admitted, changed FROM admissions WHERE authority = ? "
				       "ORDER BY identity")
		      : -ENOMEM;
	if (rc) {
		json_decref(list);
		return rc;
	}
	sqlite3_bind_blob(st, 1, authority, 32, SQLITE_STATIC);
	int step;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32)
			continue;
		json_t *id = nym_canonical_b58(sqlite3_column_blob(st, 0), 32);
		json_t *e = id ? json_pack("{s:I, s:o, s:s}", "changed", (json_int_t)sqlite3_column_int64(st, 2),
					   "identity", id, "state", state_name(sqlite3_column_int(st, 1)))
			       : NULL;
		if (!e || json_array_append_new(list, e))
			rc = -ENOMEM;
	}
	if (!rc && step != SQLITE_DONE)
		rc = nym_db_errno(step);
	sqlite3_finalize(st);
	if (rc) {
		json_decref(list);
		return rc;
	}
	/* "o" takes over both references, and drops them when packing fails. */
	json_t *o = json_pack("{s:o, s:o}", "authority", nym_canonical_b58(authority, 32), "decisions", list);
	if (!o)
		return -ENOMEM;
	rc = nym_canonical_encode(o, out, len);
	json_decref(o);
	return rc;
}

int nym_allowlist_merge(sqlite3 *db, const uint8_t authority[32], const char *body, size_t len, size_t *count)
{
	*count = 0;
	json_t *j;
	if (len > NYM_ALLOWLIST_JSON_MAX || nym_canonical_parse(body, len, NYM_ALLOWLIST_JSON_MAX, &j))
		return -EINVAL;
	uint8_t who[32];
	json_t *list = json_object_get(j, "decisions");
	if (json_object_size(j) != 2 || !json_is_array(list) || json_array_size(list) > NYM_ALLOWLIST_MAX ||
	    nym_base58_decode_exact(who, 32, json_string_value(json_object_get(j, "authority")) ?: "") ||
	    memcmp(who, authority, 32) != 0) {
		json_decref(j);
		return -EINVAL;
	}
	/* Checked whole before anything is written, so a bad list changes nothing. */
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		const char *state = json_string_value(json_object_get(e, "state"));
		uint8_t id[32];
		if (json_object_size(e) != 3 || !json_is_integer(json_object_get(e, "changed")) || !state ||
		    (strcmp(state, "admitted") != 0 && strcmp(state, "revoked") != 0) ||
		    nym_base58_decode_exact(id, 32, json_string_value(json_object_get(e, "identity")) ?: "")) {
			json_decref(j);
			return -EINVAL;
		}
	}
	sqlite3_stmt *del = NULL, *put = NULL;
	int rc = nym_db_begin(db), step;
	if (rc)
		goto out;
	if ((rc = nym_db_prepare(db, &del, "DELETE FROM admissions WHERE authority = ?")) ||
	    (rc = nym_db_prepare(db, &put,
				 "INSERT OR REPLACE INTO admissions (identity, authority, admitted, changed) "
				 "VALUES (?, ?, ?, ?)")))
		goto fail;
	sqlite3_bind_blob(del, 1, authority, 32, SQLITE_STATIC);
	if ((step = sqlite3_step(del)) != SQLITE_DONE) {
		rc = nym_db_errno(step);
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		uint8_t id[32];
		nym_base58_decode_exact(id, 32, json_string_value(json_object_get(e, "identity")));
		sqlite3_reset(put);
		sqlite3_bind_blob(put, 1, id, 32, SQLITE_TRANSIENT);
		sqlite3_bind_blob(put, 2, authority, 32, SQLITE_STATIC);
		sqlite3_bind_int(put, 3, strcmp(json_string_value(json_object_get(e, "state")), "admitted") == 0);
		sqlite3_bind_int64(put, 4, json_integer_value(json_object_get(e, "changed")));
		if ((step = sqlite3_step(put)) != SQLITE_DONE) {
			rc = nym_db_errno(step);
			goto fail;
		}
	}
	sqlite3_finalize(del);
	sqlite3_finalize(put);
	rc = nym_db_commit(db);
	if (!rc)
		*count = json_array_size(list);
	goto out;
fail:
	sqlite3_finalize(del);
	sqlite3_finalize(put);
	nym_db_rollback(db);
out:
	json_decref(j);
	return rc;
}

int nym_allowlist_list(sqlite3 *db, json_t **out)
{
	sqlite3_stmt *st;
	json_t *list = json_array(), *cur = NULL;
	uint8_t cur_id[32];
	int rc = list ? nym_db_prepare(db, &st,
				       "SELECT o.identity, o.authority, o.admitted, o.changed, "
				       NYM_ALLOWLIST_ADMITTED_SQL("o.identity") " FROM admissions o ORDER BY o.identity, o.authority")
		      : -ENOMEM;
	if (rc) {
		json_decref(list);
		return rc;
	}
	int step;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32 || sqlite3_column_bytes(st, 1) != 32)
			continue;
		const uint8_t *id = sqlite3_column_blob(st, 0);
		if (!cur || memcmp(cur_id, id, 32) != 0) {
			memcpy(cur_id, id, 32);
			cur = json_pack("{s:o, s:b, s:[]}", "identity", nym_canonical_b58(id, 32), "admitted",
					sqlite3_column_int(st, 4), "decisions");
			if (!cur || json_array_append_new(list, cur)) {
				rc = -ENOMEM;
				break;
			}
		}
		json_t *d = json_pack("{s:o, s:s, s:I}", "authority", nym_canonical_b58(sqlite3_column_blob(st, 1), 32),
				      "state", state_name(sqlite3_column_int(st, 2)), "changed",
				      (json_int_t)sqlite3_column_int64(st, 3));
		if (!d || json_array_append_new(json_object_get(cur, "decisions"), d))
			rc = -ENOMEM;
	}
	if (!rc && step != SQLITE_DONE)
		rc = nym_db_errno(step);
	sqlite3_finalize(st);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}
