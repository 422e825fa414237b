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

/* The framer's view of a v8/v7 frame: its length from its header. */
static int frame_length(const uint8_t *in, size_t len, size_t *frame_len)
{
	struct mix_frame_header h;
	size_t hlen;
	int r = mix_frame_header_decode(in, len, &h, &hlen);
	if (r == 0)
		*frame_len = hlen + mix_packet_size_len(h.size);
	return r;
}

void mix_frame_decoder_init(struct mix_frame_decoder *d)
{
	framer_init(&d->f, frame_length, MIX_FRAME_HEADER_LEN, d->buf, sizeof(d->buf));
}

int mix_frame_decoder_feed(struct mix_frame_decoder *d, const uint8_t *data, size_t len)
{
	return framer_feed(&d->f, data, len);
}

int mix_frame_decoder_next(struct mix_frame_decoder *d, struct mix_frame *out)
{
	const uint8_t *frame;
	size_t len, hlen;
	int r = framer_next(&d->f, &frame, &len);
	if (r)
		return r;
	/* Decoded once already by the framer; again here is a few nanoseconds. */
	mix_frame_header_decode(frame, len, &out->header, &hlen);
	out->packet = frame + hlen;
	out->packet_len = len - hlen;
	return 0;
}

size_t mix_frame_decoder_consumed(const struct mix_frame_decoder *d)
{
	return framer_consumed(&d->f);
}

size_t mix_frame_decoder_buffered(const struct mix_frame_decoder *d)
{
	return framer_buffered(&d->f);
}
