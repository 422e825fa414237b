#include "mix/mix_reply.h"

#include <errno.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "crypto/secret.h"
#include "crypto/sha256.h"

static const uint8_t zero_iv[16];

void mix_reply_key_digest(const uint8_t key[MIX_REPLY_KEY_LEN], uint8_t digest[MIX_REPLY_DIGEST_LEN])
{
	nym_sha256(digest, key, MIX_REPLY_KEY_LEN);
}

size_t mix_reply_body_len(size_t plaintext_len)
{
	return plaintext_len > MIX_REPLY_BODY_OFF ? plaintext_len - MIX_REPLY_BODY_OFF : 0;
}

size_t mix_reply_unacked_body_len(size_t plaintext_len)
{
	return plaintext_len > MIX_REPLY_UNACKED_BODY_OFF ? plaintext_len - MIX_REPLY_UNACKED_BODY_OFF : 0;
}

int mix_reply_seal(uint8_t *out, size_t plaintext_len, const struct mix_surb_ack *ack,
		   const uint8_t key[MIX_REPLY_KEY_LEN], const uint8_t *body, size_t body_len)
{
	size_t want = ack ? mix_reply_body_len(plaintext_len) : mix_reply_unacked_body_len(plaintext_len);
	size_t off = ack ? MIX_REPLY_DIGEST_OFF : MIX_REPLY_UNACKED_DIGEST_OFF;
	if (body_len == 0 || body_len != want)
		return -EINVAL;
	if (ack)
		memcpy(out, ack->bytes, MIX_SURB_ACK_LEN);
	else
		memset(out, 0, MIX_SURB_ACK_HOP_LEN);
	mix_reply_key_digest(key, out + off);
	nym_aes_ctr_xor_ctr64(key, zero_iv, body, out + off + MIX_REPLY_DIGEST_LEN, body_len);
	return 0;
}

int mix_reply_digest(const uint8_t *forwarded, size_t len, const uint8_t **digest)
{
	if (len <= MIX_REPLY_DIGEST_LEN)
		return -EINVAL;
	*digest = forwarded;
	return 0;
}

int mix_reply_open(uint8_t *forwarded, size_t len, const uint8_t key[MIX_REPLY_KEY_LEN],
		   uint8_t **body, size_t *body_len)
{
	if (len <= MIX_REPLY_DIGEST_LEN)
		return -EINVAL;
	uint8_t expect[MIX_REPLY_DIGEST_LEN];
	mix_reply_key_digest(key, expect);
	bool match = nym_ct_equal(expect, forwarded, MIX_REPLY_DIGEST_LEN);
	if (!match)
		return -EINVAL;
	nym_aes_ctr_xor_ctr64(key, zero_iv, forwarded + MIX_REPLY_DIGEST_LEN, forwarded + MIX_REPLY_DIGEST_LEN,
			      len - MIX_REPLY_DIGEST_LEN);
	*body = forwarded + MIX_REPLY_DIGEST_LEN;
	*body_len = len - MIX_REPLY_DIGEST_LEN;
	return 0;
}
