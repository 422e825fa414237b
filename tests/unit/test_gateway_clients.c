/* The gateway's clients.sqlite (lib/gateway/gateway_clients: balances, inbox, crash-safe ticket
 * credits) and final-hop routing (lib/gateway/gateway_final). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/credfix.h"
#include "credstore/ticket_store.h"

#include "crypto/secret.h"
#include "gateway/gateway_clients.h"
#include "gateway/gateway_final.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_surb_ack.h"
#include "../support/tmpdir.h"

static char dir[256];
static char path[512];

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "clients.sqlite");
}

static void teardown(void)
{
	test_tmpdir_remove(dir);
}

TestSuite(gateway_clients, .init = setup, .fini = teardown);

static const uint8_t A[32] = { 1 }, B[32] = { 2 };

Test(gateway_clients, balance_survives_reopen)
{
	struct gateway_clients *c;
	uint64_t v;
	cr_assert_eq(gateway_clients_open(&c, path, 4, 86400), 0);
	cr_assert_eq(gateway_clients_balance_get(c, A, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(gateway_clients_balance_set(c, A, 200000000, 100), 0);
	cr_assert_eq(gateway_clients_balance_set(c, A, 199000000, 101), 0);
	cr_assert_eq(gateway_clients_balance_set(c, B, 5, 101), 0);
	gateway_clients_close(c);
	cr_assert_eq(gateway_clients_open(&c, path, 4, 86400), 0);
	cr_assert_eq(gateway_clients_balance_get(c, A, &v), 0);
	cr_assert_eq(v, 199000000);
	cr_assert_eq(gateway_clients_balance_get(c, B, &v), 0);
	cr_assert_eq(v, 5);
	gateway_clients_close(c);
}

Test(gateway_clients, inbox_order_cap_delete)
{
	struct gateway_clients *c;
	struct gateway_inbox_item it;
	uint8_t item[2029];
	cr_assert_eq(gateway_clients_open(&c, path, 3, 86400), 0);
	for (int i = 0; i < 4; i++) {
		memset(item, i, sizeof(item));
		int rc = gateway_clients_inbox_put(c, A, MIX_PACKET_SIZE_REGULAR, item, sizeof(item), 1000 + i);
		cr_assert_eq(rc, i < 3 ? 0 : -ENOSPC);
	}
	uint8_t ack[21] = { 9 };
	cr_assert_eq(gateway_clients_inbox_put(c, B, MIX_PACKET_SIZE_ACK, ack, sizeof(ack), 1000), 0);
	struct gateway_clients_counters k;
	gateway_clients_counters(c, &k);
	cr_assert_eq(k.inbox_stored, 4);
	cr_assert_eq(k.inbox_refused_cap, 1);
	gateway_clients_close(c);
	/* after a restart, oldest first; rows go only when deleted */
	cr_assert_eq(gateway_clients_open(&c, path, 3, 86400), 0);
	int64_t after = 0;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(gateway_clients_inbox_next(c, A, after, &it), 0);
		cr_assert_eq(it.len, 2029);
		cr_assert_eq(it.size, MIX_PACKET_SIZE_REGULAR);
		cr_assert_eq(it.item[0], i);
		cr_assert_eq(it.received, 1000 + i);
		after = it.id;
	}
	cr_assert_eq(gateway_clients_inbox_next(c, A, after, &it), -ENOENT);
	cr_assert_eq(gateway_clients_inbox_next(c, A, 0, &it), 0);
	cr_assert_eq(gateway_clients_inbox_delete(c, it.id), 0);
	uint64_t n;
	cr_assert_eq(gateway_clients_inbox_count(c, A, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(gateway_clients_inbox_next(c, A, 0, &it), 0);
	cr_assert_eq(it.item[0], 1);
	cr_assert_eq(gateway_clients_inbox_next(c, B, 0, &it), 0);
	cr_assert_eq(it.len, 21);
	cr_assert_eq(it.item[0], 9);
	gateway_clients_close(c);
}

/* An inbox written before items kept the ack bytes' place (plaintext - 405 = 1643 bytes for
 * regular) is read back in today's layout: 386 zero bytes in front (the acknowledged one). */
Test(gateway_clients, inbox_converts_old_length_items)
{
	struct gateway_clients *c;
	struct gateway_inbox_item it;
	uint8_t old[1643], now[2029];
	memset(old, 0x5a, sizeof(old));
	old[0] = 0x11;
	memset(now, 0x6b, sizeof(now));
	cr_assert_eq(gateway_clients_open(&c, path, 10, 86400), 0);
	cr_assert_eq(gateway_clients_inbox_put(c, A, MIX_PACKET_SIZE_REGULAR, old, sizeof(old), 1000), 0);
	cr_assert_eq(gateway_clients_inbox_put(c, A, MIX_PACKET_SIZE_REGULAR, now, sizeof(now), 1001), 0);
	cr_assert_eq(gateway_clients_inbox_next(c, A, 0, &it), 0);
	cr_assert_eq(it.len, 2029);
	for (size_t i = 0; i < 386; i++)
		cr_assert_eq(it.item[i], 0);
	cr_assert_arr_eq(it.item + 386, old, sizeof(old));
	cr_assert_eq(gateway_clients_inbox_next(c, A, it.id, &it), 0);
	cr_assert_eq(it.len, 2029);
	cr_assert_arr_eq(it.item, now, sizeof(now));
	gateway_clients_close(c);
}

Test(gateway_clients, purge)
{
	struct gateway_clients *c;
	uint8_t item[21] = { 0 };
	uint64_t purged, n;
	cr_assert_eq(gateway_clients_open(&c, path, 10, 86400), 0);
	cr_assert_eq(gateway_clients_inbox_put(c, A, MIX_PACKET_SIZE_ACK, item, 21, 1000), 0);
	cr_assert_eq(gateway_clients_inbox_put(c, A, MIX_PACKET_SIZE_ACK, item, 21, 50000), 0);
	cr_assert_eq(gateway_clients_inbox_purge(c, 1000 + 86400 + 1, &purged), 0);
	cr_assert_eq(purged, 1);
	cr_assert_eq(gateway_clients_inbox_count(c, A, &n), 0);
	cr_assert_eq(n, 1);
	gateway_clients_close(c);
}

/* gateway_final */

struct routed {
	int injected, ipr, client, inbox;
	bool client_connected;
	struct net_addr hop;
	uint8_t rotation;
	size_t last_len;
	uint8_t last_first;
	uint8_t last[2048];
	enum mix_packet_size inj_size;
};

static int r_inject(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
		    const uint8_t *packet, size_t len)
{
	struct routed *r = ctx;
	r->injected++;
	r->hop = *next_hop;
	r->rotation = key_rotation;
	r->inj_size = size;
	cr_assert_eq(len, MIX_ACK_PACKET_LEN);
	cr_assert_eq(packet[0], 0xaa);
	return 0;
}

static void r_ipr(void *ctx, enum mix_packet_size size, const uint8_t *item, size_t len)
{
	(void)size;
	struct routed *r = ctx;
	r->ipr++;
	r->last_len = len;
	r->last_first = item[0];
	memcpy(r->last, item, len < sizeof(r->last) ? len : sizeof(r->last));
}

static int r_client(void *ctx, const uint8_t id[32], enum mix_packet_size size, const uint8_t *item, size_t len)
{
	(void)id;
	(void)size;
	struct routed *r = ctx;
	if (!r->client_connected)
		return -ENOENT;
	r->client++;
	r->last_len = len;
	r->last_first = item[0];
	memcpy(r->last, item, len < sizeof(r->last) ? len : sizeof(r->last));
	return 0;
}

static int r_inbox(void *ctx, const uint8_t id[32], enum mix_packet_size size, const uint8_t *item, size_t len)
{
	(void)id;
	(void)size;
	struct routed *r = ctx;
	r->inbox++;
	r->last_len = len;
	r->last_first = item[0];
	memcpy(r->last, item, len < sizeof(r->last) ? len : sizeof(r->last));
	return 0;
}

static void build_msg(uint8_t *msg, size_t len, bool with_ack)
{
	memset(msg, 0, len);
	msg[MIX_SURB_ACK_LEN] = 0x77;
	if (!with_ack)
		return;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789) };
	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	size_t n;
	cr_assert_eq(mix_node_addr_encode_unpadded((struct sockaddr *)&a, sizeof(a), msg, &n), 0);
	memset(msg + MIX_NODE_ADDR_MAX_UNPADDED_LEN, 0xaa, MIX_ACK_PACKET_LEN);
}

