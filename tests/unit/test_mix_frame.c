#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../support/testdata.h"
#include "mix/mix_frame.h"
#include "mix/mix_packet_size.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(mix_frame, .init = setup);

/* ---- size classes ---- */

Test(mix_frame, size_classes_match_nym)
{
	static const struct {
		enum mix_packet_size tag;
		const char *name;
		size_t len, payload, plaintext;
	} want[] = {
		{ MIX_PACKET_SIZE_REGULAR, "regular", 2413, 2065, 2048 },
		{ MIX_PACKET_SIZE_ACK, "ack", 386, 38, 21 },
		{ MIX_PACKET_SIZE_EXTENDED32, "extended32", 33133, 32785, 32768 },
		{ MIX_PACKET_SIZE_EXTENDED8, "extended8", 8557, 8209, 8192 },
		{ MIX_PACKET_SIZE_EXTENDED16, "extended16", 16749, 16401, 16384 },
		{ MIX_PACKET_SIZE_OUTFOX_REGULAR, "outfox_regular", 2377, 2371, 2048 },
		{ MIX_PACKET_SIZE_OUTFOX_ACK, "outfox_ack", 377, 371, 48 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		enum mix_packet_size got;
		cr_assert(mix_packet_size_valid(want[i].tag));
		cr_assert_eq(mix_packet_size_len(want[i].tag), want[i].len, "%s", want[i].name);
		cr_assert_eq(mix_packet_size_payload_len(want[i].tag), want[i].payload, "%s",
			     want[i].name);
		cr_assert_eq(mix_packet_size_plaintext_len(want[i].tag), want[i].plaintext, "%s",
			     want[i].name);
		cr_assert_str_eq(mix_packet_size_name(want[i].tag), want[i].name);
		cr_assert_eq(mix_packet_size_from_name(want[i].name, &got), 0);
		cr_assert_eq(got, want[i].tag);
		cr_assert_eq(mix_packet_size_from_len(want[i].len, &got), 0);
		cr_assert_eq(got, want[i].tag, "%s", want[i].name);
	}
	cr_assert_eq(MIX_PACKET_MAX_LEN, 33133);
}

Test(mix_frame, size_detection_edges)
{
	enum mix_packet_size got = 0;
	/* Nym's get_type also maps Outfox regular without its 6 parameter bytes. */
	cr_assert_eq(mix_packet_size_from_len(2371, &got), 0);
	cr_assert_eq(got, MIX_PACKET_SIZE_OUTFOX_REGULAR);
	static const size_t bad[] = { 0, 1, 385, 387, 2412, 2414, 33132, 33134, 65536 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(mix_packet_size_from_len(bad[i], &got), -EINVAL, "len %zu", bad[i]);
	cr_assert_not(mix_packet_size_valid(0));
	cr_assert_not(mix_packet_size_valid(8));
	cr_assert_eq(mix_packet_size_len(0), 0);
	cr_assert_eq(mix_packet_size_len(8), 0);
	cr_assert_null(mix_packet_size_name(9));
	cr_assert_eq(mix_packet_size_from_name("extended64", &got), -EINVAL);
	cr_assert(mix_packet_size_is_outfox(MIX_PACKET_SIZE_OUTFOX_ACK));
	cr_assert_not(mix_packet_size_is_outfox(MIX_PACKET_SIZE_EXTENDED16));
}

/* ---- header ---- */

Test(mix_frame, header_round_trip)
{
	for (unsigned tag = 1; tag <= 7; tag++) {
		for (unsigned rot = 0; rot <= 2; rot++) {
			struct mix_frame_header h = {
				.version = MIX_FRAME_VERSION,
				.size = (uint8_t)tag,
				.type = mix_packet_size_is_outfox(tag) ? MIX_PACKET_TYPE_OUTFOX
								       : MIX_PACKET_TYPE_MIX,
				.key_rotation = (uint8_t)rot,
			};
			uint8_t buf[4];
			size_t n, hlen;
			struct mix_frame_header back;
			cr_assert_eq(mix_frame_header_encode(&h, buf, &n), 0);
			cr_assert_eq(n, 4);
			uint8_t want[4] = { 8, (uint8_t)tag, h.type, (uint8_t)rot };
			cr_assert_arr_eq(buf, want, 4);
			cr_assert_eq(mix_frame_header_decode(buf, 4, &back, &hlen), 0);
			cr_assert_eq(hlen, 4);
			cr_assert_eq(memcmp(&h, &back, sizeof(h)), 0);
			for (size_t k = 0; k < 4; k++)
				cr_assert_eq(mix_frame_header_decode(buf, k, &back, &hlen), -EAGAIN);
		}
	}
	/* Legacy v7: three bytes, rotation unknown. */
	uint8_t v7[3] = { 7, MIX_PACKET_SIZE_REGULAR, MIX_PACKET_TYPE_MIX };
	struct mix_frame_header h;
	size_t hlen;
	cr_assert_eq(mix_frame_header_decode(v7, 3, &h, &hlen), 0);
	cr_assert_eq(hlen, 3);
	cr_assert_eq(h.version, 7);
	cr_assert_eq(h.key_rotation, MIX_KEY_ROTATION_UNKNOWN);
	uint8_t out[4];
	size_t n;
	cr_assert_eq(mix_frame_header_encode(&h, out, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_arr_eq(out, v7, 3);
	h.key_rotation = MIX_KEY_ROTATION_ODD;
	cr_assert_eq(mix_frame_header_encode(&h, out, &n), -EINVAL);
}

Test(mix_frame, bad_headers_are_refused)
{
	static const struct {
		uint8_t b[4];
		int err;
	} bad[] = {
		{ { 6, 1, 0, 0 }, -EPROTONOSUPPORT }, { { 9, 1, 0, 0 }, -EPROTONOSUPPORT },
		{ { 0, 1, 0, 0 }, -EPROTONOSUPPORT }, { { 1, 1, 0, 0 }, -EPROTONOSUPPORT },
		{ { 8, 0, 0, 0 }, -EINVAL },	      { { 8, 8, 0, 0 }, -EINVAL },
		{ { 8, 255, 0, 0 }, -EINVAL },	      { { 8, 1, 1, 0 }, -EINVAL },
		{ { 8, 1, 3, 0 }, -EINVAL },	      { { 8, 1, 2, 0 }, -EINVAL }, /* outfox type */
		{ { 8, 6, 0, 0 }, -EINVAL }, /* outfox size, mix type */
		{ { 8, 1, 0, 3 }, -EINVAL },	      { { 8, 1, 0, 255 }, -EINVAL },
		{ { 7, 0, 0, 0 }, -EINVAL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mix_frame_header h;
		size_t hlen;
		cr_assert_eq(mix_frame_header_decode(bad[i].b, 4, &h, &hlen), bad[i].err, "case %zu",
			     i);
		struct mix_frame_header enc = { bad[i].b[0], bad[i].b[1], bad[i].b[2], bad[i].b[3] };
		uint8_t out[4];
		size_t n;
		cr_assert_eq(mix_frame_header_encode(&enc, out, &n), -EINVAL, "case %zu", i);
	}
	/* A bad byte is reported as soon as it is seen, before the header is complete. */
	uint8_t early[2] = { 8, 42 };
	struct mix_frame_header h;
	size_t hlen;
	cr_assert_eq(mix_frame_header_decode(early, 2, &h, &hlen), -EINVAL);
}

Test(mix_frame, key_rotation_from_id)
{
	cr_assert_eq(mix_frame_key_rotation_from_id(0), MIX_KEY_ROTATION_UNKNOWN);
	cr_assert_eq(mix_frame_key_rotation_from_id(UINT32_MAX), MIX_KEY_ROTATION_UNKNOWN);
	cr_assert_eq(mix_frame_key_rotation_from_id(1), MIX_KEY_ROTATION_ODD);
	cr_assert_eq(mix_frame_key_rotation_from_id(2), MIX_KEY_ROTATION_EVEN);
	cr_assert_eq(mix_frame_key_rotation_from_id(12345), MIX_KEY_ROTATION_ODD);
}

Test(mix_frame, encode_checks_packet_length)
{
	struct mix_frame_header h = { 8, MIX_PACKET_SIZE_ACK, MIX_PACKET_TYPE_MIX, 1 };
	uint8_t pkt[MIX_ACK_PACKET_LEN + 1] = { 0 };
	uint8_t out[MIX_ACK_PACKET_LEN + 8];
	size_t n;
	cr_assert_eq(mix_frame_encode(&h, pkt, MIX_ACK_PACKET_LEN + 1, out, sizeof(out), &n),
		     -EMSGSIZE);
	cr_assert_eq(mix_frame_encode(&h, pkt, MIX_ACK_PACKET_LEN, out, 100, &n), -ENOSPC);
	cr_assert_eq(mix_frame_encode(&h, pkt, MIX_ACK_PACKET_LEN, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 4 + MIX_ACK_PACKET_LEN);
}

/* ---- streaming decoder ---- */

struct stream {
	uint8_t *bytes;
	size_t len;
	size_t n;
	struct mix_frame_header hdr[64];
	size_t off[64]; /* packet offset of each frame */
};

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* n frames of assorted classes and versions with distinct, recognisable contents. */
static void make_stream(struct stream *st, size_t n, uint32_t seed)
{
	static const uint8_t sizes[] = { 1, 1, 1, 2, 2, 4, 5, 3, 6, 7 };
	st->len = 0;
	st->n = n;
	st->bytes = malloc(n * MIX_FRAME_MAX_LEN);
	for (size_t i = 0; i < n; i++) {
		uint8_t size = sizes[xorshift(&seed) % sizeof(sizes)];
		struct mix_frame_header h = {
			.version = xorshift(&seed) % 5 == 0 ? 7 : 8,
			.size = size,
			.type = mix_packet_size_is_outfox(size) ? MIX_PACKET_TYPE_OUTFOX
								: MIX_PACKET_TYPE_MIX,
		};
		if (h.version == 8)
			h.key_rotation = (uint8_t)(xorshift(&seed) % 3);
		size_t plen = mix_packet_size_len(size);
		uint8_t *pkt = malloc(plen);
		for (size_t k = 0; k < plen; k++)
			pkt[k] = (uint8_t)xorshift(&seed);
		size_t w;
		cr_assert_eq(mix_frame_encode(&h, pkt, plen, st->bytes + st->len,
					      n * MIX_FRAME_MAX_LEN - st->len, &w),
			     0);
		st->hdr[i] = h;
		st->off[i] = st->len + mix_frame_header_len(h.version);
		st->len += w;
		free(pkt);
	}
}

/* Feeds the stream in chunks whose sizes come from next_chunk and checks every frame. */
static void run_stream(const struct stream *st, size_t (*next_chunk)(uint32_t *), uint32_t seed)
{
	struct mix_frame_decoder *d = malloc(sizeof(*d));
	mix_frame_decoder_init(d);
	size_t pos = 0, got = 0, copies = 0;
	while (pos < st->len) {
		size_t c = next_chunk(&seed);
		if (c > st->len - pos)
			c = st->len - pos;
		/* A private copy per chunk, so a frame pointing into it is provably zero-copy and
		 * ASan catches reads past the chunk. */
		uint8_t *chunk = malloc(c ? c : 1);
		memcpy(chunk, st->bytes + pos, c);
		cr_assert_eq(mix_frame_decoder_feed(d, chunk, c), 0);
		struct mix_frame f;
		int r;
		while ((r = mix_frame_decoder_next(d, &f)) == 0) {
			cr_assert_lt(got, st->n);
			cr_assert_eq(memcmp(&f.header, &st->hdr[got], sizeof(f.header)), 0,
				     "frame %zu header", got);
			cr_assert_eq(f.packet_len, mix_packet_size_len(st->hdr[got].size));
			cr_assert_eq(memcmp(f.packet, st->bytes + st->off[got], f.packet_len), 0,
				     "frame %zu contents", got);
			bool in_chunk = f.packet >= chunk && f.packet + f.packet_len <= chunk + c;
			bool in_decoder = f.packet >= d->buf && f.packet < d->buf + sizeof(d->buf);
			cr_assert(in_chunk || in_decoder);
			/* A frame that lies inside one chunk must not be copied. */
			size_t fstart = st->off[got] - mix_frame_header_len(st->hdr[got].version);
			if (fstart >= pos && st->off[got] + f.packet_len <= pos + c)
				cr_assert(in_chunk, "frame %zu copied needlessly", got);
			copies += in_decoder;
			got++;
		}
		cr_assert_eq(r, -EAGAIN);
		cr_assert_eq(mix_frame_decoder_consumed(d), c);
		cr_assert_leq(mix_frame_decoder_buffered(d), MIX_FRAME_MAX_LEN);
		free(chunk);
		pos += c;
	}
	cr_assert_eq(got, st->n);
	cr_assert_eq(mix_frame_decoder_buffered(d), 0);
	free(d);
	(void)copies;
}

static size_t one_byte(uint32_t *s)
{
	(void)s;
	return 1;
}

static size_t whole(uint32_t *s)
{
	(void)s;
	return SIZE_MAX;
}

static size_t random_small(uint32_t *s)
{
	return xorshift(s) % 700;
}

static size_t random_large(uint32_t *s)
{
	return 1 + xorshift(s) % 70000;
}

/* Socket-read sized chunks straddling frame boundaries. */
static size_t read_sized(uint32_t *s)
{
	static const size_t sizes[] = { 1, 3, 4, 5, 1448, 2417, 4096, 16384, 65536 };
	return sizes[xorshift(s) % (sizeof(sizes) / sizeof(sizes[0]))];
}

Test(mix_frame, decoder_many_frames_in_one_chunk)
{
	struct stream st;
	make_stream(&st, 40, 1);
	run_stream(&st, whole, 0);
	free(st.bytes);
}

Test(mix_frame, decoder_byte_by_byte)
{
	struct stream st;
	make_stream(&st, 12, 2);
	run_stream(&st, one_byte, 0);
	free(st.bytes);
}

Test(mix_frame, decoder_random_chunks)
{
	for (uint32_t seed = 1; seed <= 20; seed++) {
		struct stream st;
		make_stream(&st, 30, seed * 7919);
		run_stream(&st, random_small, seed);
		run_stream(&st, random_large, seed + 100);
		run_stream(&st, read_sized, seed + 200);
		free(st.bytes);
	}
}

Test(mix_frame, decoder_zero_length_feed)
{
	struct mix_frame_decoder *d = malloc(sizeof(*d));
	struct mix_frame f;
	mix_frame_decoder_init(d);
	cr_assert_eq(mix_frame_decoder_next(d, &f), -EAGAIN);
	cr_assert_eq(mix_frame_decoder_feed(d, NULL, 0), 0);
	cr_assert_eq(mix_frame_decoder_next(d, &f), -EAGAIN);
	free(d);
}

Test(mix_frame, decoder_refuses_feed_before_drain)
{
	struct stream st;
	make_stream(&st, 2, 3);
	struct mix_frame_decoder *d = malloc(sizeof(*d));
	struct mix_frame f;
	mix_frame_decoder_init(d);
	cr_assert_eq(mix_frame_decoder_feed(d, st.bytes, st.len), 0);
	cr_assert_eq(mix_frame_decoder_next(d, &f), 0);
	cr_assert_eq(mix_frame_decoder_feed(d, st.bytes, st.len), -EBUSY);
	cr_assert_eq(mix_frame_decoder_next(d, &f), 0);
	cr_assert_eq(mix_frame_decoder_next(d, &f), -EAGAIN);
	cr_assert_eq(mix_frame_decoder_feed(d, st.bytes, st.len), 0);
	free(d);
	free(st.bytes);
}

/* Good frames, then a bad header: the good ones come out, the decoder stops at the bad
 * header and reports where it starts; nothing after it is consumed, and it stays failed. */
Test(mix_frame, decoder_bad_header_in_chunk)
{
	static const uint8_t bad_headers[][4] = {
		{ 9, 1, 0, 0 }, { 8, 99, 0, 0 }, { 8, 1, 7, 0 }, { 8, 1, 0, 5 }, { 3, 1, 0, 0 },
	};
	static const int errs[] = { -EPROTONOSUPPORT, -EINVAL, -EINVAL, -EINVAL, -EPROTONOSUPPORT };
	for (size_t b = 0; b < 5; b++) {
		struct stream st;
		make_stream(&st, 3, 11 + (uint32_t)b);
		uint8_t *buf = malloc(st.len + 4 + 5000);
		memcpy(buf, st.bytes, st.len);
		memcpy(buf + st.len, bad_headers[b], 4);
		memset(buf + st.len + 4, 0x08, 5000);
		struct mix_frame_decoder *d = malloc(sizeof(*d));
		struct mix_frame f;
		mix_frame_decoder_init(d);
		cr_assert_eq(mix_frame_decoder_feed(d, buf, st.len + 4 + 5000), 0);
		for (int i = 0; i < 3; i++)
			cr_assert_eq(mix_frame_decoder_next(d, &f), 0);
		cr_assert_eq(mix_frame_decoder_next(d, &f), errs[b], "header %zu", b);
		cr_assert_eq(mix_frame_decoder_consumed(d), st.len);
		cr_assert_eq(mix_frame_decoder_next(d, &f), errs[b]);
		cr_assert_eq(mix_frame_decoder_feed(d, buf, 10), errs[b]);
		free(d);
		free(buf);
		free(st.bytes);
	}
}

/* The same fed byte by byte: the error comes with the offending byte, which is not
 * consumed, and every frame before it has been delivered. */
Test(mix_frame, decoder_bad_header_byte_by_byte)
{
	struct stream st;
	make_stream(&st, 3, 21);
	uint8_t bad[4] = { 8, 1, 0, 3 }; /* rotation 3: bad only at the fourth byte */
	uint8_t *buf = malloc(st.len + 4);
	memcpy(buf, st.bytes, st.len);
	memcpy(buf + st.len, bad, 4);
	struct mix_frame_decoder *d = malloc(sizeof(*d));
	struct mix_frame f;
	mix_frame_decoder_init(d);
	size_t frames = 0;
	int r = -EAGAIN;
	size_t i;
	for (i = 0; i < st.len + 4; i++) {
		cr_assert_eq(mix_frame_decoder_feed(d, buf + i, 1), 0);
		while ((r = mix_frame_decoder_next(d, &f)) == 0)
			frames++;
		if (r != -EAGAIN)
			break;
	}
	cr_assert_eq(r, -EINVAL);
	cr_assert_eq(i, st.len + 3, "error must come with the fourth header byte");
	cr_assert_eq(frames, 3);
	cr_assert_eq(mix_frame_decoder_consumed(d), 0);
	free(d);
	free(buf);
	free(st.bytes);
}

/* A header split across reads whose second part is bad. */
Test(mix_frame, decoder_bad_header_across_chunks)
{
	uint8_t a[2] = { 8, 1 };
	uint8_t b[3] = { 5, 0, 0 }; /* packet type 5 */
	struct mix_frame_decoder *d = malloc(sizeof(*d));
	struct mix_frame f;
	mix_frame_decoder_init(d);
	cr_assert_eq(mix_frame_decoder_feed(d, a, 2), 0);
	cr_assert_eq(mix_frame_decoder_next(d, &f), -EAGAIN);
	cr_assert_eq(mix_frame_decoder_buffered(d), 2);
	cr_assert_eq(mix_frame_decoder_feed(d, b, 3), 0);
	cr_assert_eq(mix_frame_decoder_next(d, &f), -EINVAL);
	cr_assert_eq(mix_frame_decoder_consumed(d), 0);
	free(d);
}

Test(mix_frame, decoder_state_is_bounded)
{
	/* Everything the decoder holds is the largest frame plus a few words. */
	cr_assert_leq(sizeof(struct mix_frame_decoder), MIX_FRAME_MAX_LEN + 128);
	cr_assert_eq(MIX_FRAME_MAX_LEN, 4 + 33133);
}
