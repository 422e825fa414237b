/* WireGuard registration over the client link: the frames (lib/link/link_wg, byte for byte),
 * the MAC, and the client's state machine (lib/client/client_wg_register) against the
 * gateway's engine (lib/gateway/gateway_wg) in one process, tickets spent through a real
 * ticket store and the crash-safe credit of gateway_clients. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "client/client_wg_register.h"
#include "credstore/ticket_store.h"
#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "gateway/gateway_clients.h"
#include "gateway/gateway_wg.h"
#include "link/link_msg.h"
#include "link/link_wg.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(wg_frames, .init = setup);

static void keypair(struct nym_x25519_keypair *kp, uint8_t seed)
{
	memset(kp->secret, seed, sizeof(kp->secret));
	nym_x25519_public(kp->public_key, kp->secret);
}

/* Encodes m, decodes it back as the other side reads it. */
static size_t roundtrip(const struct link_msg *m, enum link_side from, uint8_t *frame, size_t cap,
			struct link_msg *back)
{
	size_t n;
	cr_assert_eq(link_msg_encode(m, frame, cap, &n), 0);
	struct link_frame_decoder *d = malloc(sizeof(*d));
	struct link_frame f;
	link_frame_decoder_init(d, from);
	cr_assert_eq(link_frame_decoder_feed(d, frame, n), 0);
	cr_assert_eq(link_frame_decoder_next(d, &f), 0);
	cr_assert_eq(link_msg_decode(&f, from, back), 0);
	free(d);
	return n;
}

Test(wg_frames, init_and_query_bytes)
{
	struct link_msg m = { .type = LINK_MSG_WG_INIT }, back;
	uint8_t frame[64];
	for (int i = 0; i < 32; i++)
		m.wg_key[i] = (uint8_t)i;
	size_t n = roundtrip(&m, LINK_FROM_CLIENT, frame, sizeof(frame), &back);
	cr_assert_eq(n, 36);
	static const uint8_t head[] = { 0x0c, 0x00, 0x00, 0x20, 0x00, 0x01 };
	cr_assert_arr_eq(frame, head, sizeof(head));
	cr_assert_arr_eq(back.wg_key, m.wg_key, 32);
	m.type = LINK_MSG_WG_QUERY;
	n = roundtrip(&m, LINK_FROM_CLIENT, frame, sizeof(frame), &back);
	cr_assert_eq(frame[0], 0x10);
	cr_assert_eq(back.type, LINK_MSG_WG_QUERY);
	/* The gateway may not send them. */
	struct link_frame_header h;
	cr_assert_eq(link_frame_header_decode(frame, n, LINK_FROM_GATEWAY, &h), -EINVAL);
}

Test(wg_frames, pending_bytes)
{
	struct link_msg m = { .type = LINK_MSG_WG_PENDING }, back;
	uint8_t frame[128];
	m.wg_pending.nonce = 0x0102030405060708ull;
	memset(m.wg_pending.gateway_key, 0xaa, 32);
	uint8_t v4[4] = { 10, 1, 0, 7 };
	memcpy(m.wg_pending.ips.v4, v4, 4);
	m.wg_pending.ips.v6[0] = 0xfc;
	m.wg_pending.ips.v6[1] = 0x01;
	m.wg_pending.ips.v6[15] = 7;
	m.wg_pending.port = 51822;
	memset(m.wg_pending.mac, 0x55, 32);
	size_t n = roundtrip(&m, LINK_FROM_GATEWAY, frame, sizeof(frame), &back);
	cr_assert_eq(n, 4 + 94);
	static const uint8_t head[] = { 0x0d, 0x00, 0x00, 0x5e, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa };
	cr_assert_arr_eq(frame, head, sizeof(head));
	cr_assert_arr_eq(frame + 4 + 40, v4, 4);
	cr_assert_eq(frame[4 + 44], 0xfc);
	cr_assert_eq(frame[4 + 59], 7);
	cr_assert_eq(frame[4 + 60], 0xca); /* 51822 = 0xca6e */
	cr_assert_eq(frame[4 + 61], 0x6e);
	cr_assert_eq(frame[4 + 62], 0x55);
	cr_assert_eq(back.wg_pending.nonce, m.wg_pending.nonce);
	cr_assert_eq(back.wg_pending.port, 51822);
	cr_assert_arr_eq(&back.wg_pending.ips, &m.wg_pending.ips, sizeof(m.wg_pending.ips));
	/* Port 0 is refused both ways. */
	m.wg_pending.port = 0;
	size_t w;
	cr_assert_eq(link_msg_encode(&m, frame, sizeof(frame), &w), -EINVAL);
	frame[4 + 60] = frame[4 + 61] = 0;
	struct link_frame f = { .header = { .type = 0x0d, .len = 94 }, .body = frame + 4, .body_len = 94 };
	cr_assert_eq(link_msg_decode(&f, LINK_FROM_GATEWAY, &back), -EINVAL);
}

