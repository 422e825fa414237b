/* nym-vpnc: the command line of the NymVPN client daemon nym-vpnd. Every command is one
 * request on the daemon's control socket (docs/nym-vpnc.1.md, docs/PROTOCOLS.md). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vpnc/vpnc.h"

const char *vpnc_socket;
bool vpnc_json;

static const struct cli_command commands[] = {
	{ NULL, "info", vpnc_cmd_info, "the daemon's version, network, paths and configuration" },
	{ NULL, "status", vpnc_cmd_status, "the tunnel state; --listen follows its changes" },
	{ NULL, "connect", vpnc_cmd_connect, "connect the tunnel; --wait shows the steps until it is up" },
	{ NULL, "disconnect", vpnc_cmd_disconnect, "disconnect the tunnel; --wait until it is down" },
	{ NULL, "reconnect", vpnc_cmd_reconnect, "reconnect the tunnel with the current settings" },
	{ "gateway", "get", vpnc_cmd_gateway_get, "the entry and exit points" },
	{ "gateway", "set", vpnc_cmd_gateway_set, "choose the entry and/or exit: by id, by country or at random" },
	{ "gateway", "list", vpnc_cmd_gateway_list, "mixnet-entry|mixnet-exit|wg: the gateways of that type" },
	{ "tunnel", "get", vpnc_cmd_tunnel_get, "the tunnel settings" },
	{ "tunnel", "set", vpnc_cmd_tunnel_set, "two-hop, IPv6 and the mixnet's delays" },
	{ "dns", "get", vpnc_cmd_dns_get, "the DNS servers: custom, default and in effect" },
	{ "dns", "set", vpnc_cmd_dns_set, "IP...: use these DNS servers through the tunnel" },
	{ "dns", "clear", vpnc_cmd_dns_clear, "go back to the default DNS servers" },
	{ "lan", "get", vpnc_cmd_lan_get, "whether the local network stays reachable" },
	{ "lan", "set", vpnc_cmd_lan_set, "allow|block: the local network while connected" },
	{ "credentials", "obtain", vpnc_cmd_credentials_obtain, "obtain ticketbooks from an authority with vouchers" },
	{ "credentials", "list", vpnc_cmd_credentials_list, "tickets left per type, and their expiry" },
	{ "network", "get", vpnc_cmd_network_get, "the network and its authorities" },
	{ "network", "set", vpnc_cmd_network_set, "NAME: switch network (at the daemon's next start)" },
	{ 0 },
};

static void usage(FILE *out, const char *group)
{
	if (group)
		fprintf(out, "usage: nym-vpnc [--socket PATH] [--json] %s <command> [options]\n\ncommands:\n", group);
	else
		fprintf(out, "usage: nym-vpnc [--socket PATH] [--json] <command> [options]\n\n"
			     "The command line of nym-vpnd, the NymVPN client daemon: each command is a\n"
			     "request on the daemon's control socket.\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++) {
		char words[64];
		if (group && (!c->group || strcmp(c->group, group) != 0))
			continue;
		snprintf(words, sizeof(words), "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
		fprintf(out, "  %-22s %s\n", words, c->summary);
	}
	fprintf(out, "\nglobal options (before or after the command):\n"
		     "  --socket PATH          the daemon's control socket (default $%s,\n"
		     "                         else %s)\n"
		     "  --json                 print one JSON object (the daemon's result, or\n"
		     "                         {\"error\": {\"code\", \"message\"}}) instead of text\n"
		     "  -h, --help             this help; `nym-vpnc COMMAND --help` for a command's own\n"
		     "  -V, --version          the version of nym-vpnc\n",
		VPN_CTL_SOCKET_ENV, VPN_CTL_DEFAULT_SOCKET);
	if (!group)
		fprintf(out, "\nexit status: 0 on success, 1 on any error (the message says what to do).\n"
			     "examples:\n"
			     "  nym-vpnc credentials obtain --authority http://auth.example:8080 --voucher CODE\n"
			     "  nym-vpnc gateway set --exit-country DE\n"
			     "  nym-vpnc connect --wait\n"
			     "  nym-vpnc status --json\n");
}

static bool is_group(const char *word)
{
	for (const struct cli_command *c = commands; c->name; c++)
		if (c->group && strcmp(c->group, word) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	/* a daemon that goes away mid-write is an error to report, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	/* global options before the command words */
	int i = 1;
	while (i < argc) {
		if (strcmp(argv[i], "--json") == 0) {
			vpnc_json = true;
			i++;
		} else if (strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "nym-vpnc: missing value for --socket\n");
				usage(stderr, NULL);
				return VPNC_EXIT_FAIL;
			}
			vpnc_socket = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			vpnc_socket = argv[i] + 9;
			i++;
		} else {
			break;
		}
	}
	if (vpnc_socket && !*vpnc_socket) {
		fprintf(stderr, "nym-vpnc: --socket needs a path\n");
		return VPNC_EXIT_FAIL;
	}
	int rest = argc - i;
	char **words = argv + i;
	if (rest == 0) {
		usage(stderr, NULL);
		return VPNC_EXIT_FAIL;
	}
	if (strcmp(words[0], "--help") == 0 || strcmp(words[0], "-h") == 0 || strcmp(words[0], "help") == 0) {
		usage(stdout, NULL);
		return VPNC_EXIT_OK;
	}
	if (is_group(words[0]) &&
	    (rest == 1 || strcmp(words[1], "--help") == 0 || strcmp(words[1], "-h") == 0)) {
		if (rest == 1)
			fprintf(stderr, "nym-vpnc: '%s' needs a command\n", words[0]);
		usage(rest == 1 ? stderr : stdout, words[0]);
		return rest == 1 ? VPNC_EXIT_FAIL : VPNC_EXIT_OK;
	}
	/* cli_main takes argv[0] as the program: hand it the words with one slot before them */
	words[-1] = argv[0];
	return cli_main("nym-vpnc", commands, rest + 1, words - 1);
}
