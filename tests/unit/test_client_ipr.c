/* The client side of the IP packet router (lib/client/client_ipr) against the lib/ipr formats:
 * every request it sends is decoded with ipr_request_decode, every response it reads is
 * written with ipr_response_encode. The engine is replaced by hooks that record. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_ipr.h"
#include "crypto/secret.h"
#include "ipr/ipr_bundle.h"
#include "ipr/ipr_msg.h"
#include "mix/mix_fragment.h"

#define MS 1000000ull
#define SURB_LEN 460
#define MAX_SENT 64

struct rec {
	uint8_t *msgs[MAX_SENT];
	size_t lens[MAX_SENT];
	size_t n;
	int fail_send; /* error the send hook returns, 0 for success */
	uint8_t delivered[8][2048];
	size_t delivered_len[8];
	size_t n_delivered;
	size_t surbs_made, make_calls;
	bool unacked[MAX_SENT]; /* sent through send_unacked */
};

static int rec_send(void *ctx, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	(void)now_ns;
	struct rec *r = ctx;
	if (r->fail_send)
		return r->fail_send;
	cr_assert_lt(r->n, MAX_SENT);
	r->msgs[r->n] = malloc(len);
	memcpy(r->msgs[r->n], msg, len);
	r->lens[r->n++] = len;
	return 0;
}

static int rec_send_unacked(void *ctx, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct rec *r = ctx;
	int rc = rec_send(ctx, msg, len, now_ns);
	if (rc == 0)
		r->unacked[r->n - 1] = true;
	return rc;
}

static int rec_surbs(void *ctx, size_t n, uint8_t *out, size_t cap, size_t *surb_len, uint64_t now_ns)
{
	(void)now_ns;
	struct rec *r = ctx;
	cr_assert_geq(cap, n * SURB_LEN);
	for (size_t i = 0; i < n; i++)
		memset(out + i * SURB_LEN, (int)(r->surbs_made + i + 1), SURB_LEN);
	r->surbs_made += n;
	r->make_calls++;
	*surb_len = SURB_LEN;
	return 0;
}

static void rec_deliver(void *ctx, const uint8_t *p, size_t len)
{
	struct rec *r = ctx;
	cr_assert_lt(r->n_delivered, 8);
	memcpy(r->delivered[r->n_delivered], p, len);
	r->delivered_len[r->n_delivered++] = len;
}

static void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->msgs[i]);
	memset(r, 0, sizeof(*r));
}

static struct client_ipr *make(struct rec *r, struct client_ipr_config *cfg)
{
	struct client_ipr_hooks h = { .ctx = r, .send = rec_send, .make_surbs = rec_surbs, .deliver = rec_deliver };
	struct client_ipr *c = NULL;
	cr_assert_eq(client_ipr_new(cfg, &h, NULL, &c), 0);
	return c;
}

static struct client_ipr *make_unacked(struct rec *r, struct client_ipr_config *cfg)
{
	struct client_ipr_hooks h = { .ctx = r, .send = rec_send, .make_surbs = rec_surbs, .deliver = rec_deliver,
				      .send_unacked = rec_send_unacked };
	struct client_ipr *c = NULL;
	cr_assert_eq(client_ipr_new(cfg, &h, NULL, &c), 0);
	return c;
}

static void decode_sent(struct rec *r, size_t i, struct ipr_request *q)
{
	cr_assert_lt(i, r->n);
	cr_assert_eq(ipr_request_decode(r->msgs[i], r->lens[i], q), 0);
}

static int respond(struct client_ipr *c, const struct ipr_response *resp, uint64_t now)
{
	uint8_t buf[4096];
	size_t n;
	cr_assert_eq(ipr_response_encode(resp, buf, sizeof(buf), &n), 0);
	return client_ipr_on_message(c, buf, n, now, 1000);
}

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(client_ipr, .init = setup);

