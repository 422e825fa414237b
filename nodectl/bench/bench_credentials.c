/* nym-node bench credentials: the costs of ticket issuance, verification and spending, with
 * a local issuer database and ticket store. */
#include "nodectl/bench/bench_credentials.h"
#include "nodectl/bench/bench_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred/blind_rsa.h"
#include "credstore/issuer.h"
#include "cred/issuer_keyset.h"
#include "cred/ticket.h"
#include "credstore/ticket_store.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"
#include "util/bloom.h"
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
	struct bench_credentials_result *r;
};

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
	b->r->keygen_ms = since_us(t0) / 1000.0;
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
	b->r->blind_book_ms = median(blind, n);
	b->r->issue_book_ms = median(issue, n);
	b->r->finalize_book_ms = median(fin, n);
	b->r->blind_sign_us = median(bare_signs, n);

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
	b->r->brsa_verify_us = median(s, 4096);
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
	b->r->verify_us = median(s, 4096);
	b->r->ticket_bytes = NYM_TICKET_PREPARED_LEN + k;
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
	b->r->spend_us = median(s, ntickets);

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
	b->r->bloom_insert_ns = since_us(t0) * 1000.0 / (double)items;
	size_t hits = 0;
	item[31] ^= 1; /* items never inserted: every hit is a false positive */
	t0 = nym_clock_now_ns();
	for (size_t i = 0; i < items; i++) {
		memcpy(item, &i, sizeof(i));
		hits += nym_bloom_test(&bloom, item, sizeof(item));
	}
	b->r->bloom_test_ns = since_us(t0) * 1000.0 / (double)items;
	b->r->bloom_fpr = (double)hits / (double)items;
	b->r->bloom_bits_per_item = (double)bloom.nbits / (double)items;
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

int bench_credentials_run(const struct bench_credentials_options *options, struct bench_credentials_result *result,
			  char *error, size_t error_len)
{
	*result = (struct bench_credentials_result){ 0 };
	struct bench b = { .bits = options->bits, .books = options->books, .r = result };
	int rc = bench_host_scratch_dir(b.dir, sizeof(b.dir), "nym-bench-cred", error, error_len);
	if (rc)
		return rc;
	snprintf(b.db, sizeof(b.db), "%s/issuer.db", b.dir);
	snprintf(b.store, sizeof(b.store), "%s/gateway.db", b.dir);
	enum nym_log_level level = nym_log_get_level();
	nym_log_set_level(NYM_LOG_WARN);
	rc = bench_run(&b);
	nym_log_set_level(level);
	bench_host_scratch_remove(b.dir);
	if (rc) {
		snprintf(error, error_len, "benchmark failed: %s", strerror(-rc));
		return rc;
	}
	result->issue_vs_50_blind_signs = result->issue_book_ms * 1000.0 / (NYM_TICKETBOOK_SIZE * result->blind_sign_us);
	result->verify_vs_rsa_pss_verify = result->verify_us / result->brsa_verify_us;
	result->books_per_s_per_core = 1000.0 / result->issue_book_ms;
	return 0;
}
