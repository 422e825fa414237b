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

#include "../support/iprfix.h"

#define MS 1000000ull

static void setup(void)
{
	iprfix_init(NULL);
}

static void teardown(void)
{
	iprfix_fini();
}

TestSuite(gateway_ipr, .init = setup, .fini = teardown);

static void send_req(struct ipr_request *q, uint64_t now)
{
	memcpy(q->sender_tag, ipf.tag, sizeof(ipf.tag));
	size_t len;
	cr_assert_eq(ipr_request_encoded_len(q, &len), 0);
	uint8_t *msg = malloc(len);
	cr_assert_eq(ipr_request_encode(q, msg, len, &len), 0);
	iprfix_send_raw(msg, len, MIX_MESSAGE_REPLIABLE, now);
	free(msg);
}

static void send_with_surbs(enum ipr_request_kind kind, size_t n_surbs, uint64_t now)
{
	uint8_t *surbs = n_surbs ? iprfix_make_surbs(n_surbs) : NULL;
	struct ipr_request q = { .kind = kind, .surb_count = n_surbs, .surb_len = n_surbs ? IPRFIX_SURB_LEN : 0,
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
	while (ipf.inj_seen < ipf.n_inj) {
		uint8_t *data;
		size_t len;
		if (!iprfix_take_reply(&data, &len))
			continue;
		cr_assert_lt(n_resp, MAX_RESP);
		resp_buf[n_resp] = data;
		cr_assert_eq(ipr_response_decode(data + 1, len, &resp[n_resp]), 0);
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
	for (size_t k = 0; k < ipf.n_inj; k++)
		free(ipf.inj_out[k]);
	ipf.n_inj = ipf.inj_seen = 0;
	return ips;
}

static void send_data(const uint8_t *const *pkts, const size_t *lens, size_t n, size_t n_surbs, uint64_t now)
{
	uint8_t buf[8192];
	struct ipr_bundle_builder b;
	cr_assert_eq(ipr_bundle_init(&b, buf, sizeof(buf), sizeof(buf)), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ipr_bundle_add(&b, pkts[i], lens[i]), 0);
	uint8_t *surbs = n_surbs ? iprfix_make_surbs(n_surbs) : NULL;
	struct ipr_request q = { .kind = IPR_REQ_DATA, .surb_count = n_surbs, .surb_len = n_surbs ? IPRFIX_SURB_LEN : 0,
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
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &got), 0);
	cr_assert_arr_eq(&got, &ips, sizeof(ips));
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 31);

	uint8_t a[128], b[128];
	size_t la = iprfix_make_v4(a, ips.v4, "192.0.2.10", 6, 80, 0);
	size_t lb = iprfix_make_v4(b, ips.v4, "192.0.2.11", 17, 80, 12);
	const uint8_t *p[2] = { a, b };
	size_t l[2] = { la, lb };
	send_data(p, l, 2, 0, 1 * MS);
	cr_assert_eq(ipf.n_tun, 2);
	cr_assert_eq(ipf.tun_len[0], la);
	cr_assert_arr_eq(ipf.tun_out[0], a, la);
	cr_assert_arr_eq(ipf.tun_out[1], b, lb);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
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
		lens[i] = iprfix_make_v4(pk[i], from, dst, 17, 5000, (size_t)(10 + 50 * i));
		gateway_ipr_engine_tun(ipf.eng, pk[i], lens[i], 10 * MS + (uint64_t)i);
	}
	cr_assert_eq(ipf.n_inj, 0, "held for the buffer timeout");
	uint64_t due = gateway_ipr_engine_next_due(ipf.eng);
	cr_assert_eq(due, 10 * MS + 5 * MS);
	gateway_ipr_engine_tick(ipf.eng, due - 1);
	cr_assert_eq(ipf.n_inj, 0);
	gateway_ipr_engine_tick(ipf.eng, due);
	cr_assert_eq(ipf.n_inj, 1, "one bundle, one reply packet");
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

	/* A full bundle leaves at once: eight unacknowledged reply packets (8 x 1990 - 4 = 15916
	 * bytes) hold twenty-two 700-byte packets with their prefixes, not twenty-three. */
	for (int i = 0; i < 23; i++) {
		uint8_t big[800];
		size_t n = iprfix_make_v4(big, from, dst, 17, 5000, 700 - 28);
		cr_assert_eq(n, 700);
		gateway_ipr_engine_tun(ipf.eng, big, n, 20 * MS);
	}
	cr_assert_eq(ipf.n_inj, 1 + 8, "22 x 702 + 4 bytes: 8 reply packets, not %zu", ipf.n_inj - 1);
	gateway_ipr_engine_tick(ipf.eng, 30 * MS);
	cr_assert_eq(ipf.n_inj, 1 + 9);
	receive();
	const uint8_t *all[32];
	size_t al[32];
	cr_assert_eq(data_packets(all, al, 32), 23);
	forget_responses();

	/* A packet for nobody is dropped. */
	uint8_t stray[64];
	size_t sn = iprfix_make_v4(stray, from, "10.0.255.254", 17, 1, 0);
	gateway_ipr_engine_tun(ipf.eng, stray, sn, 40 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.tun_unknown, 1);
}

