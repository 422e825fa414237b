/* nym-node debug link-client: one client link session against a gateway (docs/PROTOCOLS.md §8),
 * driven step by step from options so scripts can test the gateway, including what a broken or
 * hostile client does. Blocking socket; the result is one JSON object. */
#ifndef NYM_NODECTL_LINK_CLIENT_H
#define NYM_NODECTL_LINK_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_addr.h"

enum link_client_abuse {
	LINK_CLIENT_NONE,
	LINK_CLIENT_GARBAGE_RAW,   /* random bytes instead of a Noise handshake */
	LINK_CLIENT_GARBAGE_FRAME, /* after AUTH: a frame of an unknown type */
	LINK_CLIENT_OVERSIZE,	   /* after HELLO: an AUTH header announcing 4096 bytes */
	LINK_CLIENT_NO_AUTH,	   /* SEND right after VERSION */
	LINK_CLIENT_BAD_SIGNATURE, /* AUTH with a corrupted signature */
};

struct link_client_options {
	struct net_addr gateway;
	uint8_t gateway_noise[32];
	uint8_t identity_seed[32];
	bool have_seed;		   /* else a fresh identity */
	const char *book_path;	   /* NULL: no ticket */
	size_t ticket_index;
	size_t tickets;		   /* how many tickets to spend from ticket_index on (default 1 with a book) */
	bool forge_ticket;	   /* flip a bit of the ticket's signature */
	bool spend_twice;	   /* present the first ticket again on the same link */
	enum link_client_abuse abuse;
	int64_t skew_s;		   /* added to the AUTH timestamp */
	size_t send;		   /* SEND entries (regular, random packet bytes) */
	struct net_addr first_hop; /* their first hop */
	uint64_t wait_ms;	   /* then read for this long (RECEIVE, LOW_BALANCE, ERROR) */
	uint64_t timeout_ms;	   /* for each answer (default 5000) */
};

/* Runs one session. Returns 0 with *out set (a session that the gateway refused is still 0:
 * the JSON says what happened), or a negative errno with err set when it could not start
 * (connection refused, unreadable ticketbook). */
int link_client_run(const struct link_client_options *o, json_t **out, char *err, size_t errlen);

#endif
