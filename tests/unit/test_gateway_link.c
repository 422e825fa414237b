/* The gateway's client link engine (lib/gateway/gateway_link): whole sessions in memory against
 * a client built from a Noise initiator and link_msg, with fake hooks for the ticket store, the
 * balances and the mixnet. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../support/credfix.h"
#include "../support/tmpdir.h"
#include "credstore/ticket_store.h"
#include "crypto/ed25519.h"
#include "client/client_wg_register.h"
#include "crypto/secret.h"
#include "gateway/gateway_clients.h"
#include "gateway/gateway_wg.h"
#include "gateway/gateway_link.h"
#include "link/link_msg.h"
#include "mix/mix_frame.h"

#define NOW 1800000000ull

struct fake {
	uint64_t stored_balance;
	uint64_t grant;
	int authenticated_calls;
	uint8_t spent[16][8];
	size_t nspent;
	size_t forwarded;
	int spend_fail; /* forced result of the store */
	struct nym_ticket_store *store; /* a real store, when set */
	struct gateway_clients *clients; /* and real balances with it, when set */
	bool saves_lost; /* balance_saved never reaches the database (a crash right after a spend) */
	struct credfix *cf;
	const struct gateway_link *link; /* the link the hooks serve */
	struct gateway_wg *wg;		 /* the WireGuard engine, when the link has one */
};

static int fk_authenticated(void *ctx, const uint8_t identity[32], uint64_t *balance)
{
	struct fake *f = ctx;
	f->authenticated_calls++;
	if (f->clients)
		return gateway_clients_balance_get(f->clients, identity, balance);
	*balance = f->stored_balance;
	return 0;
}

/* A ticket here is any 329 bytes; byte 0 = 0xff means a forged signature; the first 8 bytes
 * are its serial. */
static int fk_spend(void *ctx, const uint8_t *ticket, size_t len, uint64_t *granted)
{
	struct fake *f = ctx;
	if (f->store && f->clients) {
		/* What the gateway service does: spend and credit, crash-safe. */
		int rc = gateway_clients_spend_ticket(f->clients, f->store, &f->cf->ks, ticket, len, f->cf->now,
						      1u << NYM_TICKET_MIXNET_ENTRY, f->link->identity, f->grant, NULL,
						      NULL);
		if (rc == 0)
			*granted = f->grant;
		return rc;
	}
	if (f->store) {
		struct nym_ticket_msg msg;
		int rc = nym_ticket_store_spend(f->store, &f->cf->ks, ticket, len, f->cf->now,
						1u << NYM_TICKET_MIXNET_ENTRY, &msg);
		if (rc == 0)
			*granted = f->grant;
		return rc;
	}
	if (f->spend_fail)
		return f->spend_fail;
	if (len < 8)
		return -EINVAL;
	if (ticket[0] == 0xff)
		return -EBADMSG;
	for (size_t i = 0; i < f->nspent; i++)
		if (memcmp(f->spent[i], ticket, 8) == 0)
			return -EALREADY;
	memcpy(f->spent[f->nspent++], ticket, 8);
	*granted = f->grant;
	return 0;
}

static int fk_saved(void *ctx, const uint8_t identity[32], uint64_t balance)
{
	struct fake *f = ctx;
	if (f->saves_lost)
		return 0;
	f->stored_balance = balance;
	if (f->clients)
		return gateway_clients_balance_set(f->clients, identity, balance, (int64_t)NOW);
	return 0;
}

static int fk_forward(void *ctx, enum mix_packet_size size, const struct link_send_entry *e)
{
	(void)size;
	(void)e;
	((struct fake *)ctx)->forwarded++;
	return 0;
}

struct session {
	struct fake fake;
	struct gateway_link_counters counters;
	uint8_t scratch[NOISE_MAX_PLAINTEXT_LEN];
	uint8_t cscratch[NOISE_MAX_PLAINTEXT_LEN];
	struct nym_x25519_keypair gw_noise;
	struct nym_ed25519_keypair client_id;
	struct gateway_link link;
	struct noise_session client;
	struct link_frame_decoder cdec;
	/* Messages the client received, in order. */
	struct link_msg got[64];
	uint8_t got_bodies[64][2048];
	size_t ngot;
	int link_rc;
};

static struct session *S;

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
	S = calloc(1, sizeof(*S));
	nym_x25519_generate(&S->gw_noise);
	nym_ed25519_generate(&S->client_id);
	S->fake.grant = 10 * 1000 * 1000;
	S->fake.link = &S->link;
	struct gateway_link_config cfg = { .counters = &S->counters, .scratch = S->scratch };
	struct gateway_link_hooks hooks = { &S->fake, fk_authenticated, fk_spend, fk_saved, fk_forward, NULL };
	cr_assert_eq(gateway_link_init(&S->link, &S->gw_noise, &cfg, &hooks), 0);
	struct nym_x25519_keypair ck;
	nym_x25519_generate(&ck);
	cr_assert_eq(noise_session_init(&S->client, NOISE_INITIATOR, &ck, S->gw_noise.public_key, NULL), 0);
	link_frame_decoder_init(&S->cdec, LINK_FROM_GATEWAY);
}

