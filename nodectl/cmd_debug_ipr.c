/* nym-node debug ipr: runs the exit gateway's IP packet router alone (its TUN device, policy
 * and thread) with a fresh identity and no mixnet: reply packets are counted, not sent. With
 * --loopback a client inside the process connects and pings the router's own addresses
 * through the device (nodectl/debug/ipr_loopback). For the TUN integration test and for
 * operators checking that a host can run the router. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/ed25519.h"
#include "nodectl/debug/ipr_loopback.h"
#include "nodectl/gateway/gateway_ipr.h"
#include "nodectl/node/node_config.h"
#include "util/cli.h"
#include "util/signals.h"

static _Atomic uint64_t injected;

static int count_inject(void *ctx, const struct net_addr *hop, uint8_t key_rotation, enum mix_packet_size size,
			const uint8_t *packet, size_t len)
{
	(void)ctx, (void)hop, (void)key_rotation, (void)size, (void)packet, (void)len;
	injected++;
	return 0;
}

int cmd_debug_ipr(const char *context, int argc, char **argv)
{
	const char *policy = NULL, *tun = NULL;
	uint64_t seconds = 0;
	bool loopback = false;
	struct cli_option opts[] = {
		{ "policy", CLI_STRING, &policy, true, "FILE  exit policy" },
		{ "tun", CLI_STRING, &tun, false, "NAME  TUN device (default nymtun0)" },
		{ "seconds", CLI_U64, &seconds, false, "N  stop after N seconds (default: at SIGINT/SIGTERM)" },
		{ "loopback", CLI_FLAG, &loopback, false, "connect a client inside the process, ping 10.0.0.1 and fc00::1 through the router, print the result and stop" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	static struct node_config cfg;
	char err[CONF_ERROR_MAX];
	if (conf_defaults(node_config_schema, &cfg, err)) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	snprintf(cfg.exit_gateway.ip_packet_router.policy_file, sizeof(cfg.exit_gateway.ip_packet_router.policy_file), "%s", policy);
	if (tun)
		snprintf(cfg.exit_gateway.ip_packet_router.tun_name, sizeof(cfg.exit_gateway.ip_packet_router.tun_name), "%s", tun);
	if (node_config_validate(&cfg, err)) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	sigset_t set;
	nym_signals_take(&set, false);
	struct nym_ed25519_keypair id;
	nym_ed25519_generate(&id);
	struct gateway_ipr_hooks hooks = { NULL, count_inject };
	struct ipr_loopback *client = NULL;
	if (loopback) {
		if ((rc = ipr_loopback_new(id.public_key, &client))) {
			fprintf(stderr, "%s: %s\n", context, strerror(-rc));
			return EXIT_FAIL;
		}
		ipr_loopback_hooks(client, &hooks);
	}
	struct gateway_ipr *ipr;
	rc = gateway_ipr_start(&cfg, NULL, &id, &hooks, &ipr);
	nym_ed25519_keypair_clear(&id);
	if (rc) {
		fprintf(stderr, "%s: cannot start the IP packet router: %s\n", context, strerror(-rc));
		ipr_loopback_free(client);
		return EXIT_FAIL;
	}
	if (client) {
		struct ipr_loopback_result r;
		rc = ipr_loopback_run(client, ipr, 5000, &r);
		gateway_ipr_stop(ipr);
		ipr_loopback_free(client);
		if (rc) {
			fprintf(stderr, "%s: the router did not answer CONNECT: %s\n", context, strerror(-rc));
			return EXIT_FAIL;
		}
		static const char *const names[] = { "none", "echo-reply", "prohibited", "other" };
		char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET, r.ips.v4, v4, sizeof(v4));
		inet_ntop(AF_INET6, r.ips.v6, v6, sizeof(v6));
		json_t *out = json_pack("{s:b, s:s, s:s, s:s, s:f, s:s, s:f, s:I}", "connected", r.connected, "ipv4", v4,
					"ipv6", v6, "ping4", names[r.ping4], "rtt4_ms", r.rtt4_ms, "ping6", names[r.ping6],
					"rtt6_ms", r.rtt6_ms, "reply_packets", (json_int_t)r.reply_packets);
		return cmd_print_json(out);
	}
	printf("ready\n");
	fflush(stdout);
	struct timespec ts = { .tv_sec = seconds ? (time_t)seconds : 86400 * 365 };
	while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
		;
	struct gateway_ipr_stats st;
	uint64_t dropped;
	gateway_ipr_get_stats(ipr, &st, &dropped);
	gateway_ipr_stop(ipr);
	json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "tun_packets", (json_int_t)st.tun_packets,
				"tun_unknown", (json_int_t)st.tun_unknown, "tun_malformed", (json_int_t)st.tun_malformed,
				"items", (json_int_t)st.items, "clients", (json_int_t)st.clients, "reply_packets",
				(json_int_t)injected);
	return cmd_print_json(out);
}
