/* The issuer key list parser (GET /v1/issuer-keys, --issuer-keys FILE): anything it accepts
 * re-encodes to a list it accepts again with the same keys. */
#include <stdlib.h>
#include <string.h>

#include "cred/issuer_keyset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_issuer_keyset ks, again;
	if (nym_issuer_keyset_from_json(&ks, (const char *)data, size) != 0) {
		if (ks.count != 0)
			abort();
		return 0;
	}
	char *json;
	if (nym_issuer_keyset_to_json(&ks, &json) != 0)
		abort();
	if (nym_issuer_keyset_from_json(&again, json, strlen(json)) != 0 || again.count != ks.count)
		abort();
	for (size_t i = 0; i < ks.count; i++)
		if (again.keys[i].type != ks.keys[i].type || again.keys[i].expiry != ks.keys[i].expiry ||
		    !nym_blind_rsa_public_key_equal(again.keys[i].key, ks.keys[i].key))
			abort();
	free(json);
	nym_issuer_keyset_clear(&again);
	nym_issuer_keyset_clear(&ks);
	return 0;
}
