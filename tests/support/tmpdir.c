#include "tmpdir.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"

void test_tmpdir(char *out, size_t cap)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, cap, "%s/nymtest.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(out))
		cr_assert_fail("mkdtemp %s failed", out);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void test_tmpdir_remove(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void test_path(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

int test_file_contains(const char *path, const void *needle, size_t len)
{
	uint8_t *data;
	size_t n;
	if (nym_file_read(path, 1u << 30, &data, &n) != 0)
		return 0;
	int found = len <= n && memmem(data, n, needle, len) != NULL;
	free(data);
	return found;
}
