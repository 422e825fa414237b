/* The control protocol of nym-vpnd (docs/PROTOCOLS.md, "Control socket (nym-vpnd)"), shared by
 * the daemon and nym-vpnc: the command table, the validation of every command's arguments
 * (so both programs refuse the same things with the same messages), the request, reply and
 * event lines, the <state> object and a bounded line reader. Pure: no sockets, no clock.
 *
 * One JSON object per line over a Unix stream socket:
 *   request : {"id": ID, "cmd": NAME, "args": {...}}   ("args" optional)
 *   reply   : {"id": ID, "ok": true, "result": {...}}
 *             {"id": ID, "ok": false, "error": {"code": CODE, "message": SENTENCE}}
 *   event   : {"event": "state", "state": <state>} | {"event": "progress", "step": S, "message": M}
 *             | {"event": "warning", "message": M}
 * ID is an integer 0..2^53-1 chosen by the client; a reply to a request whose id could not be
 * read carries "id": null. Requests are at most VPN_CTL_REQUEST_MAX bytes, replies and events
 * at most VPN_CTL_REPLY_MAX (a gateway list can be large). */
#ifndef NYM_VPN_VPN_CTL_H
#define NYM_VPN_VPN_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"

#define VPN_CTL_DEFAULT_SOCKET "/run/nym-vpnd.sock"
#define VPN_CTL_SOCKET_ENV "NYM_VPND_SOCKET"
#define VPN_CTL_REQUEST_MAX (64 * 1024)	      /* bytes of a request line, newline excluded */
#define VPN_CTL_REPLY_MAX (4 * 1024 * 1024)   /* bytes of a reply or event line */
#define VPN_CTL_ID_MAX 9007199254740991LL     /* 2^53 - 1: exact in every JSON reader */
#define VPN_CTL_ID_NONE (-1LL)		      /* "id": null */
#define VPN_CTL_MESSAGE_MAX 256		      /* error messages, NUL included */

/* Argument ranges (inclusive). */
#define VPN_CTL_DELAY_MIN_MS 0		      /* average_packet_delay, loop_cover_stream_average_delay */
#define VPN_CTL_DELAY_MAX_MS 200
#define VPN_CTL_SENDING_DELAY_MIN_MS 5	      /* message_sending_delay */
#define VPN_CTL_SENDING_DELAY_MAX_MS 50
#define VPN_CTL_DNS_MAX 8		      /* servers in dns_set */
#define VPN_CTL_IP_STR_MAX 46		      /* INET6_ADDRSTRLEN */
#define VPN_CTL_ID_LEN 32		      /* gateway identities and authority keys, bytes */
#define VPN_CTL_B58_MAX 48		      /* their base58 text, NUL included */
#define VPN_CTL_URL_MAX 1024		      /* authority URL, NUL included */
#define VPN_CTL_KEYS_MAX 16		      /* authority_keys */
#define VPN_CTL_VOUCHERS_MAX 16		      /* vouchers (and types) */
#define VPN_CTL_VOUCHER_MAX 64		      /* characters of a voucher */
#define VPN_CTL_NETWORK_MAX 33		      /* network name [a-z0-9][a-z0-9_-]{0,31}, NUL included */

enum vpn_ctl_code {
	VPN_CTL_UNKNOWN_COMMAND,
	VPN_CTL_BAD_REQUEST,	  /* not JSON, not an object, bad id/cmd/args shape, line too long */
	VPN_CTL_INVALID_ARGUMENT, /* an argument missing, unknown, of the wrong type or out of range */
	VPN_CTL_PERMISSION_DENIED,
	VPN_CTL_NOT_FOUND,
	VPN_CTL_INTERNAL,
	VPN_CTL_UNAVAILABLE,
};
/* "unknown_command", ...; NULL for a value outside the enum. */
const char *vpn_ctl_code_name(enum vpn_ctl_code code);
int vpn_ctl_code_parse(const char *name, enum vpn_ctl_code *out);

struct vpn_ctl_error {
	enum vpn_ctl_code code;
	char message[VPN_CTL_MESSAGE_MAX]; /* one sentence, no trailing newline */
};

