/* nym-node bench transport: what the node-to-node transport costs apart from Sphinx, measured
 * single-threaded in this process.
 *
 *   frame_decode      v8 frames of the regular class decoded from 64 KiB reads (how a
 *                     socket delivers them): ns per frame and GB/s of stream
 *   noise_handshake   one whole XKpsk3 handshake, both sides: 8 X25519 operations, so it
 *                     is reported next to one X25519 measured in the same run
 *   noise_frame       sealing and opening one regular mix frame (2417 bytes) as a Noise
 *                     data frame; and bulk GB/s with full 65519-byte frames
 *   reassembly        fragmenting a 1 MiB message for regular packets and reassembling it
 *                     in shuffled order: MB/s of message
 */
#include "nodectl/bench/bench_transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x25519.h"
#include "mix/mix_fragment.h"
#include "mix/mix_frame.h"
#include "mix/mix_reassembly.h"
#include "noise/noise_session.h"
#include "util/clock.h"
#include "util/log.h"

#define READ_SIZE 65536

struct timer {
	uint64_t start, budget;
	uint64_t iterations;
};

static void timer_start(struct timer *t, double seconds)
{
	t->start = nym_clock_now_ns();
	t->budget = (uint64_t)(seconds * 1e9);
	t->iterations = 0;
}

static bool timer_running(struct timer *t)
{
	/* Reading the clock every 16 iterations keeps it out of the measurement. */
	if (t->iterations % 16)
		return true;
	return nym_clock_now_ns() - t->start < t->budget;
}

static double timer_ns_per_iteration(const struct timer *t)
{
	return (double)(nym_clock_now_ns() - t->start) / (double)t->iterations;
}

/* ns per regular frame; *gbps gets stream throughput. */
static int bench_frame_decode(double seconds, double *ns_per_frame, double *gbps)
{
	enum { FRAMES = 512 };
	size_t flen = MIX_FRAME_HEADER_LEN + MIX_REGULAR_PACKET_LEN;
	size_t total = FRAMES * flen;
	uint8_t *stream = malloc(total);
	struct mix_frame_decoder *d = malloc(sizeof(*d));
	if (!stream || !d) {
		free(stream);
		free(d);
		return -ENOMEM;
	}
	struct mix_frame_header h = { MIX_FRAME_VERSION, MIX_PACKET_SIZE_REGULAR, MIX_PACKET_TYPE_MIX,
				      MIX_KEY_ROTATION_ODD };
	for (size_t i = 0; i < FRAMES; i++) {
		size_t w;
		uint8_t *p = stream + i * flen;
		memset(p + 4, (int)i, MIX_REGULAR_PACKET_LEN);
		mix_frame_encode(&h, p + 4, MIX_REGULAR_PACKET_LEN, p, flen, &w);
	}
	struct timer t;
	uint64_t frames = 0, sink = 0;
	timer_start(&t, seconds);
	while (timer_running(&t)) {
		mix_frame_decoder_init(d);
		for (size_t pos = 0; pos < total; pos += READ_SIZE) {
			size_t c = total - pos < READ_SIZE ? total - pos : READ_SIZE;
			struct mix_frame f;
			mix_frame_decoder_feed(d, stream + pos, c);
			while (mix_frame_decoder_next(d, &f) == 0) {
				sink += f.packet[0];
				frames++;
			}
		}
		t.iterations++;
	}
	double ns = timer_ns_per_iteration(&t) * (double)t.iterations;
	*ns_per_frame = ns / (double)frames;
	*gbps = (double)frames * (double)flen / ns;
	free(stream);
	free(d);
	return sink == 0xffffffffffffffffull ? -EIO : 0;
}

static int handshake_once(struct noise_session *i, struct noise_session *r,
			  const struct nym_x25519_keypair *ik, const struct nym_x25519_keypair *rk,
			  uint8_t *scratch)
{
	uint8_t m[128];
	size_t n;
	struct noise_session_event ev;
	if (noise_session_init(i, NOISE_INITIATOR, ik, rk->public_key, NULL) ||
	    noise_session_init(r, NOISE_RESPONDER, rk, NULL, NULL) ||
	    noise_session_start(i, m, sizeof(m), &n) || noise_session_feed(r, m, n) ||
	    noise_session_next(r, scratch, NOISE_MAX_PLAINTEXT_LEN, &ev) || !ev.send ||
	    noise_session_feed(i, ev.send, ev.send_len) ||
	    noise_session_next(i, scratch, NOISE_MAX_PLAINTEXT_LEN, &ev) || !ev.send ||
	    noise_session_feed(r, ev.send, ev.send_len) ||
	    noise_session_next(r, scratch, NOISE_MAX_PLAINTEXT_LEN, &ev) || !ev.established)
		return -EIO;
	return 0;
}

