#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../support/testdata.h"
#include "mix/mix_fragment.h"
#include "mix/mix_reassembly.h"
#include "util/hex.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(mix_fragment, .init = setup);
TestSuite(mix_reassembly, .init = setup);

#define PP_REGULAR 1611

/* ---- capacities ---- */

Test(mix_fragment, capacities_derive_from_packet_size)
{
	size_t pp;
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_REGULAR, &pp), 0);
	cr_assert_eq(pp, 2048 - 405 - 32);
	cr_assert_eq(pp, PP_REGULAR);
	cr_assert_eq(mix_fragment_unlinked_capacity(pp), 1604);
	cr_assert_eq(mix_fragment_linked_capacity(pp), 1601);
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_EXTENDED8, &pp), 0);
	cr_assert_eq(pp, 8192 - 405 - 32);
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_EXTENDED32, &pp), 0);
	cr_assert_eq(pp, 32768 - 405 - 32);
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_OUTFOX_REGULAR, &pp), 0);
	cr_assert_eq(pp, 2048 - (19 + 377) - 32);
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_ACK, &pp), -EINVAL);
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_OUTFOX_ACK, &pp), -EINVAL);
	cr_assert_eq(mix_fragment_plaintext_per_packet(0, &pp), -EINVAL);
}

/* ---- fragment header ---- */

static void check_encoding(const struct mix_fragment *f, const char *hex)
{
	uint8_t out[64], want[64];
	size_t n, wn;
	cr_assert_eq(nym_hex_decode(want, sizeof(want), &wn, hex), 0);
	cr_assert_eq(mix_fragment_encode(f, out, sizeof(out), &n), 0);
	cr_assert_eq(n, wn);
	cr_assert_arr_eq(out, want, n);
	struct mix_fragment back;
	cr_assert_eq(mix_fragment_decode(out, n, &back), 0);
	cr_assert_eq(back.set_id, f->set_id);
	cr_assert_eq(back.total, f->total);
	cr_assert_eq(back.position, f->position);
	cr_assert_eq(back.prev_set_id, f->prev_set_id);
	cr_assert_eq(back.next_set_id, f->next_set_id);
	cr_assert_eq(back.data_len, f->data_len);
	cr_assert_eq(memcmp(back.data, f->data, f->data_len), 0);
}

Test(mix_fragment, header_bytes)
{
	const uint8_t data[3] = { 0xaa, 0xbb, 0xcc };
	/* unlinked: id 12345 with the flag bit, total 10, position 5, 0x00 */
	check_encoding(&(struct mix_fragment){ 12345, 10, 5, 0, 0, data, 3 }, "800030390a0500aabbcc");
	/* first fragment of a set linked to set 1234 */
	check_encoding(&(struct mix_fragment){ 12345, 10, 1, 1234, 0, data, 3 },
		       "800030390a01800004d2aabbcc");
	/* fragment 255 of 255 linked to the next set */
	check_encoding(&(struct mix_fragment){ 0x7fffffff, 255, 255, 0, 1, data, 1 },
		       "ffffffffffff80000001aa");
	/* the only fragment, empty */
	check_encoding(&(struct mix_fragment){ 1, 1, 1, 0, 0, data, 0 }, "80000001010100");
}

