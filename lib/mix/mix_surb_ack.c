#include "mix/mix_surb_ack.h"

#include <errno.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_payload.h"

/* The first hop in front and the ack plaintext; returns 0 or -EINVAL. */
static int prepare(struct mix_surb_ack *ack, uint8_t plain[MIX_ACK_PLAINTEXT_LEN], const struct sphinx_hop *route,
		   size_t hops, const uint8_t ack_key[MIX_ACK_KEY_LEN], const struct mix_fragment_id *id,
		   const struct nym_rng *rng)
{
	if (hops < 1 || hops > SPHINX_MAX_HOPS)
		return -EINVAL;
	struct sockaddr_storage first;
	socklen_t first_len;
	size_t consumed, written;
	memset(ack->bytes, 0, MIX_NODE_ADDR_MAX_UNPADDED_LEN);
	if (mix_node_addr_decode(route[0].address, SPHINX_ADDRESS_LEN, &first, &first_len, &consumed) ||
	    mix_node_addr_encode_unpadded((struct sockaddr *)&first, first_len, ack->bytes, &written))
		return -EINVAL;
	nym_rng_fill(rng, plain, MIX_ACK_IV_LEN);
	mix_fragment_id_encode(id, plain + MIX_ACK_IV_LEN);
	nym_aes_ctr_xor_ctr64(ack_key, plain, plain + MIX_ACK_IV_LEN, plain + MIX_ACK_IV_LEN, MIX_FRAG_ID_LEN);
	ack->expected_delay_ns = 0;
	for (size_t i = 0; i + 1 < hops; i++)
		ack->expected_delay_ns += route[i].delay_ns;
	return 0;
}

static const uint8_t zero_identifier[SPHINX_IDENTIFIER_LEN];

int mix_surb_ack_create(struct mix_surb_ack *ack, const struct sphinx_hop *route, size_t hops,
			const uint8_t sender_identity[32], const uint8_t ack_key[MIX_ACK_KEY_LEN],
			const struct mix_fragment_id *id, uint16_t version, const struct nym_rng *rng)
{
	uint8_t plain[MIX_ACK_PLAINTEXT_LEN];
	int rc = prepare(ack, plain, route, hops, ack_key, id, rng);
	if (rc)
		return rc;
	struct sphinx_packet_params p = { .route = route, .hops = hops, .destination = sender_identity,
					  .identifier = zero_identifier, .version = version, .rng = rng };
	return sphinx_packet_create(ack->bytes + MIX_NODE_ADDR_MAX_UNPADDED_LEN, MIX_ACK_PACKET_LEN, &p, plain,
				    sizeof(plain));
}

#define ACK_BATCH 16

void mix_surb_ack_create_batch(struct mix_surb_ack *acks, const struct sphinx_hop *const *routes, size_t hops,
			       const uint8_t sender_identity[32], const uint8_t ack_key[MIX_ACK_KEY_LEN],
			       const struct mix_fragment_id *ids, uint16_t version, const struct nym_rng *rng,
			       int *rc, size_t n)
{
	for (size_t first = 0; first < n; first += ACK_BATCH) {
		size_t end = n - first < ACK_BATCH ? n : first + ACK_BATCH, m = 0;
		uint8_t plain[ACK_BATCH][MIX_ACK_PLAINTEXT_LEN];
		uint8_t *packets[ACK_BATCH];
		const uint8_t *msgs[ACK_BATCH];
		size_t lens[ACK_BATCH], msg_lens[ACK_BATCH], index[ACK_BATCH];
		struct sphinx_packet_params p[ACK_BATCH];
		int prc[ACK_BATCH];
		for (size_t k = first; k < end; k++) {
			rc[k] = prepare(&acks[k], plain[m], routes[k], hops, ack_key, &ids[k], rng);
			if (rc[k])
				continue;
			packets[m] = acks[k].bytes + MIX_NODE_ADDR_MAX_UNPADDED_LEN;
			lens[m] = MIX_ACK_PACKET_LEN;
			msgs[m] = plain[m];
			msg_lens[m] = MIX_ACK_PLAINTEXT_LEN;
			p[m] = (struct sphinx_packet_params){ .route = routes[k], .hops = hops,
							      .destination = sender_identity,
							      .identifier = zero_identifier, .version = version,
							      .rng = rng };
			index[m++] = k;
		}
		sphinx_packet_create_batch(packets, lens, p, msgs, msg_lens, prc, m);
		for (size_t j = 0; j < m; j++)
			rc[index[j]] = prc[j];
	}
}

int mix_surb_ack_split(const uint8_t ack[MIX_SURB_ACK_LEN], struct sockaddr_storage *first_hop,
		       socklen_t *first_hop_len, const uint8_t **packet)
{
	size_t consumed;
	if (mix_node_addr_decode(ack, MIX_NODE_ADDR_MAX_UNPADDED_LEN, first_hop, first_hop_len, &consumed))
		return -EINVAL;
	*packet = ack + MIX_NODE_ADDR_MAX_UNPADDED_LEN;
	return 0;
}

int mix_surb_ack_recognise(const uint8_t *plaintext, size_t len, const uint8_t ack_key[MIX_ACK_KEY_LEN],
			   struct mix_fragment_id *id)
{
	if (len != MIX_ACK_PLAINTEXT_LEN)
		return -EINVAL;
	uint8_t frag[MIX_FRAG_ID_LEN];
	nym_aes_ctr_xor_ctr64(ack_key, plaintext, plaintext + MIX_ACK_IV_LEN, frag, MIX_FRAG_ID_LEN);
	return mix_fragment_id_decode(frag, id) ? -EINVAL : 0;
}

bool mix_surb_ack_absent(const uint8_t *plaintext)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < MIX_SURB_ACK_HOP_LEN; i++)
		acc |= plaintext[i];
	return acc == 0;
}
