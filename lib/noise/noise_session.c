#include "noise/noise_session.h"

#include <errno.h>
#include <string.h>

static int fail(struct noise_session *s, int err)
{
	noise_handshake_clear(&s->hs);
	noise_transport_clear(&s->tr);
	s->state = NOISE_SESSION_FAILED;
	s->error = err;
	return err;
}

int noise_session_init(struct noise_session *s, enum noise_role role,
		       const struct nym_x25519_keypair *local, const uint8_t *remote_static,
		       const struct nym_rng *rng)
{
	uint8_t psk[NOISE_PSK_LEN];
	memset(s, 0, offsetof(struct noise_session, dec));
	noise_frame_decoder_init(&s->dec);
	noise_cipher_init(&s->tr.send);
	noise_cipher_init(&s->tr.recv);
	s->role = role;
	s->state = NOISE_SESSION_HANDSHAKE;
	if (role == NOISE_INITIATOR && !remote_static)
		return fail(s, -EINVAL);
	noise_nym_psk(psk, role == NOISE_INITIATOR ? remote_static : local->public_key);
	int r = noise_handshake_init(&s->hs, role, local, remote_static, psk, NULL, 0, rng);
	nym_memzero(psk, sizeof(psk));
	if (r)
		return fail(s, r);
	return 0;
}

/* Writes our next handshake message, framed, into s->reply. */
static int write_handshake(struct noise_session *s, size_t *len)
{
	size_t n;
	int r = noise_handshake_write(&s->hs, NULL, 0, s->reply + NOISE_FRAME_HEADER_LEN,
				      NOISE_HANDSHAKE_MAX_LEN, &n);
	if (r)
		return r;
	noise_frame_header_encode(NOISE_FRAME_HANDSHAKE, n, s->reply);
	*len = NOISE_FRAME_HEADER_LEN + n;
	return 0;
}

/* When the handshake has just finished: keep the peer's key, switch to transport. */
static int maybe_finish(struct noise_session *s, bool *established)
{
	if (!noise_handshake_done(&s->hs))
		return 0;
	noise_handshake_remote_static(&s->hs, s->remote_static);
	noise_handshake_get_hash(&s->hs, s->handshake_hash);
	int r = noise_handshake_split(&s->hs, &s->tr);
	if (r)
		return r;
	s->state = NOISE_SESSION_TRANSPORT;
	*established = true;
	return 0;
}

int noise_session_start(struct noise_session *s, uint8_t *out, size_t cap, size_t *written)
{
	size_t n;
	if (s->state != NOISE_SESSION_HANDSHAKE || s->role != NOISE_INITIATOR ||
	    !noise_handshake_my_turn(&s->hs))
		return -EPROTO;
	if (cap < NOISE_FRAME_HEADER_LEN + NOISE_XK_MSG1_LEN)
		return -ENOSPC;
	int r = write_handshake(s, &n);
	if (r)
		return fail(s, r);
	memcpy(out, s->reply, n);
	*written = n;
	return 0;
}

int noise_session_feed(struct noise_session *s, const uint8_t *in, size_t len)
{
	if (s->state == NOISE_SESSION_FAILED)
		return s->error;
	return noise_frame_decoder_feed(&s->dec, in, len);
}

int noise_session_next(struct noise_session *s, uint8_t *out, size_t cap,
		       struct noise_session_event *ev)
{
	struct noise_frame f;
	memset(ev, 0, sizeof(*ev));
	if (s->state == NOISE_SESSION_FAILED)
		return s->error;
	if (cap < NOISE_MAX_PLAINTEXT_LEN)
		return fail(s, -EINVAL);
	int r = noise_frame_decoder_next(&s->dec, &f);
	if (r == -EAGAIN)
		return r;
	if (r)
		return fail(s, r);

	if (s->state == NOISE_SESSION_HANDSHAKE) {
		uint8_t payload[NOISE_HANDSHAKE_MAX_LEN];
		size_t plen;
		if (f.header.type != NOISE_FRAME_HANDSHAKE)
			return fail(s, -EPROTO);
		if (f.body_len > NOISE_HANDSHAKE_MAX_LEN)
			return fail(s, -EMSGSIZE);
		r = noise_handshake_read(&s->hs, f.body, f.body_len, payload, sizeof(payload), &plen);
		if (r)
			return fail(s, r);
		if (noise_handshake_my_turn(&s->hs)) {
			r = write_handshake(s, &ev->send_len);
			if (r)
				return fail(s, r);
			ev->send = s->reply;
		}
		r = maybe_finish(s, &ev->established);
		return r ? fail(s, r) : 0;
	}

	if (f.header.type != NOISE_FRAME_DATA)
		return fail(s, -EPROTO);
	size_t n;
	r = noise_transport_decrypt(&s->tr, f.body, f.body_len, out, cap, &n);
	if (r)
		return fail(s, r);
	ev->data = out;
	ev->data_len = n;
	return 0;
}

size_t noise_session_sealed_len(size_t len)
{
	size_t frames = len / NOISE_MAX_PLAINTEXT_LEN + (len % NOISE_MAX_PLAINTEXT_LEN != 0);
	return len + frames * (NOISE_FRAME_HEADER_LEN + NOISE_TAG_LEN);
}

int noise_session_seal(struct noise_session *s, const uint8_t *in, size_t len, uint8_t *out,
		       size_t cap, size_t *written)
{
	if (s->state != NOISE_SESSION_TRANSPORT)
		return -EPROTO;
	if (len > SIZE_MAX / 2 || cap < noise_session_sealed_len(len))
		return -ENOSPC;
	size_t pos = 0, w = 0;
	while (pos < len) {
		size_t chunk = len - pos < NOISE_MAX_PLAINTEXT_LEN ? len - pos : NOISE_MAX_PLAINTEXT_LEN;
		size_t n;
		int r = noise_transport_encrypt(&s->tr, in + pos, chunk, out + w + NOISE_FRAME_HEADER_LEN,
						cap - w - NOISE_FRAME_HEADER_LEN, &n);
		if (r)
			return fail(s, r);
		noise_frame_header_encode(NOISE_FRAME_DATA, n, out + w);
		w += NOISE_FRAME_HEADER_LEN + n;
		pos += chunk;
	}
	*written = w;
	return 0;
}

bool noise_session_established(const struct noise_session *s)
{
	return s->state == NOISE_SESSION_TRANSPORT;
}

int noise_session_remote_static(const struct noise_session *s, uint8_t out[NOISE_DH_LEN])
{
	if (s->state != NOISE_SESSION_TRANSPORT)
		return -EAGAIN;
	memcpy(out, s->remote_static, NOISE_DH_LEN);
	return 0;
}

int noise_session_handshake_hash(const struct noise_session *s, uint8_t out[NOISE_HASH_LEN])
{
	if (s->state != NOISE_SESSION_TRANSPORT)
		return -EAGAIN;
	memcpy(out, s->handshake_hash, NOISE_HASH_LEN);
	return 0;
}

void noise_session_clear(struct noise_session *s)
{
	noise_handshake_clear(&s->hs);
	noise_transport_clear(&s->tr);
	nym_memzero(s->reply, sizeof(s->reply));
	s->state = NOISE_SESSION_FAILED;
	s->error = -EPROTO;
	noise_frame_decoder_init(&s->dec);
}