Test(mix_fragment, header_rules)
{
	uint8_t out[32];
	size_t n;
	static const struct mix_fragment bad[] = {
		{ 0, 1, 1, 0, 0, NULL, 0 },	  /* id 0 */
		{ -5, 1, 1, 0, 0, NULL, 0 },	  /* negative id */
		{ 7, 0, 0, 0, 0, NULL, 0 },	  /* no fragments */
		{ 7, 3, 0, 0, 0, NULL, 0 },	  /* position 0 */
		{ 7, 3, 4, 0, 0, NULL, 0 },	  /* position past total */
		{ 7, 3, 2, 9, 0, NULL, 0 },	  /* prev link off the first fragment */
		{ 7, 3, 3, 0, 9, NULL, 0 },	  /* next link in a set that is not full */
		{ 7, 255, 254, 0, 9, NULL, 0 },	  /* next link off the last fragment */
		{ 7, 3, 1, 7, 0, NULL, 0 },	  /* linked to itself */
		{ 7, 255, 255, 0, 7, NULL, 0 },	  /* linked to itself */
		{ 7, 1, 1, -9, 0, NULL, 0 },	  /* negative link */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(mix_fragment_encode(&bad[i], out, sizeof(out), &n), -EINVAL, "case %zu", i);
	cr_assert_eq(mix_fragment_encode(&(struct mix_fragment){ 7, 1, 1, 0, 0, NULL, 0 }, out, 6, &n),
		     -ENOSPC);
}

Test(mix_fragment, decode_refuses_malformed)
{
	static const struct {
		const char *hex;
		int err;
	} bad[] = {
		{ "", -EMSGSIZE },
		{ "800000010101", -EMSGSIZE },		/* 6 bytes */
		{ "00000001010100", -EINVAL },		/* no flag bit */
		{ "80000000010100", -EINVAL },		/* id 0 */
		{ "80000001000000", -EINVAL },		/* total 0 */
		{ "80000001020000", -EINVAL },		/* position 0 */
		{ "80000001020300", -EINVAL },		/* position past total */
		{ "8000000102018000", -EMSGSIZE },	/* link started, cut short */
		{ "8000000102017f000005", -EINVAL },	/* byte 6 nonzero but link flag missing */
		{ "80000001020101000005", -EINVAL },	/* same */
		{ "80000001030280000005", -EINVAL },	/* link on a middle fragment */
		{ "80000001030380000005", -EINVAL },	/* link on the last of a non-full set */
		{ "80000001020180000001", -EINVAL },	/* linked to itself */
		{ "80000001020180000000", -EINVAL },	/* link id 0 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t in[16];
		size_t n;
		struct mix_fragment f;
		cr_assert_eq(nym_hex_decode(in, sizeof(in), &n, bad[i].hex), 0);
		cr_assert_eq(mix_fragment_decode(in, n, &f), bad[i].err, "case %zu (%s)", i,
			     bad[i].hex);
	}
}

Test(mix_fragment, fragment_identifier)
{
	uint8_t b[5];
	struct mix_fragment_id id = { 0x12345678, 9 }, back;
	mix_fragment_id_encode(&id, b);
	uint8_t want[5] = { 0x12, 0x34, 0x56, 0x78, 9 };
	cr_assert_arr_eq(b, want, 5);
	cr_assert_eq(mix_fragment_id_decode(b, &back), 0);
	cr_assert_eq(back.set_id, id.set_id);
	cr_assert_eq(back.position, 9);
	cr_assert_not(mix_fragment_id_is_cover(&back));

	struct mix_fragment_id cover = MIX_FRAGMENT_ID_COVER;
	mix_fragment_id_encode(&cover, b);
	uint8_t zero[5] = { 0 };
	cr_assert_arr_eq(b, zero, 5);
	cr_assert_eq(mix_fragment_id_decode(b, &back), 0);
	cr_assert(mix_fragment_id_is_cover(&back));

	b[0] = 0x80; /* negative set ids are refused */
	cr_assert_eq(mix_fragment_id_decode(b, &back), -EINVAL);

	struct mix_fragment f = { 77, 3, 2, 0, 0, NULL, 0 };
	struct mix_fragment_id fid = mix_fragment_id_of(&f);
	cr_assert_eq(fid.set_id, 77);
	cr_assert_eq(fid.position, 2);
}

/* ---- message padding ---- */

/* Nym's number_of_required_fragments(len, pp) in terms of our layout, which counts the
 * mandatory 0x01 itself: (fragments, spare bytes in the last one). */
static void nym_required(size_t len, size_t pp, size_t *frags, size_t *space)
{
	size_t padded;
	cr_assert_eq(mix_fragment_message_layout(len - 1, pp, &padded, frags), 0);
	cr_assert_geq(padded, len);
	*space = padded - len;
}

/* The cases of nymtech/nym chunking/src/lib.rs calculating_number_of_required_fragments. */
Test(mix_fragment, layout_matches_nym)
{
	static const size_t pps[] = { 17, 1611 - 19, 20, 42, 10000, PP_REGULAR };
	for (size_t p = 0; p < sizeof(pps) / sizeof(pps[0]); p++) {
		size_t pp = pps[p];
		size_t U = pp - 7, L = pp - 10, S = 255;
		size_t edge = 255 * U - 3, middle = 255 * U - 6;
		const struct {
			size_t len, frags, space;
		} c[] = {
			{ U - 5, 1, 5 },
			{ U, 1, 0 },
			{ U + 1, 2, U - 1 },
			{ 2 * U, 2, 0 },
			{ 42 * U - 5, 42, 5 },
			{ 42 * U, 42, 0 },
			{ edge + L - 1, S + 1, 1 },
			{ edge + L, S + 1, 0 },
			{ edge + L + 41 * U - 5, S + 42, 5 },
			{ edge + L + 41 * U, S + 42, 0 },
			{ edge + 8 * middle + L - 1, 9 * S + 1, 1 },
			{ edge + 8 * middle + L, 9 * S + 1, 0 },
			{ edge + 8 * middle + L + 41 * U - 5, 9 * S + 42, 5 },
			{ edge + 8 * middle + L + 41 * U, 9 * S + 42, 0 },
		};
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			size_t frags, space;
			nym_required(c[i].len, pp, &frags, &space);
			cr_assert_eq(frags, c[i].frags, "pp %zu case %zu", pp, i);
			cr_assert_eq(space, c[i].space, "pp %zu case %zu", pp, i);
		}
	}
	size_t padded, frags;
	cr_assert_eq(mix_fragment_message_layout(10, 10, &padded, &frags), -EINVAL);
	cr_assert_eq(mix_fragment_message_layout(SIZE_MAX, PP_REGULAR, &padded, &frags), -EINVAL);
}

Test(mix_fragment, pad_and_unpad)
{
	uint8_t body[5000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 1);
	static const size_t lens[] = { 0, 1, 1602, 1603, 1604, 5000 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t out[4 * 1604];
		size_t n, body_len, padded, frags;
		enum mix_message_type type;
		cr_assert_eq(mix_fragment_message_pad(MIX_MESSAGE_REPLIABLE, body, lens[i], PP_REGULAR,
						      out, sizeof(out), &n),
			     0);
		cr_assert_eq(mix_fragment_message_layout(lens[i] + 1, PP_REGULAR, &padded, &frags),
			     0);
		cr_assert_eq(n, padded);
		cr_assert_eq(n % 1604, 0, "a single set fills whole unlinked fragments");
		cr_assert_eq(n / 1604, frags);
		cr_assert_eq(out[0], MIX_MESSAGE_REPLIABLE);
		cr_assert_eq(memcmp(out + 1, body, lens[i]), 0);
		cr_assert_eq(out[1 + lens[i]], 1);
		for (size_t k = 2 + lens[i]; k < n; k++)
			cr_assert_eq(out[k], 0);
		cr_assert_eq(mix_fragment_message_unpad(out, n, &type, &body_len), 0);
		cr_assert_eq(type, MIX_MESSAGE_REPLIABLE);
		cr_assert_eq(body_len, lens[i]);
	}
	/* 1602 bytes of body + type + marker exactly fill one fragment. */
	size_t padded, frags;
	cr_assert_eq(mix_fragment_message_layout(1602 + 1, PP_REGULAR, &padded, &frags), 0);
	cr_assert_eq(frags, 1);
	cr_assert_eq(padded, 1604);

	uint8_t out[16];
	size_t n;
	cr_assert_eq(mix_fragment_message_pad(3, body, 1, PP_REGULAR, out, 16, &n), -EINVAL);
	cr_assert_eq(mix_fragment_message_pad(0, body, 1, PP_REGULAR, out, 16, &n), -ENOSPC);
}

Test(mix_fragment, unpad_refuses_malformed)
{
	enum mix_message_type type;
	size_t len;
	uint8_t none[4] = { 0, 0, 0, 0 };
	uint8_t only_marker[3] = { 1, 0, 0 };
	uint8_t bad_type[4] = { 3, 9, 1, 0 };
	cr_assert_eq(mix_fragment_message_unpad(none, 4, &type, &len), -EINVAL);
	cr_assert_eq(mix_fragment_message_unpad(none, 0, &type, &len), -EINVAL);
	/* A plain message with an empty body but the type byte equal to the marker is [1]:
	 * nothing before the last 0x01. */
	cr_assert_eq(mix_fragment_message_unpad(only_marker, 3, &type, &len), -EINVAL);
	cr_assert_eq(mix_fragment_message_unpad(bad_type, 4, &type, &len), -EINVAL);
	/* The last 0x01 wins, even inside the body. */
	uint8_t last[6] = { 0, 1, 5, 1, 0, 0 };
	cr_assert_eq(mix_fragment_message_unpad(last, 6, &type, &len), 0);
	cr_assert_eq(len, 2);
}

/* ---- fragmenter ---- */

struct fragments {
	uint8_t **bytes;
	size_t *len;
	struct mix_fragment_id *ids;
	size_t n;
};

static void fragment_all(const uint8_t *msg, size_t len, size_t pp, uint8_t seed,
			 struct fragments *out)
{
	struct test_rng tr;
	test_rng_init(&tr, seed);
	struct nym_rng rng = test_rng_source(&tr);
	struct mix_fragmenter f;
	cr_assert_eq(mix_fragmenter_init(&f, msg, len, pp, &rng), 0);
	size_t total = mix_fragmenter_total(&f);
	out->bytes = calloc(total, sizeof(*out->bytes));
	out->len = calloc(total, sizeof(*out->len));
	out->ids = calloc(total, sizeof(*out->ids));
	out->n = 0;
	for (;;) {
		uint8_t *buf = malloc(pp);
		size_t n;
		int r = mix_fragmenter_next(&f, buf, pp, &n, &out->ids[out->n]);
		if (r == -ENODATA) {
			free(buf);
			break;
		}
		cr_assert_eq(r, 0);
		cr_assert_lt(out->n, total);
		out->bytes[out->n] = buf;
		out->len[out->n] = n;
		out->n++;
	}
	cr_assert_eq(out->n, total);
	cr_assert_eq(mix_fragmenter_next(&f, NULL, 0, NULL, NULL), -ENODATA);
}

static void fragments_free(struct fragments *fr)
{
	for (size_t i = 0; i < fr->n; i++)
		free(fr->bytes[i]);
	free(fr->bytes);
	free(fr->len);
	free(fr->ids);
}

static uint8_t *padded_message(size_t body_len, size_t pp, size_t *len, uint8_t salt)
{
	uint8_t *body = malloc(body_len ? body_len : 1);
	for (size_t i = 0; i < body_len; i++)
		body[i] = (uint8_t)(i * 131 + salt + (i >> 9));
	size_t padded, frags;
	cr_assert_eq(mix_fragment_message_layout(body_len + 1, pp, &padded, &frags), 0);
	uint8_t *msg = malloc(padded);
	cr_assert_eq(mix_fragment_message_pad(MIX_MESSAGE_PLAIN, body, body_len, pp, msg, padded,
					      len),
		     0);
	free(body);
	return msg;
}

Test(mix_fragment, single_set_structure)
{
	size_t len;
	uint8_t *msg = padded_message(10000, PP_REGULAR, &len, 1);
	struct fragments fr;
	fragment_all(msg, len, PP_REGULAR, 5, &fr);
	cr_assert_eq(fr.n, 7); /* ceil(10002 / 1604) */
	size_t off = 0;
	for (size_t i = 0; i < fr.n; i++) {
		struct mix_fragment f;
		cr_assert_eq(fr.len[i], PP_REGULAR, "padded messages fill every packet");
		cr_assert_eq(mix_fragment_decode(fr.bytes[i], fr.len[i], &f), 0);
		cr_assert_eq(f.total, 7);
		cr_assert_eq(f.position, i + 1);
		cr_assert_eq(f.prev_set_id, 0);
		cr_assert_eq(f.next_set_id, 0);
		cr_assert_eq(f.set_id, fr.ids[0].set_id);
		cr_assert_eq(fr.ids[i].position, i + 1);
		cr_assert_eq(f.data_len, 1604);
		cr_assert_eq(memcmp(f.data, msg + off, f.data_len), 0);
		off += f.data_len;
	}
	cr_assert_eq(off, len);
	fragments_free(&fr);
	free(msg);
}

/* Three chained sets: the first is post-linked, the middle two-way linked, the last
 * pre-linked; linked fragments carry 1601 bytes, all others 1604 (Nym's set.rs). */
Test(mix_fragment, linked_sets_structure)
{
	size_t U = 1604, L = 1601;
	size_t body = (255 * U - 3) + (255 * U - 6) + 1000;
	size_t len;
	uint8_t *msg = padded_message(body, PP_REGULAR, &len, 2);
	struct fragments fr;
	fragment_all(msg, len, PP_REGULAR, 6, &fr);
	cr_assert_eq(fr.n, 2 * 255 + 1);
	int32_t ids[3];
	size_t off = 0;
	for (size_t i = 0; i < fr.n; i++) {
		struct mix_fragment f;
		size_t set = i / 255, pos = i % 255 + 1;
		cr_assert_eq(fr.len[i], PP_REGULAR);
		cr_assert_eq(mix_fragment_decode(fr.bytes[i], fr.len[i], &f), 0);
		if (pos == 1)
			ids[set] = f.set_id;
		cr_assert_eq(f.set_id, ids[set]);
		cr_assert_eq(f.position, pos);
		cr_assert_eq(f.total, set < 2 ? 255 : 1);
		bool prev = pos == 1 && set > 0, next = pos == 255 && set < 2;
		cr_assert_eq(f.prev_set_id != 0, prev, "fragment %zu", i);
		cr_assert_eq(f.next_set_id != 0, next, "fragment %zu", i);
		if (prev)
			cr_assert_eq(f.prev_set_id, ids[set - 1]);
		cr_assert_eq(f.data_len, prev || next ? L : U, "fragment %zu", i);
		cr_assert_eq(memcmp(f.data, msg + off, f.data_len), 0);
		off += f.data_len;
	}
	cr_assert_eq(off, len);
	/* Each set's last fragment points at the next set's id. */
	for (size_t s = 0; s < 2; s++) {
		struct mix_fragment f;
		cr_assert_eq(mix_fragment_decode(fr.bytes[s * 255 + 254], PP_REGULAR, &f), 0);
		cr_assert_eq(f.next_set_id, ids[s + 1]);
	}
	cr_assert_neq(ids[0], ids[1]);
	cr_assert_neq(ids[1], ids[2]);
	fragments_free(&fr);
	free(msg);
}

Test(mix_fragment, unpadded_input_short_last_fragment)
{
	/* The fragmenter takes any bytes: the last fragment is then short, as in Nym. */
	uint8_t msg[100];
	memset(msg, 0x5a, sizeof(msg));
	struct fragments fr;
	fragment_all(msg, sizeof(msg), 40, 7, &fr);
	cr_assert_eq(fr.n, 4); /* 33 + 33 + 33 + 1 */
	cr_assert_eq(fr.len[3], 7 + 1);
	fragments_free(&fr);

	struct mix_fragmenter f;
	cr_assert_eq(mix_fragmenter_init(&f, msg, 0, 40, NULL), -EINVAL);
	cr_assert_eq(mix_fragmenter_init(&f, msg, 10, 10, NULL), -EINVAL);
	cr_assert_eq(mix_fragmenter_init(&f, msg, 10, 40, NULL), 0);
	uint8_t small[8];
	size_t n;
	cr_assert_eq(mix_fragmenter_next(&f, small, sizeof(small), &n, NULL), -ENOSPC);
}

/* ---- reassembly ---- */

static void shuffle(size_t *idx, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = n; i > 1; i--) {
		seed = seed * 1103515245u + 12345u;
		size_t j = (seed >> 8) % i;
		size_t t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

static struct mix_reassembly *new_reassembly(size_t max_sets, size_t max_bytes, uint64_t timeout)
{
	struct mix_reassembly_config cfg = {
		.max_sets = max_sets, .max_bytes = max_bytes, .timeout_ns = timeout
	};
	struct mix_reassembly *r;
	cr_assert_eq(mix_reassembly_new(&cfg, &r), 0);
	return r;
}

/* Feeds fragments in the given order; expects the message to complete exactly at the last
 * new fragment and to equal the original bytes. */
static void feed_and_check(struct mix_reassembly *r, const struct fragments *fr, const size_t *order,
			   size_t n, const uint8_t *msg, size_t len, uint64_t now)
{
	size_t completed = 0;
	for (size_t i = 0; i < n; i++) {
		struct mix_reassembly_message m;
		cr_assert_eq(mix_reassembly_add_bytes(r, fr->bytes[order[i]], fr->len[order[i]], now,
						      &m),
			     0);
		if (m.data) {
			completed++;
			cr_assert_eq(m.len, len);
			cr_assert_eq(memcmp(m.data, msg, len), 0, "reassembled bytes differ");
			enum mix_message_type type;
			size_t body_len;
			cr_assert_eq(mix_fragment_message_unpad(m.data, m.len, &type, &body_len), 0);
			free(m.data);
		}
	}
	cr_assert_eq(completed, 1);
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 0, "all sets freed after completion");
	cr_assert_eq(st.bytes, 0);
}

Test(mix_reassembly, in_order_reversed_shuffled)
{
	size_t len;
	uint8_t *msg = padded_message(50000, PP_REGULAR, &len, 3);
	struct fragments fr;
	fragment_all(msg, len, PP_REGULAR, 8, &fr);
	size_t *order = calloc(fr.n, sizeof(*order));
	struct mix_reassembly *r = new_reassembly(0, 0, 0);

	for (size_t i = 0; i < fr.n; i++)
		order[i] = i;
	feed_and_check(r, &fr, order, fr.n, msg, len, 1);
	for (size_t i = 0; i < fr.n; i++)
		order[i] = fr.n - 1 - i;
	/* The same fragments again would be duplicates of a completed set: use new ids. */
	fragments_free(&fr);
	fragment_all(msg, len, PP_REGULAR, 9, &fr);
	feed_and_check(r, &fr, order, fr.n, msg, len, 2);
	fragments_free(&fr);
	fragment_all(msg, len, PP_REGULAR, 10, &fr);
	shuffle(order, fr.n, 77);
	feed_and_check(r, &fr, order, fr.n, msg, len, 3);

	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.messages, 3);
	cr_assert_eq(st.fragments, 3 * fr.n);
	mix_reassembly_free(r);
	fragments_free(&fr);
	free(order);
	free(msg);
}

