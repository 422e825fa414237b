/* Helpers shared by nym-node's commands: JSON output, hex arguments, and the host's stolen
 * CPU time for benchmarks. */
#ifndef NYM_NODECTL_CMD_UTIL_H
#define NYM_NODECTL_CMD_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bytes {
	uint8_t *data;
	size_t len;
};

/* Prints a JSON value on one line to stdout and releases it; returns the exit status. */
int cmd_print_json(json_t *value);

/* A JSON string holding the lowercase hex of the bytes. */
json_t *cmd_json_hex(const uint8_t *data, size_t len);

/* Decodes a hex argument ("-" reads the hex from stdin) into a fresh buffer. Prints an error
 * naming the option and returns -EINVAL on bad input. */
int cmd_read_hex_arg(const char *context, const char *option, const char *arg, struct bytes *out);

/* The host's CPU time counters (/proc/stat, all CPUs). Benchmarks read them before and
 * after a run: on a virtual machine, time the hypervisor gave to others (steal) slows
 * whatever was measured, and a reader of the figures should know. */
struct cmd_host_cpu {
	unsigned long long steal, total;
};

void cmd_host_cpu_read(struct cmd_host_cpu *c);
/* Percentage of CPU time stolen between two readings (0 when unknown). */
double cmd_host_steal_pct(const struct cmd_host_cpu *before, const struct cmd_host_cpu *after);

#endif
