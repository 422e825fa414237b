/* nym-vpnd's user settings (<state>/settings.json): the entry and exit points, the tunnel
 * settings, custom DNS servers and the LAN policy, as `nym-vpnc gateway|tunnel|dns|lan set`
 * change them (docs/PROTOCOLS.md, control protocol C5). Pure: JSON in and out, plus an
 * atomic 0600 save and a load that never leaves the caller without settings.
 *
 *   {"version": 1, "entry": <point>, "exit": <point>,
 *    "tunnel": {"two_hop", "ipv6", "average_packet_delay_ms", "message_sending_delay_ms",
 *               "loop_cover_stream_average_delay_ms", "disable_real_traffic_poisson_rate",
 *               "amnezia": "off"|"base"|"random"},
 *    "dns": ["ip", ...], "lan": "allow"|"block"}
 *   <point> = {"kind": "random"} | {"kind": "id", "id": b58} | {"kind": "country", "country": "DE"}
 *
 * Missing fields take their defaults and unknown ones are ignored (a newer file stays
 * readable); a field of the wrong type or out of range makes the whole file invalid. */
#ifndef NYM_VPN_VPN_SETTINGS_H
#define NYM_VPN_VPN_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpn/vpn_ctl.h"

#define VPN_SETTINGS_VERSION 1
#define VPN_SETTINGS_DNS_MAX 8
#define VPN_SETTINGS_IP_MAX 46 /* INET6_ADDRSTRLEN */
#define VPN_SETTINGS_FILE_MAX (64 * 1024)

/* Ranges of the tunnel settings (NymVPN's): milliseconds. */
#define VPN_SETTINGS_PACKET_DELAY_MAX_MS 200
#define VPN_SETTINGS_SENDING_DELAY_MIN_MS 5
#define VPN_SETTINGS_SENDING_DELAY_MAX_MS 50
#define VPN_SETTINGS_LOOP_COVER_MAX_MS 200 /* 0: no loop cover stream */

enum vpn_point_kind { VPN_POINT_RANDOM, VPN_POINT_ID, VPN_POINT_COUNTRY };

struct vpn_point {
	enum vpn_point_kind kind;
	uint8_t id[32];	 /* VPN_POINT_ID */
	char country[3]; /* VPN_POINT_COUNTRY: ISO 3166-1 alpha-2, upper case */
};

struct vpn_tunnel_settings {
	bool two_hop;
	bool ipv6;
	uint32_t average_packet_delay_ms;
	uint32_t message_sending_delay_ms;
	uint32_t loop_cover_stream_average_delay_ms;
	bool disable_real_traffic_poisson_rate;
	enum vpn_ctl_amnezia amnezia; /* two-hop's entry hop; default off */
};

struct vpn_settings {
	struct vpn_point entry, exit;
	struct vpn_tunnel_settings tunnel;
	size_t n_dns; /* 0: the configured default servers */
	char dns[VPN_SETTINGS_DNS_MAX][VPN_SETTINGS_IP_MAX];
	bool allow_lan;
};

/* Random gateways, IPv6 on, two-hop off, Nym's client delays (15 ms per hop, 20 ms sending,
 * 200 ms loop cover), Poisson rate on, no custom DNS, LAN blocked. */
void vpn_settings_default(struct vpn_settings *s);

/* <point> <-> JSON. from_json: 0 or -EINVAL with a sentence in err. */
json_t *vpn_point_to_json(const struct vpn_point *p);
int vpn_point_from_json(const json_t *j, struct vpn_point *p, char *err, size_t errlen);

/* The whole file. to_json returns a malloc'd string (free()) or NULL. from_json: 0, or
 * -EINVAL with err (s then holds the defaults). */
char *vpn_settings_to_json(const struct vpn_settings *s);
int vpn_settings_from_json(const char *text, size_t len, struct vpn_settings *s, char *err, size_t errlen);

/* Load: 0; -ENOENT (no file: defaults); -EINVAL / -EFBIG / -errno (unreadable or corrupt:
 * defaults, err says why). s always holds usable settings afterwards. */
int vpn_settings_load(const char *path, struct vpn_settings *s, char *err, size_t errlen);
/* Atomic replace, mode 0600. 0 or -errno. */
int vpn_settings_save(const char *path, const struct vpn_settings *s);

/* The results of the C5 getters. */
json_t *vpn_settings_gateway_json(const struct vpn_settings *s);		  /* {"entry", "exit"} */
json_t *vpn_settings_tunnel_json(const struct vpn_settings *s, unsigned mtu); /* tunnel_get */
json_t *vpn_settings_dns_json(const struct vpn_settings *s, const char *const *defaults, size_t n_defaults);
json_t *vpn_settings_lan_json(const struct vpn_settings *s);

/* The servers in effect: the custom ones, else the defaults. Returns the count (<= cap). */
size_t vpn_settings_dns_effective(const struct vpn_settings *s, const char *const *defaults, size_t n_defaults,
				  const char **out, size_t cap);

/* Applies a setter (gateway_set, tunnel_set, dns_set, dns_clear, lan_set) whose arguments
 * vpn_ctl_args_parse has checked. Returns 0 with *changed telling whether anything differs
 * from before, or -ENOENT (not a setter; s unchanged). */
int vpn_settings_apply(struct vpn_settings *s, enum vpn_ctl_cmd cmd, const struct vpn_ctl_args *a, bool *changed);

#endif
