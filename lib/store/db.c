#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

int nym_db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

int nym_db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		log_error("sqlite: %s: %s", sqlite3_db_filename(db, "main"),
			  err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return nym_db_errno(rc);
	}
	return 0;
}

int nym_db_prepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, stmt, NULL);
	if (rc != SQLITE_OK) {
		log_error("sqlite: %s: preparing statement: %s", sqlite3_db_filename(db, "main"),
			  sqlite3_errmsg(db));
		*stmt = NULL;
		return nym_db_errno(rc);
	}
	return 0;
}

int nym_db_begin(sqlite3 *db)
{
	return nym_db_exec(db, "BEGIN IMMEDIATE");
}

int nym_db_commit(sqlite3 *db)
{
	int rc = nym_db_exec(db, "COMMIT");
	if (rc)
		nym_db_rollback(db);
	return rc;
}

void nym_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int nym_db_checkpoint_truncate(sqlite3 *db)
{
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return rc == SQLITE_OK ? 0 : nym_db_errno(rc);
}

static int user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(db, &st, "PRAGMA user_version");
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = nym_db_errno(rc);
	}
	sqlite3_finalize(st);
	return rc;
}

static int migrate(sqlite3 *db, const char *path, const char *const *migrations, size_t count)
{
	int version = 0;
	int rc = nym_db_begin(db);
	if (rc)
		return rc;
	rc = user_version(db, &version);
	if (rc)
		goto out;
	if (version < 0 || (size_t)version > count) {
		log_error("%s: schema version %d is newer than this program knows (%zu)", path,
			  version, count);
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	for (size_t v = (size_t)version; v < count; v++) {
		rc = nym_db_exec(db, migrations[v]);
		if (rc)
			goto out;
	}
	if ((size_t)version < count) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", count);
		rc = nym_db_exec(db, sql);
		if (rc)
			goto out;
	}
	return nym_db_commit(db);
out:
	nym_db_rollback(db);
	return rc;
}

int nym_db_open(sqlite3 **out, const char *path, const char *const *migrations, size_t count)
{
	sqlite3 *db = NULL;
	*out = NULL;
	/* Create the file ourselves so it never exists with a wider mode, even for a moment, but
	 * only when it does not exist yet: close() drops every POSIX lock this process holds on
	 * the file, including the SHARED lock another connection of ours keeps on it in WAL
	 * mode. Without that lock another process closing the database takes itself for the
	 * last user, checkpoints and deletes the -wal/-shm files under our open connections,
	 * which then keep reading and writing the deleted log and never see that process's
	 * later commits (and their own commits never reach the database file). */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EEXIST) {
		int err = errno;
		log_error("%s: cannot open: %s", path, strerror(err));
		return -err;
	}
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("%s: cannot open database: %s", path,
			  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		rc = nym_db_errno(rc);
		goto fail;
	}
	sqlite3_busy_timeout(db, NYM_DB_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	rc = nym_db_exec(db, "PRAGMA journal_mode = WAL");
	if (!rc)
		rc = nym_db_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
				     "PRAGMA secure_delete = ON");
	if (!rc)
		rc = migrate(db, path, migrations, count);
	if (rc)
		goto fail;
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return rc;
}

void nym_db_close(sqlite3 *db)
{
	if (db)
		sqlite3_close_v2(db);
}

int nym_db_watch_open(sqlite3 **out, const char *path)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("%s: cannot open database: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		*out = NULL;
		return nym_db_errno(rc);
	}
	sqlite3_busy_timeout(db, NYM_DB_BUSY_TIMEOUT_MS);
	*out = db;
	return 0;
}

int nym_db_data_version(sqlite3 *db, uint64_t *out)
{
	return nym_db_query_u64(db, "PRAGMA data_version", out);
}

int nym_db_query_u64(sqlite3 *db, const char *sql, uint64_t *out)
{
	sqlite3_stmt *s;
	int rc = nym_db_prepare(db, &s, sql);
	if (rc)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		rc = nym_db_errno(rc);
	}
	sqlite3_finalize(s);
	return rc;
}
