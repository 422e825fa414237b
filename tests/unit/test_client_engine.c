/* The client engine end to end with real Sphinx processing: packets leave one engine as SEND
 * entries, are peeled by simulated nodes holding the Sphinx keys of an epoch document built
 * here, the final gateway takes the SURB-ACK off and hands the rest to a second engine as a
 * RECEIVE item, and the ack travels back through the mixnet to the sender. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_engine.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "link/link_msg.h"
#include "mix/mix_envelope.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_reassembly.h"
#include "mix/mix_reply.h"
#include "net/net_addr.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_surb.h"

#define PER_LAYER 2
#define GATEWAYS 2
#define MS 1000000ull
#define SEC 1000000000ull
#define ENTRY_LEN (LINK_SEND_ENTRY_OVERHEAD + MIX_REGULAR_PACKET_LEN)
#define ITEM_LEN (2048 - MIX_SURB_ACK_HOP_LEN)
#define MAX_ENTRIES 512

enum { GW_A = 0, GW_B = 1 };

struct node {
	struct nym_descriptor_signed *sd;
	struct nym_x25519_keypair kp;
	uint8_t routing[32];
};

static struct {
	struct nym_epoch_doc doc;
	struct nym_descriptor_signed layers[NYM_LAYERS][PER_LAYER];
	struct nym_descriptor_signed gateways[GATEWAYS];
	struct node nodes[NYM_LAYERS * PER_LAYER + GATEWAYS];
	size_t n_nodes;
} net;

struct client {
	struct nym_ed25519_keypair id;
	struct nym_x25519_keypair enc;
	struct client_engine *e;
	struct mix_recipient addr;
};

static uint8_t entries[MAX_ENTRIES * ENTRY_LEN];

static void add_node(struct nym_descriptor_signed *sd, int a, int b, uint8_t id0)
{
	struct node *n = &net.nodes[net.n_nodes++];
	memset(sd, 0, sizeof(*sd));
	nym_x25519_generate(&n->kp);
	snprintf(sd->d.addresses[0], sizeof(sd->d.addresses[0]), "10.0.%d.%d", a, b);
	sd->d.mix_port = 1789;
	sd->d.identity[0] = id0;
	sd->d.identity[31] = 0x5a;
	sd->d.sphinx_count = 1;
	sd->d.sphinx[0].rotation = 4;
	memcpy(sd->d.sphinx[0].key, n->kp.public_key, 32);
	n->sd = sd;
	struct net_addr na;
	cr_assert_eq(net_addr_parse(&na, sd->d.addresses[0], 1789), 0);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&na.ss, na.len, n->routing), 0);
}

static void build_net(void)
{
	memset(&net, 0, sizeof(net));
	for (int l = 0; l < NYM_LAYERS; l++) {
		for (int i = 0; i < PER_LAYER; i++)
			add_node(&net.layers[l][i], l, i + 1, (uint8_t)(l * 16 + i));
		net.doc.layers[l] = net.layers[l];
		net.doc.layer_count[l] = PER_LAYER;
	}
	for (int g = 0; g < GATEWAYS; g++)
		add_node(&net.gateways[g], 9, g + 1, (uint8_t)(0xa0 + g));
	net.doc.gateways = net.gateways;
	net.doc.gateway_count = GATEWAYS;
}

static struct node *node_at(const uint8_t routing[32])
{
	for (size_t i = 0; i < net.n_nodes; i++)
		if (memcmp(net.nodes[i].routing, routing, 32) == 0)
			return &net.nodes[i];
	return NULL;
}

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
	build_net();
}

TestSuite(client_engine, .init = setup, .timeout = 120);

/* Quiet engines: real packets go at once, no cover, unless a test turns the streams on. */
static void quiet_config(struct client_engine_config *cfg)
{
	client_engine_config_default(cfg);
	cfg->average_packet_delay_ns = 1 * MS;
	cfg->average_ack_delay_ns = 1 * MS;
	cfg->poisson.disable_main_poisson_packet_distribution = true;
	cfg->poisson.disable_loop_cover_traffic_stream = true;
}

static void client_init(struct client *c, int gateway, const struct client_engine_config *base)
{
	struct client_engine_config cfg = *base;
	nym_ed25519_generate(&c->id);
	nym_x25519_generate(&c->enc);
	cfg.identity = &c->id;
	cfg.encryption = &c->enc;
	memcpy(cfg.gateway_identity, net.gateways[gateway].d.identity, 32);
	cr_assert_eq(client_engine_new(&cfg, NULL, &c->e), 0);
	cr_assert_eq(client_engine_set_topology(c->e, &net.doc), 0);
	client_engine_address(c->e, &c->addr);
	cr_assert_arr_eq(c->addr.identity, c->id.public_key, 32);
	cr_assert_arr_eq(c->addr.encryption_key, c->enc.public_key, 32);
}

static void client_fini(struct client *c)
{
	client_engine_free(c->e);
}

/* Peels a packet hop by hop from `first` (padded routing address) to its final hop. */
static struct node *walk(const uint8_t first[32], uint8_t *packet, size_t len, struct sphinx_processed *out)
{
	uint8_t addr[32];
	memcpy(addr, first, 32);
	for (int hop = 0; hop < SPHINX_MAX_HOPS; hop++) {
		struct node *n = node_at(addr);
		cr_assert_not_null(n, "hop %d: no node at the address", hop);
		cr_assert_eq(sphinx_packet_process(packet, len, n->kp.secret, out), 0, "hop %d", hop);
		if (out->kind == SPHINX_HOP_FINAL) {
			cr_assert_eq(hop, 3, "four hops");
			return n;
		}
		cr_assert_lt(out->delay_ns, 1 * SEC);
		memcpy(addr, out->address, 32);
	}
	cr_assert_fail("no final hop");
	return NULL;
}

