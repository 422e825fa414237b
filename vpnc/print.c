/* The text forms of the daemon's results: states, settings and tables, after NymVPN's vpnc. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpnc/vpnc.h"

const char *vpnc_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

static long long int_of(const json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void vpnc_format_time(long long unix_s, char out[48])
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	if (unix_s <= 0 || !gmtime_r(&t, &tm) || !strftime(out, 48, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, 48, "%s", unix_s <= 0 ? "never" : "?");
}

static void format_duration(long long s, char out[48])
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, 48, "%lldd %lldh", s / 86400, (s % 86400) / 3600);
	else if (s >= 3600)
		snprintf(out, 48, "%lldh %lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		snprintf(out, 48, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(out, 48, "%llds", s);
}

/* A JSON array of strings as "a, b, c" (or `none`). */
static void join(const json_t *arr, const char *none, char *out, size_t cap)
{
	size_t off = 0;
	out[0] = 0;
	for (size_t i = 0; i < json_array_size(arr) && off < cap; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? ", " : "", s ? s : "?");
	}
	if (!out[0])
		snprintf(out, cap, "%s", none);
}

static int label_width = 34;

static void puts_line(const char *label, const char *value)
{
	printf("%-*s ", label_width, label);
	vpnc_puts_safe(stdout, value);
	putchar('\n');
}

static const char *step_text(const char *step)
{
	enum vpn_ctl_step s;
	return vpn_ctl_step_parse(step, &s) == 0 ? vpn_ctl_step_description(s) : step;
}

static const char *onoff(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return !json_is_boolean(v) ? "?" : json_is_true(v) ? "on" : "off";
}

/* "Connected to <entry> -> <exit> (mixnet), IPv4 10.0.0.2, IPv6 fc00::2, since ..." */
void vpnc_print_state_line(const json_t *st)
{
	const char *state = vpnc_str(st, "state"), *mode = vpnc_str(st, "mode");
	json_t *c = json_object_get(st, "connection");
	char buf[1024];
	if (strcmp(state, "connected") == 0 && c) {
		char when[48], ago[48];
		long long since = int_of(c, "since", 0);
		vpnc_format_time(since, when);
		format_duration((long long)time(NULL) - since, ago);
		int n = snprintf(buf, sizeof(buf), "Connected to %s -> %s (%s)",
				 vpnc_str(json_object_get(c, "entry"), "id"),
				 vpnc_str(json_object_get(c, "exit"), "id"), mode);
		if (*vpnc_str(c, "ipv4"))
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", IPv4 %s", vpnc_str(c, "ipv4"));
		if (*vpnc_str(c, "ipv6") && (size_t)n < sizeof(buf))
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", IPv6 %s", vpnc_str(c, "ipv6"));
		if ((size_t)n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - (size_t)n, ", since %s (%s)", when, ago);
	} else if (strcmp(state, "connecting") == 0) {
		long long attempt = int_of(st, "retry_attempt", 0);
		const char *progress = vpnc_str(st, "progress");
		int n = snprintf(buf, sizeof(buf), "Connecting (%s)", mode);
		if (attempt > 0)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", attempt %lld", attempt + 1);
		if (*progress && (size_t)n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", step_text(progress));
	} else if (strcmp(state, "disconnecting") == 0) {
		const char *after = vpnc_str(st, "after_disconnect");
		snprintf(buf, sizeof(buf), "Disconnecting%s%s%s", *after ? " (then " : "", after,
			 *after ? ")" : "");
	} else if (strcmp(state, "disconnected") == 0) {
		snprintf(buf, sizeof(buf), "Disconnected");
	} else if (strcmp(state, "offline") == 0) {
		snprintf(buf, sizeof(buf), "Offline: no network; the tunnel comes back with it");
	} else if (strcmp(state, "error") == 0) {
		const char *reason = vpnc_str(st, "reason"), *msg = vpnc_str(st, "message");
		snprintf(buf, sizeof(buf), "Error: %s%s%s", *reason ? reason : "unknown",
			 *msg ? ": " : "", msg);
	} else {
		snprintf(buf, sizeof(buf), "State %s", state);
	}
	vpnc_puts_safe(stdout, buf);
	putchar('\n');
}

