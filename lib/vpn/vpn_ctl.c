#include "vpn/vpn_ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred/issue.h"
#include "util/base58.h"

/* ---- names ---- */

static const char *const code_names[] = {
	[VPN_CTL_UNKNOWN_COMMAND] = "unknown_command",
	[VPN_CTL_BAD_REQUEST] = "bad_request",
	[VPN_CTL_INVALID_ARGUMENT] = "invalid_argument",
	[VPN_CTL_PERMISSION_DENIED] = "permission_denied",
	[VPN_CTL_NOT_FOUND] = "not_found",
	[VPN_CTL_INTERNAL] = "internal",
	[VPN_CTL_UNAVAILABLE] = "unavailable",
};
#define N_CODES (sizeof(code_names) / sizeof(code_names[0]))

static int lookup(const char *const *names, size_t n, const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

const char *vpn_ctl_code_name(enum vpn_ctl_code code)
{
	return (unsigned)code < N_CODES ? code_names[code] : NULL;
}

int vpn_ctl_code_parse(const char *name, enum vpn_ctl_code *out)
{
	int i = lookup(code_names, N_CODES, name);
	if (i < 0)
		return i;
	*out = (enum vpn_ctl_code)i;
	return 0;
}

int vpn_ctl_error_set(struct vpn_ctl_error *err, enum vpn_ctl_code code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		/* jansson quotes the offending input: no control character reaches a terminal */
		for (char *p = err->message; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return -EINVAL;
}

const struct vpn_ctl_command vpn_ctl_commands[VPN_CTL_CMD_COUNT] = {
	{ VPN_CTL_INFO, "info", false, "the daemon's version, network, paths and configuration" },
	{ VPN_CTL_STATUS, "status", false, "the tunnel state" },
	{ VPN_CTL_LISTEN, "listen", false, "receive state, progress and warning events" },
	{ VPN_CTL_CONNECT, "connect", true, "connect the tunnel (and keep it connected)" },
	{ VPN_CTL_DISCONNECT, "disconnect", true, "disconnect the tunnel" },
	{ VPN_CTL_RECONNECT, "reconnect", true, "reconnect the tunnel with the current settings" },
	{ VPN_CTL_GATEWAY_GET, "gateway_get", false, "the entry and exit points" },
	{ VPN_CTL_GATEWAY_SET, "gateway_set", true, "set the entry and/or exit point" },
	{ VPN_CTL_GATEWAY_LIST, "gateway_list", false, "the gateways of one type" },
	{ VPN_CTL_TUNNEL_GET, "tunnel_get", false, "the tunnel settings" },
	{ VPN_CTL_TUNNEL_SET, "tunnel_set", true, "change tunnel settings" },
	{ VPN_CTL_DNS_GET, "dns_get", false, "the DNS servers: custom, default and effective" },
	{ VPN_CTL_DNS_SET, "dns_set", true, "use these DNS servers through the tunnel" },
	{ VPN_CTL_DNS_CLEAR, "dns_clear", true, "go back to the default DNS servers" },
	{ VPN_CTL_LAN_GET, "lan_get", false, "whether the local network is reachable" },
	{ VPN_CTL_LAN_SET, "lan_set", true, "allow or block the local network" },
	{ VPN_CTL_CREDENTIALS_OBTAIN, "credentials_obtain", true, "obtain ticketbooks with vouchers" },
	{ VPN_CTL_CREDENTIALS_LIST, "credentials_list", false, "tickets left per type" },
	{ VPN_CTL_NETWORK_GET, "network_get", false, "the network and its authorities" },
	{ VPN_CTL_NETWORK_SET, "network_set", true, "switch network (takes effect at restart)" },
};

const struct vpn_ctl_command *vpn_ctl_command_find(const char *name)
{
	for (size_t i = 0; name && i < VPN_CTL_CMD_COUNT; i++)
		if (strcmp(vpn_ctl_commands[i].name, name) == 0)
			return &vpn_ctl_commands[i];
	return NULL;
}

const struct vpn_ctl_command *vpn_ctl_command_get(enum vpn_ctl_cmd cmd)
{
	return (unsigned)cmd < VPN_CTL_CMD_COUNT ? &vpn_ctl_commands[cmd] : NULL;
}

static const char *const gw_type_names[] = {
	[VPN_CTL_GW_MIXNET_ENTRY] = "mixnet-entry",
	[VPN_CTL_GW_MIXNET_EXIT] = "mixnet-exit",
	[VPN_CTL_GW_WG] = "wg",
};

const char *vpn_ctl_gateway_type_name(enum vpn_ctl_gateway_type t)
{
	return (unsigned)t < 3 ? gw_type_names[t] : NULL;
}

int vpn_ctl_gateway_type_parse(const char *name, enum vpn_ctl_gateway_type *out)
{
	int i = lookup(gw_type_names, 3, name);
	if (i < 0)
		return i;
	*out = (enum vpn_ctl_gateway_type)i;
	return 0;
}

const char *vpn_ctl_lan_name(enum vpn_ctl_lan l)
{
	return l == VPN_CTL_LAN_ALLOW ? "allow" : l == VPN_CTL_LAN_BLOCK ? "block" : NULL;
}

static const char *const step_names[VPN_CTL_STEP_COUNT] = {
	"fetching_topology", "selecting_gateways", "connecting_entry", "spending_ticket",
	"waiting_for_ipr",   "registering_entry",  "registering_exit", "configuring_tunnel", "up",
};
static const char *const step_descriptions[VPN_CTL_STEP_COUNT] = {
	"fetching the topology",
	"selecting gateways",
	"connecting to the entry gateway",
	"spending a ticket",
	"waiting for the IP packet router",
	"registering with the entry gateway",
	"registering with the exit gateway",
	"configuring the tunnel",
	"up",
};

static const enum vpn_ctl_step mixnet_steps[] = {
	VPN_CTL_STEP_FETCHING_TOPOLOGY, VPN_CTL_STEP_SELECTING_GATEWAYS, VPN_CTL_STEP_CONNECTING_ENTRY,
	VPN_CTL_STEP_SPENDING_TICKET,	VPN_CTL_STEP_WAITING_FOR_IPR,	  VPN_CTL_STEP_CONFIGURING_TUNNEL,
	VPN_CTL_STEP_UP,
};
static const enum vpn_ctl_step wireguard_steps[] = {
	VPN_CTL_STEP_FETCHING_TOPOLOGY, VPN_CTL_STEP_SELECTING_GATEWAYS,  VPN_CTL_STEP_REGISTERING_ENTRY,
	VPN_CTL_STEP_REGISTERING_EXIT,	VPN_CTL_STEP_CONFIGURING_TUNNEL, VPN_CTL_STEP_UP,
};

int vpn_ctl_step_position(enum vpn_ctl_step s, const char *mode, unsigned *index, unsigned *count)
{
	const enum vpn_ctl_step *steps;
	size_t n;
	if (mode && strcmp(mode, "mixnet") == 0)
		steps = mixnet_steps, n = sizeof(mixnet_steps) / sizeof(mixnet_steps[0]);
	else if (mode && strcmp(mode, "wireguard") == 0)
		steps = wireguard_steps, n = sizeof(wireguard_steps) / sizeof(wireguard_steps[0]);
	else
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (steps[i] == s) {
			*index = (unsigned)i + 1;
			*count = (unsigned)n;
			return 0;
		}
	return -ENOENT;
}

const char *vpn_ctl_step_name(enum vpn_ctl_step s)
{
	return (unsigned)s < VPN_CTL_STEP_COUNT ? step_names[s] : NULL;
}

const char *vpn_ctl_step_description(enum vpn_ctl_step s)
{
	return (unsigned)s < VPN_CTL_STEP_COUNT ? step_descriptions[s] : NULL;
}

int vpn_ctl_step_parse(const char *name, enum vpn_ctl_step *out)
{
	int i = lookup(step_names, VPN_CTL_STEP_COUNT, name);
	if (i < 0)
		return i;
	*out = (enum vpn_ctl_step)i;
	return 0;
}

static const char *const state_names[] = {
	[VPN_CTL_DISCONNECTED] = "disconnected", [VPN_CTL_CONNECTING] = "connecting",
	[VPN_CTL_CONNECTED] = "connected",	 [VPN_CTL_DISCONNECTING] = "disconnecting",
	[VPN_CTL_OFFLINE] = "offline",		 [VPN_CTL_ERROR] = "error",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *vpn_ctl_state_name(enum vpn_ctl_state_kind s)
{
	return (unsigned)s < N_STATES ? state_names[s] : NULL;
}

int vpn_ctl_state_parse(const char *name, enum vpn_ctl_state_kind *out)
{
	int i = lookup(state_names, N_STATES, name);
	if (i < 0)
		return i;
	*out = (enum vpn_ctl_state_kind)i;
	return 0;
}

const char *vpn_ctl_mode_name(enum vpn_ctl_mode m)
{
	return m == VPN_CTL_MODE_MIXNET ? "mixnet" : m == VPN_CTL_MODE_WIREGUARD ? "wireguard" : NULL;
}

static const struct {
	const char *name, *hint;
} reasons[] = {
	[VPN_CTL_REASON_NONE] = { NULL, "" },
	[VPN_CTL_REASON_FIREWALL] = { "firewall",
				      "the kill switch could not be set up: check that nftables works "
				      "(the daemon's log has the details)" },
	[VPN_CTL_REASON_ROUTING] = { "routing", "the tunnel's routes could not be set: check the "
						"daemon's log" },
	[VPN_CTL_REASON_SET_DNS] = { "set_dns", "the DNS servers could not be set: check "
						"dns.backend in the configuration" },
	[VPN_CTL_REASON_TUN_DEVICE] = { "tun_device", "the TUN device could not be created: check "
						      "that /dev/net/tun exists" },
	[VPN_CTL_REASON_TUNNEL_PROVIDER] = { "tunnel_provider",
					     "the tunnel failed: try `nym-vpnc reconnect` or "
					     "another gateway" },
	[VPN_CTL_REASON_RESOLVE_GATEWAY_ADDRS] = { "resolve_gateway_addrs",
						   "the gateways could not be found: check the "
						   "network and `nym-vpnc network get`" },
	[VPN_CTL_REASON_SAME_ENTRY_AND_EXIT_GATEWAY] = { "same_entry_and_exit_gateway",
							 "pick different entry and exit "
							 "gateways with `nym-vpnc gateway set`" },
	[VPN_CTL_REASON_INVALID_ENTRY_GATEWAY_COUNTRY] = { "invalid_entry_gateway_country",
							   "no entry gateway in that country: "
							   "see `nym-vpnc gateway list "
							   "mixnet-entry`" },
	[VPN_CTL_REASON_INVALID_EXIT_GATEWAY_COUNTRY] = { "invalid_exit_gateway_country",
							  "no exit gateway in that country: see "
							  "`nym-vpnc gateway list mixnet-exit`" },
	[VPN_CTL_REASON_NO_TICKETS] = { "no_tickets", "obtain credentials with `nym-vpnc "
						      "credentials obtain`" },
	[VPN_CTL_REASON_INTERNAL] = { "internal", "see the daemon's log (journalctl -u nym-vpnd)" },
};
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

const char *vpn_ctl_reason_name(enum vpn_ctl_reason r)
{
	return (unsigned)r < N_REASONS ? reasons[r].name : NULL;
}

const char *vpn_ctl_reason_hint(enum vpn_ctl_reason r)
{
	return (unsigned)r < N_REASONS ? reasons[r].hint : "";
}

int vpn_ctl_reason_parse(const char *name, enum vpn_ctl_reason *out)
{
	for (size_t i = 1; name && i < N_REASONS; i++) {
		if (strcmp(reasons[i].name, name) == 0) {
			*out = (enum vpn_ctl_reason)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const after_names[] = {
	[VPN_CTL_AFTER_NONE] = NULL,	       [VPN_CTL_AFTER_NOTHING] = "nothing",
	[VPN_CTL_AFTER_RECONNECT] = "reconnect", [VPN_CTL_AFTER_OFFLINE] = "offline",
	[VPN_CTL_AFTER_ERROR] = "error",
};

const char *vpn_ctl_after_name(enum vpn_ctl_after a)
{
	return (unsigned)a < sizeof(after_names) / sizeof(after_names[0]) ? after_names[a] : NULL;
}

/* ---- argument checks ---- */

/* A user-supplied string, made safe to quote in a message: printable ASCII, at most 40
 * characters. */
static const char *shown(const char *s, char buf[48])
{
	size_t i = 0;
	for (; s && s[i] && i < 40; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	buf[i] = 0;
	if (s && s[i])
		strcpy(buf + i, "...");
	return buf;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

int vpn_ctl_parse_country(const char *s, const char *what, char out[3], struct vpn_ctl_error *err)
{
	char b[48];
	bool ok = s && strlen(s) == 2;
	for (int i = 0; ok && i < 2; i++)
		ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z');
	if (!ok)
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must be a two-letter ISO 3166 country code such as DE, got \"%s\"",
					 what, shown(s, b));
	for (int i = 0; i < 2; i++)
		out[i] = (char)(s[i] >= 'a' ? s[i] - 'a' + 'A' : s[i]);
	out[2] = 0;
	return 0;
}

int vpn_ctl_parse_b58_id(const char *s, const char *what, uint8_t out[VPN_CTL_ID_LEN],
			 struct vpn_ctl_error *err)
{
	char b[48];
	if (!s || strlen(s) >= VPN_CTL_B58_MAX || nym_base58_decode_exact(out, VPN_CTL_ID_LEN, s) != 0)
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must be a base58 key of 32 bytes, got \"%s\"", what, shown(s, b));
	return 0;
}

int vpn_ctl_parse_ip(const char *s, const char *what, char out[VPN_CTL_IP_STR_MAX],
		     struct vpn_ctl_error *err)
{
	char b[48];
	uint8_t a[16];
	int family = 0;
	if (s && strlen(s) < VPN_CTL_IP_STR_MAX) {
		if (inet_pton(AF_INET, s, a) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, s, a) == 1)
			family = AF_INET6;
	}
	if (!family || !inet_ntop(family, a, out, VPN_CTL_IP_STR_MAX))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must be an IPv4 or IPv6 address, got \"%s\"", what, shown(s, b));
	return 0;
}

static int want_string(const json_t *v, const char *what, const char **out, struct vpn_ctl_error *err)
{
	if (!json_is_string(v))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT, "%s must be a string, not %s",
					 what, json_type_name(v));
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT, "%s contains a NUL character",
					 what);
	return 0;
}

static int want_bool(const json_t *v, const char *what, bool *out, struct vpn_ctl_error *err)
{
	if (!json_is_boolean(v))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must be true or false, not %s", what, json_type_name(v));
	*out = json_is_true(v);
	return 0;
}

static int want_range(const json_t *v, const char *what, long long lo, long long hi, uint32_t *out,
		      struct vpn_ctl_error *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must be an integer from %lld to %lld (milliseconds)", what, lo,
					 hi);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int want_array(const json_t *v, const char *what, size_t lo, size_t hi,
		      struct vpn_ctl_error *err)
{
	if (!json_is_array(v))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT, "%s must be an array, not %s",
					 what, json_type_name(v));
	if (json_array_size(v) < lo || json_array_size(v) > hi)
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must hold %zu to %zu items, it holds %zu", what, lo, hi,
					 json_array_size(v));
	return 0;
}