/* What a final gateway does with a packet for a client. */
struct delivered {
	struct node *gateway;
	uint8_t destination[32];
	uint8_t item[ITEM_LEN];
	bool has_ack;
	uint8_t ack_first[32];
	uint8_t ack_packet[MIX_ACK_PACKET_LEN];
};

static void final_hop(struct node *gw, const struct sphinx_processed *out, const uint8_t *packet, size_t len,
		      struct delivered *d)
{
	const uint8_t *msg;
	size_t mlen;
	d->gateway = gw;
	memcpy(d->destination, out->address, 32);
	cr_assert_eq(sphinx_packet_message(packet, len, &msg, &mlen), 0);
	cr_assert_eq(mlen, 2048);
	d->has_ack = !mix_surb_ack_absent(msg);
	if (d->has_ack) {
		struct sockaddr_storage ss;
		socklen_t sl;
		const uint8_t *ack;
		cr_assert_eq(mix_surb_ack_split(msg, &ss, &sl, &ack), 0);
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&ss, sl, d->ack_first), 0);
		memcpy(d->ack_packet, ack, MIX_ACK_PACKET_LEN);
	}
	/* §8.6: the plaintext after the first hop, the ack packet's bytes zeroed. */
	memcpy(d->item, msg + MIX_SURB_ACK_HOP_LEN, ITEM_LEN);
	if (d->has_ack)
		memset(d->item, 0, MIX_ACK_PACKET_LEN);
}

/* One SEND entry through the mixnet. */
static void deliver_entry(const uint8_t *entry, struct delivered *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	uint8_t first[32];
	cr_assert_leq(entry[0], 2, "key rotation");
	cr_assert_eq(entry[0], 2, "rotation 4 is even");
	cr_assert_eq(mix_node_addr_decode(entry + 1, MIX_NODE_ADDR_MAX_UNPADDED_LEN, &ss, &sl, &used), 0);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&ss, sl, first), 0);
	static uint8_t packet[MIX_REGULAR_PACKET_LEN];
	memcpy(packet, entry + LINK_SEND_ENTRY_OVERHEAD, sizeof(packet));
	struct sphinx_processed out;
	struct node *gw = walk(first, packet, sizeof(packet), &out);
	final_hop(gw, &out, packet, sizeof(packet), d);
}

/* The ack back to its sender: through the mixnet to the sender's gateway, as an ack item. */
static int return_ack(struct client *sender, const struct delivered *d, uint64_t now)
{
	cr_assert(d->has_ack);
	uint8_t packet[MIX_ACK_PACKET_LEN];
	memcpy(packet, d->ack_packet, sizeof(packet));
	struct sphinx_processed out;
	struct node *gw = walk(d->ack_first, packet, sizeof(packet), &out);
	cr_assert_arr_eq(gw->sd->d.identity, sender->addr.gateway, 32, "acks come back to the sender's gateway");
	cr_assert_arr_eq(out.address, sender->addr.identity, 32);
	const uint8_t *msg;
	size_t mlen;
	cr_assert_eq(sphinx_packet_message(packet, sizeof(packet), &msg, &mlen), 0);
	cr_assert_eq(mlen, MIX_ACK_PLAINTEXT_LEN);
	return client_engine_receive(sender->e, MIX_PACKET_SIZE_ACK, msg, mlen, now);
}

/* Delivers a packet to the client it was addressed to; checks it ended at that client's
 * gateway. */
static void deliver_to(struct client *to, const struct delivered *d, uint64_t now)
{
	cr_assert_arr_eq(d->gateway->sd->d.identity, to->addr.gateway, 32, "at the recipient's gateway");
	cr_assert_arr_eq(d->destination, to->addr.identity, 32);
	cr_assert_eq(client_engine_receive(to->e, MIX_PACKET_SIZE_REGULAR, d->item, ITEM_LEN, now), 0);
}

static void expect_message(struct client *c, enum mix_message_type type, const uint8_t *body, size_t len)
{
	enum mix_message_type t;
	uint8_t *got;
	size_t got_len;
	cr_assert_eq(client_engine_next_message(c->e, &t, &got, &got_len), 0, "a message waits");
	cr_assert_eq(t, type);
	cr_assert_eq(got_len, len);
	cr_assert_eq(memcmp(got, body, len), 0);
	free(got);
}

static struct client_engine_stats stats_of(const struct client *c)
{
	struct client_engine_stats s;
	client_engine_get_stats(c->e, &s);
	return s;
}

/* ---------------------------------------------------------------------------------------- */

