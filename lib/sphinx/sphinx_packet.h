/* Whole Sphinx packets: header (348) followed by the payload; no framing. This is the API the
 * rest of the project uses. */
#ifndef NYM_SPHINX_PACKET_H
#define NYM_SPHINX_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "sphinx/sphinx_header.h"
#include "sphinx/sphinx_keys.h"

struct sphinx_packet_params {
	const struct sphinx_hop *route;
	size_t hops;                        /* 1..5 */
	const uint8_t *destination;         /* SPHINX_ADDRESS_LEN */
	const uint8_t *identifier;          /* SPHINX_IDENTIFIER_LEN */
	uint16_t version;                   /* 258 or 259 */
	const struct nym_rng *rng;          /* NULL: system randomness */
};

/* Builds a packet of packet_len = SPHINX_HEADER_LEN + payload size bytes carrying msg.
 * Returns 0, -EINVAL, -EMSGSIZE (message does not fit) or -EPROTONOSUPPORT. */
int sphinx_packet_create(uint8_t *packet, size_t packet_len, const struct sphinx_packet_params *p,
			 const uint8_t *msg, size_t msg_len);

/* n packets at once, each as sphinx_packet_create would build it (packets[k] of
 * packet_lens[k] bytes, params[k], msgs[k] of msg_lens[k] bytes, which may sit where the
 * packet's payload carries it: at packets[k] + SPHINX_HEADER_LEN + 16). The key exchanges
 * run together hop by hop (sphinx_sender_keys_batch), about three times the throughput of
 * one packet at a time on CPUs with the eight-lane ladder. From each params[k].rng, x is
 * drawn first and the final block's padding after, as in sphinx_packet_create, so a packet is
 * byte-identical to the one sphinx_packet_create makes from the same randomness. rc[k] gets
 * what sphinx_packet_create would return. */
void sphinx_packet_create_batch(uint8_t *const *packets, const size_t *packet_lens,
				const struct sphinx_packet_params *params, const uint8_t *const *msgs,
				const size_t *msg_lens, int *rc, size_t n);

enum sphinx_hop_kind {
	SPHINX_HOP_FORWARD = SPHINX_FLAG_FORWARD,
	SPHINX_HOP_FINAL = SPHINX_FLAG_FINAL,
};

struct sphinx_processed {
	enum sphinx_hop_kind kind;
	uint16_t version;
	uint8_t replay_tag[SPHINX_REPLAY_TAG_LEN];
	uint8_t address[SPHINX_ADDRESS_LEN];       /* next hop (forward) or destination (final) */
	uint8_t identifier[SPHINX_IDENTIFIER_LEN]; /* final */
	uint64_t delay_ns;                         /* forward */
};

/* Processing is split so a node can consult its replay filter between the cheap checks and
 * the second curve operation:
 *   open: length check, X25519 with the node's secret, key expansion, MAC check;
 *   peel: routing block, blinding, payload layer, in place.
 * open returns 0, -EMSGSIZE (length), -EINVAL (alpha of small order) or -EBADMSG (MAC);
 * peel returns 0, -EINVAL or -EPROTONOSUPPORT. After peel, a forward packet holds the next
 * hop's packet and a final packet holds the decrypted payload at SPHINX_HEADER_LEN. */
int sphinx_packet_open(struct sphinx_hop_keys *keys, const uint8_t secret[32],
		       const uint8_t *packet, size_t packet_len);
int sphinx_packet_peel(uint8_t *packet, size_t packet_len, const struct sphinx_hop_keys *keys,
		       struct sphinx_processed *out);

/* open and peel for n packets at once, each with its own secret: their curve operations run
 * together (crypto/x25519_batch), which is how a node drains a backlog faster than one packet
 * at a time. rc[i] gets what open or peel would return for packet i. peel_batch skips the
 * packets whose rc[i] is nonzero on entry (failed to open, or refused by the caller). */
void sphinx_packet_open_batch(struct sphinx_hop_keys *keys, const uint8_t *const *secrets,
			      uint8_t *const *packets, const size_t *packet_lens, int *rc, size_t n);
void sphinx_packet_peel_batch(uint8_t *const *packets, const size_t *packet_lens,
			      const struct sphinx_hop_keys *keys, struct sphinx_processed *out, int *rc, size_t n);

/* open + peel, keys cleared afterwards. */
int sphinx_packet_process(uint8_t *packet, size_t packet_len, const uint8_t secret[32],
			  struct sphinx_processed *out);

/* After a final hop: locates the message inside the payload. Returns 0 or -EBADMSG. */
int sphinx_packet_message(const uint8_t *packet, size_t packet_len, const uint8_t **msg,
			  size_t *msg_len);

#endif
