/* The exit gateway's IP packet router engine, driven by a simulated client: requests are real
 * Repliable messages sealed to the IPR's key, replies come back as real Sphinx packets through
 * the client's reply SURBs and are opened here by walking them through the route's hops. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "crypto/x25519.h"
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

TestSuite(gateway_ipr, .init = setup, .fini = teardown);

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

static void send_req(struct ipr_request *q, uint64_t now)
{
	memcpy(q->sender_tag, tag, sizeof(tag));
	size_t len;
	cr_assert_eq(ipr_request_encoded_len(q, &len), 0);
	uint8_t *msg = malloc(len);
	cr_assert_eq(ipr_request_encode(q, msg, len, &len), 0);
	send_raw(msg, len, MIX_MESSAGE_REPLIABLE, now);
	free(msg);
}

static void send_with_surbs(enum ipr_request_kind kind, size_t n_surbs, uint64_t now)
{
	uint8_t *surbs = n_surbs ? make_surbs(n_surbs) : NULL;
	struct ipr_request q = { .kind = kind, .surb_count = n_surbs, .surb_len = n_surbs ? SURB_LEN : 0,
				 .surbs = surbs, .request_id = 7 };
	send_req(&q, now);
	free(surbs);
}

/* Responses the client got. */
#define MAX_RESP 256
static uint8_t *resp_buf[MAX_RESP];
static struct ipr_response resp[MAX_RESP];
static size_t n_resp;

/* Walks every new reply packet to the client and decodes the responses. */
static void receive(void)
{
	for (; inj_seen < n_inj; inj_seen++) {
		uint8_t *pkt = inj_out[inj_seen];
		/* The reply leaves towards the SURB's first hop. */
		uint8_t enc[32];
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&inj_hop.ss, inj_hop.len, enc), 0);
		cr_assert_arr_eq(enc, hops[MIX1].address, 32);
		const int order[4] = { MIX1, MIX2, MIX3, GW };
		struct sphinx_processed out;
		for (int i = 0; i < 4; i++)
			cr_assert_eq(sphinx_packet_process(pkt, MIX_REGULAR_PACKET_LEN, node_keys[order[i]].secret, &out), 0);
		cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
		cr_assert_arr_eq(out.address, client_id, 32);
		const uint8_t *m;
		size_t mlen;
		cr_assert_eq(sphinx_packet_message(pkt, MIX_REGULAR_PACKET_LEN, &m, &mlen), 0);
		cr_assert(mix_surb_ack_slot_empty(m), "IPR replies carry no SURB-ACK");
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
		cr_assert_lt(k, n_keys, "the digest names one of our reply keys");
		uint8_t *body;
		size_t blen;
		cr_assert_eq(mix_reply_open(fwd, flen, keys[k], &body, &blen), 0);
		struct mix_reassembly_message msg = { 0 };
		cr_assert_eq(mix_reassembly_add_bytes(client_reasm, body, blen, 0, &msg), 0);
		if (!msg.data)
			continue;
		enum mix_message_type type;
		size_t len;
		cr_assert_eq(mix_fragment_message_unpad(msg.data, msg.len, &type, &len), 0);
		cr_assert_eq(type, MIX_MESSAGE_REPLY);
		cr_assert_lt(n_resp, MAX_RESP);
		resp_buf[n_resp] = msg.data;
		cr_assert_eq(ipr_response_decode(msg.data + 1, len, &resp[n_resp]), 0);
		n_resp++;
	}
}

/* The first response of a kind, ignoring SURB requests around it. */
static const struct ipr_response *find_resp(enum ipr_response_kind kind)
{
	for (size_t i = 0; i < n_resp; i++)
		if (resp[i].kind == kind)
			return &resp[i];
	cr_assert_fail("no response of kind %d among %zu", kind, n_resp);
	return NULL;
}

static void forget_responses(void)
{
	for (size_t i = 0; i < n_resp; i++)
		free(resp_buf[i]);
	n_resp = 0;
}

