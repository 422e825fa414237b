/* Node self-descriptions (POST /v1/nodes bodies): a description the parser accepts re-encodes
 * to the canonical bytes of what was received, and parses again to the same structure. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topology/canonical.h"
#include "topology/descriptor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_descriptor_signed sd, back;
	if (nym_descriptor_signed_decode((const char *)data, size, &sd) != 0)
		return 0;
	json_t *in, *out = nym_descriptor_signed_to_json(&sd);
	char *a, *b;
	size_t alen, blen;
	if (!out || nym_canonical_parse((const char *)data, size, NYM_DESCRIPTOR_JSON_MAX, &in) != 0 ||
	    nym_canonical_encode(in, &a, &alen) != 0 || nym_canonical_encode(out, &b, &blen) != 0)
		abort();
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	if (nym_descriptor_signed_decode(b, blen, &back) != 0 || memcmp(&back, &sd, sizeof(sd)) != 0)
		abort();
	free(a);
	free(b);
	json_decref(in);
	json_decref(out);
	return 0;
}