Test(client_engine, multi_fragment_message_arrives_and_acks_stop_retransmission)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[5000];
	nym_random(msg, sizeof(msg));
	uint64_t now = 1000 * SEC;
	cr_assert_eq(client_engine_poll(a.e, now, entries, MAX_ENTRIES), 0, "nothing queued");
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), now), 0);
	cr_assert_eq(stats_of(&a).queued, 4, "5001 bytes in 1604-byte fragments");
	cr_assert_leq(client_engine_next_due(a.e, now), now);
	size_t n = client_engine_poll(a.e, now, entries, MAX_ENTRIES);
	cr_assert_eq(n, 4);
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.real_sent, 4);
	cr_assert_eq(s.in_flight, 4);
	cr_assert_eq(s.queued, 0);
	static struct delivered d[4];
	/* Out of order, to exercise reassembly. */
	for (int i = 3; i >= 0; i--) {
		deliver_entry(entries + (size_t)i * ENTRY_LEN, &d[i]);
		deliver_to(&b, &d[i], now + 10 * MS);
	}
	expect_message(&b, MIX_MESSAGE_PLAIN, msg, sizeof(msg));
	cr_assert_eq(stats_of(&b).messages_received, 1);
	cr_assert_eq(stats_of(&b).fragments_received, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(return_ack(&a, &d[i], now + 20 * MS), 0);
	s = stats_of(&a);
	cr_assert_eq(s.acks_received, 4);
	cr_assert_eq(s.in_flight, 0);
	cr_assert_eq(client_engine_next_due(a.e, now), UINT64_MAX, "nothing left to do");
	/* Long after every deadline: nothing is re-sent. */
	cr_assert_eq(client_engine_poll(a.e, now + 60 * SEC, entries, MAX_ENTRIES), 0);
	cr_assert_eq(stats_of(&a).retransmitted, 0);
	/* A duplicate ack is counted, not an error. */
	cr_assert_eq(return_ack(&a, &d[0], now + 61 * SEC), 0);
	cr_assert_eq(stats_of(&a).acks_unmatched, 1);
	client_fini(&a);
	client_fini(&b);
}

Test(client_engine, entries_decode_as_link_send_entries)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_A, &cfg);
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_REPLIABLE, (const uint8_t *)"x", 1, 0), 0);
	cr_assert_eq(client_engine_poll(a.e, 0, entries, MAX_ENTRIES), 1);
	struct link_packets p = { MIX_PACKET_SIZE_REGULAR, 1, link_send_entry_len(MIX_PACKET_SIZE_REGULAR), entries };
	cr_assert_eq(p.item_len, ENTRY_LEN);
	struct link_send_entry se;
	link_send_entry_get(&p, 0, &se);
	cr_assert_eq(se.packet_len, MIX_REGULAR_PACKET_LEN);
	struct delivered d;
	deliver_entry(entries, &d);
	deliver_to(&b, &d, 0);
	expect_message(&b, MIX_MESSAGE_REPLIABLE, (const uint8_t *)"x", 1);
	client_fini(&a);
	client_fini(&b);
}

Test(client_engine, a_dropped_packet_is_sent_again_after_its_deadline)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[4000];
	nym_random(msg, sizeof(msg));
	uint64_t now = 5 * SEC;
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), now), 0);
	cr_assert_eq(client_engine_poll(a.e, now, entries, MAX_ENTRIES), 3);
	static struct delivered d[3];
	for (int i = 0; i < 3; i++) {
		if (i == 1)
			continue; /* lost */
		deliver_entry(entries + (size_t)i * ENTRY_LEN, &d[i]);
		deliver_to(&b, &d[i], now);
		cr_assert_eq(return_ack(&a, &d[i], now), 0);
	}
	cr_assert_eq(client_engine_next_message(b.e, &(enum mix_message_type){ 0 }, &(uint8_t *){ NULL },
						&(size_t){ 0 }),
		     -ENOENT, "incomplete");
	uint64_t due = client_engine_next_due(a.e, now);
	cr_assert_geq(due, now + 1500 * MS, "ack_wait_addition at least");
	cr_assert_lt(due, now + 10 * SEC);
	cr_assert_eq(client_engine_poll(a.e, due - 1, entries, MAX_ENTRIES), 0, "not before the deadline");
	cr_assert_eq(client_engine_poll(a.e, due, entries, MAX_ENTRIES), 1, "the lost fragment again");
	cr_assert_eq(stats_of(&a).retransmitted, 1);
	deliver_entry(entries, &d[1]);
	deliver_to(&b, &d[1], due);
	expect_message(&b, MIX_MESSAGE_PLAIN, msg, sizeof(msg));
	cr_assert_eq(return_ack(&a, &d[1], due), 0);
	cr_assert_eq(stats_of(&a).in_flight, 0);
	cr_assert_eq(client_engine_next_due(a.e, due), UINT64_MAX);
	client_fini(&a);
	client_fini(&b);
}

Test(client_engine, the_cap_on_retransmissions_fails_the_fragment_and_its_message)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	cfg.ack.max_retransmissions = 2;
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[3000];
	nym_random(msg, sizeof(msg));
	uint64_t now = 0;
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), now), 0);
	size_t sent = client_engine_poll(a.e, now, entries, MAX_ENTRIES);
	cr_assert_eq(sent, 2);
	/* Fragment 1 gets through and is acked; fragment 2 is lost every time. */
	struct delivered d;
	deliver_entry(entries, &d);
	cr_assert_eq(return_ack(&a, &d, now), 0);
	int rounds = 0;
	while (stats_of(&a).fragments_failed == 0) {
		now = client_engine_next_due(a.e, now);
		cr_assert_neq(now, UINT64_MAX);
		sent += client_engine_poll(a.e, now, entries, MAX_ENTRIES);
		cr_assert_lt(++rounds, 10);
	}
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.retransmitted, 2);
	cr_assert_eq(sent, 4);
	cr_assert_eq(s.fragments_failed, 1);
	cr_assert_eq(s.messages_failed, 1);
	cr_assert_eq(s.in_flight, 0);
	cr_assert_eq(client_engine_next_due(a.e, now), UINT64_MAX);
	client_fini(&a);
	client_fini(&b);
}

