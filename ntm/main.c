/* nym-ntm: the network tunnel manager of a Nym node host. It replaces Nym's
 * network-tunnel-manager.sh: forwarding, NAT, the node's ports and the exit policy, applied
 * as one nftables transaction on a table of its own. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util/log.h"

static const struct ntm_command commands[] = {
	{ NULL, "apply", cmd_apply, "install forwarding, NAT, node ports and the exit policy (one transaction)" },
	{ NULL, "status", cmd_status, "show the installed table, whether it is current, and its counters" },
	{ NULL, "check", cmd_check, "ADDR PORT [tcp|udp]: would the policy let a client reach it, and by which line" },
	{ NULL, "remove", cmd_remove, "delete the table and restore the forwarding settings" },
	{ "policy", "show", cmd_policy_show, "FILE: print a policy as parsed and compiled" },
	{ "policy", "test", cmd_policy_test, "FILE: check a policy file" },
	{ "policy", "bench", cmd_policy_bench, "cost of a lookup as the policy grows (compiled and linear)" },
	{ 0 },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: nym-ntm <command> [options]\n\ncommands:\n");
	for (const struct ntm_command *c = commands; c->name; c++) {
		char words[64];
		snprintf(words, sizeof(words), "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
		fprintf(out, "  %-14s %s\n", words, c->summary);
	}
	fprintf(out, "\nnym-ntm <command> --help shows the options of a command.\n");
}

int main(int argc, char **argv)
{
	nym_log_set_ident("nym-ntm");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FAIL : EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("nym-ntm %s (%s)\n", NYM_VERSION, NYM_COMMIT);
		return EXIT_OK;
	}
	for (const struct ntm_command *c = commands; c->name; c++) {
		int words = c->group ? 2 : 1;
		if (argc <= words)
			continue;
		if (c->group ? strcmp(argv[1], c->group) != 0 || strcmp(argv[2], c->name) != 0
			     : strcmp(argv[1], c->name) != 0)
			continue;
		char context[64];
		snprintf(context, sizeof(context), "nym-ntm %s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
		return c->run(context, argc - 1 - words, argv + 1 + words);
	}
	fprintf(stderr, "nym-ntm: unknown command '%s%s%s'\n", argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
	usage(stderr);
	return strcmp(argv[1], "check") == 0 ? EXIT_CHECK_ERROR : EXIT_FAIL;
}
