/* nym-node bench credentials: the costs of ticket issuance, verification and spending, with
 * a local issuer database and ticket store. */
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
#include "util/bloom.h"
#include "util/cli.h"
#include "util/clock.h"
#include "util/log.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double since_us(uint64_t t0)
{
	return (double)(nym_clock_now_ns() - t0) / 1000.0;
}

struct bench {
	char dir[128], db[160], store[160];
	unsigned bits;
	size_t books;
	double keygen_ms, blind_book_ms, issue_book_ms, finalize_book_ms, blind_sign_us;
	double brsa_verify_us, verify_us, spend_us, bloom_test_ns, bloom_insert_ns;
	double bloom_bits_per_item, bloom_fpr;
	size_t ticket_bytes;
};

static void remove_db(const char *path)
{
	char p[200];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int bench_run(struct bench *b)
{
	struct nym_issuer_config cfg;
	struct nym_issuer *iss = NULL;
	struct nym_issuer_keyset ks;
	struct nym_ticketbook **books = calloc(b->books, sizeof(*books));
	struct nym_ticket_store *store = NULL;
	char(*codes)[NYM_VOUCHER_MAX + 1] = calloc(b->books, sizeof(*codes));
	size_t n = b->books, ntickets = n * NYM_TICKETBOOK_SIZE;
	double *s = calloc(ntickets > 4096 ? ntickets : 4096, sizeof(double));
	double *blind = calloc(n, sizeof(double)), *issue = calloc(n, sizeof(double)),
	       *fin = calloc(n, sizeof(double)), *bare_signs = calloc(n, sizeof(double));
	uint8_t bsig[NYM_BRSA_MAX_LEN], m[NYM_BRSA_MAX_LEN];
	struct nym_blind_rsa_private_key *bare = NULL;
	size_t k = 0;
	uint8_t t[NYM_TICKET_MAX_LEN];
	int64_t now = nym_clock_unix_now();
	int rc = -ENOMEM;
	nym_issuer_keyset_init(&ks);
	if (!books || !codes || !s || !blind || !issue || !fin || !bare_signs)
		goto out;

	nym_issuer_config_default(&cfg);
	cfg.key_bits = b->bits;
	if ((rc = nym_issuer_open(&iss, b->db, &cfg)) != 0)
		goto out;
	uint64_t t0 = nym_clock_now_ns();
	if ((rc = nym_issuer_ensure_key(iss, NYM_TICKET_WG_ENTRY, now)) != 0)
		goto out;
	b->keygen_ms = since_us(t0) / 1000.0;
	if ((rc = nym_issuer_keys(iss, now, &ks)) != 0 ||
	    (rc = nym_issuer_voucher_create(iss, n, now, codes)) != 0)
		goto out;
	const struct nym_issuer_keyset_entry *key = nym_issuer_keyset_current(&ks, NYM_TICKET_WG_ENTRY, now);
	if (!key) {
		rc = -ENOKEY;
		goto out;
	}
	k = nym_blind_rsa_public_key_len(key->key);
	/* The primitive alone, for the ratio: 50 bare BlindSigns under a key of the same size,
	 * timed right after each issuance so both see the same machine load. */
	if ((rc = nym_blind_rsa_private_key_generate(&bare, NYM_BRSA_PSS_RANDOMIZED, b->bits)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *req = NULL, *resp = NULL;
		size_t req_len, resp_len;
		int http;
		t0 = nym_clock_now_ns();
		rc = nym_ticketbook_create(&books[i], key->key, NYM_TICKET_WG_ENTRY, key->expiry,
					   NYM_TICKETBOOK_SIZE, codes[i]);
		blind[i] = since_us(t0) / 1000.0;
		if (!rc)
			rc = nym_ticketbook_request(books[i], &req, &req_len);
		if (rc)
			goto out;
		/* The authority's whole cost: body decode, checks, 50 BlindSigns with their fault
		 * checks, the voucher's committed redemption and the answer's encoding. */
		t0 = nym_clock_now_ns();
		rc = nym_issuer_handle_ticketbooks(iss, req, req_len, now, &http, &resp, &resp_len);
		issue[i] = since_us(t0) / 1000.0;
		free(req);
		if (rc || http != 200) {
			free(resp);
			rc = rc ? rc : -EIO;
			goto out;
		}
		/* (Before finalizing, which wipes the blinded values.) */
		t0 = nym_clock_now_ns();
		for (size_t j = 0; j < NYM_TICKETBOOK_SIZE && !rc; j++) {
			memcpy(m, books[i]->entries[j].blinded, k);
			m[0] = 0; /* below the other key's modulus too */
			rc = nym_blind_rsa_blind_sign(bare, m, k, bsig);
		}
		bare_signs[i] = since_us(t0) / NYM_TICKETBOOK_SIZE;
		if (rc) {
			free(resp);
			goto out;
		}
		t0 = nym_clock_now_ns();
		rc = nym_ticketbook_finalize(books[i], resp, resp_len);
		fin[i] = since_us(t0) / 1000.0;
		free(resp);
		if (rc)
			goto out;
	}
	b->blind_book_ms = median(blind, n);
	b->issue_book_ms = median(issue, n);
	b->finalize_book_ms = median(fin, n);
	b->blind_sign_us = median(bare_signs, n);

	/* Gateway: verification without and with the database. */
	const struct nym_ticketbook_entry *e0 = &books[0]->entries[0];
	for (size_t i = 0; i < 4096; i++) {
		t0 = nym_clock_now_ns();
		rc = nym_blind_rsa_verify(books[0]->key, e0->prepared, NYM_TICKET_PREPARED_LEN, e0->sig,
				     k);
		s[i] = since_us(t0);
		if (rc)
			goto out;
	}
	b->brsa_verify_us = median(s, 4096);
	for (size_t i = 0; i < 4096; i++) {
		size_t len;
		struct nym_ticketbook *bk = books[i % n];
		nym_ticketbook_ticket(bk, (i / n) % NYM_TICKETBOOK_SIZE, t, sizeof(t), &len);
		t0 = nym_clock_now_ns();
		rc = nym_issuer_keyset_verify_ticket(&ks, t, len, now, NYM_TICKET_TYPES_ALL, NULL);
		s[i] = since_us(t0);
		if (rc)
			goto out;
	}
	b->verify_us = median(s, 4096);
	b->ticket_bytes = NYM_TICKET_PREPARED_LEN + k;
	if ((rc = nym_ticket_store_open(&store, b->store)) != 0)
		goto out;
	for (size_t i = 0; i < ntickets; i++) {
		size_t len;
		nym_ticketbook_ticket(books[i / NYM_TICKETBOOK_SIZE], i % NYM_TICKETBOOK_SIZE, t,
				      sizeof(t), &len);
		t0 = nym_clock_now_ns();
		rc = nym_ticket_store_spend(store, &ks, t, len, now, NYM_TICKET_TYPES_ALL, NULL);
		s[i] = since_us(t0);
		if (rc)
			goto out;
	}
	b->spend_us = median(s, ntickets);

	/* The Bloom filter at the mixnode replay filter's rate. */
	struct nym_bloom bloom;
	const size_t items = 1000000;
	if ((rc = nym_bloom_init(&bloom, items, 1e-5, NULL)) != 0)
		goto out;
	uint8_t item[32];
	nym_random(item, sizeof(item));
	t0 = nym_clock_now_ns();
	for (size_t i = 0; i < items; i++) {
		memcpy(item, &i, sizeof(i));
		nym_bloom_insert(&bloom, item, sizeof(item));
	}
	b->bloom_insert_ns = since_us(t0) * 1000.0 / (double)items;
	size_t hits = 0;
	item[31] ^= 1; /* items never inserted: every hit is a false positive */
	t0 = nym_clock_now_ns();
	for (size_t i = 0; i < items; i++) {
		memcpy(item, &i, sizeof(i));
		hits += nym_bloom_test(&bloom, item, sizeof(item));
	}
	b->bloom_test_ns = since_us(t0) * 1000.0 / (double)items;
	b->bloom_fpr = (double)hits / (double)items;
	b->bloom_bits_per_item = (double)bloom.nbits / (double)items;
	nym_bloom_free(&bloom);
	rc = 0;
out:
	nym_ticket_store_close(store);
	for (size_t i = 0; books && i < n; i++)
		nym_ticketbook_free(books[i]);
	if (codes)
		nym_memzero(codes, n * sizeof(*codes));
	free(codes);
	free(books);
	free(s);
	free(blind);
	free(issue);
	free(fin);
	free(bare_signs);
	nym_blind_rsa_private_key_free(bare);
	nym_memzero(t, sizeof(t));
	nym_issuer_keyset_clear(&ks);
	nym_issuer_close(iss);
	return rc;
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
	struct bench b = { .bits = (unsigned)bits, .books = (size_t)books };
	const char *tmp = getenv("TMPDIR");
	snprintf(b.dir, sizeof(b.dir), "%s/nym-bench-cred.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b.dir)) {
		fprintf(stderr, "%s: cannot create a scratch directory in %s: %s\n", context,
			tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(b.db, sizeof(b.db), "%s/issuer.db", b.dir);
	snprintf(b.store, sizeof(b.store), "%s/gateway.db", b.dir);
	enum nym_log_level level = nym_log_get_level();
	nym_log_set_level(NYM_LOG_WARN);
	rc = bench_run(&b);
	nym_log_set_level(level);
	remove_db(b.db);
	remove_db(b.store);
	rmdir(b.dir);
	if (rc) {
		fprintf(stderr, "%s: benchmark failed: %s\n", context, strerror(-rc));
		return EXIT_FAIL;
	}
	double issue_ratio = b.issue_book_ms * 1000.0 / (NYM_TICKETBOOK_SIZE * b.blind_sign_us);
	double verify_ratio = b.verify_us / b.brsa_verify_us;
	if (as_json)
		return cmd_print_json(json_pack(
			"{s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
			"s:f, "
			"s:f, s:f, s:f}",
			"bits", (int)b.bits, "books", (json_int_t)b.books, "ticket_bytes",
			(json_int_t)b.ticket_bytes, "issue_book_ms", b.issue_book_ms, "verify_us",
			b.verify_us, "blind_sign_us", b.blind_sign_us, "issue_vs_50_blind_signs",
			issue_ratio, "rsa_pss_verify_us", b.brsa_verify_us,
			"verify_vs_rsa_pss_verify", verify_ratio, "spend_us", b.spend_us,
			"client_blind_book_ms", b.blind_book_ms, "client_finalize_book_ms",
			b.finalize_book_ms, "keygen_ms", b.keygen_ms, "bloom_insert_ns",
			b.bloom_insert_ns, "bloom_test_ns", b.bloom_test_ns,
			"bloom_bits_per_item_1e-5", b.bloom_bits_per_item, "bloom_fpr_measured",
			b.bloom_fpr, "books_per_s_per_core",
			1000.0 / b.issue_book_ms));
	printf("credentials, %u-bit issuer key (ticket %zu bytes), %zu books of %d tickets\n",
	       b.bits, b.ticket_bytes, b.books, NYM_TICKETBOOK_SIZE);
	printf("  issue_book_ms        %8.2f  authority: one 50-ticket request end to end "
	       "(%.2fx 50 bare BlindSigns of %.0f us)\n",
	       b.issue_book_ms, issue_ratio, b.blind_sign_us);
	printf("  verify_us            %8.2f  gateway: one ticket, parse + key lookup + RSA-PSS "
	       "(%.2fx a bare verification of %.1f us)\n",
	       b.verify_us, verify_ratio, b.brsa_verify_us);
	printf("  spend_us             %8.2f  gateway: verify + committed SQLite insert (fsync)\n",
	       b.spend_us);
	printf("  client_blind_book_ms %8.2f  client: 50 serials, prepares and blinds\n",
	       b.blind_book_ms);
	printf("  client_finalize_ms   %8.2f  client: 50 unblinds, each verified\n",
	       b.finalize_book_ms);
	printf("  keygen_ms            %8.1f  one issuer key\n", b.keygen_ms);
	printf("  bloom_insert_ns      %8.1f  1e6 items at 1e-5 (%.1f bits/item)\n",
	       b.bloom_insert_ns, b.bloom_bits_per_item);
	printf("  bloom_test_ns        %8.1f  (measured false positives %.2g, sized for 1e-5)\n",
	       b.bloom_test_ns, b.bloom_fpr);
	return EXIT_OK;
}
