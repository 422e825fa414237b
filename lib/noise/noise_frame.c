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

void noise_frame_decoder_init(struct noise_frame_decoder *d)
{
	d->in = NULL;
	d->in_len = d->in_pos = d->frame_start = 0;
	d->have = d->need = 0;
	d->error = 0;
	memset(&d->header, 0, sizeof(d->header));
}

int noise_frame_decoder_feed(struct noise_frame_decoder *d, const uint8_t *data, size_t len)
{
	if (d->error)
		return d->error;
	if (d->in_pos < d->in_len)
		return -EBUSY;
	d->in = data;
	d->in_len = len;
	d->in_pos = 0;
	return 0;
}

static int fail(struct noise_frame_decoder *d, int err, size_t frame_start)
{
	d->error = err;
	d->frame_start = frame_start;
	return err;
}

int noise_frame_decoder_next(struct noise_frame_decoder *d, struct noise_frame *out)
{
	struct noise_frame_header h;
	size_t avail, take;
	int r;

	if (d->error)
		return d->error;
	avail = d->in_len - d->in_pos;

	if (d->have == 0) {
		const uint8_t *p = d->in + d->in_pos;
		if (!avail)
			return -EAGAIN;
		r = noise_frame_header_decode(p, avail, &h);
		if (r == -EAGAIN) {
			memcpy(d->buf, p, avail);
			d->have = avail;
			d->need = 0;
			d->in_pos = d->in_len;
			return -EAGAIN;
		}
		if (r)
			return fail(d, r, d->in_pos);
		size_t flen = NOISE_FRAME_HEADER_LEN + h.len;
		if (avail >= flen) {
			out->header = h;
			out->body = p + NOISE_FRAME_HEADER_LEN;
			out->body_len = h.len;
			d->in_pos += flen;
			return 0;
		}
		memcpy(d->buf, p, avail);
		d->have = avail;
		d->need = flen;
		d->header = h;
		d->in_pos = d->in_len;
		return -EAGAIN;
	}

	if (d->need == 0) {
		take = NOISE_FRAME_HEADER_LEN - d->have < avail ? NOISE_FRAME_HEADER_LEN - d->have
								 : avail;
		memcpy(d->buf + d->have, d->in + d->in_pos, take);
		r = noise_frame_header_decode(d->buf, d->have + take, &h);
		if (r && r != -EAGAIN)
			return fail(d, r, 0);
		d->have += take;
		d->in_pos += take;
		if (r)
			return r;
		d->need = NOISE_FRAME_HEADER_LEN + h.len;
		d->header = h;
		avail -= take;
	}

	take = d->need - d->have < avail ? d->need - d->have : avail;
	memcpy(d->buf + d->have, d->in + d->in_pos, take);
	d->have += take;
	d->in_pos += take;
	if (d->have < d->need)
		return -EAGAIN;
	out->header = d->header;
	out->body = d->buf + NOISE_FRAME_HEADER_LEN;
	out->body_len = d->header.len;
	d->have = 0;
	d->need = 0;
	return 0;
}

size_t noise_frame_decoder_consumed(const struct noise_frame_decoder *d)
{
	return d->error ? d->frame_start : d->in_pos;
}

size_t noise_frame_decoder_buffered(const struct noise_frame_decoder *d)
{
	return d->have;
}
