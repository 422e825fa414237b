#include "mix/mix_cover.h"

#include <errno.h>
#include <string.h>

#include "mix/mix_envelope.h"
#include "sphinx/sphinx_packet.h"

static const char loop_text[] = "The cake is a lie!";

int mix_cover_loop_packet(uint8_t *packet, size_t packet_len, const struct mix_recipient *self,
			  const struct sphinx_hop *route, size_t hops, const struct sphinx_hop *ack_route,
			  size_t ack_hops, const uint8_t ack_key[MIX_ACK_KEY_LEN], uint16_t version,
			  const struct nym_rng *rng)
{
	if (packet_len != MIX_REGULAR_PACKET_LEN)
		return -EINVAL;
	enum { PLAIN = MIX_REGULAR_PACKET_LEN - MIX_SPHINX_PACKET_OVERHEAD };
	uint8_t body[PLAIN], envelope[PLAIN];
	size_t body_len = mix_envelope_body_len(PLAIN);
	struct mix_surb_ack ack;
	struct mix_fragment_id cover = MIX_FRAGMENT_ID_COVER;
	int rc = mix_surb_ack_create(&ack, ack_route, ack_hops, self->identity, ack_key, &cover, version, rng);
	if (rc)
		return rc;
	mix_cover_loop_body(body, body_len);
	rc = mix_envelope_seal(envelope, PLAIN, &ack, self->encryption_key, body, body_len, rng);
	if (rc)
		return rc;
	static const uint8_t zero_identifier[SPHINX_IDENTIFIER_LEN];
	struct sphinx_packet_params p = { .route = route, .hops = hops, .destination = self->identity,
					  .identifier = zero_identifier, .version = version, .rng = rng };
	return sphinx_packet_create(packet, packet_len, &p, envelope, PLAIN);
}

void mix_cover_loop_body(uint8_t *body, size_t len)
{
	memset(body, 0, len);
	memcpy(body, loop_text, sizeof(loop_text) - 1);
	body[sizeof(loop_text) - 1] = 0x01;
}

bool mix_cover_is_loop(const uint8_t *body, size_t len)
{
	size_t n = sizeof(loop_text) - 1;
	if (len <= n || memcmp(body, loop_text, n) != 0 || body[n] != 0x01)
		return false;
	for (size_t i = n + 1; i < len; i++)
		if (body[i])
			return false;
	return true;
}
