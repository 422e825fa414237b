/* The node's ingress framing: the streaming v8/v7 frame decoder.
 *
 * Input byte 0 picks how the rest is cut into reads. The same bytes are also decoded in one
 * piece; both runs must agree on every frame and on the final error, so chunking can never
 * change what the node sees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mix/mix_frame.h"

struct result {
	size_t frames;
	uint64_t digest; /* over every frame's header and packet bytes */
	int error;	 /* -EAGAIN if the input ran out cleanly */
	size_t bytes;	 /* bytes of whole frames */
};

static uint64_t mix64(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void check_frame(const struct mix_frame *f)
{
	uint8_t hdr[MIX_FRAME_HEADER_LEN];
	size_t n;
	/* Whatever the decoder returns must be a header we would write ourselves. */
	if (mix_frame_header_encode(&f->header, hdr, &n) != 0)
		abort();
	if (f->packet_len != mix_packet_size_len(f->header.size))
		abort();
}

static void run(const uint8_t *data, size_t len, unsigned mode, struct result *res,
		struct mix_frame_decoder *d)
{
	static const size_t fixed[] = { 1, 2, 3, 5, 7, 64, 386, 2417, 4096 };
	size_t pos = 0;
	uint32_t seed = mode * 2654435761u + 1;
	memset(res, 0, sizeof(*res));
	res->error = -EAGAIN;
	mix_frame_decoder_init(d);
	while (pos < len) {
		size_t c;
		if (mode == 0) {
			c = len;
		} else if (mode < 10) {
			c = fixed[mode - 1];
		} else {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			c = 1 + seed % 3000;
		}
		if (c > len - pos)
			c = len - pos;
		/* Each read in its own allocation, so ASan sees any access past it. */
		uint8_t *chunk = malloc(c);
		if (!chunk)
			abort();
		memcpy(chunk, data + pos, c);
		if (mix_frame_decoder_feed(d, chunk, c) != 0)
			abort();
		struct mix_frame f;
		int r;
		while ((r = mix_frame_decoder_next(d, &f)) == 0) {
			check_frame(&f);
			res->frames++;
			res->digest = mix64(res->digest, (const uint8_t *)&f.header, sizeof(f.header));
			res->digest = mix64(res->digest, f.packet, f.packet_len);
			res->bytes += mix_frame_header_len(f.header.version) + f.packet_len;
		}
		if (mix_frame_decoder_buffered(d) > MIX_FRAME_MAX_LEN)
			abort();
		if (r != -EAGAIN) {
			res->error = r;
			if (mix_frame_decoder_consumed(d) > c)
				abort();
			free(chunk);
			return;
		}
		if (mix_frame_decoder_consumed(d) != c)
			abort();
		free(chunk);
		pos += c;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mix_frame_decoder d1, d2;
	if (size < 1)
		return 0;
	unsigned mode = data[0] % 12;
	struct result whole, chunked;
	run(data + 1, size - 1, 0, &whole, &d1);
	run(data + 1, size - 1, mode, &chunked, &d2);
	if (whole.frames != chunked.frames || whole.digest != chunked.digest ||
	    whole.error != chunked.error || whole.bytes != chunked.bytes)
		abort();
	/* In one piece, an error must point exactly past the good frames. */
	if (whole.error != -EAGAIN && mix_frame_decoder_consumed(&d1) != whole.bytes)
		abort();
	return 0;
}