static void teardown(void)
{
	gateway_link_free(&S->link);
	noise_session_clear(&S->client);
	free(S);
}

TestSuite(gateway_link, .init = setup, .fini = teardown);

/* Moves the gateway's output to the client and decodes what arrives. */
static void pump_to_client(void)
{
	const uint8_t *out;
	size_t n;
	while ((n = gateway_link_output(&S->link, &out)) > 0) {
		uint8_t *copy = malloc(n);
		memcpy(copy, out, n);
		gateway_link_written(&S->link, n);
		cr_assert_eq(noise_session_feed(&S->client, copy, n), 0);
		struct noise_session_event ev;
		int rc;
		while ((rc = noise_session_next(&S->client, S->cscratch, sizeof(S->cscratch), &ev)) == 0) {
			if (ev.send)
				cr_assert_eq(gateway_link_feed(&S->link, ev.send, ev.send_len, NOW), 0);
			if (!ev.data_len)
				continue;
			cr_assert_eq(link_frame_decoder_feed(&S->cdec, ev.data, ev.data_len), 0);
			struct link_frame f;
			while (link_frame_decoder_next(&S->cdec, &f) == 0) {
				struct link_msg *m = &S->got[S->ngot % 64];
				cr_assert_eq(link_msg_decode(&f, LINK_FROM_GATEWAY, m), 0);
				S->ngot++;
			}
		}
		cr_assert_eq(rc, -EAGAIN);
		free(copy);
	}
}

static void handshake(void)
{
	uint8_t first[128];
	size_t n;
	cr_assert_eq(noise_session_start(&S->client, first, sizeof(first), &n), 0);
	cr_assert_eq(gateway_link_feed(&S->link, first, n, NOW), 0);
	pump_to_client(); /* message 2 in, message 3 back out */
	cr_assert(noise_session_established(&S->client));
	cr_assert_eq(S->link.state, GATEWAY_LINK_HELLO);
}

/* Seals raw plaintext bytes from the client and feeds them to the gateway. */
static int client_raw(const uint8_t *b, size_t n)
{
	static uint8_t sealed[2 * LINK_FRAME_MAX_LEN];
	size_t w;
	cr_assert_eq(noise_session_seal(&S->client, b, n, sealed, sizeof(sealed), &w), 0);
	S->link_rc = gateway_link_feed(&S->link, sealed, w, NOW);
	pump_to_client();
	return S->link_rc;
}

static int client_send(const struct link_msg *m)
{
	static uint8_t frame[LINK_FRAME_MAX_LEN];
	size_t n;
	cr_assert_eq(link_msg_encode(m, frame, sizeof(frame), &n), 0);
	return client_raw(frame, n);
}

/* The k-th message from the end (1: the last). */
static const struct link_msg *back(size_t k)
{
	cr_assert_geq(S->ngot, k);
	return &S->got[(S->ngot - k) % 64];
}

static const struct link_msg *last(void)
{
	return back(1);
}

static void hello(void)
{
	struct link_msg m = { .type = LINK_MSG_HELLO, .hello = { 1, 3 } };
	cr_assert_eq(client_send(&m), 0);
	cr_assert_eq(last()->type, LINK_MSG_VERSION);
	cr_assert_eq(last()->version, 1);
}

static int auth_at(uint64_t ts, bool corrupt)
{
	uint8_t h[32];
	cr_assert_eq(noise_session_handshake_hash(&S->client, h), 0);
	struct link_msg m = { .type = LINK_MSG_AUTH };
	link_auth_sign(&S->client_id, h, ts, &m.auth);
	if (corrupt)
		m.auth.signature[5] ^= 1;
	return client_send(&m);
}

static void open_session(void)
{
	handshake();
	hello();
	cr_assert_eq(auth_at(NOW, false), 0);
	cr_assert_eq(last()->type, LINK_MSG_AUTH_OK);
}

static int spend(uint8_t serial0, uint8_t first)
{
	uint8_t t[LINK_TICKET_MIN_LEN];
	memset(t, serial0, sizeof(t));
	t[0] = first;
	memset(t + NYM_BRSA_PREFIX_LEN, 0, NYM_TICKET_MSG_LEN);
	t[NYM_BRSA_PREFIX_LEN] = NYM_TICKET_MIXNET_ENTRY;
	struct link_msg m = { .type = LINK_MSG_SPEND_TICKET, .ticket = { t, sizeof(t) } };
	return client_send(&m);
}

