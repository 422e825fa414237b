/* A gateway's report of the ticket serials it accepted, signed with its Ed25519 identity
 * (docs/PROTOCOLS.md §5.6). Pure encoder and parser; the parser verifies the signature.
 *
 *   0   8  magic "NYMSPENT" (also the signature's domain separator)
 *   8   1  version = 1
 *   9  32  gateway Ed25519 public key
 *  41   8  created, Unix seconds
 *  49   8  last_seq: the gateway's sequence number of the last entry (for its bookkeeping)
 *  57   2  count, 0..NYM_SPENT_REPORT_MAX
 *  59  40  count entries: serial[32] | expiry u64
 *   .  64  Ed25519 signature over every byte before it
 * Integers big-endian. */
#ifndef NYM_CRED_SPENT_REPORT_H
#define NYM_CRED_SPENT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"
#include "crypto/ed25519.h"

#define NYM_SPENT_REPORT_VERSION 1
#define NYM_SPENT_REPORT_MAX 1000
#define NYM_SPENT_REPORT_HEADER_LEN 59
#define NYM_SPENT_REPORT_ENTRY_LEN 40
#define NYM_SPENT_REPORT_LEN(count)                                                                \
	(NYM_SPENT_REPORT_HEADER_LEN + (size_t)(count)*NYM_SPENT_REPORT_ENTRY_LEN +                \
	 NYM_ED25519_SIG_LEN)
#define NYM_SPENT_REPORT_MAX_LEN NYM_SPENT_REPORT_LEN(NYM_SPENT_REPORT_MAX)

struct nym_spent_report_entry {
	uint8_t serial[NYM_TICKET_SERIAL_LEN];
	int64_t expiry;
};

/* About 40 KB: allocate it. */
struct nym_spent_report {
	uint8_t gateway[NYM_ED25519_PUBLIC_LEN];
	int64_t created;
	uint64_t last_seq;
	size_t count;
	struct nym_spent_report_entry entries[NYM_SPENT_REPORT_MAX];
};

/* Signs with `id` (whose public key replaces r->gateway in the output). -EINVAL for a
 * count above the maximum or a negative time, -ENOSPC when out is too small. */
int nym_spent_report_encode(const struct nym_spent_report *r, const struct nym_ed25519_keypair *id,
			    uint8_t *out, size_t cap, size_t *out_len);
/* -EINVAL malformed (length, magic, count), -EPROTONOSUPPORT version, -EBADMSG signature. */
int nym_spent_report_decode(struct nym_spent_report *r, const uint8_t *in, size_t len);

#endif