/* Every member of obj must be one of the NULL-terminated names. */
static int only_members(const json_t *obj, const char *what, const char *const *names,
			struct vpn_ctl_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		bool known = false;
		for (size_t i = 0; names[i] && !known; i++)
			known = strcmp(names[i], key) == 0;
		if (!known) {
			char b[48], list[160] = "";
			size_t off = 0;
			for (size_t i = 0; names[i] && off < sizeof(list); i++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							i ? ", " : "", names[i]);
			if (!names[0])
				return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
							 "unknown argument \"%s\": %s takes none",
							 shown(key, b), what);
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
						 "unknown argument \"%s\" for %s (known: %s)",
						 shown(key, b), what, list);
		}
	}
	return 0;
}

int vpn_ctl_parse_point(const json_t *v, const char *what, struct vpn_ctl_point *out,
			struct vpn_ctl_error *err)
{
	char b[48];
	const char *kind, *s;
	char w[64];
	memset(out, 0, sizeof(*out));
	if (!json_is_object(v))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "%s must be an object {\"kind\": \"random\"|\"id\"|\"country\", ...}, not %s",
					 what, json_type_name(v));
	snprintf(w, sizeof(w), "%s.kind", what);
	json_t *k = json_object_get(v, "kind");
	if (!k)
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT, "%s has no \"kind\"", what);
	if (want_string(k, w, &kind, err))
		return -EINVAL;
	if (strcmp(kind, "random") == 0) {
		static const char *const names[] = { "kind", NULL };
		out->kind = VPN_CTL_POINT_RANDOM;
		return only_members(v, what, names, err);
	}
	if (strcmp(kind, "id") == 0) {
		static const char *const names[] = { "kind", "id", NULL };
		out->kind = VPN_CTL_POINT_ID;
		if (only_members(v, what, names, err))
			return -EINVAL;
		snprintf(w, sizeof(w), "%s.id", what);
		json_t *id = json_object_get(v, "id");
		if (!id)
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT, "%s has no \"id\"", what);
		if (want_string(id, w, &s, err))
			return -EINVAL;
		return vpn_ctl_parse_b58_id(s, w, out->id, err);
	}
	if (strcmp(kind, "country") == 0) {
		static const char *const names[] = { "kind", "country", NULL };
		out->kind = VPN_CTL_POINT_COUNTRY;
		if (only_members(v, what, names, err))
			return -EINVAL;
		snprintf(w, sizeof(w), "%s.country", what);
		json_t *c = json_object_get(v, "country");
		if (!c)
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT, "%s has no \"country\"",
						 what);
		if (want_string(c, w, &s, err))
			return -EINVAL;
		return vpn_ctl_parse_country(s, w, out->country, err);
	}
	return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
				 "%s must be \"random\", \"id\" or \"country\", got \"%s\"", w, shown(kind, b));
}

