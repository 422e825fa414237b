/* The IP packet router's formats (lib/ipr): the bundle codec, address pairs and their
 * allocation, and every request and response written out by hand, round-tripped and
 * refused when malformed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "ipr/ipr_addr.h"
#include "ipr/ipr_bundle.h"
#include "ipr/ipr_msg.h"
#include "sphinx/sphinx_surb.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(ipr, .init = setup);

/* ---- bundles ---- */

Test(ipr, bundle_bytes_and_limit)
{
	uint8_t buf[16];
	struct ipr_bundle_builder b;
	static const uint8_t p1[] = { 0xaa, 0xbb, 0xcc }, p2[] = { 0xdd }, p3[] = { 1, 2, 3, 4, 5 };
	cr_assert_eq(ipr_bundle_init(&b, buf, sizeof(buf), 13), 0);
	cr_assert_eq(ipr_bundle_add(&b, p1, 3), 0);
	cr_assert_eq(ipr_bundle_add(&b, p2, 1), 0);
	static const uint8_t want[] = { 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0x00, 0x01, 0xdd };
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
	cr_assert_eq(b.count, 2);
	/* 8 used of 13: a 3-byte packet fills it exactly, a 4-byte one does not fit. */
	cr_assert_not(ipr_bundle_fits(&b, 4));
	cr_assert_eq(ipr_bundle_add(&b, p3, 4), -ENOSPC);
	cr_assert_eq(b.len, 8);
	cr_assert(ipr_bundle_fits(&b, 3));
	cr_assert_eq(ipr_bundle_add(&b, p3, 3), 0);
	cr_assert_eq(b.len, 13);
	cr_assert_not(ipr_bundle_fits(&b, 1));
	cr_assert_eq(ipr_bundle_add(&b, p2, 1), -ENOSPC);
	size_t count;
	cr_assert_eq(ipr_bundle_validate(buf, b.len, &count), 0);
	cr_assert_eq(count, 3);
	ipr_bundle_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.count, 0);
	cr_assert_eq(ipr_bundle_add(&b, p2, 0), -EMSGSIZE);
	cr_assert_not(ipr_bundle_fits(&b, 0));

	cr_assert_eq(ipr_bundle_init(&b, buf, sizeof(buf), 2), -EINVAL);
	cr_assert_eq(ipr_bundle_init(&b, buf, 10, 11), -EINVAL);
}

Test(ipr, bundle_oversized_packet_goes_alone)
{
	static uint8_t buf[IPR_BUNDLE_MAX_SINGLE];
	static uint8_t big[IPR_BUNDLE_MAX_PACKET + 1];
	struct ipr_bundle_builder b;
	memset(big, 0x11, sizeof(big));
	cr_assert_eq(ipr_bundle_init(&b, buf, sizeof(buf), 1500), 0);
	cr_assert_eq(ipr_bundle_add(&b, big, 10), 0);
	/* Too big for the limit: the owner sends what it has, then it goes alone. */
	cr_assert_eq(ipr_bundle_add(&b, big, 1499), -ENOSPC);
	ipr_bundle_reset(&b);
	cr_assert(ipr_bundle_fits(&b, 1499));
	cr_assert_eq(ipr_bundle_add(&b, big, 1499), 0);
	cr_assert_eq(b.len, 1501);
	cr_assert_not(ipr_bundle_fits(&b, 1));
	cr_assert_eq(ipr_bundle_add(&b, big, 1), -ENOSPC);
	ipr_bundle_reset(&b);
	cr_assert_eq(ipr_bundle_add(&b, big, IPR_BUNDLE_MAX_PACKET), 0);
	cr_assert_eq(b.len, IPR_BUNDLE_MAX_SINGLE);
	size_t count;
	cr_assert_eq(ipr_bundle_validate(buf, b.len, &count), 0);
	cr_assert_eq(count, 1);
	ipr_bundle_reset(&b);
	cr_assert_eq(ipr_bundle_add(&b, big, IPR_BUNDLE_MAX_PACKET + 1), -EMSGSIZE);

	/* A builder without room for the largest packet refuses it rather than overflow. */
	uint8_t small[1600];
	cr_assert_eq(ipr_bundle_init(&b, small, sizeof(small), 1500), 0);
	cr_assert_eq(ipr_bundle_add(&b, big, 1598), 0);
	ipr_bundle_reset(&b);
	cr_assert_eq(ipr_bundle_add(&b, big, 1599), -EMSGSIZE);
	cr_assert_eq(b.len, 0);
}