Test(gateway_ipr, policy_refusals_come_back_as_reset_and_icmp)
{
	struct ipr_addr_pair ips = connect_client(64);
	uint8_t syn[64], udp[64], dns[64], dns_bad[64], ok[64];
	size_t l_syn = iprfix_make_v4(syn, ips.v4, "192.0.2.10", 6, 25, 0);
	size_t l_udp = iprfix_make_v4(udp, ips.v4, "192.0.2.10", 17, 9999, 4);
	/* 203.0.113.0/24 allows only 443, but DNS goes to any address not rejected by network. */
	size_t l_dns = iprfix_make_v4(dns, ips.v4, "203.0.113.5", 17, 53, 20);
	size_t l_dns_bad = iprfix_make_v4(dns_bad, ips.v4, "198.51.100.1", 17, 53, 20);
	size_t l_ok = iprfix_make_v4(ok, ips.v4, "203.0.113.5", 6, 443, 0);
	const uint8_t *p[5] = { syn, udp, dns, dns_bad, ok };
	size_t l[5] = { l_syn, l_udp, l_dns, l_dns_bad, l_ok };
	send_data(p, l, 5, 0, 1 * MS);
	cr_assert_eq(ipf.n_tun, 2);
	cr_assert_arr_eq(ipf.tun_out[0], dns, l_dns);
	cr_assert_arr_eq(ipf.tun_out[1], ok, l_ok);

	gateway_ipr_engine_tick(ipf.eng, 100 * MS);
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
	gateway_ipr_engine_get_stats(ipf.eng, &st);
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
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 0);
	/* A PING then waits for SURBs, and leaves when they come (after a SURB request). */
	send_with_surbs(IPR_REQ_PING, 0, 1 * MS);
	cr_assert_eq(ipf.n_inj, 1);
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
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.clients, 0);
	cr_assert_eq(st.connect_refused, 1);
	cr_assert_eq(ipf.n_inj, 0);

	/* An engine for one client: a second tag is refused with "other", statelessly. */
	iprfix_fini();
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.max_clients = 1;
	iprfix_init(&cfg);
	connect_client(30);
	nym_random(ipf.tag, sizeof(ipf.tag));
	send_with_surbs(IPR_REQ_CONNECT, 2, 1 * MS);
	receive();
	cr_assert_eq(n_resp, 1);
	cr_assert_eq(resp[0].kind, IPR_RESP_CONNECT);
	cr_assert_eq(resp[0].reply, IPR_CONNECT_OTHER);
	forget_responses();
	gateway_ipr_engine_get_stats(ipf.eng, &st);
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
	size_t n = iprfix_make_v4(pkt, other, "192.0.2.10", 6, 80, 0);
	send_one(pkt, n, 1 * MS);
	cr_assert_eq(ipf.n_tun, 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.packets_spoofed, 1);
}

