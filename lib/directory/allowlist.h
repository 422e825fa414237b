/* Admission to the directory (docs/PROTOCOLS.md §7.10): which node identities may register
 * when `authority.admission` is `allowlist`. The list lives in the registry's database
 * (table `admissions`, created by the registry's migrations), one row per (identity,
 * authority): each authority's own decisions, made by its operator with `nym-node authority
 * admit|revoke`, and the decisions of its peers, copied from their signed lists
 * (GET /v1/admissions).
 *
 * A node is admitted when at least one authority admits it and none revokes it: admitting
 * once, anywhere, is enough, and any authority can take a node out. The functions take the
 * registry's connection (nym_registry_db), so they run in its threads and transactions. */
#ifndef NYM_DIRECTORY_ALLOWLIST_H
#define NYM_DIRECTORY_ALLOWLIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

/* An SQL condition true when the identity in `col` is admitted. */
#define NYM_ALLOWLIST_ADMITTED_SQL(col)                                                                                \
	"(EXISTS (SELECT 1 FROM admissions a WHERE a.identity = " col " AND a.admitted = 1) AND "                   \
	"NOT EXISTS (SELECT 1 FROM admissions a WHERE a.identity = " col " AND a.admitted = 0))"

/* Most decisions one authority's list may hold (and so one body of GET /v1/admissions). */
#define NYM_ALLOWLIST_MAX 100000
#define NYM_ALLOWLIST_JSON_MAX (16u << 20)
#define NYM_BODY_LABEL_ADMISSIONS "admissions"

/* Records `authority`'s decision about `identity` (admit or revoke), replacing its earlier
 * one. -EDQUOT when the authority's list is full. */
int nym_allowlist_set(sqlite3 *db, const uint8_t identity[32], const uint8_t authority[32], bool admitted,
		      int64_t now);
/* Whether the identity is admitted (the rule above). */
int nym_allowlist_admitted(sqlite3 *db, const uint8_t identity[32], bool *admitted);

/* GET /v1/admissions: the authority's own decisions as canonical JSON,
 *   {"authority": B58, "decisions": [{"changed": T, "identity": B58, "state": "admitted"|"revoked"}, ...]}
 * in identity order. *out malloc'd. */
int nym_allowlist_json(sqlite3 *db, const uint8_t authority[32], char **out, size_t *len);
/* Replaces what we hold of `authority`'s decisions with its list (a body of the form above
 * whose signature the caller checked). -EINVAL when the body is malformed or names another
 * authority; nothing changes then. *count gets the decisions taken. */
int nym_allowlist_merge(sqlite3 *db, const uint8_t authority[32], const char *body, size_t len, size_t *count);

/* Every identity anyone decided about, for `nym-node authority list`:
 *   [{"identity": B58, "admitted": true|false, "decisions": [{"authority": B58, "state", "changed"}]}]
 * *out is a new JSON array. */
int nym_allowlist_list(sqlite3 *db, json_t **out);

#endif
