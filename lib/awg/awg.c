/* AmneziaWG 1.0 transform, parameters and presets (spec wireguard.md §1.1, §1.6). */
#include "awg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secret.h"

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

uint32_t awg_params_header(const struct awg_params *p, unsigned type)
{
	uint32_t h;

	switch (type) {
	case AWG_MSG_INIT:
		h = p->h1;
		break;
	case AWG_MSG_RESPONSE:
		h = p->h2;
		break;
	case AWG_MSG_COOKIE:
		h = p->h3;
		break;
	case AWG_MSG_TRANSPORT:
		h = p->h4;
		break;
	default:
		return 0;
	}
	return h <= 4 ? type : h;
}

bool awg_params_active(const struct awg_params *p)
{
	return p->jc || p->jmin || p->jmax || p->s1 || p->s2 || p->h1 > 4 || p->h2 > 4 || p->h3 > 4 ||
	       p->h4 > 4;
}

bool awg_params_changes_wire(const struct awg_params *p)
{
	return p->s1 || p->s2 || p->h1 > 4 || p->h2 > 4 || p->h3 > 4 || p->h4 > 4;
}

bool awg_params_equal(const struct awg_params *a, const struct awg_params *b)
{
	if (a->jc != b->jc || a->jmin != b->jmin || a->jmax != b->jmax || a->s1 != b->s1 || a->s2 != b->s2)
		return false;
	for (unsigned t = 1; t <= 4; t++)
		if (awg_params_header(a, t) != awg_params_header(b, t))
			return false;
	return true;
}

static int broken(const char **rule, const char *what)
{
	if (rule)
		*rule = what;
	return -EINVAL;
}

int awg_params_validate(const struct awg_params *p, const char **rule)
{
	/* AWG 1.0 (amneziawg-go v0.2.12 handlePostConfig). */
	if (p->jmax >= AWG_MAX_SEGMENT)
		return broken(rule, "Jmax must be below 65535 (AWG 1.0 segment size)");
	if (p->jmin > p->jmax)
		return broken(rule, "Jmin must not exceed Jmax (AWG 1.0)");
	if ((uint32_t)AWG_SIZE_INIT + p->s1 >= AWG_MAX_SEGMENT)
		return broken(rule, "148 + S1 must be below 65535 (AWG 1.0)");
	if ((uint32_t)AWG_SIZE_RESPONSE + p->s2 >= AWG_MAX_SEGMENT)
		return broken(rule, "92 + S2 must be below 65535 (AWG 1.0)");
	if ((uint32_t)p->s1 + 56 == p->s2)
		return broken(rule, "S1 + 56 must differ from S2 (AWG 1.0: initiation and response sizes must differ)");
	for (unsigned a = 1; a <= 4; a++)
		for (unsigned b = a + 1; b <= 4; b++)
			if (awg_params_header(p, a) == awg_params_header(p, b))
				return broken(rule, "H1, H2, H3 and H4 must differ from each other (AWG 1.0, after "
						    "values <= 4 take their default 1..4)");
	/* NymVPN's AmneziaConfig::validate() (nym-wg-go amnezia.rs). */
	if (p->jc > AWG_NYM_MAX_JC)
		return broken(rule, "Jc must be at most 128 (NymVPN validate)");
	if (p->jmax > AWG_NYM_MAX_SIZE)
		return broken(rule, "Jmax must be at most 1280 (NymVPN validate)");
	if (p->s1 > AWG_NYM_MAX_SIZE)
		return broken(rule, "S1 must be at most 1280 (NymVPN validate)");
	if (p->s2 > AWG_NYM_MAX_SIZE)
		return broken(rule, "S2 must be at most 1280 (NymVPN validate)");
	if (p->h1 > INT32_MAX || p->h2 > INT32_MAX || p->h3 > INT32_MAX || p->h4 > INT32_MAX)
		return broken(rule, "H1..H4 must be at most 2147483647 (NymVPN keeps them as i32)");
	return 0;
}

