/* nym-vpnd's tunnel state machine as a pure engine (NymVPN's tunnel_state_machine): events
 * in, the new state and actions out; the daemon carries the actions out and feeds back what
 * happened. No I/O, no clock: time-dependent steps (retry backoff) are actions with a delay.
 *
 *   Disconnected --connect--> Connecting{0} [start]          (Offline instead while no route)
 *   Connecting --up--> Connected
 *   Connected --link_down--> Connecting{n+1} --link_up--> Connected  (the client reconnects)
 *   Connecting|Connected --failed(retryable)--> Disconnecting{reconnect} [stop]
 *        --torn_down--> Connecting{n+1} [retry after backoff] --retry--> [start]
 *   Connecting|Connected --failed(fatal)--> Disconnecting{error} [stop] --torn_down--> Error(reason)
 *   Connecting|Connected --offline--> Disconnecting{offline} [stop] --torn_down--> Offline
 *   Offline --online--> Connecting{0} [start]
 *   any --disconnect--> Disconnecting{nothing} [stop] --torn_down--> Disconnected [unblock]
 *       (straight to Disconnected [unblock] when no tunnel runs)
 *
 * The kill switch stays from Connecting until Disconnected: in Error and Offline it blocks. */
#ifndef NYM_VPN_VPN_STATE_H
#define NYM_VPN_VPN_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpn/vpn_ctl.h"

enum vpn_state_kind {
	VPN_STATE_DISCONNECTED,
	VPN_STATE_CONNECTING,
	VPN_STATE_CONNECTED,
	VPN_STATE_DISCONNECTING,
	VPN_STATE_OFFLINE,
	VPN_STATE_ERROR,
};

enum vpn_state_after { VPN_AFTER_NOTHING, VPN_AFTER_RECONNECT, VPN_AFTER_OFFLINE, VPN_AFTER_ERROR };

/* NymVPN's ErrorStateReason, as far as they apply. */
enum vpn_state_reason {
	VPN_REASON_NONE,
	VPN_REASON_FIREWALL,
	VPN_REASON_ROUTING,
	VPN_REASON_SET_DNS,
	VPN_REASON_TUN_DEVICE,
	VPN_REASON_TUNNEL_PROVIDER,
	VPN_REASON_RESOLVE_GATEWAY_ADDRS,
	VPN_REASON_SAME_ENTRY_AND_EXIT_GATEWAY,
	VPN_REASON_INVALID_ENTRY_GATEWAY_COUNTRY,
	VPN_REASON_INVALID_EXIT_GATEWAY_COUNTRY,
	VPN_REASON_NO_TICKETS,
	VPN_REASON_INTERNAL,
};


#define VPN_STATE_DNS_MAX 8
#define VPN_STATE_MESSAGE_MAX 256

struct vpn_state_connection {
	char entry_id[64];
	char entry_address[64];
	char exit_id[64];
	char tun[16];
	char ipv4[16];
	char ipv6[46];
	int64_t since; /* unix seconds */
	size_t n_dns;
	char dns[VPN_STATE_DNS_MAX][46];
	/* Two-hop (mode "wireguard"): the backend, the exit's address, each tunnel's private
	 * address pair and remaining bandwidth (bytes, -1 unknown). tun is the exit device. */
	bool two_hop;
	char backend[16];
	char exit_address[64];
	char entry_tun[16];
	char entry_ipv4[16], entry_ipv6[46];
	int64_t entry_bandwidth, exit_bandwidth;
	/* AmneziaWG on the entry hop: the preset ("off", "base", "random"), the parameters in use
	 * (awg text form) and where the transform runs ("kernel": nym_awg.ko, "relay": the
	 * userspace relay). */
	char amnezia[8];
	char amnezia_params[128];
	char amnezia_applied[8];
};