Test(mix_reassembly, duplicates_are_ignored)
{
	size_t len;
	uint8_t *msg = padded_message(20000, PP_REGULAR, &len, 4);
	struct fragments fr;
	fragment_all(msg, len, PP_REGULAR, 11, &fr);
	/* Every fragment twice, shuffled; the second copy of the last one arrives after
	 * completion. */
	size_t n2 = 2 * fr.n;
	size_t *order = malloc(n2 * sizeof(*order));
	shuffle(order, n2, 5);
	for (size_t i = 0; i < n2; i++)
		order[i] %= fr.n;
	struct mix_reassembly *r = new_reassembly(0, 0, 0);
	size_t completed = 0;
	for (size_t i = 0; i < n2; i++) {
		struct mix_reassembly_message m;
		cr_assert_eq(mix_reassembly_add_bytes(r, fr.bytes[order[i]], fr.len[order[i]], 1, &m),
			     0);
		if (m.data) {
			completed++;
			cr_assert_eq(m.len, len);
			cr_assert_eq(memcmp(m.data, msg, len), 0);
			free(m.data);
		}
	}
	cr_assert_eq(completed, 1);
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.duplicates, fr.n);
	cr_assert_eq(st.fragments, fr.n);
	cr_assert_eq(st.sets, 0, "late duplicates must not start a new set");
	mix_reassembly_free(r);
	fragments_free(&fr);
	free(order);
	free(msg);
}

