/* What each control command does (C5). Setters change settings.json (atomically) and, when
 * the change concerns a running tunnel, reconnect it (gateways, tunnel settings, DNS) or
 * re-apply the kill switch (LAN), as Mullvad's daemon does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/base58.h"
#include "util/log.h"
#include "vpnd/vpnd.h"

static void point_from_ctl(const struct vpn_ctl_point *in, struct vpn_point *out)
{
	memset(out, 0, sizeof(*out));
	switch (in->kind) {
	case VPN_CTL_POINT_ID:
		out->kind = VPN_POINT_ID;
		memcpy(out->id, in->id, 32);
		break;
	case VPN_CTL_POINT_COUNTRY:
		out->kind = VPN_POINT_COUNTRY;
		memcpy(out->country, in->country, 3);
		break;
	case VPN_CTL_POINT_RANDOM:
		out->kind = VPN_POINT_RANDOM;
		break;
	}
}

int vpnd_save_settings(struct vpnd *d)
{
	int rc = vpn_settings_save(d->settings_path, &d->settings);
	if (rc)
		log_error("cannot save %s: %s", d->settings_path, strerror(-rc));
	return rc;
}

static bool tunnel_active(const struct vpnd *d)
{
	return d->st.kind == VPN_STATE_CONNECTING || d->st.kind == VPN_STATE_CONNECTED;
}

/* Saves and, when the tunnel runs, reconnects so the change takes effect. */
static int settings_changed(struct vpnd *d, bool changed, struct vpn_ctl_error *err)
{
	if (!changed)
		return 0;
	if (vpnd_save_settings(d) != 0)
		return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot save the settings in %s", d->settings_path);
	if (tunnel_active(d)) {
		struct vpn_state_event ev = { .kind = VPN_EV_RECONNECT };
		vpnd_handle(d, &ev);
	}
	return 0;
}

static json_t *dns_json(const struct vpnd *d)
{
	const char *defaults[CONF_LIST_MAX];
	for (size_t i = 0; i < d->cfg.dns.default_servers.count; i++)
		defaults[i] = d->cfg.dns.default_servers.item[i];
	return vpn_settings_dns_json(&d->settings, defaults, d->cfg.dns.default_servers.count);
}

static int network_set(struct vpnd *d, const char *name, json_t **result, struct vpn_ctl_error *err)
{
	struct vpn_config c = d->cfg;
	snprintf(c.network.name, sizeof(c.network.name), "%s", name);
	int rc = conf_write(d->config_path, vpn_config_schema, &c, 0644);
	if (rc)
		return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot write %s: %s", d->config_path, strerror(-rc));
	log_info("network set to %s in %s: restart the daemon to use it", name, d->config_path);
	*result = json_pack("{s:s, s:b}", "network", name, "restart_required", 1);
	return 0;
}