Test(ipr, bundle_iterator_refuses_malformed)
{
	static const uint8_t good[] = { 0x00, 0x02, 0x45, 0x00, 0x00, 0x01, 0x60 };
	struct ipr_bundle_iter it;
	const uint8_t *p;
	size_t n;
	ipr_bundle_iter_init(&it, good, sizeof(good));
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(p, good + 2);
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0], 0x60);
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), -ENOENT);
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), -ENOENT);

	static const struct {
		const char *what;
		uint8_t bytes[8];
		size_t len;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		{ "lone byte", { 0x00 }, 1 },
		{ "prefix only", { 0x00, 0x01 }, 2 },
		{ "zero length", { 0x00, 0x00, 0xaa }, 3 },
		{ "length past the end", { 0x00, 0x03, 0xaa, 0xbb }, 4 },
		{ "trailing byte", { 0x00, 0x01, 0xaa, 0x00 }, 4 },
		{ "zero length after a good one", { 0x00, 0x01, 0xaa, 0x00, 0x00 }, 5 },
		{ "huge length", { 0xff, 0xff, 0xaa }, 3 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t count;
		cr_assert_eq(ipr_bundle_validate(bad[i].bytes, bad[i].len, &count), -EBADMSG, "%s",
			     bad[i].what);
	}
	/* The error is sticky: nothing after a bad length is handed out. */
	static const uint8_t tail[] = { 0x00, 0x01, 0xaa, 0x00, 0x00, 0x00, 0x01, 0xbb };
	ipr_bundle_iter_init(&it, tail, sizeof(tail));
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), 0);
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), -EBADMSG);
	cr_assert_eq(ipr_bundle_next(&it, &p, &n), -EBADMSG);
}

Test(ipr, bundle_build_then_read_many)
{
	static uint8_t buf[2000];
	struct ipr_bundle_builder b;
	uint8_t pkt[300];
	size_t sizes[64], added = 0;
	cr_assert_eq(ipr_bundle_init(&b, buf, sizeof(buf), 1500), 0);
	for (size_t i = 0; i < 64; i++) {
		sizes[i] = 1 + (i * 37) % 300;
		memset(pkt, (int)i, sizes[i]);
		if (ipr_bundle_add(&b, pkt, sizes[i]) != 0)
			break;
		added++;
	}
	cr_assert_gt(added, 5);
	cr_assert_leq(b.len, 1500);
	cr_assert_gt(b.len + 2 + sizes[added], 1500); /* stopped only because it was full */
	struct ipr_bundle_iter it;
	const uint8_t *p;
	size_t n, seen = 0;
	ipr_bundle_iter_init(&it, buf, b.len);
	while (ipr_bundle_next(&it, &p, &n) == 0) {
		cr_assert_eq(n, sizes[seen]);
		cr_assert_eq(p[0], seen);
		cr_assert_eq(p[n - 1], seen);
		seen++;
	}
	cr_assert_eq(seen, added);
}

/* ---- address pairs ---- */

Test(ipr, address_pairs)
{
	struct ipr_addr_pair a;
	static const struct {
		uint16_t r;
		uint8_t v4[4];
	} want[] = {
		{ 2, { 10, 0, 0, 2 } },
		{ 255, { 10, 0, 0, 255 } },
		{ 256, { 10, 0, 1, 0 } },
		{ 0x1234, { 10, 0, 0x12, 0x34 } },
		{ 65534, { 10, 0, 255, 254 } },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint8_t v6[16] = { 0xfc, 0x00 };
		v6[14] = (uint8_t)(want[i].r >> 8);
		v6[15] = (uint8_t)want[i].r;
		cr_assert_eq(ipr_addr_from_index(want[i].r, &a), 0);
		cr_assert_arr_eq(a.v4, want[i].v4, 4);
		cr_assert_arr_eq(a.v6, v6, 16);
		uint16_t r4 = 0, r6 = 0;
		cr_assert_eq(ipr_addr_index_v4(a.v4, &r4), 0);
		cr_assert_eq(ipr_addr_index_v6(a.v6, &r6), 0);
		cr_assert_eq(r4, want[i].r);
		cr_assert_eq(r6, want[i].r);
	}
	cr_assert_eq(ipr_addr_from_index(0, &a), -EINVAL);
	cr_assert_eq(ipr_addr_from_index(1, &a), -EINVAL);
	cr_assert_eq(ipr_addr_from_index(65535, &a), -EINVAL);
	ipr_addr_tun(&a);
	static const uint8_t tun4[4] = { 10, 0, 0, 1 }, tun6[16] = { 0xfc, [15] = 1 };
	cr_assert_arr_eq(a.v4, tun4, 4);
	cr_assert_arr_eq(a.v6, tun6, 16);
	uint16_t r;
	cr_assert_eq(ipr_addr_index_v4(tun4, &r), -EINVAL);
	cr_assert_eq(ipr_addr_index_v6(tun6, &r), -EINVAL);
	static const uint8_t others4[][4] = { { 10, 1, 0, 2 }, { 11, 0, 0, 2 }, { 10, 0, 255, 255 },
					      { 10, 0, 0, 0 } };
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(ipr_addr_index_v4(others4[i], &r), -EINVAL);
	uint8_t v6[16] = { 0xfc, [15] = 2 };
	cr_assert_eq(ipr_addr_index_v6(v6, &r), 0);
	v6[13] = 1; /* fc00::1:2 is outside the /112 */
	cr_assert_eq(ipr_addr_index_v6(v6, &r), -EINVAL);
	v6[13] = 0;
	v6[1] = 1; /* fc01::2 */
	cr_assert_eq(ipr_addr_index_v6(v6, &r), -EINVAL);
}