Test(wg_frames, registered_and_bandwidth_bytes)
{
	struct link_msg m = { .type = LINK_MSG_WG_REGISTERED }, back;
	uint8_t frame[128];
	m.wg_registered.ips.v4[0] = 10;
	m.wg_registered.port = 1;
	memset(m.wg_registered.gateway_key, 0x11, 32);
	m.wg_registered.balance = 500000000;
	size_t n = roundtrip(&m, LINK_FROM_GATEWAY, frame, sizeof(frame), &back);
	cr_assert_eq(n, 4 + 62);
	cr_assert_eq(frame[3], 62);
	cr_assert_eq(frame[4], 10);
	cr_assert_eq(frame[4 + 21], 1);
	cr_assert_eq(frame[4 + 22], 0x11);
	static const uint8_t bal[] = { 0, 0, 0, 0, 0x1d, 0xcd, 0x65, 0x00 };
	cr_assert_arr_eq(frame + 4 + 54, bal, 8);
	cr_assert_eq(back.wg_registered.balance, 500000000);

	m = (struct link_msg){ .type = LINK_MSG_WG_BANDWIDTH };
	memset(m.wg_bandwidth.client_key, 3, 32);
	m.wg_bandwidth.registered = true;
	m.wg_bandwidth.balance = 7;
	n = roundtrip(&m, LINK_FROM_GATEWAY, frame, sizeof(frame), &back);
	cr_assert_eq(n, 4 + 41);
	cr_assert_eq(frame[4 + 32], 1);
	cr_assert_eq(frame[4 + 40], 7);
	cr_assert(back.wg_bandwidth.registered);
	frame[4 + 32] = 2;
	struct link_frame f = { .header = { .type = 0x11, .len = 41 }, .body = frame + 4, .body_len = 41 };
	cr_assert_eq(link_msg_decode(&f, LINK_FROM_GATEWAY, &back), -EINVAL);
}

static size_t fake_ticket(uint8_t *t, size_t k, enum nym_ticket_type type)
{
	memset(t, 0x5a, NYM_TICKET_PREPARED_LEN + k);
	t[32] = (uint8_t)type; /* after the 32-byte prefix: type, expiry, serial */
	memset(t + 33, 0, 8);
	return NYM_TICKET_PREPARED_LEN + k;
}

Test(wg_frames, final_and_topup)
{
	static uint8_t frame[1024], ticket[NYM_TICKET_MAX_LEN];
	struct link_msg m = { .type = LINK_MSG_WG_FINAL }, back;
	memset(m.wg_final.client_key, 9, 32);
	m.wg_final.nonce = 42;
	memset(m.wg_final.mac, 0x77, 32);
	/* without a ticket: 92 bytes */
	size_t n = roundtrip(&m, LINK_FROM_CLIENT, frame, sizeof(frame), &back);
	cr_assert_eq(n, 4 + 92);
	cr_assert_eq(frame[4 + 59], 42);
	cr_assert_eq(frame[4 + 60], 0x77);
	cr_assert_eq(back.wg_final.ticket_len, 0);
	cr_assert_null(back.wg_final.ticket);
	static const size_t ks[] = { 256, 384, 512 };
	for (size_t i = 0; i < 3; i++) {
		m.wg_final.ticket = ticket;
		m.wg_final.ticket_len = fake_ticket(ticket, ks[i], NYM_TICKET_WG_EXIT);
		n = roundtrip(&m, LINK_FROM_CLIENT, frame, sizeof(frame), &back);
		cr_assert_eq(n, 4 + 92 + 73 + ks[i]);
		cr_assert_eq(back.wg_final.ticket_len, 73 + ks[i]);
		cr_assert_arr_eq(back.wg_final.ticket, ticket, back.wg_final.ticket_len);
	}
	/* a ticket of another length or an unknown type is refused */
	m.wg_final.ticket_len = 73 + 300;
	cr_assert_eq(link_msg_encode(&m, frame, sizeof(frame), &n), -EMSGSIZE);
	m.wg_final.ticket_len = fake_ticket(ticket, 256, NYM_TICKET_WG_EXIT);
	ticket[32] = 9;
	cr_assert_eq(link_msg_encode(&m, frame, sizeof(frame), &n), -EINVAL);
	ticket[32] = NYM_TICKET_WG_ENTRY;
	cr_assert_eq(link_msg_encode(&m, frame, sizeof(frame), &n), 0);
	struct link_frame f = { .header = { .type = 0x0e, .len = 93 }, .body = frame + 4, .body_len = 93 };
	cr_assert_eq(link_msg_decode(&f, LINK_FROM_CLIENT, &back), -EMSGSIZE);

	m = (struct link_msg){ .type = LINK_MSG_WG_TOPUP };
	memset(m.wg_topup.client_key, 4, 32);
	m.wg_topup.ticket = ticket;
	m.wg_topup.ticket_len = fake_ticket(ticket, 384, NYM_TICKET_WG_ENTRY);
	n = roundtrip(&m, LINK_FROM_CLIENT, frame, sizeof(frame), &back);
	cr_assert_eq(n, 4 + 32 + 457);
	cr_assert_eq(frame[0], 0x12);
	cr_assert_eq(back.wg_topup.ticket_len, 457);
	m.wg_topup.ticket_len = 0;
	cr_assert_eq(link_msg_encode(&m, frame, sizeof(frame), &n), -EMSGSIZE);
}

