#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../support/testdata.h"
#include "crypto/x25519.h"
#include "noise/noise_cipher.h"
#include "noise/noise_frame.h"
#include "noise/noise_handshake.h"
#include "noise/noise_session.h"
#include "noise/noise_transport.h"
#include "util/hex.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(noise, .init = setup);
TestSuite(noise_frame, .init = setup);
TestSuite(noise_session, .init = setup);

/* An rng that hands out fixed bytes: the vectors' ephemeral keys. */
struct fixed_rng {
	uint8_t bytes[32];
	bool used;
};

static void fixed_fill(void *ctx, uint8_t *out, size_t len)
{
	struct fixed_rng *f = ctx;
	cr_assert_eq(len, 32);
	cr_assert_not(f->used, "only one ephemeral per side");
	memcpy(out, f->bytes, 32);
	f->used = true;
}

static void keypair_from_hex(struct nym_x25519_keypair *kp, const char *hex)
{
	cr_assert_eq(nym_hex_decode_exact(kp->secret, 32, hex), 0);
	nym_x25519_public(kp->public_key, kp->secret);
}

static void random_keypair(struct nym_x25519_keypair *kp)
{
	nym_x25519_generate(kp);
}

/* ---- the cacophony vector for this exact protocol ---- */

Test(noise, cacophony_vector)
{
	json_t *v = testdata_load("noise_xkpsk3.json");
	cr_assert_str_eq(testdata_str(v, "protocol_name"), NOISE_PROTOCOL_NAME);
	struct nym_x25519_keypair is, rs;
	keypair_from_hex(&is, testdata_str(v, "init_static"));
	keypair_from_hex(&rs, testdata_str(v, "resp_static"));
	uint8_t remote[32], psk[32], prologue[9], hash[32], want_hash[32];
	cr_assert_eq(nym_hex_decode_exact(remote, 32, testdata_str(v, "init_remote_static")), 0);
	cr_assert_arr_eq(remote, rs.public_key, 32, "responder public key");
	cr_assert_eq(nym_hex_decode_exact(prologue, 9, testdata_str(v, "init_prologue")), 0);
	cr_assert_eq(nym_hex_decode_exact(psk, 32,
					  json_string_value(json_array_get(
						  json_object_get(v, "init_psks"), 0))),
		     0);
	cr_assert_eq(nym_hex_decode_exact(want_hash, 32, testdata_str(v, "handshake_hash")), 0);

	struct fixed_rng ie = { 0 }, re = { 0 };
	cr_assert_eq(nym_hex_decode_exact(ie.bytes, 32, testdata_str(v, "init_ephemeral")), 0);
	cr_assert_eq(nym_hex_decode_exact(re.bytes, 32, testdata_str(v, "resp_ephemeral")), 0);
	struct nym_rng irng = { fixed_fill, &ie }, rrng = { fixed_fill, &re };

	struct noise_handshake ih, rh;
	cr_assert_eq(noise_handshake_init(&ih, NOISE_INITIATOR, &is, remote, psk, prologue, 9, &irng),
		     0);
	cr_assert_eq(noise_handshake_init(&rh, NOISE_RESPONDER, &rs, NULL, psk, prologue, 9, &rrng),
		     0);

	json_t *msgs = json_object_get(v, "messages");
	struct noise_transport it, rt;
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		size_t plen, clen;
		uint8_t *pt = testdata_hex(json_string_value(json_object_get(m, "payload")), &plen);
		uint8_t *ct = testdata_hex(json_string_value(json_object_get(m, "ciphertext")), &clen);
		uint8_t out[256], back[256];
		size_t n, bn;
		bool from_init = i % 2 == 0;
		if (i < 3) {
			struct noise_handshake *w = from_init ? &ih : &rh, *r = from_init ? &rh : &ih;
			cr_assert(noise_handshake_my_turn(w));
			cr_assert_eq(noise_handshake_write(w, pt, plen, out, sizeof(out), &n), 0);
			cr_assert_eq(noise_handshake_read(r, out, n, back, sizeof(back), &bn), 0);
		} else {
			struct noise_transport *w = from_init ? &it : &rt, *r = from_init ? &rt : &it;
			cr_assert_eq(noise_transport_encrypt(w, pt, plen, out, sizeof(out), &n), 0);
			cr_assert_eq(noise_transport_decrypt(r, out, n, back, sizeof(back), &bn), 0);
		}
		cr_assert_eq(n, clen, "message %zu length", i);
		cr_assert_arr_eq(out, ct, clen, "message %zu differs from the vector", i);
		cr_assert_eq(bn, plen);
		cr_assert_arr_eq(back, pt, plen);
		if (i == 2) {
			cr_assert(noise_handshake_done(&ih));
			cr_assert(noise_handshake_done(&rh));
			noise_handshake_get_hash(&ih, hash);
			cr_assert_arr_eq(hash, want_hash, 32, "initiator handshake hash");
			noise_handshake_get_hash(&rh, hash);
			cr_assert_arr_eq(hash, want_hash, 32, "responder handshake hash");
			uint8_t learned[32];
			cr_assert_eq(noise_handshake_remote_static(&rh, learned), 0);
			cr_assert_arr_eq(learned, is.public_key, 32);
			cr_assert_eq(noise_handshake_split(&ih, &it), 0);
			cr_assert_eq(noise_handshake_split(&rh, &rt), 0);
		}
		free(pt);
		free(ct);
	}
	noise_transport_clear(&it);
	noise_transport_clear(&rt);
	json_decref(v);
}

