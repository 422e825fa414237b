/* Token buckets per source address, in a table of fixed size: the authority's limit on how
 * often one address may register (authority.registrations_per_epoch, registration_burst).
 *
 * Each address starts with `burst` tokens, gains `rate` tokens per `period_ms` up to `burst`,
 * and spends one per request; a request finding less than one token is refused and spends
 * nothing. IPv6 addresses count per /64 (one host easily holds a whole /64), IPv4 per
 * address. The table holds `slots` addresses: the slots are found through a keyed hash (the
 * key is random, so nobody can aim at one slot) and probed a few at a time; when every probed
 * slot is taken, the fullest bucket (the idlest address) is forgotten, so memory stays fixed
 * and an address the table forgot starts again with a full bucket. Not thread-safe. */
#ifndef NYM_UTIL_TOKEN_BUCKET_H
#define NYM_UTIL_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct nym_token_bucket_table;

/* Returns 0, -EINVAL (a zero rate, burst, period or slot count) or -ENOMEM. */
int nym_token_bucket_new(struct nym_token_bucket_table **out, size_t slots, uint64_t rate, uint64_t period_ms,
			  uint64_t burst);
void nym_token_bucket_free(struct nym_token_bucket_table *t);

/* Takes a token for the address (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4) at now_ms. Returns true when the request may go ahead. Other families always pass. */
bool nym_token_bucket_take(struct nym_token_bucket_table *t, const struct sockaddr *addr, uint64_t now_ms);

#endif
