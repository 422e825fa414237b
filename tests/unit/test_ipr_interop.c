/* The client side of the IP packet router (lib/client/client_ipr) against the router's
 * engine (lib/gateway/gateway_ipr): the client's requests sealed to the router as its mixnet
 * client would, the router's reply packets walked through real SURB routes and opened as the
 * client opens them. A download of 2000 packets must arrive whole and in order on the
 * client's stock of SURBs and the router's SURB requests. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_ipr.h"
#include "gateway/gateway_ipr.h"
#include "ipr/ipr_packet.h"

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

TestSuite(ipr_interop, .init = setup, .fini = teardown);


static struct client_ipr *cli;
static uint8_t *got[IPRFIX_MAX_OUT];
static size_t got_len[IPRFIX_MAX_OUT], n_got;
static uint64_t clock_ns = 1;

static int c_send(void *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	(void)ctx;
	iprfix_send_raw(msg, len, MIX_MESSAGE_REPLIABLE, now);
	return 0;
}

static int c_send_unacked(void *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	(void)ctx;
	cr_assert_leq(len + 2, 1990, "a SURB top-up fits one unacknowledged packet");
	iprfix_send_raw_unacked(msg, len, MIX_MESSAGE_REPLIABLE, now);
	return 0;
}

static int c_surbs(void *ctx, size_t n, uint8_t *out, size_t cap, size_t *surb_len, uint64_t now)
{
	(void)ctx, (void)now;
	cr_assert_leq(n * IPRFIX_SURB_LEN, cap);
	uint8_t *s = iprfix_make_surbs(n);
	memcpy(out, s, n * IPRFIX_SURB_LEN);
	free(s);
	*surb_len = IPRFIX_SURB_LEN;
	return 0;
}

static void c_deliver(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	cr_assert_lt(n_got, IPRFIX_MAX_OUT);
	got[n_got] = malloc(len);
	memcpy(got[n_got], p, len);
	got_len[n_got++] = len;
}

/* Carries the engine's reply packets to the client. */
static void pump(void)
{
	while (ipf.inj_seen < ipf.n_inj) {
		uint8_t *data;
		size_t len;
		if (!iprfix_take_reply(&data, &len))
			continue;
		cr_assert_eq(client_ipr_on_message(cli, data + 1, len, clock_ns, clock_ns / 1000000), 0);
		free(data);
	}
}

static void step(uint64_t ns)
{
	clock_ns += ns;
	client_ipr_poll(cli, clock_ns, clock_ns / 1000000);
	gateway_ipr_engine_tick(ipf.eng, clock_ns);
	pump();
}