/* ---- Nym's parameters ---- */

Test(noise, nym_psk)
{
	/* SHA256("NYMTECH_NOISE_dQw4w9WgXcQ" || key) for the key 00 01 02 .. 1f, computed
	 * independently with Python's hashlib. */
	uint8_t key[32], psk[32], want[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	nym_hex_decode_exact(want, 32,
			     "29559c42ea49a53e6abff7cf13f27836fa38add85a32ac2a5d3e3cef9f04a85a");
	noise_nym_psk(psk, key);
	cr_assert_arr_eq(psk, want, 32);
}

struct pair {
	struct nym_x25519_keypair is, rs;
	uint8_t psk[32];
	struct noise_handshake ih, rh;
};

static void pair_init(struct pair *p)
{
	random_keypair(&p->is);
	random_keypair(&p->rs);
	noise_nym_psk(p->psk, p->rs.public_key);
	cr_assert_eq(noise_handshake_init(&p->ih, NOISE_INITIATOR, &p->is, p->rs.public_key, p->psk,
					  NULL, 0, NULL),
		     0);
	cr_assert_eq(noise_handshake_init(&p->rh, NOISE_RESPONDER, &p->rs, NULL, p->psk, NULL, 0,
					  NULL),
		     0);
}

/* Runs the three messages with empty payloads; returns them for inspection. */
static void pair_handshake(struct pair *p, uint8_t msgs[3][64], size_t lens[3])
{
	uint8_t pl[16];
	size_t pn;
	struct noise_handshake *w[3] = { &p->ih, &p->rh, &p->ih }, *r[3] = { &p->rh, &p->ih, &p->rh };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(noise_handshake_write(w[i], NULL, 0, msgs[i], 64, &lens[i]), 0);
		cr_assert_eq(noise_handshake_read(r[i], msgs[i], lens[i], pl, sizeof(pl), &pn), 0);
		cr_assert_eq(pn, 0);
	}
}

Test(noise, round_trip_with_nym_message_sizes)
{
	for (int round = 0; round < 20; round++) {
		struct pair p;
		uint8_t msgs[3][64];
		size_t lens[3];
		pair_init(&p);
		pair_handshake(&p, msgs, lens);
		cr_assert_eq(lens[0], NOISE_XK_MSG1_LEN);
		cr_assert_eq(lens[1], NOISE_XK_MSG2_LEN);
		cr_assert_eq(lens[2], NOISE_XK_MSG3_LEN);
		cr_assert_eq(lens[0], 48);
		cr_assert_eq(lens[2], 64);
		uint8_t h1[32], h2[32];
		noise_handshake_get_hash(&p.ih, h1);
		noise_handshake_get_hash(&p.rh, h2);
		cr_assert_arr_eq(h1, h2, 32);

		struct noise_transport it, rt;
		cr_assert_eq(noise_handshake_split(&p.ih, &it), 0);
		cr_assert_eq(noise_handshake_split(&p.rh, &rt), 0);
		static uint8_t buf[NOISE_MAX_MESSAGE_LEN], back[NOISE_MAX_MESSAGE_LEN];
		for (size_t len = 0; len < 70000; len = len * 3 + 1) {
			size_t use = len > NOISE_MAX_PLAINTEXT_LEN ? NOISE_MAX_PLAINTEXT_LEN : len;
			uint8_t *pt = malloc(use + 1);
			for (size_t k = 0; k < use; k++)
				pt[k] = (uint8_t)(k + len);
			size_t n, bn;
			struct noise_transport *a = len % 2 ? &it : &rt, *b = len % 2 ? &rt : &it;
			cr_assert_eq(noise_transport_encrypt(a, pt, use, buf, sizeof(buf), &n), 0);
			cr_assert_eq(n, use + 16);
			cr_assert_eq(noise_transport_decrypt(b, buf, n, back, sizeof(back), &bn), 0);
			cr_assert_eq(bn, use);
			cr_assert_eq(memcmp(back, pt, use), 0);
			free(pt);
		}
		/* In place, both ways. */
		uint8_t inplace[64] = "in place";
		size_t n, bn;
		cr_assert_eq(noise_transport_encrypt(&it, inplace, 8, inplace, sizeof(inplace), &n), 0);
		cr_assert_eq(noise_transport_decrypt(&rt, inplace, n, inplace, sizeof(inplace), &bn), 0);
		cr_assert_eq(memcmp(inplace, "in place", 8), 0);
		noise_transport_clear(&it);
		noise_transport_clear(&rt);
	}
}

