/* lib/vpn/vpn_ctl: the control protocol of nym-vpnd. Every command with valid and invalid
 * arguments, request decoding errors, reply/event encoding, <state>, the line reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base58.h"
#include "vpn/vpn_ctl.h"

static char ID_A[VPN_CTL_B58_MAX], ID_B[VPN_CTL_B58_MAX];

static void setup(void)
{
	uint8_t a[32], b[32];
	for (int i = 0; i < 32; i++) {
		a[i] = (uint8_t)(i + 1);
		b[i] = (uint8_t)(0xff - i);
	}
	cr_assert(nym_base58_encode(ID_A, sizeof(ID_A), a, 32) > 0);
	cr_assert(nym_base58_encode(ID_B, sizeof(ID_B), b, 32) > 0);
}

TestSuite(vpn_ctl, .init = setup);

/* Decodes a request line built from a printf format ("%A" is not used: callers paste ids). */
static int decode(const char *line, struct vpn_ctl_request *req, struct vpn_ctl_error *err)
{
	memset(err, 0, sizeof(*err));
	return vpn_ctl_request_decode(line, strlen(line), req, err);
}

static void expect_ok(const char *line)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	int rc = decode(line, &req, &err);
	cr_expect_eq(rc, 0, "%s: %s", line, err.message);
	vpn_ctl_request_clear(&req);
}

static void expect_err(const char *line, enum vpn_ctl_code code, const char *needle)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	int rc = decode(line, &req, &err);
	cr_expect_eq(rc, -EINVAL, "%s: accepted", line);
	cr_expect_eq(err.code, code, "%s: code %s, message %s", line, vpn_ctl_code_name(err.code),
		     err.message);
	cr_expect(strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", line, err.message,
		  needle);
	vpn_ctl_request_clear(&req);
}

Test(vpn_ctl, command_table)
{
	for (int i = 0; i < VPN_CTL_CMD_COUNT; i++) {
		const struct vpn_ctl_command *c = &vpn_ctl_commands[i];
		cr_assert_eq((int)c->cmd, i);
		cr_assert_eq(vpn_ctl_command_find(c->name), c);
		cr_assert_eq(vpn_ctl_command_get(c->cmd), c);
		cr_assert(c->summary && *c->summary);
	}
	cr_assert_null(vpn_ctl_command_find("nope"));
	cr_assert_null(vpn_ctl_command_find(NULL));
	cr_assert_null(vpn_ctl_command_get(VPN_CTL_CMD_COUNT));
	/* privileged = changes something */
	const char *priv[] = { "connect",	"disconnect", "reconnect", "gateway_set",
			       "tunnel_set",	"dns_set",    "dns_clear", "lan_set",
			       "credentials_obtain", "network_set" };
	size_t np = 0;
	for (int i = 0; i < VPN_CTL_CMD_COUNT; i++)
		np += vpn_ctl_commands[i].privileged;
	cr_assert_eq(np, sizeof(priv) / sizeof(priv[0]));
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		cr_assert(vpn_ctl_command_find(priv[i])->privileged, "%s", priv[i]);
}

Test(vpn_ctl, names_round_trip)
{
	for (int c = VPN_CTL_UNKNOWN_COMMAND; c <= VPN_CTL_UNAVAILABLE; c++) {
		enum vpn_ctl_code back;
		cr_assert_eq(vpn_ctl_code_parse(vpn_ctl_code_name((enum vpn_ctl_code)c), &back), 0);
		cr_assert_eq((int)back, c);
	}
	cr_assert_null(vpn_ctl_code_name((enum vpn_ctl_code)99));
	for (int s = 0; s < VPN_CTL_STEP_COUNT; s++) {
		enum vpn_ctl_step back;
		cr_assert_eq(vpn_ctl_step_parse(vpn_ctl_step_name((enum vpn_ctl_step)s), &back), 0);
		cr_assert_eq((int)back, s);
		cr_assert(vpn_ctl_step_description((enum vpn_ctl_step)s));
	}
	cr_assert_str_eq(vpn_ctl_step_name(VPN_CTL_STEP_WAITING_FOR_IPR), "waiting_for_ipr");
	for (int s = VPN_CTL_DISCONNECTED; s <= VPN_CTL_ERROR; s++) {
		enum vpn_ctl_state_kind back;
		cr_assert_eq(vpn_ctl_state_parse(vpn_ctl_state_name((enum vpn_ctl_state_kind)s), &back), 0);
		cr_assert_eq((int)back, s);
	}
	cr_assert_null(vpn_ctl_reason_name(VPN_CTL_REASON_NONE));
	for (int r = VPN_CTL_REASON_FIREWALL; r <= VPN_CTL_REASON_INTERNAL; r++) {
		enum vpn_ctl_reason back;
		cr_assert_eq(vpn_ctl_reason_parse(vpn_ctl_reason_name((enum vpn_ctl_reason)r), &back), 0);
		cr_assert_eq((int)back, r);
		cr_assert(*vpn_ctl_reason_hint((enum vpn_ctl_reason)r));
	}
	cr_assert_str_eq(vpn_ctl_reason_name(VPN_CTL_REASON_SAME_ENTRY_AND_EXIT_GATEWAY),
			 "same_entry_and_exit_gateway");
	cr_assert_str_eq(vpn_ctl_after_name(VPN_CTL_AFTER_RECONNECT), "reconnect");
	cr_assert_null(vpn_ctl_after_name(VPN_CTL_AFTER_NONE));
	enum vpn_ctl_gateway_type t;
	cr_assert_eq(vpn_ctl_gateway_type_parse("wg", &t), 0);
	cr_assert_eq(t, VPN_CTL_GW_WG);
	cr_assert_eq(vpn_ctl_gateway_type_parse("WG", &t), -EINVAL);
}