Test(gateway_clients, final_routing)
{
	struct routed r = { 0 };
	struct gateway_final f;
	const uint8_t ipr_id[32] = { 0x33 };
	struct gateway_final_hooks h = { &r, r_inject, r_ipr, r_client, r_inbox };
	gateway_final_init(&f, &h, ipr_id);
	static uint8_t msg[2048];
	/* to a client not connected: ack sent, rest to the inbox */
	build_msg(msg, sizeof(msg), true);
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, A, 2, msg, sizeof(msg)), 0);
	cr_assert_eq(r.injected, 1);
	cr_assert_eq(r.rotation, 2);
	cr_assert_eq(r.inj_size, MIX_PACKET_SIZE_ACK);
	cr_assert_eq(ntohs(((struct sockaddr_in *)&r.hop.ss)->sin_port), 1789);
	cr_assert_eq(r.inbox, 1);
	/* the item: the plaintext after the first hop, the ack packet's bytes zeroed */
	cr_assert_eq(r.last_len, 2029);
	for (size_t i = 0; i < MIX_ACK_PACKET_LEN; i++)
		cr_assert_eq(r.last[i], 0, "ack byte %zu zeroed", i);
	cr_assert_eq(r.last[MIX_ACK_PACKET_LEN], 0x77);
	cr_assert_eq(msg[MIX_NODE_ADDR_MAX_UNPADDED_LEN], 0xaa, "the packet itself is not modified");
	/* connected: to the client */
	r.client_connected = true;
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, A, 1, msg, sizeof(msg)), 0);
	cr_assert_eq(r.client, 1);
	cr_assert_eq(r.injected, 2);
	/* an old-style reply (the whole 405-byte slot zero), to the IPR: the same item */
	build_msg(msg, sizeof(msg), false);
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, ipr_id, 1, msg, sizeof(msg)), 0);
	cr_assert_eq(r.ipr, 1);
	cr_assert_eq(r.injected, 2);
	cr_assert_eq(f.counters.acks_skipped, 1);
	cr_assert_eq(r.last_len, 2029);
	cr_assert_eq(r.last[MIX_ACK_PACKET_LEN], 0x77);
	/* the unacknowledged layout: a zero first hop, everything after it handed on as it is */
	for (size_t i = MIX_NODE_ADDR_MAX_UNPADDED_LEN; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i + 1);
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, ipr_id, 1, msg, sizeof(msg)), 0);
	cr_assert_eq(r.ipr, 2);
	cr_assert_eq(r.injected, 2);
	cr_assert_eq(f.counters.acks_skipped, 2);
	cr_assert_eq(r.last_len, 2029);
	cr_assert_arr_eq(r.last, msg + MIX_NODE_ADDR_MAX_UNPADDED_LEN, 2029);
	/* an ack, whole */
	uint8_t ack[21] = { 0x55 };
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_ACK, A, 1, ack, sizeof(ack)), 0);
	cr_assert_eq(r.client, 2);
	cr_assert_eq(r.last_len, 21);
	cr_assert_eq(r.last_first, 0x55);
	cr_assert_eq(r.injected, 2);
	/* malformed */
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_ACK, A, 1, ack, 20), -EINVAL);
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, A, 1, msg, 100), -EINVAL);
	memset(msg, 0xff, MIX_NODE_ADDR_MAX_UNPADDED_LEN);
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, A, 1, msg, sizeof(msg)), -EINVAL);
	cr_assert_eq(f.counters.malformed, 3);
	cr_assert_eq(f.counters.received, 8);
}

