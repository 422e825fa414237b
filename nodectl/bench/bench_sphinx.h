/* The cost of Sphinx against the curve arithmetic it cannot avoid (nym-node bench sphinx).
 * Single-threaded, in the calling process. */
#ifndef NYM_NODECTL_BENCH_SPHINX_H
#define NYM_NODECTL_BENCH_SPHINX_H

#include <stdbool.h>

#include "crypto/x25519_batch.h"
#include "sphinx/sphinx_packet.h"

#define BENCH_SPHINX_PAYLOAD_LEN 2065 /* a regular packet's payload */
#define BENCH_SPHINX_PACKET_LEN (SPHINX_HEADER_LEN + BENCH_SPHINX_PAYLOAD_LEN)
#define BENCH_SPHINX_HOPS 4           /* three mix layers and the exit gateway */
#define BENCH_SPHINX_BATCH NYM_X25519_LANES /* what a node takes from one receive at a time */

struct bench_sphinx_options {
	double seconds; /* total measuring time */
};

/* Medians of 20 ms batches, in microseconds per call (batched figures per operation). */
struct bench_sphinx_result {
	double x25519_us, create_us, process_forward_us, process_final_us;
	double x25519_batched_us, process_forward_batched_us;
	double forward_packets_per_second;
	bool x25519_vectorised;
	double host_steal_pct;
	double host_speed_spread_pct; /* how much the x25519 batches differed, % of their median */
};

/* Returns 0, -ENOMEM when the benchmark could not be set up, or -EIO when a Sphinx operation
 * failed during it. */
int bench_sphinx_run(const struct bench_sphinx_options *options, struct bench_sphinx_result *result);

/* Median microseconds to process one forward hop of a regular packet, or -1 on failure;
 * spread_pct gets how much its 20 ms batches differed (10th to 90th percentile, % of median). */
double bench_sphinx_forward_us(double seconds, double *spread_pct);

#endif
