/* A WireGuard device as plain data, shared by both backends (wg_genl, wg_uapi): what to set
 * (struct wg_conf, caller-owned arrays, nothing allocated) and what a device reports (struct
 * wg_status, allocated by the reader, freed and zeroed by wg_status_free). Keys are raw 32
 * bytes; the text forms are base64 (wg(8), configuration files) and hex (the UAPI). Private
 * and preshared keys are zeroed when dropped and never logged. */
#ifndef NYM_WG_WG_CONF_H
#define NYM_WG_WG_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WG_KEY_LEN 32
#define WG_KEY_B64_LEN 45 /* 44 characters and a NUL */
#define WG_KEY_HEX_LEN 65 /* 64 digits and a NUL */

/* A peer's endpoint; sa.sa_family 0 = none. */
union wg_endpoint {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct wg_allowed_ip {
	int family; /* AF_INET (4 bytes of addr used) or AF_INET6 */
	uint8_t addr[16];
	uint8_t cidr;
	bool remove; /* set only: remove this one entry (kernels and wireguard-go of 2025 on) */
};

/* Device fields present in a wg_conf; an absent field is left as it is on the device. */
enum wg_conf_flag {
	WG_CONF_PRIVATE_KEY = 1U << 0, /* an all-zero key removes it */
	WG_CONF_LISTEN_PORT = 1U << 1, /* 0 = a random port */
	WG_CONF_FWMARK = 1U << 2,      /* 0 = off */
	WG_CONF_REPLACE_PEERS = 1U << 3, /* peers not listed are removed */
};

enum wg_peer_flag {
	WG_PEER_REMOVE = 1U << 0,              /* remove the peer; nothing else of it is used */
	WG_PEER_REPLACE_ALLOWED_IPS = 1U << 1, /* its allowed IPs become exactly the list */
	WG_PEER_UPDATE_ONLY = 1U << 2,         /* change it only if it exists */
	WG_PEER_PRESHARED_KEY = 1U << 3,       /* preshared_key is given (all zero removes it) */
	WG_PEER_KEEPALIVE = 1U << 4,           /* keepalive is given (0 = off) */
};

struct wg_peer_conf {
	uint8_t public_key[WG_KEY_LEN];
	uint32_t flags; /* enum wg_peer_flag */
	uint8_t preshared_key[WG_KEY_LEN];
	union wg_endpoint endpoint; /* family 0: leave it */
	uint16_t keepalive;         /* seconds */
	const struct wg_allowed_ip *allowed_ips;
	size_t n_allowed_ips; /* added to the peer's list (or replacing it, see the flag) */
};

struct wg_conf {
	uint32_t flags; /* enum wg_conf_flag */
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	const struct wg_peer_conf *peers;
	size_t n_peers;
};

struct wg_peer_status {
	uint8_t public_key[WG_KEY_LEN];
	bool has_preshared_key; /* a non-zero preshared key is set */
	uint8_t preshared_key[WG_KEY_LEN];
	union wg_endpoint endpoint;
	uint16_t keepalive;
	int64_t last_handshake_sec, last_handshake_nsec; /* wall clock; 0 = never */
	uint64_t rx_bytes, tx_bytes;
	uint32_t protocol_version;
	struct wg_allowed_ip *allowed_ips;
	size_t n_allowed_ips, cap_allowed_ips;
};

struct wg_status {
	bool has_private_key; /* the reader may see it (root) and one is set */
	uint8_t private_key[WG_KEY_LEN];
	bool has_public_key;
	uint8_t public_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	struct wg_peer_status *peers;
	size_t n_peers, cap_peers;
};

/* Empties a status (keys zeroed, arrays freed) so it can be filled again. */
void wg_status_free(struct wg_status *st);
/* Appends a zeroed peer / allowed IP; returns it or NULL (out of memory). */
struct wg_peer_status *wg_status_add_peer(struct wg_status *st);
struct wg_allowed_ip *wg_status_add_allowed_ip(struct wg_peer_status *p);
/* The peer with this public key, or NULL. */
struct wg_peer_status *wg_status_find_peer(struct wg_status *st, const uint8_t key[WG_KEY_LEN]);

/* Zeroes the secrets a configuration holds (its private key); peers' preshared keys live in
 * the caller's arrays and are the caller's to zero. */
void wg_conf_clear(struct wg_conf *c);

bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN]);
void wg_key_to_base64(char out[WG_KEY_B64_LEN], const uint8_t key[WG_KEY_LEN]);
/* Exactly 44 characters of standard base64 with one '=' pad. Returns 0 or -EINVAL. */
int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *b64);
/* A fresh clamped private key and its public key (X25519). */
void wg_key_generate(uint8_t private_key[WG_KEY_LEN], uint8_t public_key[WG_KEY_LEN]);
void wg_key_public(uint8_t public_key[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN]);

/* "10.0.0.0/8", "fd00::1/128", a bare address meaning the whole host. Returns 0 or -EINVAL
 * (host bits set are accepted, as wg(8) does; the device masks them). */
int wg_allowed_ip_parse(struct wg_allowed_ip *out, const char *text);
#define WG_ALLOWED_IP_STR_LEN 52
void wg_allowed_ip_format(char out[WG_ALLOWED_IP_STR_LEN], const struct wg_allowed_ip *a);

#endif