/* A message fails as a whole: the fragments still waiting are not sent any more. */
Test(client_engine, a_failed_fragment_abandons_the_rest_of_its_message)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	cfg.ack.max_retransmissions = 0;
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[8000];
	nym_random(msg, sizeof(msg));
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), 0), 0);
	cr_assert_eq(client_engine_poll(a.e, 0, entries, 2), 2, "two of five, the rest queued");
	cr_assert_eq(stats_of(&a).queued, 3);
	uint64_t due = client_engine_next_due(a.e, 0);
	cr_assert_eq(due, 0, "queued ones are due");
	/* Past the deadlines of the first two: the first fails, the message with it, and the
	 * other fragments are forgotten, sent or not. */
	cr_assert_eq(client_engine_poll(a.e, 100 * SEC, entries, 0), 0);
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.fragments_failed, 1);
	cr_assert_eq(s.in_flight, 0);
	cr_assert_eq(s.messages_failed, 1);
	cr_assert_eq(s.queued, 0);
	cr_assert_eq(client_engine_poll(a.e, 100 * SEC, entries, MAX_ENTRIES), 0);
	client_fini(&a);
	client_fini(&b);
}

/* A service answers through one of the client's reply SURBs, as the IP packet router does. */
static void service_reply_layout(const uint8_t *surb_bytes, size_t surb_len, const uint8_t *body, size_t len,
				 struct delivered *d, bool old_zero_slot)
{
	uint8_t key[MIX_REPLY_KEY_LEN];
	struct sphinx_surb surb;
	memcpy(key, surb_bytes, sizeof(key));
	cr_assert_eq(sphinx_surb_decode(&surb, surb_bytes + MIX_REPLY_KEY_LEN, surb_len - MIX_REPLY_KEY_LEN), 0);
	cr_assert_eq(surb.hops, 4);
	cr_assert_eq(surb.version, SPHINX_VERSION_259);
	/* Today's replies: the unacknowledged layout (1997 bytes a fragment); before it, the
	 * whole 405-byte slot zero and 1611 bytes, which must still decode. */
	static const struct mix_surb_ack zero_slot;
	size_t per = old_zero_slot ? 1611 : 1997;
	static uint8_t padded[4096], frag[1997], plain[2048], packet[MIX_REGULAR_PACKET_LEN];
	size_t written, flen;
	cr_assert_eq(mix_fragment_message_pad(MIX_MESSAGE_REPLY, body, len, per, padded, sizeof(padded), &written),
		     0);
	struct mix_fragmenter fr;
	struct mix_fragment_id id;
	cr_assert_eq(mix_fragmenter_init(&fr, padded, written, per, NULL), 0);
	cr_assert_eq(mix_fragmenter_total(&fr), 1);
	memset(frag, 0, sizeof(frag));
	cr_assert_eq(mix_fragmenter_next(&fr, frag, per, &flen, &id), 0);
	cr_assert_eq(mix_reply_seal(plain, sizeof(plain), old_zero_slot ? &zero_slot : NULL, key, frag, per), 0);
	cr_assert_eq(sphinx_surb_use(&surb, packet, sizeof(packet), plain, sizeof(plain)), 0);
	struct sphinx_processed out;
	struct node *gw = walk(surb.first_hop, packet, sizeof(packet), &out);
	final_hop(gw, &out, packet, sizeof(packet), d);
	cr_assert_not(d->has_ack, "a zero slot: no ack");
}

static void service_reply(const uint8_t *surb_bytes, size_t surb_len, const uint8_t *body, size_t len,
			  struct delivered *d)
{
	service_reply_layout(surb_bytes, surb_len, body, len, d, false);
}

Test(client_engine, replies_through_reply_surbs_and_each_key_is_used_once)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a;
	client_init(&a, GW_A, &cfg);
	enum { SURBS = 20 }; /* more than one batch */
	static uint8_t surbs[SURBS * 460];
	size_t surb_len = 0;
	cr_assert_eq(client_engine_make_reply_surbs(a.e, SURBS, surbs, SURBS * 460 - 1, &surb_len, 0), -ENOSPC);
	cr_assert_eq(client_engine_make_reply_surbs(a.e, SURBS, surbs, sizeof(surbs), &surb_len, 0), 0);
	cr_assert_eq(surb_len, 460);
	cr_assert_eq(stats_of(&a).reply_keys, SURBS);
	static struct delivered d;
	const char *ping = "first answer";
	service_reply(surbs + 17 * surb_len, surb_len, (const uint8_t *)ping, strlen(ping), &d);
	deliver_to(&a, &d, 10 * SEC);
	expect_message(&a, MIX_MESSAGE_REPLY, (const uint8_t *)ping, strlen(ping));
	const char *pong = "pong from the service";
	service_reply(surbs + 2 * surb_len, surb_len, (const uint8_t *)pong, strlen(pong), &d);
	deliver_to(&a, &d, 10 * SEC);
	expect_message(&a, MIX_MESSAGE_REPLY, (const uint8_t *)pong, strlen(pong));
	/* A reply of before the unacknowledged layout (the whole 405-byte slot zero, 1611 bytes)
	 * still opens: its item is the acknowledged layout's. */
	const char *old = "an old-style reply";
	service_reply_layout(surbs + 5 * surb_len, surb_len, (const uint8_t *)old, strlen(old), &d, true);
	for (size_t i = 0; i < 386; i++)
		cr_assert_eq(d.item[i], 0);
	deliver_to(&a, &d, 10 * SEC);
	expect_message(&a, MIX_MESSAGE_REPLY, (const uint8_t *)old, strlen(old));
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.replies_received, 3);
	cr_assert_eq(s.reply_keys, SURBS - 3);
	/* The same reply again: the key is gone, so the item is taken for an envelope and opens
	 * to noise (garbage, or in about 0.3 % of cases a stray fragment that never completes). */
	int rc = client_engine_receive(a.e, MIX_PACKET_SIZE_REGULAR, d.item, ITEM_LEN, 11 * SEC);
	cr_assert(rc == -EINVAL || rc == 0);
	s = stats_of(&a);
	cr_assert_eq(s.replies_received, 3);
	cr_assert_eq(s.messages_received, 3);
	cr_assert_eq(s.garbage_received + s.fragments_received, 4);
	client_fini(&a);
}

