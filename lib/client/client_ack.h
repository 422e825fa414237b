/* Acknowledgements and retransmission of sent fragments (nymtech/nym client-core
 * real_messages_control / acknowledgement_control; sphinx.md sections 2.3, 2.5, 2.8).
 *
 * Every fragment sent with a SURB-ACK is tracked by its fragment id (set id, position: what
 * mix_surb_ack_recognise returns). Its deadline is
 *     now + ack_wait_multiplier x expected delay + ack_wait_addition
 * where the expected delay is the sum of the mixing delays of the packet's route and of its
 * SURB-ACK's route. An ack removes it. When the deadline passes, client_ack_expire hands the
 * fragment back to be re-sent: the caller builds a new packet on a new route and re-arms the
 * fragment with client_ack_rearm and the new expected delay. After max_retransmissions
 * re-sends, the next expiry reports the fragment failed and forgets it; the caller fails the
 * message whose set it belongs to (the chain of sets is the caller's knowledge).
 *
 * Memory is bounded: max_tracked entries are allocated once, with an open-addressing hash
 * table on the id (O(1) ack lookup, keyed with a random seed) and a binary heap on the
 * deadline (O(log n) expiry and removal). At the cap, a new fragment is refused (-ENOBUFS,
 * counted): evicting one in flight would lose its delivery guarantee silently, while refusing
 * pushes back on the caller, which stops taking messages until acks free room.
 *
 * Duplicate acks (the fragment was acked already, or given up) and unknown acks cannot be told
 * apart without remembering past ids; both are counted as unmatched, never an error. Acks of
 * cover packets (id 0, 0) are counted apart. The time is passed in (nanoseconds, any monotonic
 * origin); no clock read, no I/O.
 *
 * Not thread-safe: one instance per client. */
#ifndef NYM_CLIENT_CLIENT_ACK_H
#define NYM_CLIENT_CLIENT_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "mix/mix_fragment.h"

#define CLIENT_ACK_DEFAULT_WAIT_MULTIPLIER 1.5
#define CLIENT_ACK_DEFAULT_WAIT_ADDITION_NS (1500ull * 1000000ull)
#define CLIENT_ACK_DEFAULT_MAX_RETRANSMISSIONS 10
#define CLIENT_ACK_DEFAULT_MAX_TRACKED 65536
#define CLIENT_ACK_UNLIMITED_RETRANSMISSIONS UINT32_MAX

struct client_ack_config {
	double ack_wait_multiplier;   /* >= 0 and finite */
	uint64_t ack_wait_addition_ns;
	uint32_t max_retransmissions; /* re-sends per fragment; CLIENT_ACK_UNLIMITED_RETRANSMISSIONS for no cap */
	size_t max_tracked;	      /* fragments awaiting an ack at once; >= 1 */
};

struct client_ack_stats {
	uint64_t tracked_total;	   /* fragments accepted by client_ack_track */
	uint64_t acked;		   /* acks that removed a tracked fragment */
	uint64_t unmatched_acks;   /* duplicate or unknown ids */
	uint64_t cover_acks;	   /* acks of cover packets */
	uint64_t retransmissions;  /* re-arms after an expiry */
	uint64_t failed;	   /* fragments given up after the cap */
	uint64_t refused_full;	   /* client_ack_track refused at max_tracked */
	uint64_t forgotten;	   /* removed by client_ack_forget */
	size_t tracked;		   /* held now */
	size_t awaiting_rearm;	   /* expired, handed back, not yet re-armed */
};

/* What client_ack_expire hands back. */
struct client_ack_due {
	struct mix_fragment_id id;
	uint32_t retransmissions; /* re-sends so far */
	bool failed;		  /* the cap is reached: forgotten, do not re-send */
};

struct client_ack;

/* Nym's defaults: 1.5, 1500 ms, 10 re-sends, 65536 fragments. */
void client_ack_config_default(struct client_ack_config *cfg);

/* rng seeds the hash key (NULL: system randomness); it is not kept. Returns 0, -EINVAL (a bad
 * configuration) or -ENOMEM. */
int client_ack_new(const struct client_ack_config *cfg, const struct nym_rng *rng, struct client_ack **out);
void client_ack_free(struct client_ack *a);

/* Starts waiting for the ack of a fragment sent at now_ns. Returns 0, -EINVAL (the cover id),
 * -EEXIST (already tracked: re-sends go through client_ack_rearm) or -ENOBUFS (at the cap). */
int client_ack_track(struct client_ack *a, const struct mix_fragment_id *id, uint64_t expected_delay_ns,
		     uint64_t now_ns);

/* An ack arrived. Returns 0 when it removed a tracked fragment (also one awaiting re-arm:
 * then there is nothing to re-send), -ENOENT for a duplicate or unknown id or a cover ack
 * (counted). */
int client_ack_received(struct client_ack *a, const struct mix_fragment_id *id);

/* Hands back, earliest deadline first, up to max fragments whose deadline is <= now_ns; call
 * again while it fills the array. A fragment with re-sends left stays tracked, waiting for
 * client_ack_rearm (an ack may still remove it); one at the cap is forgotten and marked
 * failed. Returns how many were written to out. */
size_t client_ack_expire(struct client_ack *a, uint64_t now_ns, struct client_ack_due *out, size_t max);

/* The earliest deadline, UINT64_MAX when none is armed: when the driver should call expire. */
uint64_t client_ack_next_deadline(const struct client_ack *a);

/* Re-arms a fragment handed back by client_ack_expire, after its re-send at now_ns over a new
 * route. Returns 0; -ENOENT when it is no longer tracked (acked meanwhile: do not re-send);
 * -EALREADY when it was not handed back for re-sending. */
int client_ack_rearm(struct client_ack *a, const struct mix_fragment_id *id, uint64_t expected_delay_ns,
		     uint64_t now_ns);

/* Stops tracking a fragment (its message was abandoned). Returns 0 or -ENOENT. */
int client_ack_forget(struct client_ack *a, const struct mix_fragment_id *id);

void client_ack_get_stats(const struct client_ack *a, struct client_ack_stats *out);

#endif
