/* lib/awg: the AWG 1.0 transform over hand-built datagrams, every validation rule, the text
 * form and the presets. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "awg/awg.h"
#include "crypto/secret.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(awg, .init = setup);

static const struct awg_params P = {
	.jc = 5, .jmin = 50, .jmax = 60, .s1 = 20, .s2 = 30, .h1 = 1000, .h2 = 2000, .h3 = 3000, .h4 = 4000,
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A plain WireGuard message of `type` and `len` bytes, with a recognisable body. */
static void wg_msg(uint8_t *m, unsigned type, size_t len)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(0x40 + i);
	m[0] = (uint8_t)type;
	m[1] = m[2] = m[3] = 0;
}

static void counter_fill(void *ctx, uint8_t *out, size_t len)
{
	uint8_t *c = ctx;
	for (size_t i = 0; i < len; i++)
		out[i] = (*c)++;
}

static void expect_rule(struct awg_params p, const char *fragment)
{
	const char *rule = NULL;
	cr_assert_eq(awg_params_validate(&p, &rule), -EINVAL, "%s", fragment);
	cr_assert_not_null(rule);
	cr_assert(strstr(rule, fragment), "rule '%s' lacks '%s'", rule, fragment);
}

Test(awg, validate_every_rule)
{
	struct awg_params ok = P, p;
	cr_assert_eq(awg_params_validate(&ok, NULL), 0);
	struct awg_params zero = { 0 };
	cr_assert_eq(awg_params_validate(&zero, NULL), 0);

	p = ok, p.jmax = 65535, p.jmin = 0;
	expect_rule(p, "Jmax must be below 65535");
	p = ok, p.jmin = 61;
	expect_rule(p, "Jmin must not exceed Jmax");
	p = ok, p.s1 = 65535 - 148;
	expect_rule(p, "148 + S1 must be below 65535");
	p = ok, p.s2 = 65535 - 92;
	expect_rule(p, "92 + S2 must be below 65535");
	p = ok, p.s1 = 10, p.s2 = 66;
	expect_rule(p, "S1 + 56 must differ from S2");
	p = ok, p.h3 = 1000;
	expect_rule(p, "must differ from each other");
	/* An H <= 4 takes its default: h1 = 2 means 1, which collides with nothing ... */
	p = ok, p.h1 = 2, p.h2 = 3;
	cr_assert_eq(awg_params_validate(&p, NULL), 0);
	/* ... but a custom value equal to another message's default does. */
	p = ok, p.h1 = 0, p.h2 = 5, p.h3 = 5;
	expect_rule(p, "must differ from each other");
	p = ok, p.jc = 129;
	expect_rule(p, "Jc must be at most 128 (NymVPN");
	p = ok, p.jmax = 1281;
	expect_rule(p, "Jmax must be at most 1280 (NymVPN");
	p = ok, p.s1 = 1281;
	expect_rule(p, "S1 must be at most 1280 (NymVPN");
	p = ok, p.s2 = 1281;
	expect_rule(p, "S2 must be at most 1280 (NymVPN");
	p = ok, p.h4 = 0x80000000u;
	expect_rule(p, "at most 2147483647");
	/* Boundaries that pass. */
	p = ok, p.jc = 128, p.jmin = 1280, p.jmax = 1280, p.s1 = 1280, p.s2 = 1280, p.h4 = 0x7fffffff;
	cr_assert_eq(awg_params_validate(&p, NULL), 0);
}