Test(client_engine, reply_keys_expire)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	cfg.reply_key_lifetime_ns = 60 * SEC;
	static struct client a;
	client_init(&a, GW_A, &cfg);
	static uint8_t surbs[460];
	size_t surb_len;
	cr_assert_eq(client_engine_make_reply_surbs(a.e, 1, surbs, sizeof(surbs), &surb_len, 0), 0);
	static struct delivered d;
	service_reply(surbs, surb_len, (const uint8_t *)"late", 4, &d);
	client_engine_poll(a.e, 61 * SEC, entries, MAX_ENTRIES);
	cr_assert_eq(stats_of(&a).reply_keys, 0);
	int rc = client_engine_receive(a.e, MIX_PACKET_SIZE_REGULAR, d.item, ITEM_LEN, 61 * SEC);
	cr_assert(rc == -EINVAL || rc == 0);
	cr_assert_eq(stats_of(&a).replies_received, 0);
	cr_assert_eq(stats_of(&a).messages_received, 0);
	client_fini(&a);
}

Test(client_engine, cover_and_loop_cover_when_nothing_is_queued)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	cfg.poisson.disable_main_poisson_packet_distribution = false;
	cfg.poisson.disable_loop_cover_traffic_stream = false;
	static struct client a;
	client_init(&a, GW_A, &cfg);
	uint64_t now = 0, end = 2 * SEC;
	size_t total = 0;
	static struct delivered d;
	bool returned = false;
	client_engine_poll(a.e, now, entries, MAX_ENTRIES);
	while ((now = client_engine_next_due(a.e, now)) < end) {
		size_t n = client_engine_poll(a.e, now, entries, MAX_ENTRIES);
		if (n && !returned) {
			/* Loop cover comes back to its sender, its ack too. */
			deliver_entry(entries, &d);
			deliver_to(&a, &d, now);
			cr_assert_eq(return_ack(&a, &d, now), 0);
			returned = true;
		}
		total += n;
	}
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(total, s.cover_sent + s.loop_cover_sent);
	cr_assert_eq(s.real_sent, 0);
	/* 2 s at 20 ms and 200 ms means: about 100 and 10. */
	cr_assert(s.cover_sent > 50 && s.cover_sent < 160, "cover %lu", (unsigned long)s.cover_sent);
	cr_assert(s.loop_cover_sent >= 2 && s.loop_cover_sent < 30, "loop %lu", (unsigned long)s.loop_cover_sent);
	cr_assert_eq(s.cover_received, 1);
	cr_assert_eq(s.cover_acks_received, 1);
	cr_assert_eq(s.messages_received, 0);

	/* A real message takes the place of cover on the mixed stream. */
	static struct client b;
	client_init(&b, GW_B, &cfg);
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, (const uint8_t *)"hi", 2, now), 0);
	uint64_t cover_before = s.cover_sent;
	while (stats_of(&a).real_sent == 0) {
		now = client_engine_next_due(a.e, now);
		client_engine_poll(a.e, now, entries, MAX_ENTRIES);
	}
	cr_assert_leq(stats_of(&a).cover_sent, cover_before + 1);
	client_fini(&a);
	client_fini(&b);
}

Test(client_engine, no_cover_when_the_streams_are_off)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a;
	client_init(&a, GW_A, &cfg);
	cr_assert_eq(client_engine_poll(a.e, 0, entries, MAX_ENTRIES), 0);
	cr_assert_eq(client_engine_next_due(a.e, 0), UINT64_MAX);
	for (uint64_t t = 0; t < 10 * SEC; t += 100 * MS)
		cr_assert_eq(client_engine_poll(a.e, t, entries, MAX_ENTRIES), 0);
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.cover_sent + s.loop_cover_sent, 0);
	client_fini(&a);
}

