#include "ipr/ipr_addr.h"

#include <errno.h>
#include <string.h>

static void pair_of(uint16_t r, struct ipr_addr_pair *out)
{
	memset(out, 0, sizeof(*out));
	out->v4[0] = 10;
	out->v4[2] = (uint8_t)(r >> 8);
	out->v4[3] = (uint8_t)r;
	out->v6[0] = 0xfc;
	out->v6[14] = (uint8_t)(r >> 8);
	out->v6[15] = (uint8_t)r;
}

static bool in_pool(unsigned r)
{
	return r >= IPR_ADDR_INDEX_MIN && r <= IPR_ADDR_INDEX_MAX;
}

void ipr_addr_tun(struct ipr_addr_pair *out)
{
	pair_of(1, out);
}

int ipr_addr_from_index(uint16_t r, struct ipr_addr_pair *out)
{
	if (!in_pool(r))
		return -EINVAL;
	pair_of(r, out);
	return 0;
}

int ipr_addr_index_v4(const uint8_t v4[4], uint16_t *r)
{
	unsigned i = (unsigned)v4[2] << 8 | v4[3];
	if (v4[0] != 10 || v4[1] != 0 || !in_pool(i))
		return -EINVAL;
	*r = (uint16_t)i;
	return 0;
}

int ipr_addr_index_v6(const uint8_t v6[16], uint16_t *r)
{
	static const uint8_t prefix[14] = { 0xfc };
	unsigned i = (unsigned)v6[14] << 8 | v6[15];
	if (memcmp(v6, prefix, sizeof(prefix)) != 0 || !in_pool(i))
		return -EINVAL;
	*r = (uint16_t)i;
	return 0;
}

/* Uniform in 2..65534: 16-bit draws, the three outside the range drawn again. */
static uint16_t draw_index(const struct nym_rng *rng)
{
	for (;;) {
		uint8_t b[2];
		nym_rng_fill(rng, b, sizeof(b));
		unsigned r = (unsigned)b[0] << 8 | b[1];
		if (in_pool(r))
			return (uint16_t)r;
	}
}

int ipr_addr_allocate(const struct nym_rng *rng, ipr_addr_taken_fn taken, void *ctx,
		      struct ipr_addr_pair *out, uint16_t *r_out)
{
	for (int attempt = 0; attempt < IPR_ADDR_ATTEMPTS; attempt++) {
		uint16_t r = draw_index(rng);
		pair_of(r, out);
		if (!taken(out, r, ctx)) {
			*r_out = r;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}
