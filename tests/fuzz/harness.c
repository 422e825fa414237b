/* What every fuzz target shares: the library initialised as the programs initialise it, and
 * the fixed keys the seed corpora were made for. */
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "fuzz.h"

const uint8_t fuzz_node_sphinx_secret[NYM_X25519_LEN] = { 0x42, 0x13, 0x37 };

__attribute__((weak)) void fuzz_setup(void)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (nym_crypto_init() != 0)
		abort();
	fuzz_setup();
	return 0;
}

void fuzz_x25519_keypair(struct nym_x25519_keypair *kp, const uint8_t secret[NYM_X25519_LEN])
{
	memcpy(kp->secret, secret, NYM_X25519_LEN);
	nym_x25519_public(kp->public_key, kp->secret);
}
