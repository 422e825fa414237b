#include "sphinx/sphinx_surb.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_payload.h"
#include "sphinx/sphinx_sender.h"

#define FIXED_LEN (SPHINX_HEADER_LEN + SPHINX_ADDRESS_LEN)

static size_t material_len(uint16_t version)
{
	return version == SPHINX_VERSION_259 ? SPHINX_PAYLOAD_SEED_LEN : SPHINX_PAYLOAD_KEY_LEN;
}

int sphinx_surb_create(struct sphinx_surb *surb, const struct sphinx_hop *route, size_t hops,
		       const uint8_t destination[SPHINX_ADDRESS_LEN],
		       const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
		       const struct nym_rng *rng)
{
	struct sphinx_hop_keys keys[SPHINX_MAX_HOPS];
	memset(surb, 0, sizeof(*surb));
	int rc = sphinx_header_create(surb->header, keys, route, hops, destination, identifier,
				      version, rng);
	if (rc == 0) {
		memcpy(surb->first_hop, route[0].address, SPHINX_ADDRESS_LEN);
		surb->hops = hops;
		surb->version = version;
		for (size_t i = 0; i < hops; i++)
			memcpy(surb->material[i], keys[i].payload, material_len(version));
	}
	nym_memzero(keys, sizeof(keys));
	return rc;
}

#define SURB_BATCH 16

void sphinx_surb_create_batch(struct sphinx_surb *surbs, const struct sphinx_hop *const *routes, size_t hops,
			      const uint8_t destination[SPHINX_ADDRESS_LEN],
			      const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
			      const struct nym_rng *rng, int *rc, size_t n)
{
	for (size_t first = 0; first < n; first += SURB_BATCH) {
		size_t m = n - first < SURB_BATCH ? n - first : SURB_BATCH;
		uint8_t x[SURB_BATCH][32], alpha0[SURB_BATCH][32], route_keys[SURB_BATCH][SPHINX_MAX_HOPS][32];
		const uint8_t(*rk[SURB_BATCH])[32];
		struct sphinx_hop_keys keys[SURB_BATCH][SPHINX_MAX_HOPS];
		size_t nh[SURB_BATCH];
		int krc[SURB_BATCH];
		bool ok = hops >= 1 && hops <= SPHINX_MAX_HOPS && sphinx_version_supported(version);
		for (size_t j = 0; j < m; j++) {
			memset(&surbs[first + j], 0, sizeof(surbs[0]));
			nh[j] = ok ? hops : 0;
			rk[j] = (const uint8_t(*)[32])route_keys[j];
			if (!ok)
				continue;
			nym_rng_fill(rng, x[j], 32);
			for (size_t i = 0; i < hops; i++)
				memcpy(route_keys[j][i], routes[first + j][i].public_key, 32);
		}
		if (ok)
			sphinx_sender_keys_batch(alpha0, keys, rk, nh, (const uint8_t(*)[32])x, krc, m);
		for (size_t j = 0; j < m; j++) {
			struct sphinx_surb *surb = &surbs[first + j];
			int r = !ok ? (hops < 1 || hops > SPHINX_MAX_HOPS ? -EINVAL : -EPROTONOSUPPORT) : krc[j];
			if (!r) {
				memcpy(surb->header, alpha0[j], 32);
				r = sphinx_header_create_with_keys(surb->header, keys[j], routes[first + j], hops,
								   destination, identifier, version, rng);
			}
			if (!r) {
				memcpy(surb->first_hop, routes[first + j][0].address, SPHINX_ADDRESS_LEN);
				surb->hops = hops;
				surb->version = version;
				for (size_t i = 0; i < hops; i++)
					memcpy(surb->material[i], keys[j][i].payload, material_len(version));
			} else {
				memset(surb, 0, sizeof(*surb));
			}
			rc[first + j] = r;
		}
		nym_memzero(x, sizeof(x));
		nym_memzero(keys, sizeof(keys));
	}
}

int sphinx_surb_use(const struct sphinx_surb *surb, uint8_t *packet, size_t packet_len,
		    const uint8_t *msg, size_t msg_len)
{
	if (packet_len < SPHINX_HEADER_LEN + SPHINX_PAYLOAD_MIN)
		return -EMSGSIZE;
	uint8_t *payload = packet + SPHINX_HEADER_LEN;
	size_t payload_len = packet_len - SPHINX_HEADER_LEN;
	int rc = sphinx_payload_encode(payload, payload_len, msg, msg_len);
	if (rc)
		return rc;
	memcpy(packet, surb->header, SPHINX_HEADER_LEN);
	return sphinx_payload_encrypt(payload, payload_len,
				      (const uint8_t(*)[SPHINX_PAYLOAD_KEY_LEN])surb->material,
				      surb->hops, surb->version);
}

size_t sphinx_surb_encoded_len(const struct sphinx_surb *surb)
{
	return FIXED_LEN + surb->hops * material_len(surb->version);
}

int sphinx_surb_encode(const struct sphinx_surb *surb, uint8_t *out, size_t cap)
{
	size_t len = sphinx_surb_encoded_len(surb), step = material_len(surb->version);
	if (cap < len)
		return -ENOSPC;
	memcpy(out, surb->header, SPHINX_HEADER_LEN);
	memcpy(out + SPHINX_HEADER_LEN, surb->first_hop, SPHINX_ADDRESS_LEN);
	for (size_t i = 0; i < surb->hops; i++)
		memcpy(out + FIXED_LEN + i * step, surb->material[i], step);
	return (int)len;
}

int sphinx_surb_decode(struct sphinx_surb *surb, const uint8_t *in, size_t len)
{
	if (len <= FIXED_LEN)
		return -EINVAL;
	size_t keys_len = len - FIXED_LEN;
	/* Upstream tells the two forms apart by length: anything under one full key is seeds. */
	uint16_t version = keys_len < SPHINX_PAYLOAD_KEY_LEN ? SPHINX_VERSION_259 : SPHINX_VERSION_258;
	size_t step = material_len(version);
	if (keys_len % step || keys_len / step > SPHINX_MAX_HOPS)
		return -EINVAL;
	memset(surb, 0, sizeof(*surb));
	surb->version = version;
	surb->hops = keys_len / step;
	memcpy(surb->header, in, SPHINX_HEADER_LEN);
	memcpy(surb->first_hop, in + SPHINX_HEADER_LEN, SPHINX_ADDRESS_LEN);
	for (size_t i = 0; i < surb->hops; i++)
		memcpy(surb->material[i], in + FIXED_LEN + i * step, step);
	return 0;
}

void sphinx_surb_clear(struct sphinx_surb *surb)
{
	nym_memzero(surb, sizeof(*surb));
}