static struct ipr_addr_pair connect_client(size_t n_surbs)
{
	send_with_surbs(IPR_REQ_CONNECT, n_surbs, 0);
	receive();
	size_t i = 0;
	while (i < n_resp && resp[i].kind != IPR_RESP_CONNECT)
		i++;
	cr_assert_lt(i, n_resp, "a CONNECT response");
	cr_assert_eq(resp[i].request_id, 7);
	cr_assert_eq(resp[i].reply, IPR_CONNECT_SUCCESS);
	struct ipr_addr_pair ips = resp[i].ips;
	forget_responses();
	/* Later counts start here. */
	for (size_t k = 0; k < n_inj; k++)
		free(inj_out[k]);
	n_inj = inj_seen = 0;
	return ips;
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

static void send_data(const uint8_t *const *pkts, const size_t *lens, size_t n, size_t n_surbs, uint64_t now)
{
	uint8_t buf[8192];
	struct ipr_bundle_builder b;
	cr_assert_eq(ipr_bundle_init(&b, buf, sizeof(buf), sizeof(buf)), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ipr_bundle_add(&b, pkts[i], lens[i]), 0);
	uint8_t *surbs = n_surbs ? make_surbs(n_surbs) : NULL;
	struct ipr_request q = { .kind = IPR_REQ_DATA, .surb_count = n_surbs, .surb_len = n_surbs ? SURB_LEN : 0,
				 .surbs = surbs, .bundle = { buf, b.len } };
	send_req(&q, now);
	free(surbs);
}

static void send_one(const uint8_t *pkt, size_t len, uint64_t now)
{
	const uint8_t *p[1] = { pkt };
	size_t l[1] = { len };
	send_data(p, l, 1, 0, now);
}

/* The IP packets in DATA responses received so far. */
static size_t data_packets(const uint8_t **out, size_t *lens, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < n_resp; i++) {
		if (resp[i].kind != IPR_RESP_DATA)
			continue;
		struct ipr_bundle_iter it;
		const uint8_t *p;
		size_t len;
		ipr_bundle_iter_init(&it, resp[i].bundle.p, resp[i].bundle.len);
		while (ipr_bundle_next(&it, &p, &len) == 0 && n < max) {
			out[n] = p;
			lens[n++] = len;
		}
	}
	return n;
}

Test(gateway_ipr, connect_gives_a_pair_and_data_reaches_the_tun)
{
	struct ipr_addr_pair ips = connect_client(32);
	cr_assert_eq(ips.v4[0], 10);
	cr_assert_eq(ips.v6[0], 0xfc);
	struct ipr_addr_pair got;
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &got), 0);
	cr_assert_arr_eq(&got, &ips, sizeof(ips));
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 31);

	uint8_t a[128], b[128];
	size_t la = make_v4(a, ips.v4, "192.0.2.10", 6, 80, 0);
	size_t lb = make_v4(b, ips.v4, "192.0.2.11", 17, 80, 12);
	const uint8_t *p[2] = { a, b };
	size_t l[2] = { la, lb };
	send_data(p, l, 2, 0, 1 * MS);
	cr_assert_eq(n_tun, 2);
	cr_assert_eq(tun_len[0], la);
	cr_assert_arr_eq(tun_out[0], a, la);
	cr_assert_arr_eq(tun_out[1], b, lb);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.packets_to_tun, 2);
	cr_assert_eq(st.clients, 1);
	forget_responses();
}