static int spend_bytes(const uint8_t *t, size_t len)
{
	struct link_msg m = { .type = LINK_MSG_SPEND_TICKET, .ticket = { t, len } };
	return client_send(&m);
}

static int send_packets(size_t count)
{
	static uint8_t items[LINK_FRAME_MAX_LEN];
	static uint8_t packet[MIX_REGULAR_PACKET_LEN];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789), .sin_addr = { htonl(0xc6336402) } };
	size_t item = link_send_entry_len(MIX_PACKET_SIZE_REGULAR);
	for (size_t i = 0; i < count; i++)
		cr_assert_eq(link_send_entry_write(items + i * item, MIX_PACKET_SIZE_REGULAR, MIX_KEY_ROTATION_ODD,
						   (struct sockaddr *)&a, sizeof(a), packet, sizeof(packet)),
			     0);
	struct link_msg m = { .type = LINK_MSG_SEND,
			      .packets = { .size = MIX_PACKET_SIZE_REGULAR, .count = count, .item_len = item, .items = items } };
	return client_send(&m);
}

Test(gateway_link, full_session)
{
	open_session();
	cr_assert_eq(last()->balance, 0);
	cr_assert_eq(S->fake.authenticated_calls, 1);
	cr_assert_eq(spend(1, 1), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	cr_assert_eq(last()->balance, 10000000);
	cr_assert_eq(S->fake.stored_balance, 10000000);
	cr_assert_eq(send_packets(3), 0);
	cr_assert_eq(S->fake.forwarded, 3);
	cr_assert_eq(S->link.balance, 10000000 - 3 * MIX_REGULAR_PACKET_LEN);
	cr_assert(S->link.balance_dirty);
	/* A delivery is metered too. */
	uint8_t item[2029] = { 7 };
	cr_assert_eq(gateway_link_deliver(&S->link, MIX_PACKET_SIZE_REGULAR, item, sizeof(item)), 0);
	pump_to_client();
	cr_assert_eq(last()->type, LINK_MSG_RECEIVE);
	cr_assert_eq(last()->packets.count, 1);
	cr_assert_eq(last()->packets.items[0], 7);
	cr_assert_eq(S->link.balance, 10000000 - 4 * MIX_REGULAR_PACKET_LEN);
	cr_assert_eq(S->counters.bytes_metered, 4 * MIX_REGULAR_PACKET_LEN);
	cr_assert_eq(gateway_link_deliver(&S->link, MIX_PACKET_SIZE_REGULAR, item, 10), -EINVAL);
	struct link_msg c = { .type = LINK_MSG_CLOSE };
	cr_assert_eq(client_send(&c), 0);
	cr_assert(gateway_link_closing(&S->link));
	cr_assert_eq(last()->type, LINK_MSG_CLOSE);
	cr_assert_eq(S->counters.closed_by_client, 1);
}

Test(gateway_link, version_refused)
{
	handshake();
	struct link_msg m = { .type = LINK_MSG_HELLO, .hello = { 2, 5 } };
	cr_assert_neq(client_send(&m), 0);
	cr_assert_eq(back(2)->type, LINK_MSG_ERROR);
	cr_assert_eq(back(2)->error.code, LINK_ERR_VERSION);
	cr_assert_eq(last()->type, LINK_MSG_CLOSE);
	cr_assert(gateway_link_closing(&S->link));
	cr_assert_eq(S->counters.version_refused, 1);
}

Test(gateway_link, bad_signature)
{
	handshake();
	hello();
	cr_assert_eq(auth_at(NOW, true), -EKEYREJECTED);
	cr_assert_eq((*back(2)).type, LINK_MSG_ERROR);
	cr_assert_eq((*back(2)).error.code, LINK_ERR_AUTH);
	cr_assert_eq(last()->type, LINK_MSG_CLOSE);
	cr_assert_eq(S->counters.auth_failed, 1);
	cr_assert_eq(S->fake.authenticated_calls, 0);
}

Test(gateway_link, clock_skew)
{
	handshake();
	hello();
	cr_assert_eq(auth_at(NOW - 301, false), -ETIME);
	cr_assert_eq((*back(2)).error.code, LINK_ERR_CLOCK_SKEW);
	cr_assert_eq(S->counters.clock_skew, 1);
}

Test(gateway_link, skew_within_bounds)
{
	handshake();
	hello();
	cr_assert_eq(auth_at(NOW + 299, false), 0);
	cr_assert_eq(last()->type, LINK_MSG_AUTH_OK);
}

Test(gateway_link, signature_from_another_session)
{
	handshake();
	hello();
	uint8_t h[32] = { 1 };
	struct link_msg m = { .type = LINK_MSG_AUTH };
	link_auth_sign(&S->client_id, h, NOW, &m.auth);
	cr_assert_eq(client_send(&m), -EKEYREJECTED);
	cr_assert_eq(S->counters.auth_failed, 1);
}

Test(gateway_link, unauthenticated_send_and_spend)
{
	handshake();
	hello();
	cr_assert_eq(send_packets(1), -EPROTO);
	cr_assert_eq((*back(2)).error.code, LINK_ERR_PROTOCOL);
	cr_assert_eq(S->counters.unauthenticated, 1);
	cr_assert_eq(S->fake.forwarded, 0);
}

Test(gateway_link, spend_before_hello)
{
	handshake();
	cr_assert_eq(spend(1, 1), -EPROTO);
	cr_assert_eq(S->counters.unauthenticated, 1);
}

Test(gateway_link, second_hello)
{
	handshake();
	hello();
	struct link_msg m = { .type = LINK_MSG_HELLO, .hello = { 1, 1 } };
	cr_assert_eq(client_send(&m), -EPROTO);
	cr_assert_eq(S->counters.out_of_order, 1);
}

Test(gateway_link, tickets)
{
	open_session();
	cr_assert_eq(spend(1, 1), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	/* reuse: refused at once, the link stays */
	cr_assert_eq(spend(1, 1), 0);
	cr_assert_eq(last()->type, LINK_MSG_ERROR);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_SPENT);
	/* forged */
	cr_assert_eq(spend(2, 0xff), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_REJECTED);
	S->fake.spend_fail = -EINVAL;
	cr_assert_eq(spend(3, 3), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_MALFORMED);
	/* not a ticket at all: refused, the link stays */
	uint8_t bad[4 + LINK_TICKET_MIN_LEN] = { LINK_MSG_SPEND_TICKET, 0, LINK_TICKET_MIN_LEN >> 8, LINK_TICKET_MIN_LEN & 0xff };
	cr_assert_eq(client_raw(bad, sizeof(bad)), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_MALFORMED);
	S->fake.spend_fail = -EIO;
	cr_assert_eq(spend(3, 3), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_INTERNAL);
	S->fake.spend_fail = 0;
	cr_assert_eq(spend(4, 4), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	cr_assert_eq(last()->balance, 20000000);
	cr_assert_eq(S->counters.tickets_accepted, 2);
	cr_assert_eq(S->counters.tickets_spent, 1);
	cr_assert_eq(S->counters.tickets_rejected, 1);
	cr_assert_eq(S->counters.tickets_malformed, 2);
	cr_assert_eq(S->counters.tickets_failed, 1);
	cr_assert(!gateway_link_closing(&S->link));
}

Test(gateway_link, too_many_refused_tickets)
{
	open_session();
	for (int i = 0; i < GATEWAY_LINK_MAX_REFUSED_TICKETS; i++) {
		cr_assert_eq(spend((uint8_t)i, 0xff), 0);
		cr_assert_eq(last()->error.code, LINK_ERR_TICKET_REJECTED);
	}
	S->fake.spend_fail = -EIO; /* the gateway's own failures do not count */
	cr_assert_eq(spend(99, 1), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_INTERNAL);
	S->fake.spend_fail = 0;
	cr_assert(!gateway_link_closing(&S->link));
	cr_assert_neq(spend(100, 0xff), 0);
	cr_assert(gateway_link_closing(&S->link));
	cr_assert_eq(back(2)->error.code, LINK_ERR_PROTOCOL);
	cr_assert_eq(S->counters.tickets_too_many, 1);
}

Test(gateway_link, low_balance_exhaustion_topup)
{
	/* 1 MB + 2 packets: the third packet goes under 1 MB. */
	S->fake.grant = LINK_LOW_BALANCE_BYTES + 2 * MIX_REGULAR_PACKET_LEN;
	open_session();
	cr_assert_eq(spend(1, 1), 0);
	cr_assert_eq(send_packets(2), 0);
	size_t before = S->ngot;
	cr_assert_eq(send_packets(1), 0);
	cr_assert_eq(S->ngot, before + 1);
	cr_assert_eq(last()->type, LINK_MSG_LOW_BALANCE);
	cr_assert_lt(last()->balance, LINK_LOW_BALANCE_BYTES);
	cr_assert_eq(send_packets(1), 0);
	cr_assert_eq(S->ngot, before + 1, "LOW_BALANCE only once");
	cr_assert_eq(S->counters.low_balance_sent, 1);
	/* Spend the rest: ~1 MB is 421 packets. */
	for (int i = 0; i < 20 && S->link.balance > 0; i++)
		cr_assert_eq(send_packets(26), 0);
	cr_assert_eq(S->link.balance, 0);
	cr_assert_eq(last()->type, LINK_MSG_ERROR);
	cr_assert_eq(last()->error.code, LINK_ERR_BANDWIDTH_EXHAUSTED);
	cr_assert_eq(S->counters.exhausted_sent, 1);
	size_t fwd = S->fake.forwarded, got = S->ngot;
	cr_assert_eq(send_packets(5), 0);
	cr_assert_eq(S->fake.forwarded, fwd, "nothing forwarded at 0");
	cr_assert_eq(S->ngot, got, "the error only once");
	cr_assert_geq(S->counters.send_no_bandwidth, 5);
	uint8_t item[2029] = { 0 };
	cr_assert_eq(gateway_link_deliver(&S->link, MIX_PACKET_SIZE_REGULAR, item, sizeof(item)), -EDQUOT);
	cr_assert(!gateway_link_closing(&S->link));
	/* top-up */
	cr_assert_eq(spend(2, 2), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	cr_assert_eq(send_packets(1), 0);
	cr_assert_eq(S->fake.forwarded, fwd + 1);
	cr_assert_eq(gateway_link_deliver(&S->link, MIX_PACKET_SIZE_REGULAR, item, sizeof(item)), 0);
}

Test(gateway_link, send_without_balance)
{
	open_session();
	size_t got = S->ngot;
	cr_assert_eq(send_packets(2), 0);
	cr_assert_eq(S->fake.forwarded, 0);
	cr_assert_eq(S->ngot, got + 1);
	cr_assert_eq(last()->error.code, LINK_ERR_BANDWIDTH_EXHAUSTED);
	cr_assert_eq(send_packets(2), 0);
	cr_assert_eq(S->ngot, got + 1, "told once");
	cr_assert_eq(S->counters.send_no_bandwidth, 4);
	cr_assert(!gateway_link_closing(&S->link));
	cr_assert_eq(spend(1, 1), 0);
	cr_assert_eq(send_packets(1), 0);
	cr_assert_eq(S->fake.forwarded, 1);
}

Test(gateway_link, stored_balance_on_auth)
{
	S->fake.stored_balance = 5000000;
	open_session();
	cr_assert_eq(last()->balance, 5000000);
	cr_assert_eq(send_packets(1), 0);
	cr_assert_eq(S->fake.forwarded, 1);
}

Test(gateway_link, garbage_frame)
{
	open_session();
	uint8_t junk[] = { 0x42, 0, 0, 0 };
	cr_assert_neq(client_raw(junk, sizeof(junk)), 0);
	cr_assert_eq((*back(2)).error.code, LINK_ERR_PROTOCOL);
	cr_assert_eq(S->counters.protocol_errors, 1);
	cr_assert(gateway_link_closing(&S->link));
	/* Nothing more is taken. */
	cr_assert_neq(gateway_link_feed(&S->link, junk, 1, NOW), 0);
}

Test(gateway_link, oversize_frame)
{
	open_session();
	uint8_t hdr[] = { LINK_MSG_AUTH, 0, 0x10, 0x00 }; /* AUTH of 4096 bytes */
	cr_assert_eq(client_raw(hdr, sizeof(hdr)), -EMSGSIZE);
	cr_assert_eq((*back(2)).error.code, LINK_ERR_PROTOCOL);
	cr_assert_eq(S->counters.protocol_errors, 1);
}

Test(gateway_link, gateway_type_from_client)
{
	handshake();
	uint8_t f[] = { LINK_MSG_VERSION, 0, 0, 1, 1 };
	cr_assert_eq(client_raw(f, sizeof(f)), -EINVAL);
	cr_assert_eq(S->counters.protocol_errors, 1);
}

Test(gateway_link, frames_split_and_joined)
{
	handshake();
	/* HELLO split over two Noise frames, then AUTH and a CLOSE joined in one. */
	uint8_t hello_f[] = { 1, 0, 0, 2, 1, 1 };
	cr_assert_eq(client_raw(hello_f, 3), 0);
	cr_assert_eq(S->ngot, 0);
	cr_assert_eq(client_raw(hello_f + 3, 3), 0);
	cr_assert_eq(last()->type, LINK_MSG_VERSION);
	uint8_t h[32];
	noise_session_handshake_hash(&S->client, h);
	struct link_msg m = { .type = LINK_MSG_AUTH };
	link_auth_sign(&S->client_id, h, NOW, &m.auth);
	uint8_t buf[256];
	size_t n;
	cr_assert_eq(link_msg_encode(&m, buf, sizeof(buf), &n), 0);
	memcpy(buf + n, (uint8_t[]){ 0x0b, 0, 0, 0 }, 4);
	cr_assert_eq(client_raw(buf, n + 4), 0);
	cr_assert_eq((*back(2)).type, LINK_MSG_AUTH_OK);
	cr_assert_eq(last()->type, LINK_MSG_CLOSE);
}

Test(gateway_link, garbage_before_handshake)
{
	uint8_t junk[64];
	memset(junk, 0x55, sizeof(junk));
	cr_assert_neq(gateway_link_feed(&S->link, junk, sizeof(junk), NOW), 0);
	cr_assert(gateway_link_closing(&S->link));
	const uint8_t *out;
	cr_assert_eq(gateway_link_output(&S->link, &out), 0, "nothing said without a transport");
	cr_assert_eq(S->counters.noise_failures, 1);
}

Test(gateway_link, wrong_gateway_key)
{
	struct noise_session other;
	struct nym_x25519_keypair k;
	nym_x25519_generate(&k);
	cr_assert_eq(noise_session_init(&other, NOISE_INITIATOR, &k, k.public_key, NULL), 0);
	uint8_t first[128];
	size_t n;
	cr_assert_eq(noise_session_start(&other, first, sizeof(first), &n), 0);
	cr_assert_neq(gateway_link_feed(&S->link, first, n, NOW), 0);
	cr_assert_eq(S->counters.noise_failures, 1);
	noise_session_clear(&other);
}

Test(gateway_link, deliver_before_auth)
{
	handshake();
	uint8_t item[21] = { 0 };
	cr_assert_eq(gateway_link_deliver(&S->link, MIX_PACKET_SIZE_ACK, item, sizeof(item)), -ENOTCONN);
}

Test(gateway_link, output_backpressure)
{
	S->fake.stored_balance = 1ull << 40;
	open_session();
	uint8_t item[2029] = { 0 };
	int rc = 0;
	size_t n = 0;
	while ((rc = gateway_link_deliver(&S->link, MIX_PACKET_SIZE_REGULAR, item, sizeof(item))) == 0)
		n++;
	cr_assert_eq(rc, -ENOBUFS);
	cr_assert_gt(n, 100);
	pump_to_client();
	cr_assert_eq(gateway_link_deliver(&S->link, MIX_PACKET_SIZE_REGULAR, item, sizeof(item)), 0);
}

/* The real ticket store and issuer keys behind the hook: a ticket buys bandwidth once, a reused
 * serial is refused at once (also on a second link), a forged signature and a ticket of
 * another type are rejected. */
Test(gateway_link, real_ticket_store, .timeout = 120)
{
	static struct credfix cf;
	char path[300];
	uint8_t t[NYM_TICKET_MAX_LEN];
	credfix_init(&cf, 1u << NYM_TICKET_MIXNET_ENTRY | 1u << NYM_TICKET_WG_ENTRY);
	struct nym_ticketbook *book = credfix_issue_book(&cf, NYM_TICKET_MIXNET_ENTRY, 3);
	struct nym_ticketbook *wg = credfix_issue_book(&cf, NYM_TICKET_WG_ENTRY, 1);
	test_path(path, sizeof(path), cf.dir, "tickets.db");
	cr_assert_eq(nym_ticket_store_open(&S->fake.store, path), 0);
	test_path(path, sizeof(path), cf.dir, "clients.sqlite");
	cr_assert_eq(gateway_clients_open(&S->fake.clients, path, 4, 86400), 0);
	S->fake.cf = &cf;
	open_session();
	size_t n = credfix_ticket(book, 0, t);
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	cr_assert_eq(last()->balance, S->fake.grant);
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_SPENT);
	n = credfix_ticket(book, 1, t);
	t[n - 1] ^= 1;
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_REJECTED, "forged");
	n = credfix_ticket(wg, 0, t);
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_REJECTED, "not a mixnet-entry ticket");
	n = credfix_ticket(book, 2, t);
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	cr_assert_eq(last()->balance, 2 * S->fake.grant);
	cr_assert_eq(S->counters.tickets_accepted, 2);
	cr_assert_eq(S->counters.tickets_spent, 1);
	cr_assert_eq(S->counters.tickets_rejected, 2);
	cr_assert(!gateway_link_closing(&S->link));
	uint64_t v, pending;
	cr_assert_eq(gateway_clients_balance_get(S->fake.clients, S->client_id.public_key, &v), 0);
	cr_assert_eq(v, 2 * S->fake.grant);
	cr_assert_eq(gateway_clients_credit_pending_count(S->fake.clients, &pending), 0);
	cr_assert_eq(pending, 0, "refused tickets leave no pending credit");
	gateway_clients_close(S->fake.clients);
	S->fake.clients = NULL;
	nym_ticket_store_close(S->fake.store);
	S->fake.store = NULL;
	nym_ticketbook_free(book);
	nym_ticketbook_free(wg);
	credfix_fini(&cf);
}

