/* nym-node bench credentials: options in, figures out (nodectl/bench/bench_credentials
 * measures). */
#include <jansson.h>
#include <stdio.h>

#include "cmd_util.h"
#include "commands.h"
#include "cred/ticketbook.h"
#include "nodectl/bench/bench_credentials.h"
#include "util/cli.h"

static int print_json(const struct bench_credentials_options *o, const struct bench_credentials_result *r)
{
	return cmd_print_json(json_pack("{s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
					"s:f, "
					"s:f, s:f, s:f}",
					"bits", (int)o->bits, "books", (json_int_t)o->books, "ticket_bytes",
					(json_int_t)r->ticket_bytes, "issue_book_ms", r->issue_book_ms, "verify_us",
					r->verify_us, "blind_sign_us", r->blind_sign_us, "issue_vs_50_blind_signs",
					r->issue_vs_50_blind_signs, "rsa_pss_verify_us", r->brsa_verify_us,
					"verify_vs_rsa_pss_verify", r->verify_vs_rsa_pss_verify, "spend_us",
					r->spend_us, "client_blind_book_ms", r->blind_book_ms,
					"client_finalize_book_ms", r->finalize_book_ms, "keygen_ms", r->keygen_ms,
					"bloom_insert_ns", r->bloom_insert_ns, "bloom_test_ns", r->bloom_test_ns,
					"bloom_bits_per_item_1e-5", r->bloom_bits_per_item, "bloom_fpr_measured",
					r->bloom_fpr, "books_per_s_per_core", r->books_per_s_per_core));
}

static void print_text(const struct bench_credentials_options *o, const struct bench_credentials_result *r)
{
	printf("credentials, %u-bit issuer key (ticket %zu bytes), %zu books of %d tickets\n", o->bits,
	       r->ticket_bytes, o->books, NYM_TICKETBOOK_SIZE);
	printf("  issue_book_ms        %8.2f  authority: one 50-ticket request end to end "
	       "(%.2fx 50 bare BlindSigns of %.0f us)\n",
	       r->issue_book_ms, r->issue_vs_50_blind_signs, r->blind_sign_us);
	printf("  verify_us            %8.2f  gateway: one ticket, parse + key lookup + RSA-PSS "
	       "(%.2fx a bare verification of %.1f us)\n",
	       r->verify_us, r->verify_vs_rsa_pss_verify, r->brsa_verify_us);
	printf("  spend_us             %8.2f  gateway: verify + committed SQLite insert (fsync)\n", r->spend_us);
	printf("  client_blind_book_ms %8.2f  client: 50 serials, prepares and blinds\n", r->blind_book_ms);
	printf("  client_finalize_ms   %8.2f  client: 50 unblinds, each verified\n", r->finalize_book_ms);
	printf("  keygen_ms            %8.1f  one issuer key\n", r->keygen_ms);
	printf("  bloom_insert_ns      %8.1f  1e6 items at 1e-5 (%.1f bits/item)\n", r->bloom_insert_ns,
	       r->bloom_bits_per_item);
	printf("  bloom_test_ns        %8.1f  (measured false positives %.2g, sized for 1e-5)\n", r->bloom_test_ns,
	       r->bloom_fpr);
}

int cmd_bench_credentials(const char *context, int argc, char **argv)
{
	bool as_json = false;
	uint64_t bits = 3072, books = 5;
	struct cli_option opts[] = {
		{ .name = "json",
		  .type = CLI_FLAG,
		  .dest = &as_json,
		  .required = false,
		  .help = "print one JSON object" },
		{ .name = "bits",
		  .type = CLI_U64,
		  .dest = &bits,
		  .required = false,
		  .help = "N  issuer key size: 2048 | 3072 (default) | 4096" },
		{ .name = "books",
		  .type = CLI_U64,
		  .dest = &books,
		  .required = false,
		  .help = "N  ticketbooks to issue (1..100, default 5)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (bits != 2048 && bits != 3072 && bits != 4096) {
		fprintf(stderr, "%s: --bits expects 2048, 3072 or 4096, got %llu\n", context,
			(unsigned long long)bits);
		return EXIT_FAIL;
	}
	if (books < 1 || books > 100) {
		fprintf(stderr, "%s: --books expects 1..100, got %llu\n", context,
			(unsigned long long)books);
		return EXIT_FAIL;
	}
	struct bench_credentials_options o = { .bits = (unsigned)bits, .books = (size_t)books };
	struct bench_credentials_result r;
	char error[BENCH_CREDENTIALS_ERROR_MAX];
	if (bench_credentials_run(&o, &r, error, sizeof(error))) {
		fprintf(stderr, "%s: %s\n", context, error);
		return EXIT_FAIL;
	}
	if (as_json)
		return print_json(&o, &r);
	print_text(&o, &r);
	return EXIT_OK;
}
