#include "mix/mix_frame.h"

#include <errno.h>
#include <string.h>

enum mix_key_rotation mix_frame_key_rotation_from_id(uint32_t rotation_id)
{
	if (rotation_id == 0 || rotation_id == UINT32_MAX)
		return MIX_KEY_ROTATION_UNKNOWN;
	return rotation_id % 2 ? MIX_KEY_ROTATION_ODD : MIX_KEY_ROTATION_EVEN;
}

size_t mix_frame_header_len(uint8_t version)
{
	if (version == MIX_FRAME_VERSION)
		return MIX_FRAME_HEADER_LEN;
	if (version == MIX_FRAME_VERSION_LEGACY)
		return MIX_FRAME_LEGACY_HEADER_LEN;
	return 0;
}

static bool type_matches_size(uint8_t type, uint8_t size)
{
	if (type == MIX_PACKET_TYPE_MIX)
		return !mix_packet_size_is_outfox(size);
	if (type == MIX_PACKET_TYPE_OUTFOX)
		return mix_packet_size_is_outfox(size);
	return false;
}

/* Checks the header bytes present so far (n may be short of a whole header), so that a
 * stream is refused at its first bad byte rather than after more input arrives. */
static int check_header_prefix(const uint8_t *p, size_t n)
{
	if (n < 1)
		return 0;
	size_t hlen = mix_frame_header_len(p[0]);
	if (!hlen)
		return -EPROTONOSUPPORT;
	if (n >= 2 && !mix_packet_size_valid(p[1]))
		return -EINVAL;
	if (n >= 3 && !type_matches_size(p[2], p[1]))
		return -EINVAL;
	if (n >= 4 && hlen == 4 && p[3] > MIX_KEY_ROTATION_EVEN)
		return -EINVAL;
	return 0;
}

int mix_frame_header_encode(const struct mix_frame_header *h, uint8_t out[MIX_FRAME_HEADER_LEN],
			    size_t *written)
{
	uint8_t tmp[MIX_FRAME_HEADER_LEN] = { h->version, h->size, h->type, h->key_rotation };
	size_t hlen = mix_frame_header_len(h->version);
	if (!hlen || check_header_prefix(tmp, hlen) != 0)
		return -EINVAL;
	if (hlen == MIX_FRAME_LEGACY_HEADER_LEN && h->key_rotation != MIX_KEY_ROTATION_UNKNOWN)
		return -EINVAL;
	memcpy(out, tmp, hlen);
	*written = hlen;
	return 0;
}

int mix_frame_header_decode(const uint8_t *in, size_t len, struct mix_frame_header *h,
			    size_t *header_len)
{
	if (len == 0)
		return -EAGAIN;
	size_t hlen = mix_frame_header_len(in[0]);
	if (!hlen)
		return -EPROTONOSUPPORT;
	int r = check_header_prefix(in, len < hlen ? len : hlen);
	if (r)
		return r;
	if (len < hlen)
		return -EAGAIN;
	h->version = in[0];
	h->size = in[1];
	h->type = in[2];
	h->key_rotation = hlen == MIX_FRAME_HEADER_LEN ? in[3] : MIX_KEY_ROTATION_UNKNOWN;
	*header_len = hlen;
	return 0;
}

int mix_frame_encode(const struct mix_frame_header *h, const uint8_t *packet, size_t packet_len,
		     uint8_t *out, size_t cap, size_t *written)
{
	uint8_t hdr[MIX_FRAME_HEADER_LEN];
	size_t hlen;
	int r = mix_frame_header_encode(h, hdr, &hlen);
	if (r)
		return r;
	if (packet_len != mix_packet_size_len(h->size))
		return -EMSGSIZE;
	if (cap < hlen + packet_len)
		return -ENOSPC;
	memcpy(out, hdr, hlen);
	memcpy(out + hlen, packet, packet_len);
	*written = hlen + packet_len;
	return 0;
}

void mix_frame_decoder_init(struct mix_frame_decoder *d)
{
	d->in = NULL;
	d->in_len = 0;
	d->in_pos = 0;
	d->frame_start = 0;
	d->have = 0;
	d->need = 0;
	d->error = 0;
	memset(&d->header, 0, sizeof(d->header));
}

int mix_frame_decoder_feed(struct mix_frame_decoder *d, const uint8_t *data, size_t len)
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

static int fail(struct mix_frame_decoder *d, int err, size_t frame_start)
{
	d->error = err;
	d->frame_start = frame_start;
	return err;
}

static void emit(struct mix_frame *out, const struct mix_frame_header *h, const uint8_t *frame,
		 size_t hlen, size_t flen)
{
	out->header = *h;
	out->packet = frame + hlen;
	out->packet_len = flen - hlen;
}

int mix_frame_decoder_next(struct mix_frame_decoder *d, struct mix_frame *out)
{
	struct mix_frame_header h;
	size_t hlen, avail, take;
	int r;

	if (d->error)
		return d->error;
	avail = d->in_len - d->in_pos;

	if (d->have == 0) {
		/* The common case: the whole frame is in the caller's buffer. */
		const uint8_t *p = d->in + d->in_pos;
		if (!avail)
			return -EAGAIN;
		r = mix_frame_header_decode(p, avail, &h, &hlen);
		if (r == -EAGAIN) {
			memcpy(d->buf, p, avail);
			d->have = avail;
			d->need = 0;
			d->in_pos = d->in_len;
			return -EAGAIN;
		}
		if (r)
			return fail(d, r, d->in_pos);
		size_t flen = hlen + mix_packet_size_len(h.size);
		if (avail >= flen) {
			emit(out, &h, p, hlen, flen);
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

	/* A frame that began in an earlier chunk. A partial header is completed first; a bad
	 * byte in it leaves this chunk untouched. */
	if (d->need == 0) {
		hlen = mix_frame_header_len(d->buf[0]);
		take = hlen - d->have < avail ? hlen - d->have : avail;
		memcpy(d->buf + d->have, d->in + d->in_pos, take);
		r = mix_frame_header_decode(d->buf, d->have + take, &h, &hlen);
		if (r && r != -EAGAIN)
			return fail(d, r, 0);
		d->have += take;
		d->in_pos += take;
		if (r)
			return r;
		d->need = hlen + mix_packet_size_len(h.size);
		d->header = h;
		avail -= take;
	}

	take = d->need - d->have < avail ? d->need - d->have : avail;
	memcpy(d->buf + d->have, d->in + d->in_pos, take);
	d->have += take;
	d->in_pos += take;
	if (d->have < d->need)
		return -EAGAIN;
	emit(out, &d->header, d->buf, mix_frame_header_len(d->header.version), d->need);
	d->have = 0;
	d->need = 0;
	return 0;
}

size_t mix_frame_decoder_consumed(const struct mix_frame_decoder *d)
{
	return d->error ? d->frame_start : d->in_pos;
}

size_t mix_frame_decoder_buffered(const struct mix_frame_decoder *d)
{
	return d->have;
}
