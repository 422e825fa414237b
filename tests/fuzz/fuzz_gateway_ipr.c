/* The exit gateway's IP packet router engine under hostile input. The input is a list of
 * records `op u8 | len u16 BE | len bytes`:
 *
 *   op 0  a raw final-hop item (the bytes, cut or zero-padded to 2029)
 *   op 1  a request: the bytes are an IPR request body; the fuzzer wraps it as a Repliable
 *         NymMessage, fragments it and seals each fragment to the IPR, as a client would
 *   op 2  a fragment body (cut or zero-padded to 1611), sealed to the IPR
 *   op 3  an IP packet from the TUN device
 *   op 4  time passes: byte 0 x 250 ms, then a tick
 *
 * A small engine (few clients, SURBs and pending responses) makes every cap bite. Checked:
 * the engine never exceeds its client cap, every packet it writes to the TUN device parses
 * and comes from a connected client's address, nothing leaks (ASan). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "crypto/ed25519.h"
#include "gateway/gateway_ipr.h"
#include "ipr/ipr_packet.h"
#include "mix/mix_envelope.h"
#include "mix/mix_fragment.h"

#define ITEM_LEN 2029
#define BODY_LEN 1611
#define MAX_CLIENTS 4

static struct nym_ed25519_keypair id;
static uint8_t ipr_pub[32], ipr_secret[32];
static struct policy policy;
static uint64_t injected;

void fuzz_setup(void)
{
	static const uint8_t seed[32] = { 0x1f, 0x9a };
	nym_ed25519_from_seed(&id, seed);
	if (nym_ed25519_public_to_x25519(id.public_key, ipr_pub))
		abort();
	nym_ed25519_secret_to_x25519(&id, ipr_secret);
	static const char text[] = "reject 198.51.100.0/24:*\naccept *:80\naccept *:443\nreject *:*\n";
	struct policy_error err;
	if (policy_parse(text, strlen(text), &policy, &err))
		abort();
}

static int tun_write(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	struct ipr_packet_info in;
	if (ipr_packet_parse(p, len, &in) || in.len != len)
		abort();
	uint16_t r;
	if ((in.family == 4 ? ipr_addr_index_v4(in.src, &r) : ipr_addr_index_v6(in.src, &r)) != 0)
		abort(); /* only clients' own addresses leave */
	return 0;
}

static int inject(void *ctx, const struct net_addr *hop, enum mix_packet_size size, const uint8_t *p, size_t len)
{
	(void)ctx, (void)hop, (void)size, (void)p, (void)len;
	injected++;
	return 0;
}

static void seal_and_deliver(struct gateway_ipr_engine *e, const uint8_t body[BODY_LEN], const struct nym_rng *rng,
			     uint64_t now)
{
	static const struct mix_surb_ack no_ack;
	uint8_t plain[2048];
	if (mix_envelope_seal(plain, sizeof(plain), &no_ack, ipr_pub, body, BODY_LEN, rng))
		abort();
	gateway_ipr_engine_item(e, MIX_PACKET_SIZE_REGULAR, plain + MIX_SURB_ACK_HOP_LEN, ITEM_LEN, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_seeded_rng rs;
	static const uint8_t rseed[32] = { 7 };
	struct nym_rng rng = nym_seeded_rng_init(&rs, rseed);
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.max_clients = MAX_CLIENTS;
	cfg.max_surbs_per_client = 8;
	cfg.surb_low_water = 3;
	cfg.max_pending_responses = 4;
	cfg.reassembly_max_sets = 8;
	cfg.reassembly_max_bytes = 64 << 10;
	struct gateway_ipr_engine_hooks hooks = { NULL, tun_write, inject };
	struct gateway_ipr_engine *e;
	if (gateway_ipr_engine_new(&cfg, ipr_secret, &policy, &hooks, &rng, &e))
		abort();
	uint64_t now = 1000000000ull;
	size_t pos = 0;
	while (size - pos >= 3) {
		uint8_t op = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		const uint8_t *d = data + pos;
		pos += len;
		switch (op % 5) {
		case 0: {
			uint8_t item[ITEM_LEN] = { 0 };
			memcpy(item, d, len < ITEM_LEN ? len : ITEM_LEN);
			gateway_ipr_engine_item(e, MIX_PACKET_SIZE_REGULAR, item, ITEM_LEN, now);
			break;
		}
		case 1: {
			size_t padded_len, frags;
			if (len == 0 || mix_fragment_message_layout(1 + len, BODY_LEN, &padded_len, &frags) || frags > 64)
				break;
			uint8_t *padded = malloc(padded_len);
			if (!padded)
				abort();
			struct mix_fragmenter f;
			if (mix_fragment_message_pad(MIX_MESSAGE_REPLIABLE, d, len, BODY_LEN, padded, padded_len, &padded_len) ||
			    mix_fragmenter_init(&f, padded, padded_len, BODY_LEN, &rng))
				abort();
			uint8_t body[BODY_LEN];
			size_t w;
			struct mix_fragment_id fid;
			while (mix_fragmenter_next(&f, body, sizeof(body), &w, &fid) == 0)
				seal_and_deliver(e, body, &rng, now);
			free(padded);
			break;
		}
		case 2: {
			uint8_t body[BODY_LEN] = { 0 };
			memcpy(body, d, len < BODY_LEN ? len : BODY_LEN);
			seal_and_deliver(e, body, &rng, now);
			break;
		}
		case 3:
			gateway_ipr_engine_tun(e, d, len, now);
			if (len & 1) /* the end of a read batch */
				gateway_ipr_engine_tun_drained(e, now);
			break;
		case 4:
			now += (uint64_t)(len ? d[0] : 1) * 250000000ull;
			gateway_ipr_engine_tick(e, now);
			break;
		}
		struct gateway_ipr_stats st;
		gateway_ipr_engine_get_stats(e, &st);
		if (st.clients > MAX_CLIENTS)
			abort();
	}
	gateway_ipr_engine_tick(e, now + 1000000000ull);
	gateway_ipr_engine_free(e);
	return 0;
}