Test(mix_reassembly, lost_fragment_times_out_and_frees)
{
	size_t len;
	uint8_t *msg = padded_message(30000, PP_REGULAR, &len, 5);
	struct fragments fr;
	fragment_all(msg, len, PP_REGULAR, 12, &fr);
	const uint64_t timeout = 5000000000ull;
	struct mix_reassembly *r = new_reassembly(0, 0, timeout);
	uint64_t t = 1000;
	for (size_t i = 0; i < fr.n; i++) {
		if (i == fr.n / 2)
			continue; /* lost */
		struct mix_reassembly_message m;
		cr_assert_eq(mix_reassembly_add_bytes(r, fr.bytes[i], fr.len[i], t, &m), 0);
		cr_assert_null(m.data);
		t += 1000000; /* 1 ms apart */
	}
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 1);
	cr_assert_geq(st.bytes, (fr.n - 1) * 1604);

	/* Idle for just under the timeout: kept. */
	uint64_t last = t - 1000000;
	cr_assert_eq(mix_reassembly_expire(r, last + timeout - 1), 0);
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 1);
	/* At the timeout: freed, every byte of it. */
	cr_assert_eq(mix_reassembly_expire(r, last + timeout), 1);
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 0);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(st.expired_sets, 1);
	cr_assert_eq(st.messages, 0);

	/* The missing fragment arriving late starts a fresh set, which also times out, this
	 * time through add() expiring it. */
	struct mix_reassembly_message m;
	cr_assert_eq(mix_reassembly_add_bytes(r, fr.bytes[fr.n / 2], fr.len[fr.n / 2], t + timeout,
					      &m),
		     0);
	cr_assert_null(m.data);
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 1);
	struct mix_fragment other = { 99, 1, 1, 0, 0, msg, 10 };
	cr_assert_eq(mix_reassembly_add(r, &other, t + 3 * timeout, &m), 0);
	cr_assert_not_null(m.data); /* a one-fragment message completes at once */
	free(m.data);
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 0);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(st.expired_sets, 2);
	mix_reassembly_free(r);
	fragments_free(&fr);
	free(msg);
}

