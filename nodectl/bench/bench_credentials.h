/* The costs of ticket issuance, verification and spending (nym-node bench credentials),
 * with a local issuer database and ticket store in a scratch directory. */
#ifndef NYM_NODECTL_BENCH_CREDENTIALS_H
#define NYM_NODECTL_BENCH_CREDENTIALS_H

#include <stddef.h>

#define BENCH_CREDENTIALS_ERROR_MAX 512

struct bench_credentials_options {
	unsigned bits; /* issuer key size: 2048, 3072 or 4096 */
	size_t books;  /* ticketbooks to issue, 1..100 */
};

struct bench_credentials_result {
	size_t ticket_bytes;
	double keygen_ms;                         /* one issuer key */
	double blind_book_ms, finalize_book_ms;   /* client: a book's blinding, its unblinding */
	double issue_book_ms;                     /* authority: one request end to end */
	double blind_sign_us;                     /* one bare BlindSign */
	double issue_vs_50_blind_signs;           /* issue_book_ms against a book's bare BlindSigns */
	double verify_us, spend_us;               /* gateway: one ticket verified; verified and stored */
	double brsa_verify_us;                    /* one bare RSA-PSS verification */
	double verify_vs_rsa_pss_verify;
	double books_per_s_per_core;
	double bloom_insert_ns, bloom_test_ns;    /* 1e6 items at 1e-5 */
	double bloom_bits_per_item, bloom_fpr;    /* its size, and its false positives measured */
};

/* Returns 0, or a negative errno with a sentence in `error`. */
int bench_credentials_run(const struct bench_credentials_options *options, struct bench_credentials_result *result,
			  char *error, size_t error_len);

#endif