Test(noise, tampered_handshake_fails)
{
	/* Every byte of every message, flipped: the receiver must refuse. */
	for (int m = 0; m < 3; m++) {
		for (size_t pos = 0; pos < (m == 2 ? 64u : 48u); pos++) {
			struct pair p;
			pair_init(&p);
			uint8_t msg[64], pl[16];
			size_t n, pn;
			struct noise_handshake *w[3] = { &p.ih, &p.rh, &p.ih };
			struct noise_handshake *r[3] = { &p.rh, &p.ih, &p.rh };
			for (int i = 0; i < m; i++) {
				cr_assert_eq(noise_handshake_write(w[i], NULL, 0, msg, 64, &n), 0);
				cr_assert_eq(noise_handshake_read(r[i], msg, n, pl, 16, &pn), 0);
			}
			cr_assert_eq(noise_handshake_write(w[m], NULL, 0, msg, 64, &n), 0);
			msg[pos] ^= 0x40;
			int err = noise_handshake_read(r[m], msg, n, pl, 16, &pn);
			cr_assert(err == -EBADMSG || err == -EINVAL, "message %d byte %zu: %d", m, pos,
				  err);
			cr_assert_not(noise_handshake_done(r[m]));
			/* Failure is final. */
			cr_assert_eq(noise_handshake_read(r[m], msg, n, pl, 16, &pn), -EPROTO);
			cr_assert_eq(noise_handshake_write(r[m], NULL, 0, msg, 64, &n), -EPROTO);
			noise_handshake_clear(&p.ih);
			noise_handshake_clear(&p.rh);
		}
	}
}

Test(noise, wrong_keys_fail)
{
	uint8_t msg[64], pl[16];
	size_t n, pn;

	/* The initiator expects another responder key: the responder cannot read message 1. */
	struct pair p;
	pair_init(&p);
	struct nym_x25519_keypair other;
	random_keypair(&other);
	noise_handshake_clear(&p.ih);
	cr_assert_eq(noise_handshake_init(&p.ih, NOISE_INITIATOR, &p.is, other.public_key, p.psk,
					  NULL, 0, NULL),
		     0);
	cr_assert_eq(noise_handshake_write(&p.ih, NULL, 0, msg, 64, &n), 0);
	cr_assert_eq(noise_handshake_read(&p.rh, msg, n, pl, 16, &pn), -EBADMSG);
	noise_handshake_clear(&p.ih);

	/* A different PSK: messages 1 and 2 go through (the PSK enters at message 3), then the
	 * responder refuses message 3. */
	pair_init(&p);
	uint8_t bad_psk[32];
	memcpy(bad_psk, p.psk, 32);
	bad_psk[0] ^= 1;
	noise_handshake_clear(&p.ih);
	cr_assert_eq(noise_handshake_init(&p.ih, NOISE_INITIATOR, &p.is, p.rs.public_key, bad_psk,
					  NULL, 0, NULL),
		     0);
	cr_assert_eq(noise_handshake_write(&p.ih, NULL, 0, msg, 64, &n), 0);
	cr_assert_eq(noise_handshake_read(&p.rh, msg, n, pl, 16, &pn), 0);
	cr_assert_eq(noise_handshake_write(&p.rh, NULL, 0, msg, 64, &n), 0);
	cr_assert_eq(noise_handshake_read(&p.ih, msg, n, pl, 16, &pn), 0);
	cr_assert_eq(noise_handshake_write(&p.ih, NULL, 0, msg, 64, &n), 0);
	cr_assert_eq(noise_handshake_read(&p.rh, msg, n, pl, 16, &pn), -EBADMSG);
	noise_handshake_clear(&p.ih);

	/* Keys derived for one PSK fail with another: transport from a different session. */
	struct pair a, b;
	uint8_t msgs[3][64];
	size_t lens[3];
	pair_init(&a);
	pair_init(&b);
	pair_handshake(&a, msgs, lens);
	pair_handshake(&b, msgs, lens);
	struct noise_transport at, bt, x;
	cr_assert_eq(noise_handshake_split(&a.ih, &at), 0);
	cr_assert_eq(noise_handshake_split(&b.rh, &bt), 0);
	cr_assert_eq(noise_handshake_split(&a.rh, &x), 0);
	noise_transport_clear(&x);
	cr_assert_eq(noise_transport_encrypt(&at, (const uint8_t *)"hello", 5, msg, 64, &n), 0);
	cr_assert_eq(noise_transport_decrypt(&bt, msg, n, pl, 16, &pn), -EBADMSG);
	noise_transport_clear(&at);
	noise_transport_clear(&bt);
	noise_handshake_clear(&b.ih);
}

