#include "sphinx/sphinx_packet.h"

#include <errno.h>
#include <string.h>

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

int sphinx_packet_open(struct sphinx_hop_keys *keys, const uint8_t secret[32],
		       const uint8_t *packet, size_t packet_len)
{
	if (packet_len < SPHINX_HEADER_LEN + SPHINX_PAYLOAD_MIN)
		return -EMSGSIZE;
	int rc = sphinx_header_derive_keys(keys, secret, packet);
	if (rc == 0)
		rc = sphinx_header_verify(packet, keys);
	return rc;
}

int sphinx_packet_peel(uint8_t *packet, size_t packet_len, const struct sphinx_hop_keys *keys,
		       struct sphinx_processed *out)
{
	struct sphinx_routing r;
	int rc = sphinx_header_unwrap(packet, keys, &r);
	if (rc)
		return rc;
	rc = sphinx_payload_decrypt(packet + SPHINX_HEADER_LEN, packet_len - SPHINX_HEADER_LEN,
				    keys->payload, r.version);
	if (rc)
		return rc;
	out->kind = (enum sphinx_hop_kind)r.flag;
	out->version = r.version;
	memcpy(out->replay_tag, keys->replay_tag, SPHINX_REPLAY_TAG_LEN);
	memcpy(out->address, r.address, SPHINX_ADDRESS_LEN);
	memcpy(out->identifier, r.identifier, SPHINX_IDENTIFIER_LEN);
	out->delay_ns = r.delay_ns;
	return 0;
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
