/* IP packets bundled into one IP packet router message (Nym's MultiIpPacketCodec,
 * common/ip-packet-requests/src/codec.rs): each packet gets a 2-byte big-endian length
 * prefix and prefixed packets are concatenated.
 *
 * A bundle is filled up to a limit, the bytes a Sphinx payload leaves for it once the
 * message around it is counted (ipr_msg's *_overhead functions), so that a full bundle is
 * one packet on the mixnet. The builder says when the next packet does not fit, and the
 * owner sends what it has and starts again. A packet too large for the limit on its own goes
 * alone into a bundle of its own, which then spans several Sphinx packets, as in Nym.
 *
 * Reading is strict: a zero length, a length past the end, or a single byte left over at
 * the end make the whole bundle malformed. */
#ifndef NYM_IPR_IPR_BUNDLE_H
#define NYM_IPR_IPR_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPR_BUNDLE_PREFIX_LEN 2
#define IPR_BUNDLE_MAX_PACKET 65535
/* The largest bundle that holds one packet of any size. */
#define IPR_BUNDLE_MAX_SINGLE (IPR_BUNDLE_PREFIX_LEN + IPR_BUNDLE_MAX_PACKET)

struct ipr_bundle_builder {
	uint8_t *buf;
	size_t cap;   /* bytes of buf */
	size_t limit; /* where bundles of several packets stop */
	size_t len;
	size_t count;
};

/* buf holds cap bytes; limit (at least 3: one prefix and one byte) is the fill level. A
 * builder whose cap is below IPR_BUNDLE_MAX_SINGLE may refuse an oversized packet with
 * -EMSGSIZE. Returns 0 or -EINVAL. */
int ipr_bundle_init(struct ipr_bundle_builder *b, uint8_t *buf, size_t cap, size_t limit);

/* Whether a packet of len bytes would go into this bundle now (false when the bundle
 * must be sent first). */
bool ipr_bundle_fits(const struct ipr_bundle_builder *b, size_t len);

/* Appends a packet. Returns 0; -ENOSPC when it does not fit (send the bundle, reset, add
 * again); -EMSGSIZE for an empty packet, one over 65535 bytes, or an oversized packet an
 * empty builder has no room for. */
int ipr_bundle_add(struct ipr_bundle_builder *b, const uint8_t *packet, size_t len);

/* Starts the next bundle in the same buffer. */
void ipr_bundle_reset(struct ipr_bundle_builder *b);

struct ipr_bundle_iter {
	const uint8_t *p;
	size_t len, pos;
};

void ipr_bundle_iter_init(struct ipr_bundle_iter *it, const uint8_t *bundle, size_t len);

/* Returns 0 with the next packet (pointing into the bundle), -ENOENT after the last one, or
 * -EBADMSG for malformed input (sticky). */
int ipr_bundle_next(struct ipr_bundle_iter *it, const uint8_t **packet, size_t *len);

/* Checks a whole bundle: 0 with the number of packets (at least one), or -EBADMSG (also for
 * an empty bundle). */
int ipr_bundle_validate(const uint8_t *bundle, size_t len, size_t *count);

#endif
