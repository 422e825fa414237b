#include "nodectl/debug/ticket_spend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cred/issuer_keyset.h"
#include "cred/ticketbook.h"
#include "credstore/ticket_store.h"
#include "crypto/secret.h"
#include "util/clock.h"
#include "util/hex.h"

__attribute__((format(printf, 2, 3))) static void warn(const struct ticket_spend_options *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!o->on_warning)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->on_warning(o->ctx, line);
}

/* Reports whatever waits (this serial, and earlier ones a failed report left): the first
 * attempt as before (and the report saved), then retries from the store's durable outbox for
 * report_retry_ms; then takes the filter again so the next spend sees what the authorities
 * merged. */
static void report(const struct ticket_spend_options *o, struct nym_ticket_store *st, int64_t now,
		   struct ticket_spend_result *r)
{
	struct gateway_outbox outbox = { 0 };
	int rc = gateway_tickets_report(o->authorities, st, o->identity, now, o->report_out, &r->reported);
	if (rc)
		warn(o, "reporting failed: %s", strerror(-rc));
	size_t later = 0;
	if (!rc && gateway_outbox_init(&outbox, o->authorities, 0, 0) == 0 &&
	    (rc = gateway_outbox_deliver(&outbox, st, o->identity, o->report_retry_ms, &later)) != 0 && rc != -ETIMEDOUT)
		warn(o, "reporting failed: %s", strerror(-rc));
	r->reported += later;
	r->reports = outbox.counters;
	gateway_tickets_refresh_filter(o->authorities, st, nym_clock_unix_now(), &r->spent_filter_created);
}

int ticket_spend_run(const struct ticket_spend_options *options, struct ticket_spend_result *result, char *error,
		     size_t error_len)
{
	const struct ticket_spend_options *o = options;
	struct nym_ticketbook *book = NULL;
	struct nym_ticket_store *st = NULL;
	struct nym_issuer_keyset ks;
	uint8_t ticket[NYM_TICKET_MAX_LEN];
	size_t tlen;
	int64_t now = nym_clock_unix_now(), filter_at = 0;
	int rc;
	*result = (struct ticket_spend_result){ .refused_by = "" };
	nym_issuer_keyset_init(&ks);
	if ((rc = nym_ticketbook_load(&book, o->book_path)) != 0) {
		snprintf(error, error_len, "%s: cannot load the ticketbook: %s", o->book_path, strerror(-rc));
		goto out;
	}
	if (book->state != NYM_TICKETBOOK_READY || o->index >= book->count ||
	    nym_ticketbook_ticket(book, o->index, ticket, sizeof(ticket), &tlen)) {
		rc = -ENOENT;
		snprintf(error, error_len, "%s holds no ready ticket %llu", o->book_path, (unsigned long long)o->index);
		goto out;
	}
	if ((rc = nym_ticket_store_open(&st, o->store_path)) != 0) {
		snprintf(error, error_len, "%s: cannot open the ticket store: %s", o->store_path, strerror(-rc));
		goto out;
	}
	/* Serials of expired tickets need no memory: an expired ticket is refused anyway. */
	if ((rc = nym_ticket_store_prune(st, now)) != 0)
		warn(o, "%s: cannot prune expired serials: %s", o->store_path, strerror(-rc));
	if ((rc = gateway_tickets_gather_keys(o->authorities, now, &ks)) != 0) {
		snprintf(error, error_len, "no authority gave its issuer keys");
		goto out;
	}
	if (o->refresh && (rc = gateway_tickets_refresh_filter(o->authorities, st, now, &filter_at)) != 0) {
		snprintf(error, error_len, "no spent filter could be refreshed");
		goto out;
	}
	struct nym_ticket_msg msg = { 0 };
	result->refusal = nym_ticket_store_spend(st, &ks, ticket, tlen, now, NYM_TICKET_TYPES_ALL, &msg);
	if (result->refusal == 0 &&
	    (nym_ticketbook_mark_spent(book, o->index) || nym_ticketbook_save(book, o->book_path)))
		warn(o, "%s: could not mark ticket %llu spent", o->book_path, (unsigned long long)o->index);
	if (o->report)
		report(o, st, now, result);
	if (!result->spent_filter_created)
		result->spent_filter_created = filter_at;
	struct nym_ticket_store_counters c;
	nym_ticket_store_counters(st, &c);
	result->refused_by = c.spent_filter ? "spent filter" : c.spent_here ? "gateway store" : "";
	nym_ticket_store_pending_reports(st, &result->reports_pending);
	struct nym_ticket_view v;
	if (nym_ticket_parse(&v, ticket, tlen) == 0)
		nym_hex_encode(result->serial, v.msg.serial, NYM_TICKET_SERIAL_LEN);
	rc = 0;
out:
	nym_memzero(ticket, sizeof(ticket));
	nym_issuer_keyset_clear(&ks);
	nym_ticket_store_close(st);
	nym_ticketbook_free(book);
	return rc;
}
