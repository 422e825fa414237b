#include "vpn/vpn_state.h"

#include <stdio.h>
#include <string.h>

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 30000u

void vpn_state_init(struct vpn_state *s)
{
	memset(s, 0, sizeof(*s));
	s->kind = VPN_STATE_DISCONNECTED;
	s->online = true;
	s->tickets_left = -1;
}

uint32_t vpn_state_backoff_ms(uint32_t attempt)
{
	uint32_t ms = BACKOFF_MIN_MS;
	for (uint32_t i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void set_target(struct vpn_state *s, struct vpn_state_actions *a, bool connected)
{
	if (s->target_connected != connected) {
		s->target_connected = connected;
		a->flags |= VPN_ACT_TARGET;
	}
}

/* Connecting{attempt}: at once, or after the backoff; Offline when no route exists. */
static void enter_connecting(struct vpn_state *s, struct vpn_state_actions *a, uint32_t attempt, bool now)
{
	s->reason = VPN_REASON_NONE;
	s->progress = VPN_CTL_STEP_COUNT;
	s->have_connection = false;
	s->retry_pending = false;
	s->reconnect_now = false;
	a->flags |= VPN_ACT_PUBLISH;
	if (!s->online) {
		s->kind = VPN_STATE_OFFLINE;
		s->retry_attempt = 0;
		a->flags |= VPN_ACT_BLOCK;
		return;
	}
	s->kind = VPN_STATE_CONNECTING;
	s->retry_attempt = attempt;
	if (now) {
		s->tunnel_running = true;
		a->flags |= VPN_ACT_START_TUNNEL;
	} else {
		s->retry_pending = true;
		a->retry_ms = vpn_state_backoff_ms(attempt);
		a->flags |= VPN_ACT_ARM_RETRY;
	}
}

/* Disconnecting{after}: stops the tunnel unless a stop is already under way. */
static void enter_disconnecting(struct vpn_state *s, struct vpn_state_actions *a, enum vpn_state_after after)
{
	if (s->kind != VPN_STATE_DISCONNECTING)
		a->flags |= VPN_ACT_STOP_TUNNEL;
	s->kind = VPN_STATE_DISCONNECTING;
	s->after = after;
	s->retry_pending = false;
	a->flags |= VPN_ACT_PUBLISH;
}

static void enter_disconnected(struct vpn_state *s, struct vpn_state_actions *a)
{
	s->kind = VPN_STATE_DISCONNECTED;
	s->retry_attempt = 0;
	s->reason = VPN_REASON_NONE;
	s->message[0] = '\0';
	s->progress = VPN_CTL_STEP_COUNT;
	s->have_connection = false;
	s->retry_pending = false;
	s->reconnect_now = false;
	a->flags |= VPN_ACT_UNBLOCK | VPN_ACT_PUBLISH;
}

static bool active(const struct vpn_state *s)
{
	return s->kind == VPN_STATE_CONNECTING || s->kind == VPN_STATE_CONNECTED;
}

void vpn_state_handle(struct vpn_state *s, const struct vpn_state_event *ev, struct vpn_state_actions *a)
{
	memset(a, 0, sizeof(*a));
	switch (ev->kind) {
	case VPN_EV_CONNECT:
		set_target(s, a, true);
		if (s->kind == VPN_STATE_DISCONNECTED || s->kind == VPN_STATE_ERROR) {
			enter_connecting(s, a, 0, true);
		} else if (s->kind == VPN_STATE_DISCONNECTING && s->after != VPN_AFTER_RECONNECT) {
			s->after = s->online ? VPN_AFTER_RECONNECT : VPN_AFTER_OFFLINE;
			s->reconnect_now = true;
			a->flags |= VPN_ACT_PUBLISH;
		}
		break;
	case VPN_EV_DISCONNECT:
		set_target(s, a, false);
		if (s->tunnel_running)
			enter_disconnecting(s, a, VPN_AFTER_NOTHING);
		else if (s->kind != VPN_STATE_DISCONNECTED)
			enter_disconnected(s, a);
		break;
	case VPN_EV_RECONNECT:
		set_target(s, a, true);
		if (s->tunnel_running) {
			enter_disconnecting(s, a, s->online ? VPN_AFTER_RECONNECT : VPN_AFTER_OFFLINE);
			s->reconnect_now = true;
		} else if (s->kind != VPN_STATE_OFFLINE) {
			enter_connecting(s, a, 0, true);
		}
		break;
	case VPN_EV_PROGRESS:
		if (s->kind == VPN_STATE_CONNECTING && s->tunnel_running && s->progress != ev->progress) {
			s->progress = ev->progress;
			a->flags |= VPN_ACT_PROGRESS;
		}
		break;
	case VPN_EV_UP:
		if (s->kind == VPN_STATE_CONNECTING && s->tunnel_running && ev->connection) {
			s->kind = VPN_STATE_CONNECTED;
			s->retry_attempt = 0;
			s->message[0] = '\0';
			s->progress = VPN_CTL_STEP_UP;
			s->have_connection = true;
			s->connection = *ev->connection;
			a->flags |= VPN_ACT_PUBLISH;
		} else if (s->kind == VPN_STATE_CONNECTED && s->tunnel_running && ev->connection) {
			s->connection = *ev->connection; /* refreshed figures (two-hop: the balances) */
		}
		break;
	case VPN_EV_LINK_DOWN:
		if (active(s) && s->tunnel_running) {
			s->kind = VPN_STATE_CONNECTING;
			s->retry_attempt++;
			if (ev->message)
				snprintf(s->message, sizeof(s->message), "%s", ev->message);
			a->flags |= VPN_ACT_PUBLISH;
		}
		break;
	case VPN_EV_LINK_UP:
		if (s->kind == VPN_STATE_CONNECTING && s->tunnel_running && s->have_connection) {
			s->kind = VPN_STATE_CONNECTED;
			s->retry_attempt = 0;
			s->message[0] = '\0';
			a->flags |= VPN_ACT_PUBLISH;
		}
		break;
	case VPN_EV_FAILED:
		if (active(s) && s->tunnel_running) {
			snprintf(s->message, sizeof(s->message), "%s", ev->message ? ev->message : "");
			if (ev->fatal) {
				s->reason = ev->reason != VPN_REASON_NONE ? ev->reason : VPN_REASON_INTERNAL;
				enter_disconnecting(s, a, VPN_AFTER_ERROR);
			} else {
				enter_disconnecting(s, a, VPN_AFTER_RECONNECT);
				s->reconnect_now = false;
			}
		}
		break;
	case VPN_EV_TORN_DOWN:
		if (!s->tunnel_running)
			break;
		s->tunnel_running = false;
		s->have_connection = false;
		if (s->kind != VPN_STATE_DISCONNECTING)
			break;
		switch (s->after) {
		case VPN_AFTER_NOTHING:
			enter_disconnected(s, a);
			break;
		case VPN_AFTER_RECONNECT:
			if (s->reconnect_now)
				enter_connecting(s, a, 0, true);
			else
				enter_connecting(s, a, s->retry_attempt + 1, false);
			break;
		case VPN_AFTER_OFFLINE:
			s->kind = VPN_STATE_OFFLINE;
			s->retry_attempt = 0;
			s->progress = VPN_CTL_STEP_COUNT;
			a->flags |= VPN_ACT_BLOCK | VPN_ACT_PUBLISH;
			break;
		case VPN_AFTER_ERROR:
			s->kind = VPN_STATE_ERROR;
			s->retry_attempt = 0;
			s->progress = VPN_CTL_STEP_COUNT;
			a->flags |= VPN_ACT_BLOCK | VPN_ACT_PUBLISH;
			break;
		}
		s->after = VPN_AFTER_NOTHING;
		break;
	case VPN_EV_OFFLINE:
		if (!s->online)
			break;
		s->online = false;
		if (active(s) && s->tunnel_running) {
			enter_disconnecting(s, a, VPN_AFTER_OFFLINE);
		} else if (s->kind == VPN_STATE_CONNECTING) { /* waiting for a retry */
			s->kind = VPN_STATE_OFFLINE;
			s->retry_pending = false;
			s->retry_attempt = 0;
			a->flags |= VPN_ACT_PUBLISH;
		} else if (s->kind == VPN_STATE_DISCONNECTING && s->after == VPN_AFTER_RECONNECT) {
			s->after = VPN_AFTER_OFFLINE;
			a->flags |= VPN_ACT_PUBLISH;
		}
		break;
	case VPN_EV_ONLINE:
		if (s->online)
			break;
		s->online = true;
		if (s->kind == VPN_STATE_OFFLINE) {
			enter_connecting(s, a, 0, true);
		} else if (s->kind == VPN_STATE_DISCONNECTING && s->after == VPN_AFTER_OFFLINE) {
			s->after = VPN_AFTER_RECONNECT;
			s->reconnect_now = true;
			a->flags |= VPN_ACT_PUBLISH;
		}
		break;
	case VPN_EV_RETRY:
		if (s->kind == VPN_STATE_CONNECTING && s->retry_pending) {
			s->retry_pending = false;
			s->tunnel_running = true;
			a->flags |= VPN_ACT_START_TUNNEL;
		}
		break;
	case VPN_EV_TICKETS:
		s->tickets_left = ev->tickets_left;
		if (ev->low) {
			snprintf(a->warning, sizeof(a->warning),
				 "only %ld mixnet tickets left: obtain more with `nym-vpnc credentials obtain`",
				 ev->tickets_left);
			a->flags |= VPN_ACT_WARN;
		}
		break;
	}
}

const char *vpn_state_kind_name(enum vpn_state_kind k)
{
	static const char *const names[] = { "disconnected", "connecting", "connected",
					     "disconnecting", "offline",    "error" };
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "error";
}

const char *vpn_state_reason_name(enum vpn_state_reason r)
{
	static const char *const names[] = { "none",
					     "firewall",
					     "routing",
					     "set_dns",
					     "tun_device",
					     "tunnel_provider",
					     "resolve_gateway_addrs",
					     "same_entry_and_exit_gateway",
					     "invalid_entry_gateway_country",
					     "invalid_exit_gateway_country",
					     "no_tickets",
					     "internal" };
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "internal";
}

const char *vpn_state_after_name(enum vpn_state_after a)
{
	static const char *const names[] = { "nothing", "reconnect", "offline", "error" };
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "nothing";
}

json_t *vpn_state_to_json(const struct vpn_state *s)
{
	bool wg = s->have_connection && s->connection.two_hop;
	json_t *j = json_pack("{s:s, s:s, s:I}", "state", vpn_state_kind_name(s->kind), "mode", wg ? "wireguard" : "mixnet",
			      "retry_attempt", (json_int_t)s->retry_attempt);
	if (!j)
		return NULL;
	if (s->kind == VPN_STATE_ERROR)
		json_object_set_new(j, "reason", json_string(vpn_state_reason_name(s->reason)));
	if (s->message[0] && s->kind != VPN_STATE_CONNECTED && s->kind != VPN_STATE_DISCONNECTED)
		json_object_set_new(j, "message", json_string(s->message));
	if (s->kind == VPN_STATE_DISCONNECTING)
		json_object_set_new(j, "after_disconnect", json_string(vpn_state_after_name(s->after)));
	if (s->kind == VPN_STATE_CONNECTED || (s->kind == VPN_STATE_CONNECTING && s->have_connection)) {
		const struct vpn_state_connection *c = &s->connection;
		json_t *dns = json_array();
		for (size_t i = 0; i < c->n_dns && i < VPN_STATE_DNS_MAX; i++)
			json_array_append_new(dns, json_string(c->dns[i]));
		json_object_set_new(j, "connection",
				    json_pack("{s:{s:s, s:s}, s:{s:s}, s:s, s:s, s:s, s:I, s:o}", "entry", "id",
					      c->entry_id, "address", c->entry_address, "exit", "id", c->exit_id,
					      "tun", c->tun, "ipv4", c->ipv4, "ipv6", c->ipv6, "since",
					      (json_int_t)c->since, "dns", dns));
		if (c->two_hop) {
			json_t *conn = json_object_get(j, "connection");
			json_object_set_new(json_object_get(conn, "exit"), "address", json_string(c->exit_address));
			json_object_set_new(
				conn, "wireguard",
				json_pack("{s:s, s:{s:s, s:s, s:s, s:I}, s:{s:s, s:s, s:s, s:I}}", "backend", c->backend,
					  "entry", "tun", c->entry_tun, "ipv4", c->entry_ipv4, "ipv6", c->entry_ipv6,
					  "bandwidth", (json_int_t)c->entry_bandwidth, "exit", "tun", c->tun, "ipv4",
					  c->ipv4, "ipv6", c->ipv6, "bandwidth", (json_int_t)c->exit_bandwidth));
			json_t *awg = json_pack("{s:s}", "preset", c->amnezia[0] ? c->amnezia : "off");
			if (awg && c->amnezia_params[0]) {
				json_object_set_new(awg, "params", json_string(c->amnezia_params));
				json_object_set_new(awg, "applied", json_string(c->amnezia_applied));
			}
			json_object_set_new(json_object_get(conn, "wireguard"), "amnezia", awg);
		}
	}
	if (s->kind == VPN_STATE_CONNECTING && s->progress != VPN_CTL_STEP_COUNT)
		json_object_set_new(j, "progress", json_string(vpn_ctl_step_name(s->progress)));
	if (s->tickets_left >= 0)
		json_object_set_new(j, "tickets_left", json_integer(s->tickets_left));
	return j;
}
