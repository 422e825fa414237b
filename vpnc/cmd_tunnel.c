/* The tunnel's life: info, status [--listen], connect [--wait], disconnect [--wait], reconnect. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vpnc/vpnc.h"

/* How long after `listen` is answered the events already queued (the daemon may send the
 * current state at once) are taken as older than the request that follows. */
#define SETTLE_MS 100

static int simple(const char *context, const struct vpnc_help *help, int argc, char **argv,
		  enum vpn_ctl_cmd cmd, void (*print)(const json_t *))
{
	struct cli_option opts[] = { VPNC_GLOBAL_OPTIONS, { 0 } };
	int rc = vpnc_parse(context, help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	struct vpn_ctl_message reply;
	if ((rc = vpnc_request(context, cmd, NULL, &reply)))
		return rc;
	if (vpnc_json)
		vpnc_print_json(reply.result);
	else
		print(reply.result);
	vpn_ctl_message_clear(&reply);
	return VPNC_EXIT_OK;
}

int vpnc_cmd_info(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Prints the daemon's version and commit, its platform, the network it uses, its data\n"
		"directory, control socket and configuration. Needs no privilege.\n"
	};
	return simple(context, &help, argc, argv, VPN_CTL_INFO, vpnc_print_info);
}

static void stamp(void)
{
	char when[16];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("[%s] ", when);
}

/* One event of `status --listen`. */
static void print_event(const struct vpn_ctl_message *m)
{
	if (vpnc_json) {
		vpnc_print_json(m->root);
		return;
	}
	stamp();
	switch (m->event) {
	case VPN_CTL_EV_STATE:
		vpnc_print_state_line(m->state);
		break;
	case VPN_CTL_EV_PROGRESS:
		printf("  ");
		vpnc_puts_safe(stdout, m->text);
		putchar('\n');
		break;
	case VPN_CTL_EV_WARNING:
		printf("warning: ");
		vpnc_puts_safe(stdout, m->text);
		putchar('\n');
		break;
	}
	fflush(stdout);
}

/* Opens a connection and makes it a listener. 0, or the exit status after printing. */
static int open_listener(struct vpnc_conn *c, const char *context)
{
	struct vpn_ctl_message reply;
	if (vpnc_open(c, context) != 0)
		return VPNC_EXIT_FAIL;
	if (vpnc_call(c, context, VPN_CTL_LISTEN, NULL, &reply) != 0)
		return VPNC_EXIT_FAIL;
	if (!reply.ok) {
		vpnc_fail_reply(context, &reply);
		vpn_ctl_message_clear(&reply);
		return VPNC_EXIT_FAIL;
	}
	vpn_ctl_message_clear(&reply);
	return 0;
}

int vpnc_cmd_status(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Prints the tunnel's state: disconnected, connecting (with the step it is at),\n"
		"connected (entry and exit gateways, mode, the tunnel's addresses, since when, its DNS\n"
		"servers), disconnecting, offline (no network: it reconnects when the network is\n"
		"back) or error (the reason, and what to do about it).\n"
		"\n"
		"With --listen, then prints every state change, connection step and warning as the\n"
		"daemon reports it, until Ctrl-C. With --json, --listen prints one JSON object per\n"
		"line: the current state as {\"event\": \"state\", \"state\": ...}, then each event as\n"
		"the daemon sends it.\n"
	};
	bool listen = false;
	struct cli_option opts[] = {
		{ "listen", CLI_FLAG, &listen, false, "keep printing state changes and progress until Ctrl-C", 'l' },
		VPNC_GLOBAL_OPTIONS,
		{ 0 },
	};
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	struct vpnc_conn events;
	if (listen && (rc = open_listener(&events, context))) {
		vpnc_close(&events);
		return rc;
	}
	struct vpn_ctl_message reply;
	if ((rc = vpnc_request(context, VPN_CTL_STATUS, NULL, &reply))) {
		if (listen)
			vpnc_close(&events);
		return rc;
	}
	if (vpnc_json && listen) {
		json_t *ev = json_pack("{s:s, s:O}", "event", "state", "state", reply.result);
		vpnc_print_json(ev);
		json_decref(ev);
	} else if (vpnc_json) {
		vpnc_print_json(reply.result);
	} else {
		vpnc_print_state(reply.result);
	}
	vpn_ctl_message_clear(&reply);
	if (!listen)
		return VPNC_EXIT_OK;
	for (;;) {
		struct vpn_ctl_message m;
		if (vpnc_read(&events, context, &m, -1) != 0)
			break;
		if (m.kind == VPN_CTL_MSG_EVENT)
			print_event(&m);
		vpn_ctl_message_clear(&m);
	}
	vpnc_close(&events);
	return VPNC_EXIT_FAIL; /* only the daemon going away ends a listen */
}

