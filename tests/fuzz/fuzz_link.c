/* The client link's parsers: the streaming frame decoder of either side and the message
 * decoder behind it.
 *
 * Byte 0: bit 0 picks the side whose frames are read (client or gateway), the rest how the
 * stream is cut into reads. The stream is also decoded in one piece; both runs must agree on
 * every frame and on the final error. Every message that decodes must encode back to the
 * very bytes of its frame (the format has one encoding per message) and decode again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "link/link_frame.h"
#include "link/link_msg.h"

struct result {
	size_t frames, messages;
	uint64_t digest;
	int error;
	size_t bytes;
};

static uint64_t mix64(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void check_frame(const struct link_frame *f, enum link_side from, struct result *res)
{
	static uint8_t out[LINK_FRAME_MAX_LEN], again[LINK_FRAME_MAX_LEN];
	struct link_msg m, m2;
	size_t n, n2;
	if (f->body_len != f->header.len || f->body_len > LINK_FRAME_MAX_BODY)
		abort();
	if (link_msg_decode(f, from, &m) != 0)
		return;
	res->messages++;
	if (link_msg_encode(&m, out, sizeof(out), &n) != 0 || n != LINK_FRAME_HEADER_LEN + f->body_len ||
	    memcmp(out + LINK_FRAME_HEADER_LEN, f->body, f->body_len) != 0 || out[0] != f->header.type)
		abort();
	struct link_frame f2 = { .header = f->header, .body = out + LINK_FRAME_HEADER_LEN, .body_len = n - LINK_FRAME_HEADER_LEN };
	if (link_msg_decode(&f2, from, &m2) != 0 || link_msg_encode(&m2, again, sizeof(again), &n2) != 0 ||
	    n2 != n || memcmp(again, out, n) != 0)
		abort();
	if (m.type == LINK_MSG_SEND)
		for (size_t i = 0; i < m.packets.count; i++) {
			struct link_send_entry e;
			link_send_entry_get(&m.packets, i, &e);
			if (e.key_rotation > 2 || e.packet + e.packet_len > f->body + f->body_len)
				abort();
		}
	if (m.type == LINK_MSG_AUTH) {
		static const uint8_t hash[LINK_HANDSHAKE_HASH_LEN] = { 1 };
		int r = link_auth_verify(&m.auth, hash, 1796083200, LINK_AUTH_DEFAULT_SKEW_S);
		if (r != 0 && r != -ETIME && r != -EKEYREJECTED)
			abort();
	}
}

static void run(const uint8_t *data, size_t len, unsigned mode, enum link_side from,
		struct result *res, struct link_frame_decoder *d)
{
	static const size_t fixed[] = { 1, 2, 3, 4, 5, 7, 64, 407, 2437 };
	size_t pos = 0;
	uint32_t seed = mode * 2654435761u + 1;
	memset(res, 0, sizeof(*res));
	res->error = -EAGAIN;
	link_frame_decoder_init(d, from);
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
		uint8_t *chunk = malloc(c);
		if (!chunk)
			abort();
		memcpy(chunk, data + pos, c);
		if (link_frame_decoder_feed(d, chunk, c) != 0)
			abort();
		struct link_frame f;
		int r;
		while ((r = link_frame_decoder_next(d, &f)) == 0) {
			check_frame(&f, from, res);
			res->frames++;
			res->digest = mix64(res->digest, &f.header.type, 1);
			res->digest = mix64(res->digest, f.body, f.body_len);
			res->bytes += LINK_FRAME_HEADER_LEN + f.body_len;
		}
		if (link_frame_decoder_buffered(d) > LINK_FRAME_MAX_LEN)
			abort();
		if (r != -EAGAIN) {
			res->error = r;
			if (link_frame_decoder_consumed(d) > c)
				abort();
			free(chunk);
			return;
		}
		if (link_frame_decoder_consumed(d) != c)
			abort();
		free(chunk);
		pos += c;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct link_frame_decoder d1, d2;
	if (size < 1)
		return 0;
	enum link_side from = data[0] & 1 ? LINK_FROM_GATEWAY : LINK_FROM_CLIENT;
	unsigned mode = (data[0] >> 1) % 12;
	struct result whole, chunked;
	run(data + 1, size - 1, 0, from, &whole, &d1);
	run(data + 1, size - 1, mode, from, &chunked, &d2);
	if (whole.frames != chunked.frames || whole.messages != chunked.messages ||
	    whole.digest != chunked.digest || whole.error != chunked.error || whole.bytes != chunked.bytes)
		abort();
	if (whole.error != -EAGAIN && link_frame_decoder_consumed(&d1) != whole.bytes)
		abort();
	return 0;
}