Test(vpn_ctl, request_shape_errors)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	expect_err("", VPN_CTL_BAD_REQUEST, "not valid JSON");
	expect_err("{", VPN_CTL_BAD_REQUEST, "not valid JSON");
	expect_err("{\"id\":1,\"cmd\":\"status\"} {}", VPN_CTL_BAD_REQUEST, "not valid JSON");
	expect_err("[1]", VPN_CTL_BAD_REQUEST, "must be a JSON object, not an array");
	expect_err("\"status\"", VPN_CTL_BAD_REQUEST, "must be a JSON object");
	expect_err("{\"cmd\":\"status\"}", VPN_CTL_BAD_REQUEST, "no \"id\"");
	expect_err("{\"id\":\"1\",\"cmd\":\"status\"}", VPN_CTL_BAD_REQUEST, "\"id\" must be an integer");
	expect_err("{\"id\":-1,\"cmd\":\"status\"}", VPN_CTL_BAD_REQUEST, "\"id\" must be an integer");
	expect_err("{\"id\":1.5,\"cmd\":\"status\"}", VPN_CTL_BAD_REQUEST, "\"id\" must be an integer");
	expect_err("{\"id\":9007199254740992,\"cmd\":\"status\"}", VPN_CTL_BAD_REQUEST, "from 0 to");
	expect_ok("{\"id\":9007199254740991,\"cmd\":\"status\"}");
	expect_err("{\"id\":1,\"id\":2,\"cmd\":\"status\"}", VPN_CTL_BAD_REQUEST, "duplicate");
	expect_err("{\"id\":1}", VPN_CTL_BAD_REQUEST, "no \"cmd\"");
	expect_err("{\"id\":1,\"cmd\":7}", VPN_CTL_BAD_REQUEST, "\"cmd\" must be a string");
	expect_err("{\"id\":1,\"cmd\":\"frobnicate\"}", VPN_CTL_UNKNOWN_COMMAND,
		   "unknown command \"frobnicate\"");
	expect_err("{\"id\":1,\"cmd\":\"sta\\u0000tus\"}", VPN_CTL_BAD_REQUEST, "not valid JSON");
	expect_err("{\"id\":1,\"cmd\":\"\x01\"}", VPN_CTL_BAD_REQUEST, "not valid JSON");
	expect_err("{\"id\":1,\"cmd\":\"status\",\"x\":1}", VPN_CTL_BAD_REQUEST, "unknown member \"x\"");
	expect_err("{\"id\":1,\"cmd\":\"status\",\"args\":[]}", VPN_CTL_BAD_REQUEST,
		   "\"args\" must be an object");
	expect_err("{\"id\":1,\"cmd\":\"status\",\"args\":{\"x\":1}}", VPN_CTL_INVALID_ARGUMENT,
		   "unknown argument \"x\": status takes none");

	/* the id is known to the caller when it was readable, so the error reply can carry it */
	cr_assert_eq(decode("{\"id\":42,\"cmd\":\"nope\"}", &req, &err), -EINVAL);
	cr_assert_eq(req.id, 42);
	vpn_ctl_request_clear(&req);
	cr_assert_eq(decode("{\"cmd\":\"status\"}", &req, &err), -EINVAL);
	cr_assert_eq(req.id, VPN_CTL_ID_NONE);
	vpn_ctl_request_clear(&req);
	cr_assert_eq(decode("[", &req, &err), -EINVAL);
	cr_assert_eq(req.id, VPN_CTL_ID_NONE);

	/* a long hostile command name is cut and made printable */
	char line[400];
	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"\\u001b[31m%0200d\"}", 0);
	expect_err(line, VPN_CTL_UNKNOWN_COMMAND, "unknown command \"?[31m000");
	cr_assert_eq(decode(line, &req, &err), -EINVAL);
	cr_assert(strlen(err.message) < 80);
	cr_assert_null(strchr(err.message, 0x1b));

	/* not NUL-terminated input: only len bytes are read */
	const char *two = "{\"id\":3,\"cmd\":\"info\"}garbage";
	cr_assert_eq(vpn_ctl_request_decode(two, 21, &req, &err), 0);
	cr_assert_eq(req.command->cmd, VPN_CTL_INFO);
	vpn_ctl_request_clear(&req);
}

Test(vpn_ctl, too_long_request)
{
	size_t n = VPN_CTL_REQUEST_MAX + 10;
	char *line = malloc(n + 1);
	cr_assert(line);
	memset(line, ' ', n);
	memcpy(line, "{\"id\":1,\"cmd\":\"status\"}", 23);
	line[n] = 0;
	expect_err(line, VPN_CTL_BAD_REQUEST, "longer than 65536 bytes");
	free(line);
}

Test(vpn_ctl, commands_without_arguments)
{
	const char *names[] = { "info",	     "status",	"listen",    "connect",	      "disconnect",
				"reconnect", "gateway_get", "tunnel_get", "dns_get", "dns_clear",
				"lan_get",   "credentials_list", "network_get" };
	char line[200];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct vpn_ctl_request req;
		struct vpn_ctl_error err;
		snprintf(line, sizeof(line), "{\"id\":%zu,\"cmd\":\"%s\"}", i, names[i]);
		cr_assert_eq(decode(line, &req, &err), 0, "%s: %s", line, err.message);
		cr_assert_str_eq(req.command->name, names[i]);
		cr_assert_eq(req.id, (long long)i);
		vpn_ctl_request_clear(&req);
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"args\":{}}", names[i]);
		expect_ok(line);
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"args\":{\"wait\":true}}", names[i]);
		expect_err(line, VPN_CTL_INVALID_ARGUMENT, "unknown argument \"wait\"");
	}
}

