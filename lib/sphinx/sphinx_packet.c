#include "sphinx/sphinx_packet.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/x25519_batch.h"
#include "sphinx/sphinx_keys.h"
#include "sphinx/sphinx_payload.h"

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
