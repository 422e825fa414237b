/* The daemon's settings: gateway, tunnel, dns, lan, network. Every value is checked here with
 * the daemon's own checks (vpn_ctl) before it is sent, so both refuse the same things with the
 * same message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpnc/vpnc.h"

/* Runs cmd with args (stolen) and prints the result with print. */
static int run(const char *context, enum vpn_ctl_cmd cmd, json_t *args, void (*print)(const json_t *))
{
	struct vpn_ctl_message reply;
	int rc = vpnc_request(context, cmd, args, &reply);
	json_decref(args);
	if (rc)
		return rc;
	if (vpnc_json)
		vpnc_print_json(reply.result);
	else
		print(reply.result);
	vpn_ctl_message_clear(&reply);
	return VPNC_EXIT_OK;
}

static int no_args(const char *context, const struct vpnc_help *help, int argc, char **argv,
		   enum vpn_ctl_cmd cmd, void (*print)(const json_t *))
{
	struct cli_option opts[] = { VPNC_GLOBAL_OPTIONS, { 0 } };
	int rc = vpnc_parse(context, help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	return run(context, cmd, NULL, print);
}

/* A command of one word argument sent as {key: WORD}; `question` asks for a missing one. */
static int one_arg(const char *context, const struct vpnc_help *help, int argc, char **argv, const char *question,
		   enum vpn_ctl_cmd cmd, const char *key, void (*print)(const json_t *))
{
	struct cli_option opts[] = { VPNC_GLOBAL_OPTIONS, { 0 } };
	const char *pos[1];
	size_t npos = 0;
	int rc = vpnc_parse(context, help, argc, argv, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1) {
		fprintf(stderr, "%s: %s\n", context, question);
		cli_usage(stderr, context, opts);
		return VPNC_EXIT_FAIL;
	}
	return run(context, cmd, json_pack("{s:s}", key, pos[0]), print);
}

/* on|off (also true/false, yes/no, 1/0) -> JSON boolean. */
static int parse_onoff(const char *context, const char *option, const char *v, json_t **out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1")) {
		*out = json_true();
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0")) {
		*out = json_false();
		return 0;
	}
	return vpnc_fail(context, VPN_CTL_INVALID_ARGUMENT, "--%s expects on or off, got '%s'", option, v);
}

/* ---- gateway ---- */

int vpnc_cmd_gateway_get(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL, "Prints how the entry and the exit gateway are chosen: a given gateway (by its\n"
		      "identity), a gateway in a given country, or a random one.\n"
	};
	return no_args(context, &help, argc, argv, VPN_CTL_GATEWAY_GET, vpnc_print_gateways);
}

/* One of --X-id / --X-country / --X-random into a <point>; *out NULL when none given. */
static int point_from(const char *context, const char *side, const char *id, const char *country,
		      bool random, json_t **out)
{
	*out = NULL;
	int n = (id != NULL) + (country != NULL) + random;
	if (n > 1)
		return vpnc_fail(context, VPN_CTL_INVALID_ARGUMENT,
				 "give only one of --%s-id, --%s-country and --%s-random", side, side, side);
	/* the daemon's checks, under the option's name */
	struct vpn_ctl_error err;
	char what[32], cc[3];
	uint8_t key[VPN_CTL_ID_LEN];
	snprintf(what, sizeof(what), "--%s-%s", side, id ? "id" : "country");
	if ((id && vpn_ctl_parse_b58_id(id, what, key, &err)) ||
	    (country && vpn_ctl_parse_country(country, what, cc, &err)))
		return vpnc_fail(context, err.code, "%s", err.message);
	if (id)
		*out = json_pack("{s:s, s:s}", "kind", "id", "id", id);
	else if (country)
		*out = json_pack("{s:s, s:s}", "kind", "country", "country", country);
	else if (random)
		*out = json_pack("{s:s}", "kind", "random");
	return 0;
}

int vpnc_cmd_gateway_set(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Chooses how the entry gateway (where the tunnel enters the network) and the exit\n"
		"gateway (where its traffic leaves to the internet) are picked: by identity (base58,\n"
		"see `nym-vpnc gateway list`), by country (two-letter ISO code such as DE), or at\n"
		"random. Give the entry, the exit or both; what is not given stays. Takes effect at\n"
		"the next connection (`nym-vpnc reconnect` when connected). Needs root or the\n"
		"daemon's socket group. Prints the resulting choice.\n"
	};
	const char *entry_id = NULL, *entry_country = NULL, *exit_id = NULL, *exit_country = NULL;
	bool entry_random = false, exit_random = false;
	struct cli_option opts[] = {
		{ "entry-id", CLI_STRING, &entry_id, false, "B58  this entry gateway" },
		{ "entry-country", CLI_STRING, &entry_country, false, "CC  an entry gateway in this country" },
		{ "entry-random", CLI_FLAG, &entry_random, false, "a random entry gateway" },
		{ "exit-id", CLI_STRING, &exit_id, false, "B58  this exit gateway" },
		{ "exit-country", CLI_STRING, &exit_country, false, "CC  an exit gateway in this country" },
		{ "exit-random", CLI_FLAG, &exit_random, false, "a random exit gateway" },
		VPNC_GLOBAL_OPTIONS,
		{ 0 },
	};
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	json_t *entry, *exit;
	if (point_from(context, "entry", entry_id, entry_country, entry_random, &entry))
		return VPNC_EXIT_FAIL;
	if (point_from(context, "exit", exit_id, exit_country, exit_random, &exit)) {
		json_decref(entry);
		return VPNC_EXIT_FAIL;
	}
	if (!entry && !exit) {
		fprintf(stderr, "%s: nothing to set: give --entry-id, --entry-country or --entry-random, "
				"and/or --exit-id, --exit-country or --exit-random\n",
			context);
		cli_usage(stderr, context, opts);
		return VPNC_EXIT_FAIL;
	}
	json_t *args = json_object();
	if (entry)
		json_object_set_new(args, "entry", entry);
	if (exit)
		json_object_set_new(args, "exit", exit);
	return run(context, VPN_CTL_GATEWAY_SET, args, vpnc_print_gateways);
}