/* Seals len bytes on i and opens them on r, repeatedly; ns per round. */
static int bench_seal_open(struct noise_session *i, struct noise_session *r, size_t len,
			   double seconds, uint8_t *scratch, double *ns)
{
	size_t cap = noise_session_sealed_len(len);
	uint8_t *pt = calloc(1, len), *ct = malloc(cap);
	int rc = 0;
	if (!pt || !ct) {
		rc = -ENOMEM;
		goto out;
	}
	struct timer t;
	timer_start(&t, seconds);
	while (timer_running(&t)) {
		size_t n;
		struct noise_session_event ev;
		if (noise_session_seal(i, pt, len, ct, cap, &n) || noise_session_feed(r, ct, n) ||
		    noise_session_next(r, scratch, NOISE_MAX_PLAINTEXT_LEN, &ev) ||
		    ev.data_len != len ||
		    noise_session_next(r, scratch, NOISE_MAX_PLAINTEXT_LEN, &ev) != -EAGAIN) {
			rc = -EIO;
			goto out;
		}
		t.iterations++;
	}
	*ns = timer_ns_per_iteration(&t);
out:
	free(pt);
	free(ct);
	return rc;
}

static int bench_reassembly(double seconds, double *mbps)
{
	size_t body = 1 << 20, pp, padded, frags;
	mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_REGULAR, &pp);
	mix_fragment_message_layout(body + 1, pp, &padded, &frags);
	uint8_t *msg = malloc(padded), *src = calloc(1, body);
	uint8_t *buf = malloc(frags * pp);
	size_t *len = malloc(frags * sizeof(*len)), *order = malloc(frags * sizeof(*order));
	struct mix_reassembly *r = NULL;
	int rc = -ENOMEM;
	if (!msg || !src || !buf || !len || !order || mix_reassembly_new(NULL, &r))
		goto out;
	size_t w;
	mix_fragment_message_pad(MIX_MESSAGE_PLAIN, src, body, pp, msg, padded, &w);
	for (size_t k = 0; k < frags; k++)
		order[k] = (k * 7919) % frags; /* 7919 is prime and does not divide frags */
	struct timer t;
	timer_start(&t, seconds);
	rc = 0;
	while (timer_running(&t)) {
		struct mix_fragmenter f;
		mix_fragmenter_init(&f, msg, padded, pp, NULL);
		for (size_t k = 0; k < frags; k++)
			mix_fragmenter_next(&f, buf + k * pp, pp, &len[k], NULL);
		bool done = false;
		for (size_t k = 0; k < frags; k++) {
			struct mix_reassembly_message m;
			size_t j = order[k];
			if (mix_reassembly_add_bytes(r, buf + j * pp, len[j], t.iterations, &m)) {
				rc = -EIO;
				goto out;
			}
			if (m.data) {
				done = m.len == padded;
				free(m.data);
			}
		}
		if (!done) {
			rc = -EIO;
			goto out;
		}
		t.iterations++;
	}
	*mbps = (double)body / timer_ns_per_iteration(&t) * 1e3;
out:
	mix_reassembly_free(r);
	free(msg);
	free(src);
	free(buf);
	free(len);
	free(order);
	return rc;
}

int bench_transport_run(const struct bench_transport_options *options, struct bench_transport_result *result)
{
	double s = options->seconds;
	double frame_ns, frame_gbps, x_us, hs_us, small_ns, bulk_ns, reasm_mbps;
	struct noise_session *i = calloc(1, sizeof(*i)), *r = calloc(1, sizeof(*r));
	uint8_t *scratch = malloc(NOISE_MAX_PLAINTEXT_LEN);
	struct nym_x25519_keypair ik, rk;
	int rc = -ENOMEM;
	nym_x25519_generate(&ik);
	nym_x25519_generate(&rk);
	if (!i || !r || !scratch)
		goto out;
	rc = bench_frame_decode(s, &frame_ns, &frame_gbps);
	if (rc)
		goto out;

	struct timer t;
	uint8_t shared[32];
	timer_start(&t, s);
	while (timer_running(&t)) {
		nym_x25519(shared, ik.secret, rk.public_key);
		t.iterations++;
	}
	x_us = timer_ns_per_iteration(&t) / 1e3;

	timer_start(&t, s);
	while (timer_running(&t)) {
		rc = handshake_once(i, r, &ik, &rk, scratch);
		if (rc)
			goto out;
		noise_session_clear(i);
		noise_session_clear(r);
		t.iterations++;
	}
	hs_us = timer_ns_per_iteration(&t) / 1e3;

	rc = handshake_once(i, r, &ik, &rk, scratch);
	if (!rc)
		rc = bench_seal_open(i, r, MIX_FRAME_HEADER_LEN + MIX_REGULAR_PACKET_LEN, s, scratch, &small_ns);
	if (!rc)
		rc = bench_seal_open(i, r, NOISE_MAX_PLAINTEXT_LEN, s, scratch, &bulk_ns);
	if (!rc)
		rc = bench_reassembly(s, &reasm_mbps);
	if (rc)
		goto out;
	*result = (struct bench_transport_result){
		.frame_decode_ns = frame_ns,
		.frame_decode_gbps = frame_gbps,
		.x25519_us = x_us,
		.noise_handshake_us = hs_us,
		.noise_frame_us = small_ns / 1e3,
		.noise_bulk_gbps = NOISE_MAX_PLAINTEXT_LEN / bulk_ns,
		.reassembly_mbps = reasm_mbps,
	};
out:
	if (i)
		noise_session_clear(i);
	if (r)
		noise_session_clear(r);
	nym_x25519_keypair_clear(&ik);
	nym_x25519_keypair_clear(&rk);
	free(i);
	free(r);
	free(scratch);
	return rc;
}