Test(vpn_ctl, gateway_set)
{
	char line[400];
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	snprintf(line, sizeof(line),
		 "{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":{\"kind\":\"id\",\"id\":\"%s\"},"
		 "\"exit\":{\"kind\":\"country\",\"country\":\"de\"}}}",
		 ID_A);
	cr_assert_eq(decode(line, &req, &err), 0, "%s", err.message);
	cr_assert(req.args.has_entry && req.args.has_exit);
	cr_assert_eq(req.args.entry.kind, VPN_CTL_POINT_ID);
	cr_assert_eq(req.args.entry.id[0], 1);
	cr_assert_eq(req.args.entry.id[31], 32);
	cr_assert_eq(req.args.exit.kind, VPN_CTL_POINT_COUNTRY);
	cr_assert_str_eq(req.args.exit.country, "DE");
	vpn_ctl_request_clear(&req);

	expect_ok("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":{\"kind\":\"random\"}}}");
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"random\"}}}",
			    &req, &err),
		     0);
	cr_assert(!req.args.has_entry && req.args.has_exit);
	vpn_ctl_request_clear(&req);

	expect_err("{\"id\":1,\"cmd\":\"gateway_set\"}", VPN_CTL_INVALID_ARGUMENT,
		   "needs \"entry\", \"exit\" or both");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"middle\":{}}}", VPN_CTL_INVALID_ARGUMENT,
		   "unknown argument \"middle\" for gateway_set (known: entry, exit)");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":\"random\"}}",
		   VPN_CTL_INVALID_ARGUMENT, "entry must be an object");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":{}}}", VPN_CTL_INVALID_ARGUMENT,
		   "entry has no \"kind\"");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":{\"kind\":\"fastest\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "entry.kind must be \"random\", \"id\" or \"country\"");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":{\"kind\":1}}}",
		   VPN_CTL_INVALID_ARGUMENT, "entry.kind must be a string");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"entry\":{\"kind\":\"random\",\"id\":\"x\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "unknown argument \"id\" for entry");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"id\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "exit has no \"id\"");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"id\",\"id\":\"0OIl\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "exit.id must be a base58 key of 32 bytes, got \"0OIl\"");
	/* 31 bytes */
	char short_id[VPN_CTL_B58_MAX];
	uint8_t b31[31] = { 9 };
	nym_base58_encode(short_id, sizeof(short_id), b31, 31);
	snprintf(line, sizeof(line),
		 "{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"id\",\"id\":\"%s\"}}}",
		 short_id);
	expect_err(line, VPN_CTL_INVALID_ARGUMENT, "base58 key of 32 bytes");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"country\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "exit has no \"country\"");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"country\",\"country\":\"DEU\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "exit.country must be a two-letter ISO 3166 country code");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"country\",\"country\":\"D1\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "two-letter");
	expect_err("{\"id\":1,\"cmd\":\"gateway_set\",\"args\":{\"exit\":{\"kind\":\"country\",\"country\":\"\"}}}",
		   VPN_CTL_INVALID_ARGUMENT, "two-letter");
}

Test(vpn_ctl, gateway_list)
{
	const char *types[] = { "mixnet-entry", "mixnet-exit", "wg" };
	char line[200];
	for (int i = 0; i < 3; i++) {
		struct vpn_ctl_request req;
		struct vpn_ctl_error err;
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"gateway_list\",\"args\":{\"type\":\"%s\"}}",
			 types[i]);
		cr_assert_eq(decode(line, &req, &err), 0);
		cr_assert_eq((int)req.args.gateway_type, i);
		cr_assert_str_eq(vpn_ctl_gateway_type_name(req.args.gateway_type), types[i]);
		vpn_ctl_request_clear(&req);
	}
	expect_err("{\"id\":1,\"cmd\":\"gateway_list\"}", VPN_CTL_INVALID_ARGUMENT, "needs \"type\"");
	expect_err("{\"id\":1,\"cmd\":\"gateway_list\",\"args\":{\"type\":\"vpn\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "type must be mixnet-entry, mixnet-exit or wg, got \"vpn\"");
	expect_err("{\"id\":1,\"cmd\":\"gateway_list\",\"args\":{\"type\":[\"wg\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "type must be a string, not an array");
}