Test(gateway_ipr, unknown_client_and_malformed_input_are_counted)
{
	/* DATA, PING and SURBS from a tag that never connected. */
	uint8_t pkt[64];
	uint8_t src[4] = { 10, 0, 0, 2 };
	size_t n = iprfix_make_v4(pkt, src, "192.0.2.10", 6, 80, 0);
	send_one(pkt, n, 0);
	send_with_surbs(IPR_REQ_PING, 2, 0);
	send_with_surbs(IPR_REQ_SURBS, 2, 0);
	cr_assert_eq(ipf.n_tun, 0);
	cr_assert_eq(ipf.n_inj, 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.unknown_client, 3);
	cr_assert_eq(st.clients, 0);

	connect_client(8);
	/* A DATA request whose bundle has a length past its end. */
	uint8_t msg[64] = { IPR_VERSION, IPR_SERVICE_IP_PACKET_ROUTER, IPR_REQ_DATA };
	memcpy(msg + 3, ipf.tag, 16);
	msg[19] = msg[20] = 0;
	msg[21] = 0;
	msg[22] = 40; /* 40 bytes announced */
	memset(msg + 23, 0x45, 10);
	iprfix_send_raw(msg, 33, MIX_MESSAGE_REPLIABLE, 1 * MS);
	/* A plain (not repliable) message, an unknown version, garbage items. */
	iprfix_send_raw(msg, 33, MIX_MESSAGE_PLAIN, 1 * MS);
	msg[0] = 0x08;
	iprfix_send_raw(msg, 33, MIX_MESSAGE_REPLIABLE, 1 * MS);
	uint8_t junk[2029];
	memset(junk, 0xab, sizeof(junk));
	gateway_ipr_engine_item(ipf.eng, MIX_PACKET_SIZE_REGULAR, junk, sizeof(junk), 1 * MS);
	gateway_ipr_engine_item(ipf.eng, MIX_PACKET_SIZE_REGULAR, junk, 100, 1 * MS);
	gateway_ipr_engine_item(ipf.eng, MIX_PACKET_SIZE_ACK, junk, 100, 1 * MS);
	/* A DATA bundle holding something that is not an IP packet. */
	uint8_t notip[4] = { 0x12, 0x34, 0x56, 0x78 };
	send_one(notip, sizeof(notip), 1 * MS);
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.bundles_malformed, 1);
	cr_assert_eq(st.messages_malformed, 2);
	cr_assert_eq(st.version_mismatch, 1);
	cr_assert_eq(st.items_malformed, 3);
	cr_assert_eq(st.packets_malformed, 1);
	cr_assert_eq(ipf.n_tun, 0);
	/* The version mismatch is answered with INFO; the client still works. */
	receive();
	cr_assert_eq(n_resp, 1);
	cr_assert_eq(resp[0].kind, IPR_RESP_INFO);
	cr_assert_eq(resp[0].code, IPR_INFO_VERSION_MISMATCH);
	forget_responses();
	struct ipr_addr_pair ips;
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &ips), 0);
	n = iprfix_make_v4(pkt, ips.v4, "192.0.2.10", 6, 80, 0);
	send_one(pkt, n, 2 * MS);
	cr_assert_eq(ipf.n_tun, 1);
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
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &ips), -ENOENT);
	/* Its requests are now from an unknown client. */
	send_with_surbs(IPR_REQ_PING, 1, 4 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.unknown_client, 1);
}

Test(gateway_ipr, idle_client_released_after_60s)
{
	struct ipr_addr_pair ips = connect_client(8);
	cr_assert_eq(gateway_ipr_engine_next_due(ipf.eng) <= 60000 * MS, 1);
	gateway_ipr_engine_tick(ipf.eng, 59999 * MS);
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &ips), 0);
	/* Traffic from the client restarts the clock. */
	send_with_surbs(IPR_REQ_SURBS, 1, 30000 * MS);
	gateway_ipr_engine_tick(ipf.eng, 60000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &ips), 0);
	/* TUN traffic to it does not. */
	uint8_t pkt[64], from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	size_t n = iprfix_make_v4(pkt, from, dst, 17, 1, 0);
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 80000 * MS);
	gateway_ipr_engine_tick(ipf.eng, 85000 * MS);
	receive();
	forget_responses();
	gateway_ipr_engine_tick(ipf.eng, 90000 * MS - 1);
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &ips), 0);
	gateway_ipr_engine_tick(ipf.eng, 90000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_addr(ipf.eng, ipf.tag, &ips), -ENOENT);
	receive();
	cr_assert_eq(find_resp(IPR_RESP_UNREQUESTED_DISCONNECT)->reason, IPR_UNREQUESTED_MIXNET_TIMEOUT);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.idle_released, 1);
	cr_assert_eq(st.clients, 0);
	forget_responses();
	/* Its pair is free again: a packet to it now is for nobody. */
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 90001 * MS);
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.tun_unknown, 1);
}