int vpnc_cmd_gateway_list(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		"mixnet-entry|mixnet-exit|wg",
		"Lists the gateways of the current topology that can serve as a mixnet entry, a mixnet\n"
		"exit (they run an IP packet router) or a WireGuard (dVPN) gateway: identity, country,\n"
		"roles and addresses.\n"
	};
	return one_arg(context, &help, argc, argv, "which gateways? mixnet-entry, mixnet-exit or wg", VPN_CTL_GATEWAY_LIST, "type", vpnc_print_gateway_list);
}

/* ---- tunnel ---- */

int vpnc_cmd_tunnel_get(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL, "Prints the tunnel settings: two-hop (WireGuard) or mixnet mode, IPv6, the device's\n"
		      "MTU (set in the daemon's configuration), and the mixnet's timing.\n"
	};
	return no_args(context, &help, argc, argv, VPN_CTL_TUNNEL_GET, vpnc_print_tunnel);
}

static int set_delay(const char *context, json_t *args, const char *option, const char *key,
		     const char *value)
{
	char *end;
	long v = value ? strtol(value, &end, 10) : 0;
	if (!value)
		return 0;
	/* the daemon's ranges (vpn_ctl), under the option's name */
	bool sending = strcmp(key, "message_sending_delay_ms") == 0;
	long lo = sending ? VPN_CTL_SENDING_DELAY_MIN_MS : VPN_CTL_DELAY_MIN_MS;
	long hi = sending ? VPN_CTL_SENDING_DELAY_MAX_MS : VPN_CTL_DELAY_MAX_MS;
	if (!*value || *end || v < lo || v > hi)
		return vpnc_fail(context, VPN_CTL_INVALID_ARGUMENT,
				 "--%s must be an integer from %ld to %ld (milliseconds), got '%s'", option,
				 lo, hi, value);
	json_object_set_new(args, key, json_integer(v));
	return 0;
}

int vpnc_cmd_tunnel_set(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Changes tunnel settings; what is not given stays. Takes effect at the next\n"
		"connection (`nym-vpnc reconnect` when connected). Needs root or the daemon's socket\n"
		"group. Prints the resulting settings. on|off values also read true|false, yes|no,\n"
		"1|0. The delays are in milliseconds; the mixnet ones only matter in mixnet mode.\n"
	};
	const char *two_hop = NULL, *ipv6 = NULL, *apd = NULL, *msd = NULL, *lcd = NULL, *poisson = NULL,
		   *amnezia = NULL;
	struct cli_option opts[] = {
		{ "two-hop", CLI_STRING, &two_hop, false, "on|off  two-hop WireGuard instead of the mixnet" },
		{ "ipv6", CLI_STRING, &ipv6, false, "on|off  IPv6 through the tunnel (off: blocked)" },
		{ "average-packet-delay", CLI_STRING, &apd, false, "MS  per-hop average delay, 0..200" },
		{ "message-sending-delay", CLI_STRING, &msd, false, "MS  average gap between packets, 5..50" },
		{ "loop-cover-stream-average-delay", CLI_STRING, &lcd, false,
		  "MS  average gap between cover packets, 0..200" },
		{ "disable-real-traffic-poisson-rate", CLI_STRING, &poisson, false,
		  "on|off  real packets without the Poisson rate" },
		{ "amnezia", CLI_STRING, &amnezia, false,
		  "off|base|random  AmneziaWG on the entry hop of two-hop mode" },
		VPNC_GLOBAL_OPTIONS,
		{ 0 },
	};
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	json_t *args = json_object(), *b;
	enum vpn_ctl_amnezia am;
	if (amnezia && vpn_ctl_amnezia_parse(amnezia, &am)) {
		fprintf(stderr, "%s: --amnezia: off, base or random, not '%s'\n", context, amnezia);
		json_decref(args);
		return VPNC_EXIT_FAIL;
	}
	if (amnezia)
		json_object_set_new(args, "amnezia", json_string(amnezia));
	if ((two_hop && (parse_onoff(context, "two-hop", two_hop, &b) || json_object_set_new(args, "two_hop", b))) ||
	    (ipv6 && (parse_onoff(context, "ipv6", ipv6, &b) || json_object_set_new(args, "ipv6", b))) ||
	    (poisson && (parse_onoff(context, "disable-real-traffic-poisson-rate", poisson, &b) ||
			 json_object_set_new(args, "disable_real_traffic_poisson_rate", b))) ||
	    set_delay(context, args, "average-packet-delay", "average_packet_delay_ms", apd) ||
	    set_delay(context, args, "message-sending-delay", "message_sending_delay_ms", msd) ||
	    set_delay(context, args, "loop-cover-stream-average-delay", "loop_cover_stream_average_delay_ms",
		      lcd)) {
		json_decref(args);
		return VPNC_EXIT_FAIL;
	}
	if (json_object_size(args) == 0) {
		json_decref(args);
		fprintf(stderr, "%s: nothing to set: give at least one option\n", context);
		cli_usage(stderr, context, opts);
		return VPNC_EXIT_FAIL;
	}
	return run(context, VPN_CTL_TUNNEL_SET, args, vpnc_print_tunnel);
}