Test(wg_frames, names_and_errors)
{
	cr_assert_str_eq(link_msg_type_name(LINK_MSG_WG_INIT), "wg_init");
	cr_assert_str_eq(link_msg_type_name(LINK_MSG_WG_TOPUP), "wg_topup");
	cr_assert(link_msg_type_allowed(LINK_MSG_WG_FINAL, LINK_FROM_CLIENT));
	cr_assert_not(link_msg_type_allowed(LINK_MSG_WG_FINAL, LINK_FROM_GATEWAY));
	cr_assert(link_msg_type_allowed(LINK_MSG_WG_REGISTERED, LINK_FROM_GATEWAY));
	cr_assert_str_eq(link_error_name(LINK_ERR_WG_BAD_MAC), "wg_bad_mac");
	cr_assert_str_eq(link_error_name(LINK_ERR_WG_NOT_PENDING), "wg_not_pending");
	cr_assert_str_eq(link_error_name(LINK_ERR_WG_NO_ADDRESS), "wg_no_address");
	cr_assert_null(link_error_name(15));
	struct link_wg_ips ips = { .v4 = { 10, 1, 0, 2 }, .v6 = { 0xfc, 0x01, [15] = 2 } };
	char s[64];
	link_wg_ips_format(&ips, s, sizeof(s));
	cr_assert_str_eq(s, "10.1.0.2 fc01::2");
}

Test(wg_frames, mac)
{
	struct nym_x25519_keypair c, g;
	keypair(&c, 1);
	keypair(&g, 2);
	struct link_wg_ips ips = { .v4 = { 10, 1, 0, 2 }, .v6 = { 0xfc, 0x01, [15] = 2 } };
	uint8_t a[32], b[32];
	/* Both sides compute the same MAC over the same sender key. */
	cr_assert_eq(link_wg_mac(a, g.secret, c.public_key, g.public_key, &ips, 5), 0);
	cr_assert_eq(link_wg_mac(b, c.secret, g.public_key, g.public_key, &ips, 5), 0);
	cr_assert_arr_eq(a, b, 32);
	cr_assert_eq(link_wg_mac_verify(a, c.secret, g.public_key, g.public_key, &ips, 5), 0);
	/* It is HMAC-SHA256(DH, sender key | v4 | v6 | nonce BE). */
	uint8_t dh[32], msg[32 + 20 + 8] = { 0 }, want[32];
	cr_assert_eq(nym_x25519(dh, c.secret, g.public_key), 0);
	memcpy(msg, g.public_key, 32);
	memcpy(msg + 32, ips.v4, 4);
	memcpy(msg + 36, ips.v6, 16);
	msg[59] = 5;
	nym_hmac_sha256(want, dh, 32, msg, sizeof(msg));
	cr_assert_arr_eq(a, want, 32);
	/* Any change breaks it. */
	cr_assert_eq(link_wg_mac_verify(a, c.secret, g.public_key, g.public_key, &ips, 6), -EBADMSG);
	cr_assert_eq(link_wg_mac_verify(a, c.secret, g.public_key, c.public_key, &ips, 5), -EBADMSG);
	ips.v6[15] = 3;
	cr_assert_eq(link_wg_mac_verify(a, c.secret, g.public_key, g.public_key, &ips, 5), -EBADMSG);
	/* A small-order key gives no shared secret. */
	uint8_t zero[32] = { 0 };
	cr_assert_eq(link_wg_mac(a, c.secret, zero, zero, &ips, 5), -EINVAL);
}

