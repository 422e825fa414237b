/* The canonical JSON parser: anything it accepts encodes, and the encoding is a fixed point
 * (parsing it and encoding again gives the same bytes). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topology/canonical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j, *again;
	if (nym_canonical_parse((const char *)data, size, 1 << 20, &j) != 0)
		return 0;
	char *a, *b;
	size_t alen, blen;
	if (nym_canonical_encode(j, &a, &alen) != 0)
		abort();
	if (nym_canonical_parse(a, alen, 1 << 20, &again) != 0 || nym_canonical_encode(again, &b, &blen) != 0)
		abort();
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	json_decref(j);
	json_decref(again);
	return 0;
}