Test(client_ipr, bundle_limit_fills_one_packet)
{
	size_t per = 0;
	cr_assert_eq(mix_fragment_plaintext_per_packet(MIX_PACKET_SIZE_REGULAR, &per), 0);
	/* A DATA request with a full bundle, as a NymMessage (type byte, padding marker), is
	 * exactly one unlinked fragment's data. */
	cr_assert_eq(client_ipr_bundle_limit() + IPR_REQUEST_FIXED_LEN + 2, mix_fragment_unlinked_capacity(per));
	cr_assert_eq(client_ipr_bundle_limit(), 1581);
	size_t padded, frags;
	cr_assert_eq(mix_fragment_message_layout(1 + IPR_REQUEST_FIXED_LEN + client_ipr_bundle_limit(), per, &padded,
						 &frags),
		     0);
	cr_assert_eq(frags, 1);
}

static struct client_ipr *connected(struct rec *r, struct client_ipr_config *cfg, struct ipr_request *connect_req)
{
	struct client_ipr *c = make(r, cfg);
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_IDLE);
	cr_assert_eq(client_ipr_connect(c, 0, 5000), 0);
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_CONNECTING);
	cr_assert_eq(r->n, 1);
	decode_sent(r, 0, connect_req);
	struct ipr_response resp = { .kind = IPR_RESP_CONNECT, .request_id = connect_req->request_id,
				     .reply = IPR_CONNECT_SUCCESS };
	cr_assert_eq(ipr_addr_from_index(0x0102, &resp.ips), 0);
	cr_assert_eq(respond(c, &resp, 1 * MS), 0);
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_CONNECTED);
	return c;
}

