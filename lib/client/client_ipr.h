/* The client side of the IP packet router protocol (docs/PROTOCOLS.md §9): one session with
 * the IPR of an exit gateway, as a state machine with no socket, clock or engine of its own.
 * The owner (lib/clientio) wires it to the mixnet client engine through hooks: requests leave
 * as Repliable messages to the IPR (client_engine_send), reply SURBs come from
 * client_engine_make_reply_surbs, and IP packets for the TUN device go to `deliver`.
 *
 *   client_ipr_connect        CONNECT with a fresh random sender tag and an initial stock of
 *                             reply SURBs; retried (with a new tag) until answered
 *   client_ipr_send_packet    an IP packet from the TUN: bundled (ipr_bundle) up to what one
 *                             Sphinx packet carries, sent when full or after buffer_timeout
 *   client_ipr_on_message     a Reply message from the engine: CONNECT (the address pair),
 *                             DATA (IP packets to deliver), SURB_REQUEST (send that many),
 *                             INFO, PONG, UNREQUESTED_DISCONNECT
 *   client_ipr_poll           flushes a bundle whose timeout passed, retries CONNECT, keeps
 *                             the IPR's SURB stock above the low-water mark, sends keepalive
 *                             PINGs; client_ipr_next_due says when to call it again
 *
 * The stock of SURBs the IPR holds is an estimate: every SURB sent counts one up, every reply
 * packet received (one per fragment of a reply message) one down; the IPR's SURB_REQUEST
 * corrects it when the estimate is too high. */
#ifndef NYM_CLIENT_CLIENT_IPR_H
#define NYM_CLIENT_CLIENT_IPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "ipr/ipr_addr.h"
#include "ipr/ipr_msg.h"

struct client_ipr_hooks {
	void *ctx;
	/* Sends one request to the IPR (a Repliable message). Returns 0 or -errno (-ENOBUFS:
	 * the engine's queue is full; the request is dropped or retried as its kind allows). */
	int (*send)(void *ctx, const uint8_t *msg, size_t len, uint64_t now_ns);
	/* Makes n reply SURBs (IPR layout: key | SURB) into out; *surb_len gets each length. */
	int (*make_surbs)(void *ctx, size_t n, uint8_t *out, size_t cap, size_t *surb_len, uint64_t now_ns);
	/* One IP packet from the IPR, for the TUN device. */
	void (*deliver)(void *ctx, const uint8_t *packet, size_t len);
	/* Sends a request without a SURB-ACK (client_engine_send_unacked), for SURB top-ups;
	 * NULL: they go through send, acknowledged. */
	int (*send_unacked)(void *ctx, const uint8_t *msg, size_t len, uint64_t now_ns);
};

#define CLIENT_IPR_IPR_TIMEOUT_DEFAULT UINT64_MAX

struct client_ipr_config {
	/* The IPR keeps at most 256 (its default max_surbs_per_client): the estimate stays under it. */
	size_t initial_surbs;	  /* sent with CONNECT (default 200) */
	size_t surb_low_water;	  /* top the estimated stock up below this (default 150) */
	size_t surb_batch;	  /* SURBs per top-up (default 100) */
	size_t max_surbs_per_request; /* cap on one SURBS request (default 250, <= 500) */
	/* SURB top-ups (SURBS requests: low water, SURB_REQUEST answers, starvation) go as
	 * unacknowledged single-packet requests of client_ipr_surbs_per_unacked_request SURBs (4)
	 * through send_unacked; true: acknowledged requests of max_surbs_per_request, as Nym. */
	bool acked_surb_topups;
	uint64_t buffer_timeout_ns;   /* a partial bundle leaves after this (default 5 ms) */
	/* Asked of the IPR in CONNECT (0: send each bundle at once); CLIENT_IPR_IPR_TIMEOUT_DEFAULT:
	 * none asked, the IPR's own applies. */
	uint64_t ipr_buffer_timeout_ms;
	uint64_t connect_retry_ns;      /* CONNECT again (new tag) without an answer (10 s) */
	uint64_t keepalive_ns;	        /* PING after this long without a request (15 s); 0: off */
	/* No response for this long: assume the IPR ran out of SURBs (it cannot even ask) and
	 * send a batch whatever the estimate says; the wait doubles while nothing comes, up to
	 * 32 times (1 s; 0: off). */
	uint64_t surb_starve_ns;
	size_t bundle_limit;	        /* 0: one Sphinx regular packet's worth (client_ipr_bundle_limit) */
};