/* The crash of the issue: the ticket's serial committed as spent, then the gateway dies before
 * the link saves its balance. The credit was committed with the spend's steps
 * (gateway_clients_spend_ticket), so after the restart the client has its bandwidth, once,
 * and the ticket is refused. */
Test(gateway_link, ticket_credit_survives_a_crash, .timeout = 120)
{
	static struct credfix cf;
	char tpath[300], cpath[300];
	uint8_t t[NYM_TICKET_MAX_LEN];
	uint64_t v, applied, dropped;
	credfix_init(&cf, 1u << NYM_TICKET_MIXNET_ENTRY);
	struct nym_ticketbook *book = credfix_issue_book(&cf, NYM_TICKET_MIXNET_ENTRY, 1);
	test_path(tpath, sizeof(tpath), cf.dir, "tickets.db");
	test_path(cpath, sizeof(cpath), cf.dir, "clients.sqlite");
	cr_assert_eq(nym_ticket_store_open(&S->fake.store, tpath), 0);
	cr_assert_eq(gateway_clients_open(&S->fake.clients, cpath, 4, 86400), 0);
	S->fake.cf = &cf;
	S->fake.saves_lost = true;
	open_session();
	size_t n = credfix_ticket(book, 0, t);
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->type, LINK_MSG_BANDWIDTH);
	cr_assert_eq(last()->balance, S->fake.grant);
	/* The crash: the link and both databases gone without another word. */
	gateway_clients_close(S->fake.clients);
	nym_ticket_store_close(S->fake.store);
	gateway_link_free(&S->link);

	cr_assert_eq(nym_ticket_store_open(&S->fake.store, tpath), 0);
	cr_assert_eq(gateway_clients_open(&S->fake.clients, cpath, 4, 86400), 0);
	cr_assert_eq(gateway_clients_credit_resolve(S->fake.clients, S->fake.store, cf.now, &applied, &dropped), 0);
	cr_assert_eq(applied + dropped, 0, "nothing was left pending");
	cr_assert_eq(gateway_clients_balance_get(S->fake.clients, S->client_id.public_key, &v), 0);
	cr_assert_eq(v, S->fake.grant);
	/* A new link of the same client starts with it; the ticket is spent. */
	S->fake.saves_lost = false;
	struct gateway_link_config cfg = { .counters = &S->counters, .scratch = S->scratch };
	struct gateway_link_hooks hooks = { &S->fake, fk_authenticated, fk_spend, fk_saved, fk_forward, NULL };
	cr_assert_eq(gateway_link_init(&S->link, &S->gw_noise, &cfg, &hooks), 0);
	struct nym_x25519_keypair ck;
	nym_x25519_generate(&ck);
	noise_session_clear(&S->client);
	cr_assert_eq(noise_session_init(&S->client, NOISE_INITIATOR, &ck, S->gw_noise.public_key, NULL), 0);
	link_frame_decoder_init(&S->cdec, LINK_FROM_GATEWAY);
	open_session();
	cr_assert_eq(last()->balance, S->fake.grant);
	cr_assert_eq(spend_bytes(t, n), 0);
	cr_assert_eq(last()->error.code, LINK_ERR_TICKET_SPENT);
	cr_assert_eq(gateway_clients_balance_get(S->fake.clients, S->client_id.public_key, &v), 0);
	cr_assert_eq(v, S->fake.grant);
	gateway_clients_close(S->fake.clients);
	nym_ticket_store_close(S->fake.store);
	S->fake.clients = NULL;
	S->fake.store = NULL;
	nym_ticketbook_free(book);
	credfix_fini(&cf);
}

