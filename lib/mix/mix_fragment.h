/* Message framing and fragmentation (nymtech/nym common/nymsphinx/src/message.rs and
 * common/nymsphinx/chunking).
 *
 * A message travels as NymMessage bytes, type (Plain 0, Repliable 1, Reply 2) || body, padded
 * with 0x01 and zeros so that it fills whole fragments. The padded bytes are cut into sets of
 * at most 255 fragments; each fragment fits the plaintext space of one packet. Header:
 *
 *     unlinked (7):  set id | 0x80000000 (u32 BE) | total | position (1-based) | 0x00
 *     linked  (10):  set id | 0x80000000 | total | position | linked set id | 0x80000000
 *
 * Set ids are 31-bit and nonzero. A message longer than one set is a chain of sets: the
 * first fragment of every set but the first names the previous set, and fragment 255 of
 * every set but the last names the next one. Linked fragments carry 3 data bytes less.
 *
 * The plaintext space per packet is the packet's plaintext size minus the SURB-ACK that
 * rides in front of every fragment (first-hop address, 19 bytes, + an ack packet, 386) and
 * the 32-byte key material of the message variant: 2048 - 405 - 32 = 1611 for a regular
 * packet, so 1604 data bytes per unlinked fragment and 1601 per linked one. A packet
 * without a SURB-ACK (the unacknowledged layout, mix_envelope.h) spends only its zero
 * 19-byte first hop: 1997, so 1990 and 1987. */
#ifndef NYM_MIX_MIX_FRAGMENT_H
#define NYM_MIX_MIX_FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_packet_size.h"

#define MIX_FRAGMENT_UNLINKED_HEADER_LEN 7
#define MIX_FRAGMENT_LINKED_HEADER_LEN 10
#define MIX_FRAGMENT_SET_MAX 255
#define MIX_FRAGMENT_ACK_OVERHEAD (MIX_NODE_ADDR_MAX_UNPADDED_LEN + MIX_ACK_PACKET_LEN)
#define MIX_FRAGMENT_OUTFOX_ACK_OVERHEAD \
	(MIX_NODE_ADDR_MAX_UNPADDED_LEN + MIX_OUTFOX_ACK_PACKET_LEN)
/* An ephemeral X25519 key (plain, repliable) or a digest of the reply key (reply). */
#define MIX_FRAGMENT_VARIANT_OVERHEAD 32
/* Smallest plaintext per packet that leaves a linked fragment one data byte. */
#define MIX_FRAGMENT_MIN_PER_PACKET (MIX_FRAGMENT_LINKED_HEADER_LEN + 1)

enum mix_message_type {
	MIX_MESSAGE_PLAIN = 0,
	MIX_MESSAGE_REPLIABLE = 1,
	MIX_MESSAGE_REPLY = 2,
};

struct mix_fragment {
	int32_t set_id;	     /* 1 .. 2^31-1 */
	uint8_t total;	     /* fragments in the set, 1..255 */
	uint8_t position;    /* 1..total */
	int32_t prev_set_id; /* previous set of the chain (position 1 only), 0 if none */
	int32_t next_set_id; /* next set (position 255 of 255 only), 0 if none */
	const uint8_t *data;
	size_t data_len;
};

/* What an acknowledgement names: set id (i32 BE) || position, 5 bytes. Loop cover messages
 * use (0, 0). */
struct mix_fragment_id {
	int32_t set_id;
	uint8_t position;
};

#define MIX_FRAGMENT_ID_COVER ((struct mix_fragment_id){ .set_id = 0, .position = 0 })

/* Plaintext bytes for one fragment in a packet of this class, SURB-ACK and variant key
 * subtracted (1611 for regular). Returns 0, or -EINVAL for a class too small to carry one
 * (the ack classes). */
int mix_fragment_plaintext_per_packet(enum mix_packet_size size, size_t *out);
/* The same for a packet without a SURB-ACK (the unacknowledged layout, docs/PROTOCOLS.md
 * §2.5): only the 19-byte zero first hop and the variant key subtracted (1997 for regular).
 * Returns 0, or -EINVAL (ack and Outfox classes: Outfox has no unacknowledged layout). */
