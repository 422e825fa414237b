/* nym-node bench sphinx: options in, figures out (nodectl/bench/bench_sphinx measures). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "cmd_util.h"
#include "commands.h"
#include "nodectl/bench/bench_sphinx.h"
#include "util/cli.h"

int cmd_bench_sphinx(const char *context, int argc, char **argv)
{
	uint64_t seconds = 4;
	bool json = false;
	struct cli_option opts[] = {
		{ "seconds", CLI_U64, &seconds, false, "N  total measuring time (default 4)" },
		{ "json", CLI_FLAG, &json, false, "   one JSON object instead of text" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (seconds == 0) {
		fprintf(stderr, "%s: --seconds must be at least 1\n", context);
		return EXIT_FAIL;
	}

	struct bench_sphinx_result r;
	rc = bench_sphinx_run(&(struct bench_sphinx_options){ .seconds = (double)seconds }, &r);
	if (rc == -ENOMEM) {
		fprintf(stderr, "%s: cannot set up the benchmark\n", context);
		return EXIT_FAIL;
	}
	if (rc) {
		fprintf(stderr, "%s: a Sphinx operation failed during the benchmark\n", context);
		return EXIT_FAIL;
	}
	if (json) {
		json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "x25519_us", r.x25519_us, "create_us",
				      r.create_us, "process_forward_us", r.process_forward_us, "process_final_us",
				      r.process_final_us, "forward_packets_per_second", r.forward_packets_per_second,
				      "host_steal_pct", r.host_steal_pct, "host_speed_spread_pct", r.host_speed_spread_pct);
		json_object_set_new(o, "x25519_batched_us", json_real(r.x25519_batched_us));
		json_object_set_new(o, "process_forward_batched_us", json_real(r.process_forward_batched_us));
		json_object_set_new(o, "x25519_vectorised", json_boolean(r.x25519_vectorised));
		return cmd_print_json(o);
	}
	printf("sphinx v%d, regular packets (%d bytes), 1 thread, medians of 20 ms batches taking turns for %llu s\n",
	       SPHINX_VERSION_DEFAULT, BENCH_SPHINX_PACKET_LEN, (unsigned long long)seconds);
	printf("  x25519 scalar multiplication %9.2f us\n", r.x25519_us);
	printf("  create (4 hops)              %9.2f us  = %5.2f x x25519\n", r.create_us, r.create_us / r.x25519_us);
	printf("  process forward hop          %9.2f us  = %5.2f x x25519\n", r.process_forward_us,
	       r.process_forward_us / r.x25519_us);
	printf("  process final hop            %9.2f us  = %5.2f x x25519\n", r.process_final_us,
	       r.process_final_us / r.x25519_us);
	printf("  forward packets per second per core: %.0f\n", r.forward_packets_per_second);
	printf("  in batches of %d (%s):\n", BENCH_SPHINX_BATCH,
	       r.x25519_vectorised ? "eight-lane AVX-512 IFMA ladder" : "no AVX-512 IFMA: one at a time");
	printf("    x25519 per operation       %9.2f us\n", r.x25519_batched_us);
	printf("    process forward per packet %9.2f us  = %5.2f x unbatched\n", r.process_forward_batched_us,
	       r.process_forward_batched_us / r.process_forward_us);
	printf("  host: %.1f %% of CPU time stolen by the hypervisor during the run%s\n", r.host_steal_pct,
	       r.host_steal_pct > 2 ? " (figures and ratios are unreliable)" : "");
	printf("  host: x25519 batches differed by %.0f %% of their median (10th to 90th percentile)%s\n",
	       r.host_speed_spread_pct, r.host_speed_spread_pct > 20 ? " (an unsteady CPU: figures are unreliable)" : "");
	return EXIT_OK;
}