Test(gateway_ipr, replies_from_the_tun_come_back_bundled)
{
	struct ipr_addr_pair ips = connect_client(64);
	/* Three answers from the internet for the client, within the buffer timeout. */
	uint8_t pk[3][200];
	size_t lens[3];
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	for (int i = 0; i < 3; i++) {
		lens[i] = make_v4(pk[i], from, dst, 17, 5000, (size_t)(10 + 50 * i));
		gateway_ipr_engine_tun(eng, pk[i], lens[i], 10 * MS + (uint64_t)i);
	}
	cr_assert_eq(n_inj, 0, "held for the buffer timeout");
	uint64_t due = gateway_ipr_engine_next_due(eng);
	cr_assert_eq(due, 10 * MS + 5 * MS);
	gateway_ipr_engine_tick(eng, due - 1);
	cr_assert_eq(n_inj, 0);
	gateway_ipr_engine_tick(eng, due);
	cr_assert_eq(n_inj, 1, "one bundle, one reply packet");
	receive();
	cr_assert_eq(n_resp, 1);
	const uint8_t *got[8];
	size_t gl[8];
	cr_assert_eq(data_packets(got, gl, 8), 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(gl[i], lens[i]);
		cr_assert_arr_eq(got[i], pk[i], lens[i]);
	}
	forget_responses();

	/* A full bundle leaves at once: 1600 bytes hold two 700-byte packets, not three. */
	for (int i = 0; i < 3; i++) {
		uint8_t big[800];
		size_t n = make_v4(big, from, dst, 17, 5000, 700 - 28);
		cr_assert_eq(n, 700);
		gateway_ipr_engine_tun(eng, big, n, 20 * MS);
	}
	cr_assert_eq(n_inj, 2);
	gateway_ipr_engine_tick(eng, 30 * MS);
	cr_assert_eq(n_inj, 3);
	receive();
	cr_assert_eq(data_packets(got, gl, 8), 3);
	forget_responses();

	/* A packet for nobody is dropped. */
	uint8_t stray[64];
	size_t sn = make_v4(stray, from, "10.0.255.254", 17, 1, 0);
	gateway_ipr_engine_tun(eng, stray, sn, 40 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.tun_unknown, 1);
}

Test(gateway_ipr, policy_refusals_come_back_as_reset_and_icmp)
{
	struct ipr_addr_pair ips = connect_client(64);
	uint8_t syn[64], udp[64], dns[64], dns_bad[64], ok[64];
	size_t l_syn = make_v4(syn, ips.v4, "192.0.2.10", 6, 25, 0);
	size_t l_udp = make_v4(udp, ips.v4, "192.0.2.10", 17, 9999, 4);
	/* 203.0.113.0/24 allows only 443, but DNS goes to any address not rejected by network. */
	size_t l_dns = make_v4(dns, ips.v4, "203.0.113.5", 17, 53, 20);
	size_t l_dns_bad = make_v4(dns_bad, ips.v4, "198.51.100.1", 17, 53, 20);
	size_t l_ok = make_v4(ok, ips.v4, "203.0.113.5", 6, 443, 0);
	const uint8_t *p[5] = { syn, udp, dns, dns_bad, ok };
	size_t l[5] = { l_syn, l_udp, l_dns, l_dns_bad, l_ok };
	send_data(p, l, 5, 0, 1 * MS);
	cr_assert_eq(n_tun, 2);
	cr_assert_arr_eq(tun_out[0], dns, l_dns);
	cr_assert_arr_eq(tun_out[1], ok, l_ok);

	gateway_ipr_engine_tick(eng, 100 * MS);
	receive();
	const uint8_t *got[8];
	size_t gl[8];
	cr_assert_eq(data_packets(got, gl, 8), 3);
	struct ipr_packet_info rst, icmp, icmp2;
	cr_assert_eq(ipr_packet_parse(got[0], gl[0], &rst), 0);
	cr_assert_eq(rst.proto, IPR_PACKET_PROTO_TCP);
	cr_assert_eq(rst.tcp_flags, IPR_PACKET_TCP_RST | IPR_PACKET_TCP_ACK);
	cr_assert_eq(rst.tcp_ack, 2);
	cr_assert_eq(rst.sport, 25);
	cr_assert_arr_eq(rst.dst, ips.v4, 4);
	cr_assert_eq(ipr_packet_l4_checksum(got[0], &rst), 0);
	cr_assert_eq(ipr_packet_parse(got[1], gl[1], &icmp), 0);
	cr_assert(icmp.icmp_error);
	cr_assert_eq(icmp.icmp_type, 3);
	cr_assert_eq(icmp.icmp_code, 13);
	cr_assert_arr_eq(got[1] + 28, udp, l_udp);
	cr_assert_eq(ipr_packet_parse(got[2], gl[2], &icmp2), 0);
	cr_assert_eq(icmp2.icmp_code, 13);
	cr_assert_arr_eq(got[2] + 28, dns_bad, l_dns_bad);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.packets_refused, 3);
	forget_responses();
}

