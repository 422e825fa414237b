/* SQLite for durable state: every database of the project is opened here, in WAL mode with
 * synchronous=FULL (a commit is on disk before it returns, so nothing acknowledged after a
 * commit is lost to a crash or power cut), a busy timeout, foreign keys and secure_delete on,
 * and its schema brought up to date by numbered migrations recorded in user_version.
 *
 * A connection belongs to one thread at a time. Writers take the lock up front
 * (nym_db_begin: BEGIN IMMEDIATE), so two connections never deadlock escalating a read
 * transaction to a write. */
#ifndef NYM_STORE_DB_H
#define NYM_STORE_DB_H

#include <sqlite3.h>
#include <stdint.h>
#include <stddef.h>

#define NYM_DB_BUSY_TIMEOUT_MS 5000

/* migrations[i] takes the schema from version i to i+1; the database ends at version count.
 * A database newer than the code is refused (-EPROTONOSUPPORT). The file is created with mode
 * 0600. Returns 0 or a negative errno; on error *out is NULL and the reason is logged. */
int nym_db_open(sqlite3 **out, const char *path, const char *const *migrations, size_t count);
void nym_db_close(sqlite3 *db);

int nym_db_exec(sqlite3 *db, const char *sql);
int nym_db_begin(sqlite3 *db);	/* BEGIN IMMEDIATE */
int nym_db_commit(sqlite3 *db); /* on failure the transaction is rolled back */
void nym_db_rollback(sqlite3 *db);

/* Prepares a statement; logs and maps the error on failure. */
int nym_db_prepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql);

/* Maps an SQLite result code to a negative errno: BUSY/LOCKED -EBUSY, FULL -ENOSPC,
 * CONSTRAINT -EEXIST, NOMEM -ENOMEM, CORRUPT/NOTADB -EBADMSG, CANTOPEN/PERM/READONLY -EACCES,
 * anything else -EIO. */
int nym_db_errno(int sqlite_rc);

/* Runs a query without parameters that yields one integer (a count) into *out.
 * Returns 0 or a negative errno. */
int nym_db_query_u64(sqlite3 *db, const char *sql, uint64_t *out);

/* A read-only connection for nym_db_data_version, usable from any thread at once (SQLite's
 * own mutex serialises it): a cheap way to learn whether anything changed, so an answer
 * built from the database can be reused until it does. The file must exist. */
int nym_db_watch_open(sqlite3 **out, const char *path);
/* A number that changes whenever another connection has committed to the database since
 * the last call on this connection (PRAGMA data_version). */
int nym_db_data_version(sqlite3 *db, uint64_t *out);

/* Truncates the write-ahead log after a checkpoint, so pages that held deleted secrets do not
 * linger in it. */
int nym_db_checkpoint_truncate(sqlite3 *db);

#endif
