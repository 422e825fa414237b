/* Sphinx processing under hostile input. The first byte picks a mode:
 *   0: the rest is a packet for a node with a fixed key (the ingress path);
 *   1: the rest is a packet whose keys are derived without the alpha and MAC checks, then
 *      peeled, so flag, version, blinding and payload paths see every value a forged MAC
 *      would let through;
 *   2: the rest is an encoded SURB, used to build a reply;
 *   3: a valid packet for a route chosen by the input, then input bytes are XORed over it
 *      before every hop processes it. */
#include <string.h>

#include "crypto/x25519.h"
#include "fuzz.h"
#include "sphinx/sphinx_header.h"
#include "sphinx/sphinx_keys.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_surb.h"

#define MAX_PACKET (SPHINX_HEADER_LEN + 32785)

static uint8_t packet[MAX_PACKET];

static void mode_raw(const uint8_t *data, size_t len)
{
	if (len > MAX_PACKET)
		return;
	memcpy(packet, data, len);
	struct sphinx_processed out;
	if (sphinx_packet_process(packet, len, fuzz_node_sphinx_secret, &out) == 0 && out.kind == SPHINX_HOP_FINAL) {
		const uint8_t *msg;
		size_t msg_len;
		sphinx_packet_message(packet, len, &msg, &msg_len);
	}
}

static void mode_unwrap(const uint8_t *data, size_t len)
{
	if (len < SPHINX_HEADER_LEN + SPHINX_PAYLOAD_MIN || len > MAX_PACKET)
		return;
	memcpy(packet, data, len);
	uint8_t shared[32];
	if (nym_x25519(shared, fuzz_node_sphinx_secret, packet) != 0)
		return;
	struct sphinx_hop_keys keys;
	struct sphinx_processed out;
	sphinx_keys_expand(&keys, shared);
	sphinx_packet_peel(packet, len, &keys, &out);
}

static void mode_surb(const uint8_t *data, size_t len)
{
	struct sphinx_surb surb;
	if (sphinx_surb_decode(&surb, data, len) != 0)
		return;
	uint8_t enc[SPHINX_SURB_MAX_ENCODED];
	if (sphinx_surb_encode(&surb, enc, sizeof(enc)) != (int)len || memcmp(enc, data, len) != 0)
		__builtin_trap(); /* decode/encode must round-trip */
	sphinx_surb_use(&surb, packet, SPHINX_HEADER_LEN + 2065, data, len > 100 ? 100 : len);
}

static void mode_route(const uint8_t *data, size_t len)
{
	if (len < 4)
		return;
	size_t hops = 1 + data[0] % SPHINX_MAX_HOPS;
	uint16_t version = data[1] & 1 ? SPHINX_VERSION_259 : SPHINX_VERSION_258;
	size_t payload = 33 + ((size_t)data[2] << 4);
	data += 3, len -= 3;

	struct nym_x25519_keypair nodes[SPHINX_MAX_HOPS];
	struct sphinx_hop route[SPHINX_MAX_HOPS];
	for (size_t i = 0; i < hops; i++) {
		uint8_t secret[32];
		memset(secret, (int)(i + 1), 32);
		fuzz_x25519_keypair(&nodes[i], secret);
		memcpy(route[i].public_key, nodes[i].public_key, 32);
		memset(route[i].address, (int)i, 32);
		route[i].delay_ns = i;
	}
	uint8_t seed[32] = { 0 }, dest[32] = { 1 }, id[16] = { 2 };
	struct nym_seeded_rng s;
	struct nym_rng rng = nym_seeded_rng_init(&s, seed);
	struct sphinx_packet_params p = { route, hops, dest, id, version, &rng };
	size_t plen = SPHINX_HEADER_LEN + payload;
	if (sphinx_packet_create(packet, plen, &p, data, len > payload - 17 ? payload - 17 : len) != 0)
		__builtin_trap(); /* valid parameters must always build */
	for (size_t i = 0; i < hops; i++) {
		for (size_t j = 0; j < len; j++)
			packet[(j * 131 + i) % plen] ^= data[j];
		struct sphinx_processed out;
		if (sphinx_packet_process(packet, plen, nodes[i].secret, &out) != 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		mode_raw(data + 1, size - 1);
		break;
	case 1:
		mode_unwrap(data + 1, size - 1);
		break;
	case 2:
		mode_surb(data + 1, size - 1);
		break;
	default:
		mode_route(data + 1, size - 1);
	}
	return 0;
}