Test(mix_reassembly, long_message_across_linked_sets)
{
	/* Four sets; delivered shuffled, so sets complete in any order and the chain is only
	 * whole at the very last fragment. */
	size_t body = 3 * 255 * 1604 + 777;
	size_t len;
	uint8_t *msg = padded_message(body, PP_REGULAR, &len, 6);
	struct fragments fr;
	fragment_all(msg, len, PP_REGULAR, 13, &fr);
	cr_assert_eq(fr.n, 3 * 255 + 1);
	size_t *order = calloc(fr.n, sizeof(*order));
	struct mix_reassembly *r = new_reassembly(0, 0, 0);
	shuffle(order, fr.n, 1234);
	feed_and_check(r, &fr, order, fr.n, msg, len, 1);

	/* Sets complete out of chain order: all of the last set first, then the rest. */
	fragments_free(&fr);
	fragment_all(msg, len, PP_REGULAR, 14, &fr);
	for (size_t i = 0; i < fr.n; i++)
		order[i] = (i + 3 * 255) % fr.n;
	feed_and_check(r, &fr, order, fr.n, msg, len, 2);

	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.messages, 2);
	mix_reassembly_free(r);
	fragments_free(&fr);
	free(order);
	free(msg);
}

Test(mix_reassembly, caps_evict_oldest_and_count)
{
	struct mix_reassembly *r = new_reassembly(4, 0, 0);
	uint8_t data[100] = { 0 };
	struct mix_reassembly_message m;
	/* Six incomplete sets into room for four: the two oldest go. */
	for (int32_t id = 1; id <= 6; id++) {
		struct mix_fragment f = { id, 2, 1, 0, 0, data, sizeof(data) };
		cr_assert_eq(mix_reassembly_add(r, &f, (uint64_t)id, &m), 0);
	}
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 4);
	cr_assert_eq(st.evicted_sets, 2);
	/* Set 1 was evicted: its second fragment starts over and does not complete... */
	struct mix_fragment f1 = { 1, 2, 2, 0, 0, data, sizeof(data) };
	cr_assert_eq(mix_reassembly_add(r, &f1, 10, &m), 0);
	cr_assert_null(m.data);
	/* ...while set 6 is still whole. */
	struct mix_fragment f6 = { 6, 2, 2, 0, 0, data, sizeof(data) };
	cr_assert_eq(mix_reassembly_add(r, &f6, 11, &m), 0);
	cr_assert_not_null(m.data);
	cr_assert_eq(m.len, 200);
	free(m.data);
	mix_reassembly_free(r);

	/* A byte cap: a fragment bigger than the whole budget is refused and counted. */
	r = new_reassembly(0, 4096, 0);
	uint8_t big[5000] = { 0 };
	struct mix_fragment fb = { 50, 2, 1, 0, 0, big, sizeof(big) };
	cr_assert_eq(mix_reassembly_add(r, &fb, 1, &m), -ENOBUFS);
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.dropped, 1);
	cr_assert_eq(st.sets, 0);
	cr_assert_eq(st.bytes, 0);
	/* Sets that together exceed the budget push out the oldest. */
	uint8_t mid[1500] = { 0 };
	for (int32_t id = 1; id <= 5; id++) {
		struct mix_fragment f = { id, 2, 1, 0, 0, mid, sizeof(mid) };
		cr_assert_eq(mix_reassembly_add(r, &f, (uint64_t)id, &m), 0);
		mix_reassembly_get_stats(r, &st);
		cr_assert_leq(st.bytes, 4096);
	}
	cr_assert_geq(st.evicted_sets, 3);
	mix_reassembly_free(r);
}