Test(vpn_ctl, tunnel_set)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"two_hop\":true,\"ipv6\":false,"
			    "\"average_packet_delay_ms\":0,\"message_sending_delay_ms\":50,"
			    "\"loop_cover_stream_average_delay_ms\":200,"
			    "\"disable_real_traffic_poisson_rate\":true}}",
			    &req, &err),
		     0, "%s", err.message);
	cr_assert_eq(req.args.tunnel_set, 0x3f);
	cr_assert(req.args.tunnel.two_hop);
	cr_assert(!req.args.tunnel.ipv6);
	cr_assert_eq(req.args.tunnel.message_sending_delay_ms, 50);
	cr_assert_eq(req.args.tunnel.loop_cover_stream_average_delay_ms, 200);
	cr_assert(req.args.tunnel.disable_real_traffic_poisson_rate);
	vpn_ctl_request_clear(&req);

	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"ipv6\":true}}", &req, &err), 0);
	cr_assert_eq(req.args.tunnel_set, VPN_CTL_TUNNEL_IPV6);
	vpn_ctl_request_clear(&req);
	expect_ok("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"message_sending_delay_ms\":5}}");

	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{}}", VPN_CTL_INVALID_ARGUMENT,
		   "at least one setting");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\"}", VPN_CTL_INVALID_ARGUMENT, "at least one setting");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"mtu\":1400}}", VPN_CTL_INVALID_ARGUMENT,
		   "mtu cannot be changed");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"two_hop\":\"on\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "two_hop must be true or false, not a string");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"ipv6\":1}}", VPN_CTL_INVALID_ARGUMENT,
		   "ipv6 must be true or false, not an integer");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"average_packet_delay_ms\":201}}",
		   VPN_CTL_INVALID_ARGUMENT, "average_packet_delay_ms must be an integer from 0 to 200");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"average_packet_delay_ms\":-1}}",
		   VPN_CTL_INVALID_ARGUMENT, "from 0 to 200");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"average_packet_delay_ms\":2.5}}",
		   VPN_CTL_INVALID_ARGUMENT, "from 0 to 200");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"message_sending_delay_ms\":4}}",
		   VPN_CTL_INVALID_ARGUMENT, "message_sending_delay_ms must be an integer from 5 to 50");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"message_sending_delay_ms\":51}}",
		   VPN_CTL_INVALID_ARGUMENT, "from 5 to 50");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"loop_cover_stream_average_delay_ms\":1000}}",
		   VPN_CTL_INVALID_ARGUMENT, "loop_cover_stream_average_delay_ms must be an integer from 0 to 200");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"disable_real_traffic_poisson_rate\":null}}",
		   VPN_CTL_INVALID_ARGUMENT, "must be true or false, not null");
	expect_err("{\"id\":1,\"cmd\":\"tunnel_set\",\"args\":{\"netstack\":true}}", VPN_CTL_INVALID_ARGUMENT,
		   "unknown argument \"netstack\" for tunnel_set");
}

Test(vpn_ctl, dns_set)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[\"1.1.1.1\","
			    "\"2606:4700:4700:0:0:0:0:1111\"]}}",
			    &req, &err),
		     0, "%s", err.message);
	cr_assert_eq(req.args.n_dns, 2);
	cr_assert_str_eq(req.args.dns[0], "1.1.1.1");
	cr_assert_str_eq(req.args.dns[1], "2606:4700:4700::1111"); /* canonical form */
	vpn_ctl_request_clear(&req);

	expect_err("{\"id\":1,\"cmd\":\"dns_set\"}", VPN_CTL_INVALID_ARGUMENT, "needs \"servers\"");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[]}}", VPN_CTL_INVALID_ARGUMENT,
		   "servers must hold 1 to 8 items, it holds 0");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[\"1.1.1.1\",\"1.1.1.1\",\"1.1.1.1\","
		   "\"1.1.1.1\",\"1.1.1.1\",\"1.1.1.1\",\"1.1.1.1\",\"1.1.1.1\",\"1.1.1.1\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "it holds 9");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":\"1.1.1.1\"}}",
		   VPN_CTL_INVALID_ARGUMENT, "servers must be an array, not a string");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[\"1.1.1.1\",\"one.one\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "servers[1] must be an IPv4 or IPv6 address, got \"one.one\"");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[\"1.1.1.256\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "servers[0] must be an IPv4 or IPv6 address");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[\"fe80::1%eth0\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "IPv4 or IPv6");
	expect_err("{\"id\":1,\"cmd\":\"dns_set\",\"args\":{\"servers\":[53]}}", VPN_CTL_INVALID_ARGUMENT,
		   "servers[0] must be a string, not an integer");
}

Test(vpn_ctl, lan_set)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"lan_set\",\"args\":{\"lan\":\"allow\"}}", &req, &err), 0);
	cr_assert_eq(req.args.lan, VPN_CTL_LAN_ALLOW);
	vpn_ctl_request_clear(&req);
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"lan_set\",\"args\":{\"lan\":\"block\"}}", &req, &err), 0);
	cr_assert_eq(req.args.lan, VPN_CTL_LAN_BLOCK);
	vpn_ctl_request_clear(&req);
	expect_err("{\"id\":1,\"cmd\":\"lan_set\"}", VPN_CTL_INVALID_ARGUMENT, "needs \"lan\"");
	expect_err("{\"id\":1,\"cmd\":\"lan_set\",\"args\":{\"lan\":\"open\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "lan must be allow or block, got \"open\"");
	expect_err("{\"id\":1,\"cmd\":\"lan_set\",\"args\":{\"lan\":true}}", VPN_CTL_INVALID_ARGUMENT,
		   "lan must be a string");
}

