/* nym-node debug mix-sink: listen where a route ends and report every packet that arrives,
 * one JSON line each ({"t_ns": monotonic arrival time, "size": tag, "rotation": byte, ...});
 * with --sphinx-key the packet is processed as a final hop and its destination, identifier
 * and message are shown. Ends after --count packets, --idle-timeout seconds without one
 * (once the first has come), --timeout seconds, or SIGINT/SIGTERM. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/secret.h"
#include "nodectl/debug/mix_sink.h"
#include "sphinx/sphinx_packet.h"
#include "util/cli.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/signals.h"

struct sink_report {
	bool process;
	uint8_t secret[32];
	uint8_t *scratch;
	uint64_t final_ok, final_bad;
};

static void report(void *ctx, const struct mix_frame *f, uint64_t arrival_ns)
{
	struct sink_report *r = ctx;
	json_t *line = json_pack("{s:I, s:i, s:i}", "t_ns", (json_int_t)arrival_ns, "size", f->header.size,
				 "rotation", f->header.key_rotation);
	if (r->process) {
		struct sphinx_processed out;
		memcpy(r->scratch, f->packet, f->packet_len);
		const uint8_t *msg;
		size_t msg_len;
		int rc = sphinx_packet_process(r->scratch, f->packet_len, r->secret, &out);
		if (rc == 0 && out.kind == SPHINX_HOP_FINAL &&
		    sphinx_packet_message(r->scratch, f->packet_len, &msg, &msg_len) == 0) {
			json_object_set_new(line, "kind", json_string("final"));
			json_object_set_new(line, "destination", cmd_json_hex(out.address, 32));
			json_object_set_new(line, "identifier", cmd_json_hex(out.identifier, 16));
			json_object_set_new(line, "message", cmd_json_hex(msg, msg_len));
			r->final_ok++;
		} else {
			json_object_set_new(line, "error", json_string(rc ? "does not process with this key" : "not a final hop"));
			r->final_bad++;
		}
	} else {
		json_object_set_new(line, "head", cmd_json_hex(f->packet, 32));
	}
	cmd_print_json(line);
}

int cmd_debug_mix_sink(const char *context, int argc, char **argv)
{
	const char *listen_text = NULL, *key_hex = NULL;
	uint64_t count = 0, idle_s = 0, timeout_s = 0;
	struct cli_option opts[] = {
		{ "listen", CLI_STRING, &listen_text, true, "ADDR  IP:PORT to listen on" },
		{ "sphinx-key", CLI_STRING, &key_hex, false, "HEX   process arrivals as final hops with this X25519 secret" },
		{ "count", CLI_U64, &count, false, "N     stop after N packets" },
		{ "idle-timeout", CLI_U64, &idle_s, false, "S     stop S seconds after the last packet" },
		{ "timeout", CLI_U64, &timeout_s, false, "S     stop after S seconds in any case" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct net_addr addr;
	if (net_addr_parse(&addr, listen_text, -1)) {
		fprintf(stderr, "%s: --listen expects IP:PORT or [IPv6]:PORT\n", context);
		return EXIT_FAIL;
	}
	static struct sink_report r;
	if (key_hex) {
		if (nym_hex_decode_exact(r.secret, 32, key_hex)) {
			fprintf(stderr, "%s: --sphinx-key must be 64 hex digits\n", context);
			return EXIT_FAIL;
		}
		r.process = true;
		r.scratch = malloc(MIX_PACKET_MAX_LEN);
	}
	static struct mix_sink sink;
	rc = mix_sink_open(&sink, &addr, report, &r);
	if (rc) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", context, listen_text, strerror(-rc));
		return EXIT_FAIL;
	}
	sigset_t sigs;
	nym_signals_take(&sigs, false);
	struct mix_sink_limits limits = { count, idle_s * NYM_NS_PER_SEC, timeout_s * NYM_NS_PER_SEC, &sigs };
	rc = mix_sink_serve(&sink, &limits);
	if (rc)
		fprintf(stderr, "%s: cannot serve %s: %s\n", context, listen_text, strerror(-rc));
	mix_sink_close(&sink);
	nym_memzero(r.secret, sizeof(r.secret));
	free(r.scratch);
	fprintf(stderr, "%s: %llu packets, %llu bad streams\n", context, (unsigned long long)atomic_load(&sink.frames),
		(unsigned long long)atomic_load(&sink.bad_streams));
	return rc ? EXIT_FAIL : EXIT_OK;
}
