/* Bandwidth tickets (spec/blind-rsa.md §7.1; docs/PROTOCOLS.md §5.1): the 41-byte message
 * the client has signed blindly, and the ticket it later presents, prepared_msg (73) || sig (k).
 * Pure functions over byte buffers. */
#ifndef NYM_CRED_TICKET_H
#define NYM_CRED_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/blind_rsa.h"

#define NYM_TICKET_MSG_LEN 41
#define NYM_TICKET_SERIAL_LEN 32
#define NYM_TICKET_PREPARED_LEN (NYM_BRSA_PREFIX_LEN + NYM_TICKET_MSG_LEN) /* 73 */
#define NYM_TICKET_MAX_LEN (NYM_TICKET_PREPARED_LEN + NYM_BRSA_MAX_LEN)
#define NYM_TICKETBOOK_SIZE 50 /* tickets in a book, and the most one request may carry */
#define NYM_TICKET_DAY_S 86400
/* A book is valid for 7 days after the day it was issued on: its expiry is the end of that
 * window, on the whole-day grid (spec §7.2). */
#define NYM_TICKET_VALIDITY_DAYS 7

enum nym_ticket_type {
	NYM_TICKET_MIXNET_ENTRY = 1, /* 200 MB */
	NYM_TICKET_WG_ENTRY = 2,     /* 500 MB */
	NYM_TICKET_WG_EXIT = 3,	     /* 500 MB */
};
#define NYM_TICKET_TYPE_MIN 1
#define NYM_TICKET_TYPE_MAX 3

bool nym_ticket_type_valid(unsigned type);
/* "mixnet-entry", "wg-entry", "wg-exit"; "unknown" for anything else. */
const char *nym_ticket_type_name(enum nym_ticket_type type);
int nym_ticket_type_parse(const char *name, enum nym_ticket_type *out);
/* The allowance one ticket grants, in bytes (decimal megabytes, as NymVPN counts them). */
uint64_t nym_ticket_type_bytes(enum nym_ticket_type type);

struct nym_ticket_msg {
	enum nym_ticket_type type;
	int64_t expiry; /* Unix seconds; the wire field is u64, values above INT64_MAX invalid */
	uint8_t serial[NYM_TICKET_SERIAL_LEN];
};

/* type u8 | expiry u64 | serial[32] */
void nym_ticket_msg_encode(uint8_t out[NYM_TICKET_MSG_LEN], const struct nym_ticket_msg *m);
/* -EINVAL unless len is 41, the type is known and the expiry fits int64. */
int nym_ticket_msg_decode(struct nym_ticket_msg *m, const uint8_t *in, size_t len);

/* A ticket as presented, pointing into the caller's buffer. */
struct nym_ticket_view {
	const uint8_t *prepared; /* NYM_TICKET_PREPARED_LEN bytes: msg_prefix || msg */
	const uint8_t *sig;
	size_t sig_len;
	struct nym_ticket_msg msg;
};

/* Reads the fields a gateway needs to find the key (spend step 1): at least 73 bytes and a
 * known type; everything after the prepared message is taken as the signature, whose length
 * only the key can judge (nym_ticket_check_len). Returns 0 or -EINVAL. */
int nym_ticket_parse(struct nym_ticket_view *v, const uint8_t *ticket, size_t len);
/* A ticket has exactly one valid length for a key: 73 + k. Returns 0 or -EINVAL. */
int nym_ticket_check_len(const struct nym_ticket_view *v, size_t k);

/* out = prepared || sig; returns 0, -EINVAL (k out of range) or -ENOSPC. */
int nym_ticket_encode(uint8_t *out, size_t cap, size_t *out_len,
		      const uint8_t prepared[NYM_TICKET_PREPARED_LEN], const uint8_t *sig,
		      size_t k);

#endif