/* ---- the client against the gateway ---- */

struct world {
	char dir[256];
	struct credfix cf;
	struct nym_ticket_store *st;
	struct gateway_clients *db;
	struct gateway_wg *gw;
	struct nym_x25519_keypair gwkey;
	int adds, removes;
	struct gateway_wg_action last;
	int fail_apply;
	int64_t now;
};

static int w_spend(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		   const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance)
{
	struct world *w = ctx;
	return gateway_clients_spend_ticket(w->db, w->st, &w->cf.ks, ticket, len, w->cf.now, 1u << type, id, bytes,
					    balance, NULL);
}

static int w_apply(void *ctx, const struct gateway_wg_action *a)
{
	struct world *w = ctx;
	if (w->fail_apply)
		return -EIO;
	w->last = *a;
	if (a->kind == GATEWAY_WG_ADD_PEER)
		w->adds++;
	else
		w->removes++;
	return 0;
}

static struct world W;

static void world_open_gw(struct world *w, enum nym_ticket_type type, uint64_t stale)
{
	struct gateway_wg_config cfg = { .ticket_type = type, .bytes_per_ticket = 1000000, .stale_prealloc_s = stale };
	struct gateway_wg_hooks hooks = { .ctx = w, .spend = w_spend, .apply = w_apply };
	gateway_wg_pool_default_config(&cfg.pool);
	cr_assert_eq(gateway_wg_open(&w->gw, &cfg, &w->gwkey, w->db, &hooks, w->now), 0);
}

static void world_init(struct world *w, enum nym_ticket_type type)
{
	char p[512];
	memset(w, 0, sizeof(*w));
	cr_assert_eq(nym_crypto_init(), 0);
	test_tmpdir(w->dir, sizeof(w->dir));
	credfix_init(&w->cf, 1u << NYM_TICKET_WG_ENTRY | 1u << NYM_TICKET_WG_EXIT | 1u << NYM_TICKET_MIXNET_ENTRY);
	test_path(p, sizeof(p), w->dir, "tickets.db");
	cr_assert_eq(nym_ticket_store_open(&w->st, p), 0);
	test_path(p, sizeof(p), w->dir, "clients.sqlite");
	cr_assert_eq(gateway_clients_open(&w->db, p, 10, 86400), 0);
	keypair(&w->gwkey, 0x77);
	w->now = w->cf.now;
	world_open_gw(w, type, 0);
}

static void world_fini(struct world *w)
{
	gateway_wg_close(w->gw);
	gateway_clients_close(w->db);
	nym_ticket_store_close(w->st);
	credfix_fini(&w->cf);
	test_tmpdir_remove(w->dir);
}

/* One frame through the encoder and decoder, as it would cross the link. */
static void carry(const struct link_msg *m, enum link_side from, uint8_t *frame, struct link_msg *out)
{
	roundtrip(m, from, frame, LINK_FRAME_MAX_LEN, out);
}

/* Runs a registration; returns the client's result code. */
static int run_register(struct world *w, struct client_wg_register *c, const struct nym_x25519_keypair *key,
			const uint8_t *ticket, size_t len)
{
	static uint8_t f1[LINK_FRAME_MAX_LEN], f2[LINK_FRAME_MAX_LEN];
	struct link_msg m, wire, resp, back;
	bool send = true;
	cr_assert_eq(client_wg_register_init(c, key, NULL, ticket, len), 0);
	cr_assert_eq(client_wg_register_start(c, &m), 0);
	int rc = 0;
	while (send) {
		carry(&m, LINK_FROM_CLIENT, f1, &wire);
		cr_assert_eq(gateway_wg_handle(w->gw, &wire, w->now, &resp), 0);
		carry(&resp, LINK_FROM_GATEWAY, f2, &back);
		rc = client_wg_register_on_msg(c, &back, &m, &send);
		if (rc)
			break;
	}
	return rc;
}

static size_t ticket_of(struct nym_ticketbook *b, size_t i, uint8_t *out)
{
	return credfix_ticket(b, i, out);
}

TestSuite(wg_register, .timeout = 60);

