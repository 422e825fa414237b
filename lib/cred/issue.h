/* The ticketbook issuance exchange (POST /v1/ticketbooks, docs/PROTOCOLS.md §5.4) as pure
 * functions: JSON bytes in, checked structures out, and back. The decoder checks shape and
 * lengths only; whether each element fits the key (exactly k bytes, below n) is the issuer's
 * check, since only it knows the key.
 *
 * The structures are large (50 elements of up to 512 bytes): allocate them, don't put them
 * on a small stack. A request holds a voucher, a bearer secret: wipe it with
 * nym_issue_request_clear. */
#ifndef NYM_CRED_ISSUE_H
#define NYM_CRED_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "cred/blind_rsa.h"
#include "cred/ticket.h"

#define NYM_VOUCHER_MAX 64
/* 50 hex elements of the largest key, field names and a voucher, with room to spare. */
#define NYM_ISSUE_BODY_MAX (64 * 1024)
#define NYM_ISSUE_ELEM_MIN 256 /* 2048-bit keys */

struct nym_issue_request {
	char voucher[NYM_VOUCHER_MAX + 1];
	enum nym_ticket_type type;
	int64_t expiry;
	size_t count;	 /* 1..NYM_TICKETBOOK_SIZE */
	size_t elem_len; /* every element has this length, 256..512 */
	uint8_t blinded[NYM_TICKETBOOK_SIZE][NYM_BRSA_MAX_LEN];
};

struct nym_issue_response {
	enum nym_ticket_type type;
	int64_t expiry;
	size_t count;
	size_t elem_len;
	uint8_t blind_sigs[NYM_TICKETBOOK_SIZE][NYM_BRSA_MAX_LEN];
};

/* A voucher code: 1..64 characters of [0-9A-Za-z]. */
bool nym_issue_voucher_valid(const char *code);

/* *json is malloc'd, NUL-terminated, *len its length. */
int nym_issue_request_encode(const struct nym_issue_request *req, char **json, size_t *len);
/* 0, -EMSGSIZE (body longer than NYM_ISSUE_BODY_MAX) or -EINVAL (anything malformed:
 * not the exact set of fields, a bad voucher, unknown type, expiry off the day grid, no
 * elements or more than 50, an element that is not hex of 256..512 bytes, or elements of
 * different lengths). */
int nym_issue_request_decode(struct nym_issue_request *req, const char *body, size_t len);
void nym_issue_request_clear(struct nym_issue_request *req);

int nym_issue_response_encode(const struct nym_issue_response *resp, char **json, size_t *len);
int nym_issue_response_decode(struct nym_issue_response *resp, const char *body, size_t len);

/* {"error": message}: the body of every failed request. */
int nym_issue_error_encode(const char *message, char **json, size_t *len);

#endif