int vpnd_request(void *ctx, const struct vpnd_ctl_peer *peer, const struct vpn_ctl_request *req, json_t **result,
		 struct vpn_ctl_error *err, bool *listen)
{
	struct vpnd *d = ctx;
	const struct vpn_ctl_args *a = &req->args;
	struct vpn_state_event ev;
	memset(&ev, 0, sizeof(ev));
	bool changed = false;
	switch (req->command->cmd) {
	case VPN_CTL_INFO: {
		struct utsname u;
		char platform[200] = "linux";
		if (uname(&u) == 0)
			snprintf(platform, sizeof(platform), "%.60s %.60s", u.sysname, u.machine);
		*result = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "version", NYM_VERSION, "commit", NYM_COMMIT,
				    "platform", platform, "network", d->cfg.network.name, "data_dir", d->state_dir, "socket",
				    d->cfg.daemon.socket, "config", d->config_path);
		return 0;
	}
	case VPN_CTL_STATUS:
		*result = vpn_state_to_json(&d->st);
		return 0;
	case VPN_CTL_LISTEN:
		*listen = true;
		*result = json_object();
		return 0;
	case VPN_CTL_CONNECT:
	case VPN_CTL_DISCONNECT:
	case VPN_CTL_RECONNECT:
		ev.kind = req->command->cmd == VPN_CTL_CONNECT	  ? VPN_EV_CONNECT
			  : req->command->cmd == VPN_CTL_DISCONNECT ? VPN_EV_DISCONNECT
								    : VPN_EV_RECONNECT;
		log_info("control: %s (uid %u)", req->command->name, (unsigned)peer->uid);
		vpnd_handle(d, &ev);
		*result = vpn_state_to_json(&d->st);
		return 0;
	case VPN_CTL_GATEWAY_GET:
		*result = vpn_settings_gateway_json(&d->settings);
		return 0;
	case VPN_CTL_GATEWAY_SET: {
		struct vpn_settings before = d->settings;
		if (a->has_entry)
			point_from_ctl(&a->entry, &d->settings.entry);
		if (a->has_exit)
			point_from_ctl(&a->exit, &d->settings.exit);
		changed = memcmp(&before.entry, &d->settings.entry, sizeof(before.entry)) != 0 ||
			  memcmp(&before.exit, &d->settings.exit, sizeof(before.exit)) != 0;
		if (settings_changed(d, changed, err)) {
			d->settings = before;
			return -1;
		}
		*result = vpn_settings_gateway_json(&d->settings);
		return 0;
	}
	case VPN_CTL_GATEWAY_LIST:
		if (vpnd_jobs_start(d->jobs, peer->client, req, d->tickets_dir, d->authority_urls, d->n_authorities,
				    &d->trust) != 0)
			return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot start a thread for the request");
		return VPND_CTL_LATER;
	case VPN_CTL_TUNNEL_GET:
		*result = vpn_settings_tunnel_json(&d->settings, (unsigned)d->cfg.tunnel.mtu);
		return 0;
	case VPN_CTL_TUNNEL_SET: {
		struct vpn_settings before = d->settings;
		struct vpn_tunnel_settings *t = &d->settings.tunnel;
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
		if (t->two_hop && !before.tunnel.two_hop)
			log_warn("two-hop (WireGuard) mode is not available yet: the tunnel stays in mixnet mode");
		changed = memcmp(&before.tunnel, t, sizeof(*t)) != 0;
		if (settings_changed(d, changed, err)) {
			d->settings = before;
			return -1;
		}
		*result = vpn_settings_tunnel_json(&d->settings, (unsigned)d->cfg.tunnel.mtu);
		return 0;
	}
	case VPN_CTL_DNS_GET:
		*result = dns_json(d);
		return 0;
	case VPN_CTL_DNS_SET:
	case VPN_CTL_DNS_CLEAR: {
		struct vpn_settings before = d->settings;
		memset(d->settings.dns, 0, sizeof(d->settings.dns));
		d->settings.n_dns = 0;
		if (req->command->cmd == VPN_CTL_DNS_SET) {
			for (size_t i = 0; i < a->n_dns && i < VPN_SETTINGS_DNS_MAX; i++)
				snprintf(d->settings.dns[i], sizeof(d->settings.dns[i]), "%s", a->dns[i]);
			d->settings.n_dns = a->n_dns < VPN_SETTINGS_DNS_MAX ? a->n_dns : VPN_SETTINGS_DNS_MAX;
		}
		changed = before.n_dns != d->settings.n_dns || memcmp(before.dns, d->settings.dns, sizeof(before.dns)) != 0;
		if (settings_changed(d, changed, err)) {
			d->settings = before;
			return -1;
		}
		*result = dns_json(d);
		return 0;
	}
	case VPN_CTL_LAN_GET:
		*result = vpn_settings_lan_json(&d->settings);
		return 0;
	case VPN_CTL_LAN_SET: {
		bool allow = a->lan == VPN_CTL_LAN_ALLOW;
		if (allow != d->settings.allow_lan) {
			d->settings.allow_lan = allow;
			if (vpnd_save_settings(d) != 0) {
				d->settings.allow_lan = !allow;
				return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot save the settings in %s", d->settings_path);
			}
			char msg[256];
			if (vpnd_fw_set_lan(&d->fw, allow, msg, sizeof(msg)) != 0)
				log_error("%s", msg);
		}
		*result = vpn_settings_lan_json(&d->settings);
		return 0;
	}
	case VPN_CTL_CREDENTIALS_OBTAIN: {
		struct nym_dir_client_trust trust = d->trust;
		if (a->n_authority_keys) {
			memset(&trust, 0, sizeof(trust));
			for (size_t i = 0; i < a->n_authority_keys && i < NYM_AUTHORITIES_MAX; i++)
				memcpy(trust.keys[trust.count++], a->authority_keys[i], 32);
			trust.threshold = 1;
		}
		log_info("control: credentials obtain (%zu vouchers, uid %u)", a->n_vouchers, (unsigned)peer->uid);
		if (vpnd_jobs_start(d->jobs, peer->client, req, d->tickets_dir, d->authority_urls, d->n_authorities,
				    &trust) != 0)
			return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot start a thread for the request");
		return VPND_CTL_LATER;
	}
	case VPN_CTL_CREDENTIALS_LIST:
		return vpnd_creds_list(d->tickets_dir, result, err);
	case VPN_CTL_NETWORK_GET: {
		json_t *urls = json_array();
		for (size_t i = 0; i < d->n_authorities; i++)
			json_array_append_new(urls, json_string(d->authority_urls[i]));
		*result = json_pack("{s:s, s:o}", "network", d->cfg.network.name, "authorities", urls);
		return 0;
	}
	case VPN_CTL_NETWORK_SET:
		return network_set(d, a->network, result, err);
	case VPN_CTL_CMD_COUNT:
		break;
	}
	return vpn_ctl_error_set(err, VPN_CTL_UNKNOWN_COMMAND, "unknown command");
}
