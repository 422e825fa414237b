#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../support/tmpdir.h"
#include "util/base58.h"
#include "vpn/vpn_settings.h"

static char dir[256], path[512];

static void setup(void)
{
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "settings.json");
}

static void teardown(void)
{
	test_tmpdir_remove(dir);
}

TestSuite(vpn_settings, .init = setup, .fini = teardown);

/* A setter as the daemon runs it: vpn_ctl checks the arguments, vpn_settings applies them.
 * Returns vpn_ctl's -EINVAL (err filled) or vpn_settings_apply's result. */
static int apply_text(struct vpn_settings *s, const char *cmd, const char *args, bool *changed, char *err,
		      size_t errlen)
{
	const struct vpn_ctl_command *c = vpn_ctl_command_find(cmd);
	cr_assert_not_null(c, "no command %s", cmd);
	json_t *j = args ? json_loads(args, 0, NULL) : NULL;
	if (args)
		cr_assert_not_null(j, "bad test JSON %s", args);
	struct vpn_ctl_args a;
	struct vpn_ctl_error e = { 0 };
	int rc = vpn_ctl_args_parse(c->cmd, j, &a, &e);
	json_decref(j);
	snprintf(err, errlen, "%s", e.message);
	bool ignored;
	if (rc == 0)
		rc = vpn_settings_apply(s, c->cmd, &a, changed ? changed : &ignored);
	vpn_ctl_args_clear(&a);
	return rc;
}

Test(vpn_settings, defaults)
{
	struct vpn_settings s;
	vpn_settings_default(&s);
	cr_assert_eq(s.entry.kind, VPN_POINT_RANDOM);
	cr_assert_eq(s.exit.kind, VPN_POINT_RANDOM);
	cr_assert(s.tunnel.ipv6);
	cr_assert_not(s.tunnel.two_hop);
	cr_assert_not(s.allow_lan);
	cr_assert_eq(s.n_dns, 0);
}

