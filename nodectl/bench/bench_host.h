/* What the benchmarks share about the host: a scratch directory, and the CPU time counters
 * (/proc/stat, all CPUs). Benchmarks read them before and
 * after a run: on a virtual machine, time the hypervisor gave to others (steal) slows
 * whatever was measured, and a reader of the figures should know. */
#ifndef NYM_NODECTL_BENCH_HOST_H
#define NYM_NODECTL_BENCH_HOST_H

#include <stddef.h>

struct bench_host_cpu {
	unsigned long long steal, total;
};

void bench_host_cpu_read(struct bench_host_cpu *c);
/* Percentage of CPU time stolen between two readings (0 when unknown). */
double bench_host_steal_pct(const struct bench_host_cpu *before, const struct bench_host_cpu *after);

/* Creates a private scratch directory "$TMPDIR/NAME.XXXXXX" (/tmp without TMPDIR) into dir.
 * Returns 0 or a negative errno; error says where it failed. */
int bench_host_scratch_dir(char *dir, size_t len, const char *name, char *error, size_t error_len);
/* Removes a scratch directory and everything in it; returns 0 or a negative errno. */
int bench_host_scratch_remove(const char *dir);

#endif
