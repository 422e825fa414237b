/* One client link on the entry gateway (docs/PROTOCOLS.md §8) as a state machine without a
 * socket: the owner feeds the bytes it reads and writes the bytes the link has ready.
 *
 *     bytes in -> Noise responder (node Noise key, Nym PSK) -> link_frame_decoder -> messages
 *     HELLO -> VERSION, AUTH -> AUTH_OK (clock skew, then the signature over the handshake hash),
 *     SPEND_TICKET -> BANDWIDTH or ERROR ticket_*, SEND -> entries metered and forwarded, CLOSE
 *     RECEIVE / LOW_BALANCE / ERROR bandwidth_exhausted <- gateway_link_deliver and metering
 *
 * Metering: every Sphinx packet crossing the link costs its class's packet length, SEND entries
 * and RECEIVE items alike. An entry is forwarded while the balance is above 0 (the last one may
 * take it below its length: the balance saturates at 0). LOW_BALANCE goes out once each time the
 * balance falls under LINK_LOW_BALANCE_BYTES, ERROR bandwidth_exhausted once each time it
 * reaches 0 (or at the first SEND of a link that starts at 0); SEND entries are then dropped
 * and counted, and deliveries refused (-EDQUOT: the owner keeps them in the inbox) until a
 * ticket is spent.
 *
 * WireGuard registration frames go to the wg hook once VERSION is sent; a refused one (bad MAC,
 * not pending, a refused ticket) counts against GATEWAY_LINK_MAX_REFUSED_TICKETS as a refused
 * ticket does.
 *
 * Any protocol error (a malformed frame, a frame out of order, a Noise failure) ends the link:
 * an ERROR goes out if the Noise transport is up, then the link only drains its output
 * (gateway_link_closing). Every refusal is counted in the shared counters. */
#ifndef NYM_GATEWAY_GATEWAY_LINK_H
#define NYM_GATEWAY_GATEWAY_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "link/link_frame.h"
#include "link/link_msg.h"
#include "mix/mix_packet_size.h"
#include "noise/noise_session.h"

/* Refused tickets a link may present before it is closed: each costs the gateway an RSA
 * verification, and authentication costs a client nothing. */
#define GATEWAY_LINK_MAX_REFUSED_TICKETS 16

/* Output a link holds at most (sealed bytes not yet written). */
#define GATEWAY_LINK_OUT_MAX (256 * 1024)

/* Counters shared by the links of one thread (plain adds: one writer). */
struct gateway_link_counters {
	uint64_t handshakes;	    /* Noise handshakes completed */
	uint64_t noise_failures;    /* links ended by a Noise failure (garbage, wrong key) */
	uint64_t protocol_errors;   /* malformed frames (bad header, oversize, bad body) */
	uint64_t out_of_order;	    /* frames out of order (a second HELLO, AUTH before HELLO) */
	uint64_t unauthenticated;   /* SPEND_TICKET or SEND before AUTH_OK */
	uint64_t version_refused;   /* no version in common */
	uint64_t auth_ok;
	uint64_t auth_failed;	    /* bad signature */
	uint64_t clock_skew;	    /* AUTH timestamp too far off */
	uint64_t tickets_accepted;
	uint64_t tickets_malformed;
	uint64_t tickets_rejected;  /* wrong type, expired, unknown key, bad signature (forged) */
	uint64_t tickets_spent;	    /* reused serial */
	uint64_t tickets_failed;    /* the store failed (not the client's fault) */
	uint64_t tickets_too_many;  /* links closed after GATEWAY_LINK_MAX_REFUSED_TICKETS refusals */
	uint64_t send_packets;	    /* SEND entries forwarded */
	uint64_t send_no_bandwidth; /* SEND entries dropped at balance 0 */
	uint64_t send_bad_packet;   /* SEND frames refused for a bad entry */
	uint64_t send_forward_failed; /* entries the forward hook refused */
	uint64_t received_items;    /* RECEIVE items handed to the output */
	uint64_t low_balance_sent;
	uint64_t exhausted_sent;
	uint64_t bytes_metered;	    /* Sphinx bytes charged, both ways */
	uint64_t closed_by_client;  /* CLOSE from the client */
	uint64_t wg_requests;	    /* WG_* frames answered */
	uint64_t wg_refused;	    /* of them answered with an ERROR */
};

enum gateway_link_state {
	GATEWAY_LINK_HANDSHAKE, /* Noise handshake */
	GATEWAY_LINK_HELLO,	/* waiting for HELLO */
	GATEWAY_LINK_AUTH,	/* waiting for AUTH */
	GATEWAY_LINK_OPEN,	/* authenticated */
	GATEWAY_LINK_CLOSING,	/* draining output, then close */
};