void vpnc_print_state(const json_t *st)
{
	vpnc_print_state_line(st);
	const char *state = vpnc_str(st, "state");
	json_t *c = json_object_get(st, "connection");
	if (c) {
		char dns[512];
		json_t *entry = json_object_get(c, "entry");
		printf("  entry gateway   ");
		vpnc_puts_safe(stdout, vpnc_str(entry, "id"));
		if (*vpnc_str(entry, "address")) {
			printf(" at ");
			vpnc_puts_safe(stdout, vpnc_str(entry, "address"));
		}
		printf("\n  exit gateway    ");
		vpnc_puts_safe(stdout, vpnc_str(json_object_get(c, "exit"), "id"));
		printf("\n  device          ");
		vpnc_puts_safe(stdout, vpnc_str(c, "tun"));
		join(json_object_get(c, "dns"), "(none)", dns, sizeof(dns));
		printf("\n  DNS             ");
		vpnc_puts_safe(stdout, dns);
		putchar('\n');
		json_t *awg = json_object_get(json_object_get(c, "wireguard"), "amnezia");
		if (awg) {
			printf("  AmneziaWG       ");
			vpnc_puts_safe(stdout, vpnc_str(awg, "preset"));
			if (*vpnc_str(awg, "params")) {
				printf(" (");
				vpnc_puts_safe(stdout, vpnc_str(awg, "applied"));
				printf("): ");
				vpnc_puts_safe(stdout, vpnc_str(awg, "params"));
			}
			putchar('\n');
		}
	}
	json_t *tl = json_object_get(st, "tickets_left");
	if (json_is_integer(tl))
		printf("  tickets left    %" JSON_INTEGER_FORMAT "\n", json_integer_value(tl));
	if (strcmp(state, "error") == 0) {
		enum vpn_ctl_reason r;
		if (vpn_ctl_reason_parse(vpnc_str(st, "reason"), &r) == 0)
			printf("  what to do      %s\n", vpn_ctl_reason_hint(r));
	}
	fflush(stdout);
}

void vpnc_print_info(const json_t *info)
{
	static const struct {
		const char *key, *label;
	} known[] = {
		{ "version", "version" }, { "commit", "commit" },     { "platform", "platform" },
		{ "network", "network" }, { "data_dir", "data directory" }, { "socket", "socket" },
		{ "config", "configuration" },
	};
	label_width = 18;
	printf("nym-vpnd ");
	vpnc_puts_safe(stdout, vpnc_str(info, "version"));
	putchar('\n');
	const char *key;
	json_t *v;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		v = json_object_get(info, known[i].key);
		if (!v || strcmp(known[i].key, "version") == 0)
			continue;
		char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char label[64];
		snprintf(label, sizeof(label), "  %s:", known[i].label);
		puts_line(label, text ? text : json_string_value(v));
		free(text);
	}
	json_object_foreach((json_t *)info, key, v) {
		bool seen = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !seen; i++)
			seen = strcmp(known[i].key, key) == 0;
		if (seen)
			continue;
		char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char label[96];
		snprintf(label, sizeof(label), "  %s:", key);
		puts_line(label, text ? text : json_string_value(v));
		free(text);
	}
}

static void point_text(const json_t *p, char *out, size_t cap)
{
	const char *kind = vpnc_str(p, "kind");
	if (strcmp(kind, "id") == 0)
		snprintf(out, cap, "gateway %s", vpnc_str(p, "id"));
	else if (strcmp(kind, "country") == 0)
		snprintf(out, cap, "a gateway in %s", vpnc_str(p, "country"));
	else if (strcmp(kind, "random") == 0)
		snprintf(out, cap, "a random gateway");
	else
		snprintf(out, cap, "%s", *kind ? kind : "(not set)");
}

void vpnc_print_gateways(const json_t *points)
{
	label_width = 7;
	char buf[128];
	point_text(json_object_get(points, "entry"), buf, sizeof(buf));
	puts_line("entry:", buf);
	point_text(json_object_get(points, "exit"), buf, sizeof(buf));
	puts_line("exit:", buf);
}

void vpnc_print_gateway_list(const json_t *result)
{
	json_t *gws = json_object_get(result, "gateways");
	size_t n = json_array_size(gws);
	if (n == 0) {
		printf("no gateway of this type in the current topology\n");
		return;
	}
	printf("%-46s %-7s %-28s %s\n", "ID", "COUNTRY", "ROLES", "ADDRESSES");
	for (size_t i = 0; i < n; i++) {
		json_t *g = json_array_get(gws, i);
		char roles[256], addrs[512], line[1024];
		join(json_object_get(g, "roles"), "-", roles, sizeof(roles));
		join(json_object_get(g, "addresses"), "-", addrs, sizeof(addrs));
		snprintf(line, sizeof(line), "%-46s %-7s %-28s %s", vpnc_str(g, "id"),
			 *vpnc_str(g, "country") ? vpnc_str(g, "country") : "-", roles, addrs);
		vpnc_puts_safe(stdout, line);
		putchar('\n');
	}
	printf("%zu gateway%s\n", n, n == 1 ? "" : "s");
}