Test(gateway_clients, final_without_ipr)
{
	struct routed r = { 0 };
	struct gateway_final f;
	const uint8_t ipr_id[32] = { 0x33 };
	struct gateway_final_hooks h = { &r, r_inject, NULL, r_client, r_inbox };
	gateway_final_init(&f, &h, ipr_id);
	static uint8_t msg[2048];
	build_msg(msg, sizeof(msg), false);
	cr_assert_eq(gateway_final_handle(&f, MIX_PACKET_SIZE_REGULAR, ipr_id, 1, msg, sizeof(msg)), 0);
	cr_assert_eq(r.ipr, 0);
	cr_assert_eq(r.inbox, 1);
}

Test(gateway_clients, batch_in_one_transaction)
{
	struct gateway_clients *c;
	uint8_t item[21] = { 0 };
	uint64_t n, v;
	cr_assert_eq(gateway_clients_open(&c, path, 3, 86400), 0);
	cr_assert_eq(gateway_clients_begin(c), 0);
	for (int i = 0; i < 5; i++)
		gateway_clients_inbox_put(c, A, MIX_PACKET_SIZE_ACK, item, 21, 1000);
	cr_assert_eq(gateway_clients_balance_set(c, A, 77, 1000), 0);
	cr_assert_eq(gateway_clients_commit(c), 0);
	gateway_clients_close(c);
	cr_assert_eq(gateway_clients_open(&c, path, 3, 86400), 0);
	cr_assert_eq(gateway_clients_inbox_count(c, A, &n), 0);
	cr_assert_eq(n, 3, "the cap holds inside a transaction");
	cr_assert_eq(gateway_clients_balance_get(c, A, &v), 0);
	cr_assert_eq(v, 77);
	gateway_clients_close(c);
}

