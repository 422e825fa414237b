/* Nym's Noise framing (nymtech/nym common/nymnoise/src/stream/framing.rs), 8-byte header:
 *
 *     version (1) = 1 | pattern (1: XKpsk3) | type (0 handshake, 1 data) | length u16 BE
 *     | 3 reserved bytes (written as zero, ignored on input like Nym does)
 *
 * followed by `length` bytes: a handshake message, or a transport message (ciphertext and
 * tag, so at most 65535 - 16 bytes of plaintext per data frame).
 *
 * We speak Noise version 1 with pattern XKpsk3 only: version 2 (Nym's post-quantum PSK
 * exchange) and pattern 2 (IKpsk2) are refused with -EPROTONOSUPPORT. A node tells a Noise
 * stream from a plain one by its first byte: 1 here, 7 or 8 for mix frames. */
#ifndef NYM_NOISE_NOISE_FRAME_H
#define NYM_NOISE_NOISE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/framer.h"

#define NOISE_FRAME_HEADER_LEN 8
#define NOISE_FRAME_VERSION 1
#define NOISE_FRAME_PATTERN_XKPSK3 1
#define NOISE_FRAME_MAX_BODY 65535
#define NOISE_FRAME_MAX_LEN (NOISE_FRAME_HEADER_LEN + NOISE_FRAME_MAX_BODY)

enum noise_frame_type {
	NOISE_FRAME_HANDSHAKE = 0,
	NOISE_FRAME_DATA = 1,
};

struct noise_frame_header {
	uint8_t version;
	uint8_t pattern;
	uint8_t type;
	uint16_t len;
};

struct noise_frame {
	struct noise_frame_header header;
	const uint8_t *body;
	size_t body_len;
};

/* Writes a version 1 XKpsk3 header. Returns 0 or -EINVAL (unknown type). */
int noise_frame_header_encode(enum noise_frame_type type, size_t body_len,
			      uint8_t out[NOISE_FRAME_HEADER_LEN]);

/* Returns 0, -EAGAIN (fewer than 8 bytes), -EPROTONOSUPPORT (version or pattern) or -EINVAL
 * (message type). Bad bytes are reported as soon as they are present. */
int noise_frame_header_decode(const uint8_t *in, size_t len, struct noise_frame_header *h);

/* Streaming decoder, the same contract as mix_frame_decoder: feed each read, take frames
 * until -EAGAIN; frames point into the read or into the decoder; errors are sticky and
 * nothing from the bad header on is consumed. About 64 KiB. */
struct noise_frame_decoder {
	struct framer f;
	uint8_t buf[NOISE_FRAME_MAX_LEN];
};

void noise_frame_decoder_init(struct noise_frame_decoder *d);
int noise_frame_decoder_feed(struct noise_frame_decoder *d, const uint8_t *data, size_t len);
int noise_frame_decoder_next(struct noise_frame_decoder *d, struct noise_frame *out);
size_t noise_frame_decoder_consumed(const struct noise_frame_decoder *d);
size_t noise_frame_decoder_buffered(const struct noise_frame_decoder *d);

#endif