/* A random source that plays back a script of bytes. */
struct script {
	const uint8_t *bytes;
	size_t len, pos;
};

static void script_fill(void *ctx, uint8_t *out, size_t len)
{
	struct script *s = ctx;
	for (size_t i = 0; i < len; i++) {
		cr_assert_lt(s->pos, s->len, "script ran out");
		out[i] = s->bytes[s->pos++];
	}
}

struct taken_set {
	uint16_t taken[8];
	size_t n;
	unsigned calls;
};

static bool is_taken(const struct ipr_addr_pair *pair, uint16_t r, void *ctx)
{
	struct taken_set *t = ctx;
	uint16_t again;
	cr_assert_eq(ipr_addr_index_v4(pair->v4, &again), 0);
	cr_assert_eq(again, r);
	t->calls++;
	for (size_t i = 0; i < t->n; i++)
		if (t->taken[i] == r)
			return true;
	return false;
}

static bool all_taken(const struct ipr_addr_pair *pair, uint16_t r, void *ctx)
{
	(void)pair;
	(void)r;
	(*(unsigned *)ctx)++;
	return true;
}

Test(ipr, allocation_rule)
{
	/* 0x0001 and 0xffff are outside 2..65534 and drawn again without counting; 0x1234 is
	 * taken, 0x0203 is free. */
	static const uint8_t bytes[] = { 0x00, 0x01, 0x12, 0x34, 0xff, 0xff, 0x02, 0x03 };
	struct script s = { bytes, sizeof(bytes), 0 };
	struct nym_rng rng = { script_fill, &s };
	struct taken_set t = { .taken = { 0x1234 }, .n = 1 };
	struct ipr_addr_pair a;
	uint16_t r = 0;
	cr_assert_eq(ipr_addr_allocate(&rng, is_taken, &t, &a, &r), 0);
	cr_assert_eq(r, 0x0203);
	cr_assert_eq(t.calls, 2);
	static const uint8_t v4[4] = { 10, 0, 2, 3 };
	cr_assert_arr_eq(a.v4, v4, 4);
	cr_assert_eq(a.v6[14], 2);
	cr_assert_eq(a.v6[15], 3);
	cr_assert_eq(s.pos, sizeof(bytes));

	/* Everything taken: exactly 100 tries, then no address. */
	unsigned calls = 0;
	cr_assert_eq(ipr_addr_allocate(NULL, all_taken, &calls, &a, &r), -EADDRNOTAVAIL);
	cr_assert_eq(calls, IPR_ADDR_ATTEMPTS);

	/* From the system's randomness, always inside the pool. */
	for (int i = 0; i < 200; i++) {
		struct taken_set none = { .n = 0 };
		cr_assert_eq(ipr_addr_allocate(NULL, is_taken, &none, &a, &r), 0);
		cr_assert_geq(r, 2);
		cr_assert_leq(r, 65534);
	}
}

/* ---- messages ---- */

static const uint8_t tag[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };

/* Encodes q, compares with want, decodes, re-encodes to the same bytes; a trailing byte is
 * refused, and so is every prefix when the kind has no open-ended field. */
