/* WireGuard registration with one gateway over a short, blocking client link (docs/PROTOCOLS.md
 * §8.7): TCP to the gateway's clients_port (marked with SO_MARK when asked, before connect),
 * Noise XKpsk3 as initiator to its topology Noise key with a fresh static key, HELLO ->
 * VERSION, then lib/client/client_wg_register's exchange (WG_INIT, WG_PENDING, WG_FINAL,
 * WG_REGISTERED; no AUTH: the WireGuard key is the identity), CLOSE. nym-vpnd's two-hop mode
 * and the probe use it for the entry (straight) and the exit (through the entry's tunnel:
 * the route decides, nothing here knows).
 *
 * Tickets: clientio_wgreg_take_ticket takes the next unspent ticket of the given type from
 * the books in a directory (ready, unexpired, soonest expiry first) and marks it spent in the
 * file before it is returned, as clientio does for mixnet-entry tickets. A registration that
 * did not use it (the key was registered already) leaves it spent: at worst a ticket lost,
 * never one presented twice. */
#ifndef NYM_CLIENTIO_CLIENTIO_WGREG_H
#define NYM_CLIENTIO_CLIENTIO_WGREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cred/ticket.h"
#include "crypto/x25519.h"
#include "link/link_msg.h"

struct clientio_wgreg_config {
	const struct sockaddr *gateway; /* the gateway's clients_port address */
	socklen_t gateway_len;
	const uint8_t *gateway_noise;	/* its Noise key from the topology (32) */
	uint32_t fwmark;		/* 0: none */
	const char *bind_ifname;	/* NULL: none; else SO_BINDTODEVICE (the probe's way through a tunnel) */
	const struct nym_x25519_keypair *wg_key; /* our WireGuard key for this gateway */
	const uint8_t *ticket;		/* wg-entry / wg-exit ticket, or NULL */
	size_t ticket_len;
	long timeout_ms;		/* per step; 0: 10 s */
};

struct clientio_wgreg_result {
	struct link_wg_registered reg; /* pair, port, gateway key, balance */
	bool ticket_used;	       /* a WG_FINAL carried the ticket */
};

/* Runs one registration. Returns 0, or -errno with a one-line reason in err: -ECONNREFUSED
 * (the gateway answered ERROR: the code's name in err), -EBADMSG (a bad MAC), -EPROTO,
 * -ETIMEDOUT, socket errors. */
int clientio_wgreg_register(const struct clientio_wgreg_config *c, struct clientio_wgreg_result *out, char *err,
			    size_t errlen);

/* Takes one ticket of `type` from the *.json books in dir (see above). *left: unspent tickets
 * of that type left (may be NULL). Returns 0, -ENOENT (none), or a file error. */
int clientio_wgreg_take_ticket(const char *dir, enum nym_ticket_type type, int64_t now, uint8_t *ticket, size_t cap,
			       size_t *len, size_t *left);

/* Unspent, ready, unexpired tickets of `type` in dir (0 when none or unreadable). */
size_t clientio_wgreg_tickets_left(const char *dir, enum nym_ticket_type type, int64_t now);

#endif
