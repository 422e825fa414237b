/* Helpers shared by the unit suites: known-answer files and deterministic randomness. */
#ifndef NYM_TESTS_TESTDATA_H
#define NYM_TESTS_TESTDATA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"

/* Loads tests/vectors/NAME (tests run from the repository root); aborts the test on error. */
json_t *testdata_load(const char *name);

/* Follows a dotted path ("fields.replay_tag.hex") to a string; aborts if absent. */
const char *testdata_str(json_t *root, const char *path);

/* Decodes hex into a fresh buffer; *len gets its length. The caller frees it. */
uint8_t *testdata_hex(const char *hex, size_t *len);


/* A reproducible random source: the library's seeded ChaCha20 stream, seeded with 32 copies
 * of one byte (rand_chacha's convention in Nym's own tests). */
struct test_rng {
	struct nym_seeded_rng seeded;
	uint8_t seed_byte;
};
void test_rng_init(struct test_rng *r, uint8_t seed_byte);
struct nym_rng test_rng_source(struct test_rng *r);

#endif