Test(vpn_settings, round_trip_through_a_file)
{
	struct vpn_settings s, t;
	char err[256];
	vpn_settings_default(&s);
	uint8_t id[32];
	memset(id, 7, sizeof(id));
	char b58[64];
	nym_base58_encode(b58, sizeof(b58), id, 32);
	char args[256];
	snprintf(args, sizeof(args), "{\"entry\": {\"kind\": \"id\", \"id\": \"%s\"}, \"exit\": {\"kind\": \"country\", \"country\": \"de\"}}", b58);
	cr_assert_eq(apply_text(&s, "gateway_set", args, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(apply_text(&s, "tunnel_set", "{\"ipv6\": false, \"average_packet_delay_ms\": 0, \"message_sending_delay_ms\": 5}", NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(apply_text(&s, "dns_set", "{\"servers\": [\"9.9.9.9\", \"2620:fe::fe\"]}", NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(apply_text(&s, "lan_set", "{\"lan\": \"allow\"}", NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vpn_settings_save(path, &s), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(vpn_settings_load(path, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.entry.kind, VPN_POINT_ID);
	cr_assert_eq(memcmp(t.entry.id, id, 32), 0);
	cr_assert_eq(t.exit.kind, VPN_POINT_COUNTRY);
	cr_assert_str_eq(t.exit.country, "DE");
	cr_assert_not(t.tunnel.ipv6);
	cr_assert_eq(t.tunnel.average_packet_delay_ms, 0);
	cr_assert_eq(t.tunnel.message_sending_delay_ms, 5);
	cr_assert_eq(t.n_dns, 2);
	cr_assert_str_eq(t.dns[1], "2620:fe::fe");
	cr_assert(t.allow_lan);
	cr_assert_eq(apply_text(&t, "dns_clear", NULL, NULL, err, sizeof(err)), 0);
	cr_assert_eq(t.n_dns, 0);
}

Test(vpn_settings, missing_and_corrupt_files_give_defaults)
{
	struct vpn_settings s;
	char err[256];
	cr_assert_eq(vpn_settings_load(path, &s, err, sizeof(err)), -ENOENT);
	cr_assert(s.tunnel.ipv6);
	static const char *const bad[] = {
		"{not json",
		"[1,2]",
		"{\"version\": 2}",
		"{\"entry\": {\"kind\": \"moon\"}}",
		"{\"entry\": {\"kind\": \"id\", \"id\": \"xyz\"}}",
		"{\"tunnel\": {\"ipv6\": 1}}",
		"{\"tunnel\": {\"message_sending_delay_ms\": 1}}",
		"{\"dns\": [\"1.2.3\"]}",
		"{\"lan\": true}",
		"{\"lan\": \"allow\", \"lan\": \"block\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		err[0] = '\0';
		s.allow_lan = true;
		cr_assert_eq(vpn_settings_load(path, &s, err, sizeof(err)), -EINVAL, "accepted %s", bad[i]);
		cr_assert(err[0], "no message for %s", bad[i]);
		cr_assert_not(s.allow_lan);
	}
	/* Unknown fields are ignored, missing ones default. */
	FILE *f = fopen(path, "w");
	fputs("{\"future\": 1, \"lan\": \"allow\"}", f);
	fclose(f);
	cr_assert_eq(vpn_settings_load(path, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert(s.allow_lan);
}

Test(vpn_settings, bad_setters_change_nothing)
{
	struct vpn_settings s, before;
	char err[256];
	vpn_settings_default(&s);
	before = s;
	static const struct {
		const char *cmd, *args;
	} bad[] = {
		{ "gateway_set", "{}" },
		{ "gateway_set", "{\"entry\": {\"kind\": \"country\", \"country\": \"DE\"}, \"exit\": {\"kind\": \"id\", \"id\": \"0\"}}" },
		{ "tunnel_set", "{\"mtu\": 1400}" },
		{ "tunnel_set", "{\"ipv6\": false, \"average_packet_delay_ms\": 500}" },
		{ "tunnel_set", "{}" },
		{ "dns_set", "{\"servers\": [\"1.1.1.1\", \"x\"]}" },
		{ "lan_set", "{\"lan\": \"maybe\"}" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(apply_text(&s, bad[i].cmd, bad[i].args, NULL, err, sizeof(err)), -EINVAL, "accepted %s %s",
			     bad[i].cmd, bad[i].args);
		cr_assert(err[0]);
		cr_assert_eq(memcmp(&s, &before, sizeof(s)), 0, "changed by %s %s", bad[i].cmd, bad[i].args);
	}
	cr_assert_eq(apply_text(&s, "status", NULL, NULL, err, sizeof(err)), -ENOENT);
	cr_assert_eq(memcmp(&s, &before, sizeof(s)), 0);
}

Test(vpn_settings, changed_flag_and_getters)
{
	struct vpn_settings s;
	char err[256];
	bool changed;
	vpn_settings_default(&s);
	cr_assert_eq(apply_text(&s, "lan_set", "{\"lan\": \"block\"}", &changed, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(changed);
	cr_assert_eq(apply_text(&s, "tunnel_set", "{\"two_hop\": true}", &changed, err, sizeof(err)), 0, "%s", err);
	cr_assert(changed);

	json_t *t = vpn_settings_tunnel_json(&s, 1500);
	cr_assert(json_is_true(json_object_get(t, "two_hop")));
	cr_assert_eq(json_integer_value(json_object_get(t, "mtu")), 1500);
	cr_assert_eq(json_integer_value(json_object_get(t, "message_sending_delay_ms")), 20);
	json_decref(t);

	const char *defaults[] = { "1.1.1.1", "1.0.0.1" };
	json_t *d = vpn_settings_dns_json(&s, defaults, 2);
	cr_assert_eq(json_array_size(json_object_get(d, "servers")), 0);
	cr_assert_eq(json_array_size(json_object_get(d, "effective")), 2);
	json_decref(d);
	cr_assert_eq(apply_text(&s, "dns_set", "{\"servers\": [\"9.9.9.9\"]}", &changed, err, sizeof(err)), 0, "%s", err);
	cr_assert(changed);
	d = vpn_settings_dns_json(&s, defaults, 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "effective"), 0)), "9.9.9.9");
	cr_assert_eq(json_array_size(json_object_get(d, "effective")), 1);
	json_decref(d);

	json_t *g = vpn_settings_gateway_json(&s);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(g, "entry"), "kind")), "random");
	json_decref(g);
	json_t *l = vpn_settings_lan_json(&s);
	cr_assert_str_eq(json_string_value(json_object_get(l, "lan")), "block");
	json_decref(l);
}

Test(vpn_settings, amnezia)
{
	struct vpn_settings s, t;
	char err[256];
	vpn_settings_default(&s);
	cr_assert_eq(s.tunnel.amnezia, VPN_CTL_AMNEZIA_OFF, "off by default");
	bool changed = false;
	cr_assert_eq(apply_text(&s, "tunnel_set", "{\"amnezia\": \"base\"}", &changed, err, sizeof(err)), 0, "%s", err);
	cr_assert(changed);
	cr_assert_eq(s.tunnel.amnezia, VPN_CTL_AMNEZIA_BASE);
	cr_assert_eq(vpn_settings_save(path, &s), 0);
	cr_assert_eq(vpn_settings_load(path, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.tunnel.amnezia, VPN_CTL_AMNEZIA_BASE);
	char *text = vpn_settings_to_json(&t);
	cr_assert(strstr(text, "\"amnezia\": \"base\"") || strstr(text, "\"amnezia\":\"base\""), "%s", text);
	free(text);
	cr_assert_eq(apply_text(&s, "tunnel_set", "{\"amnezia\": \"strong\"}", NULL, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "amnezia"), "%s", err);
	cr_assert_eq(s.tunnel.amnezia, VPN_CTL_AMNEZIA_BASE, "a refused setter changes nothing");
	/* A file with a bad value is invalid as a whole. */
	const char *bad = "{\"version\": 1, \"tunnel\": {\"amnezia\": \"max\"}}";
	cr_assert_eq(vpn_settings_from_json(bad, strlen(bad), &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "amnezia"), "%s", err);
	const char *good = "{\"version\": 1, \"tunnel\": {\"amnezia\": \"random\"}}";
	cr_assert_eq(vpn_settings_from_json(good, strlen(good), &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.tunnel.amnezia, VPN_CTL_AMNEZIA_RANDOM);
}