/* ---- WireGuard registration over the link (PROTOCOLS.md §8.7) ---- */

static int wg_spend(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		    const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance)
{
	(void)ctx;
	(void)len;
	(void)id;
	(void)type;
	if (ticket[0] == 0xff)
		return -EBADMSG;
	*balance = bytes;
	return 0;
}

static int wg_apply(void *ctx, const struct gateway_wg_action *a)
{
	(void)ctx;
	(void)a;
	return 0;
}

static int fk_wg(void *ctx, const struct link_msg *req, struct link_msg *resp)
{
	return gateway_wg_handle(((struct fake *)ctx)->wg, req, (int64_t)NOW, resp);
}

/* The link again, now with a WireGuard engine behind it. */
static void wg_link(void)
{
	struct gateway_wg_config wcfg = { .ticket_type = NYM_TICKET_WG_EXIT };
	struct gateway_wg_hooks wh = { .spend = wg_spend, .apply = wg_apply };
	struct nym_x25519_keypair wk;
	nym_x25519_generate(&wk);
	gateway_wg_pool_default_config(&wcfg.pool);
	cr_assert_eq(gateway_wg_open(&S->fake.wg, &wcfg, &wk, NULL, &wh, (int64_t)NOW), 0);
	gateway_link_free(&S->link);
	struct gateway_link_config cfg = { .counters = &S->counters, .scratch = S->scratch };
	struct gateway_link_hooks hooks = { &S->fake, fk_authenticated, fk_spend, fk_saved, fk_forward, fk_wg };
	cr_assert_eq(gateway_link_init(&S->link, &S->gw_noise, &cfg, &hooks), 0);
}

