/* The client side of the IP packet router (lib/client/client_ipr, branch clientio) against
 * the router's engine (lib/gateway/gateway_ipr): the client's requests sealed to the router
 * as its mixnet client would, the router's reply packets walked through real SURB routes and
 * opened as the client opens them. A download of 2000 packets must arrive whole and in order
 * on the client's stock of SURBs and the router's SURB requests. Built only when
 * client/client_ipr.h is in the tree. */
#if __has_include("client/client_ipr.h")
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "client/client_ipr.h"
#include "gateway/gateway_ipr.h"
#include "ipr/ipr_bundle.h"
#include "ipr/ipr_msg.h"
#include "ipr/ipr_packet.h"
#include "mix/mix_envelope.h"
#include "mix/mix_fragment.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_reassembly.h"
#include "mix/mix_reply.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_surb.h"

#define MS 1000000ull
#define SURB_LEN 460

enum { MIX1, MIX2, MIX3, GW, NODES };
static struct nym_x25519_keypair node_keys[NODES];
static struct sphinx_hop hops[NODES];
static struct nym_ed25519_keypair ipr_id;
static uint8_t ipr_pub[32];

/* What came out of the engine. */
#define MAX_OUT 4096
static uint8_t *tun_out[MAX_OUT];
static size_t tun_len[MAX_OUT], n_tun;
static uint8_t *inj_out[MAX_OUT];
static size_t n_inj, inj_seen;
static struct net_addr inj_hop;

/* The simulated client. */
#define MAX_KEYS 4096
static uint8_t client_id[32];
static uint8_t keys[MAX_KEYS][MIX_REPLY_KEY_LEN];
static size_t n_keys;
static struct mix_reassembly *client_reasm;
static uint8_t tag[IPR_SENDER_TAG_LEN];

static struct gateway_ipr_engine *eng;

static int hook_tun(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	cr_assert_lt(n_tun, MAX_OUT);
	tun_out[n_tun] = malloc(len);
	memcpy(tun_out[n_tun], p, len);
	tun_len[n_tun++] = len;
	return 0;
}

static int hook_inject(void *ctx, const struct net_addr *hop, enum mix_packet_size size, const uint8_t *p, size_t len)
{
	(void)ctx;
	cr_assert_eq(size, MIX_PACKET_SIZE_REGULAR);
	cr_assert_eq(len, MIX_REGULAR_PACKET_LEN);
	cr_assert_lt(n_inj, MAX_OUT);
	inj_out[n_inj] = malloc(len);
	memcpy(inj_out[n_inj++], p, len);
	inj_hop = *hop;
	return 0;
}

static const char policy_text[] = "reject 198.51.100.0/24:*\n"
				  "accept 203.0.113.0/24:443\n"
				  "accept *:80\n"
				  "reject *:*\n";

static void setup_with(const struct gateway_ipr_engine_config *cfg)
{
	cr_assert_eq(nym_crypto_init(), 0);
	for (int i = 0; i < NODES; i++) {
		nym_x25519_generate(&node_keys[i]);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789) };
		a.sin_addr.s_addr = htonl(0xc6336400u + 11 + (uint32_t)i);
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&a, sizeof(a), hops[i].address), 0);
		memcpy(hops[i].public_key, node_keys[i].public_key, 32);
	}
	nym_ed25519_generate(&ipr_id);
	cr_assert_eq(nym_ed25519_public_to_x25519(ipr_id.public_key, ipr_pub), 0);
	uint8_t secret[32];
	nym_ed25519_secret_to_x25519(&ipr_id, secret);
	struct policy p;
	struct policy_error perr;
	cr_assert_eq(policy_parse(policy_text, strlen(policy_text), &p, &perr), 0);
	struct gateway_ipr_engine_hooks h = { NULL, hook_tun, hook_inject };
	cr_assert_eq(gateway_ipr_engine_new(cfg, secret, &p, &h, NULL, &eng), 0);
	policy_free(&p);
	nym_random(client_id, 32);
	nym_random(tag, sizeof(tag));
	cr_assert_eq(mix_reassembly_new(NULL, &client_reasm), 0);
	n_tun = n_inj = inj_seen = n_keys = 0;
}

static void setup(void)
{
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	setup_with(&cfg);
}

static void teardown(void)
{
	gateway_ipr_engine_free(eng);
	mix_reassembly_free(client_reasm);
	for (size_t i = 0; i < n_tun; i++)
		free(tun_out[i]);
	for (size_t i = 0; i < n_inj; i++)
		free(inj_out[i]);
}

TestSuite(ipr_interop, .init = setup, .fini = teardown);