uint32_t awg_rand_range(uint32_t lo, uint32_t hi, const struct nym_rng *rng)
{
	uint32_t span = hi - lo, limit, v;

	if (hi <= lo)
		return lo;
	/* Reject the top partial block so every value in [0, span) is equally likely. */
	limit = UINT32_MAX - (uint32_t)(((uint64_t)UINT32_MAX + 1) % span);
	do {
		uint8_t b[4];

		nym_rng_fill(rng, b, sizeof(b));
		v = get_le32(b);
	} while (v > limit);
	return lo + v % span;
}

int awg_params_preset_rng(const char *name, struct awg_params *p, const struct nym_rng *rng)
{
	if (!name)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->h1 = 1;
	p->h2 = 2;
	p->h3 = 3;
	p->h4 = 4;
	if (strcmp(name, "off") == 0)
		return 0;
	if (strcmp(name, "base") == 0) {
		p->jc = 4;
		p->jmin = 40;
		p->jmax = 70;
		return 0;
	}
	if (strcmp(name, "random") != 0)
		return -EINVAL;
	/* NymVPN's AmneziaConfig::rand(): 16 draws at most until validate() passes. */
	for (int tries = 0; tries < 16; tries++) {
		p->jc = (uint16_t)awg_rand_range(3, 10, rng);
		p->jmin = (uint16_t)awg_rand_range(0, 900, rng);
		p->jmax = 1000;
		p->s1 = (uint16_t)awg_rand_range(15, 150, rng);
		p->s2 = (uint16_t)awg_rand_range(15, 150, rng);
		p->h1 = awg_rand_range(5, INT32_MAX, rng);
		p->h2 = awg_rand_range(5, INT32_MAX, rng);
		p->h3 = awg_rand_range(5, INT32_MAX, rng);
		p->h4 = awg_rand_range(5, INT32_MAX, rng);
		if (awg_params_validate(p, NULL) == 0)
			return 0;
	}
	memset(p, 0, sizeof(*p));
	return -EAGAIN;
}

int awg_params_preset(const char *name, struct awg_params *p)
{
	return awg_params_preset_rng(name, p, NULL);
}

static const char *const keys[9] = { "jc", "jmin", "jmax", "s1", "s2", "h1", "h2", "h3", "h4" };