Test(wg_register, full_flow_and_idempotent)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_EXIT);
	struct nym_ticketbook *book = credfix_issue_book(&w->cf, NYM_TICKET_WG_EXIT, 2);
	static uint8_t t[NYM_TICKET_MAX_LEN];
	size_t tl = ticket_of(book, 0, t);
	struct nym_x25519_keypair ck;
	keypair(&ck, 5);
	struct client_wg_register c;
	cr_assert_eq(run_register(w, &c, &ck, t, tl), 0);
	cr_assert(client_wg_register_done(&c));
	cr_assert(client_wg_register_ticket_used(&c));
	cr_assert_eq(c.result.port, 51822);
	cr_assert_eq(c.result.balance, 1000000);
	cr_assert_arr_eq(c.result.gateway_key, w->gwkey.public_key, 32);
	cr_assert_eq(c.result.ips.v4[0], 10);
	cr_assert_eq(c.result.ips.v4[1], 1);
	cr_assert_eq(c.result.ips.v6[0], 0xfc);
	cr_assert_eq(c.result.ips.v6[1], 0x01);
	/* v4[i] <-> v6[i] */
	cr_assert_eq(c.result.ips.v4[2] * 256 + c.result.ips.v4[3], c.result.ips.v6[14] * 256 + c.result.ips.v6[15]);
	cr_assert_eq(w->adds, 1);
	cr_assert_arr_eq(w->last.key, ck.public_key, 32);
	cr_assert_arr_eq(&w->last.ips, &c.result.ips, sizeof(c.result.ips));
	struct link_wg_registered first = c.result;
	client_wg_register_clear(&c);

	/* A second registration of the same key: WG_REGISTERED at once, no ticket used. */
	size_t tl2 = ticket_of(book, 1, t);
	cr_assert_eq(run_register(w, &c, &ck, t, tl2), 0);
	cr_assert(client_wg_register_done(&c));
	cr_assert_not(client_wg_register_ticket_used(&c));
	cr_assert_arr_eq(&c.result.ips, &first.ips, sizeof(first.ips));
	cr_assert_eq(w->adds, 1);
	bool reg;
	uint64_t bal;
	cr_assert_eq(gateway_wg_balance(w->gw, ck.public_key, &reg, &bal), 0);
	cr_assert(reg);
	cr_assert_eq(bal, 1000000);
	struct gateway_wg_counters k;
	gateway_wg_counters(w->gw, &k);
	cr_assert_eq(k.registrations, 1);
	cr_assert_eq(k.repeats, 1);
	client_wg_register_clear(&c);
	nym_ticketbook_free(book);
	world_fini(w);
}

Test(wg_register, init_twice_same_pending_and_final_repeat)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_ENTRY);
	struct nym_ticketbook *book = credfix_issue_book(&w->cf, NYM_TICKET_WG_ENTRY, 1);
	static uint8_t t[NYM_TICKET_MAX_LEN], fa[LINK_FRAME_MAX_LEN];
	size_t tl = ticket_of(book, 0, t);
	struct nym_x25519_keypair ck;
	keypair(&ck, 6);
	struct link_msg init = { .type = LINK_MSG_WG_INIT }, p1, p2, fin, r1, r2;
	memcpy(init.wg_key, ck.public_key, 32);
	cr_assert_eq(gateway_wg_handle(w->gw, &init, w->now, &p1), 0);
	cr_assert_eq(gateway_wg_handle(w->gw, &init, w->now + 5, &p2), 0);
	cr_assert_eq(p1.type, LINK_MSG_WG_PENDING);
	cr_assert_eq(memcmp(&p1.wg_pending, &p2.wg_pending, sizeof(p1.wg_pending)), 0);
	struct gateway_wg_stats s;
	gateway_wg_stats(w->gw, w->now, &s);
	cr_assert_eq(s.pending, 1);
	/* The client's FINAL, sent twice (the first answer lost): one spend, one peer. */
	struct client_wg_register c;
	bool send;
	cr_assert_eq(client_wg_register_init(&c, &ck, w->gwkey.public_key, t, tl), 0);
	cr_assert_eq(client_wg_register_start(&c, &fin), 0);
	cr_assert_eq(client_wg_register_on_msg(&c, &p1, &fin, &send), 0);
	cr_assert(send);
	struct link_msg wire;
	carry(&fin, LINK_FROM_CLIENT, fa, &wire);
	cr_assert_eq(gateway_wg_handle(w->gw, &wire, w->now, &r1), 0);
	cr_assert_eq(r1.type, LINK_MSG_WG_REGISTERED);
	cr_assert_eq(gateway_wg_handle(w->gw, &wire, w->now, &r2), 0);
	cr_assert_eq(r2.type, LINK_MSG_WG_REGISTERED);
	cr_assert_eq(memcmp(&r1.wg_registered, &r2.wg_registered, sizeof(r1.wg_registered)), 0);
	cr_assert_eq(w->adds, 1);
	cr_assert_eq(client_wg_register_on_msg(&c, &r1, &fin, &send), 0);
	cr_assert(client_wg_register_done(&c));
	gateway_wg_stats(w->gw, w->now, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.total_peers, 1);
	client_wg_register_clear(&c);
	nym_ticketbook_free(book);
	world_fini(w);
}