/* n reply SURBs (key | SURB) routed mix1, mix2, mix3, the client's gateway. */
static uint8_t *make_surbs(size_t n)
{
	uint8_t *out = malloc(n * SURB_LEN);
	struct sphinx_hop route[4] = { hops[MIX1], hops[MIX2], hops[MIX3], hops[GW] };
	uint8_t ident[SPHINX_IDENTIFIER_LEN] = { 0 };
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(n_keys, MAX_KEYS);
		uint8_t *s = out + i * SURB_LEN;
		nym_random(keys[n_keys], MIX_REPLY_KEY_LEN);
		memcpy(s, keys[n_keys++], MIX_REPLY_KEY_LEN);
		struct sphinx_surb surb;
		cr_assert_eq(sphinx_surb_create(&surb, route, 4, client_id, ident, SPHINX_VERSION_259, NULL), 0);
		cr_assert_eq(sphinx_surb_encode(&surb, s + MIX_REPLY_KEY_LEN, SURB_LEN - MIX_REPLY_KEY_LEN),
			     SURB_LEN - MIX_REPLY_KEY_LEN);
		sphinx_surb_clear(&surb);
	}
	return out;
}

/* Sends a request as the client's mixnet client would: Repliable message, fragments, each
 * sealed to the IPR, delivered as the gateway hands final-hop items over. */
static void send_raw(const uint8_t *msg, size_t len, enum mix_message_type type, uint64_t now)
{
	size_t per = 1611, padded_len, frags;
	cr_assert_eq(mix_fragment_message_layout(1 + len, per, &padded_len, &frags), 0);
	uint8_t *padded = malloc(padded_len);
	cr_assert_eq(mix_fragment_message_pad(type, msg, len, per, padded, padded_len, &padded_len), 0);
	struct mix_fragmenter f;
	cr_assert_eq(mix_fragmenter_init(&f, padded, padded_len, per, NULL), 0);
	uint8_t frag[1611], plain[2048];
	size_t w;
	struct mix_fragment_id id;
	while (mix_fragmenter_next(&f, frag, sizeof(frag), &w, &id) == 0) {
		cr_assert_eq(w, per);
		static const struct mix_surb_ack no_ack;
		cr_assert_eq(mix_envelope_seal(plain, sizeof(plain), &no_ack, ipr_pub, frag, per, NULL), 0);
		gateway_ipr_engine_item(eng, MIX_PACKET_SIZE_REGULAR, plain + MIX_SURB_ACK_LEN,
					sizeof(plain) - MIX_SURB_ACK_LEN, now);
	}
	free(padded);
}


/* An IPv4 packet from src to dst: proto, ports (TCP SYN or UDP), payload bytes. */
static size_t make_v4(uint8_t *out, const uint8_t src[4], const char *dst, uint8_t proto, uint16_t dport,
		      size_t payload)
{
	size_t l4 = proto == 6 ? 20 : 8;
	size_t total = 20 + l4 + payload;
	memset(out, 0, total);
	out[0] = 0x45;
	out[2] = (uint8_t)(total >> 8);
	out[3] = (uint8_t)total;
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, src, 4);
	cr_assert_eq(inet_pton(AF_INET, dst, out + 16), 1);
	out[20] = 0x9c;
	out[21] = 0x40;
	out[22] = (uint8_t)(dport >> 8);
	out[23] = (uint8_t)dport;
	if (proto == 6) {
		out[27] = 1; /* seq 1 */
		out[32] = 0x50;
		out[33] = IPR_PACKET_TCP_SYN;
	} else if (proto == 17) {
		out[24] = (uint8_t)((8 + payload) >> 8);
		out[25] = (uint8_t)(8 + payload);
	}
	return total;
}


static struct client_ipr *cli;
static uint8_t *got[MAX_OUT];
static size_t got_len[MAX_OUT], n_got;
static uint64_t clock_ns = 1;

static int c_send(void *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	(void)ctx;
	send_raw(msg, len, MIX_MESSAGE_REPLIABLE, now);
	return 0;
}

static int c_surbs(void *ctx, size_t n, uint8_t *out, size_t cap, size_t *surb_len, uint64_t now)
{
	(void)ctx, (void)now;
	cr_assert_leq(n * SURB_LEN, cap);
	uint8_t *s = make_surbs(n);
	memcpy(out, s, n * SURB_LEN);
	free(s);
	*surb_len = SURB_LEN;
	return 0;
}

static void c_deliver(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	cr_assert_lt(n_got, MAX_OUT);
	got[n_got] = malloc(len);
	memcpy(got[n_got], p, len);
	got_len[n_got++] = len;
}