/* Fills err (printf format) and returns -EINVAL: `return vpn_ctl_error_set(err, ...);`. */
int vpn_ctl_error_set(struct vpn_ctl_error *err, enum vpn_ctl_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum vpn_ctl_cmd {
	VPN_CTL_INFO,
	VPN_CTL_STATUS,
	VPN_CTL_LISTEN,
	VPN_CTL_CONNECT,
	VPN_CTL_DISCONNECT,
	VPN_CTL_RECONNECT,
	VPN_CTL_GATEWAY_GET,
	VPN_CTL_GATEWAY_SET,
	VPN_CTL_GATEWAY_LIST,
	VPN_CTL_TUNNEL_GET,
	VPN_CTL_TUNNEL_SET,
	VPN_CTL_DNS_GET,
	VPN_CTL_DNS_SET,
	VPN_CTL_DNS_CLEAR,
	VPN_CTL_LAN_GET,
	VPN_CTL_LAN_SET,
	VPN_CTL_CREDENTIALS_OBTAIN,
	VPN_CTL_CREDENTIALS_LIST,
	VPN_CTL_NETWORK_GET,
	VPN_CTL_NETWORK_SET,
	VPN_CTL_CMD_COUNT
};

struct vpn_ctl_command {
	enum vpn_ctl_cmd cmd;
	const char *name;    /* "gateway_set" */
	bool privileged;     /* changes something: root or the socket group only */
	const char *summary; /* one line */
};

/* The table, in enum order (VPN_CTL_CMD_COUNT entries). */
extern const struct vpn_ctl_command vpn_ctl_commands[VPN_CTL_CMD_COUNT];
/* NULL when unknown. */
const struct vpn_ctl_command *vpn_ctl_command_find(const char *name);
const struct vpn_ctl_command *vpn_ctl_command_get(enum vpn_ctl_cmd cmd);

/* ---- typed arguments ---- */

enum vpn_ctl_point_kind { VPN_CTL_POINT_RANDOM, VPN_CTL_POINT_ID, VPN_CTL_POINT_COUNTRY };
struct vpn_ctl_point {
	enum vpn_ctl_point_kind kind;
	uint8_t id[VPN_CTL_ID_LEN]; /* kind ID */
	char country[3];	    /* kind COUNTRY: two upper-case ASCII letters */
};

enum vpn_ctl_gateway_type { VPN_CTL_GW_MIXNET_ENTRY, VPN_CTL_GW_MIXNET_EXIT, VPN_CTL_GW_WG };
const char *vpn_ctl_gateway_type_name(enum vpn_ctl_gateway_type t); /* "mixnet-entry", ... */
int vpn_ctl_gateway_type_parse(const char *name, enum vpn_ctl_gateway_type *out);

/* AmneziaWG on the entry hop of two-hop mode (NymVPN's presets, spec wireguard.md §1.6). */
enum vpn_ctl_amnezia { VPN_CTL_AMNEZIA_OFF, VPN_CTL_AMNEZIA_BASE, VPN_CTL_AMNEZIA_RANDOM };
const char *vpn_ctl_amnezia_name(enum vpn_ctl_amnezia a); /* "off", "base", "random" */
int vpn_ctl_amnezia_parse(const char *name, enum vpn_ctl_amnezia *out);

struct vpn_ctl_tunnel {
	bool two_hop;
	bool ipv6;
	uint32_t mtu; /* read-only through the protocol */
	uint32_t average_packet_delay_ms;
	uint32_t message_sending_delay_ms;
	uint32_t loop_cover_stream_average_delay_ms;
	bool disable_real_traffic_poisson_rate;
	enum vpn_ctl_amnezia amnezia;
};
/* Which fields a tunnel_set carries. */
enum {
	VPN_CTL_TUNNEL_TWO_HOP = 1 << 0,
	VPN_CTL_TUNNEL_IPV6 = 1 << 1,
	VPN_CTL_TUNNEL_AVERAGE_PACKET_DELAY = 1 << 2,
	VPN_CTL_TUNNEL_MESSAGE_SENDING_DELAY = 1 << 3,
	VPN_CTL_TUNNEL_LOOP_COVER_DELAY = 1 << 4,
	VPN_CTL_TUNNEL_DISABLE_POISSON = 1 << 5,
	VPN_CTL_TUNNEL_AMNEZIA = 1 << 6,
};

enum vpn_ctl_lan { VPN_CTL_LAN_BLOCK, VPN_CTL_LAN_ALLOW };
const char *vpn_ctl_lan_name(enum vpn_ctl_lan l); /* "block", "allow" */

/* Arguments of a request after validation. Which member is meaningful depends on the command;
 * commands without arguments leave it zeroed. Holds vouchers: clear with vpn_ctl_args_clear. */
struct vpn_ctl_args {
	/* gateway_set */
	bool has_entry, has_exit;
	struct vpn_ctl_point entry, exit;
	/* gateway_list */
	enum vpn_ctl_gateway_type gateway_type;
	/* tunnel_set: `tunnel_set` is the VPN_CTL_TUNNEL_* bits present, `tunnel` their values */
	unsigned tunnel_set;
	struct vpn_ctl_tunnel tunnel;
	/* dns_set: 1..VPN_CTL_DNS_MAX addresses, in canonical text form (inet_ntop) */
	char dns[VPN_CTL_DNS_MAX][VPN_CTL_IP_STR_MAX];
	size_t n_dns;
	/* lan_set */
	enum vpn_ctl_lan lan;
	/* credentials_obtain: vouchers[i] is for types[i] (types defaulted when absent) */
	char authority[VPN_CTL_URL_MAX];
	uint8_t authority_keys[VPN_CTL_KEYS_MAX][VPN_CTL_ID_LEN];
	size_t n_authority_keys;
	char vouchers[VPN_CTL_VOUCHERS_MAX][VPN_CTL_VOUCHER_MAX + 1];
	enum nym_ticket_type types[VPN_CTL_VOUCHERS_MAX];
	size_t n_vouchers;
	/* network_set */
	char network[VPN_CTL_NETWORK_MAX];
};

/* Validates `args` (NULL or a JSON object) for `cmd`: no unknown member, every member of the
 * right type and range. 0 and *out filled, or -EINVAL with err (code invalid_argument, or
 * bad_request when args is not an object). Both programs call this. */
int vpn_ctl_args_parse(enum vpn_ctl_cmd cmd, const json_t *args, struct vpn_ctl_args *out,
		       struct vpn_ctl_error *err);
void vpn_ctl_args_clear(struct vpn_ctl_args *a); /* wipes the vouchers */

/* Single-value checks, shared with the command line (err->message names `what`). */
int vpn_ctl_parse_point(const json_t *v, const char *what, struct vpn_ctl_point *out,
			struct vpn_ctl_error *err);
int vpn_ctl_parse_country(const char *s, const char *what, char out[3], struct vpn_ctl_error *err);
int vpn_ctl_parse_b58_id(const char *s, const char *what, uint8_t out[VPN_CTL_ID_LEN],
			 struct vpn_ctl_error *err);
int vpn_ctl_parse_ip(const char *s, const char *what, char out[VPN_CTL_IP_STR_MAX],
		     struct vpn_ctl_error *err);

/* <point> as JSON (new reference, NULL on ENOMEM). */
json_t *vpn_ctl_point_json(const struct vpn_ctl_point *p);
/* tunnel_get's object (new reference, NULL on ENOMEM). */
json_t *vpn_ctl_tunnel_json(const struct vpn_ctl_tunnel *t);

/* ---- requests ---- */

struct vpn_ctl_request {
	long long id;		     /* VPN_CTL_ID_NONE when it could not be read */
	const struct vpn_ctl_command *command; /* NULL when cmd could not be read or is unknown */
	struct vpn_ctl_args args;
};

/* Decodes one request line (no newline; len bytes, need not be NUL-terminated). 0 and *req
 * filled; else -EINVAL (or -ENOMEM) with err filled and req->id set when the id was readable,
 * so the error reply can carry it. Always call vpn_ctl_request_clear afterwards. Privilege is
 * the caller's check (req->command->privileged). */
int vpn_ctl_request_decode(const char *line, size_t len, struct vpn_ctl_request *req,
			   struct vpn_ctl_error *err);
void vpn_ctl_request_clear(struct vpn_ctl_request *req);

/* A request line: {"id":..,"cmd":..,"args":..} + "\n" (args NULL: none). *line malloc'd,
 * NUL-terminated. 0, -EINVAL (id out of range), -EMSGSIZE (longer than VPN_CTL_REQUEST_MAX),
 * -ENOMEM. The args are not validated here: see vpn_ctl_args_parse. */
int vpn_ctl_request_encode(long long id, enum vpn_ctl_cmd cmd, const json_t *args, char **line);

/* ---- replies and events (daemon side) ---- */

/* {"id":..,"ok":true,"result":result} + "\n" (result: an object, NULL for {}). Each returns 0,
 * -EINVAL (an id out of range, a result that is not an object, an unknown code), -ENOMEM or
 * -EMSGSIZE (longer than VPN_CTL_REPLY_MAX); *line malloc'd, NUL-terminated. id may be
 * VPN_CTL_ID_NONE ("id": null). */
int vpn_ctl_reply_ok(long long id, const json_t *result, char **line);
int vpn_ctl_reply_error(long long id, const struct vpn_ctl_error *err, char **line);

enum vpn_ctl_step {
	VPN_CTL_STEP_FETCHING_TOPOLOGY,
	VPN_CTL_STEP_SELECTING_GATEWAYS,
	VPN_CTL_STEP_CONNECTING_ENTRY,
	VPN_CTL_STEP_SPENDING_TICKET, /* over the link: after connecting */
	VPN_CTL_STEP_WAITING_FOR_IPR,
	VPN_CTL_STEP_REGISTERING_ENTRY, /* two-hop: WireGuard registration with the entry */
	VPN_CTL_STEP_REGISTERING_EXIT,	/* two-hop: with the exit, through the entry's tunnel */
	VPN_CTL_STEP_CONFIGURING_TUNNEL,
	VPN_CTL_STEP_UP,
	VPN_CTL_STEP_COUNT /* also "no step yet" where a step is optional */
};
const char *vpn_ctl_step_name(enum vpn_ctl_step s);	   /* "fetching_topology" */
const char *vpn_ctl_step_description(enum vpn_ctl_step s); /* "fetching the topology" */
int vpn_ctl_step_parse(const char *name, enum vpn_ctl_step *out);
/* Where step s stands in the connection of a mode ("mixnet" or "wireguard"; each mode takes
 * only some of the steps): *index 1..*count. -ENOENT when the mode does not take that step
 * or is unknown. */
int vpn_ctl_step_position(enum vpn_ctl_step s, const char *mode, unsigned *index, unsigned *count);

int vpn_ctl_event_state(const json_t *state, char **line);
int vpn_ctl_event_progress(enum vpn_ctl_step step, const char *message, char **line);
int vpn_ctl_event_warning(const char *message, char **line);

/* ---- <state> ---- */

enum vpn_ctl_state_kind {
	VPN_CTL_DISCONNECTED,
	VPN_CTL_CONNECTING,
	VPN_CTL_CONNECTED,
	VPN_CTL_DISCONNECTING,
	VPN_CTL_OFFLINE,
	VPN_CTL_ERROR,
};
enum vpn_ctl_mode { VPN_CTL_MODE_MIXNET, VPN_CTL_MODE_WIREGUARD };
enum vpn_ctl_reason {
	VPN_CTL_REASON_NONE, /* no "reason" member */
	VPN_CTL_REASON_FIREWALL,
	VPN_CTL_REASON_ROUTING,
	VPN_CTL_REASON_SET_DNS,
	VPN_CTL_REASON_TUN_DEVICE,
	VPN_CTL_REASON_TUNNEL_PROVIDER,
	VPN_CTL_REASON_RESOLVE_GATEWAY_ADDRS,
	VPN_CTL_REASON_SAME_ENTRY_AND_EXIT_GATEWAY,
	VPN_CTL_REASON_INVALID_ENTRY_GATEWAY_COUNTRY,
	VPN_CTL_REASON_INVALID_EXIT_GATEWAY_COUNTRY,
	VPN_CTL_REASON_NO_TICKETS,
	VPN_CTL_REASON_INTERNAL,
};
enum vpn_ctl_after {
	VPN_CTL_AFTER_NONE, /* no "after_disconnect" member */
	VPN_CTL_AFTER_NOTHING,
	VPN_CTL_AFTER_RECONNECT,
	VPN_CTL_AFTER_OFFLINE,
	VPN_CTL_AFTER_ERROR,
};
const char *vpn_ctl_state_name(enum vpn_ctl_state_kind s); /* "connected" */
int vpn_ctl_state_parse(const char *name, enum vpn_ctl_state_kind *out);
const char *vpn_ctl_mode_name(enum vpn_ctl_mode m);	   /* "mixnet" */
const char *vpn_ctl_reason_name(enum vpn_ctl_reason r);	   /* "no_tickets"; NULL for NONE */
int vpn_ctl_reason_parse(const char *name, enum vpn_ctl_reason *out);
/* What the user can do about it, one sentence ("obtain credentials with `nym-vpnc credentials
 * obtain`"), for a reason; "" for NONE. */
const char *vpn_ctl_reason_hint(enum vpn_ctl_reason r);
const char *vpn_ctl_after_name(enum vpn_ctl_after a); /* "reconnect"; NULL for NONE */

struct vpn_ctl_connection {
	uint8_t entry_id[VPN_CTL_ID_LEN];
	char entry_address[64]; /* "IP:PORT" / "[IP6]:PORT" of the link */
	uint8_t exit_id[VPN_CTL_ID_LEN];
	char tun[16];		       /* "nym0" */
	char ipv4[VPN_CTL_IP_STR_MAX]; /* "" = absent */
	char ipv6[VPN_CTL_IP_STR_MAX]; /* "" = absent */
	int64_t since;		       /* unix seconds */
	char dns[VPN_CTL_DNS_MAX][VPN_CTL_IP_STR_MAX];
	size_t n_dns;
};

struct vpn_ctl_state {
	enum vpn_ctl_state_kind state;
	enum vpn_ctl_mode mode;
	uint32_t retry_attempt;
	enum vpn_ctl_reason reason;	   /* NONE: omitted */
	const char *message;		   /* NULL: omitted */
	enum vpn_ctl_after after_disconnect; /* NONE: omitted */
	bool has_connection;
	struct vpn_ctl_connection connection;
	bool has_progress;
	enum vpn_ctl_step progress; /* the last step */
	bool has_tickets_left;
	uint64_t tickets_left;
};

/* <state> as JSON (new reference; NULL on ENOMEM). */
json_t *vpn_ctl_state_json(const struct vpn_ctl_state *s);

/* ---- messages the client reads ---- */

enum vpn_ctl_msg_kind { VPN_CTL_MSG_REPLY, VPN_CTL_MSG_EVENT };
enum vpn_ctl_event_kind { VPN_CTL_EV_STATE, VPN_CTL_EV_PROGRESS, VPN_CTL_EV_WARNING };

struct vpn_ctl_message {
	enum vpn_ctl_msg_kind kind;
	json_t *root; /* the whole object; the pointers below point into it */
	/* reply */
	long long id; /* VPN_CTL_ID_NONE for "id": null */
	bool ok;
	json_t *result;		  /* ok: an object */
	struct vpn_ctl_error error; /* !ok */
	/* event */
	enum vpn_ctl_event_kind event;
	json_t *state;	     /* EV_STATE: an object */
	enum vpn_ctl_step step; /* EV_PROGRESS */
	const char *text;	    /* EV_PROGRESS / EV_WARNING: the message */
};

/* Decodes a reply or event line from the daemon. 0, or -EINVAL with err (bad_request) for
 * anything that is not one of the shapes above. Always call vpn_ctl_message_clear. A
 * progress event with a step this version does not know is accepted with step =
 * VPN_CTL_STEP_COUNT (newer daemon). */
int vpn_ctl_message_decode(const char *line, size_t len, struct vpn_ctl_message *m,
			   struct vpn_ctl_error *err);
void vpn_ctl_message_clear(struct vpn_ctl_message *m);

/* ---- line reader ---- */

/* Splits a byte stream into lines of at most `max` bytes (newline excluded). A trailing "\r"
 * is dropped; empty lines are skipped. A line longer than max is reported once
 * (-EMSGSIZE) as soon as it crosses the limit, and its bytes are dropped up to and including
 * the next newline, after which reading resumes. */
struct vpn_ctl_reader {
	char *buf;
	size_t len, cap, max;
	bool discarding; /* inside a line that was too long */
	bool returned;	 /* buf holds the line handed out last time */
};

void vpn_ctl_reader_init(struct vpn_ctl_reader *r, size_t max);
void vpn_ctl_reader_free(struct vpn_ctl_reader *r);
/* Consumes bytes from *data (advancing *data and *n) until a line completes. Returns 1 with
 * *line (NUL-terminated, valid until the next call) and *len; 0 when every byte is consumed
 * and no line completed yet; -EMSGSIZE for a line too long (call again to go on); -ENOMEM. */
int vpn_ctl_reader_next(struct vpn_ctl_reader *r, const char **data, size_t *n, const char **line,
			size_t *len);
/* Bytes of an unfinished line held (for "connection closed mid-line" checks). */
size_t vpn_ctl_reader_pending(const struct vpn_ctl_reader *r);

#endif