Test(wg_register, bad_mac_refused)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_EXIT);
	struct nym_x25519_keypair ck, other;
	keypair(&ck, 7);
	keypair(&other, 8);
	struct link_msg init = { .type = LINK_MSG_WG_INIT }, p, fin, r;
	memcpy(init.wg_key, ck.public_key, 32);
	cr_assert_eq(gateway_wg_handle(w->gw, &init, w->now, &p), 0);
	/* A FINAL whose MAC was made with another key (someone who saw the public key). */
	fin = (struct link_msg){ .type = LINK_MSG_WG_FINAL };
	memcpy(fin.wg_final.client_key, ck.public_key, 32);
	fin.wg_final.ips = p.wg_pending.ips;
	fin.wg_final.nonce = p.wg_pending.nonce;
	cr_assert_eq(link_wg_mac(fin.wg_final.mac, other.secret, w->gwkey.public_key, ck.public_key, &p.wg_pending.ips,
				 p.wg_pending.nonce),
		     0);
	cr_assert_eq(gateway_wg_handle(w->gw, &fin, w->now, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_ERROR);
	cr_assert_eq(r.error.code, LINK_ERR_WG_BAD_MAC);
	/* Another nonce or pair: not the pending registration. */
	fin.wg_final.nonce ^= 1;
	cr_assert_eq(gateway_wg_handle(w->gw, &fin, w->now, &r), 0);
	cr_assert_eq(r.error.code, LINK_ERR_WG_NOT_PENDING);
	/* A key never seen. */
	memcpy(fin.wg_final.client_key, other.public_key, 32);
	cr_assert_eq(gateway_wg_handle(w->gw, &fin, w->now, &r), 0);
	cr_assert_eq(r.error.code, LINK_ERR_WG_NOT_PENDING);
	cr_assert_eq(w->adds, 0);

	/* And the client refuses a WG_PENDING whose MAC is not the gateway's. */
	struct client_wg_register c;
	struct link_msg m;
	bool send;
	cr_assert_eq(client_wg_register_init(&c, &ck, NULL, NULL, 0), 0);
	cr_assert_eq(client_wg_register_start(&c, &m), 0);
	p.wg_pending.mac[0] ^= 1;
	cr_assert_eq(client_wg_register_on_msg(&c, &p, &m, &send), -EBADMSG);
	cr_assert_not(send);
	cr_assert_eq(c.state, CLIENT_WG_REGISTER_FAILED);
	/* A pinned gateway key that does not match. */
	uint8_t pin[32] = { 1 };
	p.wg_pending.mac[0] ^= 1;
	cr_assert_eq(client_wg_register_init(&c, &ck, pin, NULL, 0), 0);
	cr_assert_eq(client_wg_register_start(&c, &m), 0);
	cr_assert_eq(client_wg_register_on_msg(&c, &p, &m, &send), -EPROTO);
	client_wg_register_clear(&c);
	world_fini(w);
}

Test(wg_register, reused_and_wrong_type_tickets)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_ENTRY);
	struct nym_ticketbook *entry = credfix_issue_book(&w->cf, NYM_TICKET_WG_ENTRY, 1);
	struct nym_ticketbook *exit = credfix_issue_book(&w->cf, NYM_TICKET_WG_EXIT, 1);
	struct nym_ticketbook *mix = credfix_issue_book(&w->cf, NYM_TICKET_MIXNET_ENTRY, 1);
	static uint8_t t[NYM_TICKET_MAX_LEN];
	struct nym_x25519_keypair a, b, c3;
	keypair(&a, 9);
	keypair(&b, 10);
	keypair(&c3, 11);
	struct client_wg_register c;
	/* wg-exit at an entry: refused before any signature check. */
	size_t tl = ticket_of(exit, 0, t);
	cr_assert_eq(run_register(w, &c, &a, t, tl), -ECONNREFUSED);
	cr_assert_eq(c.error, LINK_ERR_TICKET_REJECTED);
	tl = ticket_of(mix, 0, t);
	cr_assert_eq(run_register(w, &c, &b, t, tl), -ECONNREFUSED);
	cr_assert_eq(c.error, LINK_ERR_TICKET_REJECTED);
	struct gateway_wg_counters k;
	gateway_wg_counters(w->gw, &k);
	cr_assert_eq(k.tickets_wrong_type, 2);
	/* The right one registers a; spent again for b it is refused. */
	tl = ticket_of(entry, 0, t);
	cr_assert_eq(run_register(w, &c, &a, t, tl), 0);
	cr_assert_eq(run_register(w, &c, &c3, t, tl), -ECONNREFUSED);
	cr_assert_eq(c.error, LINK_ERR_TICKET_SPENT);
	/* No ticket and no balance. */
	cr_assert_eq(run_register(w, &c, &b, NULL, 0), -ECONNREFUSED);
	cr_assert_eq(c.error, LINK_ERR_BANDWIDTH_EXHAUSTED);
	cr_assert_eq(w->adds, 1);
	gateway_wg_counters(w->gw, &k);
	cr_assert_eq(k.tickets_spent_before, 1);
	cr_assert_eq(k.no_bandwidth, 1);
	cr_assert_eq(k.registrations, 1);
	/* The refused keys stay pending until they go stale. */
	struct gateway_wg_stats s;
	gateway_wg_stats(w->gw, w->now, &s);
	cr_assert_eq(s.pending, 2);
	client_wg_register_clear(&c);
	nym_ticketbook_free(entry);
	nym_ticketbook_free(exit);
	nym_ticketbook_free(mix);
	world_fini(w);
}

