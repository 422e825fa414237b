#include "crypto/secret.h"

#include <errno.h>
#include <sodium.h>

int nym_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
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

double nym_rng_unit(const struct nym_rng *rng)
{
	uint64_t r;
	nym_rng_fill(rng, &r, sizeof(r));
	/* 53 random mantissa bits, shifted off zero. */
	return ((double)(r >> 11) + 0.5) / 9007199254740992.0;
}