Test(gateway_ipr, surb_request_when_the_stock_runs_low)
{
	struct ipr_addr_pair ips = connect_client(24);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 23);
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	uint8_t pkt[1600];
	size_t n = iprfix_make_v4(pkt, from, dst, 17, 5000, 1500 - 28);
	/* Four 1500-byte packets: one bundle of four reply packets, one SURB each. */
	for (int i = 0; i < 4; i++)
		gateway_ipr_engine_tun(ipf.eng, pkt, n, 1 * MS);
	gateway_ipr_engine_tick(ipf.eng, 100 * MS);
	receive();
	size_t asks = 0;
	for (size_t i = 0; i < n_resp; i++)
		if (resp[i].kind == IPR_RESP_SURB_REQUEST) {
			asks++;
			cr_assert_eq(resp[i].amount, 64);
		}
	cr_assert_eq(asks, 1, "asked once, not per packet");
	forget_responses();
	/* The stock runs out: bundles of eight packets (eight reply packets each) take it
	 * under what the next needs; the rest wait, then leave when SURBs come. */
	for (int i = 0; i < 40; i++)
		gateway_ipr_engine_tun(ipf.eng, pkt, n, 200 * MS);
	gateway_ipr_engine_tick(ipf.eng, 300 * MS);
	cr_assert_lt(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 8);
	size_t before = ipf.n_inj;
	send_with_surbs(IPR_REQ_SURBS, 64, 400 * MS);
	cr_assert_gt(ipf.n_inj, before);
	receive();
	size_t data = 0;
	for (size_t i = 0; i < n_resp; i++)
		data += resp[i].kind == IPR_RESP_DATA;
	cr_assert_gt(data, 0);
	forget_responses();
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_geq(st.surb_requests, 1);
	cr_assert_eq(st.responses_dropped, 0);
}

Test(gateway_ipr, oversized_packet_spans_several_reply_packets)
{
	struct ipr_addr_pair ips = connect_client(64);
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	/* Over a bundle's limit (15916 bytes): a DATA response of its own, at once. */
	static uint8_t pkt[20000];
	size_t n = iprfix_make_v4(pkt, from, dst, 17, 5000, 20000 - 28);
	for (size_t i = 28; i < n; i++)
		pkt[i] = (uint8_t)i;
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 1 * MS);
	cr_assert_eq(ipf.n_inj, 11, "20006 bytes in 1990-byte fragments, not %zu", ipf.n_inj);
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
	cr_assert_eq(ipf.n_tun, 1, "DNS: accept *:80 covers 2001:db8::53 before reject *:*");
	p6[43] = 80;
	send_one(p6, 56, 1 * MS);
	cr_assert_eq(ipf.n_tun, 2);
	p6[42] = 0x27;
	p6[43] = 0x0f; /* 9999 */
	send_one(p6, 56, 1 * MS);
	cr_assert_eq(ipf.n_tun, 2);
	gateway_ipr_engine_tick(ipf.eng, 100 * MS);
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
	iprfix_fini();
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.surb_max_age_ns = 10000 * MS;
	iprfix_init(&cfg);
	struct ipr_addr_pair ips = connect_client(24); /* at 0 s; one SURB answered CONNECT */
	send_with_surbs(IPR_REQ_SURBS, 10, 5000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 33);
	gateway_ipr_engine_tick(ipf.eng, 10000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 33, "none older than the limit yet");
	gateway_ipr_engine_tick(ipf.eng, 12000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 10, "the CONNECT's SURBs went");
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.surbs_expired, 23);

	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	uint8_t pkt[1600];
	size_t n = iprfix_make_v4(pkt, from, dst, 17, 5000, 1500 - 28);
	size_t before = ipf.n_inj;
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 12000 * MS);
	gateway_ipr_engine_tick(ipf.eng, 12100 * MS);
	cr_assert_gt(ipf.n_inj, before, "a fresh SURB carried it");
	receive();
	cr_assert_not_null(find_resp(IPR_RESP_DATA));
	forget_responses();

	/* All stale: the packet waits instead of going through a dead SURB... */
	gateway_ipr_engine_tick(ipf.eng, 15001 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 0);
	before = ipf.n_inj;
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 15500 * MS);
	gateway_ipr_engine_tick(ipf.eng, 15600 * MS);
	cr_assert_eq(ipf.n_inj, before);
	/* ...and leaves with the next SURBs. */
	send_with_surbs(IPR_REQ_SURBS, 8, 16000 * MS);
	cr_assert_gt(ipf.n_inj, before);
	receive();
	cr_assert_not_null(find_resp(IPR_RESP_DATA));
	forget_responses();
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.responses_dropped, 0);
}