Test(wg_register, stale_preallocation_released)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_ENTRY);
	gateway_wg_close(w->gw);
	world_open_gw(w, NYM_TICKET_WG_ENTRY, 60);
	struct nym_x25519_keypair ck;
	keypair(&ck, 12);
	struct link_msg init = { .type = LINK_MSG_WG_INIT }, p, p2, r;
	memcpy(init.wg_key, ck.public_key, 32);
	cr_assert_eq(gateway_wg_handle(w->gw, &init, w->now, &p), 0);
	cr_assert_eq(gateway_wg_tick(w->gw, w->now + 59), 0);
	struct gateway_wg_stats s;
	gateway_wg_stats(w->gw, w->now, &s);
	cr_assert_eq(s.pending, 1);
	cr_assert_eq(gateway_wg_tick(w->gw, w->now + 60), 0);
	gateway_wg_stats(w->gw, w->now, &s);
	cr_assert_eq(s.pending, 0);
	struct gateway_wg_counters k;
	gateway_wg_counters(w->gw, &k);
	cr_assert_eq(k.stale_released, 1);
	/* Its FINAL now finds nothing; a new INIT gets a new nonce. */
	struct client_wg_register c;
	struct link_msg fin;
	bool send;
	cr_assert_eq(client_wg_register_init(&c, &ck, NULL, NULL, 0), 0);
	cr_assert_eq(client_wg_register_start(&c, &fin), 0);
	cr_assert_eq(client_wg_register_on_msg(&c, &p, &fin, &send), 0);
	cr_assert_eq(gateway_wg_handle(w->gw, &fin, w->now + 61, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_ERROR);
	cr_assert_eq(r.error.code, LINK_ERR_WG_NOT_PENDING);
	cr_assert_eq(gateway_wg_handle(w->gw, &init, w->now + 61, &p2), 0);
	cr_assert_eq(p2.type, LINK_MSG_WG_PENDING);
	cr_assert_neq(p2.wg_pending.nonce, p.wg_pending.nonce);
	client_wg_register_clear(&c);
	world_fini(w);
}

Test(wg_register, device_refusal_then_final_without_ticket)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_ENTRY);
	struct nym_ticketbook *book = credfix_issue_book(&w->cf, NYM_TICKET_WG_ENTRY, 1);
	static uint8_t t[NYM_TICKET_MAX_LEN];
	size_t tl = ticket_of(book, 0, t);
	struct nym_x25519_keypair ck;
	keypair(&ck, 13);
	struct client_wg_register c;
	w->fail_apply = 1;
	cr_assert_eq(run_register(w, &c, &ck, t, tl), -ECONNREFUSED);
	cr_assert_eq(c.error, LINK_ERR_INTERNAL);
	/* The ticket was credited: a FINAL without one finishes the registration. */
	w->fail_apply = 0;
	cr_assert_eq(run_register(w, &c, &ck, NULL, 0), 0);
	cr_assert_eq(c.result.balance, 1000000);
	cr_assert_eq(w->adds, 1);
	client_wg_register_clear(&c);
	nym_ticketbook_free(book);
	world_fini(w);
}

