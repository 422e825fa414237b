#include "gateway/gateway_tickets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred/spent_report.h"
#include "util/file.h"

__attribute__((format(printf, 2, 3))) static void complain(const struct gateway_tickets_authorities *a,
							   const char *fmt, ...)
{
	if (!a->complain)
		return;
	char msg[GATEWAY_TICKETS_ERR_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->complain(a->ctx, msg);
}

int gateway_tickets_gather_keys(const struct gateway_tickets_authorities *a, int64_t now,
				struct nym_issuer_keyset *all)
{
	nym_issuer_keyset_init(all);
	size_t ok = 0;
	for (size_t i = 0; i < a->count; i++) {
		struct nym_issuer_keyset ks;
		char err[GATEWAY_TICKETS_ERR_MAX];
		int rc = a->issuer_keys(a->ctx, i, now, &ks, err, sizeof(err));
		if (rc) {
			complain(a, "%s", err);
			continue;
		}
		rc = nym_issuer_keyset_merge(all, &ks);
		nym_issuer_keyset_clear(&ks);
		if (rc == 0)
			ok++;
	}
	return ok ? 0 : -EIO;
}

int gateway_tickets_refresh_filter(const struct gateway_tickets_authorities *a, struct nym_ticket_store *st,
				   int64_t now, int64_t *created)
{
	uint8_t *best = NULL;
	size_t best_len = 0;
	*created = 0;
	for (size_t i = 0; i < a->count; i++) {
		uint8_t *data;
		size_t len;
		int64_t at;
		char err[GATEWAY_TICKETS_ERR_MAX];
		if (a->spent_filter(a->ctx, i, now, &data, &len, &at, err, sizeof(err))) {
			complain(a, "%s", err);
			continue;
		}
		/* Asking the others too tells the operator which authorities are down. */
		if (!best) {
			best = data;
			best_len = len;
			*created = at;
		} else {
			free(data);
		}
	}
	if (!best)
		return -EIO;
	int rc = nym_ticket_store_set_filter(st, best, best_len, now);
	if (rc)
		complain(a, "the spent filter was refused: %s", strerror(-rc));
	free(best);
	return rc;
}

int gateway_tickets_build_report(struct nym_ticket_store *st, const struct nym_ed25519_keypair *id, int64_t now,
				 uint8_t **report, size_t *len, uint64_t *last)
{
	uint8_t *buf = malloc(NYM_SPENT_REPORT_MAX_LEN);
	*report = NULL;
	if (!buf)
		return -ENOMEM;
	int rc = nym_ticket_store_report(st, id, now, buf, NYM_SPENT_REPORT_MAX_LEN, len, last);
	if (rc) {
		free(buf);
		return rc;
	}
	*report = buf;
	return 0;
}

int gateway_tickets_report(const struct gateway_tickets_authorities *a, struct nym_ticket_store *st,
			   const struct nym_ed25519_keypair *id, int64_t now, const char *save, size_t *reported)
{
	uint8_t *buf;
	size_t len;
	uint64_t last;
	*reported = 0;
	int rc = gateway_tickets_build_report(st, id, now, &buf, &len, &last);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (!rc && save && (rc = nym_file_write_atomic(save, buf, len, 0644)) != 0)
		complain(a, "%s: cannot write: %s", save, strerror(-rc));
	size_t taken = 0;
	for (size_t i = 0; !rc && i < a->count; i++) {
		char err[GATEWAY_TICKETS_ERR_MAX];
		if (a->post_report(a->ctx, i, buf, len, err, sizeof(err)))
			complain(a, "%s", err);
		else
			taken++;
	}
	if (!rc && taken == a->count) {
		rc = nym_ticket_store_report_done(st, last);
		*reported = (len - NYM_SPENT_REPORT_HEADER_LEN - NYM_ED25519_SIG_LEN) / NYM_SPENT_REPORT_ENTRY_LEN;
	}
	free(buf);
	return rc;
}
