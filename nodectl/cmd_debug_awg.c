/* nym-node debug awg-set / awg-del / awg-show: nym_awg.ko (AmneziaWG 1.0 over the kernel's
 * WireGuard) on a device, through lib/awg's generic-netlink client; for operators and tests.
 *
 *   awg-set IF --port N --mode initiator|responder (--preset off|base|random | --params TEXT)
 *           [--no-check]   (--no-check leaves the validation to the module: its message shows)
 *   awg-del IF
 *   awg-show IF            parameters, mode and the module's counters as JSON */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awg/awg.h"
#include "awg/awg_genl.h"
#include "cmd_util.h"
#include "commands.h"
#include "util/cli.h"

static const char *awg_err(int rc)
{
	switch (rc) {
	case -ENOENT:
		return "nym_awg is not loaded or the device is not configured";
	case -ENODEV:
		return "no such device";
	case -EOPNOTSUPP:
		return "not a kernel WireGuard device";
	default:
		return strerror(-rc);
	}
}

/* --no-check: the numbers of the text form without awg_params_validate, so the module's own
 * check is what answers. */
static int awg_params_unchecked(const char *text, struct awg_params *p)
{
	static const char *const keys[] = { "jc", "jmin", "jmax", "s1", "s2", "h1", "h2", "h3", "h4" };
	char buf[AWG_PARAMS_TEXT_MAX * 2];
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	char *save = NULL;
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '='), *end;
		if (!eq)
			return -EINVAL;
		*eq = 0;
		unsigned long v = strtoul(eq + 1, &end, 10);
		if (*end || end == eq + 1)
			return -EINVAL;
		size_t k = 0;
		while (k < 9 && strcmp(keys[k], kv))
			k++;
		if (k == 9 || (k < 5 && v > UINT16_MAX) || v > UINT32_MAX)
			return -EINVAL;
		uint16_t *u16[5] = { &p->jc, &p->jmin, &p->jmax, &p->s1, &p->s2 };
		uint32_t *u32[4] = { &p->h1, &p->h2, &p->h3, &p->h4 };
		if (k < 5)
			*u16[k] = (uint16_t)v;
		else
			*u32[k - 5] = (uint32_t)v;
	}
	return 0;
}

static int awg_ifname(const char *context, size_t npos)
{
	if (npos == 1)
		return 0;
	fprintf(stderr, "%s: the interface name is missing\n", context);
	return -EINVAL;
}

int cmd_debug_awg_set(const char *context, int argc, char **argv)
{
	const char *mode_s = NULL, *preset = NULL, *text = NULL, *pos[1];
	uint64_t port = 0;
	bool no_check = false;
	size_t npos = 0;
	struct cli_option opts[] = {
		{ "port", CLI_U64, &port, true, "N  the UDP port the WireGuard device listens on" },
		{ "mode", CLI_STRING, &mode_s, true, "M  initiator (client) or responder (gateway)" },
		{ "preset", CLI_STRING, &preset, false, "P  off, base or random" },
		{ "params", CLI_STRING, &text, false, "TEXT  \"jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4\"" },
		{ "no-check", CLI_FLAG, &no_check, false, "send the parameters unchecked (the module checks them)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (awg_ifname(context, npos))
		return EXIT_FAIL;
	int mode;
	if (awg_genl_mode_parse(mode_s, &mode)) {
		fprintf(stderr, "%s: --mode must be initiator or responder\n", context);
		return EXIT_FAIL;
	}
	if (port == 0 || port > 65535) {
		fprintf(stderr, "%s: --port must be 1..65535\n", context);
		return EXIT_FAIL;
	}
	if (!preset == !text) {
		fprintf(stderr, "%s: give one of --preset and --params\n", context);
		return EXIT_FAIL;
	}
	struct awg_params p = { 0 };
	const char *why = NULL;
	if (preset && awg_params_preset(preset, &p)) {
		fprintf(stderr, "%s: --preset must be off, base or random\n", context);
		return EXIT_FAIL;
	}
	if (text) {
		if (no_check)
			rc = awg_params_unchecked(text, &p);
		else
			rc = awg_params_parse(text, &p, &why);
		if (rc) {
			fprintf(stderr, "%s: --params: %s\n", context, why ? why : "malformed");
			return EXIT_FAIL;
		}
	}
	if (!no_check && awg_params_validate(&p, &why)) {
		fprintf(stderr, "%s: %s\n", context, why);
		return EXIT_FAIL;
	}
	char msg[256];
	rc = awg_genl_set_why(pos[0], (uint16_t)port, mode, &p, msg, sizeof(msg));
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", context, pos[0], msg[0] ? msg : awg_err(rc));
		return EXIT_FAIL;
	}
	char buf[AWG_PARAMS_TEXT_MAX];
	awg_params_format(&p, buf, sizeof(buf));
	printf("{\"ifname\":\"%s\",\"params\":\"%s\"}\n", pos[0], buf);
	return EXIT_OK;
}

int cmd_debug_awg_del(const char *context, int argc, char **argv)
{
	const char *pos[1];
	size_t npos = 0;
	struct cli_option opts[] = { { 0 } };
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (awg_ifname(context, npos))
		return EXIT_FAIL;
	rc = awg_genl_del(pos[0]);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", context, pos[0], awg_err(rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_debug_awg_show(const char *context, int argc, char **argv)
{
	const char *pos[1];
	size_t npos = 0;
	struct cli_option opts[] = { { 0 } };
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (awg_ifname(context, npos))
		return EXIT_FAIL;
	struct awg_params p;
	struct awg_genl_counters c;
	int mode;
	rc = awg_genl_get(pos[0], &p, &mode, &c);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", context, pos[0], awg_err(rc));
		return EXIT_FAIL;
	}
	char buf[AWG_PARAMS_TEXT_MAX];
	awg_params_format(&p, buf, sizeof(buf));
	json_t *cj = json_pack("{sI sI sI sI sI sI sI sI sI sI}", "tx_encoded", (json_int_t)c.tx_encoded,
			       "tx_plain", (json_int_t)c.tx_plain, "tx_junk", (json_int_t)c.tx_junk, "tx_dropped",
			       (json_int_t)c.tx_dropped, "rx_decoded", (json_int_t)c.rx_decoded, "rx_plain",
			       (json_int_t)c.rx_plain, "rx_dropped", (json_int_t)c.rx_dropped, "rx_csum",
			       (json_int_t)c.rx_csum, "learn_full", (json_int_t)c.learn_full, "nomem",
			       (json_int_t)c.nomem);
	json_t *out = json_pack("{ss si ss ss si so}", "ifname", pos[0], "port", (int)c.port, "mode",
				awg_genl_mode_name(mode), "params", buf, "endpoints", (int)c.endpoints, "counters", cj);
	return cmd_print_json(out);
}