int awg_params_format(const struct awg_params *p, char *out, size_t cap)
{
	int n = snprintf(out, cap, "jc=%u,jmin=%u,jmax=%u,s1=%u,s2=%u,h1=%u,h2=%u,h3=%u,h4=%u", p->jc, p->jmin,
			 p->jmax, p->s1, p->s2, p->h1, p->h2, p->h3, p->h4);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

int awg_params_parse(const char *text, struct awg_params *p, const char **why)
{
	unsigned seen = 0;
	uint64_t v[9] = { 0 };
	const char *s = text;

	if (!text || !*text)
		return broken(why, "empty AmneziaWG parameter text");
	for (;;) {
		const char *eq = strchr(s, '='), *end;
		size_t klen;
		int k = -1;
		uint64_t val = 0;

		if (!eq)
			return broken(why, "expected key=value (keys jc, jmin, jmax, s1, s2, h1..h4)");
		klen = (size_t)(eq - s);
		for (int i = 0; i < 9; i++)
			if (strlen(keys[i]) == klen && memcmp(keys[i], s, klen) == 0)
				k = i;
		if (k < 0)
			return broken(why, "unknown key (keys are jc, jmin, jmax, s1, s2, h1..h4)");
		if (seen & (1u << k))
			return broken(why, "a key appears twice");
		seen |= 1u << k;
		end = eq + 1;
		if (*end < '0' || *end > '9')
			return broken(why, "a value must be a decimal number");
		while (*end >= '0' && *end <= '9') {
			val = val * 10 + (uint64_t)(*end - '0');
			if (val > UINT32_MAX)
				return broken(why, "a value is too large");
			end++;
		}
		if (k < 5 && val > UINT16_MAX)
			return broken(why, "jc, jmin, jmax, s1 and s2 must be at most 65535");
		v[k] = val;
		if (*end == '\0')
			break;
		if (*end != ',')
			return broken(why, "a value must be a decimal number followed by ',' or the end");
		s = end + 1;
	}
	struct awg_params q = {
		.jc = (uint16_t)v[0], .jmin = (uint16_t)v[1], .jmax = (uint16_t)v[2], .s1 = (uint16_t)v[3],
		.s2 = (uint16_t)v[4], .h1 = (uint32_t)v[5], .h2 = (uint32_t)v[6], .h3 = (uint32_t)v[7],
		.h4 = (uint32_t)v[8],
	};
	int rc = awg_params_validate(&q, why);

	if (rc)
		return rc;
	*p = q;
	return 0;
}

int awg_params_from_spec(const char *spec, struct awg_params *p, const char **why)
{
	if (spec && (strcmp(spec, "off") == 0 || strcmp(spec, "base") == 0 || strcmp(spec, "random") == 0)) {
		int rc = awg_params_preset(spec, p);
		if (rc)
			return broken(why, "no valid random parameter set drawn");
		return 0;
	}
	return awg_params_parse(spec, p, why);
}

unsigned awg_wg_type(const uint8_t *msg, size_t len)
{
	if (len < 4)
		return 0;
	switch (get_le32(msg)) {
	case AWG_MSG_INIT:
		return len == AWG_SIZE_INIT ? AWG_MSG_INIT : 0;
	case AWG_MSG_RESPONSE:
		return len == AWG_SIZE_RESPONSE ? AWG_MSG_RESPONSE : 0;
	case AWG_MSG_COOKIE:
		return len == AWG_SIZE_COOKIE ? AWG_MSG_COOKIE : 0;
	case AWG_MSG_TRANSPORT:
		return len >= AWG_SIZE_TRANSPORT_MIN ? AWG_MSG_TRANSPORT : 0;
	default:
		return 0;
	}
}

size_t awg_prefix_len(const struct awg_params *p, unsigned type)
{
	return type == AWG_MSG_INIT ? p->s1 : type == AWG_MSG_RESPONSE ? p->s2 : 0;
}

ssize_t awg_encode(const struct awg_params *p, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
		   const struct nym_rng *rng)
{
	unsigned type = awg_wg_type(msg, len);
	size_t pre;

	if (!type)
		return -EINVAL;
	pre = awg_prefix_len(p, type);
	if (len + pre > cap)
		return -ENOSPC;
	if (out + pre != msg)
		memmove(out + pre, msg, len);
	if (pre)
		nym_rng_fill(rng, out, pre);
	put_le32(out + pre, awg_params_header(p, type));
	return (ssize_t)(len + pre);
}

unsigned awg_classify(const struct awg_params *p, const uint8_t *dgram, size_t len, size_t *off)
{
	/* Exact sizes first, with the expected header at the end of the prefix (§1.1). */
	static const unsigned order[4] = { AWG_MSG_INIT, AWG_MSG_RESPONSE, AWG_MSG_COOKIE, AWG_MSG_TRANSPORT };
	static const size_t base[5] = { 0, AWG_SIZE_INIT, AWG_SIZE_RESPONSE, AWG_SIZE_COOKIE,
					AWG_SIZE_TRANSPORT_MIN };

	for (int i = 0; i < 4; i++) {
		unsigned t = order[i];
		size_t pre = awg_prefix_len(p, t);

		if (len == base[t] + pre && get_le32(dgram + pre) == awg_params_header(p, t)) {
			*off = pre;
			return t;
		}
	}
	/* Otherwise a transport message: H4 at offset 0. */
	if (len >= AWG_SIZE_TRANSPORT_MIN && get_le32(dgram) == awg_params_header(p, AWG_MSG_TRANSPORT)) {
		*off = 0;
		return AWG_MSG_TRANSPORT;
	}
	return 0;
}

unsigned awg_decode(const struct awg_params *p, uint8_t *dgram, size_t len, size_t *off)
{
	unsigned t = awg_classify(p, dgram, len, off);

	if (t)
		put_le32(dgram + *off, t);
	return t;
}

size_t awg_junk_size(const struct awg_params *p, const struct nym_rng *rng)
{
	uint32_t lo = p->jmin, hi = p->jmax;

	/* Jmin == Jmax: Jmax bumped by one so the draw works (amneziawg-go). */
	if (hi <= lo)
		hi = lo + 1;
	return awg_rand_range(lo, hi, rng);
}

void awg_junk_fill(uint8_t *out, size_t len, const struct nym_rng *rng)
{
	if (len)
		nym_rng_fill(rng, out, len);
}