void client_ipr_config_default(struct client_ipr_config *cfg);

/* The largest bundle a DATA request can carry in one regular Sphinx packet: the fragment's
 * data (1604) less the NymMessage type and padding marker (2) less the request header (21). */
size_t client_ipr_bundle_limit(void);

/* SURBs of surb_len bytes that one unacknowledged SURBS request carries in one regular packet:
 * (1990 data bytes - 2 - the 23-byte request header) / surb_len, 4 for 460-byte SURBs. */
size_t client_ipr_surbs_per_unacked_request(size_t surb_len);

enum client_ipr_state {
	CLIENT_IPR_IDLE = 0,
	CLIENT_IPR_CONNECTING = 1,
	CLIENT_IPR_CONNECTED = 2,
	CLIENT_IPR_FAILED = 3, /* refused (no IP, other) or disconnected by the IPR */
};

struct client_ipr_stats {
	uint64_t requests_sent, send_failures;
	uint64_t packets_sent, bundles_sent, packets_dropped;
	uint64_t packets_received, responses_received, malformed_responses;
	uint64_t surbs_sent, surb_requests, pongs, infos, starvations;
	uint64_t unacked_requests; /* requests (SURB top-ups) sent without a SURB-ACK */
	uint64_t keys_rotations;   /* client_ipr_keys_rotated calls */
	int64_t surb_stock; /* estimate of what the IPR holds */
};

struct client_ipr;

/* rng NULL: the system's. The hooks are copied. Returns 0, -EINVAL, -ENOMEM. */
int client_ipr_new(const struct client_ipr_config *cfg, const struct client_ipr_hooks *hooks,
		   const struct nym_rng *rng, struct client_ipr **out);
void client_ipr_free(struct client_ipr *c);

/* Starts (or restarts) the session: a new sender tag, CONNECT with initial_surbs SURBs.
 * now_ms is the wall clock (Unix ms) for the request's timestamp. Returns 0 or the hook's
 * error (the retry timer runs either way). */
int client_ipr_connect(struct client_ipr *c, uint64_t now_ns, uint64_t now_ms);

enum client_ipr_state client_ipr_state(const struct client_ipr *c);

/* The assigned pair once connected. Returns 0 or -EAGAIN. */
int client_ipr_addresses(const struct client_ipr *c, struct ipr_addr_pair *out);

/* The last failure or INFO text (empty if none), for the user. */
const char *client_ipr_last_error(const struct client_ipr *c);

/* An IP packet to the IPR. Returns 0, -ENOTCONN (not connected: dropped), -EMSGSIZE. */
int client_ipr_send_packet(struct client_ipr *c, const uint8_t *packet, size_t len, uint64_t now_ns);

/* Sends the bundle being filled now, if any (a driver that has read every packet waiting on
 * its TUN calls it when it wants no added latency: the buffer timeout is then only for
 * packets that trickle in). */
void client_ipr_flush(struct client_ipr *c, uint64_t now_ns);

/* New packets and SURBs are now built with the mixnodes' keys of a new rotation. The SURBs
 * the IPR holds were built with the previous keys and die with them, one overlap later (the
 * IPR drops them unused, §9.7): counting them would leave it without SURBs at that moment, so
 * that no reply, not even its request for more, could come back until the starvation timer
 * fired, and TCP inside would back off for seconds. The estimate restarts at zero and the
 * next poll tops the stock up with SURBs of the new keys. */
void client_ipr_keys_rotated(struct client_ipr *c);

/* A Reply message's body from the engine. Returns 0 or the decoder's error (counted). */
int client_ipr_on_message(struct client_ipr *c, const uint8_t *body, size_t len, uint64_t now_ns,
			  uint64_t now_ms);

/* Timers: the bundle's flush, CONNECT retries, SURB top-ups, keepalive. */
void client_ipr_poll(struct client_ipr *c, uint64_t now_ns, uint64_t now_ms);
/* When poll has something to do (absolute ns; UINT64_MAX: nothing). */
uint64_t client_ipr_next_due(const struct client_ipr *c);

/* Sends a PING with this request id (the PONG is counted in the stats). */
int client_ipr_ping(struct client_ipr *c, uint64_t request_id, uint64_t now_ns, uint64_t now_ms);

void client_ipr_get_stats(const struct client_ipr *c, struct client_ipr_stats *out);

#endif
