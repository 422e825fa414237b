/* Reply SURBs and the store of their keys (docs/PROTOCOLS.md §2.11, §9.1).
 *
 * A reply SURB is handed out as `reply key (16) | SURB` (sphinx_surb_encode): the SURB's
 * route ends at the client's own gateway with the client's identity as destination and an
 * all-zero identifier, and the key is a fresh random AES-128 key the replier encrypts the
 * reply body with. The client keeps each key by its digest (SHA-256, mix_reply_key_digest),
 * which leads every reply, for `lifetime_ns` (Nym: 24 h) after the SURB was made.
 *
 *  - Single use: client_surbs_take hands a key out once and forgets it, so a reply packet
 *    replayed by anyone on the path decrypts to nothing the second time.
 *  - Bounded: at most max_keys are held; making one more drops the oldest (counted). The
 *    keys sit in a ring in the order they were made, which is also the order they expire
 *    in, so expiry and the cap both pop from the head; an open-addressing table (linear
 *    probing on the digest, which is uniform already) finds a digest in O(1).
 *
 * Time is passed in (nanoseconds, any monotonic origin); no clock, no I/O. Not thread-safe. */
#ifndef NYM_CLIENT_CLIENT_SURBS_H
#define NYM_CLIENT_CLIENT_SURBS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "mix/mix_reply.h"
#include "sphinx/sphinx_header.h"

#define CLIENT_SURBS_DEFAULT_LIFETIME_NS (24ull * 3600ull * 1000000000ull)
#define CLIENT_SURBS_DEFAULT_MAX_KEYS 65536
/* key | SURB of 1..5 hops in v259: 16 + 348 + 32 + hops x 16; 460 for 4 hops. */
#define CLIENT_SURBS_LEN(hops) (MIX_REPLY_KEY_LEN + SPHINX_HEADER_LEN + SPHINX_ADDRESS_LEN + (hops) * SPHINX_PAYLOAD_SEED_LEN)

struct client_surbs_config {
	uint64_t lifetime_ns; /* 0: the default */
	size_t max_keys;      /* 0: the default */
};

struct client_surbs_stats {
	uint64_t made;	  /* SURBs made (keys stored) */
	uint64_t taken;	  /* keys handed out for a reply */
	uint64_t expired; /* keys dropped after their lifetime */
	uint64_t dropped; /* keys dropped at the cap, oldest first */
	size_t held;	  /* keys held now */
};

struct client_surbs;

/* cfg may be NULL for the defaults. Returns 0, -EINVAL (max_keys above 2^30) or -ENOMEM. */
int client_surbs_new(const struct client_surbs_config *cfg, struct client_surbs **out);
/* Zeroes every key before freeing. */
void client_surbs_free(struct client_surbs *s);

/* Makes one reply SURB over route (hops of them; the last is the client's gateway) to
 * destination (the client's identity), version 259, and writes key | SURB into out
 * (CLIENT_SURBS_LEN(hops) bytes, *written). Returns 0, -ENOSPC or sphinx_surb_create's
 * error (nothing stored then). */
int client_surbs_make(struct client_surbs *s, const struct sphinx_hop *route, size_t hops,
		      const uint8_t destination[32], const struct nym_rng *rng, uint64_t now_ns, uint8_t *out,
		      size_t cap, size_t *written);

/* n reply SURBs at once over routes[k] (their key exchanges batched,
 * sphinx_surb_create_batch), written one after the other into out (n x
 * CLIENT_SURBS_LEN(hops) bytes). Returns 0, -ENOSPC, or the first error of a SURB's creation
 * (then no key is stored). */
int client_surbs_make_batch(struct client_surbs *s, const struct sphinx_hop *const *routes, size_t hops,
			    const uint8_t destination[32], const struct nym_rng *rng, uint64_t now_ns, uint8_t *out,
			    size_t cap, size_t n);

/* Whether a digest is held (and not expired at now_ns). */
bool client_surbs_known(const struct client_surbs *s, const uint8_t digest[MIX_REPLY_DIGEST_LEN], uint64_t now_ns);

/* Hands out the key of a digest and forgets it. Returns 0 or -ENOENT (unknown, used or
 * expired). */
int client_surbs_take(struct client_surbs *s, const uint8_t digest[MIX_REPLY_DIGEST_LEN], uint64_t now_ns,
		      uint8_t key[MIX_REPLY_KEY_LEN]);

/* Drops the keys past their lifetime; returns how many. */
size_t client_surbs_expire(struct client_surbs *s, uint64_t now_ns);

void client_surbs_get_stats(const struct client_surbs *s, struct client_surbs_stats *out);

#endif