static bool network_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= VPN_CTL_NETWORK_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  (i > 0 && (c == '-' || c == '_'));
		if (!ok)
			return false;
	}
	return true;
}

static bool url_ok(const char *s)
{
	size_t n = strlen(s);
	size_t skip;
	if (strncmp(s, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (n <= skip || n >= VPN_CTL_URL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return s[skip] != '/';
}

const char *vpn_ctl_amnezia_name(enum vpn_ctl_amnezia a)
{
	return a == VPN_CTL_AMNEZIA_BASE ? "base" : a == VPN_CTL_AMNEZIA_RANDOM ? "random" : "off";
}

int vpn_ctl_amnezia_parse(const char *name, enum vpn_ctl_amnezia *out)
{
	static const enum vpn_ctl_amnezia all[] = { VPN_CTL_AMNEZIA_OFF, VPN_CTL_AMNEZIA_BASE, VPN_CTL_AMNEZIA_RANDOM };
	for (size_t i = 0; name && i < 3; i++)
		if (strcmp(name, vpn_ctl_amnezia_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -EINVAL;
}

static int parse_tunnel_set(const json_t *args, struct vpn_ctl_args *out, struct vpn_ctl_error *err)
{
	static const char *const names[] = { "two_hop",
					     "ipv6",
					     "average_packet_delay_ms",
					     "message_sending_delay_ms",
					     "loop_cover_stream_average_delay_ms",
					     "disable_real_traffic_poisson_rate",
					     "amnezia",
					     NULL };
	struct vpn_ctl_tunnel *t = &out->tunnel;
	json_t *v;
	if (json_object_get(args, "mtu"))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "mtu cannot be changed through the control socket: set tunnel.mtu "
					 "in the daemon's configuration");
	if (only_members(args, "tunnel_set", names, err))
		return -EINVAL;
	if ((v = json_object_get(args, "two_hop"))) {
		if (want_bool(v, "two_hop", &t->two_hop, err))
			return -EINVAL;
		out->tunnel_set |= VPN_CTL_TUNNEL_TWO_HOP;
	}
	if ((v = json_object_get(args, "ipv6"))) {
		if (want_bool(v, "ipv6", &t->ipv6, err))
			return -EINVAL;
		out->tunnel_set |= VPN_CTL_TUNNEL_IPV6;
	}
	if ((v = json_object_get(args, "average_packet_delay_ms"))) {
		if (want_range(v, "average_packet_delay_ms", VPN_CTL_DELAY_MIN_MS, VPN_CTL_DELAY_MAX_MS,
			       &t->average_packet_delay_ms, err))
			return -EINVAL;
		out->tunnel_set |= VPN_CTL_TUNNEL_AVERAGE_PACKET_DELAY;
	}
	if ((v = json_object_get(args, "message_sending_delay_ms"))) {
		if (want_range(v, "message_sending_delay_ms", VPN_CTL_SENDING_DELAY_MIN_MS,
			       VPN_CTL_SENDING_DELAY_MAX_MS, &t->message_sending_delay_ms, err))
			return -EINVAL;
		out->tunnel_set |= VPN_CTL_TUNNEL_MESSAGE_SENDING_DELAY;
	}
	if ((v = json_object_get(args, "loop_cover_stream_average_delay_ms"))) {
		if (want_range(v, "loop_cover_stream_average_delay_ms", VPN_CTL_DELAY_MIN_MS,
			       VPN_CTL_DELAY_MAX_MS, &t->loop_cover_stream_average_delay_ms, err))
			return -EINVAL;
		out->tunnel_set |= VPN_CTL_TUNNEL_LOOP_COVER_DELAY;
	}
	if ((v = json_object_get(args, "disable_real_traffic_poisson_rate"))) {
		if (want_bool(v, "disable_real_traffic_poisson_rate",
			      &t->disable_real_traffic_poisson_rate, err))
			return -EINVAL;
		out->tunnel_set |= VPN_CTL_TUNNEL_DISABLE_POISSON;
	}
	if ((v = json_object_get(args, "amnezia"))) {
		const char *a;
		char b[48];
		if (want_string(v, "amnezia", &a, err))
			return -EINVAL;
		if (vpn_ctl_amnezia_parse(a, &t->amnezia))
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
						 "amnezia must be off, base or random, got \"%s\"", shown(a, b));
		out->tunnel_set |= VPN_CTL_TUNNEL_AMNEZIA;
	}
	if (!out->tunnel_set)
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "tunnel_set needs at least one setting to change");
	return 0;
}

static int parse_credentials(const json_t *args, struct vpn_ctl_args *out, struct vpn_ctl_error *err)
{
	static const char *const names[] = { "authority", "authority_keys", "vouchers", "types", NULL };
	static const enum nym_ticket_type defaults[] = { NYM_TICKET_MIXNET_ENTRY, NYM_TICKET_WG_ENTRY,
							 NYM_TICKET_WG_EXIT };
	const char *s;
	char w[48], b[48];
	json_t *v;
	if (only_members(args, "credentials_obtain", names, err))
		return -EINVAL;
	if (!(v = json_object_get(args, "authority")))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "credentials_obtain needs \"authority\" (the authority's URL)");
	if (want_string(v, "authority", &s, err))
		return -EINVAL;
	if (!url_ok(s))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "authority must be an http:// or https:// URL without spaces, got \"%s\"",
					 shown(s, b));
	strcpy(out->authority, s);
	if ((v = json_object_get(args, "authority_keys"))) {
		if (want_array(v, "authority_keys", 0, VPN_CTL_KEYS_MAX, err))
			return -EINVAL;
		for (size_t i = 0; i < json_array_size(v); i++) {
			snprintf(w, sizeof(w), "authority_keys[%zu]", i);
			if (want_string(json_array_get(v, i), w, &s, err) ||
			    vpn_ctl_parse_b58_id(s, w, out->authority_keys[i], err))
				return -EINVAL;
			out->n_authority_keys++;
		}
	}
	if (!(v = json_object_get(args, "vouchers")))
		return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					 "credentials_obtain needs \"vouchers\" (one code per ticketbook)");
	if (want_array(v, "vouchers", 1, VPN_CTL_VOUCHERS_MAX, err))
		return -EINVAL;
	size_t n = json_array_size(v);
	for (size_t i = 0; i < n; i++) {
		snprintf(w, sizeof(w), "vouchers[%zu]", i);
		if (want_string(json_array_get(v, i), w, &s, err))
			return -EINVAL;
		if (!nym_issue_voucher_valid(s)) /* never echo a voucher: it is a secret */
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
						 "%s must be 1 to 64 characters of 0-9, A-Z and a-z", w);
		strcpy(out->vouchers[i], s);
	}
	out->n_vouchers = n;
	json_t *types = json_object_get(args, "types");
	if (types) {
		if (want_array(types, "types", 1, VPN_CTL_VOUCHERS_MAX, err))
			return -EINVAL;
		if (json_array_size(types) != n)
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
						 "types must pair with vouchers: %zu types for %zu vouchers",
						 json_array_size(types), n);
		for (size_t i = 0; i < n; i++) {
			snprintf(w, sizeof(w), "types[%zu]", i);
			if (want_string(json_array_get(types, i), w, &s, err))
				return -EINVAL;
			if (nym_ticket_type_parse(s, &out->types[i]) != 0)
				return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
							 "%s must be mixnet-entry, wg-entry or wg-exit, got \"%s\"",
							 w, shown(s, b));
		}
	} else {
		if (n > 3)
			return vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
						 "%zu vouchers without types: give \"types\" for more than 3 "
						 "(without them they are for mixnet-entry, wg-entry, wg-exit in order)",
						 n);
		for (size_t i = 0; i < n; i++)
			out->types[i] = defaults[i];
	}
	return 0;
}