Test(awg, presets)
{
	struct awg_params p;
	cr_assert_eq(awg_params_preset("off", &p), 0);
	cr_assert_not(awg_params_active(&p));
	struct awg_params zero = { 0 };
	cr_assert_not(awg_params_active(&zero));
	cr_assert(awg_params_equal(&p, &zero));

	cr_assert_eq(awg_params_preset("base", &p), 0);
	char text[AWG_PARAMS_TEXT_MAX];
	cr_assert_eq(awg_params_format(&p, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4");
	cr_assert(awg_params_active(&p));
	cr_assert_not(awg_params_changes_wire(&p));

	for (int i = 0; i < 200; i++) {
		cr_assert_eq(awg_params_preset("random", &p), 0);
		cr_assert_eq(awg_params_validate(&p, NULL), 0);
		cr_assert(p.jc >= 3 && p.jc < 10);
		cr_assert(p.jmin < 900 && p.jmax == 1000);
		cr_assert(p.s1 >= 15 && p.s1 < 150 && p.s2 >= 15 && p.s2 < 150);
		cr_assert(p.h1 >= 5 && p.h2 >= 5 && p.h3 >= 5 && p.h4 >= 5);
		cr_assert(p.h1 < 0x7fffffff && p.h4 < 0x7fffffff);
		cr_assert(awg_params_changes_wire(&p));
	}
	cr_assert_eq(awg_params_preset("strong", &p), -EINVAL);
	cr_assert_eq(awg_params_preset(NULL, &p), -EINVAL);
}

/* A source that always gives the same bytes makes every random set equal: S1 + 56 == S2 can
 * never be escaped, H values collide; the preset gives up after its 16 tries. */
static void const_fill(void *ctx, uint8_t *out, size_t len)
{
	(void)ctx;
	memset(out, 0, len);
}

Test(awg, random_gives_up_on_a_stuck_source)
{
	struct nym_rng rng = { const_fill, NULL };
	struct awg_params p;
	cr_assert_eq(awg_params_preset_rng("random", &p, &rng), -EAGAIN);
	cr_assert_not(awg_params_active(&p));
}

Test(awg, text_round_trip_and_faults)
{
	struct awg_params p, q;
	const char *why = NULL;
	char text[AWG_PARAMS_TEXT_MAX];
	cr_assert_eq(awg_params_format(&P, text, sizeof(text)), 0);
	cr_assert_eq(awg_params_parse(text, &p, &why), 0, "%s", why);
	cr_assert_eq(memcmp(&p, &P, sizeof(p)), 0);
	cr_assert_eq(awg_params_parse("h4=9,jc=1", &q, NULL), 0);
	cr_assert_eq(q.jc, 1);
	cr_assert_eq(q.h4, 9);
	cr_assert_eq(q.h1, 0);

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty" },
		{ "jc", "key=value" },
		{ "jc=1,", "key=value" },
		{ "jx=1", "unknown key" },
		{ "jc=1,jc=2", "twice" },
		{ "jc=-1", "decimal" },
		{ "jc=0x10", "decimal number followed" },
		{ "jc=1 ", "decimal number followed" },
		{ "jc=65536", "at most 65535" },
		{ "h1=4294967296", "too large" },
		{ "jmin=5,jmax=4", "Jmin must not exceed Jmax" },
		{ "s1=0,s2=56", "S1 + 56 must differ from S2" },
		{ "h1=7,h2=7", "must differ from each other" },
		{ "jc=200", "Jc must be at most 128" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		q = P;
		cr_assert_eq(awg_params_parse(bad[i].text, &q, &why), -EINVAL, "%s", bad[i].text);
		cr_assert(why && strstr(why, bad[i].why), "'%s': '%s'", bad[i].text, why ? why : "(null)");
		cr_assert_eq(memcmp(&q, &P, sizeof(q)), 0, "parse wrote on failure");
	}
	cr_assert_eq(awg_params_format(&P, text, 10), -ENOSPC);
}

Test(awg, encode_each_message)
{
	uint8_t m[200], out[400];
	uint8_t ctr = 0xa0;
	struct nym_rng rng = { counter_fill, &ctr };

	/* Initiation: S1 random bytes, then the message with H1. */
	wg_msg(m, 1, 148);
	cr_assert_eq(awg_encode(&P, m, 148, out, sizeof(out), &rng), 148 + 20);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(out[i], 0xa0 + i);
	cr_assert_eq(le32(out + 20), 1000);
	cr_assert_eq(memcmp(out + 24, m + 4, 144), 0);
	/* Response: S2 prefix and H2. */
	wg_msg(m, 2, 92);
	cr_assert_eq(awg_encode(&P, m, 92, out, sizeof(out), &rng), 92 + 30);
	cr_assert_eq(le32(out + 30), 2000);
	cr_assert_eq(memcmp(out + 34, m + 4, 88), 0);
	/* Cookie and transport: no prefix, H3 / H4. */
	wg_msg(m, 3, 64);
	cr_assert_eq(awg_encode(&P, m, 64, out, sizeof(out), &rng), 64);
	cr_assert_eq(le32(out), 3000);
	wg_msg(m, 4, 32);
	cr_assert_eq(awg_encode(&P, m, 32, out, sizeof(out), &rng), 32);
	cr_assert_eq(le32(out), 4000);
	wg_msg(m, 4, 177);
	cr_assert_eq(awg_encode(&P, m, 177, out, sizeof(out), &rng), 177);
	cr_assert_eq(le32(out), 4000);
	cr_assert_eq(memcmp(out + 4, m + 4, 173), 0);

	/* Not WireGuard: bad type, wrong sizes, reserved bytes set, too short. */
	wg_msg(m, 5, 64);
	cr_assert_eq(awg_encode(&P, m, 64, out, sizeof(out), &rng), -EINVAL);
	wg_msg(m, 1, 149);
	cr_assert_eq(awg_encode(&P, m, 149, out, sizeof(out), &rng), -EINVAL);
	wg_msg(m, 2, 91);
	cr_assert_eq(awg_encode(&P, m, 91, out, sizeof(out), &rng), -EINVAL);
	wg_msg(m, 3, 65);
	cr_assert_eq(awg_encode(&P, m, 65, out, sizeof(out), &rng), -EINVAL);
	wg_msg(m, 4, 31);
	cr_assert_eq(awg_encode(&P, m, 31, out, sizeof(out), &rng), -EINVAL);
	wg_msg(m, 4, 40);
	m[2] = 1;
	cr_assert_eq(awg_encode(&P, m, 40, out, sizeof(out), &rng), -EINVAL);
	cr_assert_eq(awg_encode(&P, m, 3, out, sizeof(out), &rng), -EINVAL);
	/* Room. */
	wg_msg(m, 1, 148);
	cr_assert_eq(awg_encode(&P, m, 148, out, 167, &rng), -ENOSPC);
	cr_assert_eq(awg_encode(&P, m, 148, out, 168, &rng), 168);
}

Test(awg, encode_in_place_with_headroom)
{
	uint8_t buf[400], ref[148];
	wg_msg(ref, 1, 148);
	memcpy(buf + 20, ref, 148);
	/* The message sits at buf + S1: encoding into buf moves nothing. */
	cr_assert_eq(awg_encode(&P, buf + 20, 148, buf, sizeof(buf), NULL), 168);
	cr_assert_eq(le32(buf + 20), 1000);
	cr_assert_eq(memcmp(buf + 24, ref + 4, 144), 0);
	/* Same buffer without headroom: the message moves up by S1. */
	memcpy(buf, ref, 148);
	cr_assert_eq(awg_encode(&P, buf, 148, buf, sizeof(buf), NULL), 168);
	cr_assert_eq(le32(buf + 20), 1000);
	cr_assert_eq(memcmp(buf + 24, ref + 4, 144), 0);
}

Test(awg, decode_round_trip)
{
	static const size_t lens[] = { 148, 92, 64, 32, 33, 64, 148, 92, 1500 };
	static const unsigned types[] = { 1, 2, 3, 4, 4, 4, 4, 4, 4 };
	uint8_t m[1600], out[1700];
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		wg_msg(m, types[i], lens[i]);
		ssize_t n = awg_encode(&P, m, lens[i], out, sizeof(out), NULL);
		cr_assert_gt(n, 0);
		size_t off = 99;
		cr_assert_eq(awg_classify(&P, out, (size_t)n, &off), types[i], "case %zu", i);
		cr_assert_eq(awg_decode(&P, out, (size_t)n, &off), types[i], "case %zu", i);
		cr_assert_eq((size_t)n - off, lens[i]);
		cr_assert_eq(memcmp(out + off, m, lens[i]), 0, "case %zu", i);
	}
}

Test(awg, classify_rules)
{
	uint8_t d[400];
	size_t off;
	memset(d, 0x77, sizeof(d));

	/* Initiation size with H1 at offset S1. */
	d[20] = 0xe8, d[21] = 0x03, d[22] = 0, d[23] = 0; /* 1000 */
	cr_assert_eq(awg_classify(&P, d, 168, &off), 1);
	cr_assert_eq(off, 20);
	/* H1 at the right offset but the wrong size: not an initiation, and not H4 at 0: drop. */
	cr_assert_eq(awg_classify(&P, d, 169, &off), 0);
	cr_assert_eq(awg_classify(&P, d, 148, &off), 0);
	/* Plain WireGuard initiation against AWG parameters: dropped. */
	memset(d, 0x77, sizeof(d));
	d[0] = 1, d[1] = d[2] = d[3] = 0;
	cr_assert_eq(awg_classify(&P, d, 148, &off), 0);
	/* Response: size 92 + S2, H2 at S2. */
	memset(d, 0x77, sizeof(d));
	d[30] = 0xd0, d[31] = 0x07, d[32] = 0, d[33] = 0; /* 2000 */
	cr_assert_eq(awg_classify(&P, d, 122, &off), 2);
	cr_assert_eq(off, 30);
	/* H2 at offset S1 in an initiation-sized datagram is nothing. */
	memset(d, 0x77, sizeof(d));
	d[20] = 0xd0, d[21] = 0x07, d[22] = 0, d[23] = 0;
	cr_assert_eq(awg_classify(&P, d, 168, &off), 0);
	/* Cookie: 64 with H3 at 0. */
	memset(d, 0x77, sizeof(d));
	d[0] = 0xb8, d[1] = 0x0b, d[2] = 0, d[3] = 0; /* 3000 */
	cr_assert_eq(awg_classify(&P, d, 64, &off), 3);
	cr_assert_eq(off, 0);
	cr_assert_eq(awg_classify(&P, d, 65, &off), 0);
	/* Transport: H4 at 0, any size from 32, including the handshake sizes. */
	d[0] = 0xa0, d[1] = 0x0f; /* 4000 */
	for (size_t n = 32; n < 400; n++) {
		cr_assert_eq(awg_classify(&P, d, n, &off), 4, "%zu", n);
		cr_assert_eq(off, 0);
	}
	cr_assert_eq(awg_classify(&P, d, 31, &off), 0);
	cr_assert_eq(awg_classify(&P, d, 4, &off), 0);
	cr_assert_eq(awg_classify(&P, d, 0, &off), 0);
	/* Plain transport (type 4) is not H4. */
	d[0] = 4, d[1] = 0;
	cr_assert_eq(awg_classify(&P, d, 100, &off), 0);

	/* Off (zeroed) classifies plain WireGuard. */
	struct awg_params off_p = { 0 };
	wg_msg(d, 1, 148);
	cr_assert_eq(awg_classify(&off_p, d, 148, &off), 1);
	cr_assert_eq(off, 0);
	wg_msg(d, 2, 92);
	cr_assert_eq(awg_classify(&off_p, d, 92, &off), 2);
	wg_msg(d, 4, 99);
	cr_assert_eq(awg_classify(&off_p, d, 99, &off), 4);
	/* Base: junk (sizes 40..69, random contents) does not classify, plain messages do. */
	struct awg_params base;
	cr_assert_eq(awg_params_preset("base", &base), 0);
	wg_msg(d, 1, 148);
	cr_assert_eq(awg_classify(&base, d, 148, &off), 1);
	memset(d, 0x99, 64);
	cr_assert_eq(awg_classify(&base, d, 64, &off), 0);
}

Test(awg, decode_restores_the_plain_type)
{
	uint8_t d[200];
	size_t off;
	memset(d, 0x55, sizeof(d));
	d[0] = 0xa0, d[1] = 0x0f, d[2] = 0, d[3] = 0;
	cr_assert_eq(awg_decode(&P, d, 100, &off), 4);
	cr_assert_eq(le32(d), 4);
	cr_assert_eq(d[4], 0x55);
	/* A datagram that does not classify is left alone. */
	memset(d, 0x55, sizeof(d));
	cr_assert_eq(awg_decode(&P, d, 100, &off), 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(d[i], 0x55);
}

Test(awg, junk_sizes)
{
	struct awg_params p = P;
	for (int i = 0; i < 2000; i++) {
		size_t n = awg_junk_size(&p, NULL);
		cr_assert(n >= 50 && n < 60, "%zu", n);
	}
	/* Jmin == Jmax: Jmax bumped by one, every size is Jmin. */
	p.jmin = p.jmax = 77;
	for (int i = 0; i < 100; i++)
		cr_assert_eq(awg_junk_size(&p, NULL), 77);
	p.jmin = p.jmax = 0;
	cr_assert_eq(awg_junk_size(&p, NULL), 0);
	/* Every size of the range is drawn. */
	p.jmin = 40, p.jmax = 44;
	int seen[4] = { 0 };
	for (int i = 0; i < 400; i++)
		seen[awg_junk_size(&p, NULL) - 40]++;
	for (int i = 0; i < 4; i++)
		cr_assert_gt(seen[i], 0);
	uint8_t j[64] = { 0 }, z[64] = { 0 };
	awg_junk_fill(j, sizeof(j), NULL);
	cr_assert_neq(memcmp(j, z, sizeof(j)), 0);
	cr_assert_eq(awg_rand_range(7, 7, NULL), 7);
	cr_assert_eq(awg_rand_range(7, 8, NULL), 7);
}

Test(awg, header_defaults)
{
	struct awg_params p = { .h1 = 4, .h2 = 0, .h3 = 9, .h4 = 1 };
	cr_assert_eq(awg_params_header(&p, 1), 1);
	cr_assert_eq(awg_params_header(&p, 2), 2);
	cr_assert_eq(awg_params_header(&p, 3), 9);
	cr_assert_eq(awg_params_header(&p, 4), 4);
	cr_assert_eq(awg_params_header(&p, 5), 0);
	cr_assert_eq(awg_wg_type((const uint8_t *)"\x04\0\0", 3), 0);
}
