/* nym-node debug ticket-spend: one ticket of a ticketbook spent the way a gateway spends it
 * (verify, record, report, refresh the merged spent filter), against the gateway's store and
 * the authorities behind `authorities`. */
#ifndef NYM_NODECTL_TICKET_SPEND_H
#define NYM_NODECTL_TICKET_SPEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"
#include "crypto/ed25519.h"
#include "gateway/gateway_outbox.h"
#include "gateway/gateway_tickets.h"

#define TICKET_SPEND_ERROR_MAX 512

struct ticket_spend_options {
	const char *book_path, *store_path;
	size_t index;                                    /* the ticket in the book */
	const struct gateway_tickets_authorities *authorities;
	const struct nym_ed25519_keypair *identity;      /* signs the reports */
	bool refresh;                                    /* take the spent filter before spending */
	bool report;                                     /* report, then take the filter again */
	const char *report_out;                          /* also write the report posted (may be NULL) */
	uint64_t report_retry_ms;                        /* retry reports from the outbox this long */
	/* Told of what went wrong without stopping the spend (may be NULL). */
	void (*on_warning)(void *ctx, const char *line);
	void *ctx;
};

struct ticket_spend_result {
	int refusal; /* 0: accepted; else the store's refusal (nym_ticket_store_refusal_text) */
	const char *refused_by; /* "spent filter", "gateway store" or "" */
	char serial[2 * NYM_TICKET_SERIAL_LEN + 1];
	size_t reported;
	int64_t spent_filter_created;
	uint64_t reports_pending;
	struct gateway_outbox_counters reports;
};

/* Returns 0 when the spend was decided (accepted or refused: see result->refusal), or a
 * negative errno with a sentence in `error` when it could not be tried. */
int ticket_spend_run(const struct ticket_spend_options *options, struct ticket_spend_result *result, char *error,
		     size_t error_len);

#endif