int vpn_ctl_args_parse(enum vpn_ctl_cmd cmd, const json_t *args, struct vpn_ctl_args *out,
		       struct vpn_ctl_error *err)
{
	static const char *const none[] = { NULL };
	const struct vpn_ctl_command *c = vpn_ctl_command_get(cmd);
	json_t *empty = NULL, *v;
	const char *s;
	char b[48];
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!c)
		return vpn_ctl_error_set(err, VPN_CTL_UNKNOWN_COMMAND, "unknown command");
	if (!args)
		args = empty = json_object();
	if (!args)
		return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "out of memory");
	if (!json_is_object(args)) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "\"args\" must be an object, not %s",
				       json_type_name(args));
		goto out;
	}
	switch (cmd) {
	case VPN_CTL_GATEWAY_SET: {
		static const char *const names[] = { "entry", "exit", NULL };
		if ((rc = only_members(args, c->name, names, err)))
			break;
		if ((v = json_object_get(args, "entry"))) {
			if ((rc = vpn_ctl_parse_point(v, "entry", &out->entry, err)))
				break;
			out->has_entry = true;
		}
		if ((v = json_object_get(args, "exit"))) {
			if ((rc = vpn_ctl_parse_point(v, "exit", &out->exit, err)))
				break;
			out->has_exit = true;
		}
		if (!out->has_entry && !out->has_exit)
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "gateway_set needs \"entry\", \"exit\" or both");
		break;
	}
	case VPN_CTL_GATEWAY_LIST: {
		static const char *const names[] = { "type", NULL };
		if ((rc = only_members(args, c->name, names, err)))
			break;
		if (!(v = json_object_get(args, "type"))) {
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "gateway_list needs \"type\": mixnet-entry, mixnet-exit or wg");
			break;
		}
		if ((rc = want_string(v, "type", &s, err)))
			break;
		if (vpn_ctl_gateway_type_parse(s, &out->gateway_type) != 0)
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "type must be mixnet-entry, mixnet-exit or wg, got \"%s\"",
					       shown(s, b));
		break;
	}
	case VPN_CTL_TUNNEL_SET:
		rc = parse_tunnel_set(args, out, err);
		break;
	case VPN_CTL_DNS_SET: {
		static const char *const names[] = { "servers", NULL };
		char w[32];
		if ((rc = only_members(args, c->name, names, err)))
			break;
		if (!(v = json_object_get(args, "servers"))) {
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "dns_set needs \"servers\" (an array of IP addresses)");
			break;
		}
		if ((rc = want_array(v, "servers", 1, VPN_CTL_DNS_MAX, err)))
			break;
		for (size_t i = 0; i < json_array_size(v) && !rc; i++) {
			snprintf(w, sizeof(w), "servers[%zu]", i);
			rc = want_string(json_array_get(v, i), w, &s, err);
			if (!rc)
				rc = vpn_ctl_parse_ip(s, w, out->dns[i], err);
			out->n_dns = i + 1;
		}
		break;
	}
	case VPN_CTL_LAN_SET: {
		static const char *const names[] = { "lan", NULL };
		if ((rc = only_members(args, c->name, names, err)))
			break;
		if (!(v = json_object_get(args, "lan"))) {
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "lan_set needs \"lan\": allow or block");
			break;
		}
		if ((rc = want_string(v, "lan", &s, err)))
			break;
		if (strcmp(s, "allow") == 0)
			out->lan = VPN_CTL_LAN_ALLOW;
		else if (strcmp(s, "block") == 0)
			out->lan = VPN_CTL_LAN_BLOCK;
		else
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "lan must be allow or block, got \"%s\"", shown(s, b));
		break;
	}
	case VPN_CTL_CREDENTIALS_OBTAIN:
		rc = parse_credentials(args, out, err);
		break;
	case VPN_CTL_NETWORK_SET: {
		static const char *const names[] = { "network", NULL };
		if ((rc = only_members(args, c->name, names, err)))
			break;
		if (!(v = json_object_get(args, "network"))) {
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "network_set needs \"network\" (a network name such as mainnet)");
			break;
		}
		if ((rc = want_string(v, "network", &s, err)))
			break;
		if (!network_name_ok(s))
			rc = vpn_ctl_error_set(err, VPN_CTL_INVALID_ARGUMENT,
					       "network must be 1 to 32 characters of a-z, 0-9, - and _ "
					       "(starting with a letter or digit), got \"%s\"",
					       shown(s, b));
		else
			strcpy(out->network, s);
		break;
	}
	default:
		rc = only_members(args, c->name, none, err);
		break;
	}