/* A CONNECT with a single SURB gets its answer, not a request for more SURBs. */
Test(gateway_ipr, connect_with_one_surb_is_answered)
{
	send_with_surbs(IPR_REQ_CONNECT, 1, 0);
	receive();
	cr_assert_eq(n_resp, 1);
	cr_assert_eq(resp[0].kind, IPR_RESP_CONNECT);
	cr_assert_eq(resp[0].reply, IPR_CONNECT_SUCCESS);
	forget_responses();
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 0);
	/* A PING then waits for SURBs, and leaves when they come (after a SURB request). */
	send_with_surbs(IPR_REQ_PING, 0, 1 * MS);
	cr_assert_eq(n_inj, 1);
	send_with_surbs(IPR_REQ_SURBS, 2, 2 * MS);
	receive();
	cr_assert_eq(n_resp, 2);
	cr_assert_eq(find_resp(IPR_RESP_PONG)->request_id, 7);
	cr_assert_eq(find_resp(IPR_RESP_SURB_REQUEST)->amount, 64);
	forget_responses();
}

/* CONNECT without a SURB leaves no state; at the client cap the answer is "other". */
Test(gateway_ipr, connect_refusals)
{
	send_with_surbs(IPR_REQ_CONNECT, 0, 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.clients, 0);
	cr_assert_eq(st.connect_refused, 1);
	cr_assert_eq(n_inj, 0);

	/* An engine for one client: a second tag is refused with "other", statelessly. */
	gateway_ipr_engine_free(eng);
	mix_reassembly_free(client_reasm);
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.max_clients = 1;
	setup_with(&cfg);
	connect_client(30);
	nym_random(tag, sizeof(tag));
	send_with_surbs(IPR_REQ_CONNECT, 2, 1 * MS);
	receive();
	cr_assert_eq(n_resp, 1);
	cr_assert_eq(resp[0].kind, IPR_RESP_CONNECT);
	cr_assert_eq(resp[0].reply, IPR_CONNECT_OTHER);
	forget_responses();
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.clients, 1);
	cr_assert_eq(st.connect_refused, 1);
}

Test(gateway_ipr, spoofed_sources_are_dropped)
{
	struct ipr_addr_pair ips = connect_client(8);
	uint8_t other[4] = { 10, 0, 0, 99 };
	if (memcmp(other, ips.v4, 4) == 0)
		other[3] = 98;
	uint8_t pkt[64];
	size_t n = make_v4(pkt, other, "192.0.2.10", 6, 80, 0);
	send_one(pkt, n, 1 * MS);
	cr_assert_eq(n_tun, 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.packets_spoofed, 1);
}

