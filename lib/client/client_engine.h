/* The mixnet client as one state machine (issue 11): messages in, SEND entries for the entry
 * gateway out, RECEIVE items in, reassembled messages out. It owns the client's Poisson
 * streams (client_poisson), acknowledgements and retransmission (client_ack), reassembly
 * (mix/mix_reassembly) and reply-SURB keys (client_surbs); it takes the time and randomness
 * as arguments and has no socket, thread or clock, so its tests step time. The I/O driver
 * (lib/clientio) feeds it from the link and writes what it hands out.
 *
 * Routes are drawn from the topology the caller sets (already verified k of n); every
 * packet, SURB-ACK and reply SURB goes over its own random route through one mixnode per
 * layer. The client's own gateway is where SURB-ACKs and reply SURBs end.
 *
 *   client_engine_send(msg to recipient)  --> fragments (queued, each with a SURB-ACK)
 *   client_engine_poll(now)               --> SEND entries due now (real, cover, loop cover,
 *                                             retransmissions), in link_msg's entry layout
 *   client_engine_receive(item)           --> ack: stop retransmitting its fragment
 *                                             envelope / reply: decrypt, reassemble
 *   client_engine_next_message()          --> whole messages received, oldest first */
#ifndef NYM_CLIENT_CLIENT_ENGINE_H
#define NYM_CLIENT_CLIENT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client_ack.h"
#include "client/client_poisson.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "mix/mix_fragment.h"
#include "mix/mix_packet_size.h"
#include "mix/mix_reassembly.h"
#include "mix/mix_recipient.h"
#include "topology/epoch_doc.h"

struct client_engine_config {
	/* The client's keys (client_keys) and its gateway's identity: together its address. */
	const struct nym_ed25519_keypair *identity;
	const struct nym_x25519_keypair *encryption;
	uint8_t gateway_identity[32];
	/* Per-hop Sphinx delays: Exp(mean); Nym's average_packet_delay, 15 ms. 0: no delay. */
	uint64_t average_packet_delay_ns;
	/* Delays of the SURB-ACK routes; Nym's average_ack_delay, same default. */
	uint64_t average_ack_delay_ns;
	struct client_poisson_config poisson;
	struct client_ack_config ack;
	struct mix_reassembly_config reassembly;
	/* Fragments waiting for the mixed stream; send refuses with -ENOBUFS past it. */
	size_t max_queued_packets; /* default 4096 */
	/* Reply keys are kept this long after their SURB was made (Nym: 24 h). */
	uint64_t reply_key_lifetime_ns;
	size_t max_reply_keys; /* default 65536; the oldest are dropped past it */
};

/* Nym's defaults (15 ms delays, 20/200 ms Poisson means, ack 1.5 x + 1500 ms, ...). */
void client_engine_config_default(struct client_engine_config *cfg);

struct client_engine;

/* The engine keeps pointers to cfg's keys, which must outlive it. rng NULL: the system's;
 * otherwise a copy of the handle is kept and its context must outlive the engine. The ack
 * key is drawn here, fresh for every engine. Returns 0, -EINVAL (no keys, a zero cap, a bad
 * Poisson or ack configuration) or -ENOMEM. Not thread-safe: the driver serialises calls. */
int client_engine_new(const struct client_engine_config *cfg, const struct nym_rng *rng,
		      struct client_engine **out);
void client_engine_free(struct client_engine *e);

/* The topology routes are drawn from (borrowed until the next call or free); the client's
 * gateway must be in it. A packet's route is drawn when the packet is built (at poll), so
 * queued fragments and retransmissions take routes from the newest topology. Returns 0,
 * -ENOENT (the client's gateway is missing, or a layer is empty: nothing can be sent until a
 * usable topology arrives; NULL also clears it). */
int client_engine_set_topology(struct client_engine *e, const struct nym_epoch_doc *doc);

/* The client's own address. */
void client_engine_address(const struct client_engine *e, struct mix_recipient *out);

/* Queues a message (type Plain or Repliable; NymMessage framing, padding and fragments of
 * mix_fragment) to a recipient whose gateway is in the topology (the IP packet router's is
 * the exit gateway, mix_recipient_of_node). Its fragments wait for the mixed stream; each
 * gets a SURB-ACK back to this client's gateway when its packet is built. Returns 0,
 * -ENOBUFS (queue full, or too many fragments in flight: try again after polling),
 * -ENOTCONN (no usable topology), -EHOSTUNREACH (the recipient's gateway is not in it),
 * -EMSGSIZE (more fragments than the queue or max_tracked can ever hold), -EINVAL (type),
 * -EAGAIN (set ids collided with ones in flight four times: practically never), -ENOMEM.
 * A fragment that fails after ack.max_retransmissions re-sends fails its whole message
 * (stats: fragments_failed, messages_failed); its other fragments are abandoned. */
int client_engine_send(struct client_engine *e, const struct mix_recipient *to, enum mix_message_type type,
		       const uint8_t *msg, size_t len, uint64_t now_ns);