/* ---- ticket credits: a crash at every point credits a spent ticket exactly once ---- */

#define GRANT 1000000ull
#define START 5ull
#define MIXNET (1u << NYM_TICKET_MIXNET_ENTRY)

static struct credfix cf;

static void open_pair(int k, struct gateway_clients **c, struct nym_ticket_store **st)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/clients-%d.sqlite", dir, k);
	cr_assert_eq(gateway_clients_open(c, p, 4, 86400), 0);
	snprintf(p, sizeof(p), "%s/tickets-%d.db", dir, k);
	cr_assert_eq(nym_ticket_store_open(st, p), 0);
}

static uint64_t balance_of(struct gateway_clients *c, const uint8_t *id)
{
	uint64_t v;
	cr_assert_eq(gateway_clients_balance_get(c, id, &v), 0);
	return v;
}

static uint64_t pending_of(struct gateway_clients *c)
{
	uint64_t n;
	cr_assert_eq(gateway_clients_credit_pending_count(c, &n), 0);
	return n;
}

/* In a child process that dies without closing anything (_exit), runs the credit of ticket t
 * to A up to a point: 0 after the check, 1 after the pending credit committed, 2 after the
 * serial was recorded spent, 3 in the middle of the credit's transaction (balance written, no
 * commit), 4 after the credit committed, 5 after the whole gateway_clients_spend_ticket. */
static void crash_at(int k, int point, const uint8_t *t, size_t n)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct gateway_clients *c;
		struct nym_ticket_store *st;
		struct nym_ticket_msg m;
		open_pair(k, &c, &st);
		if (point == 5)
			_exit(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, NULL, NULL) ? 15 : 0);
		if (nym_ticket_store_check(st, &cf.ks, t, n, cf.now, MIXNET, &m))
			_exit(10);
		if (point >= 1 && gateway_clients_credit_pending(c, &m, A, GRANT, cf.now))
			_exit(11);
		if (point >= 2 && nym_ticket_store_record(st, &m, cf.now))
			_exit(12);
		if (point == 3) {
			if (gateway_clients_begin(c) || gateway_clients_balance_set(c, A, START + GRANT, cf.now))
				_exit(13);
			_exit(0); /* the transaction never commits */
		}
		if (point >= 4 && gateway_clients_credit_apply(c, m.serial, cf.now, NULL))
			_exit(14);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "point %d: child failed (%d)", point, status);
}