Test(gateway_ipr, unknown_client_and_malformed_input_are_counted)
{
	/* DATA, PING and SURBS from a tag that never connected. */
	uint8_t pkt[64];
	uint8_t src[4] = { 10, 0, 0, 2 };
	size_t n = make_v4(pkt, src, "192.0.2.10", 6, 80, 0);
	send_one(pkt, n, 0);
	send_with_surbs(IPR_REQ_PING, 2, 0);
	send_with_surbs(IPR_REQ_SURBS, 2, 0);
	cr_assert_eq(n_tun, 0);
	cr_assert_eq(n_inj, 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.unknown_client, 3);
	cr_assert_eq(st.clients, 0);

	connect_client(8);
	/* A DATA request whose bundle has a length past its end. */
	uint8_t msg[64] = { IPR_VERSION, IPR_SERVICE_IP_PACKET_ROUTER, IPR_REQ_DATA };
	memcpy(msg + 3, tag, 16);
	msg[19] = msg[20] = 0;
	msg[21] = 0;
	msg[22] = 40; /* 40 bytes announced */
	memset(msg + 23, 0x45, 10);
	send_raw(msg, 33, MIX_MESSAGE_REPLIABLE, 1 * MS);
	/* A plain (not repliable) message, an unknown version, garbage items. */
	send_raw(msg, 33, MIX_MESSAGE_PLAIN, 1 * MS);
	msg[0] = 0x08;
	send_raw(msg, 33, MIX_MESSAGE_REPLIABLE, 1 * MS);
	uint8_t junk[1643];
	memset(junk, 0xab, sizeof(junk));
	gateway_ipr_engine_item(eng, MIX_PACKET_SIZE_REGULAR, junk, sizeof(junk), 1 * MS);
	gateway_ipr_engine_item(eng, MIX_PACKET_SIZE_REGULAR, junk, 100, 1 * MS);
	gateway_ipr_engine_item(eng, MIX_PACKET_SIZE_ACK, junk, 100, 1 * MS);
	/* A DATA bundle holding something that is not an IP packet. */
	uint8_t notip[4] = { 0x12, 0x34, 0x56, 0x78 };
	send_one(notip, sizeof(notip), 1 * MS);
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.bundles_malformed, 1);
	cr_assert_eq(st.messages_malformed, 2);
	cr_assert_eq(st.version_mismatch, 1);
	cr_assert_eq(st.items_malformed, 3);
	cr_assert_eq(st.packets_malformed, 1);
	cr_assert_eq(n_tun, 0);
	/* The version mismatch is answered with INFO; the client still works. */
	receive();
	cr_assert_eq(n_resp, 1);
	cr_assert_eq(resp[0].kind, IPR_RESP_INFO);
	cr_assert_eq(resp[0].code, IPR_INFO_VERSION_MISMATCH);
	forget_responses();
	struct ipr_addr_pair ips;
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &ips), 0);
	n = make_v4(pkt, ips.v4, "192.0.2.10", 6, 80, 0);
	send_one(pkt, n, 2 * MS);
	cr_assert_eq(n_tun, 1);
}

Test(gateway_ipr, ping_health_disconnect)
{
	connect_client(40);
	send_with_surbs(IPR_REQ_PING, 0, 1 * MS);
	send_with_surbs(IPR_REQ_HEALTH, 0, 1 * MS);
	receive();
	cr_assert_eq(n_resp, 2);
	cr_assert_eq(find_resp(IPR_RESP_PONG)->request_id, 7);
	const struct ipr_response *h = find_resp(IPR_RESP_HEALTH);
	cr_assert_eq(h->routable, IPR_ROUTABLE_UNKNOWN);
	cr_assert_gt(h->text.len, 0);
	forget_responses();
	/* CONNECT again with the same tag: already connected. */
	send_with_surbs(IPR_REQ_CONNECT, 1, 2 * MS);
	receive();
	cr_assert_eq(find_resp(IPR_RESP_CONNECT)->reply, IPR_CONNECT_ALREADY_CONNECTED);
	forget_responses();
	send_with_surbs(IPR_REQ_DISCONNECT, 0, 3 * MS);
	receive();
	cr_assert_eq(find_resp(IPR_RESP_DISCONNECT)->reply, IPR_DISCONNECT_SUCCESS);
	forget_responses();
	struct ipr_addr_pair ips;
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &ips), -ENOENT);
	/* Its requests are now from an unknown client. */
	send_with_surbs(IPR_REQ_PING, 1, 4 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.unknown_client, 1);
}