Test(noise, transport_refuses_tampering_replay_reorder)
{
	struct pair p;
	uint8_t msgs[3][64];
	size_t lens[3];
	pair_init(&p);
	pair_handshake(&p, msgs, lens);
	struct noise_transport it, rt;
	cr_assert_eq(noise_handshake_split(&p.ih, &it), 0);
	cr_assert_eq(noise_handshake_split(&p.rh, &rt), 0);

	uint8_t m1[64], m2[64], out[64];
	size_t n1, n2, n;
	cr_assert_eq(noise_transport_encrypt(&it, (const uint8_t *)"first", 5, m1, 64, &n1), 0);
	cr_assert_eq(noise_transport_encrypt(&it, (const uint8_t *)"second", 6, m2, 64, &n2), 0);
	/* Reordered: the second message under the first nonce. */
	cr_assert_eq(noise_transport_decrypt(&rt, m2, n2, out, 64, &n), -EBADMSG);
	for (size_t k = 0; k < 6; k++)
		cr_assert_eq(out[k], 0, "failed decryption must leave no plaintext");
	/* Tampered, in each byte. */
	for (size_t pos = 0; pos < n1; pos++) {
		uint8_t t[64];
		memcpy(t, m1, n1);
		t[pos] ^= 0x01;
		cr_assert_eq(noise_transport_decrypt(&rt, t, n1, out, 64, &n), -EBADMSG, "byte %zu",
			     pos);
	}
	/* Failed attempts did not advance the nonce: the genuine message still decrypts. */
	cr_assert_eq(noise_transport_decrypt(&rt, m1, n1, out, 64, &n), 0);
	cr_assert_eq(memcmp(out, "first", 5), 0);
	/* Replayed. */
	cr_assert_eq(noise_transport_decrypt(&rt, m1, n1, out, 64, &n), -EBADMSG);
	cr_assert_eq(noise_transport_decrypt(&rt, m2, n2, out, 64, &n), 0);
	/* Truncated below a tag, oversize, wrong direction. */
	cr_assert_eq(noise_transport_decrypt(&rt, m1, 15, out, 64, &n), -EMSGSIZE);
	static uint8_t big[NOISE_MAX_MESSAGE_LEN + 32];
	cr_assert_eq(noise_transport_encrypt(&it, big, NOISE_MAX_PLAINTEXT_LEN + 1, big, sizeof(big),
					     &n),
		     -EMSGSIZE);
	cr_assert_eq(noise_transport_decrypt(&rt, big, NOISE_MAX_MESSAGE_LEN + 1, big, sizeof(big),
					     &n),
		     -EMSGSIZE);
	cr_assert_eq(noise_transport_encrypt(&it, m1, 5, out, 20, &n), -ENOSPC);
	cr_assert_eq(noise_transport_encrypt(&it, (const uint8_t *)"x", 1, m1, 64, &n1), 0);
	cr_assert_eq(noise_transport_decrypt(&it, m1, n1, out, 64, &n), -EBADMSG);

	/* The last nonce is reserved. */
	rt.send.n = UINT64_MAX - 1;
	cr_assert_eq(noise_transport_encrypt(&rt, (const uint8_t *)"x", 1, m1, 64, &n), 0);
	cr_assert_eq(noise_transport_encrypt(&rt, (const uint8_t *)"x", 1, m1, 64, &n), -EOVERFLOW);
	noise_transport_clear(&it);
	noise_transport_clear(&rt);

	/* A transport without keys refuses to work. */
	struct noise_transport empty;
	noise_cipher_init(&empty.send);
	noise_cipher_init(&empty.recv);
	cr_assert_eq(noise_transport_encrypt(&empty, m1, 1, out, 64, &n), -EINVAL);
	cr_assert_eq(noise_transport_decrypt(&empty, m1, 17, out, 64, &n), -EBADMSG);
}

