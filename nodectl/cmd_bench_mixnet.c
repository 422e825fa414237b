/* nym-node bench mixnet: options in, figures out (nodectl/bench/bench_mixnet measures). */
#include <jansson.h>
#include <stdio.h>

#include "cmd_util.h"
#include "commands.h"
#include "nodectl/bench/bench_mixnet.h"
#include "util/cli.h"

static void print_progress(const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static int print_json(const struct bench_mixnet_result *r, uint64_t workers)
{
	json_t *o = json_pack("{s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:f, s:f, s:f, s:I}", "delivered_pps",
			      r->delivered_pps, "sent", (json_int_t)r->sent, "delivered", (json_int_t)r->delivered,
			      "lost", (json_int_t)(r->sent - r->delivered), "p50_us", r->p50_us, "p99_us", r->p99_us,
			      "workers", (json_int_t)workers, "process_forward_us", r->process_forward_us,
			      "ceiling_pps", r->ceiling_pps, "latency_rate_pps", r->latency_rate_pps,
			      "latency_packets", (json_int_t)r->latency_packets);
	json_object_set_new(o, "node_cpu_us_per_packet_flood", json_real(r->node_cpu_us_per_packet_flood));
	json_object_set_new(o, "node_cpu_us_per_packet_paced", json_real(r->node_cpu_us_per_packet_paced));
	json_object_set_new(o, "node_rss_before_kib", json_integer((json_int_t)r->node_rss_before_kib));
	json_object_set_new(o, "node_rss_peak_kib", json_integer((json_int_t)r->node_rss_peak_kib));
	json_object_set_new(o, "node_rss_after_kib", json_integer((json_int_t)r->node_rss_after_kib));
	json_object_set_new(o, "host_steal_pct", json_real(r->host_steal_pct));
	json_object_set_new(o, "host_speed_spread_pct", json_real(r->host_speed_spread_pct));
	return cmd_print_json(o);
}

static void print_text(const struct bench_mixnet_result *r, uint64_t workers)
{
	printf("mixnode with %llu worker(s), regular packets, loopback TCP\n", (unsigned long long)workers);
	printf("  process_forward_us     %9.2f   ceiling %.0f packets/s\n", r->process_forward_us, r->ceiling_pps);
	printf("  delivered              %9.0f packets/s = %.2f x ceiling (%llu of %llu, %llu lost)\n",
	       r->delivered_pps, r->delivered_pps / r->ceiling_pps, (unsigned long long)r->delivered,
	       (unsigned long long)r->sent, (unsigned long long)(r->sent - r->delivered));
	printf("  added latency at %.0f packets/s: p50 %.0f us, p99 %.0f us (%zu packets)\n", r->latency_rate_pps,
	       r->p50_us, r->p99_us, r->latency_packets);
	printf("  node CPU per packet: %.1f us flooded, %.1f us paced (busy polling included)\n",
	       r->node_cpu_us_per_packet_flood, r->node_cpu_us_per_packet_paced);
	printf("  node memory: %.1f MiB before the flood, %.1f MiB at its peak, %.1f MiB after\n",
	       (double)r->node_rss_before_kib / 1024, (double)r->node_rss_peak_kib / 1024,
	       (double)r->node_rss_after_kib / 1024);
	printf("  host: %.1f %% of CPU time stolen by the hypervisor during the run%s\n", r->host_steal_pct,
	       r->host_steal_pct > 2 ? " (figures and ratios are unreliable)" : "");
	printf("  host: process_forward batches differed by %.0f %% of their median (10th to 90th percentile)%s\n",
	       r->host_speed_spread_pct,
	       r->host_speed_spread_pct > 20 ? " (an unsteady CPU: the latency at 0.8 x ceiling is unreliable)" : "");
}

int cmd_bench_mixnet(const char *context, int argc, char **argv)
{
	uint64_t seconds = 5, workers = 1;
	bool json = false;
	struct cli_option opts[] = {
		{ "seconds", CLI_U64, &seconds, false, "N  length of the throughput phase (default 5)" },
		{ "workers", CLI_U64, &workers, false, "N  worker threads of the node under test (default 1)" },
		{ "json", CLI_FLAG, &json, false, "   one JSON object instead of text" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct bench_mixnet_options o = { seconds, workers, json ? NULL : print_progress };
	struct bench_mixnet_result r;
	char error[BENCH_MIXNET_ERROR_MAX];
	if (bench_mixnet_run(&o, &r, error, sizeof(error))) {
		fprintf(stderr, "%s: %s\n", context, error);
		return EXIT_FAIL;
	}
	if (json)
		return print_json(&r, workers);
	print_text(&r, workers);
	return EXIT_OK;
}