Test(ipr_interop, client_ipr_against_the_router)
{
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	struct client_ipr_hooks h = { NULL, c_send, c_surbs, c_deliver, c_send_unacked };
	cr_assert_eq(client_ipr_new(&cfg, &h, NULL, &cli), 0);
	cr_assert_eq(client_ipr_connect(cli, clock_ns, 1), 0);
	pump();
	cr_assert_eq(client_ipr_state(cli), CLIENT_IPR_CONNECTED);
	struct ipr_addr_pair ips;
	cr_assert_eq(client_ipr_addresses(cli, &ips), 0);

	/* Upstream: 50 SYNs to port 80, bundled by the client. */
	for (int i = 0; i < 50; i++) {
		uint8_t pkt[64];
		size_t n = iprfix_make_v4(pkt, ips.v4, "192.0.2.10", 6, 80, 0);
		cr_assert_eq(client_ipr_send_packet(cli, pkt, n, clock_ns), 0);
	}
	step(10 * MS);
	cr_assert_eq(ipf.n_tun, 50);

	/* Downstream: 2000 packets of 1400 bytes, 20 every millisecond. */
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	for (int i = 0; i < 2000; i++) {
		uint8_t pkt[1400];
		size_t n = iprfix_make_v4(pkt, from, dst, 17, 5000, 1400 - 28);
		pkt[40] = (uint8_t)i;
		pkt[41] = (uint8_t)(i >> 8);
		gateway_ipr_engine_tun(ipf.eng, pkt, n, clock_ns);
		if (i % 20 == 19)
			step(1 * MS);
	}
	for (int i = 0; i < 2000 && n_got < 2000; i++)
		step(1 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	struct client_ipr_stats cs;
	client_ipr_get_stats(cli, &cs);
	cr_assert_eq(st.responses_dropped, 0);
	cr_assert_eq(st.surbs_dropped, 0);
	cr_assert_eq(cs.malformed_responses, 0);
	cr_assert_eq(n_got, 2000);
	cr_assert_gt(ipf.unacked_sent, 0, "the SURB top-ups went unacknowledged");
	cr_assert_eq(cs.unacked_requests, ipf.unacked_sent);
	for (size_t i = 0; i < n_got; i++)
		cr_assert_eq(got[i][40] | got[i][41] << 8, (int)i, "in order");
	for (size_t i = 0; i < n_got; i++)
		free(got[i]);
	client_ipr_free(cli);
}

/* A TUN with MTU 1500: full-size packets both ways, alone and mixed with small ones, arrive
 * whole (upstream a 1500-byte packet is one bundle of its own that spans two Sphinx packets;
 * downstream bundles of several of them span up to eight). */
Test(ipr_interop, mtu_1500_both_ways)
{
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	struct client_ipr_hooks h = { NULL, c_send, c_surbs, c_deliver, NULL };
	cr_assert_eq(client_ipr_new(&cfg, &h, NULL, &cli), 0);
	cr_assert_eq(client_ipr_connect(cli, clock_ns, 1), 0);
	pump();
	cr_assert_eq(client_ipr_state(cli), CLIENT_IPR_CONNECTED);
	struct ipr_addr_pair ips;
	cr_assert_eq(client_ipr_addresses(cli, &ips), 0);

	/* Upstream: 1500-byte TCP packets to port 80, each after a 100-byte one. */
	size_t up_len[40];
	for (int i = 0; i < 40; i++) {
		uint8_t pkt[1500];
		size_t want = i % 2 ? 1500 : 100;
		size_t n = iprfix_make_v4(pkt, ips.v4, "192.0.2.10", 6, 80, want - 40);
		cr_assert_eq(n, want);
		pkt[n - 1] = (uint8_t)i;
		up_len[i] = n;
		cr_assert_eq(client_ipr_send_packet(cli, pkt, n, clock_ns), 0, "packet %d (%zu bytes)", i, n);
	}
	step(10 * MS);
	cr_assert_eq(ipf.n_tun, 40);
	for (size_t i = 0; i < ipf.n_tun; i++) {
		cr_assert_eq(ipf.tun_len[i], up_len[i], "upstream packet %zu", i);
		cr_assert_eq(ipf.tun_out[i][ipf.tun_len[i] - 1], (uint8_t)i);
	}

	/* Downstream: 300 UDP packets of 1500 bytes, 10 every millisecond. */
	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	uint8_t sent[1500];
	for (int i = 0; i < 300; i++) {
		uint8_t pkt[1500];
		size_t n = iprfix_make_v4(pkt, from, dst, 17, 5000, 1500 - 28);
		cr_assert_eq(n, 1500);
		pkt[40] = (uint8_t)i;
		pkt[41] = (uint8_t)(i >> 8);
		pkt[1499] = 0xa5;
		if (i == 0)
			memcpy(sent, pkt, n);
		gateway_ipr_engine_tun(ipf.eng, pkt, n, clock_ns);
		if (i % 10 == 9)
			step(1 * MS);
	}
	for (int i = 0; i < 2000 && n_got < 300; i++)
		step(1 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	struct client_ipr_stats cs;
	client_ipr_get_stats(cli, &cs);
	cr_assert_eq(st.responses_dropped, 0);
	cr_assert_eq(cs.malformed_responses, 0);
	cr_assert_eq(n_got, 300);
	cr_assert_eq(memcmp(got[0], sent, 1500), 0);
	for (size_t i = 0; i < n_got; i++) {
		cr_assert_eq(got_len[i], 1500);
		cr_assert_eq(got[i][40] | got[i][41] << 8, (int)i, "in order");
		cr_assert_eq(got[i][1499], 0xa5);
	}
	for (size_t i = 0; i < n_got; i++)
		free(got[i]);
	client_ipr_free(cli);
}

/* The probe's no-delay mode: the client asks for a zero buffer timeout, the router packs each
 * TUN read batch of 1420-byte packets into full reply packets (multi-fragment replies), and
 * the client's estimate of the router's SURB stock stays exact (one SURB per fragment). */
Test(ipr_interop, zero_timeout_packed_download)
{
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.ipr_buffer_timeout_ms = 0;
	struct client_ipr_hooks h = { NULL, c_send, c_surbs, c_deliver, NULL };
	cr_assert_eq(client_ipr_new(&cfg, &h, NULL, &cli), 0);
	cr_assert_eq(client_ipr_connect(cli, clock_ns, 1), 0);
	pump();
	cr_assert_eq(client_ipr_state(cli), CLIENT_IPR_CONNECTED);
	struct ipr_addr_pair ips;
	cr_assert_eq(client_ipr_addresses(cli, &ips), 0);

	uint8_t from[4] = { 192, 0, 2, 10 };
	char dst[32];
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ips.v4[0], ips.v4[1], ips.v4[2], ips.v4[3]);
	/* 1000 packets in read batches of 1 to 13. */
	int sent = 0, batch = 1;
	while (sent < 1000) {
		for (int k = 0; k < batch && sent < 1000; k++, sent++) {
			uint8_t pkt[1420];
			size_t n = iprfix_make_v4(pkt, from, dst, 6, 80, 1420 - 40);
			pkt[40] = (uint8_t)sent;
			pkt[41] = (uint8_t)(sent >> 8);
			gateway_ipr_engine_tun(ipf.eng, pkt, n, clock_ns);
		}
		gateway_ipr_engine_tun_drained(ipf.eng, clock_ns);
		batch = batch % 13 + 1;
		step(1 * MS);
	}
	for (int i = 0; i < 2000 && n_got < 1000; i++)
		step(1 * MS);
	struct gateway_ipr_stats st;
	gateway_ipr_engine_get_stats(ipf.eng, &st);
	struct client_ipr_stats cs;
	client_ipr_get_stats(cli, &cs);
	cr_assert_eq(st.responses_dropped, 0);
	cr_assert_eq(cs.malformed_responses, 0);
	cr_assert_eq(n_got, 1000);
	for (size_t i = 0; i < n_got; i++) {
		cr_assert_eq(got_len[i], 1420);
		cr_assert_eq(got[i][40] | got[i][41] << 8, (int)i, "in order");
	}
	/* Fewer reply packets than IP packets, and the client's estimate is the router's stock. */
	cr_assert_lt(st.reply_packets, 1000 - 50);
	/* The router's stock: SURBs received less reply packets sent (none dropped or expired). */
	cr_assert_eq(st.surbs_received, cs.surbs_sent);
	cr_assert_eq(st.surbs_dropped + st.surbs_expired, 0);
	cr_assert_eq(cs.surb_stock, (int64_t)(st.surbs_received - st.reply_packets));
	for (size_t i = 0; i < n_got; i++)
		free(got[i]);
	client_ipr_free(cli);
}
