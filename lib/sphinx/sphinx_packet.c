#include "sphinx/sphinx_packet.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/x25519_batch.h"
#include "sphinx/sphinx_keys.h"
#include "sphinx/sphinx_payload.h"
#include "sphinx/sphinx_sender.h"

int sphinx_packet_create(uint8_t *packet, size_t packet_len, const struct sphinx_packet_params *p,
			 const uint8_t *msg, size_t msg_len)
{
	if (packet_len < SPHINX_HEADER_LEN + SPHINX_PAYLOAD_MIN)
		return -EMSGSIZE;
	if (p->hops < 1 || p->hops > SPHINX_MAX_HOPS)
		return -EINVAL;
	uint8_t *payload = packet + SPHINX_HEADER_LEN;
	size_t payload_len = packet_len - SPHINX_HEADER_LEN;
	struct sphinx_hop_keys keys[SPHINX_MAX_HOPS];
	uint8_t material[SPHINX_MAX_HOPS][SPHINX_PAYLOAD_KEY_LEN];

	int rc = sphinx_payload_encode(payload, payload_len, msg, msg_len);
	if (rc)
		return rc;
	rc = sphinx_header_create(packet, keys, p->route, p->hops, p->destination, p->identifier,
				  p->version, p->rng);
	if (rc)
		goto out;
	for (size_t i = 0; i < p->hops; i++)
		memcpy(material[i], keys[i].payload, SPHINX_PAYLOAD_KEY_LEN);
	rc = sphinx_payload_encrypt(payload, payload_len, (const uint8_t(*)[SPHINX_PAYLOAD_KEY_LEN])material,
				    p->hops, p->version);
out:
	nym_memzero(keys, sizeof(keys));
	nym_memzero(material, sizeof(material));
	return rc;
}

/* Packets whose key exchanges run together in sphinx_packet_create_batch. */
#define CREATE_BATCH 16

static void create_group(uint8_t *const *packets, const size_t *packet_lens, const struct sphinx_packet_params *p,
			 const uint8_t *const *msgs, const size_t *msg_lens, int *rc, size_t n)
{
	uint8_t x[CREATE_BATCH][32], alpha0[CREATE_BATCH][32];
	uint8_t route_keys[CREATE_BATCH][SPHINX_MAX_HOPS][32];
	const uint8_t(*rk[CREATE_BATCH])[32];
	struct sphinx_hop_keys keys[CREATE_BATCH][SPHINX_MAX_HOPS];
	size_t hops[CREATE_BATCH];
	int krc[CREATE_BATCH];

	for (size_t k = 0; k < n; k++) {
		rk[k] = (const uint8_t(*)[32])route_keys[k];
		hops[k] = p[k].hops;
		if (packet_lens[k] < SPHINX_HEADER_LEN + SPHINX_PAYLOAD_MIN)
			rc[k] = -EMSGSIZE;
		else if (p[k].hops < 1 || p[k].hops > SPHINX_MAX_HOPS)
			rc[k] = -EINVAL;
		else if (!sphinx_version_supported(p[k].version))
			rc[k] = -EPROTONOSUPPORT;
		else
			rc[k] = sphinx_payload_encode(packets[k] + SPHINX_HEADER_LEN, packet_lens[k] - SPHINX_HEADER_LEN,
						      msgs[k], msg_lens[k]);
		if (rc[k]) {
			hops[k] = 0; /* skipped by the batch */
			continue;
		}
		nym_rng_fill(p[k].rng, x[k], 32);
		for (size_t i = 0; i < p[k].hops; i++)
			memcpy(route_keys[k][i], p[k].route[i].public_key, 32);
	}
	sphinx_sender_keys_batch(alpha0, keys, rk, hops, (const uint8_t(*)[32])x, krc, n);
	for (size_t k = 0; k < n; k++) {
		if (rc[k])
			continue;
		rc[k] = krc[k];
		if (!rc[k]) {
			memcpy(packets[k], alpha0[k], 32);
			rc[k] = sphinx_header_create_with_keys(packets[k], keys[k], p[k].route, p[k].hops,
							       p[k].destination, p[k].identifier, p[k].version,
							       p[k].rng);
		}
		if (!rc[k]) {
			uint8_t material[SPHINX_MAX_HOPS][SPHINX_PAYLOAD_KEY_LEN];
			for (size_t i = 0; i < p[k].hops; i++)
				memcpy(material[i], keys[k][i].payload, SPHINX_PAYLOAD_KEY_LEN);
			rc[k] = sphinx_payload_encrypt(packets[k] + SPHINX_HEADER_LEN, packet_lens[k] - SPHINX_HEADER_LEN,
						       (const uint8_t(*)[SPHINX_PAYLOAD_KEY_LEN])material, p[k].hops,
						       p[k].version);
			nym_memzero(material, sizeof(material));
		}
	}
	nym_memzero(x, sizeof(x));
	nym_memzero(keys, sizeof(keys));
}

void sphinx_packet_create_batch(uint8_t *const *packets, const size_t *packet_lens,
				const struct sphinx_packet_params *params, const uint8_t *const *msgs,
				const size_t *msg_lens, int *rc, size_t n)
{
	for (size_t first = 0; first < n; first += CREATE_BATCH) {
		size_t m = n - first < CREATE_BATCH ? n - first : CREATE_BATCH;
		create_group(packets + first, packet_lens + first, params + first, msgs + first, msg_lens + first,
			     rc + first, m);
	}
}

/* Curve operations gathered from up to this many packets run as one batch. */
#define BATCH 16