Test(gateway_clients, credit_crash_at_every_point, .timeout = 120)
{
	uint8_t t[NYM_TICKET_MAX_LEN];
	credfix_init(&cf, MIXNET);
	struct nym_ticketbook *book = credfix_issue_book(&cf, NYM_TICKET_MIXNET_ENTRY, 6);
	for (int point = 0; point <= 5; point++) {
		struct gateway_clients *c;
		struct nym_ticket_store *st;
		uint64_t applied, dropped;
		size_t n = credfix_ticket(book, (size_t)point, t);
		bool spent = point >= 2; /* the serial was recorded before the crash */
		open_pair(point, &c, &st);
		cr_assert_eq(gateway_clients_balance_set(c, A, START, cf.now), 0);
		gateway_clients_close(c);
		nym_ticket_store_close(st);

		crash_at(point, point, t, n);

		/* The restart: every pending credit is settled against the ticket store. */
		open_pair(point, &c, &st);
		cr_assert_eq(gateway_clients_credit_resolve(c, st, cf.now, &applied, &dropped), 0);
		cr_assert_eq(applied, point == 2 || point == 3 ? 1 : 0, "point %d", point);
		cr_assert_eq(dropped, point == 1 ? 1 : 0, "point %d", point);
		cr_assert_eq(pending_of(c), 0);
		cr_assert_eq(balance_of(c, A), spent ? START + GRANT : START, "point %d", point);
		/* Settling again changes nothing. */
		cr_assert_eq(gateway_clients_credit_resolve(c, st, cf.now, &applied, &dropped), 0);
		cr_assert_eq(applied + dropped, 0);
		/* A serial spent before the crash is refused; one that was not is still the
		 * client's ticket and buys its bandwidth now, once. */
		int rc = gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, NULL, NULL);
		cr_assert_eq(rc, spent ? -EALREADY : 0, "point %d", point);
		cr_assert_eq(balance_of(c, A), START + GRANT, "point %d", point);
		cr_assert_eq(pending_of(c), 0);
		gateway_clients_close(c);
		nym_ticket_store_close(st);

		/* And after one more restart, still exactly once. */
		open_pair(point, &c, &st);
		cr_assert_eq(gateway_clients_credit_resolve(c, st, cf.now, &applied, &dropped), 0);
		cr_assert_eq(applied + dropped, 0);
		cr_assert_eq(balance_of(c, A), START + GRANT, "point %d", point);
		cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, B, GRANT, NULL, NULL),
			     -EALREADY);
		cr_assert_eq(balance_of(c, B), 0);
		gateway_clients_close(c);
		nym_ticket_store_close(st);
	}
	nym_ticketbook_free(book);
	credfix_fini(&cf);
}

/* A refused ticket never credits and leaves no pending credit; a reused serial is credited
 * once; a spend cannot run inside a batch transaction; a pending credit that a failed store
 * left behind is replaced by the next spend of its (unspent) serial. */
