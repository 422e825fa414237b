#include "gateway/gateway_final.h"

#include <errno.h>
#include <string.h>

#include "mix/mix_envelope.h"
#include "mix/mix_surb_ack.h"

void gateway_final_init(struct gateway_final *f, const struct gateway_final_hooks *hooks, const uint8_t *ipr_identity)
{
	memset(f, 0, sizeof(*f));
	f->hooks = *hooks;
	if (ipr_identity && hooks->to_ipr) {
		f->ipr = true;
		memcpy(f->ipr_identity, ipr_identity, 32);
	}
}

static void route(struct gateway_final *f, enum mix_packet_size size, const uint8_t destination[32],
		  const uint8_t *item, size_t len)
{
	if (f->ipr && memcmp(destination, f->ipr_identity, 32) == 0) {
		if (size == MIX_PACKET_SIZE_ACK) {
			/* The IPR asks for no acks (its replies carry a zero slot): nothing to take. */
			f->counters.dropped++;
			return;
		}
		f->counters.to_ipr++;
		f->hooks.to_ipr(f->hooks.ctx, size, item, len);
		return;
	}
	if (f->hooks.to_client && f->hooks.to_client(f->hooks.ctx, destination, size, item, len) == 0) {
		f->counters.to_client++;
		return;
	}
	if (f->hooks.to_inbox && f->hooks.to_inbox(f->hooks.ctx, destination, size, item, len) == 0) {
		f->counters.to_inbox++;
		return;
	}
	f->counters.dropped++;
}

int gateway_final_handle(struct gateway_final *f, enum mix_packet_size size, const uint8_t destination[32],
			 uint8_t key_rotation, const uint8_t *msg, size_t msg_len)
{
	f->counters.received++;
	if (size == MIX_PACKET_SIZE_ACK) {
		if (msg_len != MIX_ACK_PLAINTEXT_LEN) {
			f->counters.malformed++;
			return -EINVAL;
		}
		route(f, size, destination, msg, msg_len);
		return 0;
	}
	/* Clients pad every message to its class: anything else could not be a RECEIVE item. */
	if (mix_packet_size_is_outfox(size) || msg_len != mix_packet_size_plaintext_len(size) ||
	    msg_len <= MIX_SURB_ACK_LEN) {
		f->counters.malformed++;
		return -EINVAL;
	}
	const uint8_t *item = msg + MIX_SURB_ACK_HOP_LEN;
	size_t item_len = msg_len - MIX_SURB_ACK_HOP_LEN;
	if (mix_surb_ack_absent(msg)) {
		f->counters.acks_skipped++;
		route(f, size, destination, item, item_len);
		return 0;
	}
	struct net_addr hop;
	const uint8_t *packet;
	if (item_len > sizeof(f->scratch) || mix_surb_ack_split(msg, &hop.ss, &hop.len, &packet) != 0) {
		f->counters.malformed++;
		return -EINVAL;
	}
	if (f->hooks.inject(f->hooks.ctx, &hop, key_rotation, MIX_PACKET_SIZE_ACK, packet, MIX_ACK_PACKET_LEN) == 0)
		f->counters.acks_sent++;
	else
		f->counters.acks_failed++;
	/* The recipient gets no copy of the ack packet: its bytes go zero in the item (which is
	 * also how the recipient tells this layout from the unacknowledged one). */
	memset(f->scratch, 0, MIX_ENVELOPE_ITEM_ACK_LEN);
	memcpy(f->scratch + MIX_ENVELOPE_ITEM_ACK_LEN, item + MIX_ENVELOPE_ITEM_ACK_LEN, item_len - MIX_ENVELOPE_ITEM_ACK_LEN);
	route(f, size, destination, f->scratch, item_len);
	return 0;
}
