/* The IP packet router's parsers: requests, responses and bundles.
 *
 * Byte 0 picks what the rest is read as: a request (0), a response (1) or a bundle (2). A
 * message that decodes must encode back to the same bytes and decode again; a bundle that
 * validates must be rebuilt packet by packet into the same bytes, and the iterator must
 * agree with the validator. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ipr/ipr_addr.h"
#include "ipr/ipr_bundle.h"
#include "ipr/ipr_msg.h"

static uint8_t out[1 << 17], again[1 << 17];

static void check_bundle(const uint8_t *b, size_t len)
{
	size_t count = 0, seen = 0, plen;
	const uint8_t *p;
	struct ipr_bundle_iter it;
	struct ipr_bundle_builder bld;
	int valid = ipr_bundle_validate(b, len, &count);
	if (valid != 0 && valid != -EBADMSG)
		abort();
	if (ipr_bundle_init(&bld, out, sizeof(out), sizeof(out)) != 0)
		abort();
	ipr_bundle_iter_init(&it, b, len);
	int r;
	while ((r = ipr_bundle_next(&it, &p, &plen)) == 0) {
		if (plen == 0 || p < b || p + plen > b + len || ipr_bundle_add(&bld, p, plen) != 0)
			abort();
		seen++;
	}
	if (valid == 0 && (r != -ENOENT || seen != count || bld.len != len || memcmp(out, b, len) != 0))
		abort();
	/* A bad bundle fails in the iterator too, unless it was simply empty. */
	if (valid != 0 && r != -EBADMSG && !(r == -ENOENT && len == 0))
		abort();
}

static void check_request(const uint8_t *in, size_t len)
{
	struct ipr_request q, q2;
	size_t n, n2;
	if (ipr_request_decode(in, len, &q) != 0)
		return;
	if (ipr_request_encode(&q, out, sizeof(out), &n) != 0 || n != len || memcmp(out, in, len) != 0)
		abort();
	if (ipr_request_decode(out, n, &q2) != 0 || ipr_request_encode(&q2, again, sizeof(again), &n2) != 0 ||
	    n2 != n || memcmp(again, out, n) != 0)
		abort();
	if (q.kind == IPR_REQ_DATA)
		check_bundle(q.bundle.p, q.bundle.len);
	for (size_t i = 0; i < q.surb_count; i++)
		if (ipr_request_surb(&q, i) + q.surb_len > in + len)
			abort();
}

static void check_response(const uint8_t *in, size_t len)
{
	struct ipr_response s, s2;
	size_t n, n2;
	if (ipr_response_decode(in, len, &s) != 0)
		return;
	if (ipr_response_encode(&s, out, sizeof(out), &n) != 0 || n != len || memcmp(out, in, len) != 0)
		abort();
	if (ipr_response_decode(out, n, &s2) != 0 || ipr_response_encode(&s2, again, sizeof(again), &n2) != 0 ||
	    n2 != n || memcmp(again, out, n) != 0)
		abort();
	if (s.kind == IPR_RESP_CONNECT && s.reply == IPR_CONNECT_SUCCESS) {
		uint16_t r4, r6;
		/* Whatever a router sends, the pair it names is either ours or not, never a crash. */
		if (ipr_addr_index_v4(s.ips.v4, &r4) == 0 && ipr_addr_index_v6(s.ips.v6, &r6) == 0) {
			struct ipr_addr_pair p;
			if (ipr_addr_from_index(r4, &p) != 0 || memcmp(p.v4, s.ips.v4, 4) != 0)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > sizeof(out))
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_request(data + 1, size - 1);
		break;
	case 1:
		check_response(data + 1, size - 1);
		break;
	default:
		check_bundle(data + 1, size - 1);
		break;
	}
	return 0;
}
