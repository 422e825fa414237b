/* The client engine's receiving side under hostile input (client_engine_receive). One engine
 * is set up once, with a topology of fixed keys and a seeded randomness; the input is a list
 * of operations:
 *
 *   0x00 class(1) len(2 BE) bytes   a raw RECEIVE item of that class (any length)
 *   0x01 len(2 BE) bytes            a body (cut or zero padded to 1611 bytes) sealed in an
 *                                   envelope to the engine's key (the acknowledged layout
 *                                   with a zero slot), so that fragments, cover
 *                                   and reassembly are reached without breaking X25519
 *   0x02 len(2 BE) bytes            a body (cut or zero padded to 1997) sealed as a reply
 *                                   without a SURB-ACK (the unacknowledged layout, as the IPR
 *                                   sends) under the key of a reply SURB the engine has just
 *                                   made (the digest path)
 *   0x03 ms(1)                      advance the clock, poll (both streams are off) and
 *                                   drain the received messages
 *
 * Checked: no crash or leak (ASan), counters consistent, the caps hold.
 * FUZZ_CLIENT_RECEIVE_STATS=1 prints the counters after each input (to check the seeds reach
 * fragments, replies and cover). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_engine.h"
#include "crypto/ed25519.h"
#include "fuzz.h"
#include "link/link_msg.h"
#include "mix/mix_envelope.h"
#include "mix/mix_reply.h"

#define BODY 1611
#define UBODY 1997
#define ITEM (2048 - MIX_SURB_ACK_HOP_LEN)
#define ENTRY_LEN (LINK_SEND_ENTRY_OVERHEAD + MIX_REGULAR_PACKET_LEN)

static struct nym_epoch_doc doc;
static struct nym_descriptor_signed layers[NYM_LAYERS][1], gateway;
static struct nym_ed25519_keypair identity;
static struct nym_x25519_keypair encryption;
static struct nym_seeded_rng seeded;
static struct nym_rng rng;
static struct client_engine *engine;
static uint64_t now_ns;
static uint8_t entries[4 * ENTRY_LEN];

static void node(struct nym_descriptor_signed *sd, int i)
{
	uint8_t secret[32] = { 0x51, (uint8_t)i };
	struct nym_x25519_keypair kp;
	fuzz_x25519_keypair(&kp, secret);
	snprintf(sd->d.addresses[0], sizeof(sd->d.addresses[0]), "10.1.0.%d", i + 1);
	sd->d.mix_port = 1789;
	sd->d.identity[0] = (uint8_t)(i + 1);
	sd->d.sphinx_count = 1;
	sd->d.sphinx[0].rotation = 1;
	memcpy(sd->d.sphinx[0].key, kp.public_key, 32);
}

void fuzz_setup(void)
{
	static const uint8_t seed[32] = { 0xc1, 0x1e, 0x47 };
	static const uint8_t id_seed[32] = { 0x1d };
	static const uint8_t enc_secret[32] = { 0xe4 };
	rng = nym_seeded_rng_init(&seeded, seed);
	nym_ed25519_from_seed(&identity, id_seed);
	fuzz_x25519_keypair(&encryption, enc_secret);
	for (int l = 0; l < NYM_LAYERS; l++) {
		node(&layers[l][0], l);
		doc.layers[l] = layers[l];
		doc.layer_count[l] = 1;
	}
	node(&gateway, NYM_LAYERS);
	doc.gateways = &gateway;
	doc.gateway_count = 1;

	struct client_engine_config cfg;
	client_engine_config_default(&cfg);
	cfg.identity = &identity;
	cfg.encryption = &encryption;
	memcpy(cfg.gateway_identity, gateway.d.identity, 32);
	cfg.poisson.disable_main_poisson_packet_distribution = true;
	cfg.poisson.disable_loop_cover_traffic_stream = true;
	cfg.ack.max_tracked = 64;
	cfg.max_queued_packets = 64;
	cfg.max_reply_keys = 8;
	cfg.reassembly.max_sets = 8;
	cfg.reassembly.max_bytes = 64 * 1024;
	cfg.reassembly.timeout_ns = 1000000000ull;
	if (client_engine_new(&cfg, &rng, &engine) || client_engine_set_topology(engine, &doc))
		abort();
}

static void drain(void)
{
	enum mix_message_type type;
	uint8_t *body;
	size_t len;
	while (client_engine_next_message(engine, &type, &body, &len) == 0) {
		if (type > MIX_MESSAGE_REPLY)
			abort();
		free(body);
	}
}

static void sealed(int reply, const uint8_t *data, size_t len)
{
	uint8_t body[UBODY] = { 0 }, plain[2048];
	size_t blen = reply ? UBODY : BODY;
	memcpy(body, data, len < blen ? len : blen);
	if (reply) {
		uint8_t surb[460];
		size_t surb_len;
		if (client_engine_make_reply_surbs(engine, 1, surb, sizeof(surb), &surb_len, now_ns))
			abort();
		if (mix_reply_seal(plain, sizeof(plain), NULL, surb, body, UBODY))
			abort();
	} else {
		struct mix_surb_ack ack = { 0 };
		if (mix_envelope_seal(plain, sizeof(plain), &ack, encryption.public_key, body, BODY, &rng))
			abort();
	}
	struct client_engine_stats before, after;
	client_engine_get_stats(engine, &before);
	/* The gateway's item (§8.6): everything after the (zero) first hop. */
	client_engine_receive(engine, MIX_PACKET_SIZE_REGULAR, plain + MIX_SURB_ACK_HOP_LEN, ITEM, now_ns);
	client_engine_get_stats(engine, &after);
	if (reply && after.replies_received != before.replies_received + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		if (op == 0x03) {
			if (i >= size)
				break;
			now_ns += (uint64_t)data[i++] * 1000000ull;
			client_engine_poll(engine, now_ns, entries, 4);
			drain();
			continue;
		}
		size_t hdr = op == 0x00 ? 3 : 2;
		if (op > 0x03 || size - i < hdr)
			break;
		uint8_t cls = op == 0x00 ? data[i] : 0;
		size_t len = (size_t)data[i + hdr - 2] << 8 | data[i + hdr - 1];
		i += hdr;
		if (len > size - i)
			len = size - i;
		if (op == 0x00)
			client_engine_receive(engine, (enum mix_packet_size)cls, data + i, len, now_ns);
		else
			sealed(op == 0x02, data + i, len);
		i += len;
	}
	drain();
	struct client_engine_stats st;
	client_engine_get_stats(engine, &st);
	if (st.reply_keys > 8 || st.in_flight || st.queued)
		abort();
	if (getenv("FUZZ_CLIENT_RECEIVE_STATS"))
		fprintf(stderr, "fragments %lu messages %lu replies %lu cover %lu garbage %lu\n",
			(unsigned long)st.fragments_received, (unsigned long)st.messages_received,
			(unsigned long)st.replies_received, (unsigned long)st.cover_received,
			(unsigned long)st.garbage_received);
	return 0;
}
