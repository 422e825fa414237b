/* nym-node debug wg-register: WireGuard registration with a gateway (docs/PROTOCOLS.md §8.7)
 * over a blocking client link (clientio_link: Noise, HELLO, then the WG_* frames without AUTH),
 * driven by lib/client/client_wg_register, with the abuses the tests need (a bad MAC). The
 * result is one JSON object. */
#ifndef NYM_NODECTL_DEBUG_WG_REGISTER_H
#define NYM_NODECTL_DEBUG_WG_REGISTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_addr.h"

struct wg_register_options {
	struct net_addr gateway;
	uint8_t gateway_noise[32];
	uint8_t private_key[32]; /* the client's WireGuard key */
	bool have_key;		 /* else a fresh one (printed) */
	const char *book_path;	 /* NULL: WG_FINAL without a ticket */
	size_t ticket_index;
	bool forge_mac; /* flip a bit of the WG_FINAL's MAC */
	bool query;	/* WG_QUERY after registering: the balance */
	uint64_t timeout_ms;
};

/* Returns 0 with *out (a refused registration is still 0: the JSON says so) or -errno with err
 * (no connection, an unreadable ticketbook). */
int wg_register_run(const struct wg_register_options *o, json_t **out, char *err, size_t errlen);

#endif