enum goal { GOAL_NONE, GOAL_CONNECTED, GOAL_DISCONNECTED };

/* Where a state leaves a --wait: 1 reached, -1 failed, 0 keep waiting. `armed`: the tunnel
 * has been seen on its way (a disconnected state before that is older than the request). */
static int judge(enum goal goal, const json_t *state, bool *armed)
{
	const char *s = vpnc_str(state, "state");
	if (goal == GOAL_CONNECTED) {
		if (strcmp(s, "connected") == 0)
			return 1;
		if (strcmp(s, "error") == 0)
			return -1;
		if (strcmp(s, "disconnected") == 0)
			return *armed ? -1 : 0;
		*armed = true;
		return 0;
	}
	if (strcmp(s, "disconnected") == 0)
		return 1;
	if (strcmp(s, "error") == 0)
		return -1;
	return 0;
}

/* mode: the tunnel's, from the last state seen ("mixnet", "wireguard"): steps are numbered
 * within the connection of that mode. */
static void print_progress(const struct vpn_ctl_message *m, const char *mode)
{
	/* the step as this program words it, and the daemon's own words when they say more */
	const char *desc = m->step < VPN_CTL_STEP_COUNT ? vpn_ctl_step_description(m->step) : NULL;
	unsigned index, count;
	if (desc && vpn_ctl_step_position(m->step, mode, &index, &count) == 0)
		printf("[%u/%u] %s", index, count, desc);
	else if (desc)
		printf("[-] %s", desc);
	else
		printf("      ");
	if (!desc || (m->text && *m->text && strcmp(m->text, desc) != 0 &&
		      strcmp(m->text, vpn_ctl_step_name(m->step)) != 0)) {
		printf(desc ? " (" : "");
		vpnc_puts_safe(stdout, m->text);
		printf(desc ? ")" : "");
	}
	putchar('\n');
	fflush(stdout);
}

/* The end of a --wait: the final state, in the current form. */
static int finish(const char *context, enum goal goal, const json_t *state, int verdict)
{
	if (vpnc_json) {
		vpnc_print_json(state);
		return verdict > 0 ? VPNC_EXIT_OK : VPNC_EXIT_FAIL;
	}
	if (verdict > 0) {
		vpnc_print_state(state);
		return VPNC_EXIT_OK;
	}
	const char *s = vpnc_str(state, "state");
	if (strcmp(s, "error") == 0) {
		enum vpn_ctl_reason r;
		const char *reason = vpnc_str(state, "reason"), *msg = vpnc_str(state, "message");
		fprintf(stderr, "%s: the tunnel failed: %s%s", context, *reason ? reason : "unknown error",
			*msg ? ": " : "");
		vpnc_puts_safe(stderr, msg);
		fputc('\n', stderr);
		if (vpn_ctl_reason_parse(reason, &r) == 0)
			fprintf(stderr, "%s: what to do: %s\n", context, vpn_ctl_reason_hint(r));
	} else if (goal == GOAL_CONNECTED) {
		fprintf(stderr, "%s: the tunnel went %s before it was up (another `nym-vpnc disconnect`?)\n",
			context, s);
	}
	return VPNC_EXIT_FAIL;
}

/* connect / disconnect / reconnect, and with `goal` their --wait: the listener is opened before
 * the request so no event is missed. */
