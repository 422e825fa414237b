/* The Sphinx header: alpha (32) | gamma (16) | beta (300). gamma is the MAC of beta only. */
#ifndef NYM_SPHINX_HEADER_H
#define NYM_SPHINX_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "sphinx/sphinx_keys.h"
#include "sphinx/sphinx_params.h"

struct sphinx_hop {
	uint8_t address[SPHINX_ADDRESS_LEN]; /* the node's routing address */
	uint8_t public_key[32];             /* its X25519 Sphinx key */
	uint64_t delay_ns;                  /* how long it holds the packet (ignored on the last hop) */
};

/* Builds a header for route[0..hops) ending at destination/identifier, and returns every hop's
 * keys (the caller needs their payload material, then clears them). x and the final block's
 * padding are drawn from rng (x first), NULL meaning system randomness.
 * Returns 0, -EINVAL (hop count outside 1..5, or a route key of small order) or
 * -EPROTONOSUPPORT. */
int sphinx_header_create(uint8_t header[SPHINX_HEADER_LEN], struct sphinx_hop_keys *keys,
			 const struct sphinx_hop *route, size_t hops,
			 const uint8_t destination[SPHINX_ADDRESS_LEN],
			 const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
			 const struct nym_rng *rng);

/* The rest of sphinx_header_create once the key exchange is done (header's alpha written,
 * keys from sphinx_sender_keys or its batch): builds gamma and beta; the final block's
 * padding is drawn from rng. Returns 0, -EINVAL or -EPROTONOSUPPORT. */
int sphinx_header_create_with_keys(uint8_t header[SPHINX_HEADER_LEN], const struct sphinx_hop_keys *keys,
				   const struct sphinx_hop *route, size_t hops,
				   const uint8_t destination[SPHINX_ADDRESS_LEN],
				   const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
				   const struct nym_rng *rng);

/* What a hop learns from its routing block. */
struct sphinx_routing {
	uint8_t flag; /* SPHINX_FLAG_FORWARD or SPHINX_FLAG_FINAL */
	uint16_t version;
	uint8_t address[SPHINX_ADDRESS_LEN]; /* next hop (forward) or destination (final) */
	uint8_t identifier[SPHINX_IDENTIFIER_LEN]; /* final only */
	uint64_t delay_ns;                        /* forward only */
};

/* Constant-time check of gamma against HMAC(mac_key, beta). Returns 0 or -EBADMSG. */
int sphinx_header_verify(const uint8_t header[SPHINX_HEADER_LEN], const struct sphinx_hop_keys *keys);

/* Decrypts the routing block. For a forward hop the header is rewritten in place into the next
 * hop's header, gamma and beta shifted in, except alpha (the first 32 bytes): the caller
 * replaces it with X25519(keys->blinding, alpha), so that several packets' blindings can run
 * together (sphinx_packet_peel_batch). Call only after verify.
 * Returns 0, -EINVAL (unknown flag, nonzero version prefix) or -EPROTONOSUPPORT. */
int sphinx_header_route(uint8_t header[SPHINX_HEADER_LEN], const struct sphinx_hop_keys *keys,
			struct sphinx_routing *out);

#endif
