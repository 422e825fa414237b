#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "util/bloom.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(bloom, .init = setup);

static void item(uint8_t out[32], uint64_t i, uint8_t tag)
{
	memset(out, tag, 32);
	memcpy(out, &i, sizeof(i));
}

Test(bloom, sizing_follows_the_formula)
{
	struct nym_bloom b;
	cr_assert_eq(nym_bloom_init(&b, 1000000, 1e-5, NULL), 0);
	/* m = -n ln p / ln2^2 = 23.96 bits per item, k = 17 */
	cr_assert(b.nbits >= 23962000 && b.nbits < 23962000 + 64 + 1000, "nbits %lu", b.nbits);
	cr_assert_eq(b.nbits % 64, 0);
	cr_assert_eq(b.nhashes, 17);
	nym_bloom_free(&b);
	cr_assert_eq(nym_bloom_init(&b, 0, 0.01, NULL), -EINVAL);
	cr_assert_eq(nym_bloom_init(&b, 10, 0.0, NULL), -EINVAL);
	cr_assert_eq(nym_bloom_init(&b, 10, 1.0, NULL), -EINVAL);
	cr_assert_eq(nym_bloom_init(&b, UINT64_MAX, 1e-9, NULL), -EINVAL);
	cr_assert_eq(nym_bloom_init_raw(&b, 100, 3, NULL), -EINVAL);
	cr_assert_eq(nym_bloom_init_raw(&b, 128, 0, NULL), -EINVAL);
	cr_assert_eq(nym_bloom_init_raw(&b, 128, 33, NULL), -EINVAL);
}

Test(bloom, no_false_negatives_and_rate_near_target)
{
	struct nym_bloom b;
	const uint64_t n = 20000;
	cr_assert_eq(nym_bloom_init(&b, n, 1e-3, NULL), 0);
	uint8_t x[32];
	uint64_t present = 0;
	for (uint64_t i = 0; i < n; i++) {
		item(x, i, 1);
		present += nym_bloom_test_and_insert(&b, x, sizeof(x));
	}
	/* While filling, the rate climbs from 0 to 1e-3: a handful of collisions at most. */
	cr_assert(present < 20, "%lu fresh items reported present", present);
	cr_assert_eq(b.inserted, n - present);
	for (uint64_t i = 0; i < n; i++) {
		item(x, i, 1);
		cr_assert(nym_bloom_test(&b, x, sizeof(x)), "false negative at %lu", i);
	}
	uint64_t fp = 0, trials = 200000;
	for (uint64_t i = 0; i < trials; i++) {
		item(x, i, 2);
		fp += nym_bloom_test(&b, x, sizeof(x));
	}
	double rate = (double)fp / (double)trials;
	cr_assert(rate < 2e-3, "false-positive rate %g", rate);
	cr_assert(rate > 2e-4, "false-positive rate %g suspiciously low", rate);
	double est = nym_bloom_current_fpr(&b);
	cr_assert(est > 5e-4 && est < 2e-3, "estimated %g", est);
	nym_bloom_free(&b);
}

Test(bloom, test_and_insert_and_clear)
{
	struct nym_bloom b;
	cr_assert_eq(nym_bloom_init(&b, 100, 1e-6, NULL), 0);
	cr_assert_not(nym_bloom_test(&b, "abc", 3));
	cr_assert_not(nym_bloom_test_and_insert(&b, "abc", 3));
	cr_assert(nym_bloom_test_and_insert(&b, "abc", 3));
	cr_assert(nym_bloom_test(&b, "abc", 3));
	cr_assert_eq(b.inserted, 1);
	nym_bloom_insert(&b, "", 0);
	cr_assert(nym_bloom_test(&b, "", 0));
	nym_bloom_clear(&b);
	cr_assert_not(nym_bloom_test(&b, "abc", 3));
	cr_assert_eq(b.inserted, 0);
	nym_bloom_free(&b);
}

