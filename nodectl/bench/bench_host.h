/* The host's CPU time counters (/proc/stat, all CPUs). Benchmarks read them before and
 * after a run: on a virtual machine, time the hypervisor gave to others (steal) slows
 * whatever was measured, and a reader of the figures should know. */
#ifndef NYM_NODECTL_BENCH_HOST_H
#define NYM_NODECTL_BENCH_HOST_H

struct bench_host_cpu {
	unsigned long long steal, total;
};

void bench_host_cpu_read(struct bench_host_cpu *c);
/* Percentage of CPU time stolen between two readings (0 when unknown). */
double bench_host_steal_pct(const struct bench_host_cpu *before, const struct bench_host_cpu *after);

#endif