out:
	json_decref(empty);
	if (rc)
		vpn_ctl_args_clear(out);
	return rc;
}

void vpn_ctl_args_clear(struct vpn_ctl_args *a)
{
	explicit_bzero(a, sizeof(*a));
}

json_t *vpn_ctl_point_json(const struct vpn_ctl_point *p)
{
	char b58[VPN_CTL_B58_MAX];
	switch (p->kind) {
	case VPN_CTL_POINT_ID:
		if (nym_base58_encode(b58, sizeof(b58), p->id, VPN_CTL_ID_LEN) < 0)
			return NULL;
		return json_pack("{s:s, s:s}", "kind", "id", "id", b58);
	case VPN_CTL_POINT_COUNTRY:
		return json_pack("{s:s, s:s}", "kind", "country", "country", p->country);
	case VPN_CTL_POINT_RANDOM:
		break;
	}
	return json_pack("{s:s}", "kind", "random");
}

json_t *vpn_ctl_tunnel_json(const struct vpn_ctl_tunnel *t)
{
	return json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:b, s:s}", "two_hop", t->two_hop, "ipv6", t->ipv6,
			 "mtu", (json_int_t)t->mtu, "average_packet_delay_ms",
			 (json_int_t)t->average_packet_delay_ms, "message_sending_delay_ms",
			 (json_int_t)t->message_sending_delay_ms, "loop_cover_stream_average_delay_ms",
			 (json_int_t)t->loop_cover_stream_average_delay_ms,
			 "disable_real_traffic_poisson_rate", t->disable_real_traffic_poisson_rate, "amnezia",
			 vpn_ctl_amnezia_name(t->amnezia));
}