static int change(const char *context, enum vpn_ctl_cmd cmd, enum goal goal)
{
	struct vpnc_conn events;
	int rc;
	if (goal != GOAL_NONE) {
		if ((rc = open_listener(&events, context))) {
			vpnc_close(&events);
			return rc;
		}
		/* drop what was queued before the request (an initial state, say) */
		for (;;) {
			struct vpn_ctl_message m;
			rc = vpnc_read(&events, context, &m, SETTLE_MS);
			if (rc == -ETIMEDOUT)
				break;
			if (rc) {
				vpnc_close(&events);
				return VPNC_EXIT_FAIL;
			}
			vpn_ctl_message_clear(&m);
		}
	}
	struct vpn_ctl_message reply;
	if ((rc = vpnc_request(context, cmd, NULL, &reply))) {
		if (goal != GOAL_NONE)
			vpnc_close(&events);
		return rc;
	}
	if (goal == GOAL_NONE) {
		if (vpnc_json) {
			vpnc_print_json(reply.result);
		} else {
			vpnc_print_state(reply.result);
			const char *s = vpnc_str(reply.result, "state");
			if (strcmp(s, "connecting") == 0 || strcmp(s, "disconnecting") == 0)
				printf("follow it with `nym-vpnc status --listen`, or use --wait\n");
		}
		vpn_ctl_message_clear(&reply);
		return VPNC_EXIT_OK;
	}
	bool armed = false;
	int verdict = judge(goal, reply.result, &armed);
	if (verdict) {
		rc = finish(context, goal, reply.result, verdict);
		vpn_ctl_message_clear(&reply);
		vpnc_close(&events);
		return rc;
	}
	char mode[16];
	snprintf(mode, sizeof(mode), "%s", vpnc_str(reply.result, "mode"));
	vpn_ctl_message_clear(&reply);
	long long last_attempt = 0;
	bool said_offline = false;
	for (;;) {
		struct vpn_ctl_message m;
		if (vpnc_read(&events, context, &m, -1) != 0) {
			vpnc_close(&events);
			return VPNC_EXIT_FAIL;
		}
		if (m.kind != VPN_CTL_MSG_EVENT) {
			vpn_ctl_message_clear(&m);
			continue;
		}
		if (m.event == VPN_CTL_EV_PROGRESS) {
			armed = true;
			if (!vpnc_json)
				print_progress(&m, mode);
		} else if (m.event == VPN_CTL_EV_WARNING) {
			if (!vpnc_json) {
				fprintf(stderr, "warning: ");
				vpnc_puts_safe(stderr, m.text);
				fputc('\n', stderr);
			}
		} else {
			if (json_is_string(json_object_get(m.state, "mode")))
				snprintf(mode, sizeof(mode), "%s", vpnc_str(m.state, "mode"));
			verdict = judge(goal, m.state, &armed);
			if (verdict) {
				rc = finish(context, goal, m.state, verdict);
				vpn_ctl_message_clear(&m);
				vpnc_close(&events);
				return rc;
			}
			const char *s = vpnc_str(m.state, "state");
			json_t *attempt = json_object_get(m.state, "retry_attempt");
			if (!vpnc_json && strcmp(s, "connecting") == 0 && json_is_integer(attempt) &&
			    json_integer_value(attempt) > last_attempt) {
				last_attempt = json_integer_value(attempt);
				printf("retrying (attempt %lld)\n", last_attempt + 1);
			}
			if (!vpnc_json && strcmp(s, "offline") == 0 && !said_offline) {
				said_offline = true;
				printf("offline: no network; waiting for it to come back\n");
			}
			fflush(stdout);
		}
		vpn_ctl_message_clear(&m);
	}
}

int vpnc_cmd_connect(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Asks the daemon to connect the tunnel with the current settings (`gateway set`,\n"
		"`tunnel set`, `dns set`, `lan set`) and to keep it connected, across its own restarts,\n"
		"until `nym-vpnc disconnect`. From now on the kill switch only lets traffic out\n"
		"through the tunnel. Needs root or the daemon's socket group.\n"
		"\n"
		"Without --wait, prints the state right after the request (usually connecting).\n"
		"With --wait, prints each step as it happens (fetching the topology, selecting\n"
		"gateways, spending a ticket, connecting to the entry gateway, waiting for the IP\n"
		"packet router, configuring the tunnel, up) and any warning (few tickets left), and\n"
		"exits 0 once connected, or 1 with the reason and what to do when the connection\n"
		"fails. With --json and --wait, prints only the final state.\n"
	};
	bool wait = false;
	struct cli_option opts[] = {
		{ "wait", CLI_FLAG, &wait, false, "wait until connected (exit 0) or failed (exit 1)", 'w' },
		VPNC_GLOBAL_OPTIONS,
		{ 0 },
	};
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	return change(context, VPN_CTL_CONNECT, wait ? GOAL_CONNECTED : GOAL_NONE);
}

int vpnc_cmd_disconnect(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Asks the daemon to disconnect the tunnel: routes, DNS and the kill switch are taken\n"
		"down and the host's own network configuration comes back. The daemon stays\n"
		"disconnected across its restarts. Needs root or the daemon's socket group.\n"
		"\n"
		"With --wait, exits once disconnected (0), or failed (1).\n"
	};
	bool wait = false;
	struct cli_option opts[] = {
		{ "wait", CLI_FLAG, &wait, false, "wait until disconnected", 'w' },
		VPNC_GLOBAL_OPTIONS,
		{ 0 },
	};
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	return change(context, VPN_CTL_DISCONNECT, wait ? GOAL_DISCONNECTED : GOAL_NONE);
}

int vpnc_cmd_reconnect(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Reconnects the tunnel with the current settings (new gateways when they are chosen\n"
		"by country or at random), as after a settings change. Prints the state right after\n"
		"the request. Needs root or the daemon's socket group.\n"
	};
	struct cli_option opts[] = { VPNC_GLOBAL_OPTIONS, { 0 } };
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	return change(context, VPN_CTL_RECONNECT, GOAL_NONE);
}
