#include "vpn/vpn_settings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base58.h"
#include "util/file.h"

void vpn_settings_default(struct vpn_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->entry.kind = VPN_POINT_RANDOM;
	s->exit.kind = VPN_POINT_RANDOM;
	s->tunnel.ipv6 = true;
	s->tunnel.average_packet_delay_ms = 15;
	s->tunnel.message_sending_delay_ms = 20;
	s->tunnel.loop_cover_stream_average_delay_ms = 200;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	if (errlen)
		snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

json_t *vpn_point_to_json(const struct vpn_point *p)
{
	char b58[NYM_BASE58_ENCODED_MAX(32)];
	switch (p->kind) {
	case VPN_POINT_ID:
		if (nym_base58_encode(b58, sizeof(b58), p->id, 32) < 0)
			return NULL;
		return json_pack("{s:s, s:s}", "kind", "id", "id", b58);
	case VPN_POINT_COUNTRY:
		return json_pack("{s:s, s:s}", "kind", "country", "country", p->country);
	case VPN_POINT_RANDOM:
		break;
	}
	return json_pack("{s:s}", "kind", "random");
}

int vpn_point_from_json(const json_t *j, struct vpn_point *p, char *err, size_t errlen)
{
	if (!json_is_object(j))
		return fail(err, errlen, "%s", "a gateway point must be an object with \"kind\"");
	const char *kind = json_string_value(json_object_get(j, "kind"));
	if (!kind)
		return fail(err, errlen, "%s", "a gateway point needs \"kind\": random, id or country");
	struct vpn_point out;
	memset(&out, 0, sizeof(out));
	if (strcmp(kind, "random") == 0) {
		out.kind = VPN_POINT_RANDOM;
	} else if (strcmp(kind, "id") == 0) {
		const char *id = json_string_value(json_object_get(j, "id"));
		if (!id || nym_base58_decode_exact(out.id, 32, id) != 0)
			return fail(err, errlen, "%s", "\"id\" must be a gateway identity (base58 Ed25519 key)");
		out.kind = VPN_POINT_ID;
	} else if (strcmp(kind, "country") == 0) {
		const char *c = json_string_value(json_object_get(j, "country"));
		if (!c || strlen(c) != 2 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]))
			return fail(err, errlen, "%s", "\"country\" must be a two-letter country code such as DE");
		out.kind = VPN_POINT_COUNTRY;
		out.country[0] = (char)toupper((unsigned char)c[0]);
		out.country[1] = (char)toupper((unsigned char)c[1]);
	} else {
		return fail(err, errlen, "unknown gateway point kind \"%.40s\" (expected random, id or country)", kind);
	}
	*p = out;
	return 0;
}