/* ---- lines ---- */

/* Serialises obj (compact, so never a raw newline) + "\n". */
static int dump_line(const json_t *obj, size_t max, char **line)
{
	*line = NULL;
	if (!obj)
		return -ENOMEM;
	char *s = json_dumps(obj, JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	if (n > max) {
		free(s);
		return -EMSGSIZE;
	}
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return -ENOMEM;
	}
	t[n] = '\n';
	t[n + 1] = 0;
	*line = t;
	return 0;
}

static json_t *id_json(long long id)
{
	return id == VPN_CTL_ID_NONE ? json_null() : json_integer(id);
}

static int dump_and_free(json_t *obj, size_t max, char **line)
{
	int rc = dump_line(obj, max, line);
	json_decref(obj);
	return rc;
}

static bool id_ok(long long id)
{
	return id >= 0 && id <= VPN_CTL_ID_MAX;
}

int vpn_ctl_request_encode(long long id, enum vpn_ctl_cmd cmd, const json_t *args, char **line)
{
	const struct vpn_ctl_command *c = vpn_ctl_command_get(cmd);
	*line = NULL;
	if (!c || !id_ok(id) || (args && !json_is_object(args)))
		return -EINVAL;
	json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "cmd", c->name);
	if (o && args && json_object_set(o, "args", (json_t *)args) != 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump_and_free(o, VPN_CTL_REQUEST_MAX, line);
}

int vpn_ctl_reply_ok(long long id, const json_t *result, char **line)
{
	*line = NULL;
	if ((id != VPN_CTL_ID_NONE && !id_ok(id)) || (result && !json_is_object(result)))
		return -EINVAL;
	json_t *o = json_object();
	if (!o || json_object_set_new(o, "id", id_json(id)) || json_object_set_new(o, "ok", json_true()) ||
	    json_object_set_new(o, "result", result ? json_incref((json_t *)result) : json_object())) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump_and_free(o, VPN_CTL_REPLY_MAX, line);
}

int vpn_ctl_reply_error(long long id, const struct vpn_ctl_error *err, char **line)
{
	*line = NULL;
	const char *code = vpn_ctl_code_name(err->code);
	if (!code || (id != VPN_CTL_ID_NONE && !id_ok(id)))
		return -EINVAL;
	json_t *o = json_object();
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", err->message);
	if (!o || !e || json_object_set_new(o, "id", id_json(id)) ||
	    json_object_set_new(o, "ok", json_false()) || json_object_set(o, "error", e)) {
		json_decref(e);
		json_decref(o);
		return -ENOMEM;
	}
	json_decref(e);
	return dump_and_free(o, VPN_CTL_REPLY_MAX, line);
}

int vpn_ctl_event_state(const json_t *state, char **line)
{
	*line = NULL;
	if (!json_is_object(state))
		return -EINVAL;
	return dump_and_free(json_pack("{s:s, s:O}", "event", "state", "state", state),
			     VPN_CTL_REPLY_MAX, line);
}

int vpn_ctl_event_progress(enum vpn_ctl_step step, const char *message, char **line)
{
	*line = NULL;
	const char *name = vpn_ctl_step_name(step);
	if (!name)
		return -EINVAL;
	return dump_and_free(json_pack("{s:s, s:s, s:s}", "event", "progress", "step", name, "message",
				       message ? message : vpn_ctl_step_description(step)),
			     VPN_CTL_REPLY_MAX, line);
}