Test(noise, protocol_order)
{
	struct pair p;
	uint8_t msg[64], pl[16];
	size_t n, pn;
	pair_init(&p);
	cr_assert_not(noise_handshake_my_turn(&p.rh));
	cr_assert_eq(noise_handshake_write(&p.rh, NULL, 0, msg, 64, &n), -EPROTO);
	cr_assert_eq(noise_handshake_read(&p.ih, msg, 48, pl, 16, &pn), -EPROTO);
	struct noise_transport t;
	cr_assert_eq(noise_handshake_split(&p.ih, &t), -EPROTO);
	uint8_t rs[32];
	cr_assert_eq(noise_handshake_remote_static(&p.rh, rs), -EAGAIN);
	cr_assert_eq(noise_handshake_remote_static(&p.ih, rs), 0);
	cr_assert_arr_eq(rs, p.rs.public_key, 32);
	/* No room: not fatal. */
	cr_assert_eq(noise_handshake_write(&p.ih, NULL, 0, msg, 47, &n), -ENOSPC);
	cr_assert_eq(noise_handshake_write(&p.ih, NULL, 0, msg, 64, &n), 0);
	/* Too short: fatal. */
	cr_assert_eq(noise_handshake_read(&p.rh, msg, 47, pl, 16, &pn), -EMSGSIZE);
	cr_assert_eq(noise_handshake_read(&p.rh, msg, 48, pl, 16, &pn), -EPROTO);
	/* An initiator needs the responder's key. */
	struct noise_handshake h;
	cr_assert_eq(noise_handshake_init(&h, NOISE_INITIATOR, &p.is, NULL, p.psk, NULL, 0, NULL),
		     -EINVAL);
	noise_handshake_clear(&p.ih);
}

Test(noise, low_order_ephemeral_is_refused)
{
	struct pair p;
	uint8_t msg[64] = { 0 }, pl[16];
	size_t pn;
	pair_init(&p);
	/* The all-zero point gives an all-zero shared secret. */
	cr_assert_eq(noise_handshake_read(&p.rh, msg, 48, pl, 16, &pn), -EINVAL);
	noise_handshake_clear(&p.ih);
}

/* ---- framing ---- */