Test(vpn_ctl, credentials_obtain)
{
	char line[600];
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	snprintf(line, sizeof(line),
		 "{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://10.0.0.1:8080\","
		 "\"authority_keys\":[\"%s\",\"%s\"],\"vouchers\":[\"abc\",\"DEF123\"]}}",
		 ID_A, ID_B);
	cr_assert_eq(decode(line, &req, &err), 0, "%s", err.message);
	cr_assert_str_eq(req.args.authority, "http://10.0.0.1:8080");
	cr_assert_eq(req.args.n_authority_keys, 2);
	cr_assert_eq(req.args.authority_keys[1][0], 0xff);
	cr_assert_eq(req.args.n_vouchers, 2);
	cr_assert_str_eq(req.args.vouchers[1], "DEF123");
	cr_assert_eq(req.args.types[0], NYM_TICKET_MIXNET_ENTRY);
	cr_assert_eq(req.args.types[1], NYM_TICKET_WG_ENTRY);
	vpn_ctl_request_clear(&req);
	cr_assert_eq(req.args.vouchers[1][0], 0, "vouchers wiped");

	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":"
			    "\"https://auth.test\",\"vouchers\":[\"a\",\"b\",\"c\",\"d\"],"
			    "\"types\":[\"wg-exit\",\"wg-exit\",\"mixnet-entry\",\"wg-entry\"]}}",
			    &req, &err),
		     0, "%s", err.message);
	cr_assert_eq(req.args.n_vouchers, 4);
	cr_assert_eq(req.args.types[0], NYM_TICKET_WG_EXIT);
	cr_assert_eq(req.args.types[3], NYM_TICKET_WG_ENTRY);
	vpn_ctl_request_clear(&req);

	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"vouchers\":[\"a\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "needs \"authority\"");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"ftp://x\",\"vouchers\":[\"a\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "authority must be an http:// or https:// URL");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://\",\"vouchers\":[\"a\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "http:// or https://");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a b\",\"vouchers\":[\"a\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "without spaces");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\"}}",
		   VPN_CTL_INVALID_ARGUMENT, "needs \"vouchers\"");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[]}}",
		   VPN_CTL_INVALID_ARGUMENT, "vouchers must hold 1 to 16 items");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"sec-ret\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "vouchers[0] must be 1 to 64 characters");
	/* a bad voucher is a secret all the same: never echoed */
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\","
			    "\"vouchers\":[\"sec-ret\"]}}",
			    &req, &err),
		     -EINVAL);
	cr_assert_null(strstr(err.message, "sec-ret"));
	vpn_ctl_request_clear(&req);
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"a\",\"b\",\"c\",\"d\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "4 vouchers without types");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"a\",\"b\"],\"types\":[\"wg-exit\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "1 types for 2 vouchers");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"a\"],\"types\":[\"mixnet-exit\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "types[0] must be mixnet-entry, wg-entry or wg-exit, got \"mixnet-exit\"");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"a\"],\"authority_keys\":[\"xyz\"]}}",
		   VPN_CTL_INVALID_ARGUMENT, "authority_keys[0] must be a base58 key of 32 bytes");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"a\"],\"authority_keys\":\"xyz\"}}",
		   VPN_CTL_INVALID_ARGUMENT, "authority_keys must be an array");
	expect_err("{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"a\"],\"voucher\":\"a\"}}",
		   VPN_CTL_INVALID_ARGUMENT, "unknown argument \"voucher\"");
	/* 65 characters */
	snprintf(line, sizeof(line),
		 "{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"%065d\"]}}",
		 7);
	expect_err(line, VPN_CTL_INVALID_ARGUMENT, "1 to 64 characters");
	snprintf(line, sizeof(line),
		 "{\"id\":1,\"cmd\":\"credentials_obtain\",\"args\":{\"authority\":\"http://a\",\"vouchers\":[\"%064d\"]}}",
		 7);
	expect_ok(line);
}

Test(vpn_ctl, network_set)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	cr_assert_eq(decode("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"sandbox\"}}", &req, &err),
		     0);
	cr_assert_str_eq(req.args.network, "sandbox");
	vpn_ctl_request_clear(&req);
	expect_ok("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"qa-net_2\"}}");
	expect_err("{\"id\":1,\"cmd\":\"network_set\"}", VPN_CTL_INVALID_ARGUMENT, "needs \"network\"");
	expect_err("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"../etc\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "network must be 1 to 32 characters");
	expect_err("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"Mainnet\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "a-z");
	expect_err("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"-x\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "a-z");
	expect_err("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"\"}}", VPN_CTL_INVALID_ARGUMENT,
		   "a-z");
	expect_err("{\"id\":1,\"cmd\":\"network_set\",\"args\":{\"network\":\"abcdefghijabcdefghijabcdefghijabc\"}}",
		   VPN_CTL_INVALID_ARGUMENT, "1 to 32");
}

Test(vpn_ctl, request_encode_round_trip)
{
	char *line;
	json_t *args = json_pack("{s:s}", "type", "wg");
	cr_assert_eq(vpn_ctl_request_encode(7, VPN_CTL_GATEWAY_LIST, args, &line), 0);
	cr_assert_str_eq(line, "{\"id\":7,\"cmd\":\"gateway_list\",\"args\":{\"type\":\"wg\"}}\n");
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	cr_assert_eq(vpn_ctl_request_decode(line, strlen(line) - 1, &req, &err), 0);
	cr_assert_eq(req.id, 7);
	cr_assert_eq(req.args.gateway_type, VPN_CTL_GW_WG);
	vpn_ctl_request_clear(&req);
	free(line);
	cr_assert_eq(vpn_ctl_request_encode(0, VPN_CTL_STATUS, NULL, &line), 0);
	cr_assert_str_eq(line, "{\"id\":0,\"cmd\":\"status\"}\n");
	free(line);
	cr_assert_eq(vpn_ctl_request_encode(-1, VPN_CTL_STATUS, NULL, &line), -EINVAL);
	cr_assert_eq(vpn_ctl_request_encode(1, VPN_CTL_CMD_COUNT, NULL, &line), -EINVAL);
	json_t *arr = json_array();
	cr_assert_eq(vpn_ctl_request_encode(1, VPN_CTL_STATUS, arr, &line), -EINVAL);
	json_decref(arr);
	/* a request over the limit is refused locally */
	char *big = malloc(VPN_CTL_REQUEST_MAX);
	memset(big, 'a', VPN_CTL_REQUEST_MAX - 1);
	big[VPN_CTL_REQUEST_MAX - 1] = 0;
	json_object_set_new(args, "type", json_string(big));
	cr_assert_eq(vpn_ctl_request_encode(1, VPN_CTL_GATEWAY_LIST, args, &line), -EMSGSIZE);
	free(big);
	json_decref(args);
}

