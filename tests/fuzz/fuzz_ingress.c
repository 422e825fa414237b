/* The mixnode ingress path as the worker runs it: bytes from a peer, optionally through a
 * Noise responder, into the frame decoder, and every frame through the forwarding decision
 * (key selection, Sphinx, replay filter, next hop). The first input byte picks the mode:
 *   0: a plain stream;
 *   1: a stream to a Noise responder (what an attacker can send before any handshake);
 *   2: a Noise handshake completed in the harness, then the rest as the plaintext stream.
 * The remaining bytes are cut into reads at lengths taken from the input itself. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mix/mix_frame.h"
#include "mixnode/mix_forward.h"
#include "noise/noise_session.h"

static struct mixnode_keyring keyring;
static struct nym_x25519_keypair node_noise, peer_noise;
static struct mix_frame_decoder dec;
static uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
static uint8_t packets[8][MIX_PACKET_MAX_LEN];

void fuzz_setup(void)
{
	uint8_t secret[32];
	keyring.count = 1;
	keyring.keys[0].rotation_id = 1;
	memcpy(keyring.keys[0].secret, fuzz_node_sphinx_secret, 32);
	keyring.keys[0].replay = replay_filter_new(1, 100000, 1e-5);
	memset(secret, 7, 32);
	fuzz_x25519_keypair(&node_noise, secret);
	memset(secret, 9, 32);
	fuzz_x25519_keypair(&peer_noise, secret);
}

/* Frames out of a chunk through the decision, in batches as the worker takes them. Returns
 * false on a framing error. */
static bool frames(const uint8_t *data, size_t len)
{
	enum { BATCH = 8 };
	struct mix_frame f[BATCH];
	const struct mix_frame *fp[BATCH];
	uint8_t *pp[BATCH];
	struct mix_forward d[BATCH];
	size_t n = 0;
	int rc = mix_frame_decoder_feed(&dec, data, len);
	while (rc == 0 && (rc = mix_frame_decoder_next(&dec, &f[n])) == 0) {
		memcpy(packets[n], f[n].packet, f[n].packet_len);
		f[n].packet = packets[n];
		fp[n] = &f[n];
		pp[n] = packets[n];
		if (++n == BATCH) {
			mix_forward_decide_batch(&keyring, true, 10ull * 1000000000, fp, pp, d, n);
			n = 0;
		}
	}
	mix_forward_decide_batch(&keyring, true, 10ull * 1000000000, fp, pp, d, n);
	return rc == -EAGAIN;
}

/* Feeds `len` bytes as a sequence of reads whose sizes come from `cuts`. */
static void stream(struct noise_session *ns, const uint8_t *data, size_t len, uint8_t cut_seed)
{
	size_t off = 0;
	unsigned step = cut_seed ? cut_seed : 1;
	while (off < len) {
		size_t n = 1 + (off * 131 + step * 977) % 4096;
		if (n > len - off)
			n = len - off;
		if (!ns) {
			if (!frames(data + off, n))
				return;
		} else {
			struct noise_session_event ev;
			int rc = noise_session_feed(ns, data + off, n);
			while (rc == 0 && (rc = noise_session_next(ns, plain, sizeof(plain), &ev)) == 0)
				if (ev.data_len && !frames(ev.data, ev.data_len))
					return;
			if (rc != -EAGAIN)
				return;
		}
		off += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t mode = data[0] % 3, cut = data[1];
	data += 2;
	size -= 2;
	mix_frame_decoder_init(&dec);
	if (mode == 0) {
		stream(NULL, data, size, cut);
		return 0;
	}
	struct noise_session responder;
	noise_session_init(&responder, NOISE_RESPONDER, &node_noise, NULL, NULL);
	if (mode == 2) {
		/* A genuine initiator brings the responder to transport; then the input is the
		 * plaintext it sends, sealed frame by frame. */
		static struct noise_session initiator;
		static uint8_t msg[NOISE_FRAME_HEADER_LEN + NOISE_HANDSHAKE_MAX_LEN], sealed[1 << 17];
		struct noise_session_event ev;
		size_t n;
		noise_session_init(&initiator, NOISE_INITIATOR, &peer_noise, node_noise.public_key, NULL);
		if (noise_session_start(&initiator, msg, sizeof(msg), &n) || noise_session_feed(&responder, msg, n) ||
		    noise_session_next(&responder, plain, sizeof(plain), &ev) || !ev.send ||
		    noise_session_feed(&initiator, ev.send, ev.send_len) ||
		    noise_session_next(&initiator, plain, sizeof(plain), &ev) || !ev.send ||
		    noise_session_feed(&responder, ev.send, ev.send_len) ||
		    noise_session_next(&responder, plain, sizeof(plain), &ev) || !ev.established)
			__builtin_trap(); /* an honest handshake must always succeed */
		size = size > 60000 ? 60000 : size;
		if (noise_session_seal(&initiator, data, size, sealed, sizeof(sealed), &n) != 0)
			__builtin_trap();
		stream(&responder, sealed, n, cut);
		noise_session_clear(&initiator);
	} else {
		stream(&responder, data, size, cut);
	}
	noise_session_clear(&responder);
	return 0;
}
