/* Signed epoch documents (GET /v1/topology): a document the parser accepts re-encodes to the
 * canonical bytes its signatures cover, and its envelope survives a round trip. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topology/epoch_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_epoch_doc doc, again;
	struct nym_epoch_doc_signatures sigs, sigs2;
	char *canonical, *bytes, *env, *canonical2;
	size_t clen, blen, elen, c2len;
	uint8_t digest[32], digest2[32];
	if (nym_epoch_doc_signed_decode((const char *)data, size, &doc, &sigs, &canonical, &clen, digest) != 0)
		return 0;
	if (nym_epoch_doc_encode(&doc, &bytes, &blen, digest2) != 0 || blen != clen ||
	    memcmp(bytes, canonical, clen) != 0 || memcmp(digest, digest2, 32) != 0)
		abort();
	if (nym_epoch_doc_signed_encode(canonical, clen, &sigs, &env, &elen) != 0 ||
	    nym_epoch_doc_signed_decode(env, elen, &again, &sigs2, &canonical2, &c2len, NULL) != 0 || c2len != clen ||
	    memcmp(canonical2, canonical, clen) != 0 || sigs2.count != sigs.count)
		abort();
	for (size_t i = 0; i < sigs.count; i++)
		(void)nym_epoch_doc_signature_valid(&sigs.sigs[i], canonical, clen);
	free(canonical);
	free(canonical2);
	free(bytes);
	free(env);
	nym_epoch_doc_free(&doc);
	nym_epoch_doc_free(&again);
	return 0;
}