int vpn_ctl_event_warning(const char *message, char **line)
{
	*line = NULL;
	if (!message)
		return -EINVAL;
	return dump_and_free(json_pack("{s:s, s:s}", "event", "warning", "message", message),
			     VPN_CTL_REPLY_MAX, line);
}

/* ---- <state> ---- */

static int set_b58(json_t *o, const char *key, const uint8_t id[VPN_CTL_ID_LEN])
{
	char b58[VPN_CTL_B58_MAX];
	if (nym_base58_encode(b58, sizeof(b58), id, VPN_CTL_ID_LEN) < 0)
		return -ENOMEM;
	return json_object_set_new(o, key, json_string(b58)) ? -ENOMEM : 0;
}

static json_t *connection_json(const struct vpn_ctl_connection *c)
{
	json_t *o = json_object(), *entry = json_object(), *ex = json_object(), *dns = json_array();
	bool bad = !o || !entry || !ex || !dns;
	bad = bad || set_b58(entry, "id", c->entry_id) ||
	      json_object_set_new(entry, "address", json_string(c->entry_address));
	bad = bad || set_b58(ex, "id", c->exit_id);
	for (size_t i = 0; !bad && i < c->n_dns && i < VPN_CTL_DNS_MAX; i++)
		bad = json_array_append_new(dns, json_string(c->dns[i])) != 0;
	bad = bad || json_object_set(o, "entry", entry) || json_object_set(o, "exit", ex) ||
	      json_object_set_new(o, "tun", json_string(c->tun));
	if (!bad && c->ipv4[0])
		bad = json_object_set_new(o, "ipv4", json_string(c->ipv4)) != 0;
	if (!bad && c->ipv6[0])
		bad = json_object_set_new(o, "ipv6", json_string(c->ipv6)) != 0;
	bad = bad || json_object_set_new(o, "since", json_integer(c->since)) ||
	      json_object_set(o, "dns", dns);
	json_decref(entry);
	json_decref(ex);
	json_decref(dns);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *vpn_ctl_state_json(const struct vpn_ctl_state *s)
{
	const char *state = vpn_ctl_state_name(s->state), *mode = vpn_ctl_mode_name(s->mode);
	if (!state || !mode)
		return NULL;
	json_t *o = json_pack("{s:s, s:s, s:I}", "state", state, "mode", mode, "retry_attempt",
			      (json_int_t)s->retry_attempt);
	bool bad = !o;
	const char *reason = vpn_ctl_reason_name(s->reason);
	if (!bad && reason)
		bad = json_object_set_new(o, "reason", json_string(reason)) != 0;
	if (!bad && s->message)
		bad = json_object_set_new(o, "message", json_string(s->message)) != 0;
	const char *after = vpn_ctl_after_name(s->after_disconnect);
	if (!bad && after)
		bad = json_object_set_new(o, "after_disconnect", json_string(after)) != 0;
	if (!bad && s->has_connection) {
		json_t *c = connection_json(&s->connection);
		bad = !c || json_object_set_new(o, "connection", c) != 0;
	}
	if (!bad && s->has_progress) {
		const char *step = vpn_ctl_step_name(s->progress);
		bad = !step || json_object_set_new(o, "progress", json_string(step)) != 0;
	}
	if (!bad && s->has_tickets_left)
		bad = json_object_set_new(o, "tickets_left", json_integer((json_int_t)s->tickets_left)) != 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- decoding ---- */

static int load_object(const char *line, size_t len, size_t max, json_t **out,
		       struct vpn_ctl_error *err, const char *what)
{
	json_error_t je;
	*out = NULL;
	if (len > max)
		return vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "the %s is longer than %zu bytes",
					 what, max);
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root)
		return vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST,
					 "the %s is not valid JSON: %s (column %d)", what, je.text,
					 je.column);
	if (!json_is_object(root)) {
		vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "the %s must be a JSON object, not %s",
				  what, json_type_name(root));
		json_decref(root);
		return -EINVAL;
	}
	*out = root;
	return 0;
}

int vpn_ctl_request_decode(const char *line, size_t len, struct vpn_ctl_request *req,
			   struct vpn_ctl_error *err)
{
	static const char *const names[] = { "id", "cmd", "args", NULL };
	json_t *root;
	char b[48];
	const char *key;
	json_t *v;
	int rc;
	memset(req, 0, sizeof(*req));
	req->id = VPN_CTL_ID_NONE;
	if ((rc = load_object(line, len, VPN_CTL_REQUEST_MAX, &root, err, "request")))
		return rc;
	json_t *id = json_object_get(root, "id");
	if (!id) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "the request has no \"id\"");
		goto out;
	}
	if (!json_is_integer(id) || !id_ok(json_integer_value(id))) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST,
				       "\"id\" must be an integer from 0 to %lld", VPN_CTL_ID_MAX);
		goto out;
	}
	req->id = json_integer_value(id);
	json_object_foreach(root, key, v) {
		bool known = false;
		for (size_t i = 0; names[i] && !known; i++)
			known = strcmp(names[i], key) == 0;
		if (!known) {
			rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST,
					       "unknown member \"%s\" in the request (known: id, cmd, args)",
					       shown(key, b));
			goto out;
		}
	}
	json_t *cmd = json_object_get(root, "cmd");
	if (!cmd) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "the request has no \"cmd\"");
		goto out;
	}
	if (!json_is_string(cmd)) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "\"cmd\" must be a string, not %s",
				       json_type_name(cmd));
		goto out;
	}
	const char *name = json_string_value(cmd);
	req->command = strlen(name) == json_string_length(cmd) ? vpn_ctl_command_find(name) : NULL;
	if (!req->command) {
		rc = vpn_ctl_error_set(err, VPN_CTL_UNKNOWN_COMMAND, "unknown command \"%s\"",
				       shown(name, b));
		goto out;
	}
	rc = vpn_ctl_args_parse(req->command->cmd, json_object_get(root, "args"), &req->args, err);