static void request_known(const struct ipr_request *q, const uint8_t *want, size_t want_len,
			  struct ipr_request *back)
{
	static uint8_t out[8192], again[8192];
	size_t n, n2, elen;
	cr_assert_eq(ipr_request_encoded_len(q, &elen), 0);
	cr_assert_eq(ipr_request_encode(q, out, sizeof(out), &n), 0, "kind %d", q->kind);
	cr_assert_eq(n, elen);
	if (want) {
		cr_assert_eq(n, want_len, "kind %d: %zu bytes, want %zu", q->kind, n, want_len);
		cr_assert_arr_eq(out, want, want_len);
	}
	cr_assert_eq(ipr_request_decode(out, n, back), 0, "kind %d", q->kind);
	cr_assert_eq(ipr_request_encode(back, again, sizeof(again), &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_arr_eq(again, out, n);
	cr_assert_eq(ipr_request_encode(q, out, n - 1, &n2), -ENOSPC);
	struct ipr_request tmp;
	ipr_request_encode(q, out, sizeof(out), &n);
	out[n] = 0;
	if (q->kind != IPR_REQ_DATA) {
		cr_assert_eq(ipr_request_decode(out, n + 1, &tmp), -EBADMSG, "kind %d trailing", q->kind);
		for (size_t k = 0; k < n; k++)
			cr_assert_neq(ipr_request_decode(out, k, &tmp), 0, "kind %d prefix %zu", q->kind, k);
	}
}

static void response_known(const struct ipr_response *s, const uint8_t *want, size_t want_len,
			   struct ipr_response *back)
{
	static uint8_t out[8192], again[8192];
	size_t n, n2, elen;
	cr_assert_eq(ipr_response_encoded_len(s, &elen), 0);
	cr_assert_eq(ipr_response_encode(s, out, sizeof(out), &n), 0, "kind %d", s->kind);
	cr_assert_eq(n, elen);
	if (want) {
		cr_assert_eq(n, want_len, "kind %d: %zu bytes, want %zu", s->kind, n, want_len);
		cr_assert_arr_eq(out, want, want_len);
	}
	cr_assert_eq(ipr_response_decode(out, n, back), 0, "kind %d", s->kind);
	cr_assert_eq(ipr_response_encode(back, again, sizeof(again), &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_arr_eq(again, out, n);
	cr_assert_eq(ipr_response_encode(s, out, n - 1, &n2), -ENOSPC);
	struct ipr_response tmp;
	ipr_response_encode(s, out, sizeof(out), &n);
	out[n] = 0;
	if (s->kind != IPR_RESP_DATA) {
		cr_assert_eq(ipr_response_decode(out, n + 1, &tmp), -EBADMSG, "kind %d trailing", s->kind);
		for (size_t k = 0; k < n; k++)
			cr_assert_neq(ipr_response_decode(out, k, &tmp), 0, "kind %d prefix %zu", s->kind, k);
	}
}

Test(ipr, request_data_bytes)
{
	static const uint8_t bundle[] = { 0x00, 0x02, 0x45, 0x00 };
	struct ipr_request q = { .kind = IPR_REQ_DATA, .bundle = { bundle, sizeof(bundle) } }, back;
	memcpy(q.sender_tag, tag, 16);
	uint8_t want[21 + 4] = { 0x88, 0x01, 0x00 };
	memcpy(want + 3, tag, 16);
	want[19] = 0;
	want[20] = 0; /* no SURBs */
	memcpy(want + 21, bundle, 4);
	request_known(&q, want, sizeof(want), &back);
	cr_assert_arr_eq(back.sender_tag, tag, 16);
	cr_assert_eq(back.surb_count, 0);
	cr_assert_eq(back.bundle.len, 4);
	cr_assert_arr_eq(back.bundle.p, bundle, 4);
	cr_assert_eq(ipr_request_overhead(0, 0), 21);

	/* Malformed bundles, in a request or handed to the encoder. */
	uint8_t bad[sizeof(want) + 1];
	memcpy(bad, want, sizeof(want));
	bad[sizeof(want)] = 0x00; /* a lone trailing byte */
	cr_assert_eq(ipr_request_decode(bad, sizeof(bad), &back), -EBADMSG);
	cr_assert_eq(ipr_request_decode(want, 21, &back), -EBADMSG); /* empty */
	cr_assert_eq(ipr_request_decode(want, 24, &back), -EBADMSG); /* length past the end */
	bad[22] = 0;							/* zero length */
	cr_assert_eq(ipr_request_decode(bad, sizeof(want), &back), -EBADMSG);
	uint8_t out[64];
	size_t n;
	q.bundle.len = 3;
	cr_assert_eq(ipr_request_encode(&q, out, sizeof(out), &n), -EINVAL);
	q.bundle.len = 0;
	cr_assert_eq(ipr_request_encode(&q, out, sizeof(out), &n), -EINVAL);
}

Test(ipr, request_control_bytes)
{
	struct ipr_request q = { .kind = IPR_REQ_CONNECT,
				 .request_id = 0x0102030405060708ull,
				 .timestamp_ms = 1704113999500ull, /* 2024-01-01T12:59:59.5Z */
				 .has_buffer_timeout = true,
				 .buffer_timeout_ms = 20 },
			   back;
	memcpy(q.sender_tag, tag, 16);
	uint8_t want[21 + 25] = { 0x88, 0x01, 0x01 };
	memcpy(want + 3, tag, 16);
	static const uint8_t body[25] = {
		1,    2,    3,	  4,	5,    6,    7,	  8,	/* request id */
		0x00, 0x00, 0x01, 0x8c, 0xc5, 0x1c, 0x0e, 0x8c, /* 1704113999500 ms */
		0x01,					/* buffer timeout present */
		0,    0,    0,	  0,	0,    0,    0,	  20,	/* 20 ms */
	};
	memcpy(want + 21, body, 25);
	request_known(&q, want, sizeof(want), &back);
	cr_assert_eq(back.request_id, q.request_id);
	cr_assert_eq(back.timestamp_ms, q.timestamp_ms);
	cr_assert(back.has_buffer_timeout);
	cr_assert_eq(back.buffer_timeout_ms, 20);

	q.has_buffer_timeout = false;
	q.buffer_timeout_ms = 0;
	want[21 + 16] = 0;
	request_known(&q, want, 21 + 17, &back);
	cr_assert_not(back.has_buffer_timeout);
	want[21 + 16] = 2; /* neither absent nor present */
	cr_assert_eq(ipr_request_decode(want, 21 + 17, &back), -EINVAL);

	static const enum ipr_request_kind plain[] = { IPR_REQ_DISCONNECT, IPR_REQ_PING, IPR_REQ_HEALTH };
	for (size_t i = 0; i < 3; i++) {
		q = (struct ipr_request){ .kind = plain[i], .request_id = 0x0102030405060708ull,
					  .timestamp_ms = 1704113999500ull };
		memcpy(q.sender_tag, tag, 16);
		want[2] = (uint8_t)plain[i];
		request_known(&q, want, 21 + 16, &back);
		cr_assert_eq(back.kind, plain[i]);
		cr_assert_eq(back.request_id, q.request_id);
	}
}

Test(ipr, request_header_refusals)
{
	uint8_t m[21 + 16] = { 0x88, 0x01, IPR_REQ_PING };
	struct ipr_request q;
	cr_assert_eq(ipr_request_decode(m, sizeof(m), &q), 0);
	static const uint8_t versions[] = { 0x00, 0x07, 0x08, 0x09, 0x87, 0x89, 0xff };
	for (size_t i = 0; i < sizeof(versions); i++) {
		m[0] = versions[i];
		cr_assert_eq(ipr_request_decode(m, sizeof(m), &q), -EPROTONOSUPPORT);
	}
	m[0] = 0x88;
	m[1] = 0; /* Nym's network requester */
	cr_assert_eq(ipr_request_decode(m, sizeof(m), &q), -EINVAL);
	m[1] = 2; /* the authenticator */
	cr_assert_eq(ipr_request_decode(m, sizeof(m), &q), -EINVAL);
	m[1] = 1;
	m[2] = 6; /* unknown kind */
	cr_assert_eq(ipr_request_decode(m, sizeof(m), &q), -EINVAL);
	m[2] = IPR_REQ_SURBS; /* SURBs without any SURB */
	cr_assert_eq(ipr_request_decode(m, 21, &q), -EINVAL);
	m[2] = IPR_REQ_PING;
	m[19] = 0x01;
	m[20] = 0xf5; /* 501 SURBs */
	cr_assert_eq(ipr_request_decode(m, sizeof(m), &q), -EINVAL);
	cr_assert_eq(ipr_request_decode(m, 0, &q), -EBADMSG);

	struct ipr_request bad = { .kind = (enum ipr_request_kind)9 };
	uint8_t out[64];
	size_t n;
	cr_assert_eq(ipr_request_encode(&bad, out, sizeof(out), &n), -EINVAL);
	bad = (struct ipr_request){ .kind = IPR_REQ_SURBS };
	cr_assert_eq(ipr_request_encode(&bad, out, sizeof(out), &n), -EINVAL);
}

/* A real reply SURB: a 16-byte key and a SURB over `hops` fresh nodes. */
static size_t make_reply_surb(uint8_t *out, size_t hops, uint16_t version, uint8_t key_byte)
{
	struct sphinx_hop route[SPHINX_MAX_HOPS];
	struct sphinx_surb surb;
	uint8_t dest[32] = { 7 }, id[16] = { 0 };
	for (size_t i = 0; i < hops; i++) {
		struct nym_x25519_keypair kp;
		nym_x25519_generate(&kp);
		memcpy(route[i].public_key, kp.public_key, 32);
		memset(route[i].address, (int)(i + 1), 32);
		route[i].delay_ns = 0;
		nym_x25519_keypair_clear(&kp);
	}
	cr_assert_eq(sphinx_surb_create(&surb, route, hops, dest, id, version, NULL), 0);
	memset(out, key_byte, IPR_REPLY_KEY_LEN);
	int len = sphinx_surb_encode(&surb, out + IPR_REPLY_KEY_LEN, 4096);
	cr_assert_gt(len, 0);
	sphinx_surb_clear(&surb);
	return IPR_REPLY_KEY_LEN + (size_t)len;
}

Test(ipr, request_carries_surbs)
{
	static uint8_t surbs[3 * 2048];
	size_t each = make_reply_surb(surbs, 4, SPHINX_VERSION_259, 0xa1);
	cr_assert_eq(each, 16 + 348 + 32 + 4 * 16);
	cr_assert_eq(make_reply_surb(surbs + each, 4, SPHINX_VERSION_259, 0xa2), each);
	cr_assert_eq(make_reply_surb(surbs + 2 * each, 4, SPHINX_VERSION_259, 0xa3), each);
	struct ipr_request q = { .kind = IPR_REQ_SURBS, .surb_count = 3, .surb_len = each, .surbs = surbs },
			   back;
	memcpy(q.sender_tag, tag, 16);
	static uint8_t want[21 + 2 + 3 * 460];
	want[0] = 0x88;
	want[1] = 0x01;
	want[2] = 0x05;
	memcpy(want + 3, tag, 16);
	want[19] = 0x00;
	want[20] = 0x03; /* three SURBs */
	want[21] = 0x01;
	want[22] = 0xcc; /* of 460 bytes each */
	memcpy(want + 23, surbs, 3 * each);
	request_known(&q, want, sizeof(want), &back);
	cr_assert_eq(back.surb_count, 3);
	cr_assert_eq(back.surb_len, 460);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *s = ipr_request_surb(&back, i);
		cr_assert_eq(s[0], 0xa1 + i);
		struct sphinx_surb decoded;
		cr_assert_eq(sphinx_surb_decode(&decoded, s + IPR_REPLY_KEY_LEN, each - IPR_REPLY_KEY_LEN), 0);
		cr_assert_eq(decoded.hops, 4);
		sphinx_surb_clear(&decoded);
	}
	cr_assert_eq(ipr_request_overhead(3, 460), 21 + 2 + 1380);

	/* With a DATA bundle built in place behind them. */
	static uint8_t msg[4096];
	size_t off = ipr_request_overhead(3, each), n;
	struct ipr_bundle_builder b;
	static const uint8_t pkt[] = { 0x45, 0x00, 0x00, 0x14 };
	cr_assert_eq(ipr_bundle_init(&b, msg + off, sizeof(msg) - off, 1611 - off), 0);
	cr_assert_eq(ipr_bundle_add(&b, pkt, sizeof(pkt)), 0);
	q.kind = IPR_REQ_DATA;
	q.bundle = (struct ipr_bytes){ msg + off, b.len };
	cr_assert_eq(ipr_request_encode(&q, msg, sizeof(msg), &n), 0);
	cr_assert_eq(n, off + 6);
	cr_assert_eq(ipr_request_decode(msg, n, &back), 0);
	cr_assert_eq(back.surb_count, 3);
	cr_assert_eq(back.bundle.len, 6);
	cr_assert_arr_eq(back.bundle.p + 2, pkt, 4);

	/* v258 SURBs (payload keys) are carried too; a length no SURB has is refused. */
	size_t legacy = make_reply_surb(surbs, 2, SPHINX_VERSION_258, 0xb0);
	cr_assert_eq(legacy, 16 + 380 + 2 * 192);
	q = (struct ipr_request){ .kind = IPR_REQ_SURBS, .surb_count = 1, .surb_len = legacy, .surbs = surbs };
	request_known(&q, NULL, 0, &back);
	q.surb_len = legacy - 1;
	cr_assert_eq(ipr_request_encode(&q, msg, sizeof(msg), &n), -EINVAL);
	memcpy(msg, want, 23);
	msg[22] = 0xcb; /* 459 */
	cr_assert_eq(ipr_request_decode(msg, sizeof(want), &back), -EINVAL);
}

Test(ipr, reply_surb_lengths_match_sphinx)
{
	static uint8_t buf[2048];
	for (size_t len = 0; len < sizeof(buf); len++) {
		struct sphinx_surb s;
		bool sphinx_ok = len >= IPR_REPLY_KEY_LEN &&
				 sphinx_surb_decode(&s, buf + IPR_REPLY_KEY_LEN, len - IPR_REPLY_KEY_LEN) == 0;
		cr_assert_eq(ipr_reply_surb_len_valid(len), sphinx_ok, "length %zu", len);
	}
}

Test(ipr, response_bytes)
{
	struct ipr_response s, back;
	static const uint8_t bundle[] = { 0x00, 0x01, 0x60 };
	s = (struct ipr_response){ .kind = IPR_RESP_DATA, .bundle = { bundle, 3 } };
	static const uint8_t data[] = { 0x88, 0x00, 0x00, 0x01, 0x60 };
	response_known(&s, data, sizeof(data), &back);
	cr_assert_arr_eq(back.bundle.p, bundle, 3);
	cr_assert_eq(ipr_response_overhead(), 2);
	cr_assert_eq(ipr_response_decode(data, 2, &back), -EBADMSG);
	cr_assert_eq(ipr_response_decode(data, 4, &back), -EBADMSG);

	s = (struct ipr_response){ .kind = IPR_RESP_CONNECT, .request_id = 42, .reply = IPR_CONNECT_SUCCESS };
	cr_assert_eq(ipr_addr_from_index(0x0102, &s.ips), 0);
	static const uint8_t connect_ok[] = {
		0x88, 0x01, 0, 0, 0, 0, 0, 0, 0, 42, 0x00, /* success */
		10,   0,    1, 2,			  /* 10.0.1.2 */
		0xfc, 0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, /* fc00::102 */
	};
	response_known(&s, connect_ok, sizeof(connect_ok), &back);
	cr_assert_arr_eq(&back.ips, &s.ips, sizeof(s.ips));
	s.reply = IPR_CONNECT_NO_AVAILABLE_IP;
	static const uint8_t connect_fail[] = { 0x88, 0x01, 0, 0, 0, 0, 0, 0, 0, 42, 0x02 };
	response_known(&s, connect_fail, sizeof(connect_fail), &back);
	cr_assert_eq(back.reply, IPR_CONNECT_NO_AVAILABLE_IP);

	s = (struct ipr_response){ .kind = IPR_RESP_DISCONNECT, .request_id = 7,
				   .reply = IPR_DISCONNECT_NOT_CONNECTED };
	static const uint8_t disconnect[] = { 0x88, 0x02, 0, 0, 0, 0, 0, 0, 0, 7, 0x01 };
	response_known(&s, disconnect, sizeof(disconnect), &back);

	s = (struct ipr_response){ .kind = IPR_RESP_UNREQUESTED_DISCONNECT,
				   .reason = IPR_UNREQUESTED_MIXNET_TIMEOUT };
	static const uint8_t unrequested[] = { 0x88, 0x03, 0x01 };
	response_known(&s, unrequested, sizeof(unrequested), &back);

	s = (struct ipr_response){ .kind = IPR_RESP_PONG, .request_id = 0xfffffffffffffffeull };
	static const uint8_t pong[] = { 0x88, 0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	response_known(&s, pong, sizeof(pong), &back);
	cr_assert_eq(back.request_id, s.request_id);

	static const char version[] = "1.2.3";
	s = (struct ipr_response){ .kind = IPR_RESP_HEALTH, .request_id = 1, .routable = IPR_ROUTABLE_YES,
				   .text = { (const uint8_t *)version, 5 } };
	static const uint8_t health[] = { 0x88, 0x05, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x05,
					  '1',	'.',  '2', '.', '3' };
	response_known(&s, health, sizeof(health), &back);
	cr_assert_eq(back.text.len, 5);

	static const char dst[] = "192.0.2.1:25";
	s = (struct ipr_response){ .kind = IPR_RESP_INFO, .request_id = 9, .code = IPR_INFO_EXIT_POLICY,
				   .level = IPR_LEVEL_WARN, .text = { (const uint8_t *)dst, 12 } };
	uint8_t info[2 + 8 + 3 + 12] = { 0x88, 0x06, 0, 0, 0, 0, 0, 0, 0, 9, 0x03, 0x01, 12 };
	memcpy(info + 13, dst, 12);
	response_known(&s, info, sizeof(info), &back);
	cr_assert_eq(back.code, IPR_INFO_EXIT_POLICY);
	cr_assert_eq(back.level, IPR_LEVEL_WARN);

	s = (struct ipr_response){ .kind = IPR_RESP_SURB_REQUEST, .amount = 50 };
	static const uint8_t more[] = { 0x88, 0x07, 0x00, 0x32 };
	response_known(&s, more, sizeof(more), &back);
	cr_assert_eq(back.amount, 50);
}

Test(ipr, response_refusals)
{
	struct ipr_response back;
	static const struct {
		const char *what;
		uint8_t bytes[16];
		size_t len;
		int want;
	} bad[] = {
		{ "empty", { 0 }, 0, -EBADMSG },
		{ "Nym v8", { 0x08, 0x04 }, 2, -EPROTONOSUPPORT },
		{ "unknown kind", { 0x88, 0x08 }, 2, -EINVAL },
		{ "connect reply 4", { 0x88, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 4 }, 11, -EINVAL },
		{ "disconnect reply 3", { 0x88, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 3 }, 11, -EINVAL },
		{ "unrequested reason 0", { 0x88, 0x03, 0 }, 3, -EINVAL },
		{ "unrequested reason 4", { 0x88, 0x03, 4 }, 3, -EINVAL },
		{ "routable 3", { 0x88, 0x05, 0, 0, 0, 0, 0, 0, 0, 1, 3, 0 }, 12, -EINVAL },
		{ "health text control", { 0x88, 0x05, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, '\n' }, 13, -EINVAL },
		{ "info code 0", { 0x88, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 }, 13, -EINVAL },
		{ "info code 4", { 0x88, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0 }, 13, -EINVAL },
		{ "info level 3", { 0x88, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 0 }, 13, -EINVAL },
		{ "info text past end", { 0x88, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 2, 'a' }, 14, -EBADMSG },
		{ "info text 0xff", { 0x88, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0xff }, 14, -EINVAL },
		{ "surb amount 0", { 0x88, 0x07, 0, 0 }, 4, -EINVAL },
		{ "surb amount 501", { 0x88, 0x07, 0x01, 0xf5 }, 4, -EINVAL },
		{ "data empty", { 0x88, 0x00 }, 2, -EBADMSG },
		{ "data zero length", { 0x88, 0x00, 0, 0 }, 4, -EBADMSG },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(ipr_response_decode(bad[i].bytes, bad[i].len, &back), bad[i].want, "%s",
			     bad[i].what);

	/* The encoder refuses what the decoder would. */
	uint8_t out[512];
	size_t n;
	char longtext[IPR_INFO_TEXT_MAX + 1];
	memset(longtext, 'a', sizeof(longtext));
	struct ipr_response s = { .kind = IPR_RESP_INFO, .code = IPR_INFO_GENERIC,
				  .text = { (const uint8_t *)longtext, sizeof(longtext) } };
	cr_assert_eq(ipr_response_encode(&s, out, sizeof(out), &n), -EINVAL);
	s.text.len = IPR_INFO_TEXT_MAX;
	cr_assert_eq(ipr_response_encode(&s, out, sizeof(out), &n), 0);
	s = (struct ipr_response){ .kind = IPR_RESP_HEALTH, .text = { (const uint8_t *)longtext, 65 } };
	cr_assert_eq(ipr_response_encode(&s, out, sizeof(out), &n), -EINVAL);
	s = (struct ipr_response){ .kind = IPR_RESP_SURB_REQUEST, .amount = 0 };
	cr_assert_eq(ipr_response_encode(&s, out, sizeof(out), &n), -EINVAL);
	s = (struct ipr_response){ .kind = IPR_RESP_CONNECT, .reply = 9 };
	cr_assert_eq(ipr_response_encode(&s, out, sizeof(out), &n), -EINVAL);
	s = (struct ipr_response){ .kind = (enum ipr_response_kind)8 };
	cr_assert_eq(ipr_response_encode(&s, out, sizeof(out), &n), -EINVAL);
}
