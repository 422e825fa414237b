/* The authorities' spent-report parser on arbitrary bytes. The seed corpus holds reports
 * signed by a fixed test identity, so mutations reach the signature check; an accepted
 * report re-encodes (same key) to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "cred/spent_report.h"
#include "crypto/ed25519.h"
#include "fuzz.h"

static struct nym_spent_report r;
static struct nym_ed25519_keypair id;

void fuzz_setup(void)
{
	uint8_t seed[32];
	memset(seed, 7, sizeof(seed));
	nym_ed25519_from_seed(&id, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (nym_spent_report_decode(&r, data, size) != 0)
		return 0;
	if (size != NYM_SPENT_REPORT_LEN(r.count))
		abort();
	if (memcmp(r.gateway, id.public_key, 32) == 0) {
		/* Ed25519 is deterministic: the same key signs the same bytes identically. */
		uint8_t *out = malloc(size);
		size_t len;
		if (!out || nym_spent_report_encode(&r, &id, out, size, &len) != 0 || len != size ||
		    memcmp(out, data, size) != 0)
			abort();
		free(out);
	}
	return 0;
}