static size_t wg_ticket(uint8_t *t, uint8_t first)
{
	memset(t, 0x21, LINK_TICKET_MIN_LEN);
	t[0] = first;
	memset(t + NYM_BRSA_PREFIX_LEN, 0, NYM_TICKET_MSG_LEN);
	t[NYM_BRSA_PREFIX_LEN] = NYM_TICKET_WG_EXIT;
	return LINK_TICKET_MIN_LEN;
}

Test(gateway_link, wg_registration_without_auth)
{
	static uint8_t t[LINK_TICKET_MIN_LEN];
	struct client_wg_register c;
	struct nym_x25519_keypair ck;
	struct link_msg m;
	bool send;
	wg_link();
	handshake();
	hello();
	nym_x25519_generate(&ck);
	cr_assert_eq(client_wg_register_init(&c, &ck, NULL, t, wg_ticket(t, 1)), 0);
	cr_assert_eq(client_wg_register_start(&c, &m), 0);
	cr_assert_eq(client_send(&m), 0);
	cr_assert_eq(last()->type, LINK_MSG_WG_PENDING);
	cr_assert_eq(client_wg_register_on_msg(&c, last(), &m, &send), 0);
	cr_assert(send);
	cr_assert_eq(client_send(&m), 0);
	cr_assert_eq(last()->type, LINK_MSG_WG_REGISTERED);
	cr_assert_eq(client_wg_register_on_msg(&c, last(), &m, &send), 0);
	cr_assert(client_wg_register_done(&c));
	cr_assert_eq(c.result.balance, 500000000);
	/* A query, after AUTH too. */
	cr_assert_eq(auth_at(NOW, false), 0);
	cr_assert_eq(last()->type, LINK_MSG_AUTH_OK);
	struct link_msg q = { .type = LINK_MSG_WG_QUERY };
	memcpy(q.wg_key, ck.public_key, 32);
	cr_assert_eq(client_send(&q), 0);
	cr_assert_eq(last()->type, LINK_MSG_WG_BANDWIDTH);
	cr_assert(last()->wg_bandwidth.registered);
	cr_assert_eq(S->counters.wg_requests, 3);
	client_wg_register_clear(&c);
	gateway_wg_close(S->fake.wg);
}

