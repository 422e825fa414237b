/* Nym's packet size classes (nymtech/nym common/nymsphinx/params/src/packet_sizes.rs).
 *
 * Every packet on the mixnet has one of a few fixed sizes; the one-byte tag in the node frame
 * header names the class and so the length of the bytes that follow. Sphinx classes are the
 * plaintext size plus 365 bytes of Sphinx overhead (348 header + 17 payload padding); the
 * Outfox classes exist so that their frames are recognised, not processed. */
#ifndef NYM_MIX_PACKET_SIZE_H
#define NYM_MIX_PACKET_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIX_SPHINX_HEADER_LEN 348
/* 16 zero bytes in front of the message and the 0x01 marker after it. */
#define MIX_SPHINX_PAYLOAD_OVERHEAD 17
#define MIX_SPHINX_PACKET_OVERHEAD (MIX_SPHINX_HEADER_LEN + MIX_SPHINX_PAYLOAD_OVERHEAD)
/* Outfox: 6 bytes of mix parameters + 4 layers of (key 32, tag 16, routing 32) + "ofx". */
#define MIX_OUTFOX_PARAMS_LEN 6
#define MIX_OUTFOX_PACKET_OVERHEAD (MIX_OUTFOX_PARAMS_LEN + 4 * (32 + 16 + 32) + 3)
#define MIX_OUTFOX_MIN_PAYLOAD 48

/* An acknowledgement carries IV(16) || encrypted FragmentIdentifier(5). */
#define MIX_ACK_IV_LEN 16
#define MIX_FRAG_ID_LEN 5

/* The tag values are Nym's wire values; they are not ordered by size. */
enum mix_packet_size {
	MIX_PACKET_SIZE_REGULAR = 1,
	MIX_PACKET_SIZE_ACK = 2,
	MIX_PACKET_SIZE_EXTENDED32 = 3,
	MIX_PACKET_SIZE_EXTENDED8 = 4,
	MIX_PACKET_SIZE_EXTENDED16 = 5,
	MIX_PACKET_SIZE_OUTFOX_REGULAR = 6,
	MIX_PACKET_SIZE_OUTFOX_ACK = 7,
};

#define MIX_PACKET_SIZE_MIN_TAG 1
#define MIX_PACKET_SIZE_MAX_TAG 7

#define MIX_REGULAR_PACKET_LEN (2048 + MIX_SPHINX_PACKET_OVERHEAD)
#define MIX_ACK_PACKET_LEN (MIX_ACK_IV_LEN + MIX_FRAG_ID_LEN + MIX_SPHINX_PACKET_OVERHEAD)
#define MIX_EXTENDED8_PACKET_LEN (8192 + MIX_SPHINX_PACKET_OVERHEAD)
#define MIX_EXTENDED16_PACKET_LEN (16384 + MIX_SPHINX_PACKET_OVERHEAD)
#define MIX_EXTENDED32_PACKET_LEN (32768 + MIX_SPHINX_PACKET_OVERHEAD)
#define MIX_OUTFOX_REGULAR_PACKET_LEN (2048 + MIX_OUTFOX_PACKET_OVERHEAD)
#define MIX_OUTFOX_ACK_PACKET_LEN (MIX_OUTFOX_MIN_PAYLOAD + MIX_OUTFOX_PACKET_OVERHEAD)
/* The largest class: buffers that must hold any packet are this big. */
#define MIX_PACKET_MAX_LEN MIX_EXTENDED32_PACKET_LEN

/* True for the seven known tags. */
bool mix_packet_size_valid(unsigned tag);

/* True for the two Outfox classes. */
bool mix_packet_size_is_outfox(enum mix_packet_size size);

/* Whole packet length (header + payload) of a class; 0 for an unknown tag. */
size_t mix_packet_size_len(enum mix_packet_size size);

/* What follows the header: the Sphinx payload (2065 for regular) or, for Outfox, the packet
 * minus its 6 parameter bytes. 0 for an unknown tag. */
size_t mix_packet_size_payload_len(enum mix_packet_size size);

/* The message bytes a packet of this class carries (2048 for regular); 0 for an unknown tag. */
size_t mix_packet_size_plaintext_len(enum mix_packet_size size);

/* The class of a packet from its length, as Nym's PacketSize::get_type: also maps 2371
 * (Outfox regular minus its 6 parameter bytes) to Outfox regular. Returns 0 or -EINVAL. */
int mix_packet_size_from_len(size_t len, enum mix_packet_size *out);

/* Nym's names ("regular", "ack", "extended8", ...). NULL for an unknown tag. */
const char *mix_packet_size_name(enum mix_packet_size size);

/* Parses one of those names. Returns 0 or -EINVAL. */
int mix_packet_size_from_name(const char *name, enum mix_packet_size *out);

#endif