Test(mix_reassembly, inconsistent_fragments_are_refused)
{
	struct mix_reassembly *r = new_reassembly(0, 0, 0);
	uint8_t data[8] = { 1 };
	struct mix_reassembly_message m;
	struct mix_fragment a = { 9, 3, 1, 0, 0, data, 8 };
	struct mix_fragment b = { 9, 4, 2, 0, 0, data, 8 }; /* another total */
	struct mix_fragment bad = { 9, 3, 4, 0, 0, data, 8 };
	cr_assert_eq(mix_reassembly_add(r, &a, 1, &m), 0);
	cr_assert_eq(mix_reassembly_add(r, &b, 1, &m), -EINVAL);
	cr_assert_eq(mix_reassembly_add(r, &bad, 1, &m), -EINVAL);
	uint8_t junk[3] = { 1, 2, 3 };
	cr_assert_eq(mix_reassembly_add_bytes(r, junk, 3, 1, &m), -EMSGSIZE);
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.malformed, 3);
	cr_assert_eq(st.fragments, 1);
	mix_reassembly_free(r);
}

/* Forged links that form a cycle of complete sets must neither hang nor complete. */
Test(mix_reassembly, forged_link_cycle)
{
	struct mix_reassembly *r = new_reassembly(0, 0, 0);
	uint8_t data[8] = { 0 };
	struct mix_reassembly_message m;
	/* Sets A=1 and B=2, each 255 fragments, A.next=B, B.prev=A, B.next=A, A.prev=B. */
	for (int32_t id = 1; id <= 2; id++) {
		int32_t other = 3 - id;
		for (unsigned pos = 1; pos <= 255; pos++) {
			struct mix_fragment f = { id, 255, (uint8_t)pos, pos == 1 ? other : 0,
						  pos == 255 ? other : 0, data, 8 };
			cr_assert_eq(mix_reassembly_add(r, &f, 1, &m), 0);
			cr_assert_null(m.data);
		}
	}
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	cr_assert_eq(st.sets, 2);
	cr_assert_eq(st.messages, 0);
	mix_reassembly_free(r);
}
