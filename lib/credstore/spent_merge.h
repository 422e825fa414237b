/* The authorities' side of double-spending (spec §7.3 step 7): accept gateways' signed spent
 * reports, keep every (serial, gateway) pair until the ticket expires, record each serial
 * that more than one gateway accepted (a double spend: each gateway saw it once, before the
 * merged filter reached it), and publish the merged set as a Bloom filter (util/bloom) that
 * gateways download and consult.
 *
 * A report is applied in one transaction and is idempotent: a replayed report adds nothing.
 * Pure engine over SQLite; one struct per thread. */
#ifndef NYM_CREDSTORE_SPENT_MERGE_H
#define NYM_CREDSTORE_SPENT_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/spent_report.h"

/* Reports whose entries expire further ahead than this are refused: no honest ticket does. */
#define NYM_SPENT_MERGE_MAX_AHEAD_S (60 * 86400)
#define NYM_SPENT_FILTER_FPR 1e-6

struct nym_spent_merge;

/* Decides whether a gateway identity may report (the registry, when there is one). */
typedef bool (*nym_spent_merge_gateway_check)(void *ctx, const uint8_t pub[NYM_ED25519_PUBLIC_LEN]);

struct nym_spent_merge_result {
	size_t entries;	     /* in the report */
	size_t added;	     /* new (serial, gateway) pairs */
	size_t expired;	     /* skipped: already expired */
	size_t double_spent; /* serials now known at two or more gateways */
};

int nym_spent_merge_open(struct nym_spent_merge **out, const char *path);
void nym_spent_merge_close(struct nym_spent_merge *m);

/* Verifies and applies one report. check NULL accepts any correctly signed report.
 * Returns 0, the decoder's errors (-EINVAL, -EPROTONOSUPPORT, -EBADMSG), -EACCES for a
 * gateway the check refuses, -ERANGE for an entry expiring too far ahead, or a database
 * error; on error nothing is stored. */
int nym_spent_merge_accept(struct nym_spent_merge *m, const uint8_t *report, size_t len,
			   int64_t now, nym_spent_merge_gateway_check check, void *ctx,
			   struct nym_spent_merge_result *res);

/* POST /v1/spent: the binary report in, a JSON answer and HTTP status out (200 with
 * {"entries", "added", "expired", "double_spent"}; 400 malformed; 401 bad signature;
 * 403 unknown gateway; 413 too large; 500/503). Returns 0 when *resp holds an answer. */
int nym_spent_merge_handle_report(struct nym_spent_merge *m, const uint8_t *body, size_t len,
				  int64_t now, nym_spent_merge_gateway_check check, void *ctx,
				  int *status, char **resp, size_t *resp_len);

/* GET /v1/spent-filter: every unexpired spent serial in a fresh filter with a fresh key, at
 * false-positive rate fpr, serialized. *out is malloc'd. */
int nym_spent_merge_filter(struct nym_spent_merge *m, int64_t now, double fpr, uint8_t **out,
			   size_t *out_len);

int nym_spent_merge_is_double_spent(struct nym_spent_merge *m,
				    const uint8_t serial[NYM_TICKET_SERIAL_LEN], bool *out);
int nym_spent_merge_counts(struct nym_spent_merge *m, uint64_t *serials, uint64_t *double_spent);
int nym_spent_merge_prune(struct nym_spent_merge *m, int64_t now);

#endif