/* With the mixnodes' rotation schedule (rotations every 60 s from 0, 4 s overlap), a SURB
 * lives until the overlap after the next rotation start following its arrival. */
Test(gateway_ipr, surbs_expire_with_the_key_rotation)
{
	iprfix_fini();
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.rotation_ns = 60000 * MS;
	cfg.rotation_origin_ns = 0;
	cfg.overlap_ns = 4000 * MS;
	iprfix_init(&cfg);
	connect_client(24);                             /* 23 left, arrived at 0 s */
	send_with_surbs(IPR_REQ_SURBS, 5, 59000 * MS);  /* rotation 1 too */
	send_with_surbs(IPR_REQ_SURBS, 7, 61000 * MS);  /* rotation 2 */
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 35);
	gateway_ipr_engine_tick(ipf.eng, 64000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 35, "the overlap is still on");
	send_with_surbs(IPR_REQ_SURBS, 1, 64001 * MS);  /* keeps the client alive */
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 8, "rotation 1's SURBs died with its ipf.keys");
	send_with_surbs(IPR_REQ_SURBS, 1, 119000 * MS);
	gateway_ipr_engine_tick(ipf.eng, 124000 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 9);
	gateway_ipr_engine_tick(ipf.eng, 124001 * MS);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 0);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.surbs_expired, 37);
}

/* ---- packing: the packets of one TUN read batch share a bundle ---- */

/* CONNECT asking for a zero buffer timeout (the probe's no-delay mode). */
static struct ipr_addr_pair connect_zero_timeout(size_t n_surbs)
{
	uint8_t *surbs = iprfix_make_surbs(n_surbs);
	struct ipr_request q = { .kind = IPR_REQ_CONNECT, .surb_count = n_surbs, .surb_len = IPRFIX_SURB_LEN,
				 .surbs = surbs, .request_id = 7, .has_buffer_timeout = true, .buffer_timeout_ms = 0 };
	send_req(&q, 0);
	free(surbs);
	receive();
	const struct ipr_response *r = find_resp(IPR_RESP_CONNECT);
	cr_assert_eq(r->reply, IPR_CONNECT_SUCCESS);
	struct ipr_addr_pair ips = r->ips;
	forget_responses();
	for (size_t k = 0; k < ipf.n_inj; k++)
		free(ipf.inj_out[k]);
	ipf.n_inj = ipf.inj_seen = 0;
	return ips;
}

/* A TCP packet from the internet to the client, len bytes, numbered i in its payload. */
static size_t tun_packet(uint8_t *out, const struct ipr_addr_pair *ips, size_t len, int i)
{
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips->v4[0], ips->v4[1], ips->v4[2], ips->v4[3]);
	size_t n = iprfix_make_v4(out, from, dst, 6, 80, len - 40);
	cr_assert_eq(n, len);
	out[40] = (uint8_t)i;
	out[41] = (uint8_t)(i >> 8);
	return n;
}

