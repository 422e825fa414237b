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
static json_t *dns_json(const struct vpnd *d)
{
	const char *defaults[CONF_LIST_MAX];
	for (size_t i = 0; i < d->cfg.dns.default_servers.count; i++)
		defaults[i] = d->cfg.dns.default_servers.item[i];
	return vpn_settings_dns_json(&d->settings, defaults, d->cfg.dns.default_servers.count);
}

/* A setter: the settings change, are saved, and take effect: the kill switch at once for the
 * LAN policy, a reconnect of a running tunnel for the rest. Nothing changes when saving
 * fails. */
static int apply_setter(struct vpnd *d, enum vpn_ctl_cmd cmd, const struct vpn_ctl_args *a, json_t **result,
			struct vpn_ctl_error *err)
{
	struct vpn_settings before = d->settings;
	bool changed;
	vpn_settings_apply(&d->settings, cmd, a, &changed);
	if (changed && vpnd_save_settings(d) != 0) {
		d->settings = before;
		return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot save the settings in %s", d->settings_path);
	}
	if (changed && cmd == VPN_CTL_LAN_SET) {
		char msg[256];
		if (vpnd_fw_set_lan(&d->fw, d->settings.allow_lan, msg, sizeof(msg)) != 0)
			log_error("%s", msg);
	} else if (changed && tunnel_active(d)) {
		struct vpn_state_event ev = { .kind = VPN_EV_RECONNECT };
		vpnd_handle(d, &ev);
	}
	switch (cmd) {
	case VPN_CTL_GATEWAY_SET:
		*result = vpn_settings_gateway_json(&d->settings);
		break;
	case VPN_CTL_TUNNEL_SET:
		*result = vpn_settings_tunnel_json(&d->settings, (unsigned)d->cfg.tunnel.mtu);
		break;
	case VPN_CTL_LAN_SET:
		*result = vpn_settings_lan_json(&d->settings);
		break;
	default:
		*result = dns_json(d);
		break;
	}
	return 0;
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
	case VPN_CTL_GATEWAY_SET:
	case VPN_CTL_TUNNEL_SET:
	case VPN_CTL_DNS_SET:
	case VPN_CTL_DNS_CLEAR:
		return apply_setter(d, req->command->cmd, a, result, err);
	case VPN_CTL_GATEWAY_LIST:
		if (vpnd_jobs_start(d->jobs, peer->client, req, d->tickets_dir, d->authority_urls, d->n_authorities,
				    &d->trust) != 0)
			return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot start a thread for the request");
		return VPND_CTL_LATER;
	case VPN_CTL_TUNNEL_GET:
		*result = vpn_settings_tunnel_json(&d->settings, (unsigned)d->cfg.tunnel.mtu);
		return 0;
	case VPN_CTL_DNS_GET:
		*result = dns_json(d);
		return 0;
	case VPN_CTL_LAN_GET:
		*result = vpn_settings_lan_json(&d->settings);
		return 0;
	case VPN_CTL_LAN_SET:
		return apply_setter(d, req->command->cmd, a, result, err);
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
