/* Authority signatures over HTTP bodies that are not canonical JSON documents: the issuer key
 * list and the spent filter (docs/PROTOCOLS.md §7.6). The body travels unchanged; the
 * signature travels in one response header,
 *
 *   X-Nym-Signature: v1 authority=B58 created=UNIX signature=B58
 *
 * over "nym-body-v1" 0x00 || label 0x00 || created (u64 BE) || body, where the label names
 * the resource ("issuer-keys", "spent-filter") so one body can't pass for the other. The
 * creation time lets a reader refuse an old body replayed to it. Pure functions. */
#ifndef NYM_TOPOLOGY_BODY_SIG_H
#define NYM_TOPOLOGY_BODY_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"

#define NYM_BODY_SIG_HEADER "X-Nym-Signature"
#define NYM_BODY_SIG_TEXT_MAX 256
#define NYM_BODY_LABEL_ISSUER_KEYS "issuer-keys"
#define NYM_BODY_LABEL_SPENT_FILTER "spent-filter"

struct nym_body_sig {
	uint8_t authority[32];
	int64_t created;
	uint8_t signature[NYM_ED25519_SIG_LEN];
};

void nym_body_sig_make(const struct nym_ed25519_keypair *kp, const char *label, int64_t created,
		       const void *body, size_t len, struct nym_body_sig *out);
bool nym_body_sig_valid(const struct nym_body_sig *s, const char *label, const void *body, size_t len);

/* The header value; out holds NYM_BODY_SIG_TEXT_MAX bytes. */
void nym_body_sig_format(const struct nym_body_sig *s, char out[NYM_BODY_SIG_TEXT_MAX]);
/* Parses a header value (surrounding blanks allowed, fields in the order above). 0 or
 * -EINVAL. */
int nym_body_sig_parse(const char *value, size_t len, struct nym_body_sig *out);

#endif