static size_t data_responses(void)
{
	size_t n = 0;
	for (size_t i = 0; i < n_resp; i++)
		n += resp[i].kind == IPR_RESP_DATA;
	return n;
}

/* Checks the DATA responses received hold packets numbered 0..n-1 in order. */
static void assert_in_order(size_t n)
{
	const uint8_t *got[256];
	size_t gl[256];
	cr_assert_eq(data_packets(got, gl, 256), n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i][40] | got[i][41] << 8, (int)i, "packet %zu in order", i);
}

Test(gateway_ipr, zero_timeout_packs_a_read_batch_into_full_reply_packets)
{
	struct ipr_addr_pair ips = connect_zero_timeout(64);
	/* Eleven 1420-byte packets (nymtun0's MTU) in one read: one at a time they took eleven
	 * reply packets; in one bundle (11 x 1422 + 3 = 15645 bytes) they fill eight of 1990
	 * bytes, the last of them all but 275 bytes, so it leaves when the TUN is drained. */
	for (int i = 0; i < 11; i++) {
		uint8_t pkt[1420];
		size_t n = tun_packet(pkt, &ips, sizeof(pkt), i);
		gateway_ipr_engine_tun(ipf.eng, pkt, n, 1 * MS);
		cr_assert_eq(ipf.n_inj, 0, "held while the batch lasts");
	}
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS);
	cr_assert_eq(ipf.n_inj, 8);
	receive();
	cr_assert_eq(data_responses(), 1);
	assert_in_order(11);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.data_bundles, 1);
	cr_assert_eq(st.tun_packets, 11);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 63 - 8);
	forget_responses();
}

Test(gateway_ipr, zero_timeout_lone_packets)
{
	struct ipr_addr_pair ips = connect_zero_timeout(16);
	uint8_t pkt[1420];
	/* An interactive packet leaves as soon as the TUN is drained. */
	size_t n = tun_packet(pkt, &ips, 100, 0);
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 1 * MS);
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS);
	cr_assert_eq(ipf.n_inj, 1);
	/* A bulk packet alone would leave its reply packet 565 bytes empty: it waits fill_wait
	 * (1 ms) for more, and a driver's tick sends it then. */
	n = tun_packet(pkt, &ips, 1420, 1);
	gateway_ipr_engine_tun(ipf.eng, pkt, n, 2 * MS);
	gateway_ipr_engine_tun_drained(ipf.eng, 2 * MS);
	cr_assert_eq(ipf.n_inj, 1);
	cr_assert_eq(gateway_ipr_engine_next_due(ipf.eng), 3 * MS);
	gateway_ipr_engine_tick(ipf.eng, 3 * MS - 1);
	cr_assert_eq(ipf.n_inj, 1);
	gateway_ipr_engine_tick(ipf.eng, 3 * MS);
	cr_assert_eq(ipf.n_inj, 2);
	receive();
	cr_assert_eq(data_responses(), 2);
	assert_in_order(2);
	forget_responses();
}

Test(gateway_ipr, zero_timeout_bulk_tail_waits_for_the_next_read)
{
	struct ipr_addr_pair ips = connect_zero_timeout(16);
	uint8_t pkt[1420];
	/* One bulk packet in a read, three in the next: sent at each drain they took 1 + 3 reply
	 * packets; held, the four (4 x 1422 + 3 = 5691 bytes) fill three, the last 279 bytes
	 * short, and leave at the second drain. */
	gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, 1420, 0), 1 * MS);
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS);
	cr_assert_eq(ipf.n_inj, 0);
	for (int i = 1; i < 4; i++)
		gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, 1420, i), 1 * MS + 300000);
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS + 300000);
	cr_assert_eq(ipf.n_inj, 3);
	receive();
	cr_assert_eq(data_responses(), 1);
	assert_in_order(4);
	forget_responses();
}

Test(gateway_ipr, zero_timeout_without_fill_wait_sends_every_read_batch)
{
	iprfix_fini();
	struct gateway_ipr_engine_config cfg;
	gateway_ipr_engine_config_default(&cfg);
	cfg.fill_wait_ns = 0;
	iprfix_init(&cfg);
	struct ipr_addr_pair ips = connect_zero_timeout(16);
	uint8_t pkt[1420];
	gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, 1420, 0), 1 * MS);
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS);
	cr_assert_eq(ipf.n_inj, 1);
	receive();
	assert_in_order(1);
	forget_responses();
}

