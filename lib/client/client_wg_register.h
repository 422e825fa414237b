/* The client's side of WireGuard registration with a gateway (docs/PROTOCOLS.md §8.7) as a
 * state machine without a socket: it builds the frames to send and checks the ones the
 * gateway answers with, over a client link to that gateway (to the exit through the entry's
 * tunnel).
 *
 *   start               -> WG_INIT (client key)
 *   WG_PENDING          -> the gateway's MAC checked with our key -> WG_FINAL (our MAC, ticket)
 *   WG_REGISTERED       -> done: address pair, port, gateway key, balance
 *   ERROR               -> failed, with the code
 *
 * A gateway that knows the key already answers WG_INIT with WG_REGISTERED (or the same
 * WG_PENDING again); then no ticket was used (client_wg_register_ticket_used), and the caller
 * keeps its ticket unspent. */
#ifndef NYM_CLIENT_CLIENT_WG_REGISTER_H
#define NYM_CLIENT_CLIENT_WG_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x25519.h"
#include "link/link_msg.h"

enum client_wg_register_state {
	CLIENT_WG_REGISTER_IDLE = 0,
	CLIENT_WG_REGISTER_INIT_SENT,
	CLIENT_WG_REGISTER_FINAL_SENT,
	CLIENT_WG_REGISTER_DONE,
	CLIENT_WG_REGISTER_FAILED,
};

struct client_wg_register {
	enum client_wg_register_state state;
	struct nym_x25519_keypair key; /* our WireGuard key for this gateway (secret zeroed by clear) */
	bool pin_gateway;
	uint8_t gateway_key[LINK_WG_KEY_LEN]; /* expected, when pinned; else learnt from WG_PENDING */
	uint8_t ticket[NYM_TICKET_MAX_LEN];
	size_t ticket_len; /* 0: FINAL without a ticket (paid by the balance left) */
	bool ticket_used;  /* a FINAL carried it */
	struct link_wg_pending pending;
	struct link_wg_registered result;
	uint16_t error;	   /* CLIENT_WG_REGISTER_FAILED: the gateway's ERROR code, or 0 for ours */
	int reason;	   /* FAILED: -EBADMSG (bad MAC), -EPROTO (a message out of place or inconsistent), -ECONNREFUSED (ERROR) */
};

/* key: our WireGuard key pair (copied). gateway_key: the gateway's WireGuard key when it is
 * known ahead (NULL: taken from WG_PENDING, authenticated by the link's Noise handshake).
 * ticket: a wg-entry or wg-exit ticket for WG_FINAL (copied; NULL, 0: none). Returns 0 or
 * -EINVAL (a ticket length the link does not carry). */
int client_wg_register_init(struct client_wg_register *r, const struct nym_x25519_keypair *key,
			    const uint8_t *gateway_key, const uint8_t *ticket, size_t ticket_len);
void client_wg_register_clear(struct client_wg_register *r);

/* WG_INIT into *out. Returns 0 or -EALREADY (started before). */
int client_wg_register_start(struct client_wg_register *r, struct link_msg *out);

/* A frame from the gateway. Returns 0 with *send true and *out set when a frame must go out
 * (WG_FINAL), 0 with *send false otherwise (done, or a message not about registration:
 * -ENOMSG then); on failure the state is FAILED and the error above is returned. */
int client_wg_register_on_msg(struct client_wg_register *r, const struct link_msg *in, struct link_msg *out,
			      bool *send);

static inline bool client_wg_register_done(const struct client_wg_register *r)
{
	return r->state == CLIENT_WG_REGISTER_DONE;
}
static inline bool client_wg_register_ticket_used(const struct client_wg_register *r)
{
	return r->ticket_used;
}

#endif
