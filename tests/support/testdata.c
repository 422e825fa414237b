#include "testdata.h"

#include <criterion/criterion.h>
#include <sodium.h>
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

static void chacha_fill(void *ctx, uint8_t *out, size_t len)
{
	struct test_rng *r = ctx;
	/* Generate from the start of the 64-byte block holding `offset`, then skip ahead. */
	uint64_t block = r->offset / 64;
	size_t skip = (size_t)(r->offset % 64);
	size_t total = skip + len;
	uint8_t *tmp = calloc(1, total);
	static const uint8_t nonce[8];
	crypto_stream_chacha20_xor_ic(tmp, tmp, total, nonce, block, r->key);
	memcpy(out, tmp + skip, len);
	free(tmp);
	r->offset += len;
}

void test_rng_init(struct test_rng *r, uint8_t seed_byte)
{
	memset(r->key, seed_byte, sizeof(r->key));
	r->offset = 0;
}

struct nym_rng test_rng_source(struct test_rng *r)
{
	return (struct nym_rng){ .fill = chacha_fill, .ctx = r };
}
