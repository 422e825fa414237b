/* Node-to-node packet framing: Nym's NymCodec (common/nymsphinx/framing).
 *
 * A frame is a small header followed by the raw packet; there is no length field, the size
 * tag in the header implies the packet length. Current header (v8, 4 bytes):
 *
 *     version = 8 | size tag (1..7) | packet type (Mix 0, Outfox 2) | key rotation (0, 1, 2)
 *
 * Legacy v7 headers are 3 bytes (no key rotation). We accept both on input, because Nym
 * nodes do (PacketVersion accepts 7 and 8), and report rotation "unknown" for v7. Version
 * bytes start at 7 so they cannot be mistaken for the size tag of the older unversioned
 * header; anything other than 7 or 8 is refused.
 *
 * The streaming decoder is the node's ingress parser: it is fed each socket read as it comes
 * and yields whole frames, pointing into the caller's buffer whenever a frame lies inside one
 * read and copying only frames that straddle reads. */
#ifndef NYM_MIX_MIX_FRAME_H
#define NYM_MIX_MIX_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mix/mix_packet_size.h"
#include "util/framer.h"

#define MIX_FRAME_VERSION 8
#define MIX_FRAME_VERSION_LEGACY 7
#define MIX_FRAME_HEADER_LEN 4
#define MIX_FRAME_LEGACY_HEADER_LEN 3
#define MIX_FRAME_MAX_LEN (MIX_FRAME_HEADER_LEN + MIX_PACKET_MAX_LEN)

enum mix_packet_type {
	MIX_PACKET_TYPE_MIX = 0,
	/* 1 was Nym's deprecated "Vpn" type and is refused. */
	MIX_PACKET_TYPE_OUTFOX = 2,
};

/* Which of a node's two rotating Sphinx keys the packet was built for. */
enum mix_key_rotation {
	MIX_KEY_ROTATION_UNKNOWN = 0,
	MIX_KEY_ROTATION_ODD = 1,
	MIX_KEY_ROTATION_EVEN = 2,
};

struct mix_frame_header {
	uint8_t version;      /* 8, or 7 for a legacy frame */
	uint8_t size;	      /* enum mix_packet_size */
	uint8_t type;	      /* enum mix_packet_type */
	uint8_t key_rotation; /* enum mix_key_rotation; always UNKNOWN for v7 */
};

struct mix_frame {
	struct mix_frame_header header;
	const uint8_t *packet;
	size_t packet_len;
};

/* The rotation byte for a key's rotation id: 0 and UINT32_MAX mean unknown, otherwise odd
 * or even (nym_sphinx_params::SphinxKeyRotation::from). */
enum mix_key_rotation mix_frame_key_rotation_from_id(uint32_t rotation_id);

/* Header length of a version (4 for v8, 3 for v7), 0 for any other. */
size_t mix_frame_header_len(uint8_t version);

/* Encodes a header (v8, or v7 when h->version is 7). out needs 4 bytes. Returns 0, or
 * -EINVAL for a field out of range or a type that does not match the size class
 * (Sphinx types with Outfox sizes or the reverse). *written gets 3 or 4. */
int mix_frame_header_encode(const struct mix_frame_header *h, uint8_t out[MIX_FRAME_HEADER_LEN],
			    size_t *written);

/* Decodes a header from the start of in. Returns 0 with *header_len set, -EAGAIN if in is
 * too short to tell, -EPROTONOSUPPORT for a version other than 7 or 8, or -EINVAL for an
 * unknown size tag, packet type or rotation, or a type that does not match the size. */
int mix_frame_header_decode(const uint8_t *in, size_t len, struct mix_frame_header *h,
			    size_t *header_len);

/* Writes header and packet into out. The packet length must be the one of h->size.
 * Returns 0, -EINVAL, -EMSGSIZE (wrong packet length) or -ENOSPC. */
int mix_frame_encode(const struct mix_frame_header *h, const uint8_t *packet, size_t packet_len,
		     uint8_t *out, size_t cap, size_t *written);

/* Streaming decoder. About 33 KiB: embed it in the connection state, do not put it on a
 * small stack.
 *
 *     mix_frame_decoder_feed(d, buf, n);
 *     while ((r = mix_frame_decoder_next(d, &f)) == 0)
 *             handle(&f);
 *     if (r != -EAGAIN)
 *             drop the connection: r says why, mix_frame_decoder_consumed(d) how far the
 *             good frames reached in buf;
 *
 * A frame's packet points into the fed buffer (valid while the caller keeps it) or into the
 * decoder (valid until the next call on it). */
struct mix_frame_decoder {
	struct framer f;
	uint8_t buf[MIX_FRAME_MAX_LEN];
};

void mix_frame_decoder_init(struct mix_frame_decoder *d);

/* Hands the decoder the next chunk of the stream. Returns 0, or -EBUSY if the previous
 * chunk has not been drained (mix_frame_decoder_next has not returned -EAGAIN yet), or the
 * decoder's error if it has failed. */
int mix_frame_decoder_feed(struct mix_frame_decoder *d, const uint8_t *data, size_t len);

/* Returns 0 and the next complete frame; -EAGAIN when the chunk is used up (an incomplete
 * frame at its end is kept); or an error from mix_frame_header_decode. Errors are sticky:
 * the stream cannot be resynchronised, and nothing from the bad header onwards is
 * consumed. */
int mix_frame_decoder_next(struct mix_frame_decoder *d, struct mix_frame *out);

/* Bytes of the current chunk consumed so far. After an error: where the bad frame starts
 * in this chunk (0 if it started in an earlier one). */
size_t mix_frame_decoder_consumed(const struct mix_frame_decoder *d);

/* Bytes of an incomplete frame held across chunks. */
size_t mix_frame_decoder_buffered(const struct mix_frame_decoder *d);

#endif
