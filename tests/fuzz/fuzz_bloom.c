/* The Bloom filter loader (GET /v1/spent-filter, saved replay filters): anything it accepts
 * serializes back to exactly the same bytes, and works. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/bloom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_bloom b;
	if (nym_bloom_deserialize(&b, data, size) != 0)
		return 0;
	size_t len = nym_bloom_serialized_len(&b), got;
	uint8_t *out = malloc(len);
	if (!out || len != size || nym_bloom_serialize(&b, out, len, &got) != 0 || got != size ||
	    memcmp(out, data, size) != 0)
		abort();
	free(out);
	nym_bloom_insert(&b, data, size < 32 ? size : 32);
	if (!nym_bloom_test(&b, data, size < 32 ? size : 32))
		abort();
	nym_bloom_free(&b);
	return 0;
}