Test(client_engine, garbage_is_counted)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a;
	client_init(&a, GW_A, &cfg);
	static uint8_t junk[4096];
	uint64_t expect = 0;
	/* An ack has no MAC (as in Nym): random bytes decrypt to an id half the time, which is
	 * then unknown. */
	uint64_t acks = 0, frags = 0;
	for (int i = 0; i < 50; i++) {
		nym_random(junk, sizeof(junk));
		int rc = client_engine_receive(a.e, MIX_PACKET_SIZE_ACK, junk, MIX_ACK_PLAINTEXT_LEN, 0);
		cr_assert(rc == 0 || rc == -EINVAL);
		expect += rc != 0;
		acks += rc == 0;
		/* An envelope has no MAC either (as in Nym): about 0.3 % of random bodies decode as
		 * a fragment and wait in reassembly, never completing a message. */
		rc = client_engine_receive(a.e, MIX_PACKET_SIZE_REGULAR, junk, ITEM_LEN, 0);
		cr_assert(rc == 0 || rc == -EINVAL);
		expect += rc != 0;
		frags += rc == 0;
	}
	size_t lens[] = { 0, 1, 20, 22, ITEM_LEN - 1, ITEM_LEN + 1, 4096 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		cr_assert_eq(client_engine_receive(a.e, MIX_PACKET_SIZE_ACK, junk, lens[i], 0), -EINVAL);
		cr_assert_eq(client_engine_receive(a.e, MIX_PACKET_SIZE_REGULAR, junk, lens[i], 0), -EINVAL);
		expect += 2;
	}
	cr_assert_eq(client_engine_receive(a.e, MIX_PACKET_SIZE_EXTENDED8, junk, 100, 0), -EINVAL);
	cr_assert_eq(client_engine_receive(a.e, (enum mix_packet_size)99, junk, 100, 0), -EINVAL);
	expect += 2;
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.garbage_received, expect);
	cr_assert_eq(s.acks_received, acks);
	cr_assert_eq(s.acks_unmatched, acks);
	cr_assert_eq(s.fragments_received, frags);
	cr_assert_eq(s.messages_received, 0);
	client_fini(&a);
}

Test(client_engine, send_refusals)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	cfg.max_queued_packets = 4;
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[8000];
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), 0), -EMSGSIZE);
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, 4000, 0), 0);
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, 4000, 0), -ENOBUFS);
	cr_assert_eq(client_engine_send(a.e, &b.addr, (enum mix_message_type)7, msg, 1, 0), -EINVAL);
	struct mix_recipient nowhere = b.addr;
	nowhere.gateway[5] ^= 1;
	cr_assert_eq(client_engine_send(a.e, &nowhere, MIX_MESSAGE_PLAIN, msg, 1, 0), -EHOSTUNREACH);
	cr_assert_eq(client_engine_set_topology(a.e, NULL), -ENOENT);
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, 1, 0), -ENOTCONN);
	size_t sl;
	cr_assert_eq(client_engine_make_reply_surbs(a.e, 1, msg, sizeof(msg), &sl, 0), -ENOTCONN);
	/* Queued fragments wait for a topology; without one the packet counts as lost. */
	cr_assert_eq(client_engine_poll(a.e, 0, entries, MAX_ENTRIES), 0);
	cr_assert_eq(client_engine_set_topology(a.e, &net.doc), 0);
	uint64_t due = client_engine_next_due(a.e, 0);
	cr_assert_eq(client_engine_poll(a.e, due, entries, MAX_ENTRIES), 3, "re-sent on the new topology");
	/* A topology without the client's gateway is refused. */
	struct nym_epoch_doc other = net.doc;
	other.gateways = &net.gateways[GW_B];
	other.gateway_count = 1;
	cr_assert_eq(client_engine_set_topology(a.e, &other), -ENOENT);
	client_fini(&a);
	client_fini(&b);
}

/* Many messages in flight through one engine: ids stay distinct, acks free every one. */
Test(client_engine, many_messages_round_trip)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msgs[20][100];
	for (int i = 0; i < 20; i++) {
		nym_random(msgs[i], sizeof(msgs[i]));
		cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msgs[i], sizeof(msgs[i]), 0), 0);
	}
	cr_assert_eq(client_engine_poll(a.e, 0, entries, MAX_ENTRIES), 20);
	for (int i = 0; i < 20; i++) {
		static struct delivered d;
		deliver_entry(entries + (size_t)i * ENTRY_LEN, &d);
		deliver_to(&b, &d, 0);
		cr_assert_eq(return_ack(&a, &d, 0), 0);
	}
	for (int i = 0; i < 20; i++)
		expect_message(&b, MIX_MESSAGE_PLAIN, msgs[i], sizeof(msgs[i]));
	cr_assert_eq(stats_of(&a).in_flight, 0);
	client_fini(&a);
	client_fini(&b);
}

/* In one batch, packets that cannot be built (their recipient's gateway left the topology)
 * leave no hole among the entries; they go again once the gateway is back. More than one
 * batch's worth is due at once. */