Test(gateway_ipr, idle_client_released_after_60s)
{
	struct ipr_addr_pair ips = connect_client(8);
	cr_assert_eq(gateway_ipr_engine_next_due(eng) <= 60000 * MS, 1);
	gateway_ipr_engine_tick(eng, 59999 * MS);
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &ips), 0);
	/* Traffic from the client restarts the clock. */
	send_with_surbs(IPR_REQ_SURBS, 1, 30000 * MS);
	gateway_ipr_engine_tick(eng, 60000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &ips), 0);
	/* TUN traffic to it does not. */
	uint8_t pkt[64], from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	size_t n = make_v4(pkt, from, dst, 17, 1, 0);
	gateway_ipr_engine_tun(eng, pkt, n, 80000 * MS);
	gateway_ipr_engine_tick(eng, 85000 * MS);
	receive();
	forget_responses();
	gateway_ipr_engine_tick(eng, 90000 * MS - 1);
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &ips), 0);
	gateway_ipr_engine_tick(eng, 90000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_addr(eng, tag, &ips), -ENOENT);
	receive();
	cr_assert_eq(find_resp(IPR_RESP_UNREQUESTED_DISCONNECT)->reason, IPR_UNREQUESTED_MIXNET_TIMEOUT);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.idle_released, 1);
	cr_assert_eq(st.clients, 0);
	forget_responses();
	/* Its pair is free again: a packet to it now is for nobody. */
	gateway_ipr_engine_tun(eng, pkt, n, 90001 * MS);
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.tun_unknown, 1);
}

Test(gateway_ipr, surb_request_when_the_stock_runs_low)
{
	struct ipr_addr_pair ips = connect_client(24);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 23);
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	uint8_t pkt[1600];
	size_t n = make_v4(pkt, from, dst, 17, 5000, 1500 - 28);
	/* Each 1500-byte packet fills a bundle: one SURB each. */
	for (int i = 0; i < 4; i++)
		gateway_ipr_engine_tun(eng, pkt, n, 1 * MS);
	gateway_ipr_engine_tick(eng, 100 * MS);
	receive();
	size_t asks = 0;
	for (size_t i = 0; i < n_resp; i++)
		if (resp[i].kind == IPR_RESP_SURB_REQUEST) {
			asks++;
			cr_assert_eq(resp[i].amount, 64);
		}
	cr_assert_eq(asks, 1, "asked once, not per packet");
	forget_responses();
	/* The stock runs out: packets wait, then leave when SURBs come. */
	for (int i = 0; i < 40; i++)
		gateway_ipr_engine_tun(eng, pkt, n, 200 * MS);
	gateway_ipr_engine_tick(eng, 300 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 0);
	size_t before = n_inj;
	send_with_surbs(IPR_REQ_SURBS, 64, 400 * MS);
	cr_assert_gt(n_inj, before);
	receive();
	size_t data = 0;
	for (size_t i = 0; i < n_resp; i++)
		data += resp[i].kind == IPR_RESP_DATA;
	cr_assert_gt(data, 0);
	forget_responses();
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_geq(st.surb_requests, 1);
	cr_assert_eq(st.responses_dropped, 0);
}

Test(gateway_ipr, oversized_packet_spans_several_reply_packets)
{
	struct ipr_addr_pair ips = connect_client(32);
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	static uint8_t pkt[9000];
	size_t n = make_v4(pkt, from, dst, 17, 5000, 9000 - 28);
	for (size_t i = 28; i < n; i++)
		pkt[i] = (uint8_t)i;
	gateway_ipr_engine_tun(eng, pkt, n, 1 * MS);
	cr_assert_geq(n_inj, 6);
	receive();
	const uint8_t *got[2];
	size_t gl[2];
	cr_assert_eq(data_packets(got, gl, 2), 1);
	cr_assert_eq(gl[0], n);
	cr_assert_arr_eq(got[0], pkt, n);
	forget_responses();
}

Test(gateway_ipr, ipv6_data_and_dns)
{
	struct ipr_addr_pair ips = connect_client(8);
	uint8_t p6[48 + 8] = { 0x60, 0, 0, 0, 0, 16, 17, 64 };
	memcpy(p6 + 8, ips.v6, 16);
	inet_pton(AF_INET6, "2001:db8::53", p6 + 24);
	p6[42] = 0;
	p6[43] = 53;
	p6[45] = 16;
	send_one(p6, 56, 1 * MS);
	cr_assert_eq(n_tun, 1, "DNS: accept *:80 covers 2001:db8::53 before reject *:*");
	p6[43] = 80;
	send_one(p6, 56, 1 * MS);
	cr_assert_eq(n_tun, 2);
	p6[42] = 0x27;
	p6[43] = 0x0f; /* 9999 */
	send_one(p6, 56, 1 * MS);
	cr_assert_eq(n_tun, 2);
	gateway_ipr_engine_tick(eng, 100 * MS);
	receive();
	const uint8_t *got[2];
	size_t gl[2];
	cr_assert_eq(data_packets(got, gl, 2), 1);
	struct ipr_packet_info in;
	cr_assert_eq(ipr_packet_parse(got[0], gl[0], &in), 0);
	cr_assert_eq(in.family, 6);
	cr_assert_eq(in.icmp_type, 1);
	cr_assert_eq(in.icmp_code, 1);
	forget_responses();
}

