/* Single-use reply blocks. A SURB is a ready header for a route back to its creator plus the
 * payload key material of every hop; whoever holds it can send one packet along that route
 * without learning it. Encoding (nymtech/sphinx): header (348) | first-hop address (32) |
 * key material, which is n x 192-byte payload keys (v258) or n x 16-byte seeds (v259). */
#ifndef NYM_SPHINX_SURB_H
#define NYM_SPHINX_SURB_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "sphinx/sphinx_header.h"

struct sphinx_surb {
	uint8_t header[SPHINX_HEADER_LEN];
	uint8_t first_hop[SPHINX_ADDRESS_LEN];
	size_t hops;
	uint16_t version;
	uint8_t material[SPHINX_MAX_HOPS][SPHINX_PAYLOAD_KEY_LEN];
};

#define SPHINX_SURB_MAX_ENCODED \
	(SPHINX_HEADER_LEN + SPHINX_ADDRESS_LEN + SPHINX_MAX_HOPS * SPHINX_PAYLOAD_KEY_LEN)

/* The route's first hop is where the reply must be sent; it is recorded from route[0]. */
int sphinx_surb_create(struct sphinx_surb *surb, const struct sphinx_hop *route, size_t hops,
		       const uint8_t destination[SPHINX_ADDRESS_LEN],
		       const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
		       const struct nym_rng *rng);

/* n SURBs at once (surbs[k] over routes[k], hops each), their key exchanges run together
 * hop by hop (sphinx_sender_keys_batch). rc[k] gets what sphinx_surb_create would return. */
void sphinx_surb_create_batch(struct sphinx_surb *surbs, const struct sphinx_hop *const *routes, size_t hops,
			      const uint8_t destination[SPHINX_ADDRESS_LEN],
			      const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
			      const struct nym_rng *rng, int *rc, size_t n);

/* Builds the reply packet (header | payload) of packet_len bytes carrying msg; it goes to
 * surb->first_hop. Returns 0, -EMSGSIZE or -EPROTONOSUPPORT. */
int sphinx_surb_use(const struct sphinx_surb *surb, uint8_t *packet, size_t packet_len,
		    const uint8_t *msg, size_t msg_len);

size_t sphinx_surb_encoded_len(const struct sphinx_surb *surb);
/* Returns the encoded length, or -ENOSPC. */
int sphinx_surb_encode(const struct sphinx_surb *surb, uint8_t *out, size_t cap);
/* Returns 0 or -EINVAL (a length that is neither 1..5 seeds nor 1..5 keys). */
int sphinx_surb_decode(struct sphinx_surb *surb, const uint8_t *in, size_t len);

void sphinx_surb_clear(struct sphinx_surb *surb);

#endif
