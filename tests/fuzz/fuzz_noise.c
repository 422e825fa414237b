/* The responder side of a node's Noise listener: frame decoder, XKpsk3 handshake and
 * transport decryption, fed whatever a peer sends.
 *
 * Byte 0, bit 0 picks the mode; the other bits the read size.
 *   raw:      the rest of the input is the byte stream, as an attacker would send it.
 *   scripted: a real initiator in the harness completes the handshake first, so the fuzzer
 *             reaches transport mode; the rest of the input is a list of operations
 *             (0: seal the next bytes as data, 1: the same with one byte flipped, 2: inject
 *             raw bytes) whose output the responder must decrypt exactly up to the first
 *             damage, and refuse from there on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "noise/noise_session.h"

static const uint8_t responder_secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t initiator_secret[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

struct counter_rng {
	uint8_t next;
};

static void counter_fill(void *ctx, uint8_t *out, size_t len)
{
	struct counter_rng *c = ctx;
	for (size_t i = 0; i < len; i++)
		out[i] = c->next++;
}

static uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
static struct nym_x25519_keypair rk, ik;

void fuzz_setup(void)
{
	fuzz_x25519_keypair(&rk, responder_secret);
	fuzz_x25519_keypair(&ik, initiator_secret);
}

/* Feeds stream to the responder in reads of `step` bytes. Returns the first error or 0;
 * plaintext goes to got (up to cap). */
static int feed(struct noise_session *r, const uint8_t *stream, size_t len, size_t step,
		uint8_t *got, size_t cap, size_t *got_len)
{
	size_t pos = 0;
	while (pos < len) {
		size_t c = len - pos < step ? len - pos : step;
		uint8_t *chunk = malloc(c);
		if (!chunk)
			abort();
		memcpy(chunk, stream + pos, c);
		int ret = noise_session_feed(r, chunk, c);
		struct noise_session_event ev;
		while (!ret && (ret = noise_session_next(r, plain, sizeof(plain), &ev)) == 0) {
			if (ev.data) {
				if (*got_len + ev.data_len > cap)
					abort();
				memcpy(got + *got_len, ev.data, ev.data_len);
				*got_len += ev.data_len;
			}
		}
		free(chunk);
		if (ret != -EAGAIN) {
			/* Failure is final. */
			if (noise_session_next(r, plain, sizeof(plain), &ev) != ret)
				abort();
			return ret;
		}
		pos += c;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct noise_session r, i;
	if (size < 1)
		return 0;
	size_t step = 1 + (data[0] >> 1) * 37;
	struct counter_rng rr = { 0x10 }, ir = { 0x80 };
	struct nym_rng rrng = { counter_fill, &rr }, irng = { counter_fill, &ir };
	if (noise_session_init(&r, NOISE_RESPONDER, &rk, NULL, &rrng) != 0)
		abort();
	size_t got_len = 0;
	uint8_t *got = malloc(size * 2 + 1);

	if (!(data[0] & 1)) {
		feed(&r, data + 1, size - 1, step, got, size * 2 + 1, &got_len);
		goto out;
	}

	/* Scripted: a genuine handshake first. */
	uint8_t msg[128];
	size_t n;
	struct noise_session_event ev;
	if (noise_session_init(&i, NOISE_INITIATOR, &ik, rk.public_key, &irng) != 0 ||
	    noise_session_start(&i, msg, sizeof(msg), &n) != 0)
		abort();
	if (noise_session_feed(&r, msg, n) || noise_session_next(&r, plain, sizeof(plain), &ev) ||
	    !ev.send)
		abort();
	if (noise_session_feed(&i, ev.send, ev.send_len) ||
	    noise_session_next(&i, plain, sizeof(plain), &ev) || !ev.send || !ev.established)
		abort();
	/* Each sealed op adds at most 24 bytes of framing and tag to at least 3 input bytes. */
	size_t scap = ev.send_len + 10 * size + 64;
	uint8_t *stream = malloc(scap);
	uint8_t *expect = malloc(size + 1);
	size_t slen = ev.send_len, elen = 0;
	bool damaged = false;
	memcpy(stream, ev.send, ev.send_len);
	size_t pos = 1;
	while (pos + 2 <= size) {
		uint8_t op = data[pos] % 3;
		size_t len = data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (op == 2) {
			memcpy(stream + slen, data + pos, len);
			slen += len;
			damaged |= len > 0;
		} else {
			size_t w;
			if (noise_session_seal(&i, data + pos, len, stream + slen, scap - slen, &w))
				abort();
			if (op == 1 && len) {
				stream[slen + data[pos] % w] ^= 0x20;
				damaged = true;
			}
			if (!damaged) {
				memcpy(expect + elen, data + pos, len);
				elen += len;
			}
			slen += w;
		}
		pos += len;
	}
	int ret = feed(&r, stream, slen, step, got, size * 2 + 1, &got_len);
	if (!noise_session_established(&r) && ret == 0)
		abort();
	/* Everything before the first damage arrives intact, in order. */
	if (got_len < elen || memcmp(got, expect, elen) != 0)
		abort();
	if (!damaged && (ret != 0 || got_len != elen))
		abort();
	free(stream);
	free(expect);
	noise_session_clear(&i);
out:
	noise_session_clear(&r);
	free(got);
	return 0;
}
