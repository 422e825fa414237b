/* nym-node debug ...: inspection tools for operators and tests. JSON on stdout; on failure a
 * message on stderr and exit status 1. */
#include <jansson.h>
#include <stdio.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/x25519.h"
#include "util/base58.h"
#include "util/cli.h"
#include "util/hex.h"

int cmd_debug_keygen(const char *context, int argc, char **argv)
{
	struct cli_option opts[] = { { 0 } };
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct nym_x25519_keypair kp;
	char sk_hex[65], pk_hex[65], sk_b58[NYM_BASE58_ENCODED_MAX(32)], pk_b58[NYM_BASE58_ENCODED_MAX(32)];
	nym_x25519_generate(&kp);
	nym_hex_encode(sk_hex, kp.secret, 32);
	nym_hex_encode(pk_hex, kp.public_key, 32);
	nym_base58_encode(sk_b58, sizeof(sk_b58), kp.secret, 32);
	nym_base58_encode(pk_b58, sizeof(pk_b58), kp.public_key, 32);
	nym_x25519_keypair_clear(&kp);
	/* The secret is printed on purpose: this command exists to hand keys to test tools. */
	json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "secret_key", sk_hex, "public_key", pk_hex,
				"secret_key_base58", sk_b58, "public_key_base58", pk_b58);
	return cmd_print_json(out);
}
