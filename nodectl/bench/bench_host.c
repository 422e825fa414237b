#include "nodectl/bench/bench_host.h"

#include <stdio.h>
#include <string.h>

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
