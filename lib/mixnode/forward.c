#include "mixnode/forward.h"

#include <string.h>

#include "mix/mix_node_addr.h"
#include "sphinx/sphinx_packet.h"

void mix_forward_decide(const struct sphinx_keyring *kr, bool replay_protection, uint64_t max_delay_ns,
			const struct mix_frame *f, uint8_t *packet, struct mix_forward *out)
{
	memset(out, 0, sizeof(*out));
	if (f->header.type != MIX_PACKET_TYPE_MIX || mix_packet_size_is_outfox(f->header.size)) {
		out->verdict = MIX_BAD_TYPE;
		return;
	}
	const struct sphinx_key *key = sphinx_keyring_select(kr, f->header.key_rotation);
	if (!key) {
		out->verdict = MIX_UNKNOWN_KEY;
		return;
	}
	struct sphinx_hop_keys hk;
	struct sphinx_processed res;
	if (sphinx_packet_open(&hk, key->secret, packet, f->packet_len) != 0) {
		out->verdict = MIX_BAD_PACKET;
		goto out;
	}
	/* The replay check sits between the cheap checks and the second curve operation. */
	if (replay_protection && key->replay && replay_filter_check_and_insert(key->replay, hk.replay_tag)) {
		out->verdict = MIX_REPLAY;
		goto out;
	}
	if (sphinx_packet_peel(packet, f->packet_len, &hk, &res) != 0) {
		out->verdict = MIX_BAD_PACKET;
		goto out;
	}
	if (res.kind == SPHINX_HOP_FINAL) {
		out->verdict = MIX_FINAL;
		goto out;
	}
	size_t consumed;
	if (mix_node_addr_decode(res.address, sizeof(res.address), &out->next.ss, &out->next.len, &consumed)) {
		out->verdict = MIX_BAD_NEXT_HOP;
		goto out;
	}
	out->verdict = MIX_FORWARD;
	out->delay_ns = res.delay_ns;
	if (out->delay_ns > max_delay_ns) {
		out->delay_ns = max_delay_ns;
		out->delay_clamped = true;
	}
	/* The rotation byte travels on: every hop of a route was built for one rotation. */
	out->out_header = (struct mix_frame_header){ .version = MIX_FRAME_VERSION, .size = f->header.size,
						     .type = MIX_PACKET_TYPE_MIX,
						     .key_rotation = f->header.key_rotation };
out:
	sphinx_hop_keys_clear(&hk);
}
