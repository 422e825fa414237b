/* A peer's admission list (GET /v1/admissions body) merged into a registry: anything the
 * merge takes must come back out, re-encoded, as a list that merges to the same thing, and a
 * refused list must change nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directory/allowlist.h"
#include "directory/registry.h"
#include "fuzz.h"
#include "util/base58.h"
#include "util/log.h"

static struct nym_registry *reg;
static uint8_t authority[32];
static char dir[256], path[300];

/* The database and its WAL files live in a directory of their own, removed at exit (libFuzzer
 * and the replay driver both end with exit), so runs leave nothing in the temporary folder. */
static void remove_database(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[320];
	nym_registry_close(reg);
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

void fuzz_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fuzz_allowlist.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/registry.db", dir);
	nym_log_set_level(NYM_LOG_ERROR);
	if (nym_registry_open(&reg, path, NULL))
		abort();
	atexit(remove_database);
	/* The key the seeds name: base58 "11111111111111111111111111111111" is 32 zero bytes. */
	memset(authority, 0, sizeof(authority));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sqlite3 *db = nym_registry_db(reg);
	char *before, *after, *again;
	size_t blen, alen, glen, taken;
	if (nym_allowlist_json(db, authority, &before, &blen))
		abort();
	int rc = nym_allowlist_merge(db, authority, (const char *)data, size, &taken);
	if (nym_allowlist_json(db, authority, &after, &alen))
		abort();
	if (rc) {
		if (alen != blen || memcmp(before, after, blen) != 0)
			abort(); /* refused, yet changed */
	} else {
		/* What we serve of it merges back to itself. */
		if (nym_allowlist_merge(db, authority, after, alen, &taken) || nym_allowlist_json(db, authority, &again, &glen) ||
		    glen != alen || memcmp(again, after, alen) != 0)
			abort();
		free(again);
	}
	free(before);
	free(after);
	return 0;
}
