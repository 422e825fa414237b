/* nym-node bench transport: options in, figures out (nodectl/bench/bench_transport measures). */
#include <jansson.h>
#include <stdio.h>

#include "cmd_util.h"
#include "commands.h"
#include "nodectl/bench/bench_transport.h"
#include "util/cli.h"

int cmd_bench_transport(const char *context, int argc, char **argv)
{
	uint64_t seconds = 1;
	bool json = false;
	struct cli_option opts[] = {
		{ "seconds", CLI_U64, &seconds, false, "N  time per measurement (default 1)" },
		{ "json", CLI_FLAG, &json, false, "   one JSON object on stdout" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (seconds == 0 || seconds > 600) {
		fprintf(stderr, "%s: --seconds must be between 1 and 600\n", context);
		return EXIT_FAIL;
	}
	struct bench_transport_result r;
	if (bench_transport_run(&(struct bench_transport_options){ .seconds = (double)seconds }, &r)) {
		fprintf(stderr, "%s: a measurement failed\n", context);
		return EXIT_FAIL;
	}
	if (json) {
		json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "frame_decode_ns", r.frame_decode_ns,
				      "frame_decode_gbps", r.frame_decode_gbps, "x25519_us", r.x25519_us,
				      "noise_handshake_us", r.noise_handshake_us, "noise_frame_us", r.noise_frame_us,
				      "noise_bulk_gbps", r.noise_bulk_gbps, "reassembly_mbps", r.reassembly_mbps);
		if (cmd_print_json(o) != EXIT_OK) {
			fprintf(stderr, "%s: a measurement failed\n", context);
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	printf("frame decode (regular, 64 KiB reads)  %8.1f ns/frame  %6.2f GB/s\n", r.frame_decode_ns,
	       r.frame_decode_gbps);
	printf("x25519 (one scalar multiplication)    %8.1f us\n", r.x25519_us);
	printf("noise handshake (both sides)          %8.1f us  (%.2f x25519)\n", r.noise_handshake_us,
	       r.noise_handshake_us / r.x25519_us);
	printf("noise seal+open, one 2417-byte frame  %8.2f us\n", r.noise_frame_us);
	printf("noise seal+open, 65519-byte frames    %8.2f GB/s\n", r.noise_bulk_gbps);
	printf("fragment+reassemble 1 MiB, shuffled   %8.1f MB/s\n", r.reassembly_mbps);
	return EXIT_OK;
}