Test(noise_frame, header)
{
	uint8_t h[8];
	struct noise_frame_header d;
	cr_assert_eq(noise_frame_header_encode(NOISE_FRAME_DATA, 0x1234, h), 0);
	uint8_t want[8] = { 1, 1, 1, 0x12, 0x34, 0, 0, 0 };
	cr_assert_arr_eq(h, want, 8);
	cr_assert_eq(noise_frame_header_decode(h, 8, &d), 0);
	cr_assert_eq(d.version, 1);
	cr_assert_eq(d.pattern, 1);
	cr_assert_eq(d.type, NOISE_FRAME_DATA);
	cr_assert_eq(d.len, 0x1234);
	for (size_t k = 0; k < 8; k++)
		cr_assert_eq(noise_frame_header_decode(h, k, &d), -EAGAIN);
	/* Reserved bytes are ignored, as Nym does. */
	h[5] = 0xff;
	h[7] = 0x01;
	cr_assert_eq(noise_frame_header_decode(h, 8, &d), 0);
	cr_assert_eq(noise_frame_header_encode(NOISE_FRAME_HANDSHAKE, 65535, h), 0);
	cr_assert_eq(noise_frame_header_decode(h, 8, &d), 0);
	cr_assert_eq(d.len, 65535);
	cr_assert_eq(noise_frame_header_encode(NOISE_FRAME_HANDSHAKE, 65536, h), -EINVAL);
	cr_assert_eq(noise_frame_header_encode(2, 1, h), -EINVAL);

	static const struct {
		uint8_t b[8];
		int err;
	} bad[] = {
		{ { 2, 1, 0, 0, 48, 0, 0, 0 }, -EPROTONOSUPPORT }, /* Nym's PSQ version 2 */
		{ { 0, 1, 0, 0, 48, 0, 0, 0 }, -EPROTONOSUPPORT },
		{ { 8, 1, 0, 0, 48, 0, 0, 0 }, -EPROTONOSUPPORT }, /* a mix frame */
		{ { 1, 2, 0, 0, 48, 0, 0, 0 }, -EPROTONOSUPPORT }, /* IKpsk2 */
		{ { 1, 0, 0, 0, 48, 0, 0, 0 }, -EPROTONOSUPPORT },
		{ { 1, 1, 2, 0, 48, 0, 0, 0 }, -EINVAL },
		{ { 1, 1, 255, 0, 48, 0, 0, 0 }, -EINVAL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(noise_frame_header_decode(bad[i].b, 8, &d), bad[i].err, "case %zu", i);
		cr_assert_eq(noise_frame_header_decode(bad[i].b, 3, &d), bad[i].err, "early, %zu", i);
	}
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

Test(noise_frame, decoder_chunkings)
{
	/* 30 frames of assorted sizes, including empty and maximal bodies. */
	enum { N = 30 };
	static const size_t lens[] = { 0, 1, 16, 48, 64, 1000, 65535, 2433, 7 };
	uint8_t *stream = malloc(N * NOISE_FRAME_MAX_LEN);
	size_t off[N], blen[N], total = 0;
	uint32_t s = 99;
	for (int i = 0; i < N; i++) {
		blen[i] = lens[xorshift(&s) % (sizeof(lens) / sizeof(lens[0]))];
		cr_assert_eq(noise_frame_header_encode(i % 2, blen[i], stream + total), 0);
		off[i] = total + 8;
		for (size_t k = 0; k < blen[i]; k++)
			stream[off[i] + k] = (uint8_t)xorshift(&s);
		total = off[i] + blen[i];
	}
	static const size_t chunkings[] = { 1, 5, 8, 9, 1500, 65536, 200000 };
	struct noise_frame_decoder *d = malloc(sizeof(*d));
	for (size_t c = 0; c < sizeof(chunkings) / sizeof(chunkings[0]) + 5; c++) {
		noise_frame_decoder_init(d);
		size_t pos = 0;
		int got = 0;
		while (pos < total) {
			size_t step = c < 7 ? chunkings[c] : 1 + xorshift(&s) % 90000;
			if (step > total - pos)
				step = total - pos;
			uint8_t *chunk = malloc(step);
			memcpy(chunk, stream + pos, step);
			cr_assert_eq(noise_frame_decoder_feed(d, chunk, step), 0);
			struct noise_frame f;
			int r;
			while ((r = noise_frame_decoder_next(d, &f)) == 0) {
				cr_assert_lt(got, N);
				cr_assert_eq(f.header.type, (unsigned)got % 2);
				cr_assert_eq(f.body_len, blen[got]);
				cr_assert_eq(memcmp(f.body, stream + off[got], blen[got]), 0);
				if (off[got] - 8 >= pos && off[got] + blen[got] <= pos + step)
					cr_assert(f.body >= chunk && f.body <= chunk + step,
						  "a frame inside one read is not copied");
				got++;
			}
			cr_assert_eq(r, -EAGAIN);
			cr_assert_eq(noise_frame_decoder_consumed(d), step);
			free(chunk);
			pos += step;
		}
		cr_assert_eq(got, N, "chunking %zu", c);
		cr_assert_eq(noise_frame_decoder_buffered(d), 0);
	}
	free(d);
	free(stream);
}

Test(noise_frame, decoder_stops_at_bad_header)
{
	uint8_t buf[64 + 8 + 100] = { 0 };
	noise_frame_header_encode(NOISE_FRAME_HANDSHAKE, 48, buf);
	/* Then a frame claiming version 2, followed by bytes that must stay unread. */
	uint8_t bad[8] = { 2, 1, 0, 0, 10, 0, 0, 0 };
	memcpy(buf + 56, bad, 8);
	struct noise_frame_decoder *d = malloc(sizeof(*d));
	struct noise_frame f;
	noise_frame_decoder_init(d);
	cr_assert_eq(noise_frame_decoder_feed(d, buf, sizeof(buf)), 0);
	cr_assert_eq(noise_frame_decoder_next(d, &f), 0);
	cr_assert_eq(noise_frame_decoder_next(d, &f), -EPROTONOSUPPORT);
	cr_assert_eq(noise_frame_decoder_consumed(d), 56);
	cr_assert_eq(noise_frame_decoder_next(d, &f), -EPROTONOSUPPORT);
	cr_assert_eq(noise_frame_decoder_feed(d, buf, 1), -EPROTONOSUPPORT);

	/* Split across reads: the bad byte arrives in the second. */
	uint8_t a[2] = { 1, 1 }, b[6] = { 9, 0, 0, 0, 0, 0 };
	noise_frame_decoder_init(d);
	cr_assert_eq(noise_frame_decoder_feed(d, a, 2), 0);
	cr_assert_eq(noise_frame_decoder_next(d, &f), -EAGAIN);
	cr_assert_eq(noise_frame_decoder_feed(d, b, 6), 0);
	cr_assert_eq(noise_frame_decoder_next(d, &f), -EINVAL);
	cr_assert_eq(noise_frame_decoder_consumed(d), 0);
	free(d);
}

/* ---- sessions over a simulated byte stream ---- */

struct wire {
	uint8_t *bytes;
	size_t len, cap;
};

static void wire_put(struct wire *w, const uint8_t *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2;
		w->bytes = realloc(w->bytes, w->cap);
	}
	memcpy(w->bytes + w->len, p, n);
	w->len += n;
}

/* Delivers everything queued on `from` to session s in chunks of `step` bytes; replies go
 * onto `back`, plaintext is appended to `received`. Returns the first error, or 0. */
static int deliver(struct noise_session *s, struct wire *from, struct wire *back,
		   struct wire *received, size_t step, bool *established)
{
	static uint8_t out[NOISE_MAX_PLAINTEXT_LEN];
	size_t pos = 0;
	int ret = 0;
	while (pos < from->len && !ret) {
		size_t c = from->len - pos < step ? from->len - pos : step;
		uint8_t *chunk = malloc(c);
		memcpy(chunk, from->bytes + pos, c);
		ret = noise_session_feed(s, chunk, c);
		struct noise_session_event ev;
		int r;
		while (!ret && (r = noise_session_next(s, out, sizeof(out), &ev)) != -EAGAIN) {
			if (r) {
				ret = r;
				break;
			}
			if (ev.send)
				wire_put(back, ev.send, ev.send_len);
			if (ev.data)
				wire_put(received, ev.data, ev.data_len);
			if (ev.established)
				*established = true;
		}
		free(chunk);
		pos += c;
	}
	from->len = 0;
	return ret;
}

static void session_pair(struct noise_session **i, struct noise_session **r,
			 struct nym_x25519_keypair *ik, struct nym_x25519_keypair *rk)
{
	*i = malloc(sizeof(**i));
	*r = malloc(sizeof(**r));
	cr_assert_eq(noise_session_init(*i, NOISE_INITIATOR, ik, rk->public_key, NULL), 0);
	cr_assert_eq(noise_session_init(*r, NOISE_RESPONDER, rk, NULL, NULL), 0);
}

Test(noise_session, handshake_and_data_any_chunking)
{
	static const size_t steps[] = { 1, 3, 8, 56, 57, 1000, 70000 };
	for (size_t si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
		struct nym_x25519_keypair ik, rk;
		random_keypair(&ik);
		random_keypair(&rk);
		struct noise_session *i, *r;
		session_pair(&i, &r, &ik, &rk);
		struct wire to_r = { 0 }, to_i = { 0 }, got_r = { 0 }, got_i = { 0 };
		uint8_t first[64];
		size_t n;
		bool ie = false, re = false;
		cr_assert_eq(noise_session_start(i, first, sizeof(first), &n), 0);
		cr_assert_eq(n, 8 + 48);
		cr_assert_eq(first[0], 1, "a Noise stream starts with version 1");
		wire_put(&to_r, first, n);
		cr_assert_eq(deliver(r, &to_r, &to_i, &got_r, steps[si], &re), 0);
		cr_assert_eq(to_i.len, 8 + 48);
		cr_assert_eq(deliver(i, &to_i, &to_r, &got_i, steps[si], &ie), 0);
		cr_assert(ie, "initiator is done after writing message 3");
		cr_assert_eq(to_r.len, 8 + 64);
		/* Data right behind the last handshake message, in the same reads. */
		size_t big = 150000;
		uint8_t *payload = malloc(big);
		for (size_t k = 0; k < big; k++)
			payload[k] = (uint8_t)(k * 13 + si);
		size_t slen = noise_session_sealed_len(big);
		cr_assert_eq(slen, big + 3 * 24);
		uint8_t *sealed = malloc(slen);
		cr_assert_eq(noise_session_seal(i, payload, big, sealed, slen, &n), 0);
		cr_assert_eq(n, slen);
		wire_put(&to_r, sealed, n);
		cr_assert_eq(deliver(r, &to_r, &to_i, &got_r, steps[si], &re), 0);
		cr_assert(re);
		cr_assert(noise_session_established(r));
		cr_assert_eq(got_r.len, big);
		cr_assert_eq(memcmp(got_r.bytes, payload, big), 0);
		uint8_t key[32];
		cr_assert_eq(noise_session_remote_static(r, key), 0);
		cr_assert_arr_eq(key, ik.public_key, 32);
		cr_assert_eq(noise_session_remote_static(i, key), 0);
		cr_assert_arr_eq(key, rk.public_key, 32);
		/* And back. */
		cr_assert_eq(noise_session_seal(r, payload, 1000, sealed, slen, &n), 0);
		wire_put(&to_i, sealed, n);
		cr_assert_eq(deliver(i, &to_i, &to_r, &got_i, steps[si], &ie), 0);
		cr_assert_eq(got_i.len, 1000);
		cr_assert_eq(memcmp(got_i.bytes, payload, 1000), 0);
		free(payload);
		free(sealed);
		free(to_r.bytes);
		free(to_i.bytes);
		free(got_r.bytes);
		free(got_i.bytes);
		noise_session_clear(i);
		noise_session_clear(r);
		free(i);
		free(r);
	}
}

Test(noise_session, protocol_violations_fail)
{
	struct nym_x25519_keypair ik, rk, other;
	random_keypair(&ik);
	random_keypair(&rk);
	random_keypair(&other);
	struct noise_session *i, *r;
	struct wire to_r = { 0 }, to_i = { 0 }, sink = { 0 };
	uint8_t buf[128];
	size_t n;
	bool est = false;

	/* A data frame before the handshake. */
	session_pair(&i, &r, &ik, &rk);
	noise_frame_header_encode(NOISE_FRAME_DATA, 16, buf);
	memset(buf + 8, 0, 16);
	wire_put(&to_r, buf, 24);
	cr_assert_eq(deliver(r, &to_r, &to_i, &sink, 100, &est), -EPROTO);
	cr_assert_eq(noise_session_feed(r, buf, 1), -EPROTO, "failure is final");
	noise_session_clear(i);
	noise_session_clear(r);
	free(i);
	free(r);

	/* A handshake frame after it. */
	session_pair(&i, &r, &ik, &rk);
	cr_assert_eq(noise_session_start(i, buf, sizeof(buf), &n), 0);
	wire_put(&to_r, buf, n);
	cr_assert_eq(deliver(r, &to_r, &to_i, &sink, 100, &est), 0);
	cr_assert_eq(deliver(i, &to_i, &to_r, &sink, 100, &est), 0);
	cr_assert_eq(deliver(r, &to_r, &to_i, &sink, 100, &est), 0);
	cr_assert(noise_session_established(r));
	noise_frame_header_encode(NOISE_FRAME_HANDSHAKE, 48, buf);
	wire_put(&to_r, buf, 56);
	cr_assert_eq(deliver(r, &to_r, &to_i, &sink, 100, &est), -EPROTO);
	/* Sealing needs an established session. */
	uint8_t out[64];
	cr_assert_eq(noise_session_seal(r, buf, 1, out, sizeof(out), &n), -EPROTO);
	noise_session_clear(i);
	noise_session_clear(i);
	noise_session_clear(r);
	free(i);
	free(r);

	/* The initiator dials the wrong key: the responder refuses message 1. */
	session_pair(&i, &r, &ik, &rk);
	noise_session_clear(i);
	cr_assert_eq(noise_session_init(i, NOISE_INITIATOR, &ik, other.public_key, NULL), 0);
	cr_assert_eq(noise_session_start(i, buf, sizeof(buf), &n), 0);
	wire_put(&to_r, buf, n);
	cr_assert_eq(deliver(r, &to_r, &to_i, &sink, 100, &est), -EBADMSG);
	noise_session_clear(i);
	noise_session_clear(r);
	free(i);
	free(r);

	/* An oversized handshake frame. */
	session_pair(&i, &r, &ik, &rk);
	uint8_t *huge = calloc(1, 8 + 1025);
	noise_frame_header_encode(NOISE_FRAME_HANDSHAKE, 1025, huge);
	wire_put(&to_r, huge, 8 + 1025);
	cr_assert_eq(deliver(r, &to_r, &to_i, &sink, 5000, &est), -EMSGSIZE);
	free(huge);
	/* Only an initiator starts, once. */
	cr_assert_eq(noise_session_start(i, buf, 10, &n), -ENOSPC);
	cr_assert_eq(noise_session_start(i, buf, sizeof(buf), &n), 0);
	cr_assert_eq(noise_session_start(i, buf, sizeof(buf), &n), -EPROTO);
	noise_session_clear(i);
	noise_session_clear(r);
	cr_assert_eq(noise_session_init(r, NOISE_RESPONDER, &rk, NULL, NULL), 0);
	cr_assert_eq(noise_session_start(r, buf, sizeof(buf), &n), -EPROTO);
	cr_assert_eq(noise_session_init(i, NOISE_INITIATOR, &ik, NULL, NULL), -EINVAL);
	noise_session_clear(i);
	noise_session_clear(r);
	free(i);
	free(r);
	free(to_r.bytes);
	free(to_i.bytes);
	free(sink.bytes);
}