Test(client_ipr, connect_carries_tag_surbs_and_gets_pair)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 5;
	cfg.surb_low_water = 0;
	cfg.ipr_buffer_timeout_ms = 20;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	cr_assert_eq(q.kind, IPR_REQ_CONNECT);
	cr_assert_eq(q.timestamp_ms, 5000);
	cr_assert(q.has_buffer_timeout);
	cr_assert_eq(q.buffer_timeout_ms, 20);
	cr_assert_eq(q.surb_count, 5);
	cr_assert_eq(q.surb_len, SURB_LEN);
	cr_assert_eq(ipr_request_surb(&q, 4)[0], 5);
	static const uint8_t zero[IPR_SENDER_TAG_LEN] = { 0 };
	cr_assert_neq(memcmp(q.sender_tag, zero, sizeof(zero)), 0);
	struct ipr_addr_pair ips;
	cr_assert_eq(client_ipr_addresses(c, &ips), 0);
	static const uint8_t v4[4] = { 10, 0, 1, 2 };
	cr_assert_arr_eq(ips.v4, v4, 4);
	cr_assert_eq(ips.v6[0], 0xfc);
	cr_assert_eq(ips.v6[15], 0x02);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surbs_sent, 5);
	/* The CONNECT answer came through one SURB. */
	cr_assert_eq(st.surb_stock, 4);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, connect_retries_with_a_new_tag_and_ignores_stale_answers)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 2;
	struct client_ipr *c = make(&r, &cfg);
	cr_assert_eq(client_ipr_connect(c, 0, 0), 0);
	cr_assert_eq(client_ipr_next_due(c), cfg.connect_retry_ns);
	client_ipr_poll(c, cfg.connect_retry_ns, 10000);
	cr_assert_eq(r.n, 2);
	struct ipr_request q1, q2;
	decode_sent(&r, 0, &q1);
	decode_sent(&r, 1, &q2);
	cr_assert_eq(q2.kind, IPR_REQ_CONNECT);
	cr_assert_not(q2.has_buffer_timeout); /* the default: the IPR's own */
	cr_assert_neq(memcmp(q1.sender_tag, q2.sender_tag, IPR_SENDER_TAG_LEN), 0);
	cr_assert_neq(q1.request_id, q2.request_id);
	/* The first attempt's answer is ignored. */
	struct ipr_response resp = { .kind = IPR_RESP_CONNECT, .request_id = q1.request_id, .reply = 0 };
	cr_assert_eq(respond(c, &resp, 1), 0);
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_CONNECTING);
	resp.request_id = q2.request_id;
	resp.reply = IPR_CONNECT_NO_AVAILABLE_IP;
	cr_assert_eq(respond(c, &resp, 2), 0);
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_FAILED);
	cr_assert(strstr(client_ipr_last_error(c), "no available IP"));
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, packets_bundle_until_full_or_timeout)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 1;
	cfg.surb_low_water = 0;
	cfg.keepalive_ns = 0;
	cfg.surb_starve_ns = 0;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	uint8_t pkt[1500];
	memset(pkt, 0x45, sizeof(pkt));
	/* Not connected packets are refused before; now two small ones wait for the timer. */
	cr_assert_eq(client_ipr_send_packet(c, pkt, 100, 10 * MS), 0);
	cr_assert_eq(client_ipr_send_packet(c, pkt, 200, 11 * MS), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(client_ipr_next_due(c), 10 * MS + cfg.buffer_timeout_ns);
	client_ipr_poll(c, 10 * MS + cfg.buffer_timeout_ns, 0);
	cr_assert_eq(r.n, 2);
	decode_sent(&r, 1, &q);
	cr_assert_eq(q.kind, IPR_REQ_DATA);
	cr_assert_eq(q.surb_count, 0);
	size_t count;
	cr_assert_eq(ipr_bundle_validate(q.bundle.p, q.bundle.len, &count), 0);
	cr_assert_eq(count, 2);
	cr_assert_eq(client_ipr_next_due(c), UINT64_MAX);
	/* 1500 + 2 then 77 + 2 fills 1581 exactly: sent at once. */
	cr_assert_eq(client_ipr_send_packet(c, pkt, 1500, 20 * MS), 0);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(client_ipr_send_packet(c, pkt, 77, 20 * MS), 0);
	cr_assert_eq(r.n, 3);
	decode_sent(&r, 2, &q);
	cr_assert_eq(q.bundle.len, client_ipr_bundle_limit());
	/* A packet that does not fit sends the bundle before it. */
	cr_assert_eq(client_ipr_send_packet(c, pkt, 1000, 30 * MS), 0);
	cr_assert_eq(client_ipr_send_packet(c, pkt, 1000, 30 * MS), 0);
	cr_assert_eq(r.n, 4);
	decode_sent(&r, 3, &q);
	cr_assert_eq(q.bundle.len, 1002);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.packets_sent, 5);
	cr_assert_eq(st.bundles_sent, 3);
	/* An explicit flush sends a partial bundle at once. */
	cr_assert_eq(client_ipr_send_packet(c, pkt, 60, 40 * MS), 0);
	cr_assert_eq(r.n, 4);
	client_ipr_flush(c, 40 * MS);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(client_ipr_next_due(c), UINT64_MAX);
	client_ipr_flush(c, 41 * MS);
	cr_assert_eq(r.n, 5);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, data_responses_deliver_packets)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.surb_low_water = 0;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	uint8_t bundle[64];
	struct ipr_bundle_builder b;
	cr_assert_eq(ipr_bundle_init(&b, bundle, sizeof(bundle), sizeof(bundle)), 0);
	static const uint8_t p1[] = { 0x45, 1, 2 }, p2[] = { 0x60, 9 };
	cr_assert_eq(ipr_bundle_add(&b, p1, sizeof(p1)), 0);
	cr_assert_eq(ipr_bundle_add(&b, p2, sizeof(p2)), 0);
	struct ipr_response resp = { .kind = IPR_RESP_DATA, .bundle = { bundle, b.len } };
	cr_assert_eq(respond(c, &resp, 5 * MS), 0);
	cr_assert_eq(r.n_delivered, 2);
	cr_assert_eq(r.delivered_len[0], 3);
	cr_assert_arr_eq(r.delivered[1], p2, 2);
	/* Garbage is counted, not delivered. */
	static const uint8_t junk[] = { 0x88, 0x00, 0x00, 0x05, 1 };
	cr_assert_eq(client_ipr_on_message(c, junk, sizeof(junk), 6 * MS, 0), -EBADMSG);
	static const uint8_t nym8[] = { 0x08, 0x00 };
	cr_assert_eq(client_ipr_on_message(c, nym8, sizeof(nym8), 6 * MS, 0), -EPROTONOSUPPORT);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.malformed_responses, 2);
	cr_assert_eq(st.packets_received, 2);
	cr_assert_eq(r.n_delivered, 2);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, surb_request_and_proactive_top_up)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 10;
	cfg.surb_low_water = 8;
	cfg.surb_batch = 6;
	cfg.max_surbs_per_request = 4;
	cfg.keepalive_ns = 0;
	cfg.surb_starve_ns = 0;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	/* 9 left: nothing to do. */
	cr_assert_eq(client_ipr_next_due(c), UINT64_MAX);
	/* Two replies take the estimate under 8: a top-up of 6 in requests of 4 and 2. */
	struct ipr_response pong = { .kind = IPR_RESP_PONG, .request_id = 7 };
	cr_assert_eq(respond(c, &pong, 2 * MS), 0);
	cr_assert_eq(respond(c, &pong, 2 * MS), 0);
	cr_assert_eq(client_ipr_next_due(c), 0);
	client_ipr_poll(c, 3 * MS, 0);
	cr_assert_eq(r.n, 3);
	decode_sent(&r, 1, &q);
	cr_assert_eq(q.kind, IPR_REQ_SURBS);
	cr_assert_eq(q.surb_count, 4);
	decode_sent(&r, 2, &q);
	cr_assert_eq(q.surb_count, 2);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, 13);
	cr_assert_eq(st.pongs, 2);
	/* The IPR asks for 5: sent at once, and the estimate is corrected. */
	struct ipr_response ask = { .kind = IPR_RESP_SURB_REQUEST, .amount = 5 };
	cr_assert_eq(respond(c, &ask, 4 * MS), 0);
	cr_assert_eq(r.n, 5);
	decode_sent(&r, 4, &q);
	cr_assert_eq(q.surb_count, 1);
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, 5);
	cr_assert_eq(st.surb_requests, 1);
	/* Under the low water again: topped up on the next poll. */
	client_ipr_poll(c, 5 * MS, 0);
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, 11);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, failed_sends_back_off_and_drop_data)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 1;
	cfg.surb_low_water = 4;
	cfg.keepalive_ns = 0;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	r.fail_send = -ENOBUFS;
	client_ipr_poll(c, 2 * MS, 0);
	/* The top-up failed: retried later, not spun on. */
	cr_assert_gt(client_ipr_next_due(c), 2 * MS);
	uint8_t pkt[1400] = { 0x45 };
	cr_assert_eq(client_ipr_send_packet(c, pkt, sizeof(pkt), 3 * MS), 0);
	cr_assert_eq(client_ipr_send_packet(c, pkt, sizeof(pkt), 3 * MS), 0);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.packets_dropped, 1);
	cr_assert_geq(st.send_failures, 2);
	r.fail_send = 0;
	client_ipr_poll(c, 100 * MS, 0);
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.packets_sent, 1);
	cr_assert_geq(st.surb_stock, 4);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, unrequested_disconnect_and_info)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.surb_low_water = 0;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	static const char text[] = "exit policy: 192.0.2.1:25 refused";
	struct ipr_response info = { .kind = IPR_RESP_INFO, .request_id = 0, .code = IPR_INFO_EXIT_POLICY,
				     .level = IPR_LEVEL_WARN, .text = { (const uint8_t *)text, sizeof(text) - 1 } };
	cr_assert_eq(respond(c, &info, 2 * MS), 0);
	cr_assert(strstr(client_ipr_last_error(c), "192.0.2.1:25"));
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_CONNECTED);
	struct ipr_response bye = { .kind = IPR_RESP_UNREQUESTED_DISCONNECT, .reason = IPR_UNREQUESTED_MIXNET_TIMEOUT };
	cr_assert_eq(respond(c, &bye, 3 * MS), 0);
	cr_assert_eq(client_ipr_state(c), CLIENT_IPR_FAILED);
	cr_assert(strstr(client_ipr_last_error(c), "mixnet traffic timeout"));
	uint8_t pkt[20] = { 0x45 };
	cr_assert_eq(client_ipr_send_packet(c, pkt, sizeof(pkt), 4 * MS), -ENOTCONN);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, starvation_sends_surbs_whatever_the_estimate)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 50;
	cfg.surb_low_water = 5;
	cfg.surb_batch = 7;
	cfg.keepalive_ns = 0;
	cfg.surb_starve_ns = 1000 * MS;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	uint8_t pkt[100] = { 0x45 };
	cr_assert_eq(client_ipr_send_packet(c, pkt, sizeof(pkt), 10 * MS), 0);
	client_ipr_flush(c, 10 * MS);
	cr_assert_eq(r.n, 2);
	/* No answer for a second since the CONNECT answer (at 1 ms): 7 SURBs go although the
	 * estimate says 49. */
	cr_assert_eq(client_ipr_next_due(c), 1001 * MS);
	client_ipr_poll(c, 1010 * MS, 0);
	cr_assert_eq(r.n, 3);
	decode_sent(&r, 2, &q);
	cr_assert_eq(q.kind, IPR_REQ_SURBS);
	cr_assert_eq(q.surb_count, 7);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.starvations, 1);
	cr_assert_eq(st.surb_stock, 7);
	/* Then after two seconds, not one. */
	cr_assert_eq(client_ipr_next_due(c), 3010 * MS);
	client_ipr_poll(c, 2500 * MS, 0);
	cr_assert_eq(r.n, 3);
	client_ipr_poll(c, 3010 * MS, 0);
	cr_assert_eq(r.n, 4);
	/* An answer starts the wait again at one second. */
	struct ipr_response pong = { .kind = IPR_RESP_PONG, .request_id = 1 };
	cr_assert_eq(respond(c, &pong, 3100 * MS), 0);
	cr_assert_eq(client_ipr_next_due(c), 4100 * MS);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, keepalive_ping)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.surb_low_water = 0;
	cfg.keepalive_ns = 100 * MS;
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	cr_assert_eq(client_ipr_next_due(c), 100 * MS);
	client_ipr_poll(c, 100 * MS, 77);
	cr_assert_eq(r.n, 2);
	decode_sent(&r, 1, &q);
	cr_assert_eq(q.kind, IPR_REQ_PING);
	cr_assert_eq(q.timestamp_ms, 77);
	cr_assert_eq(client_ipr_next_due(c), 200 * MS);
	client_ipr_free(c);
	rec_free(&r);
}

