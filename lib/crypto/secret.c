#include "crypto/secret.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int nym_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void nym_crypto_fatal(const char *what)
{
	nym_log(NYM_LOG_ERROR, "crypto: %s failed; stopping rather than continue without it", what);
	abort();
}

void nym_memzero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

bool nym_ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

void nym_random(void *out, size_t len)
{
	randombytes_buf(out, len);
}

void nym_rng_fill(const struct nym_rng *rng, void *out, size_t len)
{
	if (rng)
		rng->fill(rng->ctx, out, len);
	else
		randombytes_buf(out, len);
}

static void seeded_fill(void *ctx, uint8_t *out, size_t len)
{
	struct nym_seeded_rng *r = ctx;
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	/* Start at the 64-byte block holding `offset`, discard the bytes before it. */
	uint8_t head[64] = { 0 };
	size_t skip = (size_t)(r->offset % 64);
	uint64_t block = r->offset / 64;
	if (skip) {
		if (crypto_stream_chacha20_xor_ic(head, head, sizeof(head), nonce, block, r->seed) != 0)
			nym_crypto_fatal("seeded ChaCha20 stream");
		size_t take = len < 64 - skip ? len : 64 - skip;
		memcpy(out, head + skip, take);
		out += take;
		len -= take;
		r->offset += take;
		block++;
	}
	if (len) {
		memset(out, 0, len);
		if (crypto_stream_chacha20_xor_ic(out, out, len, nonce, block, r->seed) != 0)
			nym_crypto_fatal("seeded ChaCha20 stream");
		r->offset += len;
	}
	sodium_memzero(head, sizeof(head));
}

struct nym_rng nym_seeded_rng_init(struct nym_seeded_rng *state, const uint8_t seed[32])
{
	memcpy(state->seed, seed, sizeof(state->seed));
	state->offset = 0;
	return (struct nym_rng){ .fill = seeded_fill, .ctx = state };
}

double nym_rng_unit(const struct nym_rng *rng)
{
	uint64_t r;
	nym_rng_fill(rng, &r, sizeof(r));
	/* 53 random mantissa bits, shifted off zero. */
	return ((double)(r >> 11) + 0.5) / 9007199254740992.0;
}