/* Carries the engine's reply packets to the client. */
static void pump(void)
{
	for (; inj_seen < n_inj; inj_seen++) {
		uint8_t *pkt = inj_out[inj_seen];
		const int order[4] = { MIX1, MIX2, MIX3, GW };
		struct sphinx_processed out;
		for (int i = 0; i < 4; i++)
			cr_assert_eq(sphinx_packet_process(pkt, MIX_REGULAR_PACKET_LEN, node_keys[order[i]].secret, &out), 0);
		const uint8_t *m;
		size_t mlen;
		cr_assert_eq(sphinx_packet_message(pkt, MIX_REGULAR_PACKET_LEN, &m, &mlen), 0);
		uint8_t fwd[2048];
		size_t flen = mlen - MIX_SURB_ACK_LEN;
		memcpy(fwd, m + MIX_SURB_ACK_LEN, flen);
		const uint8_t *digest;
		cr_assert_eq(mix_reply_digest(fwd, flen, &digest), 0);
		size_t k;
		for (k = 0; k < n_keys; k++) {
			uint8_t d[32];
			mix_reply_key_digest(keys[k], d);
			if (memcmp(d, digest, 32) == 0)
				break;
		}
		cr_assert_lt(k, n_keys);
		uint8_t *b;
		size_t blen;
		cr_assert_eq(mix_reply_open(fwd, flen, keys[k], &b, &blen), 0);
		struct mix_reassembly_message msg = { 0 };
		cr_assert_eq(mix_reassembly_add_bytes(client_reasm, b, blen, 0, &msg), 0);
		if (!msg.data)
			continue;
		enum mix_message_type type;
		size_t len;
		cr_assert_eq(mix_fragment_message_unpad(msg.data, msg.len, &type, &len), 0);
		cr_assert_eq(type, MIX_MESSAGE_REPLY);
		cr_assert_eq(client_ipr_on_message(cli, msg.data + 1, len, clock_ns, clock_ns / 1000000), 0);
		free(msg.data);
	}
}

static void step(uint64_t ns)
{
	clock_ns += ns;
	client_ipr_poll(cli, clock_ns, clock_ns / 1000000);
	gateway_ipr_engine_tick(eng, clock_ns);
	pump();
}

Test(ipr_interop, client_ipr_against_the_router)
{
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	struct client_ipr_hooks h = { NULL, c_send, c_surbs, c_deliver };
	cr_assert_eq(client_ipr_new(&cfg, &h, NULL, &cli), 0);
	cr_assert_eq(client_ipr_connect(cli, clock_ns, 1), 0);
	pump();
	cr_assert_eq(client_ipr_state(cli), CLIENT_IPR_CONNECTED);
	struct ipr_addr_pair ips;
	cr_assert_eq(client_ipr_addresses(cli, &ips), 0);

	/* Upstream: 50 SYNs to port 80, bundled by the client. */
	for (int i = 0; i < 50; i++) {
		uint8_t pkt[64];
		size_t n = make_v4(pkt, ips.v4, "192.0.2.10", 6, 80, 0);
		cr_assert_eq(client_ipr_send_packet(cli, pkt, n, clock_ns), 0);
	}
	step(10 * MS);
	cr_assert_eq(n_tun, 50);

	/* Downstream: 2000 packets of 1400 bytes, 20 every millisecond. */
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	for (int i = 0; i < 2000; i++) {
		uint8_t pkt[1400];
		size_t n = make_v4(pkt, from, dst, 17, 5000, 1400 - 28);
		pkt[40] = (uint8_t)i;
		pkt[41] = (uint8_t)(i >> 8);
		gateway_ipr_engine_tun(eng, pkt, n, clock_ns);
		if (i % 20 == 19)
			step(1 * MS);
	}
	for (int i = 0; i < 2000 && n_got < 2000; i++)
		step(1 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	struct client_ipr_stats cs;
	client_ipr_get_stats(cli, &cs);
	cr_assert_eq(st.responses_dropped, 0);
	cr_assert_eq(st.surbs_dropped, 0);
	cr_assert_eq(cs.malformed_responses, 0);
	cr_assert_eq(n_got, 2000);
	for (size_t i = 0; i < n_got; i++)
		cr_assert_eq(got[i][40] | got[i][41] << 8, (int)i, "in order");
	for (size_t i = 0; i < n_got; i++)
		free(got[i]);
	client_ipr_free(cli);
}
#else
#include <criterion/criterion.h>

Test(ipr_interop, client_ipr_against_the_router)
{
	cr_skip_test("client/client_ipr.h is not in this tree yet");
}
#endif
