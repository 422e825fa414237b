/* A private network namespace for a unit test (Criterion forks per test, so the namespace
 * dies with the test's process): the host's own interfaces, routes, rules and nftables are
 * never touched. Needs root; tests skip without it. */
#ifndef NYM_TESTS_PRIVNET_H
#define NYM_TESTS_PRIVNET_H

#include <stdbool.h>
#include <stddef.h>

/* unshare(CLONE_NEWNET) and lo up; false when that is not possible (not root). */
bool test_privnet_enter(void);
/* Runs a shell command in the namespace; its stdout (and exit status) into out / the return. */
int test_privnet_run(const char *cmd, char *out, size_t cap);
/* Runs a command that must succeed (aborts the test otherwise). */
void test_privnet_sh(const char *cmd);

#endif
