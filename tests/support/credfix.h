/* A local issuer with 2048-bit keys (fast to generate) and helpers that run the whole blind
 * issuance protocol, for the credential suites. */
#ifndef NYM_TESTS_CREDFIX_H
#define NYM_TESTS_CREDFIX_H

#include <stdint.h>

#include "credstore/issuer.h"
#include "cred/issuer_keyset.h"
#include "cred/ticketbook.h"

/* A fixed instant: 2026-11-23 01:00 UTC. */
#define CREDFIX_NOW ((int64_t)1795395600)

struct credfix {
	char dir[256];
	char issuer_db[300];
	struct nym_issuer *iss;
	struct nym_issuer_keyset ks; /* the published keys at CREDFIX_NOW */
	int64_t now;
};

/* Opens an issuer in a fresh directory with today's key for each type in `types`
 * (a mask of 1 << type). */
void credfix_init(struct credfix *f, unsigned types);
void credfix_fini(struct credfix *f);

/* Creates one voucher; code gets NYM_VOUCHER_CODE_LEN + 1 bytes. */
void credfix_voucher(struct credfix *f, char *code);

/* Runs the protocol: voucher, blind, POST body through the issuer engine, finalize. */
struct nym_ticketbook *credfix_issue_book(struct credfix *f, enum nym_ticket_type type,
					  size_t count);

/* The ticket bytes of a ready book's entry. */
size_t credfix_ticket(const struct nym_ticketbook *book, size_t index, uint8_t *out);

#endif
