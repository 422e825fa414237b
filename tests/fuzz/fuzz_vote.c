/* Authorities' votes (GET /v1/votes/EPOCH): an accepted vote re-encodes to one that parses
 * again with the same content. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topology/canonical.h"
#include "topology/vote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_vote v, back;
	if (nym_vote_decode((const char *)data, size, &v) != 0)
		return 0;
	json_t *j = nym_vote_to_json(&v);
	char *text;
	size_t len;
	if (!j || nym_canonical_encode(j, &text, &len) != 0 || nym_vote_decode(text, len, &back) != 0)
		abort();
	if (back.epoch != v.epoch || back.node_count != v.node_count ||
	    memcmp(back.authority, v.authority, 32) != 0 ||
	    (v.node_count && memcmp(back.nodes, v.nodes, v.node_count * sizeof(v.nodes[0])) != 0))
		abort();
	free(text);
	json_decref(j);
	nym_vote_free(&v);
	nym_vote_free(&back);
	return 0;
}