/* What the link asks of its owner. Each returns 0 or a negative errno. */
struct gateway_link_hooks {
	void *ctx;
	/* A client authenticated as identity: the owner registers it (and may end an older link of
	 * the same identity, saving its balance first), then says its stored balance. */
	int (*authenticated)(void *ctx, const uint8_t identity[32], uint64_t *balance);
	/* Spends a ticket and credits it to the link's identity in the owner's durable balance
	 * before returning, crash-safe (gateway_clients_spend_ticket): 0 with *granted bytes, or
	 * nym_ticket_store_spend's refusals (-EINVAL malformed; -EPERM, -EKEYEXPIRED, -ENOKEY,
	 * -EBADMSG rejected; -EALREADY spent); anything else is the gateway's failure. */
	int (*spend)(void *ctx, const uint8_t *ticket, size_t len, uint64_t *granted);
	/* The balance changed by a spend (persist it now: the credit is already stored, this
	 * also saves the metering since the last save). */
	int (*balance_saved)(void *ctx, const uint8_t identity[32], uint64_t balance);
	/* One SEND entry to send into the mixnet. */
	int (*forward)(void *ctx, enum mix_packet_size size, const struct link_send_entry *e);
	/* A WireGuard registration frame (WG_INIT, WG_FINAL, WG_QUERY, WG_TOPUP; PROTOCOLS.md
	 * §8.7), after VERSION with or without AUTH: the owner answers it in *resp
	 * (gateway_wg_handle). NULL: the gateway has no WireGuard, and the frames are out of
	 * order. A nonzero return ends the link with ERROR internal. */
	int (*wg)(void *ctx, const struct link_msg *req, struct link_msg *resp);
};

struct gateway_link_config {
	uint64_t max_skew_s; /* 0: LINK_AUTH_DEFAULT_SKEW_S */
	struct gateway_link_counters *counters;
	/* Scratch for decrypted plaintext, NOISE_MAX_PLAINTEXT_LEN bytes, shared by the links of a
	 * thread (every use ends before the next begins). */
	uint8_t *scratch;
};

struct gateway_link {
	enum gateway_link_state state;
	struct gateway_link_config cfg;
	struct gateway_link_hooks hooks;
	uint8_t version;
	uint8_t identity[NYM_ED25519_PUBLIC_LEN];
	uint64_t balance;
	bool low_sent, exhausted_sent;
	bool balance_dirty; /* metering changed it since the owner last saved it */
	int error;	    /* why the link is closing (0: CLOSE or the owner's request) */
	uint64_t frames_in; /* complete link frames received (what keeps a connection alive) */
	unsigned tickets_refused;
	uint8_t *out;	    /* GATEWAY_LINK_OUT_MAX bytes: [head, tail) waits to be written */
	size_t out_head, out_tail;
	struct noise_session noise;
	struct link_frame_decoder dec;
};

/* Allocates nothing but the output buffer. Returns 0, -EINVAL or -ENOMEM. */
int gateway_link_init(struct gateway_link *l, const struct nym_x25519_keypair *noise_key,
		      const struct gateway_link_config *cfg, const struct gateway_link_hooks *hooks);
void gateway_link_free(struct gateway_link *l);

/* Bytes read from the client at Unix time now. Returns 0, or the error that ended the link
 * (the link is then closing; write its output and close). */
int gateway_link_feed(struct gateway_link *l, const uint8_t *in, size_t len, uint64_t now);

/* The bytes waiting to be written (NULL, 0 when none), and how many were written: the owner
 * writes from *out and reports; the buffer does not move while bytes wait. */
size_t gateway_link_output(const struct gateway_link *l, const uint8_t **out);
void gateway_link_written(struct gateway_link *l, size_t n);

/* One delivered message (a RECEIVE item of class size) for this client. Returns 0 (sealed
 * into the output, metered), -EDQUOT (balance 0), -ENOBUFS (output full), -ENOTCONN (not
 * authenticated or closing) or -EINVAL (length not the class's item length). */
int gateway_link_deliver(struct gateway_link *l, enum mix_packet_size size, const uint8_t *item, size_t len);

/* Ends the link from the gateway's side: ERROR code (when code != 0 and the transport is up)
 * then CLOSE; the output drains. */
void gateway_link_close(struct gateway_link *l, enum link_error_code code, const char *text);

/* Whether the owner should close the connection once the output is written. */
static inline bool gateway_link_closing(const struct gateway_link *l)
{
	return l->state == GATEWAY_LINK_CLOSING;
}
static inline bool gateway_link_authenticated(const struct gateway_link *l)
{
	return l->state == GATEWAY_LINK_OPEN;
}

#endif
