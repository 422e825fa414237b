/* The mixnode's decision for one incoming frame, without I/O: which key, is it authentic,
 * is it a replay, where does it go next and when. The worker acts on the verdict (queues,
 * counts, drops); fuzzers and tests drive the same function. */
#ifndef NYM_MIXNODE_MIX_FORWARD_H
#define NYM_MIXNODE_MIX_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "net/net_addr.h"
#include "mix/mix_frame.h"
#include "mixnode/key_rotation.h"
#include "sphinx/sphinx_params.h"

enum mix_forward_verdict {
	MIX_FORWARD,        /* forward `packet` (peeled in place) to `next` after `delay_ns` */
	MIX_FINAL,          /* a final hop: `packet` holds the decrypted payload */
	MIX_BAD_TYPE,       /* not a Sphinx packet (Outfox is recognised, not processed) */
	MIX_UNKNOWN_KEY,    /* the rotation byte names no live key */
	MIX_BAD_PACKET,     /* fails authentication or does not parse */
	MIX_REPLAY,         /* its replay tag was seen */
	MIX_BAD_NEXT_HOP,   /* the next address does not decode */
};

struct mix_forward {
	enum mix_forward_verdict verdict;
	bool delay_clamped;          /* the requested delay exceeded the maximum */
	/* Rotation byte 0 and authenticated by the previous rotation's key (live during the
	 * overlap) after the primary failed; its replay tag went to that key's filter. */
	bool secondary_key;
	uint64_t delay_ns;
	struct net_addr next;
	struct mix_frame_header out_header; /* the header to send the peeled packet with */
	/* MIX_FINAL: where the message goes (a client's or a service's identity) and the packet's
	 * identifier (zeros for SURB-ACKs); the gateway routes by destination. */
	uint8_t destination[SPHINX_ADDRESS_LEN];
	uint8_t identifier[SPHINX_IDENTIFIER_LEN];
};

/* Processes the frame whose packet bytes have been copied to `packet` (f->packet_len bytes,
 * modified in place). replay_protection checks and records the replay tag in the key's
 * filter. */
void mix_forward_decide(const struct mixnode_keyring *kr, bool replay_protection, uint64_t max_delay_ns,
			const struct mix_frame *f, uint8_t *packet, struct mix_forward *out);

/* The same for n <= MIX_FORWARD_BATCH_MAX frames at once, in order (a replayed packet
 * later in the batch than its first copy is the one refused). Their curve operations run
 * together, so a backlog drains faster than one frame at a time. */
#define MIX_FORWARD_BATCH_MAX 16
void mix_forward_decide_batch(const struct mixnode_keyring *kr, bool replay_protection, uint64_t max_delay_ns,
			      const struct mix_frame *const *frames, uint8_t *const *packets,
			      struct mix_forward *out, size_t n);

#endif