Test(client_engine, unbuildable_packets_leave_no_gap_and_go_later)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a, b, c;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	client_init(&c, GW_A, &cfg);
	enum { EACH = 7 };
	static uint8_t msgs[2 * EACH][64];
	for (int i = 0; i < 2 * EACH; i++) {
		nym_random(msgs[i], sizeof(msgs[i]));
		struct client *to = i % 2 ? &c : &b;
		cr_assert_eq(client_engine_send(a.e, &to->addr, MIX_MESSAGE_PLAIN, msgs[i], sizeof(msgs[i]), 0), 0);
	}
	struct nym_epoch_doc only_a = net.doc;
	only_a.gateways = &net.gateways[GW_A];
	only_a.gateway_count = 1;
	cr_assert_eq(client_engine_set_topology(a.e, &only_a), 0);
	cr_assert_eq(client_engine_poll(a.e, 0, entries, MAX_ENTRIES), EACH);
	for (int i = 0; i < EACH; i++) {
		static struct delivered d;
		deliver_entry(entries + (size_t)i * ENTRY_LEN, &d);
		deliver_to(&c, &d, 0);
		cr_assert_eq(return_ack(&a, &d, 0), 0);
		expect_message(&c, MIX_MESSAGE_PLAIN, msgs[2 * i + 1], sizeof(msgs[0]));
	}
	cr_assert_eq(stats_of(&a).real_sent, EACH);
	cr_assert_eq(stats_of(&a).in_flight, EACH);
	cr_assert_eq(client_engine_set_topology(a.e, &net.doc), 0);
	uint64_t due = client_engine_next_due(a.e, 0);
	cr_assert_geq(due, 1500 * MS);
	cr_assert_eq(client_engine_poll(a.e, due, entries, MAX_ENTRIES), EACH);
	for (int i = 0; i < EACH; i++) {
		static struct delivered d;
		deliver_entry(entries + (size_t)i * ENTRY_LEN, &d);
		deliver_to(&b, &d, due);
		cr_assert_eq(return_ack(&a, &d, due), 0);
	}
	/* Deadlines that fall together expire in no particular order. */
	bool seen[EACH] = { false };
	for (int i = 0; i < EACH; i++) {
		enum mix_message_type t;
		uint8_t *got;
		size_t len;
		cr_assert_eq(client_engine_next_message(b.e, &t, &got, &len), 0);
		cr_assert_eq(len, sizeof(msgs[0]));
		int j = 0;
		while (j < EACH && memcmp(got, msgs[2 * j], len) != 0)
			j++;
		cr_assert_lt(j, EACH);
		cr_assert_not(seen[j]);
		seen[j] = true;
		free(got);
	}
	cr_assert_eq(stats_of(&a).in_flight, 0);
	client_fini(&a);
	client_fini(&b);
	client_fini(&c);
}

/* The IP packet router's address (contract 1): a service at the exit gateway addressed by
 * the gateway's own identity. The client's packets end at that gateway, which opens them with
 * the X25519 form of its identity key; the SURB-ACK still returns to the client's own
 * gateway, and a reply through one of the client's SURBs comes back to it. */
Test(client_engine, a_service_at_another_gateway_addressed_by_its_identity)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	/* Gateway B gets a real Ed25519 identity, still sorting after A's. */
	struct nym_ed25519_keypair gw_id;
	do
		nym_ed25519_generate(&gw_id);
	while (gw_id.public_key[0] <= net.gateways[GW_A].d.identity[0]);
	memcpy(net.gateways[GW_B].d.identity, gw_id.public_key, 32);
	static struct client a;
	client_init(&a, GW_A, &cfg);
	struct mix_recipient ipr;
	cr_assert_eq(mix_recipient_of_node(gw_id.public_key, &ipr), 0);

	/* A request carrying SURBs, as an IPR request does. */
	static uint8_t request[3000];
	size_t surb_len;
	nym_random(request, sizeof(request));
	cr_assert_eq(client_engine_make_reply_surbs(a.e, 2, request + 100, 2 * 460, &surb_len, 0), 0);
	cr_assert_eq(client_engine_send(a.e, &ipr, MIX_MESSAGE_REPLIABLE, request, sizeof(request), 0), 0);
	size_t n = client_engine_poll(a.e, 0, entries, MAX_ENTRIES);
	cr_assert_eq(n, 2);
	struct mix_reassembly *r;
	cr_assert_eq(mix_reassembly_new(NULL, &r), 0);
	uint8_t secret[32];
	nym_ed25519_secret_to_x25519(&gw_id, secret);
	struct mix_reassembly_message done = { 0 };
	for (size_t i = 0; i < n; i++) {
		static struct delivered d;
		deliver_entry(entries + i * ENTRY_LEN, &d);
		cr_assert_arr_eq(d.gateway->sd->d.identity, gw_id.public_key, 32, "at the exit gateway");
		cr_assert_arr_eq(d.destination, gw_id.public_key, 32);
		uint8_t *body;
		size_t body_len;
		uint8_t *keyed;
		size_t keyed_len;
		cr_assert_eq(mix_envelope_item_split(d.item, ITEM_LEN, &keyed, &keyed_len), 0);
		cr_assert_eq(keyed_len, ITEM_LEN - 386, "the acknowledged layout");
		cr_assert_eq(mix_envelope_open(keyed, keyed_len, secret, &body, &body_len), 0);
		cr_assert_eq(mix_reassembly_add_bytes(r, body, body_len, 0, &done), 0);
		cr_assert_eq(return_ack(&a, &d, 0), 0);
	}
	cr_assert_not_null(done.data, "the request is whole at the service");
	enum mix_message_type t;
	size_t body_len;
	cr_assert_eq(mix_fragment_message_unpad(done.data, done.len, &t, &body_len), 0);
	cr_assert_eq(t, MIX_MESSAGE_REPLIABLE);
	cr_assert_eq(body_len, sizeof(request));
	cr_assert_eq(memcmp(done.data + 1, request, sizeof(request)), 0);
	cr_assert_eq(stats_of(&a).in_flight, 0);

	/* The service answers through the second SURB of the request. */
	static struct delivered d;
	service_reply(done.data + 1 + 100 + surb_len, surb_len, (const uint8_t *)"ok", 2, &d);
	deliver_to(&a, &d, 1 * SEC);
	expect_message(&a, MIX_MESSAGE_REPLY, (const uint8_t *)"ok", 2);
	free(done.data);
	mix_reassembly_free(r);
	nym_memzero(secret, sizeof(secret));
	client_fini(&a);
}