Test(wg_register, query_and_topup_over_the_link)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_EXIT);
	struct nym_ticketbook *book = credfix_issue_book(&w->cf, NYM_TICKET_WG_EXIT, 2);
	static uint8_t t[NYM_TICKET_MAX_LEN], fa[LINK_FRAME_MAX_LEN];
	size_t tl = ticket_of(book, 0, t);
	struct nym_x25519_keypair ck;
	keypair(&ck, 14);
	struct client_wg_register c;
	struct link_msg q = { .type = LINK_MSG_WG_QUERY }, r, up, wire;
	memcpy(q.wg_key, ck.public_key, 32);
	cr_assert_eq(gateway_wg_handle(w->gw, &q, w->now, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_WG_BANDWIDTH);
	cr_assert_not(r.wg_bandwidth.registered);
	cr_assert_eq(r.wg_bandwidth.balance, 0);
	/* A top-up before registering is refused. */
	up = (struct link_msg){ .type = LINK_MSG_WG_TOPUP };
	memcpy(up.wg_topup.client_key, ck.public_key, 32);
	up.wg_topup.ticket = t;
	up.wg_topup.ticket_len = tl;
	cr_assert_eq(gateway_wg_handle(w->gw, &up, w->now, &r), 0);
	cr_assert_eq(r.error.code, LINK_ERR_WG_NOT_PENDING);
	cr_assert_eq(run_register(w, &c, &ck, t, tl), 0);
	tl = ticket_of(book, 1, t);
	carry(&up, LINK_FROM_CLIENT, fa, &wire);
	cr_assert_eq(gateway_wg_handle(w->gw, &wire, w->now, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_WG_BANDWIDTH);
	cr_assert(r.wg_bandwidth.registered);
	cr_assert_eq(r.wg_bandwidth.balance, 2000000);
	cr_assert_eq(gateway_wg_handle(w->gw, &q, w->now, &r), 0);
	cr_assert_eq(r.wg_bandwidth.balance, 2000000);
	/* Not a WG request. */
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { 1, 1 } };
	cr_assert_eq(gateway_wg_handle(w->gw, &hello, w->now, &r), -EINVAL);
	client_wg_register_clear(&c);
	nym_ticketbook_free(book);
	world_fini(w);
}

Test(wg_register, credits_and_debits_survive_a_crash)
{
	struct world *w = &W;
	world_init(w, NYM_TICKET_WG_EXIT);
	struct nym_ticketbook *book = credfix_issue_book(&w->cf, NYM_TICKET_WG_EXIT, 2);
	static uint8_t t[NYM_TICKET_MAX_LEN];
	size_t tl = ticket_of(book, 0, t);
	struct nym_x25519_keypair ck;
	keypair(&ck, 15);
	struct client_wg_register c;
	cr_assert_eq(run_register(w, &c, &ck, t, tl), 0);
	struct gateway_wg_reading r = { .rx = 300, .tx = 200 };
	memcpy(r.key, ck.public_key, 32);
	cr_assert_eq(gateway_wg_meter(w->gw, &r, 1, w->now + 5), 0);
	uint64_t bal;
	tl = ticket_of(book, 1, t);
	cr_assert_eq(gateway_wg_topup(w->gw, ck.public_key, t, tl, w->now + 6, &bal), 0);
	cr_assert_eq(bal, 2000000 - 500);
	/* The same ticket again: refused, nothing credited. */
	cr_assert_eq(gateway_wg_topup(w->gw, ck.public_key, t, tl, w->now + 6, &bal), -EALREADY);
	/* The process dies: nothing closed; a new one opens the same files. */
	struct gateway_wg *dead = w->gw;
	struct gateway_clients *dead_db = w->db;
	char p[512];
	test_path(p, sizeof(p), w->dir, "clients.sqlite");
	cr_assert_eq(gateway_clients_open(&w->db, p, 10, 86400), 0);
	uint64_t applied, dropped;
	cr_assert_eq(gateway_clients_credit_resolve(w->db, w->st, w->now, &applied, &dropped), 0);
	cr_assert_eq(applied + dropped, 0);
	world_open_gw(w, NYM_TICKET_WG_EXIT, 0);
	bool reg;
	cr_assert_eq(gateway_wg_balance(w->gw, ck.public_key, &reg, &bal), 0);
	cr_assert(reg);
	cr_assert_eq(bal, 2000000 - 500);
	/* A ticket-less FINAL of another key finds no balance of the first. */
	struct nym_x25519_keypair other;
	keypair(&other, 16);
	cr_assert_eq(gateway_wg_balance(w->gw, other.public_key, &reg, &bal), 0);
	cr_assert_eq(bal, 0);
	gateway_wg_close(dead);
	gateway_clients_close(dead_db);
	client_wg_register_clear(&c);
	nym_ticketbook_free(book);
	world_fini(w);
}
