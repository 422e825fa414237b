/* The authority's ticket issuer: a pure engine over one SQLite database (no sockets, no
 * threads, time passed in). It keeps
 *   - issuer keys, one per (ticket type, issuance day): a key signs during its day (plus a
 *     grace period) and its tickets expire NYM_TICKET_VALIDITY_DAYS + 1 days after the day
 *     began, on the day grid, so every book is valid for at least 7 days. Keys for the next
 *     days are made ahead, so the published list always overlaps; a private key is destroyed
 *     when its signing window closes and the public key is dropped when its tickets expire;
 *   - single-use vouchers, stored as SHA-256 of the code;
 *   - one record per redeemed voucher with the blinded values it was redeemed for. The issuer
 *     only ever sees blinded values, so nothing stored can be linked to a ticket's serial.
 *
 * Issuing checks the whole request before signing anything and commits the voucher's
 * redemption before releasing a single signature. A request repeated byte for byte (a client
 * whose answer was lost) gets the same signatures again without changing any state; the same
 * voucher with anything else is refused.
 *
 * One struct nym_issuer per thread; several threads and processes may open the same
 * database and issue at once: the redemption is one transaction, so a voucher used by two
 * requests at the same time redeems once (both get the answer when they are the same
 * request), and signing holds no lock. */
#ifndef NYM_CREDSTORE_ISSUER_H
#define NYM_CREDSTORE_ISSUER_H

#include <stddef.h>
#include <stdint.h>

#include "cred/issue.h"
#include "cred/issuer_keyset.h"
#include "cred/ticket.h"

struct nym_issuer_config {
	unsigned key_bits;   /* 2048, 3072 or 4096; default 3072 */
	unsigned days_ahead; /* issuance days after today to keep keys ready for; default 1 */
	int64_t grace_s;     /* a key keeps signing this long after its day ends; default 3600 */
};

void nym_issuer_config_default(struct nym_issuer_config *cfg);

struct nym_issuer;

/* cfg NULL means the defaults. */
int nym_issuer_open(struct nym_issuer **out, const char *path, const struct nym_issuer_config *cfg);
void nym_issuer_close(struct nym_issuer *iss);

/* Brings the keys up to date for `now`: makes any missing key for today and the next
 * days_ahead days (every type), destroys private keys whose window closed, forgets keys whose
 * tickets expired. Key generation takes a while (about a second per 3072-bit key). */
int nym_issuer_rotate(struct nym_issuer *iss, int64_t now);
/* Makes today's key for one type if missing (for tools that issue one book). */
int nym_issuer_ensure_key(struct nym_issuer *iss, enum nym_ticket_type type, int64_t now);

/* Every public key whose tickets are still valid at `now`, with its signing window. */
int nym_issuer_keys(struct nym_issuer *iss, int64_t now, struct nym_issuer_keyset *ks);

/* Creates `count` (1..10000) vouchers; each code has NYM_VOUCHER_CODE_LEN characters
 * (base58 of 16 random bytes) and is shown only here. */
#define NYM_VOUCHER_CODE_LEN 22
#define NYM_VOUCHERS_PER_CALL_MAX 10000
int nym_issuer_voucher_create(struct nym_issuer *iss, size_t count, int64_t now,
			      char (*codes)[NYM_VOUCHER_MAX + 1]);

/* Blind-signs a decoded request. Every element must be k bytes and below n for the key of
 * (type, expiry), which must be in its signing window; the voucher must be unused. Any
 * failure leaves the database untouched. *why gets a message for the client.
 * Returns 0, -EINVAL (bad element), -ENOKEY (no key signing now for type and expiry),
 * -EACCES (unknown or used voucher), -EIO (signing fault), or a database error. */
int nym_issuer_issue(struct nym_issuer *iss, const struct nym_issue_request *req, int64_t now,
		     struct nym_issue_response *resp, const char **why);

/* POST /v1/ticketbooks: JSON body in, JSON body and HTTP status out (200; 400 malformed;
 * 403 voucher; 404 no key; 413 too large; 503 busy; 500 internal). Returns 0 when *resp
 * holds an answer, success or {"error": ...}; -ENOMEM when none could be made. *resp is
 * malloc'd. */
int nym_issuer_handle_ticketbooks(struct nym_issuer *iss, const char *body, size_t len, int64_t now,
				  int *status, char **resp, size_t *resp_len);

struct nym_issuer_stats {
	uint64_t vouchers_unused;
	uint64_t vouchers_redeemed;
	uint64_t keys;
	uint64_t private_keys;
};
int nym_issuer_stats(struct nym_issuer *iss, struct nym_issuer_stats *st);

/* The first day of validity grid: start of the UTC day holding `t`, and the expiry of
 * tickets issued on that day. */
int64_t nym_issuer_day_start(int64_t t);
int64_t nym_issuer_expiry_for_day(int64_t day_start);

#endif
