#include "mixnode/mix_forward.h"

#include <errno.h>
#include <string.h>

#include "mix/mix_node_addr.h"
#include "sphinx/sphinx_packet.h"

void mix_forward_decide_batch(const struct mixnode_keyring *kr, bool replay_protection, uint64_t max_delay_ns,
			      const struct mix_frame *const *frames, uint8_t *const *packets,
			      struct mix_forward *out, size_t n)
{
	for (; n > MIX_FORWARD_BATCH_MAX; n -= MIX_FORWARD_BATCH_MAX, frames += MIX_FORWARD_BATCH_MAX,
					  packets += MIX_FORWARD_BATCH_MAX, out += MIX_FORWARD_BATCH_MAX)
		mix_forward_decide_batch(kr, replay_protection, max_delay_ns, frames, packets, out,
					 MIX_FORWARD_BATCH_MAX);
	/* The packets worth the curve operations, gathered so those run together. */
	size_t index[MIX_FORWARD_BATCH_MAX], m = 0;
	const uint8_t *secrets[MIX_FORWARD_BATCH_MAX] = { 0 };
	const struct mixnode_key *keys[MIX_FORWARD_BATCH_MAX];
	uint8_t *pkts[MIX_FORWARD_BATCH_MAX] = { 0 };
	size_t lens[MIX_FORWARD_BATCH_MAX] = { 0 };
	struct sphinx_hop_keys hk[MIX_FORWARD_BATCH_MAX];
	struct sphinx_processed res[MIX_FORWARD_BATCH_MAX];
	int rc[MIX_FORWARD_BATCH_MAX];
	for (size_t i = 0; i < n; i++) {
		const struct mix_frame *f = frames[i];
		memset(&out[i], 0, sizeof(out[i]));
		if (f->header.type != MIX_PACKET_TYPE_MIX || mix_packet_size_is_outfox(f->header.size)) {
			out[i].verdict = MIX_BAD_TYPE;
			continue;
		}
		const struct mixnode_key *key = mixnode_keyring_select(kr, f->header.key_rotation);
		if (!key) {
			out[i].verdict = MIX_UNKNOWN_KEY;
			continue;
		}
		index[m] = i;
		keys[m] = key;
		secrets[m] = key->secret;
		pkts[m] = packets[i];
		lens[m] = f->packet_len;
		m++;
	}
	sphinx_packet_open_batch(hk, secrets, pkts, lens, rc, m);
	/* Rotation byte 0 ("unknown": reply SURBs and SURB-ACKs injected by a gateway, legacy
	 * frames) named the primary key; a packet built with the previous rotation's key (still
	 * live during the overlap) fails its MAC there and gets one more try with that key: one
	 * extra curve operation, only for packets that failed the first, and only during the
	 * overlap (a pre-announced next key is never tried: nothing is built with it unnamed). */
	size_t retry[MIX_FORWARD_BATCH_MAX], r = 0;
	const struct mixnode_key *secondary = NULL;
	if (kr->count == 2 && kr->keys[1 - kr->primary].rotation_id < kr->keys[kr->primary].rotation_id)
		secondary = &kr->keys[1 - kr->primary];
	if (secondary) {
		const uint8_t *rsecrets[MIX_FORWARD_BATCH_MAX];
		uint8_t *rpkts[MIX_FORWARD_BATCH_MAX];
		size_t rlens[MIX_FORWARD_BATCH_MAX];
		struct sphinx_hop_keys rhk[MIX_FORWARD_BATCH_MAX];
		int rrc[MIX_FORWARD_BATCH_MAX];
		for (size_t k = 0; k < m; k++) {
			if (rc[k] != -EBADMSG || frames[index[k]]->header.key_rotation != 0)
				continue;
			retry[r] = k;
			rsecrets[r] = secondary->secret;
			rpkts[r] = pkts[k];
			rlens[r] = lens[k];
			r++;
		}
		sphinx_packet_open_batch(rhk, rsecrets, rpkts, rlens, rrc, r);
		for (size_t j = 0; j < r; j++) {
			size_t k = retry[j];
			if (rrc[j] == 0) {
				sphinx_hop_keys_clear(&hk[k]);
				hk[k] = rhk[j];
				keys[k] = secondary;
				rc[k] = 0;
				out[index[k]].secondary_key = true;
			}
			sphinx_hop_keys_clear(&rhk[j]);
		}
	}
	for (size_t k = 0; k < m; k++) {
		struct mix_forward *o = &out[index[k]];
		if (rc[k] != 0) {
			o->verdict = MIX_BAD_PACKET;
		} else if (replay_protection && keys[k]->replay &&
			   replay_filter_check_and_insert(keys[k]->replay, hk[k].replay_tag)) {
			/* The replay check sits between the cheap checks and the second curve
			 * operation. */
			o->verdict = MIX_REPLAY;
			rc[k] = -EALREADY;
		}
	}
	sphinx_packet_peel_batch(pkts, lens, hk, res, rc, m);
	for (size_t k = 0; k < m; k++) {
		struct mix_forward *o = &out[index[k]];
		if (o->verdict == MIX_REPLAY || o->verdict == MIX_BAD_PACKET)
			continue;
		size_t consumed;
		if (rc[k] != 0) {
			o->verdict = MIX_BAD_PACKET;
		} else if (res[k].kind == SPHINX_HOP_FINAL) {
			o->verdict = MIX_FINAL;
			memcpy(o->destination, res[k].address, sizeof(o->destination));
			memcpy(o->identifier, res[k].identifier, sizeof(o->identifier));
		} else if (mix_node_addr_decode(res[k].address, sizeof(res[k].address), &o->next.ss, &o->next.len,
						&consumed)) {
			o->verdict = MIX_BAD_NEXT_HOP;
		} else {
			const struct mix_frame *f = frames[index[k]];
			o->verdict = MIX_FORWARD;
			o->delay_ns = res[k].delay_ns;
			if (o->delay_ns > max_delay_ns) {
				o->delay_ns = max_delay_ns;
				o->delay_clamped = true;
			}
			/* The rotation byte travels on: every hop of a route was built for one
			 * rotation. */
			o->out_header = (struct mix_frame_header){ .version = MIX_FRAME_VERSION,
								   .size = f->header.size,
								   .type = MIX_PACKET_TYPE_MIX,
								   .key_rotation = f->header.key_rotation };
		}
	}
	for (size_t k = 0; k < m; k++)
		sphinx_hop_keys_clear(&hk[k]);
}

void mix_forward_decide(const struct mixnode_keyring *kr, bool replay_protection, uint64_t max_delay_ns,
			const struct mix_frame *f, uint8_t *packet, struct mix_forward *out)
{
	mix_forward_decide_batch(kr, replay_protection, max_delay_ns, &f, &packet, out, 1);
}
