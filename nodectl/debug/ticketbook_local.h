/* nym-node debug ticketbook-issue-local: a ticketbook issued against a local issuer database,
 * with the same blind protocol and request bodies the authority's HTTP API carries. */
#ifndef NYM_NODECTL_TICKETBOOK_LOCAL_H
#define NYM_NODECTL_TICKETBOOK_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"

#define TICKETBOOK_LOCAL_ERROR_MAX 512

struct ticketbook_local_options {
	const char *issuer_db;     /* created if missing */
	enum nym_ticket_type type;
	size_t count;              /* tickets, 1..NYM_TICKETBOOK_SIZE */
	unsigned bits;             /* size of new issuer keys */
	const char *out;           /* the ticketbook to write */
	const char *issuer_keys_out; /* the published key list to write (may be NULL) */
};

struct ticketbook_local_result {
	int64_t expiry;
	size_t tickets;
	unsigned bits; /* of the issuer key that signed the book */
};

/* Returns 0, or a negative errno (or -EPERM when the issuer refused) with a sentence in
 * `error`. */
int ticketbook_local_issue(const struct ticketbook_local_options *options, struct ticketbook_local_result *result,
			   char *error, size_t error_len);

#endif
