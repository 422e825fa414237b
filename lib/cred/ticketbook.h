/* The client's ticketbook: up to 50 tickets of one type under one issuer key, from blinding
 * through issuance to spending (spec §7.3, §7.4), and its file (docs/PROTOCOLS.md §5.5).
 *
 * A book is "pending" from nym_ticketbook_create until the issuer's answer is finalized: it
 * holds each ticket's prepared message, blinded message and the secret inverse, so a lost
 * answer can be asked for again with the same request (the issuer answers an identical
 * request again without spending another voucher). Finalization is all or nothing: if any
 * signature fails to verify the whole book is dropped ("failed", secrets wiped) and is never
 * re-blinded (new serials and prefixes are drawn for a new book). A "ready" book holds
 * finished tickets, each unspent or spent.
 *
 * The file holds bearer secrets (inverses, unspent tickets): it is written 0600, atomically.
 * A book is not shared between threads. */
#ifndef NYM_CRED_TICKETBOOK_H
#define NYM_CRED_TICKETBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/blind_rsa.h"
#include "cred/issue.h"
#include "cred/ticket.h"

#define NYM_TICKETBOOK_VERSION 1
#define NYM_TICKETBOOK_FILE_MAX (256 * 1024)

enum nym_ticketbook_state {
	NYM_TICKETBOOK_PENDING,
	NYM_TICKETBOOK_READY,
	NYM_TICKETBOOK_FAILED,
};

struct nym_ticketbook_entry {
	bool spent;
	uint8_t prepared[NYM_TICKET_PREPARED_LEN];
	uint8_t blinded[NYM_BRSA_MAX_LEN]; /* pending only */
	uint8_t inv[NYM_BRSA_MAX_LEN];	   /* pending only; secret */
	uint8_t sig[NYM_BRSA_MAX_LEN];	   /* ready only */
};

struct nym_ticketbook {
	enum nym_ticketbook_state state;
	enum nym_ticket_type type;
	int64_t expiry;
	struct nym_blind_rsa_public_key *key;
	char voucher[NYM_VOUCHER_MAX + 1]; /* pending only */
	size_t count;
	struct nym_ticketbook_entry entries[NYM_TICKETBOOK_SIZE];
};

/* Draws `count` fresh serials and prefixes for the key's (type, expiry), prepares and
 * blinds each (spec §7.3 issuance steps 1-2). The key must be a production key
 * (PSS-Randomized, accepted size). */
int nym_ticketbook_create(struct nym_ticketbook **out, const struct nym_blind_rsa_public_key *key,
			  enum nym_ticket_type type, int64_t expiry, size_t count,
			  const char *voucher);
void nym_ticketbook_free(struct nym_ticketbook *book);

/* The POST /v1/ticketbooks body for a pending book. */
int nym_ticketbook_request(const struct nym_ticketbook *book, char **json, size_t *len);

/* Finalizes a pending book with the issuer's answer. An answer that does not parse as one
 * returns -EINVAL (or -EMSGSIZE) and leaves the book pending. A well-formed answer that does
 * not match the request (type, expiry, count, lengths: -EINVAL) or holds any signature that
 * does not verify (-EBADMSG) drops the book: it becomes "failed" with its secrets wiped. */
int nym_ticketbook_finalize(struct nym_ticketbook *book, const char *response, size_t len);

/* The ticket bytes (73 + k) of a ready book's entry. -ENOENT when index is out of range,
 * -EINVAL when the book is not ready. */
int nym_ticketbook_ticket(const struct nym_ticketbook *book, size_t index, uint8_t *out, size_t cap,
			  size_t *out_len);
/* Picks an unspent ticket at random (spending in issuance order would help a gateway link
 * tickets of one book), marks it spent and returns its index. Save the book before the ticket
 * leaves the process, so a crash can't lead to presenting it twice. -ENOENT when all spent. */
int nym_ticketbook_take(struct nym_ticketbook *book, size_t *index);
int nym_ticketbook_mark_spent(struct nym_ticketbook *book, size_t index);
size_t nym_ticketbook_unspent(const struct nym_ticketbook *book);

/* JSON encoding of the whole book; *json is malloc'd and secret (inverses, tickets):
 * release it with nym_ticketbook_json_free. */
int nym_ticketbook_to_json(const struct nym_ticketbook *book, char **json, size_t *len);
void nym_ticketbook_json_free(char *json, size_t len);
/* Pure parser of the file format, with every field checked: -EINVAL, -EMSGSIZE, -ENOMEM,
 * -EPROTONOSUPPORT for another version. */
int nym_ticketbook_from_json(struct nym_ticketbook **out, const char *json, size_t len);

int nym_ticketbook_save(const struct nym_ticketbook *book, const char *path);
int nym_ticketbook_load(struct nym_ticketbook **out, const char *path);

#endif
