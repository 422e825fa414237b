/* The mixnet client's persistent keys (issue 11): an Ed25519 identity (its Sphinx destination
 * and what it authenticates to its gateway with) and an X25519 encryption key (what senders
 * seal envelopes to, docs/PROTOCOLS.md §2.9), kept in a directory of its own:
 *
 *     ed25519_identity        base58 of the 32-byte seed, one line, mode 0600
 *     ed25519_identity.pub    base58 of the public key, one line, 0644
 *     x25519_encryption       base58 of the 32-byte secret, 0600
 *     x25519_encryption.pub   base58 of the public key, 0644
 *
 * (the node's key-file format, docs/PROTOCOLS.md §6.1). Each file is written atomically
 * (util/file). Loading refuses a secret file that is not a regular file or that the group or
 * others may read or write (-EPERM, as ssh does: a leaked key is a stolen address), and a
 * public file that does not match its secret (-EINVAL). The address is Nym's text form
 * `<identity>.<encryption>@<gateway identity>` (mix_recipient). */
#ifndef NYM_CLIENT_CLIENT_KEYS_H
#define NYM_CLIENT_CLIENT_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "mix/mix_recipient.h"

struct client_keys {
	struct nym_ed25519_keypair identity;
	struct nym_x25519_keypair encryption;
};

/* Generates both keys and writes them into dir (created 0700 when missing). Returns 0,
 * -EEXIST when any key file is there already (never overwritten), or the negative errno of
 * the failing call. */
int client_keys_create(const char *dir, struct client_keys *out);

/* Loads the keys of dir. Returns 0, -ENOENT (a key file is missing), -EPERM (a secret file
 * open to group or others, or not a regular file), -EINVAL (a file that is not a base58
 * 32-byte key, or a public file that does not match its secret) or another negative errno.
 * On error *out is zeroed. */
int client_keys_load(const char *dir, struct client_keys *out);

/* Loads the keys, or creates them when dir holds none of them (*created says which). A
 * directory with some files but not all is refused like a load. */
int client_keys_load_or_create(const char *dir, struct client_keys *out, bool *created);

/* The client's address with its gateway. */
void client_keys_address(const struct client_keys *k, const uint8_t gateway_identity[32],
			 struct mix_recipient *out);
/* The same as text; returns its length or -ENOSPC. */
int client_keys_address_text(const struct client_keys *k, const uint8_t gateway_identity[32], char *out,
			     size_t cap);

/* A short description of an error of this module, for messages to the operator. */
const char *client_keys_strerror(int rc);

void client_keys_clear(struct client_keys *k);

#endif