Test(vpn_ctl, replies_and_events)
{
	char *line;
	struct vpn_ctl_message m;
	struct vpn_ctl_error err = { VPN_CTL_PERMISSION_DENIED, "connect needs root or the group nym-vpn" };

	json_t *res = json_pack("{s:s}", "network", "sandbox");
	cr_assert_eq(vpn_ctl_reply_ok(5, res, &line), 0);
	cr_assert_str_eq(line, "{\"id\":5,\"ok\":true,\"result\":{\"network\":\"sandbox\"}}\n");
	cr_assert_eq(vpn_ctl_message_decode(line, strlen(line), &m, NULL), 0);
	cr_assert_eq(m.kind, VPN_CTL_MSG_REPLY);
	cr_assert_eq(m.id, 5);
	cr_assert(m.ok);
	cr_assert_str_eq(json_string_value(json_object_get(m.result, "network")), "sandbox");
	vpn_ctl_message_clear(&m);
	free(line);
	json_decref(res);

	json_t *arr = json_array();
	cr_assert_eq(vpn_ctl_reply_ok(6, arr, &line), -EINVAL);
	json_decref(arr);
	cr_assert_eq(vpn_ctl_reply_ok(VPN_CTL_ID_MAX + 1, NULL, &line), -EINVAL);
	struct vpn_ctl_error unknown = { (enum vpn_ctl_code)42, "x" };
	cr_assert_eq(vpn_ctl_reply_error(1, &unknown, &line), -EINVAL);
	cr_assert_eq(vpn_ctl_reply_ok(6, NULL, &line), 0);
	cr_assert_str_eq(line, "{\"id\":6,\"ok\":true,\"result\":{}}\n");
	free(line);

	cr_assert_eq(vpn_ctl_reply_error(VPN_CTL_ID_NONE, &err, &line), 0);
	cr_assert_str_eq(line, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"permission_denied\","
			       "\"message\":\"connect needs root or the group nym-vpn\"}}\n");
	cr_assert_eq(vpn_ctl_message_decode(line, strlen(line), &m, NULL), 0);
	cr_assert_eq(m.id, VPN_CTL_ID_NONE);
	cr_assert(!m.ok);
	cr_assert_eq(m.error.code, VPN_CTL_PERMISSION_DENIED);
	cr_assert_str_eq(m.error.message, err.message);
	vpn_ctl_message_clear(&m);
	free(line);

	cr_assert_eq(vpn_ctl_event_progress(VPN_CTL_STEP_SPENDING_TICKET, NULL, &line), 0);
	cr_assert_str_eq(line, "{\"event\":\"progress\",\"step\":\"spending_ticket\",\"message\":\"spending a ticket\"}\n");
	cr_assert_eq(vpn_ctl_message_decode(line, strlen(line), &m, NULL), 0);
	cr_assert_eq(m.kind, VPN_CTL_MSG_EVENT);
	cr_assert_eq(m.event, VPN_CTL_EV_PROGRESS);
	cr_assert_eq(m.step, VPN_CTL_STEP_SPENDING_TICKET);
	cr_assert_str_eq(m.text, "spending a ticket");
	vpn_ctl_message_clear(&m);
	free(line);
	cr_assert_eq(vpn_ctl_event_progress(VPN_CTL_STEP_COUNT, NULL, &line), -EINVAL);

	cr_assert_eq(vpn_ctl_event_warning("4 tickets left\nnew line", &line), 0);
	cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "one line");
	cr_assert_eq(vpn_ctl_message_decode(line, strlen(line), &m, NULL), 0);
	cr_assert_eq(m.event, VPN_CTL_EV_WARNING);
	cr_assert_str_eq(m.text, "4 tickets left\nnew line");
	vpn_ctl_message_clear(&m);
	free(line);

	/* a step from a newer daemon is kept as text */
	const char *newer = "{\"event\":\"progress\",\"step\":\"warping\"}";
	cr_assert_eq(vpn_ctl_message_decode(newer, strlen(newer), &m, NULL), 0);
	cr_assert_eq(m.step, VPN_CTL_STEP_COUNT);
	cr_assert_str_eq(m.text, "warping");
	vpn_ctl_message_clear(&m);
	/* an error code from a newer daemon reads as internal */
	const char *code = "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"quota\",\"message\":\"m\"}}";
	cr_assert_eq(vpn_ctl_message_decode(code, strlen(code), &m, NULL), 0);
	cr_assert_eq(m.error.code, VPN_CTL_INTERNAL);
	vpn_ctl_message_clear(&m);

	const char *bad[] = {
		"[]",
		"{\"id\":1}",
		"{\"id\":1,\"ok\":true}",
		"{\"id\":1,\"ok\":true,\"result\":[]}",
		"{\"id\":\"1\",\"ok\":true,\"result\":{}}",
		"{\"ok\":true,\"result\":{}}",
		"{\"id\":1,\"ok\":false}",
		"{\"id\":1,\"ok\":false,\"error\":{\"code\":\"x\"}}",
		"{\"event\":\"state\"}",
		"{\"event\":\"state\",\"state\":{}}",
		"{\"event\":\"progress\"}",
		"{\"event\":\"warning\"}",
		"{\"event\":\"party\"}",
		"{\"event\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vpn_ctl_error e;
		cr_assert_eq(vpn_ctl_message_decode(bad[i], strlen(bad[i]), &m, &e), -EINVAL, "%s", bad[i]);
		cr_assert_eq(e.code, VPN_CTL_BAD_REQUEST);
		cr_assert_null(m.root);
		vpn_ctl_message_clear(&m);
	}
}