Test(bloom, key_changes_positions)
{
	uint8_t k1[16] = { 1 }, k2[16] = { 2 };
	struct nym_bloom a, b;
	cr_assert_eq(nym_bloom_init_raw(&a, 1 << 16, 4, k1), 0);
	cr_assert_eq(nym_bloom_init_raw(&b, 1 << 16, 4, k2), 0);
	nym_bloom_insert(&a, "serial", 6);
	nym_bloom_insert(&b, "serial", 6);
	cr_assert(memcmp(a.words, b.words, (1 << 16) / 8) != 0);
	/* Same key, same bits: the filter is a pure function of key and items. */
	struct nym_bloom c;
	cr_assert_eq(nym_bloom_init_raw(&c, 1 << 16, 4, k1), 0);
	nym_bloom_insert(&c, "serial", 6);
	cr_assert_arr_eq(a.words, c.words, (1 << 16) / 8);
	nym_bloom_free(&a);
	nym_bloom_free(&b);
	nym_bloom_free(&c);
}

Test(bloom, serialization_round_trip)
{
	struct nym_bloom b, back;
	cr_assert_eq(nym_bloom_init(&b, 5000, 1e-4, NULL), 0);
	uint8_t x[32];
	for (uint64_t i = 0; i < 5000; i++) {
		item(x, i, 3);
		nym_bloom_insert(&b, x, sizeof(x));
	}
	size_t len = nym_bloom_serialized_len(&b), got;
	cr_assert_eq(len, NYM_BLOOM_HEADER_LEN + b.nbits / 8);
	uint8_t *buf = malloc(len);
	cr_assert_eq(nym_bloom_serialize(&b, buf, len - 1, &got), -ENOSPC);
	cr_assert_eq(nym_bloom_serialize(&b, buf, len, &got), 0);
	cr_assert_eq(got, len);
	cr_assert_eq(memcmp(buf, "NYMBLOOM", 8), 0);
	cr_assert_eq(nym_bloom_deserialize(&back, buf, len), 0);
	cr_assert_eq(back.nbits, b.nbits);
	cr_assert_eq(back.nhashes, b.nhashes);
	cr_assert_eq(back.inserted, b.inserted);
	cr_assert_arr_eq(back.key, b.key, 16);
	cr_assert_arr_eq(back.words, b.words, b.nbits / 8);
	for (uint64_t i = 0; i < 5000; i++) {
		item(x, i, 3);
		cr_assert(nym_bloom_test(&back, x, sizeof(x)));
	}
	nym_bloom_free(&back);

	/* Each header check. */
	struct {
		size_t off;
		uint8_t val;
		int want;
	} bad[] = {
		{ 0, 'X', -EINVAL },	    /* magic */
		{ 8, 2, -EPROTONOSUPPORT }, /* version */
		{ 9, 7, -EPROTONOSUPPORT }, /* hash */
		{ 10, 0, -EINVAL },	    /* zero hashes */
		{ 10, 33, -EINVAL },	    /* too many hashes */
		{ 11, 1, -EINVAL },	    /* reserved */
		{ 15, 1, -EINVAL },	    /* reserved */
		{ 23, 0x41, -EINVAL },	    /* nbits not a word multiple / length mismatch */
		{ 16, 0x80, -EINVAL },	    /* nbits enormous */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t saved = buf[bad[i].off];
		buf[bad[i].off] = bad[i].val;
		cr_assert_eq(nym_bloom_deserialize(&back, buf, len), bad[i].want, "case %zu", i);
		buf[bad[i].off] = saved;
	}
	cr_assert_eq(nym_bloom_deserialize(&back, buf, len - 1), -EINVAL);
	cr_assert_eq(nym_bloom_deserialize(&back, buf, NYM_BLOOM_HEADER_LEN - 1), -EINVAL);
	cr_assert_eq(nym_bloom_deserialize(&back, buf, 0), -EINVAL);
	free(buf);
	nym_bloom_free(&b);
}