/* The same without acknowledgements (docs/PROTOCOLS.md §2.9, our deviation): the packets get
 * no SURB-ACK, so no ack route, no deadline and no re-send; they use the unacknowledged
 * layout (1997 bytes a fragment: 1990 data bytes unlinked) and still leave through the mixed
 * stream in place of cover. For what a loss costs little (SURB top-ups; the recipient must be
 * a gateway of ours: a Nym gateway takes the zero first hop for a broken SURB-ACK). Returns
 * what client_engine_send does; max_tracked does not limit them. */
int client_engine_send_unacked(struct client_engine *e, const struct mix_recipient *to, enum mix_message_type type,
			       const uint8_t *msg, size_t len, uint64_t now_ns);

/* Makes n reply SURBs back to this client in the IP packet router's layout (docs/PROTOCOLS.md
 * §9.1: reply key (16) | SURB, all of one length) into out, and keeps their keys for
 * reply_key_lifetime_ns. *surb_len gets the length of each. Returns 0, -ENOSPC,
 * -ENOTCONN. */
int client_engine_make_reply_surbs(struct client_engine *e, size_t n, uint8_t *out, size_t cap,
				   size_t *surb_len, uint64_t now_ns);

/* When poll has something to do next (absolute ns; UINT64_MAX: nothing until an event). */
uint64_t client_engine_next_due(const struct client_engine *e, uint64_t now_ns);

/* Real packets built together by one poll (their curve operations share the eight-lane
 * X25519 ladder): a driver that can take this many entries per poll gets the most from it. */
#define CLIENT_ENGINE_BATCH 8

/* Bytes of one SEND entry the engine writes: link_send_entry_len(MIX_PACKET_SIZE_REGULAR),
 * rotation (1) | first hop (19) | regular Sphinx packet (2413). */
#define CLIENT_ENGINE_ENTRY_LEN (1 + MIX_NODE_ADDR_MAX_UNPADDED_LEN + MIX_REGULAR_PACKET_LEN)
/* Bytes of a regular RECEIVE item: the 2048-byte plaintext after its first hop (2029). */
#define CLIENT_ENGINE_ITEM_LEN (2048 - MIX_NODE_ADDR_MAX_UNPADDED_LEN)

/* Writes up to max SEND entries that are due at now_ns into entries (each
 * CLIENT_ENGINE_ENTRY_LEN = link_send_entry_len(MIX_PACKET_SIZE_REGULAR) bytes,
 * link_send_entry_write's layout), and returns how many. Also expires acknowledgement
 * deadlines (queuing retransmissions), reassembly sets and reply keys. With the mixed
 * stream's rate lifted (message_sending_average_delay 0) its one firing per poll time sends
 * every queued packet (up to max), or one cover packet when none waits; with the main
 * distribution disabled every queued packet goes at once, and that stream sends no cover. */
size_t client_engine_poll(struct client_engine *e, uint64_t now_ns, uint8_t *entries, size_t max);

/* One RECEIVE item of the given class from the gateway: an ack (MIX_PACKET_SIZE_ACK, 21
 * bytes) or a message (MIX_PACKET_SIZE_REGULAR, 2029 bytes; either layout,
 * mix_envelope_item_split) that is a reply when its 32 bytes of key material are the digest of a reply key held (the key is used up), an envelope otherwise.
 * Returns 0 (taken: an ack, a fragment, cover), -EINVAL (counted as garbage), or
 * -ENOBUFS / -ENOMEM from reassembly (a fragment that does not fit its caps: dropped). */
int client_engine_receive(struct client_engine *e, enum mix_packet_size size, const uint8_t *item, size_t len,
			  uint64_t now_ns);

/* The oldest reassembled message, if any: its type (Plain, Repliable or Reply) and body, in
 * a malloc'd buffer the caller frees. Returns 0, or -ENOENT when none waits. */
int client_engine_next_message(struct client_engine *e, enum mix_message_type *type, uint8_t **body,
			       size_t *len);

/* real_sent counts every real packet (unacked_sent those without a SURB-ACK), retransmitted the re-sends among them; acks_received
 * every ack recognised under the ack key (cover_acks_received those of cover packets,
 * acks_unmatched duplicates and unknown ones); cover_received loop cover that came back;
 * replies_received packets opened with a reply key; messages_malformed reassembled messages
 * whose padding or type is wrong; garbage_received items refused with -EINVAL. */
struct client_engine_stats {
	uint64_t real_sent, unacked_sent, cover_sent, loop_cover_sent, retransmitted;
	uint64_t acks_received, acks_unmatched, fragments_failed, messages_failed;
	uint64_t fragments_received, messages_received, replies_received, garbage_received;
	uint64_t cover_acks_received, cover_received, messages_malformed;
	size_t queued, in_flight, reply_keys;
	uint64_t poisson_late_ns_max;
};
void client_engine_get_stats(const struct client_engine *e, struct client_engine_stats *out);

#endif
