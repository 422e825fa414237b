/* nym-node debug wg-register: parses, calls nodectl/debug/wg_register and prints its JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "nodectl/cmd_util.h"
#include "nodectl/commands.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"
#include "nodectl/debug/wg_register.h"
#include "util/base58.h"
#include "util/cli.h"
#include "util/hex.h"
#include "wg/wg_conf.h"

int cmd_debug_wg_register(const char *context, int argc, char **argv)
{
	const char *gw = NULL, *key = NULL, *priv = NULL, *book = NULL;
	uint64_t index = 0, timeout_ms = 5000;
	bool forge = false, query = false, print_ticket = false;
	struct cli_option opts[] = {
		{ "gateway", CLI_STRING, &gw, true, "ADDR  the gateway's client port, IP:PORT or [IPv6]:PORT" },
		{ "gateway-noise-key", CLI_STRING, &key, true, "B58   its Noise key (the descriptor's noise_key)" },
		{ "private-key", CLI_STRING, &priv, false, "B64   the client's WireGuard private key (default: fresh, printed)" },
		{ "ticketbook", CLI_STRING, &book, false, "FILE  pay WG_FINAL with a ticket of this book (wg-entry / wg-exit)" },
		{ "ticket", CLI_U64, &index, false, "N     which ticket of the book (default 0)" },
		{ "bad-mac", CLI_FLAG, &forge, false, "      flip a bit of the WG_FINAL's MAC" },
		{ "query", CLI_FLAG, &query, false, "      WG_QUERY the balance after registering" },
		{ "print-ticket", CLI_FLAG, &print_ticket, false,
		  "      only print {\"ticket\": HEX} of --ticketbook/--ticket (a metadata top-up body)" },
		{ "timeout-ms", CLI_U64, &timeout_ms, false, "MS    wait this long for each answer (default 5000)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (print_ticket) {
		struct nym_ticketbook *tb = NULL;
		uint8_t t[NYM_TICKET_MAX_LEN];
		static char hex[2 * NYM_TICKET_MAX_LEN + 1];
		size_t tlen;
		if (!book || nym_ticketbook_load(&tb, book) != 0 ||
		    nym_ticketbook_ticket(tb, (size_t)index, t, sizeof(t), &tlen) != 0) {
			nym_ticketbook_free(tb);
			fprintf(stderr, "%s: --print-ticket needs a readable --ticketbook holding --ticket\n", context);
			return EXIT_FAIL;
		}
		nym_ticketbook_free(tb);
		nym_hex_encode(hex, t, tlen);
		printf("{\"ticket\":\"%s\"}\n", hex);
		return EXIT_OK;
	}
	static struct wg_register_options o;
	if (net_addr_parse(&o.gateway, gw, -1)) {
		fprintf(stderr, "%s: --gateway expects IP:PORT or [IPv6]:PORT\n", context);
		return EXIT_FAIL;
	}
	if (nym_base58_decode_exact(o.gateway_noise, 32, key)) {
		fprintf(stderr, "%s: --gateway-noise-key: not a base58 32-byte key\n", context);
		return EXIT_FAIL;
	}
	if (priv && wg_key_from_base64(o.private_key, priv)) {
		fprintf(stderr, "%s: --private-key expects a base64 WireGuard key\n", context);
		return EXIT_FAIL;
	}
	o.have_key = priv != NULL;
	o.book_path = book;
	o.ticket_index = (size_t)index;
	o.forge_mac = forge;
	o.query = query;
	o.timeout_ms = timeout_ms;
	json_t *out;
	char err[512];
	rc = wg_register_run(&o, &out, err, sizeof(err));
	nym_memzero(o.private_key, sizeof(o.private_key));
	if (rc) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	cmd_print_json(out);
	return EXIT_OK;
}