void sphinx_packet_open_batch(struct sphinx_hop_keys *keys, const uint8_t *const *secrets,
			      uint8_t *const *packets, const size_t *packet_lens, int *rc, size_t n)
{
	for (size_t first = 0; first < n; first += BATCH) {
		size_t end = n - first < BATCH ? n : first + BATCH, m = 0;
		size_t index[BATCH];
		uint8_t scalar[BATCH][32], point[BATCH][32], shared[BATCH][32];
		int xrc[BATCH];
		for (size_t i = first; i < end; i++) {
			if (packet_lens[i] < SPHINX_HEADER_LEN + SPHINX_PAYLOAD_MIN) {
				rc[i] = -EMSGSIZE;
			} else if (!nym_x25519_is_canonical(packets[i])) {
				/* Stricter than upstream, which ignores alpha's top bit: honest senders
				 * never set it, and refusing it keeps one encoding per packet. */
				rc[i] = -EINVAL;
			} else {
				index[m] = i;
				memcpy(scalar[m], secrets[i], 32);
				memcpy(point[m], packets[i], 32);
				m++;
			}
		}
		nym_x25519_batch(shared, (const uint8_t(*)[32])scalar, (const uint8_t(*)[32])point, xrc, m);
		for (size_t k = 0; k < m; k++) {
			size_t i = index[k];
			rc[i] = xrc[k];
			if (rc[i] == 0) {
				sphinx_keys_expand(&keys[i], shared[k]);
				rc[i] = sphinx_header_verify(packets[i], &keys[i]);
			}
		}
		nym_memzero(scalar, sizeof(scalar));
		nym_memzero(shared, sizeof(shared));
	}
}

int sphinx_packet_open(struct sphinx_hop_keys *keys, const uint8_t secret[32],
		       const uint8_t *packet, size_t packet_len)
{
	int rc;
	/* open_batch only reads the packets it is given. */
	uint8_t *p = (uint8_t *)(uintptr_t)packet;
	sphinx_packet_open_batch(keys, &secret, &p, &packet_len, &rc, 1);
	return rc;
}

void sphinx_packet_peel_batch(uint8_t *const *packets, const size_t *packet_lens,
			      const struct sphinx_hop_keys *keys, struct sphinx_processed *out, int *rc, size_t n)
{
	for (size_t first = 0; first < n; first += BATCH) {
		size_t end = n - first < BATCH ? n : first + BATCH, m = 0;
		size_t index[BATCH];
		struct sphinx_routing r[BATCH];
		uint8_t blinding[BATCH][32], alpha[BATCH][32];
		int xrc[BATCH];
		for (size_t i = first; i < end; i++) {
			if (rc[i] != 0)
				continue;
			rc[i] = sphinx_header_route(packets[i], &keys[i], &r[i - first]);
			if (rc[i] == 0 && r[i - first].flag == SPHINX_FLAG_FORWARD) {
				index[m] = i;
				memcpy(blinding[m], keys[i].blinding, 32);
				memcpy(alpha[m], packets[i], 32);
				m++;
			}
		}
		/* Both supported versions blind with clamped X25519. */
		nym_x25519_batch(alpha, (const uint8_t(*)[32])blinding, (const uint8_t(*)[32])alpha, xrc, m);
		for (size_t k = 0; k < m; k++) {
			rc[index[k]] = xrc[k];
			memcpy(packets[index[k]], alpha[k], 32);
		}
		nym_memzero(blinding, sizeof(blinding));
		for (size_t i = first; i < end; i++) {
			const struct sphinx_routing *ri = &r[i - first];
			if (rc[i] != 0)
				continue;
			rc[i] = sphinx_payload_decrypt(packets[i] + SPHINX_HEADER_LEN, packet_lens[i] - SPHINX_HEADER_LEN,
						       keys[i].payload, ri->version);
			if (rc[i] != 0)
				continue;
			out[i].kind = (enum sphinx_hop_kind)ri->flag;
			out[i].version = ri->version;
			memcpy(out[i].replay_tag, keys[i].replay_tag, SPHINX_REPLAY_TAG_LEN);
			memcpy(out[i].address, ri->address, SPHINX_ADDRESS_LEN);
			memcpy(out[i].identifier, ri->identifier, SPHINX_IDENTIFIER_LEN);
			out[i].delay_ns = ri->delay_ns;
		}
		nym_memzero(r, sizeof(r));
	}
}

int sphinx_packet_peel(uint8_t *packet, size_t packet_len, const struct sphinx_hop_keys *keys,
		       struct sphinx_processed *out)
{
	int rc = 0;
	sphinx_packet_peel_batch(&packet, &packet_len, keys, out, &rc, 1);
	return rc;
}

int sphinx_packet_process(uint8_t *packet, size_t packet_len, const uint8_t secret[32],
			  struct sphinx_processed *out)
{
	struct sphinx_hop_keys keys;
	int rc = sphinx_packet_open(&keys, secret, packet, packet_len);
	if (rc == 0)
		rc = sphinx_packet_peel(packet, packet_len, &keys, out);
	sphinx_hop_keys_clear(&keys);
	return rc;
}

int sphinx_packet_message(const uint8_t *packet, size_t packet_len, const uint8_t **msg,
			  size_t *msg_len)
{
	size_t off;
	if (packet_len < SPHINX_HEADER_LEN)
		return -EBADMSG;
	int rc = sphinx_payload_recover(packet + SPHINX_HEADER_LEN, packet_len - SPHINX_HEADER_LEN,
					&off, msg_len);
	if (rc == 0)
		*msg = packet + SPHINX_HEADER_LEN + off;
	return rc;
}
