/* One real mixnode process under load (nym-node bench mixnet): a node started from this
 * binary on loopback, flooded and then paced through a sink in the calling thread. */
#ifndef NYM_NODECTL_BENCH_MIXNET_H
#define NYM_NODECTL_BENCH_MIXNET_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MIXNET_ERROR_MAX 512

struct bench_mixnet_options {
	uint64_t seconds; /* length of the throughput phase, 1..120 */
	uint64_t workers; /* worker threads of the node under test, 1..64 */
	/* Called with a line of progress before each slow step (may be NULL). */
	void (*on_progress)(const char *line);
};

struct bench_mixnet_result {
	double process_forward_us; /* bench sphinx's forward hop, measured in the same run */
	double ceiling_pps;        /* workers x 1e6 / process_forward_us */
	/* phase 1, flooded */
	uint64_t sent, delivered;
	double delivered_pps;
	double node_cpu_us_per_packet_flood;
	uint64_t node_rss_before_kib, node_rss_peak_kib, node_rss_after_kib;
	/* phase 2, paced; latencies from the sender's write to the sink's read */
	double latency_rate_pps;
	size_t latency_packets;
	double p50_us, p99_us;
	double node_cpu_us_per_packet_paced;
	double host_steal_pct, host_speed_spread_pct;
};

/* Runs both phases. Returns 0, or a negative errno with a sentence in `error` (naming the
 * node's log when the node is to blame; its directory is kept then). */
int bench_mixnet_run(const struct bench_mixnet_options *options, struct bench_mixnet_result *result, char *error,
		     size_t error_len);

#endif
