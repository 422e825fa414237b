/* Bandwidth credentials by hand: issue a ticketbook against a local issuer database (the same
 * blind protocol and request bodies the authority's HTTP API will carry), verify and export
 * single tickets. JSON on stdout; errors on stderr with exit status 1. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_util.h"
#include "commands.h"
#include "cred/blind_rsa.h"
#include "credstore/issuer.h"
#include "cred/issuer_keyset.h"
#include "cred/ticket.h"
#include "credstore/ticket_store.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"
#include "nodectl/debug/ticketbook_local.h"
#include "util/cli.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/hex.h"

/* Explains why a JSON file was refused: where its syntax breaks, or that its content is not
 * what was expected. */
static void explain_file(const char *context, const char *path, int rc, const char *what)
{
	if (rc == -EINVAL) {
		json_error_t err;
		json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
		if (!j) {
			fprintf(stderr, "%s: %s:%d:%d: %s\n", context, path, err.line, err.column,
				err.text);
			return;
		}
		json_decref(j);
		fprintf(stderr, "%s: %s: not a valid %s\n", context, path, what);
	} else if (rc == -EPROTONOSUPPORT) {
		fprintf(stderr, "%s: %s: %s of an unsupported version\n", context, path, what);
	} else if (rc == -EMSGSIZE) {
		fprintf(stderr, "%s: %s: too large for a %s\n", context, path, what);
	} else {
		fprintf(stderr, "%s: %s: cannot read: %s\n", context, path, strerror(-rc));
	}
}

static int load_book(const char *context, const char *path, struct nym_ticketbook **book)
{
	int rc = nym_ticketbook_load(book, path);
	if (rc)
		explain_file(context, path, rc, "ticketbook");
	return rc;
}

static int load_keys(const char *context, const char *path, struct nym_issuer_keyset *ks)
{
	uint8_t *data;
	size_t len;
	int rc = nym_file_read(path, NYM_ISSUER_KEYS_JSON_MAX, &data, &len);
	if (rc == 0) {
		rc = nym_issuer_keyset_from_json(ks, (const char *)data, len);
		free(data);
	} else if (rc == -EFBIG) {
		rc = -EMSGSIZE;
	}
	if (rc)
		explain_file(context, path, rc, "issuer key list");
	return rc;
}

/* The ready ticket at `index`, with a clear message for every way it can be missing. */
static int book_ticket(const char *context, const char *path, const struct nym_ticketbook *book,
		       uint64_t index, uint8_t *out, size_t *len)
{
	if (book->state != NYM_TICKETBOOK_READY) {
		fprintf(stderr, "%s: %s: the book is still pending (not finalized)\n", context,
			path);
		return -EINVAL;
	}
	if (index >= book->count) {
		fprintf(stderr, "%s: --index %llu out of range: %s holds tickets 0..%zu\n", context,
			(unsigned long long)index, path, book->count - 1);
		return -ENOENT;
	}
	return nym_ticketbook_ticket(book, (size_t)index, out, NYM_TICKET_MAX_LEN, len);
}

