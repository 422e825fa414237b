/* nym-node debug link-client: parses, calls nodectl/debug/link_client and prints its JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "nodectl/cmd_util.h"
#include "nodectl/commands.h"
#include "nodectl/debug/link_client.h"
#include "util/base58.h"
#include "util/cli.h"
#include "util/hex.h"
#include "util/log.h"

int cmd_debug_link_client(const char *context, int argc, char **argv)
{
	const char *gw = NULL, *key = NULL, *seed = NULL, *book = NULL, *first_hop = "127.0.0.1:1789";
	uint64_t index = 0, tickets = 0, send = 0, wait_ms = 0, timeout_ms = 5000, skew_abs = 0;
	bool garbage = false, garbage_frame = false, oversize = false, no_auth = false, bad_sig = false;
	bool forge = false, replay = false, skew_neg = false;
	struct cli_option opts[] = {
		{ "gateway", CLI_STRING, &gw, true, "ADDR  the gateway's client port, IP:PORT or [IPv6]:PORT" },
		{ "gateway-noise-key", CLI_STRING, &key, true, "B58   its Noise key (the descriptor's noise_key)" },
		{ "identity-seed", CLI_STRING, &seed, false, "HEX   the client's Ed25519 seed (64 hex digits; default: fresh)" },
		{ "ticketbook", CLI_STRING, &book, false, "FILE  spend tickets from this book" },
		{ "ticket", CLI_U64, &index, false, "N     the first ticket to spend (default 0)" },
		{ "tickets", CLI_U64, &tickets, false, "N     how many to spend (default 1 with --ticketbook)" },
		{ "forge-ticket", CLI_FLAG, &forge, false, "      flip a bit of the ticket's signature" },
		{ "replay-ticket", CLI_FLAG, &replay, false, "      present the first ticket again on the same link" },
		{ "send", CLI_U64, &send, false, "N     SEND N regular entries (random packets)" },
		{ "first-hop", CLI_STRING, &first_hop, false, "ADDR  their first hop (default 127.0.0.1:1789)" },
		{ "wait-ms", CLI_U64, &wait_ms, false, "MS    then read what the gateway sends this long" },
		{ "timeout-ms", CLI_U64, &timeout_ms, false, "MS    wait this long for each answer (default 5000)" },
		{ "skew", CLI_U64, &skew_abs, false, "S     AUTH timestamp S seconds ahead" },
		{ "skew-back", CLI_FLAG, &skew_neg, false, "      ... behind instead" },
		{ "send-garbage", CLI_FLAG, &garbage, false, "      random bytes instead of a Noise handshake" },
		{ "garbage-frame", CLI_FLAG, &garbage_frame, false, "      after AUTH, a frame of an unknown type" },
		{ "oversize", CLI_FLAG, &oversize, false, "      after HELLO, a frame header beyond the type's bounds" },
		{ "no-auth", CLI_FLAG, &no_auth, false, "      SEND without authenticating" },
		{ "bad-signature", CLI_FLAG, &bad_sig, false, "      AUTH with a corrupted signature" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	static struct link_client_options o;
	if (net_addr_parse(&o.gateway, gw, -1) || net_addr_parse(&o.first_hop, first_hop, -1)) {
		fprintf(stderr, "%s: --gateway and --first-hop expect IP:PORT or [IPv6]:PORT\n", context);
		return EXIT_FAIL;
	}
	if (nym_base58_decode_exact(o.gateway_noise, 32, key)) {
		fprintf(stderr, "%s: --gateway-noise-key: not a base58 32-byte key\n", context);
		return EXIT_FAIL;
	}
	if (seed && nym_hex_decode_exact(o.identity_seed, 32, seed)) {
		fprintf(stderr, "%s: --identity-seed expects 64 hex digits\n", context);
		return EXIT_FAIL;
	}
	o.have_seed = seed != NULL;
	o.book_path = book;
	o.ticket_index = (size_t)index;
	o.tickets = (size_t)tickets;
	o.forge_ticket = forge;
	o.spend_twice = replay;
	o.send = (size_t)send;
	o.wait_ms = wait_ms;
	o.timeout_ms = timeout_ms;
	o.skew_s = skew_neg ? -(int64_t)skew_abs : (int64_t)skew_abs;
	o.abuse = garbage ? LINK_CLIENT_GARBAGE_RAW
		: garbage_frame ? LINK_CLIENT_GARBAGE_FRAME
		: oversize ? LINK_CLIENT_OVERSIZE
		: no_auth ? LINK_CLIENT_NO_AUTH
		: bad_sig ? LINK_CLIENT_BAD_SIGNATURE
			  : LINK_CLIENT_NONE;
	json_t *out;
	char err[512];
	rc = link_client_run(&o, &out, err, sizeof(err));
	nym_memzero(o.identity_seed, sizeof(o.identity_seed));
	if (rc) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	cmd_print_json(out);
	return EXIT_OK;
}