int mix_fragment_plaintext_per_packet_unacked(enum mix_packet_size size, size_t *out);

/* Data bytes of an unlinked / linked fragment for a given plaintext per packet. */
size_t mix_fragment_unlinked_capacity(size_t per_packet);
size_t mix_fragment_linked_capacity(size_t per_packet);

/* 7 or 10. */
size_t mix_fragment_header_len(const struct mix_fragment *f);

/* Serialises header and data. Returns 0, -EINVAL for inconsistent header fields (Nym's
 * FragmentHeader::try_new rules) or -ENOSPC. */
int mix_fragment_encode(const struct mix_fragment *f, uint8_t *out, size_t cap, size_t *written);

/* Parses a fragment; data points into in. Returns 0, -EMSGSIZE (shorter than its header) or
 * -EINVAL (flag bits missing, zero id, position out of range, a link where none may be, a
 * set linked to itself). The data length is not checked: Nym leaves that to reassembly. */
int mix_fragment_decode(const uint8_t *in, size_t len, struct mix_fragment *out);

struct mix_fragment_id mix_fragment_id_of(const struct mix_fragment *f);
void mix_fragment_id_encode(const struct mix_fragment_id *id, uint8_t out[MIX_FRAG_ID_LEN]);
/* Returns 0 or -EINVAL for a negative set id. */
int mix_fragment_id_decode(const uint8_t in[MIX_FRAG_ID_LEN], struct mix_fragment_id *out);
bool mix_fragment_id_is_cover(const struct mix_fragment_id *id);

/* Sizes for a NymMessage of msg_len bytes (type byte included) once padded: *padded_len
 * fills *fragments fragments exactly. Returns 0 or -EINVAL (per_packet too small, or sizes
 * that overflow). */
int mix_fragment_message_layout(size_t msg_len, size_t per_packet, size_t *padded_len,
				size_t *fragments);

/* Writes type || body || 0x01 || zeros, padded_len bytes (see above). Returns 0, -EINVAL or
 * -ENOSPC. */
int mix_fragment_message_pad(enum mix_message_type type, const uint8_t *body, size_t body_len,
			     size_t per_packet, uint8_t *out, size_t cap, size_t *written);

/* Reverses the padding: cuts at the last 0x01 (like Nym, the bytes after it are not
 * checked). The body is padded[1 .. 1 + *body_len). Returns 0 or -EINVAL (no marker, nothing
 * before it, unknown type). */
int mix_fragment_message_unpad(const uint8_t *padded, size_t len, enum mix_message_type *type,
			       size_t *body_len);

/* Cuts a (padded) message into fragments one at a time, so that messages of any length need
 * no fragment array. Set ids are drawn from rng (NULL: system randomness); neighbouring sets
 * of a chain get distinct ids. The message must stay valid while fragments are drawn. */
struct mix_fragmenter {
	const uint8_t *msg;
	size_t len;
	size_t per_packet;
	const struct nym_rng *rng;
	size_t n_sets;
	size_t set;	    /* current set, 0-based */
	size_t offset;	    /* next message byte to emit */
	unsigned position;  /* next position in the current set, 1-based */
	unsigned set_total; /* fragments in the current set */
	int32_t prev_id, cur_id, next_id;
	size_t emitted, total;
};

/* Returns 0, or -EINVAL for an empty message or a per_packet below
 * MIX_FRAGMENT_MIN_PER_PACKET. */
int mix_fragmenter_init(struct mix_fragmenter *f, const uint8_t *msg, size_t len,
			size_t per_packet, const struct nym_rng *rng);

/* Number of fragments the whole message makes. */
size_t mix_fragmenter_total(const struct mix_fragmenter *f);

/* Writes the next serialised fragment (at most per_packet bytes) and its identifier.
 * Returns 0, -ENODATA after the last fragment, or -ENOSPC. */
int mix_fragmenter_next(struct mix_fragmenter *f, uint8_t *out, size_t cap, size_t *written,
			struct mix_fragment_id *id);

#endif
