/* AWG receive classification: the first 26 bytes are a parameter set (jc, jmin, jmax, s1, s2 as
 * LE u16, h1..h4 as LE u32; a set that does not validate is replaced by a fixed one), the rest
 * is a datagram. classify and decode agree; a decoded datagram is a plain WireGuard message of
 * the type returned, and encoding it again classifies the same way with the same message. */
#include <stdlib.h>
#include <string.h>

#include "awg/awg.h"
#include "crypto/secret.h"
#include "fuzz.h"

static uint32_t rd(const uint8_t *p, int n)
{
	uint32_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void zero_fill(void *ctx, uint8_t *out, size_t len)
{
	(void)ctx;
	memset(out, 0xa5, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct awg_params fixed = {
		.jc = 4, .jmin = 40, .jmax = 70, .s1 = 20, .s2 = 30, .h1 = 1000, .h2 = 2000, .h3 = 3000, .h4 = 4000,
	};
	struct awg_params p = fixed;
	struct nym_rng rng = { zero_fill, NULL };

	if (size < 26)
		return 0;
	struct awg_params q = {
		.jc = (uint16_t)rd(data, 2), .jmin = (uint16_t)rd(data + 2, 2), .jmax = (uint16_t)rd(data + 4, 2),
		.s1 = (uint16_t)rd(data + 6, 2), .s2 = (uint16_t)rd(data + 8, 2), .h1 = rd(data + 10, 4),
		.h2 = rd(data + 14, 4), .h3 = rd(data + 18, 4), .h4 = rd(data + 22, 4),
	};
	if (awg_params_validate(&q, NULL) == 0)
		p = q;
	size_t len = size - 26;
	uint8_t *d = malloc(len ? len : 1), *again = malloc(len + AWG_MAX_PREFIX + 1);
	if (!d || !again)
		abort();
	memcpy(d, data + 26, len);

	size_t off1 = 0, off2 = 0;
	unsigned t1 = awg_classify(&p, d, len, &off1);
	unsigned t2 = awg_decode(&p, d, len, &off2);
	if (t1 != t2 || (t1 && off1 != off2))
		abort();
	if (!t2) {
		if (memcmp(d, data + 26, len) != 0)
			abort();
	} else {
		if (off2 > len || awg_wg_type(d + off2, len - off2) != t2)
			abort();
		ssize_t n = awg_encode(&p, d + off2, len - off2, again, len + AWG_MAX_PREFIX + 1, &rng);
		size_t off3 = 0;
		if (n < 0 || (size_t)n != len || awg_classify(&p, again, (size_t)n, &off3) != t2 || off3 != off2)
			abort();
		if (memcmp(again + off3 + 4, d + off2 + 4, len - off2 - 4) != 0)
			abort();
	}
	free(d);
	free(again);
	return 0;
}
