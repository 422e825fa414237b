#include "nodectl/debug/ticketbook_local.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred/blind_rsa.h"
#include "cred/issuer_keyset.h"
#include "cred/ticketbook.h"
#include "credstore/issuer.h"
#include "crypto/secret.h"
#include "util/clock.h"
#include "util/file.h"

int ticketbook_local_issue(const struct ticketbook_local_options *options, struct ticketbook_local_result *result,
			   char *error, size_t error_len)
{
	struct nym_issuer_config cfg;
	nym_issuer_config_default(&cfg);
	cfg.key_bits = options->bits;
	struct nym_issuer *iss = NULL;
	struct nym_issuer_keyset ks;
	struct nym_ticketbook *book = NULL;
	char *req = NULL, *resp = NULL, *keys_json = NULL;
	size_t req_len, resp_len;
	char codes[1][NYM_VOUCHER_MAX + 1];
	int rc, http = 0;
	int64_t now = nym_clock_unix_now();
	nym_issuer_keyset_init(&ks);

	if ((rc = nym_issuer_open(&iss, options->issuer_db, &cfg)) != 0) {
		snprintf(error, error_len, "%s: cannot open the issuer database: %s", options->issuer_db, strerror(-rc));
		goto out;
	}
	if ((rc = nym_issuer_ensure_key(iss, options->type, now)) != 0 || (rc = nym_issuer_keys(iss, now, &ks)) != 0 ||
	    (rc = nym_issuer_voucher_create(iss, 1, now, codes)) != 0) {
		snprintf(error, error_len, "%s: issuer failed: %s", options->issuer_db, strerror(-rc));
		goto out;
	}
	/* The client's half, exactly as against a remote authority: the key comes from the
	 * published list, the request and answer are the HTTP bodies. */
	const struct nym_issuer_keyset_entry *key = nym_issuer_keyset_current(&ks, options->type, now);
	if (!key) {
		rc = -ENOENT;
		snprintf(error, error_len, "no current %s key in the published list", nym_ticket_type_name(options->type));
		goto out;
	}
	if ((rc = nym_ticketbook_create(&book, key->key, options->type, key->expiry, options->count, codes[0])) != 0 ||
	    (rc = nym_ticketbook_save(book, options->out)) != 0 ||
	    (rc = nym_ticketbook_request(book, &req, &req_len)) != 0) {
		snprintf(error, error_len, "preparing the book failed: %s", strerror(-rc));
		goto out;
	}
	rc = nym_issuer_handle_ticketbooks(iss, req, req_len, now, &http, &resp, &resp_len);
	if (rc || http != 200) {
		snprintf(error, error_len, "issuer refused the request (%d): %s", http, resp ? resp : "no answer");
		rc = rc ? rc : -EPERM;
		goto out;
	}
	if ((rc = nym_ticketbook_finalize(book, resp, resp_len)) != 0) {
		snprintf(error, error_len, "the issuer's answer does not finalize: %s", strerror(-rc));
		unlink(options->out);
		goto out;
	}
	if ((rc = nym_ticketbook_save(book, options->out)) != 0) {
		snprintf(error, error_len, "%s: cannot write: %s", options->out, strerror(-rc));
		goto out;
	}
	if (options->issuer_keys_out &&
	    ((rc = nym_issuer_keyset_to_json(&ks, &keys_json)) != 0 ||
	     (rc = nym_file_write_atomic(options->issuer_keys_out, keys_json, strlen(keys_json), 0644)) != 0)) {
		snprintf(error, error_len, "%s: cannot write: %s", options->issuer_keys_out, strerror(-rc));
		goto out;
	}
	*result = (struct ticketbook_local_result){ book->expiry, book->count,
						    (unsigned)nym_blind_rsa_public_key_bits(book->key) };
out:
	nym_memzero(codes, sizeof(codes));
	nym_ticketbook_free(book);
	nym_issuer_keyset_clear(&ks);
	nym_issuer_close(iss);
	if (req)
		nym_memzero(req, req_len);
	free(req);
	free(resp);
	free(keys_json);
	return rc;
}