Test(gateway_link, wg_refusals_end_the_link)
{
	struct nym_x25519_keypair ck;
	struct link_msg m = { .type = LINK_MSG_WG_INIT };
	wg_link();
	handshake();
	hello();
	nym_x25519_generate(&ck);
	memcpy(m.wg_key, ck.public_key, 32);
	cr_assert_eq(client_send(&m), 0);
	cr_assert_eq(last()->type, LINK_MSG_WG_PENDING);
	struct link_msg fin = { .type = LINK_MSG_WG_FINAL };
	memcpy(fin.wg_final.client_key, ck.public_key, 32);
	fin.wg_final.ips = last()->wg_pending.ips;
	fin.wg_final.nonce = last()->wg_pending.nonce; /* and a MAC of zeros */
	for (int i = 0; i < GATEWAY_LINK_MAX_REFUSED_TICKETS; i++) {
		cr_assert_eq(client_send(&fin), 0);
		cr_assert_eq(last()->error.code, LINK_ERR_WG_BAD_MAC);
	}
	cr_assert_neq(client_send(&fin), 0);
	cr_assert(gateway_link_closing(&S->link));
	cr_assert_eq(S->counters.wg_refused, GATEWAY_LINK_MAX_REFUSED_TICKETS + 1);
	cr_assert_eq(S->counters.tickets_too_many, 1);
	gateway_wg_close(S->fake.wg);
}

Test(gateway_link, wg_frames_need_version_and_an_engine)
{
	struct link_msg m = { .type = LINK_MSG_WG_INIT, .wg_key = { 9 } };
	/* No engine: out of order. */
	handshake();
	hello();
	cr_assert_neq(client_send(&m), 0);
	cr_assert_eq(back(2)->error.code, LINK_ERR_PROTOCOL);
	cr_assert_eq(last()->type, LINK_MSG_CLOSE);
	cr_assert_eq(S->counters.out_of_order, 1);
}

Test(gateway_link, wg_before_hello)
{
	struct link_msg m = { .type = LINK_MSG_WG_INIT, .wg_key = { 9 } };
	wg_link();
	handshake();
	cr_assert_neq(client_send(&m), 0);
	cr_assert_eq(back(2)->error.code, LINK_ERR_PROTOCOL);
	cr_assert_eq(last()->type, LINK_MSG_CLOSE);
	cr_assert_eq(S->counters.wg_requests, 0);
	gateway_wg_close(S->fake.wg);
}
