#include "privnet.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

bool test_privnet_enter(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		return false;
	return system("ip link set lo up") == 0;
}

int test_privnet_run(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f, "popen %s", cmd);
	size_t n = 0;
	if (out && cap) {
		n = fread(out, 1, cap - 1, f);
		out[n] = '\0';
	} else {
		char sink[512];
		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void test_privnet_sh(const char *cmd)
{
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "command failed: %s", cmd);
}