out:
	json_decref(root);
	return rc;
}

void vpn_ctl_request_clear(struct vpn_ctl_request *req)
{
	vpn_ctl_args_clear(&req->args);
	req->command = NULL;
}

static int message_text(json_t *o, const char *key, const char **out, struct vpn_ctl_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "the daemon sent a message without \"%s\"",
					 key);
	*out = json_string_value(v);
	return 0;
}

int vpn_ctl_message_decode(const char *line, size_t len, struct vpn_ctl_message *m,
			   struct vpn_ctl_error *err)
{
	json_t *root;
	int rc;
	memset(m, 0, sizeof(*m));
	m->id = VPN_CTL_ID_NONE;
	if ((rc = load_object(line, len, VPN_CTL_REPLY_MAX, &root, err, "daemon's message")))
		return rc;
	m->root = root;
	json_t *ev = json_object_get(root, "event");
	if (ev) {
		const char *name;
		m->kind = VPN_CTL_MSG_EVENT;
		if (!json_is_string(ev)) {
			rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "\"event\" must be a string");
			goto out;
		}
		name = json_string_value(ev);
		if (strcmp(name, "state") == 0) {
			m->event = VPN_CTL_EV_STATE;
			m->state = json_object_get(root, "state");
			if (!json_is_object(m->state) ||
			    !json_is_string(json_object_get(m->state, "state")))
				rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST,
						       "a state event without a state object");
		} else if (strcmp(name, "progress") == 0) {
			const char *step = NULL;
			m->event = VPN_CTL_EV_PROGRESS;
			rc = message_text(root, "step", &step, err);
			if (!rc && vpn_ctl_step_parse(step, &m->step) != 0)
				m->step = VPN_CTL_STEP_COUNT;
			if (!rc && json_object_get(root, "message"))
				rc = message_text(root, "message", &m->text, err);
			if (!rc && !m->text)
				m->text = m->step < VPN_CTL_STEP_COUNT ? vpn_ctl_step_description(m->step)
								       : step;
		} else if (strcmp(name, "warning") == 0) {
			m->event = VPN_CTL_EV_WARNING;
			rc = message_text(root, "message", &m->text, err);
		} else {
			char b[48];
			rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "unknown event \"%s\"",
					       shown(name, b));
		}
		goto out;
	}
	m->kind = VPN_CTL_MSG_REPLY;
	json_t *id = json_object_get(root, "id");
	json_t *ok = json_object_get(root, "ok");
	if (!id || !(json_is_null(id) || (json_is_integer(id) && id_ok(json_integer_value(id))))) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "a reply without a valid \"id\"");
		goto out;
	}
	m->id = json_is_null(id) ? VPN_CTL_ID_NONE : json_integer_value(id);
	if (!json_is_boolean(ok)) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST, "a reply without \"ok\"");
		goto out;
	}
	m->ok = json_is_true(ok);
	if (m->ok) {
		m->result = json_object_get(root, "result");
		if (!json_is_object(m->result))
			rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST,
					       "a reply without a \"result\" object");
		goto out;
	}
	json_t *e = json_object_get(root, "error");
	const char *code = NULL, *msg = NULL;
	if (!json_is_object(e) || message_text(e, "code", &code, err) ||
	    message_text(e, "message", &msg, err)) {
		rc = vpn_ctl_error_set(err, VPN_CTL_BAD_REQUEST,
				       "an error reply without \"code\" and \"message\"");
		goto out;
	}
	/* A code from a newer daemon reads as internal; its message still says what happened. */
	if (vpn_ctl_code_parse(code, &m->error.code) != 0)
		m->error.code = VPN_CTL_INTERNAL;
	snprintf(m->error.message, sizeof(m->error.message), "%s", msg);
out:
	if (rc) {
		json_decref(root);
		m->root = NULL;
		m->result = m->state = NULL;
		m->text = NULL;
	}
	return rc;
}

void vpn_ctl_message_clear(struct vpn_ctl_message *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
	m->id = VPN_CTL_ID_NONE;
}

/* ---- line reader ---- */

void vpn_ctl_reader_init(struct vpn_ctl_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void vpn_ctl_reader_free(struct vpn_ctl_reader *r)
{
	if (r->buf)
		explicit_bzero(r->buf, r->cap); /* requests may hold vouchers */
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

size_t vpn_ctl_reader_pending(const struct vpn_ctl_reader *r)
{
	return r->returned ? 0 : r->len;
}

int vpn_ctl_reader_next(struct vpn_ctl_reader *r, const char **data, size_t *n, const char **line,
			size_t *len)
{
	if (r->returned) {
		r->returned = false;
		r->len = 0;
	}
	while (*n) {
		const char *p = memchr(*data, '\n', *n);
		size_t chunk = p ? (size_t)(p - *data) : *n;
		size_t used = p ? chunk + 1 : chunk;
		if (r->discarding) {
			*data += used;
			*n -= used;
			r->discarding = !p;
			continue;
		}
		if (r->len + chunk > r->max) {
			r->len = 0;
			*data += used;
			*n -= used;
			r->discarding = !p;
			return -EMSGSIZE;
		}
		if (r->len + chunk + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 256;
			while (cap < r->len + chunk + 1)
				cap *= 2;
			if (cap > r->max + 1)
				cap = r->max + 1;
			char *b = malloc(cap);
			if (!b)
				return -ENOMEM;
			if (r->buf) {
				memcpy(b, r->buf, r->len);
				explicit_bzero(r->buf, r->cap);
				free(r->buf);
			}
			r->buf = b;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, *data, chunk);
		r->len += chunk;
		*data += used;
		*n -= used;
		if (!p)
			break;
		if (r->len && r->buf[r->len - 1] == '\r')
			r->len--;
		if (!r->len)
			continue;
		r->buf[r->len] = 0;
		r->returned = true;
		*line = r->buf;
		*len = r->len;
		return 1;
	}
	return 0;
}