/* ---- dns ---- */

int vpnc_cmd_dns_get(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL, "Prints the DNS servers: the custom ones (`dns set`), the defaults (the daemon's\n"
		      "configuration) and the ones in effect. They are always reached through the tunnel.\n"
	};
	return no_args(context, &help, argc, argv, VPN_CTL_DNS_GET, vpnc_print_dns);
}

int vpnc_cmd_dns_set(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		"IP...",
		"Uses these DNS servers (1 to 8 IPv4 or IPv6 addresses) through the tunnel instead of\n"
		"the defaults; DNS to anything else is blocked while connected. Takes effect at the\n"
		"next connection. Needs root or the daemon's socket group.\n"
	};
	struct cli_option opts[] = { VPNC_GLOBAL_OPTIONS, { 0 } };
	const char *pos[VPN_CTL_DNS_MAX + 1];
	size_t npos = 0;
	int rc = vpnc_parse(context, &help, argc, argv, opts, pos, VPN_CTL_DNS_MAX + 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos == 0) {
		fprintf(stderr, "%s: which servers? give 1 to %d IP addresses (`dns clear` goes back to "
				"the defaults)\n",
			context, VPN_CTL_DNS_MAX);
		cli_usage(stderr, context, opts);
		return VPNC_EXIT_FAIL;
	}
	for (size_t i = 0; i < npos; i++) {
		struct vpn_ctl_error err;
		char ip[VPN_CTL_IP_STR_MAX];
		if (vpn_ctl_parse_ip(pos[i], "a DNS server", ip, &err))
			return vpnc_fail(context, err.code, "%s", err.message);
	}
	json_t *servers = json_array();
	for (size_t i = 0; i < npos; i++)
		json_array_append_new(servers, json_string(pos[i]));
	return run(context, VPN_CTL_DNS_SET, json_pack("{s:o}", "servers", servers), vpnc_print_dns);
}

int vpnc_cmd_dns_clear(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL, "Forgets the custom DNS servers: the daemon's defaults are used again. Needs root or\n"
		      "the daemon's socket group.\n"
	};
	return no_args(context, &help, argc, argv, VPN_CTL_DNS_CLEAR, vpnc_print_dns);
}

/* ---- lan ---- */

static void print_lan(const json_t *r)
{
	printf("local network: %s\n", vpnc_str(r, "lan"));
}

int vpnc_cmd_lan_get(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL, "Prints whether the local network (private, link-local and on-link addresses)\n"
		      "stays reachable outside the tunnel while connected: allow or block.\n"
	};
	return no_args(context, &help, argc, argv, VPN_CTL_LAN_GET, print_lan);
}

int vpnc_cmd_lan_set(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		"allow|block",
		"allow: the local network (printers, NAS, the router's page) stays reachable while\n"
		"connected; block: everything goes through the tunnel or nowhere. Applies at once\n"
		"when connected. Needs root or the daemon's socket group.\n"
	};
	return one_arg(context, &help, argc, argv, "allow or block?", VPN_CTL_LAN_SET, "lan", print_lan);
}

/* ---- network ---- */

int vpnc_cmd_network_get(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL, "Prints the network the daemon uses (mainnet, or a test network) and its\n"
		      "authorities (directory and credential issuers).\n"
	};
	return no_args(context, &help, argc, argv, VPN_CTL_NETWORK_GET, vpnc_print_network);
}

int vpnc_cmd_network_set(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		"NAME",
		"Switches the daemon to another network (its keys and tickets are kept per network,\n"
		"in <data_dir>/NAME/). Takes effect when the daemon restarts\n"
		"(`systemctl restart nym-vpnd`). Needs root or the daemon's socket group.\n"
	};
	return one_arg(context, &help, argc, argv, "which network?", VPN_CTL_NETWORK_SET, "network", vpnc_print_network);
}