Test(vpn_ctl, state_json)
{
	struct vpn_ctl_state s = { 0 };
	s.state = VPN_CTL_DISCONNECTED;
	json_t *j = vpn_ctl_state_json(&s);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(text, "{\"mode\":\"mixnet\",\"retry_attempt\":0,\"state\":\"disconnected\"}");
	free(text);
	json_decref(j);

	s.state = VPN_CTL_CONNECTED;
	s.has_connection = true;
	s.connection.entry_id[0] = 1;
	s.connection.exit_id[0] = 2;
	strcpy(s.connection.entry_address, "192.0.2.1:9000");
	strcpy(s.connection.tun, "nym0");
	strcpy(s.connection.ipv4, "10.0.0.2");
	strcpy(s.connection.ipv6, "fc00::2");
	s.connection.since = 1764800000;
	strcpy(s.connection.dns[0], "1.1.1.1");
	s.connection.n_dns = 1;
	s.has_progress = true;
	s.progress = VPN_CTL_STEP_UP;
	s.has_tickets_left = true;
	s.tickets_left = 49;
	j = vpn_ctl_state_json(&s);
	cr_assert(j);
	json_t *c = json_object_get(j, "connection");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "entry"), "address")),
			 "192.0.2.1:9000");
	cr_assert_eq(strlen(json_string_value(json_object_get(json_object_get(c, "entry"), "id"))) > 40, 1);
	cr_assert_str_eq(json_string_value(json_object_get(c, "ipv6")), "fc00::2");
	cr_assert_eq(json_integer_value(json_object_get(c, "since")), 1764800000);
	cr_assert_eq(json_array_size(json_object_get(c, "dns")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "progress")), "up");
	cr_assert_eq(json_integer_value(json_object_get(j, "tickets_left")), 49);
	cr_assert_null(json_object_get(j, "reason"));

	char *line;
	cr_assert_eq(vpn_ctl_event_state(j, &line), 0);
	struct vpn_ctl_message m;
	cr_assert_eq(vpn_ctl_message_decode(line, strlen(line), &m, NULL), 0);
	cr_assert_eq(m.event, VPN_CTL_EV_STATE);
	cr_assert(json_equal(m.state, j));
	vpn_ctl_message_clear(&m);
	free(line);
	json_decref(j);

	s = (struct vpn_ctl_state){ .state = VPN_CTL_ERROR, .mode = VPN_CTL_MODE_WIREGUARD,
				    .reason = VPN_CTL_REASON_NO_TICKETS, .message = "no mixnet-entry ticket left",
				    .after_disconnect = VPN_CTL_AFTER_ERROR, .retry_attempt = 3 };
	j = vpn_ctl_state_json(&s);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(text, "{\"after_disconnect\":\"error\",\"message\":\"no mixnet-entry ticket left\","
			       "\"mode\":\"wireguard\",\"reason\":\"no_tickets\",\"retry_attempt\":3,"
			       "\"state\":\"error\"}");
	free(text);
	json_decref(j);
}

Test(vpn_ctl, point_and_tunnel_json)
{
	struct vpn_ctl_point p = { .kind = VPN_CTL_POINT_COUNTRY, .country = "CH" };
	json_t *j = vpn_ctl_point_json(&p);
	struct vpn_ctl_point back;
	cr_assert_eq(vpn_ctl_parse_point(j, "entry", &back, NULL), 0);
	cr_assert_str_eq(back.country, "CH");
	json_decref(j);
	p = (struct vpn_ctl_point){ .kind = VPN_CTL_POINT_ID, .id = { 7, 7, 7 } };
	j = vpn_ctl_point_json(&p);
	cr_assert_eq(vpn_ctl_parse_point(j, "entry", &back, NULL), 0);
	cr_assert_eq(memcmp(back.id, p.id, 32), 0);
	json_decref(j);
	p = (struct vpn_ctl_point){ .kind = VPN_CTL_POINT_RANDOM };
	j = vpn_ctl_point_json(&p);
	cr_assert_str_eq(json_string_value(json_object_get(j, "kind")), "random");
	json_decref(j);

	struct vpn_ctl_tunnel t = { .two_hop = false, .ipv6 = true, .mtu = 1500, .average_packet_delay_ms = 15,
				    .message_sending_delay_ms = 20, .loop_cover_stream_average_delay_ms = 200,
				    .amnezia = VPN_CTL_AMNEZIA_RANDOM };
	j = vpn_ctl_tunnel_json(&t);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(text, "{\"amnezia\":\"random\",\"average_packet_delay_ms\":15,\"disable_real_traffic_poisson_rate\":false,"
			       "\"ipv6\":true,\"loop_cover_stream_average_delay_ms\":200,"
			       "\"message_sending_delay_ms\":20,\"mtu\":1500,\"two_hop\":false}");
	free(text);
	/* tunnel_get's object minus mtu is a valid tunnel_set */
	json_object_del(j, "mtu");
	struct vpn_ctl_args a;
	cr_assert_eq(vpn_ctl_args_parse(VPN_CTL_TUNNEL_SET, j, &a, NULL), 0);
	cr_assert_eq(a.tunnel_set, 0x7f);
	cr_assert_eq(a.tunnel.amnezia, VPN_CTL_AMNEZIA_RANDOM);
	/* amnezia: off, base or random, a string. */
	static const char *const bad[] = { "{\"amnezia\":\"strong\"}", "{\"amnezia\":1}", "{\"amnezia\":\"\"}",
					   "{\"amnezia\":\"Base\"}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *b = json_loads(bad[i], 0, NULL);
		struct vpn_ctl_error e;
		cr_assert_eq(vpn_ctl_args_parse(VPN_CTL_TUNNEL_SET, b, &a, &e), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(e.message, "amnezia"), "%s: %s", bad[i], e.message);
		json_decref(b);
	}
	for (int k = 0; k < 3; k++) {
		enum vpn_ctl_amnezia got;
		cr_assert_eq(vpn_ctl_amnezia_parse(vpn_ctl_amnezia_name((enum vpn_ctl_amnezia)k), &got), 0);
		cr_assert_eq((int)got, k);
	}
	json_decref(j);
}

