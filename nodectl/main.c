/* nym-node: the node daemon and its operator tooling. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "crypto/evp_cache.h"
#include "crypto/secret.h"
#include "util/log.h"

static const struct node_command commands[] = {
	{ NULL, "init", cmd_init, "create a node: configuration and keys" },
	{ NULL, "run", cmd_run, "run the node in the foreground" },
	{ "keys", "show", cmd_keys_show, "print the node's public keys" },
	{ "debug", "keygen", cmd_debug_keygen, "print a fresh X25519 key pair (hex and base58)" },
	{ "debug", "sphinx-create", cmd_debug_sphinx_create, "build a Sphinx packet for a route" },
	{ "debug", "sphinx-process", cmd_debug_sphinx_process, "peel one Sphinx layer with a node key" },
	{ "debug", "mix-sink", cmd_debug_mix_sink, "listen where a route ends and report arriving packets" },
	{ "bench", "sphinx", cmd_bench_sphinx, "measure Sphinx create/process against X25519" },
	{ "bench", "mixnet", cmd_bench_mixnet, "measure a real mixnode process: throughput, loss, added latency" },
	{ "bench", "transport", cmd_bench_transport,
	  "measure frame decoding, Noise and reassembly (no Sphinx)" },
	{ "debug", "ticketbook-issue-local", cmd_debug_ticketbook_issue_local,
	  "issue a ticketbook from a local issuer database (blind protocol)" },
	{ "debug", "ticket-verify", cmd_debug_ticket_verify,
	  "verify one ticket of a ticketbook (exit 0 when valid)" },
	{ "debug", "ticket-export", cmd_debug_ticket_export,
	  "print one ticket as message, signature and issuer key (JSON)" },
	{ "authority", "voucher", cmd_authority_voucher,
	  "voucher create: single-use codes, each good for one ticketbook" },
	{ "debug", "topology-fetch", cmd_debug_topology_fetch,
	  "fetch the signed topology from authorities and check k-of-n" },
	{ "debug", "ticketbook-obtain", cmd_debug_ticketbook_obtain,
	  "obtain a ticketbook from an authority with a voucher" },
	{ "debug", "ticket-spend", cmd_debug_ticket_spend,
	  "spend a ticket as a gateway: verify, record, report, refresh the filter" },
	{ "bench", "credentials", cmd_bench_credentials,
	  "measure ticket issuance and verification" },
	{ 0 },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: nym-node <command> [options]\n\ncommands:\n");
	for (const struct node_command *c = commands; c->name; c++) {
		char words[64];
		snprintf(words, sizeof(words), "%s%s%s", c->group ? c->group : "", c->group ? " " : "",
			 c->name);
		fprintf(out, "  %-28s %s\n", words, c->summary);
	}
	fprintf(out, "\nnym-node <command> --help shows the options of a command.\n");
}

int main(int argc, char **argv)
{
	nym_log_set_ident("nym-node");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FAIL : EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("nym-node %s (%s)\n", NYM_VERSION, NYM_COMMIT);
		return EXIT_OK;
	}
	if (nym_crypto_init() != 0) {
		log_error("cannot initialise libsodium");
		return EXIT_FAIL;
	}
	for (const struct node_command *c = commands; c->name; c++) {
		int words = c->group ? 2 : 1;
		if (argc <= words)
			continue;
		if (c->group ? strcmp(argv[1], c->group) != 0 || strcmp(argv[2], c->name) != 0
			     : strcmp(argv[1], c->name) != 0)
			continue;
		char context[96];
		snprintf(context, sizeof(context), "nym-node %s%s%s", c->group ? c->group : "",
			 c->group ? " " : "", c->name);
		int status = c->run(context, argc - 1 - words, argv + 1 + words);
		nym_evp_cache_release();
		return status;
	}
	fprintf(stderr, "nym-node: unknown command '%s%s%s'\n", argv[1], argc > 2 ? " " : "",
		argc > 2 ? argv[2] : "");
	usage(stderr);
	return EXIT_FAIL;
}
