#include "nodectl/bench/bench_host.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bench_host_cpu_read(struct bench_host_cpu *c)
{
	unsigned long long v[8] = { 0 };
	memset(c, 0, sizeof(*c));
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return;
	/* cpu user nice system idle iowait irq softirq steal ... */
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6], &v[7]) == 8) {
		for (int i = 0; i < 8; i++)
			c->total += v[i];
		c->steal = v[7];
	}
	fclose(f);
}

double bench_host_steal_pct(const struct bench_host_cpu *before, const struct bench_host_cpu *after)
{
	if (after->total <= before->total || after->steal < before->steal)
		return 0;
	return 100.0 * (double)(after->steal - before->steal) / (double)(after->total - before->total);
}

int bench_host_scratch_dir(char *dir, size_t len, const char *name, char *error, size_t error_len)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(dir, len, "%s/%s.XXXXXX", tmp, name) >= len) {
		snprintf(error, error_len, "the scratch directory's path in %s is too long", tmp);
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dir)) {
		int e = errno;
		snprintf(error, error_len, "cannot create a scratch directory in %s: %s", tmp, strerror(e));
		return -e;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int bench_host_scratch_remove(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -errno;
}
