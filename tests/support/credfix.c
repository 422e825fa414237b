#include "credfix.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "tmpdir.h"

void credfix_init(struct credfix *f, unsigned types)
{
	memset(f, 0, sizeof(*f));
	cr_assert_eq(nym_crypto_init(), 0);
	test_tmpdir(f->dir, sizeof(f->dir));
	test_path(f->issuer_db, sizeof(f->issuer_db), f->dir, "issuer.db");
	struct nym_issuer_config cfg;
	nym_issuer_config_default(&cfg);
	cfg.key_bits = 2048;
	cfg.days_ahead = 0;
	f->now = CREDFIX_NOW;
	cr_assert_eq(nym_issuer_open(&f->iss, f->issuer_db, &cfg), 0);
	for (unsigned t = NYM_TICKET_TYPE_MIN; t <= NYM_TICKET_TYPE_MAX; t++)
		if (types & (1u << t))
			cr_assert_eq(nym_issuer_ensure_key(f->iss, (enum nym_ticket_type)t, f->now),
				     0);
	cr_assert_eq(nym_issuer_keys(f->iss, f->now, &f->ks), 0);
}

void credfix_fini(struct credfix *f)
{
	nym_issuer_keyset_clear(&f->ks);
	nym_issuer_close(f->iss);
	test_tmpdir_remove(f->dir);
}

void credfix_voucher(struct credfix *f, char *code)
{
	char codes[1][NYM_VOUCHER_MAX + 1];
	cr_assert_eq(nym_issuer_voucher_create(f->iss, 1, f->now, codes), 0);
	memcpy(code, codes[0], NYM_VOUCHER_CODE_LEN + 1);
}

struct nym_ticketbook *credfix_issue_book(struct credfix *f, enum nym_ticket_type type,
					  size_t count)
{
	char code[NYM_VOUCHER_CODE_LEN + 1];
	credfix_voucher(f, code);
	const struct nym_issuer_keyset_entry *k = nym_issuer_keyset_current(&f->ks, type, f->now);
	cr_assert_not_null(k, "no current key for %s", nym_ticket_type_name(type));
	struct nym_ticketbook *book;
	cr_assert_eq(nym_ticketbook_create(&book, k->key, type, k->expiry, count, code), 0);
	char *req, *resp;
	size_t req_len, resp_len;
	int status;
	cr_assert_eq(nym_ticketbook_request(book, &req, &req_len), 0);
	cr_assert_eq(nym_issuer_handle_ticketbooks(f->iss, req, req_len, f->now, &status, &resp,
						   &resp_len),
		     0);
	cr_assert_eq(status, 200, "issuer answered %d: %s", status, resp);
	cr_assert_eq(nym_ticketbook_finalize(book, resp, resp_len), 0);
	cr_assert_eq(book->state, NYM_TICKETBOOK_READY);
	free(req);
	free(resp);
	return book;
}

size_t credfix_ticket(const struct nym_ticketbook *book, size_t index, uint8_t *out)
{
	size_t len;
	cr_assert_eq(nym_ticketbook_ticket(book, index, out, NYM_TICKET_MAX_LEN, &len), 0);
	return len;
}