/* SURBs older than surb_max_age_ns are dropped unused (their mixnode keys are gone): the
 * stock keeps the fresh ones, replies wait for new SURBs rather than go into the void. */
Test(gateway_ipr, stale_surbs_are_dropped_unused)
{
	gateway_ipr_engine_free(eng);
	mix_reassembly_free(client_reasm);
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.surb_max_age_ns = 10000 * MS;
	setup_with(&cfg);
	struct ipr_addr_pair ips = connect_client(24); /* at 0 s; one SURB answered CONNECT */
	send_with_surbs(IPR_REQ_SURBS, 10, 5000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 33);
	gateway_ipr_engine_tick(eng, 10000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 33, "none older than the limit yet");
	gateway_ipr_engine_tick(eng, 12000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 10, "the CONNECT's SURBs went");
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.surbs_expired, 23);

	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	uint8_t pkt[1600];
	size_t n = make_v4(pkt, from, dst, 17, 5000, 1500 - 28);
	size_t before = n_inj;
	gateway_ipr_engine_tun(eng, pkt, n, 12000 * MS);
	gateway_ipr_engine_tick(eng, 12100 * MS);
	cr_assert_gt(n_inj, before, "a fresh SURB carried it");
	receive();
	cr_assert_not_null(find_resp(IPR_RESP_DATA));
	forget_responses();

	/* All stale: the packet waits instead of going through a dead SURB... */
	gateway_ipr_engine_tick(eng, 15001 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 0);
	before = n_inj;
	gateway_ipr_engine_tun(eng, pkt, n, 15500 * MS);
	gateway_ipr_engine_tick(eng, 15600 * MS);
	cr_assert_eq(n_inj, before);
	/* ...and leaves with the next SURBs. */
	send_with_surbs(IPR_REQ_SURBS, 8, 16000 * MS);
	cr_assert_gt(n_inj, before);
	receive();
	cr_assert_not_null(find_resp(IPR_RESP_DATA));
	forget_responses();
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.responses_dropped, 0);
}

/* With the mixnodes' rotation schedule (rotations every 60 s from 0, 4 s overlap), a SURB
 * lives until the overlap after the next rotation start following its arrival. */
Test(gateway_ipr, surbs_expire_with_the_key_rotation)
{
	gateway_ipr_engine_free(eng);
	mix_reassembly_free(client_reasm);
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.rotation_ns = 60000 * MS;
	cfg.rotation_origin_ns = 0;
	cfg.overlap_ns = 4000 * MS;
	setup_with(&cfg);
	connect_client(24);                             /* 23 left, arrived at 0 s */
	send_with_surbs(IPR_REQ_SURBS, 5, 59000 * MS);  /* rotation 1 too */
	send_with_surbs(IPR_REQ_SURBS, 7, 61000 * MS);  /* rotation 2 */
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 35);
	gateway_ipr_engine_tick(eng, 64000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 35, "the overlap is still on");
	send_with_surbs(IPR_REQ_SURBS, 1, 64001 * MS);  /* keeps the client alive */
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 8, "rotation 1's SURBs died with its keys");
	send_with_surbs(IPR_REQ_SURBS, 1, 119000 * MS);
	gateway_ipr_engine_tick(eng, 124000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 9);
	gateway_ipr_engine_tick(eng, 124001 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(eng, tag), 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(eng, &st);
	cr_assert_eq(st.surbs_expired, 37);
}