struct vpn_state {
	enum vpn_state_kind kind;
	uint32_t retry_attempt;
	enum vpn_state_after after;	  /* Disconnecting */
	enum vpn_state_reason reason;	  /* Error, and the pending error while Disconnecting{error} */
	char message[VPN_STATE_MESSAGE_MAX]; /* Error: what failed; else the last problem */
	enum vpn_ctl_step progress; /* VPN_CTL_STEP_COUNT: none yet */
	bool have_connection; /* the tunnel was configured (Connected, or Connecting after a link loss) */
	struct vpn_state_connection connection;
	long tickets_left; /* -1: unknown */
	/* Inputs the engine remembers. */
	bool target_connected; /* the user's wish, persisted by the daemon (target.json) */
	bool online;	       /* a default route exists */
	bool tunnel_running;   /* a start was issued and no torn_down came back yet */
	bool retry_pending;    /* Connecting: waiting for the backoff to end */
	bool reconnect_now;    /* the next Connecting after torn_down starts at once (user reconnect) */
};

enum vpn_state_event_kind {
	VPN_EV_CONNECT,	  /* user */
	VPN_EV_DISCONNECT, /* user */
	VPN_EV_RECONNECT,  /* user */
	VPN_EV_PROGRESS,   /* tunnel: .progress */
	VPN_EV_UP,	   /* tunnel: configured, .connection */
	VPN_EV_LINK_DOWN,  /* tunnel: the gateway link dropped; the client retries by itself */
	VPN_EV_LINK_UP,	   /* tunnel: the link is back */
	VPN_EV_FAILED,	   /* tunnel: .reason, .message, .fatal */
	VPN_EV_TORN_DOWN,  /* tunnel: everything but the kill switch removed */
	VPN_EV_OFFLINE,	   /* no default route any more */
	VPN_EV_ONLINE,	   /* a default route again */
	VPN_EV_RETRY,	   /* the backoff asked for by VPN_ACT_ARM_RETRY ended */
	VPN_EV_TICKETS,	   /* tunnel: .tickets_left, .low */
};

struct vpn_state_event {
	enum vpn_state_event_kind kind;
	enum vpn_ctl_step progress; /* VPN_CTL_STEP_COUNT: none yet */
	const struct vpn_state_connection *connection;
	enum vpn_state_reason reason;
	const char *message;
	bool fatal;
	long tickets_left;
	bool low;
};

/* What the daemon must do, in this order. */
enum {
	VPN_ACT_TARGET = 1u << 0,	 /* persist target_connected */
	VPN_ACT_STOP_TUNNEL = 1u << 1,	 /* tear the tunnel down (not the kill switch); torn_down when done */
	VPN_ACT_BLOCK = 1u << 2,	 /* kill switch in blocking form (no tunnel) */
	VPN_ACT_UNBLOCK = 1u << 3,	 /* remove the kill switch */
	VPN_ACT_START_TUNNEL = 1u << 4, /* run the connect pipeline */
	VPN_ACT_ARM_RETRY = 1u << 5,	 /* VPN_EV_RETRY after retry_ms */
	VPN_ACT_PUBLISH = 1u << 6,	 /* the state changed: tell listeners */
	VPN_ACT_PROGRESS = 1u << 7,	 /* a progress step: tell listeners */
	VPN_ACT_WARN = 1u << 8,	 /* a warning (message) for listeners */
};

struct vpn_state_actions {
	unsigned flags;
	uint32_t retry_ms;
	char warning[VPN_STATE_MESSAGE_MAX];
};

/* Disconnected, online, target disconnected, tickets unknown. */
void vpn_state_init(struct vpn_state *s);

/* Feeds one event. Events that do not apply in the current state change nothing (flags 0). */
void vpn_state_handle(struct vpn_state *s, const struct vpn_state_event *ev, struct vpn_state_actions *a);

/* Backoff before retry n (1-based): 1 s doubling to 30 s. */
uint32_t vpn_state_backoff_ms(uint32_t attempt);

/* Names: "connecting", "tun_device", "waiting_for_ipr", "reconnect". */
const char *vpn_state_kind_name(enum vpn_state_kind k);
const char *vpn_state_reason_name(enum vpn_state_reason r);
const char *vpn_state_after_name(enum vpn_state_after a);

/* C5's <state> object (mode "mixnet"). */
json_t *vpn_state_to_json(const struct vpn_state *s);

#endif
