/* Frames out of a byte stream whose frames say their own length (Nym's node framing, Nym's
 * Noise framing). The owner feeds each read and takes frames until -EAGAIN. A frame that
 * lies within one read is returned in place; one that straddles reads is assembled in the
 * owner's buffer. The format is a function that looks at a frame's first bytes and says how
 * long the frame is, that it needs more bytes, or that they are bad; it is called with
 * growing prefixes, so a bad byte is refused as soon as it arrives. Errors are sticky (a
 * stream without resynchronisation points cannot recover) and nothing from the bad frame
 * on counts as consumed. */
#ifndef NYM_UTIL_FRAMER_H
#define NYM_UTIL_FRAMER_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 with *frame_len, -EAGAIN (too few bytes to tell) or another negative errno. */
typedef int (*framer_length_fn)(const uint8_t *in, size_t len, size_t *frame_len);

struct framer {
	framer_length_fn length;
	size_t max_header; /* bytes that always suffice to learn a frame's length */
	uint8_t *buf;      /* the owner's storage for straddling frames */
	size_t cap;
	const uint8_t *in;
	size_t in_len, in_pos;
	size_t frame_start; /* where a failed frame began in the current chunk */
	size_t have, need;  /* bytes of a straddling frame in buf; its length once known */
	int error;
};

void framer_init(struct framer *f, framer_length_fn length, size_t max_header, uint8_t *buf, size_t cap);
/* Hands over the next read. Returns 0, -EBUSY (the previous one is not drained) or the
 * sticky error. */
int framer_feed(struct framer *f, const uint8_t *data, size_t len);
/* Returns 0 with the next whole frame, -EAGAIN when the read is used up, or the error. The
 * frame stays valid until the next call. */
int framer_next(struct framer *f, const uint8_t **frame, size_t *len);
/* Bytes of the current read consumed; after an error, where the bad frame began (0 if in an
 * earlier read). */
size_t framer_consumed(const struct framer *f);
/* Bytes of an incomplete frame held across reads. */
size_t framer_buffered(const struct framer *f);

#endif