/* A reply message takes one SURB per fragment of its layout (type byte, body, padding
 * marker; the IPR's replies are unacknowledged, 1990 data bytes per unlinked fragment):
 * 15918 bytes fill eight, 15919 take nine. */
Test(client_ipr, stock_estimate_counts_the_fragments_of_a_reply)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	int64_t before = st.surb_stock;
	static uint8_t body[15919];
	memset(body, 0, sizeof(body));
	client_ipr_on_message(c, body, 15918, 2 * MS, 1000); /* malformed: still counted */
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, before - 8);
	client_ipr_on_message(c, body, 15919, 2 * MS, 1000);
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, before - 8 - 9);
	client_ipr_free(c);
	rec_free(&r);
}

Test(client_ipr, a_key_rotation_tops_the_stock_up_with_new_surbs)
{
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	struct ipr_request q;
	struct client_ipr *c = connected(&r, &cfg, &q);
	/* CONNECT's 200 SURBs, less the answer's: above the low water (150), nothing to send. */
	client_ipr_poll(c, 2 * MS, 1000);
	cr_assert_eq(r.n, 1);
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, 199);
	/* The keys rotate: the IPR's 199 die with the old keys, so the next poll sends a batch. */
	client_ipr_keys_rotated(c);
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surb_stock, 0);
	cr_assert_eq(st.keys_rotations, 1);
	client_ipr_poll(c, 3 * MS, 1000);
	cr_assert_gt(r.n, 1);
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.surbs_sent, 200 + cfg.surb_batch);
	cr_assert_eq(st.surb_stock, (int64_t)cfg.surb_batch);
	for (size_t i = 1; i < r.n; i++) {
		decode_sent(&r, i, &q);
		cr_assert_eq(q.kind, IPR_REQ_SURBS);
	}
	client_ipr_free(c);
	rec_free(&r);
}