/* The mixed stream with its rate lifted: one poll takes the whole queue (in full batches),
 * and an empty queue gives one cover packet per poll time. */
Test(client_engine, lifted_rate_drains_the_queue_in_one_poll)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	cfg.poisson.disable_main_poisson_packet_distribution = false;
	cfg.poisson.message_sending_average_delay_ns = 0;
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[30000]; /* 19 fragments */
	nym_random(msg, sizeof(msg));
	cr_assert_eq(client_engine_poll(a.e, 0, entries, MAX_ENTRIES), 0, "the streams start");
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), 1), 0);
	cr_assert_eq(client_engine_next_due(a.e, 1), 1);
	cr_assert_eq(client_engine_poll(a.e, 1, entries, 5), 5, "no more than max");
	size_t n = client_engine_poll(a.e, 2, entries + 5 * ENTRY_LEN, MAX_ENTRIES - 5);
	cr_assert_eq(n, 14);
	for (size_t i = 0; i < 19; i++) {
		static struct delivered d;
		deliver_entry(entries + i * ENTRY_LEN, &d);
		deliver_to(&b, &d, 2);
	}
	expect_message(&b, MIX_MESSAGE_PLAIN, msg, sizeof(msg));
	cr_assert_eq(stats_of(&a).cover_sent, 0);
	cr_assert_eq(client_engine_poll(a.e, 3, entries, MAX_ENTRIES), 1, "one cover per poll time");
	cr_assert_eq(client_engine_poll(a.e, 3, entries, MAX_ENTRIES), 0);
	cr_assert_eq(stats_of(&a).cover_sent, 1);
	client_fini(&a);
	client_fini(&b);
}

/* An unacknowledged message: no SURB-ACK (no ack packet at the gateway), 1990-byte
 * fragments in the unacknowledged layout, nothing tracked or re-sent; it shares a batch with
 * acknowledged packets, and the recipient opens both layouts. */
Test(client_engine, unacknowledged_messages_take_no_ack_and_are_never_resent)
{
	struct client_engine_config cfg;
	quiet_config(&cfg);
	static struct client a, b;
	client_init(&a, GW_A, &cfg);
	client_init(&b, GW_B, &cfg);
	static uint8_t msg[5000], other[3000];
	nym_random(msg, sizeof(msg));
	nym_random(other, sizeof(other));
	uint64_t now = 1000 * SEC;
	/* 5001 bytes in 1990-byte fragments: 3 (4 with a SURB-ACK each). */
	cr_assert_eq(client_engine_send_unacked(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), now), 0);
	cr_assert_eq(stats_of(&a).queued, 3);
	cr_assert_eq(client_engine_send(a.e, &b.addr, MIX_MESSAGE_PLAIN, other, sizeof(other), now), 0);
	cr_assert_eq(stats_of(&a).queued, 3 + 2);
	size_t n = client_engine_poll(a.e, now, entries, MAX_ENTRIES);
	cr_assert_eq(n, 5, "one mixed batch");
	struct client_engine_stats s = stats_of(&a);
	cr_assert_eq(s.real_sent, 5);
	cr_assert_eq(s.unacked_sent, 3);
	cr_assert_eq(s.in_flight, 2, "only the acknowledged fragments are tracked");
	static struct delivered d[5];
	int acked = 0;
	for (int i = 4; i >= 0; i--) {
		deliver_entry(entries + (size_t)i * ENTRY_LEN, &d[i]);
		if (d[i].has_ack) {
			acked++;
			cr_assert_eq(return_ack(&a, &d[i], now + 20 * MS), 0);
		}
		deliver_to(&b, &d[i], now + 10 * MS);
	}
	cr_assert_eq(acked, 2, "no ack packet for the unacknowledged ones");
	cr_assert_eq(stats_of(&b).fragments_received, 5);
	cr_assert_eq(stats_of(&b).messages_received, 2);
	enum mix_message_type t;
	uint8_t *got;
	size_t got_len;
	int seen = 0;
	while (client_engine_next_message(b.e, &t, &got, &got_len) == 0) {
		cr_assert(got_len == sizeof(msg) ? memcmp(got, msg, got_len) == 0 : memcmp(got, other, got_len) == 0);
		seen++;
		free(got);
	}
	cr_assert_eq(seen, 2);
	s = stats_of(&a);
	cr_assert_eq(s.in_flight, 0);
	cr_assert_eq(client_engine_next_due(a.e, now), UINT64_MAX, "nothing left to do");
	/* Long after every deadline: nothing is re-sent, and a lost unacknowledged packet is
	 * simply lost. */
	cr_assert_eq(client_engine_send_unacked(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, 10, now), 0);
	cr_assert_eq(client_engine_poll(a.e, now, entries, MAX_ENTRIES), 1);
	cr_assert_eq(client_engine_poll(a.e, now + 60 * SEC, entries, MAX_ENTRIES), 0);
	s = stats_of(&a);
	cr_assert_eq(s.retransmitted, 0);
	cr_assert_eq(s.real_sent, 6);
	cr_assert_eq(s.unacked_sent, 4);
	/* Queued unacknowledged fragments are freed with the engine (ASan checks). */
	cr_assert_eq(client_engine_send_unacked(a.e, &b.addr, MIX_MESSAGE_PLAIN, msg, sizeof(msg), now), 0);
	client_fini(&a);
	client_fini(&b);
}
