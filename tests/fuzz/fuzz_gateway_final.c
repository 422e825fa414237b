/* A gateway's final-hop handling (lib/gateway/gateway_final) on any message: byte 0 is the
 * size class, byte 1 the rotation byte, bytes 2..33 the destination, the rest the message.
 * Every message is either refused as malformed or routed exactly once, and an injected
 * SURB-ACK is always an ack-class packet of the right length. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gateway/gateway_final.h"
#include "mix/mix_surb_ack.h"

static unsigned routed;

static int f_inject(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
		    const uint8_t *packet, size_t len)
{
	(void)ctx, (void)key_rotation, (void)packet;
	if (size != MIX_PACKET_SIZE_ACK || len != MIX_ACK_PACKET_LEN || next_hop->len == 0)
		abort();
	return 0;
}

static void f_ipr(void *ctx, enum mix_packet_size size, const uint8_t *item, size_t len)
{
	(void)ctx, (void)item;
	if (len != mix_packet_size_plaintext_len(size) - MIX_SURB_ACK_HOP_LEN)
		abort();
	routed++;
}

static int f_client(void *ctx, const uint8_t id[32], enum mix_packet_size size, const uint8_t *item, size_t len)
{
	(void)ctx, (void)item, (void)size, (void)len;
	return id[0] & 1 ? (routed++, 0) : -2;
}

static int f_inbox(void *ctx, const uint8_t id[32], enum mix_packet_size size, const uint8_t *item, size_t len)
{
	(void)ctx, (void)id, (void)item, (void)size, (void)len;
	routed++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ipr_id[32] = { 0x10 };
	if (size < 34)
		return 0;
	struct gateway_final f;
	struct gateway_final_hooks h = { NULL, f_inject, f_ipr, f_client, f_inbox };
	gateway_final_init(&f, &h, ipr_id);
	uint8_t dest[32];
	memcpy(dest, data + 2, 32);
	if (data[0] & 0x80)
		memcpy(dest, ipr_id, 32);
	routed = 0;
	int rc = gateway_final_handle(&f, (enum mix_packet_size)(data[0] & 7), dest, data[1], data + 34, size - 34);
	if ((rc == 0) != (routed + f.counters.dropped == 1) || f.counters.received != 1)
		abort();
	return 0;
}
