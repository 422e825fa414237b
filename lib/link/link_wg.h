/* WireGuard registration over the client link (docs/PROTOCOLS.md §8.7): NymVPN's
 * "authenticator" exchange (Initial -> PendingRegistration -> Final -> Registered, bandwidth
 * query and top-up) as frames of the link, in our own fixed-layout encoding instead of Nym's
 * bincode. This module holds the bodies of those frames and the MAC both sides compute; the
 * frames themselves are link_msg types (link_msg_encode / link_msg_decode).
 *
 *     WG_INIT        c->g  client key (32)
 *     WG_PENDING     g->c  nonce u64 | gateway key (32) | IPv4 (4) | IPv6 (16) | port u16 | MAC (32)
 *     WG_FINAL       c->g  client key (32) | IPv4 | IPv6 | nonce u64 | MAC (32) [| ticket]
 *     WG_REGISTERED  g->c  IPv4 | IPv6 | port u16 | gateway key (32) | balance u64
 *     WG_QUERY       c->g  client key (32)
 *     WG_BANDWIDTH   g->c  client key (32) | registered u8 (0, 1) | balance u64
 *     WG_TOPUP       c->g  client key (32) | ticket
 *
 * The MAC is Nym's GatewayClient MAC: HMAC-SHA256 keyed by the X25519 shared secret of the
 * client's and the gateway's WireGuard keys, over the sender's public key, the address pair
 * and the nonce (here binary: 4 + 16 bytes and a big-endian u64). The gateway's MAC in
 * WG_PENDING covers the gateway's key, the client's in WG_FINAL the client's. */
#ifndef NYM_LINK_LINK_WG_H
#define NYM_LINK_LINK_WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"
#include "crypto/x25519.h"

#define LINK_WG_KEY_LEN NYM_X25519_LEN
#define LINK_WG_MAC_LEN 32
#define LINK_WG_IPS_LEN (4 + 16)
/* Nym's WG_TUNNEL_PORT. */
#define LINK_WG_DEFAULT_PORT 51822

#define LINK_WG_INIT_LEN LINK_WG_KEY_LEN					  /* 32 */
#define LINK_WG_PENDING_LEN (8 + LINK_WG_KEY_LEN + LINK_WG_IPS_LEN + 2 + LINK_WG_MAC_LEN) /* 94 */
#define LINK_WG_FINAL_BASE_LEN (LINK_WG_KEY_LEN + LINK_WG_IPS_LEN + 8 + LINK_WG_MAC_LEN) /* 92 */
#define LINK_WG_FINAL_MAX_LEN (LINK_WG_FINAL_BASE_LEN + NYM_TICKET_PREPARED_LEN + 512)
#define LINK_WG_REGISTERED_LEN (LINK_WG_IPS_LEN + 2 + LINK_WG_KEY_LEN + 8) /* 62 */
#define LINK_WG_QUERY_LEN LINK_WG_KEY_LEN				      /* 32 */
#define LINK_WG_BANDWIDTH_LEN (LINK_WG_KEY_LEN + 1 + 8)			      /* 41 */
#define LINK_WG_TOPUP_MIN_LEN (LINK_WG_KEY_LEN + NYM_TICKET_PREPARED_LEN + 256)
#define LINK_WG_TOPUP_MAX_LEN (LINK_WG_KEY_LEN + NYM_TICKET_PREPARED_LEN + 512)

/* A private address pair: the client's IPv4 and IPv6 inside the gateway's tunnel. */
struct link_wg_ips {
	uint8_t v4[4];
	uint8_t v6[16];
};

struct link_wg_pending {
	uint64_t nonce;
	uint8_t gateway_key[LINK_WG_KEY_LEN];
	struct link_wg_ips ips;
	uint16_t port; /* > 0 */
	uint8_t mac[LINK_WG_MAC_LEN];
};

struct link_wg_final {
	uint8_t client_key[LINK_WG_KEY_LEN];
	struct link_wg_ips ips;
	uint64_t nonce;
	uint8_t mac[LINK_WG_MAC_LEN];
	const uint8_t *ticket; /* NULL, 0: none (re-registration paid by the balance left) */
	size_t ticket_len;
};

struct link_wg_registered {
	struct link_wg_ips ips;
	uint16_t port; /* > 0 */
	uint8_t gateway_key[LINK_WG_KEY_LEN];
	uint64_t balance; /* bytes left */
};

struct link_wg_bandwidth {
	uint8_t client_key[LINK_WG_KEY_LEN];
	bool registered; /* false: the gateway has no peer for this key (balance is what is kept) */
	uint64_t balance;
};

struct link_wg_topup {
	uint8_t client_key[LINK_WG_KEY_LEN];
	const uint8_t *ticket;
	size_t ticket_len;
};

/* The MAC of a registration message. own_secret and peer_key are one side's WireGuard secret
 * and the other side's public key (either way round gives the same shared secret); sender_key
 * is the public key the message carries (the gateway's in WG_PENDING, the client's in
 * WG_FINAL). Returns 0 or -EINVAL (the shared secret is zero: a small-order key). */
int link_wg_mac(uint8_t out[LINK_WG_MAC_LEN], const uint8_t own_secret[NYM_X25519_LEN],
		const uint8_t peer_key[LINK_WG_KEY_LEN], const uint8_t sender_key[LINK_WG_KEY_LEN],
		const struct link_wg_ips *ips, uint64_t nonce);
/* Recomputes the MAC and compares in constant time. Returns 0, -EBADMSG (wrong MAC) or
 * -EINVAL (a small-order key). */
int link_wg_mac_verify(const uint8_t mac[LINK_WG_MAC_LEN], const uint8_t own_secret[NYM_X25519_LEN],
		       const uint8_t peer_key[LINK_WG_KEY_LEN], const uint8_t sender_key[LINK_WG_KEY_LEN],
		       const struct link_wg_ips *ips, uint64_t nonce);

/* Whether len is a ticket length the link carries (73 + 256, 384 or 512). */
bool link_wg_ticket_len_ok(size_t len);

/* "10.1.0.2 fc01::2" (for logs): out holds at least 64 bytes. */
void link_wg_ips_format(const struct link_wg_ips *ips, char *out, size_t cap);

/* The bodies, for link_msg.c: each frame type's length, writer and reader. body_len returns
 * 0, -EINVAL (a field out of range, a malformed ticket) or -EMSGSIZE (a ticket length);
 * read also -EMSGSIZE for a body length the type does not allow. */
struct link_msg;
int link_wg_body_len(const struct link_msg *m, size_t *len);
void link_wg_body_write(const struct link_msg *m, uint8_t *b);
int link_wg_body_read(struct link_msg *m, const uint8_t *b, size_t len);

#endif