/* SURB top-ups go as unacknowledged requests that each fit one packet: 4 SURBs of 460 bytes
 * (1990 data bytes - 2 - 23 = 1965 = 4 x 460 + 125). CONNECT and DATA stay acknowledged. */
Test(client_ipr, surb_top_ups_go_unacknowledged_four_a_packet)
{
	cr_assert_eq(client_ipr_surbs_per_unacked_request(460), 4);
	cr_assert_eq(client_ipr_surbs_per_unacked_request(1965), 1);
	cr_assert_eq(client_ipr_surbs_per_unacked_request(1966), 0);
	cr_assert_eq(client_ipr_surbs_per_unacked_request(0), 0);
	struct rec r = { 0 };
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.keepalive_ns = 0;
	struct client_ipr *c = make_unacked(&r, &cfg);
	cr_assert_eq(client_ipr_connect(c, 0, 5000), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_not(r.unacked[0], "CONNECT (200 SURBs) is acknowledged");
	struct ipr_request q;
	decode_sent(&r, 0, &q);
	struct ipr_response resp = { .kind = IPR_RESP_CONNECT, .request_id = q.request_id, .reply = IPR_CONNECT_SUCCESS };
	cr_assert_eq(ipr_addr_from_index(0x0102, &resp.ips), 0);
	cr_assert_eq(respond(c, &resp, 1 * MS), 0);
	/* The IPR asks for 100: 25 single-packet requests of 4. */
	struct ipr_response ask = { .kind = IPR_RESP_SURB_REQUEST, .amount = 100 };
	cr_assert_eq(respond(c, &ask, 2 * MS), 0);
	cr_assert_eq(r.n, 1 + 25);
	/* Made in one go (CONNECT's and then these), so their curve operations fill the lanes. */
	cr_assert_eq(r.make_calls, 2);
	size_t per = 0;
	cr_assert_eq(mix_fragment_plaintext_per_packet_unacked(MIX_PACKET_SIZE_REGULAR, &per), 0);
	cr_assert_eq(per, 1997);
	for (size_t i = 1; i < r.n; i++) {
		cr_assert(r.unacked[i]);
		decode_sent(&r, i, &q);
		cr_assert_eq(q.kind, IPR_REQ_SURBS);
		cr_assert_eq(q.surb_count, 4);
		cr_assert_eq(q.surbs[0], (uint8_t)(200 + 4 * (i - 1) + 1), "request %zu: the next four, in order", i);
		cr_assert_eq(q.surbs[3 * SURB_LEN], (uint8_t)(200 + 4 * (i - 1) + 4));
		size_t padded, frags;
		cr_assert_eq(mix_fragment_message_layout(1 + r.lens[i], per, &padded, &frags), 0);
		cr_assert_eq(frags, 1, "one packet");
	}
	struct client_ipr_stats st;
	client_ipr_get_stats(c, &st);
	cr_assert_eq(st.unacked_requests, 25);
	cr_assert_eq(st.surbs_sent, 300);
	/* DATA stays acknowledged. */
	uint8_t pkt[100] = { 0x45 };
	cr_assert_eq(client_ipr_send_packet(c, pkt, sizeof(pkt), 3 * MS), 0);
	client_ipr_flush(c, 3 * MS);
	cr_assert_eq(r.n, 27);
	cr_assert_not(r.unacked[26]);
	/* acked_surb_topups: the old requests of max_surbs_per_request. */
	client_ipr_free(c);
	rec_free(&r);
	cfg.acked_surb_topups = true;
	c = make_unacked(&r, &cfg);
	cr_assert_eq(client_ipr_connect(c, 0, 5000), 0);
	decode_sent(&r, 0, &q);
	resp.request_id = q.request_id;
	cr_assert_eq(respond(c, &resp, 1 * MS), 0);
	cr_assert_eq(respond(c, &ask, 2 * MS), 0);
	cr_assert_eq(r.n, 2);
	cr_assert_not(r.unacked[1]);
	decode_sent(&r, 1, &q);
	cr_assert_eq(q.surb_count, 100);
	client_ipr_free(c);
	rec_free(&r);
}
