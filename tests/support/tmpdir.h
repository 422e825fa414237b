/* Scratch directories for tests that need files (databases, ticketbooks). */
#ifndef NYM_TESTS_TMPDIR_H
#define NYM_TESTS_TMPDIR_H

#include <stddef.h>
#include <stdint.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); aborts the test on failure. */
void test_tmpdir(char *out, size_t cap);
/* Removes it and everything in it. */
void test_tmpdir_remove(const char *dir);
/* "dir/name" into out. */
void test_path(char *out, size_t cap, const char *dir, const char *name);
/* Whether `needle` occurs in the file (a missing file holds nothing). */
int test_file_contains(const char *path, const void *needle, size_t len);

#endif