Test(vpn_ctl, single_value_checks)
{
	struct vpn_ctl_error err;
	char c[3], ip[VPN_CTL_IP_STR_MAX];
	uint8_t id[32];
	cr_assert_eq(vpn_ctl_parse_country("fr", "--entry-country", c, &err), 0);
	cr_assert_str_eq(c, "FR");
	cr_assert_eq(vpn_ctl_parse_country("fra", "--entry-country", c, &err), -EINVAL);
	cr_assert_str_eq(err.message, "--entry-country must be a two-letter ISO 3166 country code such as DE, got \"fra\"");
	cr_assert_eq(vpn_ctl_parse_country(NULL, "x", c, &err), -EINVAL);
	cr_assert_eq(vpn_ctl_parse_b58_id(ID_B, "--exit-id", id, &err), 0);
	cr_assert_eq(id[0], 0xff);
	cr_assert_eq(vpn_ctl_parse_b58_id("", "--exit-id", id, &err), -EINVAL);
	cr_assert_eq(vpn_ctl_parse_ip("::ffff:1.2.3.4", "x", ip, &err), 0);
	cr_assert_str_eq(ip, "::ffff:1.2.3.4");
	cr_assert_eq(vpn_ctl_parse_ip("1.2.3", "x", ip, &err), -EINVAL);
	cr_assert_eq(vpn_ctl_parse_ip(NULL, "x", ip, &err), -EINVAL);
}

/* Feeds the reader `input` in pieces of `step` bytes, collecting "line|" and "E|" (too long). */
static void read_all(size_t max, const char *input, size_t step, char *out, size_t cap)
{
	struct vpn_ctl_reader r;
	vpn_ctl_reader_init(&r, max);
	size_t total = strlen(input);
	out[0] = 0;
	for (size_t off = 0; off < total; off += step) {
		const char *p = input + off;
		size_t n = total - off < step ? total - off : step;
		for (;;) {
			const char *line;
			size_t len;
			int rc = vpn_ctl_reader_next(&r, &p, &n, &line, &len);
			if (rc == 0)
				break;
			if (rc == 1) {
				cr_assert_eq(strlen(line), len);
				strncat(out, line, cap - strlen(out) - 1);
				strncat(out, "|", cap - strlen(out) - 1);
			} else {
				cr_assert_eq(rc, -EMSGSIZE);
				strncat(out, "E|", cap - strlen(out) - 1);
			}
		}
		cr_assert_eq(n, 0);
	}
	char pend[32];
	snprintf(pend, sizeof(pend), "P%zu", vpn_ctl_reader_pending(&r));
	strncat(out, pend, cap - strlen(out) - 1);
	vpn_ctl_reader_free(&r);
}

Test(vpn_ctl, line_reader)
{
	char out[512];
	for (size_t step = 1; step <= 64; step++) {
		read_all(8, "a\nbb\r\n\n\r\n12345678\n123456789\nzz\nabcdefghijklmnop\nq\ntail", step, out,
			 sizeof(out));
		cr_assert_str_eq(out, "a|bb|12345678|E|zz|E|q|P4", "step %zu", step);
		read_all(4, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", step, out, sizeof(out));
		cr_assert_str_eq(out, "E|P0", "step %zu", step);
		read_all(4, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nok\n", step, out, sizeof(out));
		cr_assert_str_eq(out, "E|ok|P0", "step %zu", step);
	}
	/* the real limit, and a line of exactly the limit */
	size_t n = VPN_CTL_REQUEST_MAX;
	char *big = malloc(2 * n + 8);
	memset(big, 'y', 2 * n + 4);
	big[n] = '\n';
	big[2 * n + 2] = '\n';
	big[2 * n + 3] = 0;
	struct vpn_ctl_reader r;
	vpn_ctl_reader_init(&r, VPN_CTL_REQUEST_MAX);
	const char *p = big, *line;
	size_t left = strlen(big), len;
	cr_assert_eq(vpn_ctl_reader_next(&r, &p, &left, &line, &len), 1);
	cr_assert_eq(len, n);
	cr_assert_eq(vpn_ctl_reader_next(&r, &p, &left, &line, &len), -EMSGSIZE);
	cr_assert_eq(vpn_ctl_reader_next(&r, &p, &left, &line, &len), 0);
	cr_assert_eq(left, 0);
	cr_assert_leq(r.cap, n + 1, "memory bounded by the limit");
	vpn_ctl_reader_free(&r);
	free(big);
}

Test(vpn_ctl, steps_are_numbered_within_each_mode)
{
	unsigned i, n;
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_FETCHING_TOPOLOGY, "mixnet", &i, &n), 0);
	cr_assert(i == 1 && n == 7);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_SPENDING_TICKET, "mixnet", &i, &n), 0);
	cr_assert(i == 4 && n == 7);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_UP, "mixnet", &i, &n), 0);
	cr_assert(i == 7 && n == 7);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_REGISTERING_EXIT, "wireguard", &i, &n), 0);
	cr_assert(i == 4 && n == 6);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_REGISTERING_ENTRY, "mixnet", &i, &n), -ENOENT);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_WAITING_FOR_IPR, "wireguard", &i, &n), -ENOENT);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_UP, "carrier-pigeon", &i, &n), -ENOENT);
	cr_assert_eq(vpn_ctl_step_position(VPN_CTL_STEP_UP, NULL, &i, &n), -ENOENT);
}