Test(gateway_ipr, a_long_batch_fills_bundles_to_the_cap_in_order)
{
	struct ipr_addr_pair ips = connect_zero_timeout(200);
	/* 60 packets of mixed sizes in one batch: bundles leave as they reach the cap (eight reply
	 * packets), the last when the TUN is drained; every packet arrives, in order. */
	size_t bytes = 0;
	for (int i = 0; i < 60; i++) {
		uint8_t pkt[1420];
		size_t len = i % 3 == 2 ? 52 : 1420;
		bytes += len + 2;
		gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, len, i), 1 * MS);
	}
	size_t before = ipf.n_inj;
	cr_assert_gt(before, 0, "full bundles left during the batch");
	/* The last bundle leaves when drained, or after fill_wait if its tail is mostly empty. */
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS);
	gateway_ipr_engine_tick(ipf.eng, 2 * MS);
	cr_assert_gt(ipf.n_inj, before);
	receive();
	assert_in_order(60);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	/* 40 x 1422 + 20 x 54 = 57960 bytes: 30 fragments' worth; one partial fragment at most
	 * per bundle on top (five bundles at most: 8 x 1990 - 4 = 15916 bytes each). */
	cr_assert_eq(bytes, 57960);
	cr_assert_leq(st.data_bundles, 5);
	cr_assert_leq(st.reply_packets, 30 + st.data_bundles);
	cr_assert_lt(st.reply_packets, 60);
	forget_responses();
}

Test(gateway_ipr, with_a_buffer_timeout_a_drained_tun_does_not_flush)
{
	struct ipr_addr_pair ips = connect_client(64); /* the IPR's 5 ms */
	uint8_t pkt[1420];
	gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, 1420, 0), 1 * MS);
	gateway_ipr_engine_tun_drained(ipf.eng, 1 * MS);
	cr_assert_eq(ipf.n_inj, 0);
	gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, 1420, 1), 3 * MS);
	gateway_ipr_engine_tick(ipf.eng, 6 * MS - 1);
	cr_assert_eq(ipf.n_inj, 0);
	gateway_ipr_engine_tick(ipf.eng, 6 * MS);
	cr_assert_eq(ipf.n_inj, 2, "two packets, 2848 bytes: two reply packets");
	receive();
	cr_assert_eq(data_responses(), 1);
	assert_in_order(2);
	forget_responses();
}

Test(gateway_ipr, a_packed_bundle_waits_for_surbs_and_asks_for_them)
{
	/* Six SURBs: CONNECT's answer and a SURB_REQUEST take two. */
	struct ipr_addr_pair ips = connect_zero_timeout(6);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 4);
	/* Past the 1 s before asking again, eleven packets in one read (eight full reply packets). */
	for (int i = 0; i < 11; i++) {
		uint8_t pkt[1420];
		gateway_ipr_engine_tun(ipf.eng, pkt, tun_packet(pkt, &ips, 1420, i), 1100 * MS);
	}
	gateway_ipr_engine_tun_drained(ipf.eng, 1100 * MS);
	/* The bundle needs eight SURBs: SURB_REQUEST goes with one of the four, the bundle waits. */
	cr_assert_eq(ipf.n_inj, 1);
	receive();
	cr_assert_eq(n_resp, 1);
	cr_assert_eq(resp[0].kind, IPR_RESP_SURB_REQUEST);
	forget_responses();
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 3);
	send_with_surbs(IPR_REQ_SURBS, 40, 1200 * MS); /* enough not to ask again */
	cr_assert_eq(ipf.n_inj, 1 + 8);
	receive();
	cr_assert_eq(data_responses(), 1);
	assert_in_order(11);
	cr_assert_eq(gateway_ipr_engine_client_surbs(ipf.eng, ipf.tag), 3 + 40 - 8);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	cr_assert_eq(st.responses_dropped, 0);
	forget_responses();
}