int cmd_debug_ticketbook_issue_local(const char *context, int argc, char **argv)
{
	const char *db_path = NULL, *type_name = NULL, *out_path = NULL, *keys_out = NULL;
	uint64_t count = NYM_TICKETBOOK_SIZE, bits = 3072;
	struct cli_option opts[] = {
		{ .name = "issuer-db",
		  .type = CLI_STRING,
		  .dest = &db_path,
		  .required = true,
		  .help = "FILE  issuer database (created if missing)" },
		{ .name = "type",
		  .type = CLI_STRING,
		  .dest = &type_name,
		  .required = true,
		  .help = "T  mixnet-entry | wg-entry | wg-exit" },
		{ .name = "out",
		  .type = CLI_STRING,
		  .dest = &out_path,
		  .required = true,
		  .help = "FILE  ticketbook to write" },
		{ .name = "count",
		  .type = CLI_U64,
		  .dest = &count,
		  .required = false,
		  .help = "N  tickets in the book (1..50, default 50)" },
		{ .name = "bits",
		  .type = CLI_U64,
		  .dest = &bits,
		  .required = false,
		  .help = "N  size of new issuer keys: 2048 | 3072 | 4096" },
		{ .name = "issuer-keys-out",
		  .type = CLI_STRING,
		  .dest = &keys_out,
		  .required = false,
		  .help = "FILE  write the published key list" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	enum nym_ticket_type type;
	if (nym_ticket_type_parse(type_name, &type) != 0) {
		fprintf(stderr, "%s: --type expects mixnet-entry, wg-entry or wg-exit, got '%s'\n",
			context, type_name);
		return EXIT_FAIL;
	}
	if (count < 1 || count > NYM_TICKETBOOK_SIZE) {
		fprintf(stderr, "%s: --count expects 1..%d, got %llu\n", context,
			NYM_TICKETBOOK_SIZE, (unsigned long long)count);
		return EXIT_FAIL;
	}
	if (bits != 2048 && bits != 3072 && bits != 4096) {
		fprintf(stderr, "%s: --bits expects 2048, 3072 or 4096, got %llu\n", context,
			(unsigned long long)bits);
		return EXIT_FAIL;
	}

	struct ticketbook_local_options o = { db_path, type, (size_t)count, (unsigned)bits, out_path, keys_out };
	struct ticketbook_local_result r;
	char error[TICKETBOOK_LOCAL_ERROR_MAX];
	if (ticketbook_local_issue(&o, &r, error, sizeof(error))) {
		fprintf(stderr, "%s: %s\n", context, error);
		return EXIT_FAIL;
	}
	return cmd_print_json(json_pack("{s:s, s:s, s:I, s:I, s:i}", "book", out_path, "type", type_name, "expires",
					(json_int_t)r.expiry, "tickets", (json_int_t)r.tickets, "bits", (int)r.bits));
}

int cmd_debug_ticket_verify(const char *context, int argc, char **argv)
{
	const char *book_path = NULL, *keys_path = NULL;
	uint64_t index = 0, now = 0;
	struct cli_option opts[] = {
		{ .name = "book",
		  .type = CLI_STRING,
		  .dest = &book_path,
		  .required = true,
		  .help = "FILE  ticketbook" },
		{ .name = "index",
		  .type = CLI_U64,
		  .dest = &index,
		  .required = true,
		  .help = "N  ticket to check (0-based)" },
		{ .name = "issuer-keys",
		  .type = CLI_STRING,
		  .dest = &keys_path,
		  .required = false,
		  .help = "FILE  published issuer key list (default: the book's own key)" },
		{ .name = "now",
		  .type = CLI_U64,
		  .dest = &now,
		  .required = false,
		  .help = "UNIX  check expiry at this time (default: now)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (!now) /* --now 0 is not a time anyone tests at: it means "not given" */
		now = (uint64_t)nym_clock_unix_now();
	struct nym_ticketbook *book = NULL;
	struct nym_issuer_keyset ks;
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len;
	int status = EXIT_FAIL;
	nym_issuer_keyset_init(&ks);
	if (load_book(context, book_path, &book) ||
	    book_ticket(context, book_path, book, index, t, &len))
		goto out;
	if (keys_path) {
		if (load_keys(context, keys_path, &ks))
			goto out;
	} else if ((rc = nym_issuer_keyset_add(&ks, book->type, book->expiry, book->expiry - 1,
					       book->expiry, book->key)) != 0) {
		fprintf(stderr, "%s: %s: the book's key is unusable: %s\n", context, book_path,
			strerror(-rc));
		goto out;
	}
	struct nym_ticket_msg m;
	rc = nym_issuer_keyset_verify_ticket(&ks, t, len, (int64_t)now, NYM_TICKET_TYPES_ALL, &m);
	if (rc) {
		fprintf(stderr, "%s: ticket %llu of %s is not valid: %s\n", context,
			(unsigned long long)index, book_path, nym_ticket_store_refusal_text(rc));
		goto out;
	}
	char serial[2 * NYM_TICKET_SERIAL_LEN + 1];
	nym_hex_encode(serial, m.serial, sizeof(m.serial));
	status = cmd_print_json(json_pack("{s:b, s:I, s:s, s:I, s:s, s:b}", "valid", 1, "index",
				      (json_int_t)index, "type", nym_ticket_type_name(m.type),
				      "expires", (json_int_t)m.expiry, "serial", serial, "spent",
				      book->entries[index].spent));
out:
	nym_memzero(t, sizeof(t));
	nym_issuer_keyset_clear(&ks);
	nym_ticketbook_free(book);
	return status;
}

int cmd_debug_ticket_export(const char *context, int argc, char **argv)
{
	const char *book_path = NULL;
	uint64_t index = 0;
	struct cli_option opts[] = {
		{ .name = "book",
		  .type = CLI_STRING,
		  .dest = &book_path,
		  .required = true,
		  .help = "FILE  ticketbook" },
		{ .name = "index",
		  .type = CLI_U64,
		  .dest = &index,
		  .required = true,
		  .help = "N  ticket to export (0-based)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct nym_ticketbook *book = NULL;
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t len;
	char *pem = NULL, *out = NULL;
	char msg_hex[2 * NYM_TICKET_PREPARED_LEN + 1], sig_hex[2 * NYM_BRSA_MAX_LEN + 1];
	char serial_hex[2 * NYM_TICKET_SERIAL_LEN + 1];
	int status = EXIT_FAIL;
	if (load_book(context, book_path, &book) ||
	    book_ticket(context, book_path, book, index, t, &len))
		goto out;
	struct nym_ticket_view v;
	if ((rc = nym_ticket_parse(&v, t, len)) != 0 ||
	    (rc = nym_blind_rsa_public_key_to_pem(book->key, &pem)) != 0) {
		fprintf(stderr, "%s: %s: ticket %llu: %s\n", context, book_path,
			(unsigned long long)index, strerror(-rc));
		goto out;
	}
	nym_hex_encode(msg_hex, v.prepared, NYM_TICKET_PREPARED_LEN);
	nym_hex_encode(sig_hex, v.sig, v.sig_len);
	nym_hex_encode(serial_hex, v.msg.serial, NYM_TICKET_SERIAL_LEN);
	/* "message" is the whole prepared message (prefix || msg): exactly what the RSA-PSS
	 * signature covers, so any standard verifier can check the pair. */
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type",
			      nym_ticket_type_name(v.msg.type), "serial", serial_hex, "expires",
			      (json_int_t)v.msg.expiry, "message", msg_hex, "signature", sig_hex,
			      "public_key_pem", pem);
	if (j && (out = json_dumps(j, JSON_PRESERVE_ORDER))) {
		puts(out);
		status = EXIT_OK;
	}
	json_decref(j);
out:
	nym_memzero(t, sizeof(t));
	free(out);
	free(pem);
	nym_ticketbook_free(book);
	return status;
}
