#include "noise/noise_frame.h"

#include <errno.h>
#include <string.h>

int noise_frame_header_encode(enum noise_frame_type type, size_t body_len,
			      uint8_t out[NOISE_FRAME_HEADER_LEN])
{
	if ((type != NOISE_FRAME_HANDSHAKE && type != NOISE_FRAME_DATA) ||
	    body_len > NOISE_FRAME_MAX_BODY)
		return -EINVAL;
	out[0] = NOISE_FRAME_VERSION;
	out[1] = NOISE_FRAME_PATTERN_XKPSK3;
	out[2] = (uint8_t)type;
	out[3] = (uint8_t)(body_len >> 8);
	out[4] = (uint8_t)body_len;
	out[5] = out[6] = out[7] = 0;
	return 0;
}

int noise_frame_header_decode(const uint8_t *in, size_t len, struct noise_frame_header *h)
{
	if (len >= 1 && in[0] != NOISE_FRAME_VERSION)
		return -EPROTONOSUPPORT;
	if (len >= 2 && in[1] != NOISE_FRAME_PATTERN_XKPSK3)
		return -EPROTONOSUPPORT;
	if (len >= 3 && in[2] != NOISE_FRAME_HANDSHAKE && in[2] != NOISE_FRAME_DATA)
		return -EINVAL;
	if (len < NOISE_FRAME_HEADER_LEN)
		return -EAGAIN;
	h->version = in[0];
	h->pattern = in[1];
	h->type = in[2];
	h->len = (uint16_t)(in[3] << 8 | in[4]);
	return 0;
}

static int frame_length(const uint8_t *in, size_t len, size_t *frame_len)
{
	struct noise_frame_header h;
	int r = noise_frame_header_decode(in, len, &h);
	if (r == 0)
		*frame_len = NOISE_FRAME_HEADER_LEN + h.len;
	return r;
}

void noise_frame_decoder_init(struct noise_frame_decoder *d)
{
	framer_init(&d->f, frame_length, NOISE_FRAME_HEADER_LEN, d->buf, sizeof(d->buf));
}

int noise_frame_decoder_feed(struct noise_frame_decoder *d, const uint8_t *data, size_t len)
{
	return framer_feed(&d->f, data, len);
}

int noise_frame_decoder_next(struct noise_frame_decoder *d, struct noise_frame *out)
{
	const uint8_t *frame;
	size_t len;
	int r = framer_next(&d->f, &frame, &len);
	if (r)
		return r;
	noise_frame_header_decode(frame, len, &out->header);
	out->body = frame + NOISE_FRAME_HEADER_LEN;
	out->body_len = len - NOISE_FRAME_HEADER_LEN;
	return 0;
}

size_t noise_frame_decoder_consumed(const struct noise_frame_decoder *d)
{
	return framer_consumed(&d->f);
}

size_t noise_frame_decoder_buffered(const struct noise_frame_decoder *d)
{
	return framer_buffered(&d->f);
}
