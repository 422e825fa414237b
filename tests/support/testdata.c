#include "testdata.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

json_t *testdata_load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "tests/vectors/%s", name);
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	if (!root)
		cr_assert_fail("cannot load %s: %s (line %d)", path, err.text, err.line);
	return root;
}

const char *testdata_str(json_t *root, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *node = root;
	for (char *save, *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		node = json_object_get(node, tok);
	if (!json_is_string(node))
		cr_assert_fail("vector field %s missing", path);
	return json_string_value(node);
}

uint8_t *testdata_hex(const char *hex, size_t *len)
{
	size_t cap = strlen(hex) / 2 + 1;
	uint8_t *out = malloc(cap);
	if (!out || nym_hex_decode(out, cap, len, hex) != 0)
		cr_assert_fail("bad hex in vector");
	return out;
}

void test_rng_init(struct test_rng *r, uint8_t seed_byte)
{
	r->seed_byte = seed_byte;
}

struct nym_rng test_rng_source(struct test_rng *r)
{
	uint8_t seed[32];
	memset(seed, r->seed_byte, sizeof(seed));
	return nym_seeded_rng_init(&r->seeded, seed);
}
