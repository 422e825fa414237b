#include "mix/mix_delay.h"

#include <math.h>

uint64_t mix_delay_sample_ns(uint64_t mean_ns, const struct nym_rng *rng)
{
	if (mean_ns == 0)
		return 0;
	/* Inversion: -ln(U) is Exp(1) for U uniform in (0, 1); nym_rng_unit never returns 0,
	 * so the logarithm is finite (at most about 37 with 53-bit U). */
	double x = -log(nym_rng_unit(rng)) * (double)mean_ns;
	double rounded = round(x);
	if (rounded >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)rounded;
}

void mix_delay_sample_route(uint64_t mean_ns, const struct nym_rng *rng, uint64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = mix_delay_sample_ns(mean_ns, rng);
}