static bool ip_ok(const char *s)
{
	uint8_t buf[16];
	return strlen(s) < VPN_SETTINGS_IP_MAX && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

json_t *vpn_settings_gateway_json(const struct vpn_settings *s)
{
	return json_pack("{s:o, s:o}", "entry", vpn_point_to_json(&s->entry), "exit", vpn_point_to_json(&s->exit));
}

static json_t *tunnel_json(const struct vpn_tunnel_settings *t)
{
	return json_pack("{s:b, s:b, s:I, s:I, s:I, s:b, s:s}", "two_hop", t->two_hop, "ipv6", t->ipv6,
			 "average_packet_delay_ms", (json_int_t)t->average_packet_delay_ms, "message_sending_delay_ms",
			 (json_int_t)t->message_sending_delay_ms, "loop_cover_stream_average_delay_ms",
			 (json_int_t)t->loop_cover_stream_average_delay_ms, "disable_real_traffic_poisson_rate",
			 t->disable_real_traffic_poisson_rate, "amnezia", vpn_ctl_amnezia_name(t->amnezia));
}

json_t *vpn_settings_tunnel_json(const struct vpn_settings *s, unsigned mtu)
{
	json_t *j = tunnel_json(&s->tunnel);
	if (j)
		json_object_set_new(j, "mtu", json_integer(mtu));
	return j;
}

static json_t *string_array(const char *const *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

size_t vpn_settings_dns_effective(const struct vpn_settings *s, const char *const *defaults, size_t n_defaults,
				  const char **out, size_t cap)
{
	size_t n = 0;
	if (s->n_dns) {
		for (size_t i = 0; i < s->n_dns && n < cap; i++)
			out[n++] = s->dns[i];
	} else {
		for (size_t i = 0; i < n_defaults && n < cap; i++)
			out[n++] = defaults[i];
	}
	return n;
}

json_t *vpn_settings_dns_json(const struct vpn_settings *s, const char *const *defaults, size_t n_defaults)
{
	const char *custom[VPN_SETTINGS_DNS_MAX];
	const char *eff[VPN_SETTINGS_DNS_MAX + 16];
	for (size_t i = 0; i < s->n_dns; i++)
		custom[i] = s->dns[i];
	size_t ne = vpn_settings_dns_effective(s, defaults, n_defaults, eff, sizeof(eff) / sizeof(eff[0]));
	return json_pack("{s:o, s:o, s:o}", "servers", string_array(custom, s->n_dns), "default",
			 string_array(defaults, n_defaults), "effective", string_array(eff, ne));
}

json_t *vpn_settings_lan_json(const struct vpn_settings *s)
{
	return json_pack("{s:s}", "lan", s->allow_lan ? "allow" : "block");
}

/* Reads one integer field into *out when present, checking its range. */
static int get_ms(const json_t *obj, const char *key, uint32_t lo, uint32_t hi, uint32_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		if (errlen)
			snprintf(err, errlen, "\"%s\" must be a whole number of milliseconds from %u to %u", key, lo, hi);
		return -EINVAL;
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *obj, const char *key, bool *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, errlen, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* The tunnel fields present in obj over t. */
static int tunnel_from(const json_t *obj, struct vpn_tunnel_settings *t, char *err, size_t errlen)
{
	if (get_bool(obj, "two_hop", &t->two_hop, err, errlen) || get_bool(obj, "ipv6", &t->ipv6, err, errlen) ||
	    get_bool(obj, "disable_real_traffic_poisson_rate", &t->disable_real_traffic_poisson_rate, err, errlen) ||
	    get_ms(obj, "average_packet_delay_ms", 0, VPN_SETTINGS_PACKET_DELAY_MAX_MS, &t->average_packet_delay_ms, err,
		   errlen) ||
	    get_ms(obj, "message_sending_delay_ms", VPN_SETTINGS_SENDING_DELAY_MIN_MS, VPN_SETTINGS_SENDING_DELAY_MAX_MS,
		   &t->message_sending_delay_ms, err, errlen) ||
	    get_ms(obj, "loop_cover_stream_average_delay_ms", 0, VPN_SETTINGS_LOOP_COVER_MAX_MS,
		   &t->loop_cover_stream_average_delay_ms, err, errlen))
		return -EINVAL;
	const json_t *a = json_object_get(obj, "amnezia");
	if (a && (!json_is_string(a) || vpn_ctl_amnezia_parse(json_string_value(a), &t->amnezia)))
		return fail(err, errlen, "%s", "\"amnezia\" must be \"off\", \"base\" or \"random\"");
	return 0;
}

static int dns_from(const json_t *arr, struct vpn_settings *s, bool allow_empty, char *err, size_t errlen)
{
	if (!json_is_array(arr))
		return fail(err, errlen, "%s", "\"servers\" must be a list of IP addresses");
	size_t n = json_array_size(arr);
	if (n > VPN_SETTINGS_DNS_MAX) {
		if (errlen)
			snprintf(err, errlen, "at most %d DNS servers", VPN_SETTINGS_DNS_MAX);
		return -EINVAL;
	}
	if (n == 0 && !allow_empty)
		return fail(err, errlen, "%s", "give at least one DNS server (`dns clear` returns to the defaults)");
	for (size_t i = 0; i < n; i++) {
		const char *ip = json_string_value(json_array_get(arr, i));
		if (!ip || !ip_ok(ip))
			return fail(err, errlen, "\"%.60s\" is not an IPv4 or IPv6 address", ip ? ip : "(not a string)");
	}
	s->n_dns = n;
	for (size_t i = 0; i < n; i++)
		snprintf(s->dns[i], sizeof(s->dns[i]), "%s", json_string_value(json_array_get(arr, i)));
	return 0;
}

char *vpn_settings_to_json(const struct vpn_settings *s)
{
	const char *dns[VPN_SETTINGS_DNS_MAX];
	for (size_t i = 0; i < s->n_dns; i++)
		dns[i] = s->dns[i];
	json_t *j = json_pack("{s:i, s:o, s:o, s:o, s:o, s:s}", "version", VPN_SETTINGS_VERSION, "entry",
			      vpn_point_to_json(&s->entry), "exit", vpn_point_to_json(&s->exit), "tunnel",
			      tunnel_json(&s->tunnel), "dns", string_array(dns, s->n_dns), "lan",
			      s->allow_lan ? "allow" : "block");
	if (!j)
		return NULL;
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	return text;
}

int vpn_settings_from_json(const char *text, size_t len, struct vpn_settings *s, char *err, size_t errlen)
{
	struct vpn_settings out;
	vpn_settings_default(&out);
	json_error_t je;
	int rc = -EINVAL;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (errlen)
			snprintf(err, errlen, "line %d: %s", je.line, je.text);
		goto out;
	}
	if (!json_is_object(j)) {
		fail(err, errlen, "%s", "expected a JSON object");
		goto out;
	}
	const json_t *v = json_object_get(j, "version");
	if (v && (!json_is_integer(v) || json_integer_value(v) != VPN_SETTINGS_VERSION)) {
		fail(err, errlen, "%s", "unsupported \"version\"");
		goto out;
	}
	if ((v = json_object_get(j, "entry")) && vpn_point_from_json(v, &out.entry, err, errlen))
		goto out;
	if ((v = json_object_get(j, "exit")) && vpn_point_from_json(v, &out.exit, err, errlen))
		goto out;
	if ((v = json_object_get(j, "tunnel"))) {
		if (!json_is_object(v)) {
			fail(err, errlen, "%s", "\"tunnel\" must be an object");
			goto out;
		}
		if (tunnel_from(v, &out.tunnel, err, errlen))
			goto out;
	}
	if ((v = json_object_get(j, "dns")) && dns_from(v, &out, true, err, errlen))
		goto out;
	if ((v = json_object_get(j, "lan"))) {
		const char *lan = json_string_value(v);
		if (!lan || (strcmp(lan, "allow") != 0 && strcmp(lan, "block") != 0)) {
			fail(err, errlen, "%s", "\"lan\" must be \"allow\" or \"block\"");
			goto out;
		}
		out.allow_lan = strcmp(lan, "allow") == 0;
	}
	rc = 0;
out:
	json_decref(j);
	if (rc == 0)
		*s = out;
	else
		vpn_settings_default(s);
	return rc;
}

int vpn_settings_load(const char *path, struct vpn_settings *s, char *err, size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	vpn_settings_default(s);
	int rc = nym_file_read(path, VPN_SETTINGS_FILE_MAX, &data, &len);
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "%s", rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
		return rc;
	}
	rc = vpn_settings_from_json((const char *)data, len, s, err, errlen);
	free(data);
	return rc;
}

int vpn_settings_save(const char *path, const struct vpn_settings *s)
{
	char *text = vpn_settings_to_json(s);
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	text[n] = '\0';
	/* One trailing newline makes it a proper text file. */
	char *buf = malloc(n + 2);
	if (!buf) {
		free(text);
		return -ENOMEM;
	}
	memcpy(buf, text, n);
	buf[n] = '\n';
	free(text);
	int rc = nym_file_write_atomic(path, buf, n + 1, 0600);
	free(buf);
	return rc;
}

/* Refuses keys of obj not in the NULL-terminated list. */
static void point_from_ctl(const struct vpn_ctl_point *in, struct vpn_point *out)
{
	memset(out, 0, sizeof(*out));
	switch (in->kind) {
	case VPN_CTL_POINT_ID:
		out->kind = VPN_POINT_ID;
		memcpy(out->id, in->id, sizeof(out->id));
		break;
	case VPN_CTL_POINT_COUNTRY:
		out->kind = VPN_POINT_COUNTRY;
		memcpy(out->country, in->country, sizeof(out->country));
		break;
	case VPN_CTL_POINT_RANDOM:
		out->kind = VPN_POINT_RANDOM;
		break;
	}
}

int vpn_settings_apply(struct vpn_settings *s, enum vpn_ctl_cmd cmd, const struct vpn_ctl_args *a, bool *changed)
{
	struct vpn_settings n = *s;
	struct vpn_tunnel_settings *t = &n.tunnel;
	switch (cmd) {
	case VPN_CTL_GATEWAY_SET:
		if (a->has_entry)
			point_from_ctl(&a->entry, &n.entry);
		if (a->has_exit)
			point_from_ctl(&a->exit, &n.exit);
		break;
	case VPN_CTL_TUNNEL_SET:
		if (a->tunnel_set & VPN_CTL_TUNNEL_TWO_HOP)
			t->two_hop = a->tunnel.two_hop;
		if (a->tunnel_set & VPN_CTL_TUNNEL_IPV6)
			t->ipv6 = a->tunnel.ipv6;
		if (a->tunnel_set & VPN_CTL_TUNNEL_AVERAGE_PACKET_DELAY)
			t->average_packet_delay_ms = a->tunnel.average_packet_delay_ms;
		if (a->tunnel_set & VPN_CTL_TUNNEL_MESSAGE_SENDING_DELAY)
			t->message_sending_delay_ms = a->tunnel.message_sending_delay_ms;
		if (a->tunnel_set & VPN_CTL_TUNNEL_LOOP_COVER_DELAY)
			t->loop_cover_stream_average_delay_ms = a->tunnel.loop_cover_stream_average_delay_ms;
		if (a->tunnel_set & VPN_CTL_TUNNEL_DISABLE_POISSON)
			t->disable_real_traffic_poisson_rate = a->tunnel.disable_real_traffic_poisson_rate;
		if (a->tunnel_set & VPN_CTL_TUNNEL_AMNEZIA)
			t->amnezia = a->tunnel.amnezia;
		break;
	case VPN_CTL_DNS_SET:
	case VPN_CTL_DNS_CLEAR:
		memset(n.dns, 0, sizeof(n.dns));
		n.n_dns = 0;
		for (size_t i = 0; cmd == VPN_CTL_DNS_SET && i < a->n_dns && i < VPN_SETTINGS_DNS_MAX; i++)
			snprintf(n.dns[n.n_dns++], sizeof(n.dns[0]), "%s", a->dns[i]);
		break;
	case VPN_CTL_LAN_SET:
		n.allow_lan = a->lan == VPN_CTL_LAN_ALLOW;
		break;
	default:
		return -ENOENT;
	}
	/* Field by field: the structs' padding is not part of the settings. */
	char *before = vpn_settings_to_json(s), *after = vpn_settings_to_json(&n);
	*changed = !before || !after || strcmp(before, after) != 0;
	free(before);
	free(after);
	*s = n;
	return 0;
}