Test(gateway_clients, credit_refusals, .timeout = 120)
{
	uint8_t t[NYM_TICKET_MAX_LEN];
	struct gateway_clients *c;
	struct nym_ticket_store *st;
	uint64_t bal;
	credfix_init(&cf, MIXNET | 1u << NYM_TICKET_WG_ENTRY);
	struct nym_ticketbook *book = credfix_issue_book(&cf, NYM_TICKET_MIXNET_ENTRY, 3);
	struct nym_ticketbook *wg = credfix_issue_book(&cf, NYM_TICKET_WG_ENTRY, 1);
	open_pair(0, &c, &st);

	size_t n = credfix_ticket(book, 0, t);
	t[n - 1] ^= 1;
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, NULL, NULL), -EBADMSG);
	n = credfix_ticket(wg, 0, t);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, NULL, NULL), -EPERM);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, 10, cf.now, MIXNET, A, GRANT, NULL, NULL), -EINVAL);
	cr_assert_eq(balance_of(c, A), 0);
	cr_assert_eq(pending_of(c), 0);

	n = credfix_ticket(book, 0, t);
	cr_assert_eq(gateway_clients_begin(c), 0);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, NULL, NULL), -EBUSY);
	cr_assert_eq(gateway_clients_commit(c), 0);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, &bal, NULL), 0);
	cr_assert_eq(bal, GRANT);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, A, GRANT, NULL, NULL), -EALREADY);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, B, GRANT, NULL, NULL), -EALREADY);
	cr_assert_eq(balance_of(c, A), GRANT);
	cr_assert_eq(balance_of(c, B), 0);
	cr_assert_eq(pending_of(c), 0);
	gateway_clients_close(c);
	nym_ticket_store_close(st);

	/* A pending credit left behind (the store failed after step 1), then B presents the
	 * ticket first: B's credit replaces it, credited once. */
	n = credfix_ticket(book, 1, t);
	crash_at(0, 1, t, n);
	open_pair(0, &c, &st);
	cr_assert_eq(pending_of(c), 1);
	cr_assert_eq(gateway_clients_spend_ticket(c, st, &cf.ks, t, n, cf.now, MIXNET, B, GRANT, NULL, NULL), 0);
	cr_assert_eq(pending_of(c), 0);
	cr_assert_eq(balance_of(c, A), GRANT);
	cr_assert_eq(balance_of(c, B), GRANT);

	/* A pending credit whose serial is not spent is dropped, never applied; apply is
	 * idempotent; an applied credit is neither dropped nor replaced. */
	struct nym_ticket_msg m;
	n = credfix_ticket(book, 2, t);
	cr_assert_eq(nym_ticket_store_check(st, &cf.ks, t, n, cf.now, MIXNET, &m), 0);
	cr_assert_eq(gateway_clients_credit_pending(c, &m, A, GRANT, cf.now), 0);
	cr_assert_eq(gateway_clients_credit_resolve(c, st, cf.now, NULL, NULL), 0);
	cr_assert_eq(balance_of(c, A), GRANT);
	cr_assert_eq(gateway_clients_credit_apply(c, m.serial, cf.now, NULL), -ENOENT);
	cr_assert_eq(gateway_clients_credit_pending(c, &m, A, GRANT, cf.now), 0);
	cr_assert_eq(nym_ticket_store_record(st, &m, cf.now), 0);
	cr_assert_eq(gateway_clients_credit_apply(c, m.serial, cf.now, &bal), 0);
	cr_assert_eq(bal, 2 * GRANT);
	cr_assert_eq(gateway_clients_credit_apply(c, m.serial, cf.now, NULL), -EALREADY);
	cr_assert_eq(gateway_clients_credit_drop(c, m.serial), 0);
	cr_assert_eq(gateway_clients_credit_pending(c, &m, B, GRANT, cf.now), -EALREADY);
	cr_assert_eq(balance_of(c, A), 2 * GRANT);

	/* Applied credits go with their tickets' expiry. */
	cr_assert_eq(gateway_clients_credit_prune(c, m.expiry), 0);
	cr_assert_eq(gateway_clients_credit_pending(c, &m, B, GRANT, cf.now), 0, "forgotten once expired");
	gateway_clients_close(c);
	nym_ticket_store_close(st);
	nym_ticketbook_free(book);
	nym_ticketbook_free(wg);
	credfix_fini(&cf);
}

/* More pending credits than one batch of the resolve (64): all settled. */
Test(gateway_clients, credit_resolve_many)
{
	struct gateway_clients *c;
	struct nym_ticket_store *st;
	uint64_t applied, dropped;
	open_pair(0, &c, &st);
	for (int i = 0; i < 150; i++) {
		struct nym_ticket_msg m = { .type = NYM_TICKET_MIXNET_ENTRY, .expiry = 2000000000 };
		m.serial[0] = (uint8_t)i;
		m.serial[1] = (uint8_t)(i >> 8);
		cr_assert_eq(gateway_clients_credit_pending(c, &m, A, GRANT, 1000), 0);
		if (i % 3 == 0)
			cr_assert_eq(nym_ticket_store_record(st, &m, 1000), 0);
	}
	cr_assert_eq(pending_of(c), 150);
	cr_assert_eq(gateway_clients_credit_resolve(c, st, 1000, &applied, &dropped), 0);
	cr_assert_eq(applied, 50);
	cr_assert_eq(dropped, 100);
	cr_assert_eq(pending_of(c), 0);
	cr_assert_eq(balance_of(c, A), 50 * GRANT);
	gateway_clients_close(c);
	nym_ticket_store_close(st);
}