void vpnc_print_tunnel(const json_t *t)
{
	label_width = 34;
	char buf[64];
	puts_line("two-hop:", onoff(t, "two_hop"));
	puts_line("ipv6:", onoff(t, "ipv6"));
	snprintf(buf, sizeof(buf), "%lld", int_of(t, "mtu", -1));
	puts_line("mtu:", buf);
	snprintf(buf, sizeof(buf), "%lld ms", int_of(t, "average_packet_delay_ms", -1));
	puts_line("average packet delay:", buf);
	snprintf(buf, sizeof(buf), "%lld ms", int_of(t, "message_sending_delay_ms", -1));
	puts_line("message sending delay:", buf);
	snprintf(buf, sizeof(buf), "%lld ms", int_of(t, "loop_cover_stream_average_delay_ms", -1));
	puts_line("loop cover stream average delay:", buf);
	puts_line("disable real traffic poisson rate:", onoff(t, "disable_real_traffic_poisson_rate"));
	puts_line("amnezia (two-hop entry):", *vpnc_str(t, "amnezia") ? vpnc_str(t, "amnezia") : "off");
}

void vpnc_print_dns(const json_t *dns)
{
	label_width = 10;
	char buf[512];
	join(json_object_get(dns, "servers"), "(none: the default is used)", buf, sizeof(buf));
	puts_line("custom:", buf);
	join(json_object_get(dns, "default"), "(none)", buf, sizeof(buf));
	puts_line("default:", buf);
	join(json_object_get(dns, "effective"), "(none)", buf, sizeof(buf));
	puts_line("effective:", buf);
}

void vpnc_print_credentials(const json_t *result)
{
	json_t *types = json_object_get(result, "types");
	json_t *unreadable = json_object_get(result, "unreadable");
	size_t n = json_array_size(types);
	if (json_array_size(unreadable)) {
		char names[512];
		join(unreadable, "", names, sizeof(names));
		fprintf(stderr, "warning: ticketbooks the daemon cannot read (skipped): ");
		vpnc_puts_safe(stderr, names);
		fputc('\n', stderr);
	}
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= int_of(json_array_get(types, i), "tickets_left", 0) > 0;
	if (n == 0)
		return;
	printf("%-14s %12s %6s  %s\n", "TYPE", "TICKETS LEFT", "BOOKS", "EXPIRES (SOONEST)");
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(types, i);
		char when[48], line[256];
		vpnc_format_time(int_of(t, "expires", 0), when);
		snprintf(line, sizeof(line), "%-14s %12lld %6lld  %s", vpnc_str(t, "type"),
			 int_of(t, "tickets_left", 0), int_of(t, "books", 0), when);
		vpnc_puts_safe(stdout, line);
		putchar('\n');
	}
	if (!any)
		printf("no tickets left: obtain some with `nym-vpnc credentials obtain --authority URL "
		       "--voucher CODE`\n");
}

void vpnc_print_books(const json_t *result)
{
	json_t *books = json_object_get(result, "books");
	size_t n = json_array_size(books);
	printf("obtained %zu ticketbook%s\n", n, n == 1 ? "" : "s");
	if (n == 0)
		return;
	printf("%-14s %8s  %s\n", "TYPE", "TICKETS", "EXPIRES");
	for (size_t i = 0; i < n; i++) {
		json_t *b = json_array_get(books, i);
		char when[48], line[256];
		vpnc_format_time(int_of(b, "expires", 0), when);
		snprintf(line, sizeof(line), "%-14s %8lld  %s", vpnc_str(b, "type"), int_of(b, "tickets", 0),
			 when);
		vpnc_puts_safe(stdout, line);
		putchar('\n');
	}
}

void vpnc_print_network(const json_t *result)
{
	label_width = 8;
	puts_line("network:", vpnc_str(result, "network"));
	json_t *auth = json_object_get(result, "authorities");
	if (json_is_array(auth)) {
		printf("authorities:\n");
		for (size_t i = 0; i < json_array_size(auth); i++) {
			printf("  ");
			vpnc_puts_safe(stdout, json_string_value(json_array_get(auth, i)));
			putchar('\n');
		}
	}
	if (json_is_true(json_object_get(result, "restart_required")))
		printf("restart the daemon for the new network to take effect: systemctl restart "
		       "nym-vpnd\n");
}
