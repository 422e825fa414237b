/* The gateway's WireGuard engine: the address pair pool (gateway_wg_pool), metering, removal,
 * restart from clients.sqlite, metrics (gateway_wg), and the in-tunnel metadata endpoint
 * (gateway_wg_meta). Tickets here are spent by a stand-in hook (serials remembered, the
 * credit written to the stored balance); test_wg_register.c spends real ones. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../support/tmpdir.h"
#include "crypto/secret.h"
#include "gateway/gateway_clients.h"
#include "gateway/gateway_wg.h"
#include "gateway/gateway_wg_meta.h"
#include "gateway/gateway_wg_pool.h"
#include "util/hex.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

/* ---- pool ---- */

TestSuite(wg_pool, .init = setup);

Test(wg_pool, defaults)
{
	struct gateway_wg_pool_config cfg;
	struct gateway_wg_pool p;
	uint32_t total, fr, pre, al, idx;
	gateway_wg_pool_default_config(&cfg);
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), 0);
	gateway_wg_pool_counts(&p, &total, &fr, &pre, &al);
	/* .0 (network), .1 (the gateway) and 10.1.255.255 (broadcast) are not handed out */
	cr_assert_eq(total, 65533);
	cr_assert_eq(fr, 65533);
	struct link_wg_ips ips;
	gateway_wg_pool_pair(&p, 2, &ips);
	char s[64];
	link_wg_ips_format(&ips, s, sizeof(s));
	cr_assert_str_eq(s, "10.1.0.2 fc01::2");
	gateway_wg_pool_pair(&p, 0x1234, &ips);
	link_wg_ips_format(&ips, s, sizeof(s));
	cr_assert_str_eq(s, "10.1.18.52 fc01::1234");
	cr_assert_eq(gateway_wg_pool_index(&p, &ips, &idx), 0);
	cr_assert_eq(idx, 0x1234);
	ips.v6[15] ^= 1; /* v4[i] with v6[j]: not a pair */
	cr_assert_eq(gateway_wg_pool_index(&p, &ips, &idx), -ENOENT);
	cr_assert_eq(gateway_wg_pool_state(&p, 0), GATEWAY_WG_PAIR_NONE);
	cr_assert_eq(gateway_wg_pool_state(&p, 1), GATEWAY_WG_PAIR_NONE);
	cr_assert_eq(gateway_wg_pool_state(&p, 65535), GATEWAY_WG_PAIR_NONE);
	cr_assert_eq(gateway_wg_pool_state(&p, 65534), GATEWAY_WG_PAIR_FREE);
	uint8_t gw4[4] = { 10, 1, 0, 1 }, out4[4] = { 10, 2, 0, 1 };
	cr_assert_eq(gateway_wg_pool_index_of(&p, AF_INET, gw4, &idx), -ENOENT);
	cr_assert(gateway_wg_pool_contains(&cfg, AF_INET, gw4));
	cr_assert_not(gateway_wg_pool_contains(&cfg, AF_INET, out4));
	gateway_wg_pool_free(&p);
}

Test(wg_pool, transitions_and_exhaustion)
{
	struct gateway_wg_pool_config cfg;
	struct gateway_wg_pool p;
	uint32_t total, fr, pre, al, idx, seen = 0;
	gateway_wg_pool_default_config(&cfg);
	cfg.prefix4 = 28; /* 16 addresses: 13 pairs */
	cfg.prefix6 = 120;
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), 0);
	gateway_wg_pool_counts(&p, &total, &fr, &pre, &al);
	cr_assert_eq(total, 13);
	for (int i = 0; i < 13; i++) {
		cr_assert_eq(gateway_wg_pool_preallocate(&p, &idx), 0);
		cr_assert(idx >= 2 && idx <= 14);
		cr_assert_eq(seen & (1u << idx), 0, "pair %u twice", idx);
		seen |= 1u << idx;
		cr_assert_eq(gateway_wg_pool_state(&p, idx), GATEWAY_WG_PAIR_PREALLOCATED);
	}
	cr_assert_eq(gateway_wg_pool_preallocate(&p, &idx), -ENOSPC);
	cr_assert_eq(gateway_wg_pool_allocate(&p, 5, false), 0);
	cr_assert_eq(gateway_wg_pool_allocate(&p, 5, false), -EALREADY);
	cr_assert_eq(gateway_wg_pool_release(&p, 5), 0);
	cr_assert_eq(gateway_wg_pool_release(&p, 5), -ENOENT);
	cr_assert_eq(gateway_wg_pool_allocate(&p, 5, false), -EBUSY);
	cr_assert_eq(gateway_wg_pool_allocate(&p, 5, true), 0); /* restoring a stored peer */
	cr_assert_eq(gateway_wg_pool_release(&p, 6), 0);
	gateway_wg_pool_counts(&p, &total, &fr, &pre, &al);
	cr_assert_eq(fr, 1);
	cr_assert_eq(pre, 11);
	cr_assert_eq(al, 1);
	cr_assert_eq(gateway_wg_pool_preallocate(&p, &idx), 0);
	cr_assert_eq(idx, 6);
	cr_assert_eq(gateway_wg_pool_allocate(&p, 0, true), -ENOENT);
	gateway_wg_pool_free(&p);
}

Test(wg_pool, random_spread)
{
	struct gateway_wg_pool_config cfg;
	struct gateway_wg_pool p;
	uint32_t a, b;
	gateway_wg_pool_default_config(&cfg);
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), 0);
	cr_assert_eq(gateway_wg_pool_preallocate(&p, &a), 0);
	cr_assert_eq(gateway_wg_pool_preallocate(&p, &b), 0);
	cr_assert_neq(a, b);
	/* 1000 draws from 65533: not a run of consecutive pairs */
	uint32_t prev = b, consecutive = 0;
	for (int i = 0; i < 1000; i++) {
		uint32_t x;
		cr_assert_eq(gateway_wg_pool_preallocate(&p, &x), 0);
		consecutive += x == prev + 1;
		prev = x;
	}
	cr_assert_lt(consecutive, 10);
	gateway_wg_pool_free(&p);
}

Test(wg_pool, bad_configs)
{
	struct gateway_wg_pool_config cfg;
	struct gateway_wg_pool p;
	gateway_wg_pool_default_config(&cfg);
	cfg.prefix4 = 8;
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), -EINVAL);
	gateway_wg_pool_default_config(&cfg);
	cfg.net4[3] = 1; /* host bits set */
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), -EINVAL);
	gateway_wg_pool_default_config(&cfg);
	cfg.gateway6[0] = 0xfd; /* outside its range */
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), -EINVAL);
	gateway_wg_pool_default_config(&cfg);
	cfg.prefix6 = 127;
	cr_assert_eq(gateway_wg_pool_init(&p, &cfg, NULL), -EINVAL);
}

/* ---- engine ---- */

#define TICKET_BYTES 1000000

struct env {
	char dir[256], path[512];
	struct gateway_clients *db;
	struct gateway_wg *gw;
	struct nym_x25519_keypair key;
	uint8_t serials[64];
	size_t n_serials;
	int adds, removes;
	struct gateway_wg_action actions[64];
	size_t n_actions;
};

static struct env E;

static size_t make_ticket(uint8_t *t, enum nym_ticket_type type, uint8_t serial)
{
	memset(t, 0x5a, NYM_TICKET_PREPARED_LEN + 256);
	t[32] = (uint8_t)type;
	memset(t + 33, 0, 8);
	t[40] = 0x10;
	t[41] = serial;
	return NYM_TICKET_PREPARED_LEN + 256;
}

static int e_spend(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		   const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance)
{
	struct env *e = ctx;
	uint64_t b;
	(void)len;
	if (ticket[32] != type)
		return -EPERM;
	for (size_t i = 0; i < e->n_serials; i++)
		if (e->serials[i] == ticket[41])
			return -EALREADY;
	e->serials[e->n_serials++] = ticket[41];
	cr_assert_eq(gateway_clients_balance_get(e->db, id, &b), 0);
	b += bytes;
	cr_assert_eq(gateway_clients_balance_set(e->db, id, b, 1), 0);
	*balance = b;
	return 0;
}

static int e_apply(void *ctx, const struct gateway_wg_action *a)
{
	struct env *e = ctx;
	if (e->n_actions < 64)
		e->actions[e->n_actions++] = *a;
	if (a->kind == GATEWAY_WG_ADD_PEER)
		e->adds++;
	else
		e->removes++;
	return 0;
}

static void env_open(struct env *e)
{
	struct gateway_wg_config cfg = { .ticket_type = NYM_TICKET_WG_ENTRY, .bytes_per_ticket = TICKET_BYTES };
	struct gateway_wg_hooks hooks = { .ctx = e, .spend = e_spend, .apply = e_apply };
	gateway_wg_pool_default_config(&cfg.pool);
	cr_assert_eq(gateway_clients_open(&e->db, e->path, 10, 86400), 0);
	cr_assert_eq(gateway_wg_open(&e->gw, &cfg, &e->key, e->db, &hooks, 1000), 0);
}

static void env_close(struct env *e)
{
	gateway_wg_close(e->gw);
	gateway_clients_close(e->db);
	e->gw = NULL;
	e->db = NULL;
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	cr_assert_eq(nym_crypto_init(), 0);
	test_tmpdir(e->dir, sizeof(e->dir));
	test_path(e->path, sizeof(e->path), e->dir, "clients.sqlite");
	memset(e->key.secret, 0x33, 32);
	nym_x25519_public(e->key.public_key, e->key.secret);
	env_open(e);
}

static void env_fini(struct env *e)
{
	env_close(e);
	test_tmpdir_remove(e->dir);
}

/* Registers a client key (seed) with a ticket of serial `serial`; returns its pair. */
static struct link_wg_ips register_peer(struct env *e, uint8_t seed, uint8_t serial, int64_t now,
					struct nym_x25519_keypair *ck)
{
	static uint8_t t[NYM_TICKET_MAX_LEN];
	struct link_msg init = { .type = LINK_MSG_WG_INIT }, p, fin = { .type = LINK_MSG_WG_FINAL }, r;
	memset(ck->secret, seed, 32);
	nym_x25519_public(ck->public_key, ck->secret);
	memcpy(init.wg_key, ck->public_key, 32);
	cr_assert_eq(gateway_wg_handle(e->gw, &init, now, &p), 0);
	cr_assert_eq(p.type, LINK_MSG_WG_PENDING);
	memcpy(fin.wg_final.client_key, ck->public_key, 32);
	fin.wg_final.ips = p.wg_pending.ips;
	fin.wg_final.nonce = p.wg_pending.nonce;
	cr_assert_eq(link_wg_mac(fin.wg_final.mac, ck->secret, p.wg_pending.gateway_key, ck->public_key,
				 &p.wg_pending.ips, p.wg_pending.nonce),
		     0);
	fin.wg_final.ticket = t;
	fin.wg_final.ticket_len = make_ticket(t, NYM_TICKET_WG_ENTRY, serial);
	cr_assert_eq(gateway_wg_handle(e->gw, &fin, now, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_WG_REGISTERED, "got %d code %u", r.type, r.error.code);
	return r.wg_registered.ips;
}

static uint64_t balance_of(struct env *e, const uint8_t *key)
{
	bool reg;
	uint64_t b;
	cr_assert_eq(gateway_wg_balance(e->gw, key, &reg, &b), 0);
	return b;
}

static struct gateway_wg_reading reading(const struct nym_x25519_keypair *k, uint64_t rx, uint64_t tx)
{
	struct gateway_wg_reading r = { .rx = rx, .tx = tx };
	memcpy(r.key, k->public_key, 32);
	return r;
}

TestSuite(gateway_wg, .init = setup);

Test(gateway_wg, metering_resets_and_removal)
{
	struct env *e = &E;
	struct nym_x25519_keypair a, b;
	env_init(e);
	struct link_wg_ips ia = register_peer(e, 1, 1, 1000, &a);
	register_peer(e, 2, 2, 1000, &b);
	cr_assert_eq(e->adds, 2);
	struct gateway_wg_reading r[3] = { reading(&a, 100, 50), reading(&b, 0, 0) };
	cr_assert_eq(gateway_wg_meter(e->gw, r, 2, 1005), 0);
	cr_assert_eq(balance_of(e, a.public_key), TICKET_BYTES - 150);
	cr_assert_eq(balance_of(e, b.public_key), TICKET_BYTES);
	r[0] = reading(&a, 300, 150);
	cr_assert_eq(gateway_wg_meter(e->gw, r, 1, 1010), 0);
	cr_assert_eq(balance_of(e, a.public_key), TICKET_BYTES - 450);
	/* The device was recreated: counters start again; the reading is all new. */
	r[0] = reading(&a, 10, 5);
	cr_assert_eq(gateway_wg_meter(e->gw, r, 1, 1015), 0);
	cr_assert_eq(balance_of(e, a.public_key), TICKET_BYTES - 465);
	struct gateway_wg_counters k;
	gateway_wg_counters(e->gw, &k);
	cr_assert_eq(k.counter_resets, 1);
	struct gateway_wg_stats s;
	gateway_wg_stats(e->gw, 1015, &s);
	cr_assert_eq(s.bytes_rx, 310);
	cr_assert_eq(s.bytes_tx, 155);
	cr_assert_eq(s.total_peers, 2);
	cr_assert_eq(s.active_peers, 2); /* b registered at 1000: within 180 s */
	gateway_wg_stats(e->gw, 1000 + 181, &s);
	cr_assert_eq(s.active_peers, 1); /* a moved bytes at 1015 */
	/* Out of bandwidth: removed from the device, the pair freed, the balance kept at 0. */
	r[0] = reading(&a, 10 + TICKET_BYTES, 5);
	size_t before = e->n_actions;
	cr_assert_eq(gateway_wg_meter(e->gw, r, 1, 1020), 0);
	cr_assert_eq(e->n_actions, before + 1);
	cr_assert_eq(e->actions[before].kind, GATEWAY_WG_REMOVE_PEER);
	cr_assert_eq(e->actions[before].reason, GATEWAY_WG_REMOVED_NO_BANDWIDTH);
	cr_assert_arr_eq(e->actions[before].key, a.public_key, 32);
	bool reg;
	uint64_t bal;
	cr_assert_eq(gateway_wg_balance(e->gw, a.public_key, &reg, &bal), 0);
	cr_assert_not(reg);
	cr_assert_eq(bal, 0);
	uint8_t key[32];
	cr_assert_eq(gateway_wg_peer_by_addr(e->gw, AF_INET, ia.v4, key), -ENOENT);
	gateway_wg_stats(e->gw, 1020, &s);
	cr_assert_eq(s.total_peers, 1);
	gateway_wg_counters(e->gw, &k);
	cr_assert_eq(k.removed_no_bandwidth, 1);
	/* A device peer nobody registered is removed; the all-zero routing peer is left. */
	struct nym_x25519_keypair stranger;
	memset(stranger.secret, 99, 32);
	nym_x25519_public(stranger.public_key, stranger.secret);
	r[0] = reading(&stranger, 1, 1);
	memset(r[1].key, 0, 32);
	before = e->n_actions;
	cr_assert_eq(gateway_wg_meter(e->gw, r, 2, 1025), 0);
	cr_assert_eq(e->n_actions, before + 1);
	cr_assert_eq(e->actions[before].reason, GATEWAY_WG_REMOVED_UNKNOWN);
	/* It registers again with a new ticket. */
	register_peer(e, 1, 3, 1030, &a);
	cr_assert_eq(balance_of(e, a.public_key), TICKET_BYTES);
	env_fini(e);
}

Test(gateway_wg, restart_restores_peers_and_balances)
{
	struct env *e = &E;
	struct nym_x25519_keypair a, b;
	env_init(e);
	struct link_wg_ips ia = register_peer(e, 1, 1, 1000, &a);
	struct link_wg_ips ib = register_peer(e, 2, 2, 1000, &b);
	struct gateway_wg_reading r[2] = { reading(&a, 1000, 1000), reading(&b, 7, 0) };
	cr_assert_eq(gateway_wg_meter(e->gw, r, 2, 1005), 0);
	/* A crash: nothing closed, the database reopened by a new process. */
	struct gateway_wg *old = e->gw;
	struct gateway_clients *olddb = e->db;
	e->adds = 0;
	env_open(e);
	cr_assert_eq(balance_of(e, a.public_key), TICKET_BYTES - 2000);
	cr_assert_eq(balance_of(e, b.public_key), TICKET_BYTES - 7);
	uint8_t key[32];
	cr_assert_eq(gateway_wg_peer_by_addr(e->gw, AF_INET6, ia.v6, key), 0);
	cr_assert_arr_eq(key, a.public_key, 32);
	cr_assert_eq(gateway_wg_peer_by_addr(e->gw, AF_INET, ib.v4, key), 0);
	cr_assert_arr_eq(key, b.public_key, 32);
	cr_assert_eq(e->adds, 0);
	cr_assert_eq(gateway_wg_sync_device(e->gw), 0);
	cr_assert_eq(e->adds, 2);
	/* The device survived the restart: counters continue from the stored reading. */
	r[0] = reading(&a, 1500, 1000);
	cr_assert_eq(gateway_wg_meter(e->gw, r, 1, 1010), 0);
	cr_assert_eq(balance_of(e, a.public_key), TICKET_BYTES - 2500);
	/* Or it was recreated: the reading is below the stored one, all new. */
	r[1] = reading(&b, 3, 0);
	cr_assert_eq(gateway_wg_meter(e->gw, r + 1, 1, 1010), 0);
	cr_assert_eq(balance_of(e, b.public_key), TICKET_BYTES - 10);
	/* A registration after the restart gets a pair none of the restored have. */
	struct nym_x25519_keypair c;
	struct link_wg_ips ic = register_peer(e, 3, 3, 1010, &c);
	cr_assert(memcmp(&ic, &ia, sizeof(ic)) && memcmp(&ic, &ib, sizeof(ic)));
	/* INIT of a restored key answers WG_REGISTERED. */
	struct link_msg init = { .type = LINK_MSG_WG_INIT }, resp;
	memcpy(init.wg_key, a.public_key, 32);
	cr_assert_eq(gateway_wg_handle(e->gw, &init, 1010, &resp), 0);
	cr_assert_eq(resp.type, LINK_MSG_WG_REGISTERED);
	cr_assert_arr_eq(&resp.wg_registered.ips, &ia, sizeof(ia));
	gateway_wg_close(old);
	gateway_clients_close(olddb);
	env_fini(e);
}

/* Peers without a handshake or traffic for stale_peer_s (3 days by default) are removed at a
 * tick, their pairs freed and their balances kept; the clock is the `now` handed in. */
Test(gateway_wg, stale_peers_removed_balance_kept)
{
	struct env *e = &E;
	struct nym_x25519_keypair a, b, c;
	const int64_t t0 = 1000, day = 86400;
	env_init(e);
	register_peer(e, 1, 1, t0, &a);
	struct link_wg_ips ib = register_peer(e, 2, 2, t0, &b);
	register_peer(e, 3, 3, t0, &c);
	/* Two days on: a moves bytes, c only handshakes (nothing metered), b only gets bytes sent
	 * to it (the device trying a peer that has gone: not activity). */
	struct gateway_wg_reading r[3] = { reading(&a, 100, 100), reading(&b, 0, 500), reading(&c, 0, 0) };
	r[2].last_handshake = t0 + 2 * day;
	cr_assert_eq(gateway_wg_meter(e->gw, r, 3, t0 + 2 * day), 0);
	cr_assert_eq(gateway_wg_tick(e->gw, t0 + 3 * day - 1), 0);
	cr_assert_eq(e->removes, 0);
	/* Three days after b's registration: b goes, a and c stay. */
	size_t before = e->n_actions;
	cr_assert_eq(gateway_wg_tick(e->gw, t0 + 3 * day), 0);
	cr_assert_eq(e->n_actions, before + 1);
	cr_assert_eq(e->actions[before].kind, GATEWAY_WG_REMOVE_PEER);
	cr_assert_eq(e->actions[before].reason, GATEWAY_WG_REMOVED_STALE);
	cr_assert_arr_eq(e->actions[before].key, b.public_key, 32);
	struct gateway_wg_counters k;
	gateway_wg_counters(e->gw, &k);
	cr_assert_eq(k.removed_stale, 1);
	uint8_t key[32];
	cr_assert_eq(gateway_wg_peer_by_addr(e->gw, AF_INET, ib.v4, key), -ENOENT);
	bool reg;
	uint64_t bal;
	cr_assert_eq(gateway_wg_balance(e->gw, b.public_key, &reg, &bal), 0);
	cr_assert_not(reg);
	cr_assert_eq(bal, TICKET_BYTES - 500, "the balance is kept");
	struct gateway_wg_stats st;
	gateway_wg_stats(e->gw, t0 + 3 * day, &st);
	cr_assert_eq(st.total_peers, 2);
	/* A restart does not bring b back; its balance is still there. */
	env_close(e);
	env_open(e);
	cr_assert_eq(gateway_wg_peer_by_addr(e->gw, AF_INET, ib.v4, key), -ENOENT);
	cr_assert_eq(gateway_wg_balance(e->gw, b.public_key, &reg, &bal), 0);
	cr_assert_not(reg);
	cr_assert_eq(bal, TICKET_BYTES - 500);
	/* c's handshake at day 2 counts as activity: it goes at day 5, a (traffic at day 2) too. */
	e->removes = 0;
	cr_assert_eq(gateway_wg_tick(e->gw, t0 + 5 * day - 1), 0);
	cr_assert_eq(e->removes, 0);
	cr_assert_eq(gateway_wg_tick(e->gw, t0 + 5 * day), 0);
	cr_assert_eq(e->removes, 2);
	gateway_wg_stats(e->gw, t0 + 5 * day, &st);
	cr_assert_eq(st.total_peers, 0);
	/* b registers again: its kept balance plus the new ticket's. */
	register_peer(e, 2, 4, t0 + 5 * day, &b);
	cr_assert_eq(balance_of(e, b.public_key), 2 * TICKET_BYTES - 500);
	env_fini(e);
}

/* A shorter stale_peer_s from the configuration. */
Test(gateway_wg, stale_peer_s_configurable)
{
	struct env *e = &E;
	struct nym_x25519_keypair a;
	env_init(e);
	env_close(e);
	struct gateway_wg_config cfg = { .ticket_type = NYM_TICKET_WG_ENTRY, .bytes_per_ticket = TICKET_BYTES,
					 .stale_peer_s = 10 };
	struct gateway_wg_hooks hooks = { .ctx = e, .spend = e_spend, .apply = e_apply };
	gateway_wg_pool_default_config(&cfg.pool);
	cr_assert_eq(gateway_clients_open(&e->db, e->path, 10, 86400), 0);
	cr_assert_eq(gateway_wg_open(&e->gw, &cfg, &e->key, e->db, &hooks, 1000), 0);
	cr_assert_eq(gateway_wg_config(e->gw)->stale_peer_s, 10);
	register_peer(e, 1, 1, 1000, &a);
	cr_assert_eq(gateway_wg_tick(e->gw, 1009), 0);
	cr_assert_eq(e->removes, 0);
	cr_assert_eq(gateway_wg_tick(e->gw, 1010), 0);
	cr_assert_eq(e->removes, 1);
	env_fini(e);
}

Test(gateway_wg, pending_limit_and_pool_exhaustion)
{
	struct env *e = &E;
	env_init(e);
	env_close(e);
	struct gateway_wg_config cfg = { .ticket_type = NYM_TICKET_WG_EXIT, .max_pending = 3 };
	struct gateway_wg_hooks hooks = { .ctx = e, .spend = e_spend, .apply = e_apply };
	gateway_wg_pool_default_config(&cfg.pool);
	cr_assert_eq(gateway_wg_open(&e->gw, &cfg, &e->key, NULL, &hooks, 0), 0);
	cr_assert_eq(gateway_wg_config(e->gw)->bytes_per_ticket, 500000000);
	cr_assert_eq(gateway_wg_config(e->gw)->port, 51822);
	struct link_msg init = { .type = LINK_MSG_WG_INIT }, r;
	for (int i = 0; i < 4; i++) {
		memset(init.wg_key, 0x40 + i, 32);
		cr_assert_eq(gateway_wg_handle(e->gw, &init, 0, &r), 0);
		if (i < 3)
			cr_assert_eq(r.type, LINK_MSG_WG_PENDING);
		else
			cr_assert_eq(r.error.code, LINK_ERR_WG_NO_ADDRESS);
	}
	/* A small-order key cannot be registered (no shared secret). */
	gateway_wg_tick(e->gw, 1000000);
	memset(init.wg_key, 0, 32);
	cr_assert_eq(gateway_wg_handle(e->gw, &init, 1000000, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_ERROR);
	cr_assert_eq(r.error.code, LINK_ERR_PROTOCOL);
	gateway_wg_close(e->gw);
	/* a pool of one pair */
	cfg.max_pending = 0;
	cfg.pool.prefix4 = 30;
	cfg.pool.prefix6 = 126;
	cr_assert_eq(gateway_wg_open(&e->gw, &cfg, &e->key, NULL, &hooks, 0), 0);
	memset(init.wg_key, 0x50, 32);
	cr_assert_eq(gateway_wg_handle(e->gw, &init, 0, &r), 0);
	cr_assert_eq(r.type, LINK_MSG_WG_PENDING);
	cr_assert_eq(r.wg_pending.ips.v4[3], 2);
	memset(init.wg_key, 0x51, 32);
	cr_assert_eq(gateway_wg_handle(e->gw, &init, 0, &r), 0);
	cr_assert_eq(r.error.code, LINK_ERR_WG_NO_ADDRESS);
	gateway_wg_close(e->gw);
	e->gw = NULL;
	test_tmpdir_remove(e->dir);
}

Test(gateway_wg, metrics_text)
{
	struct gateway_wg_stats s = { .total_peers = 3, .active_peers = 2, .bytes_rx = 10, .bytes_tx = 20 };
	char out[512];
	cr_assert_gt(gateway_wg_stats_json(&s, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "{\"bytes_rx\":10,\"bytes_tx\":20,\"total_peers\":3,\"active_peers\":2}");
	cr_assert_gt(gateway_wg_stats_prometheus(&s, out, sizeof(out)), 0);
	cr_assert(strstr(out, "\nnym_node_wireguard_bytes_rx 10\n"));
	cr_assert(strstr(out, "\nnym_node_wireguard_bytes_tx 20\n"));
	cr_assert(strstr(out, "\nnym_node_wireguard_total_peers 3\n"));
	cr_assert(strstr(out, "\nnym_node_wireguard_active_peers 2\n"));
	cr_assert(strstr(out, "# TYPE nym_node_wireguard_active_peers gauge\n"));
	cr_assert_eq(gateway_wg_stats_prometheus(&s, out, 20), -ENOSPC);
}

/* ---- the metadata endpoint ---- */

TestSuite(wg_meta, .init = setup);

static int parse(const char *req, struct gateway_wg_meta_request *r, int *status)
{
	return gateway_wg_meta_parse((const uint8_t *)req, strlen(req), r, status);
}

Test(wg_meta, parse_requests)
{
	static struct gateway_wg_meta_request r;
	int st;
	cr_assert_eq(parse("GET /v1/bandwidth/available HTTP/1.1\r\nHost: 10.1.0.1:51830\r\n\r\n", &r, &st), 0);
	cr_assert_eq(r.route, GATEWAY_WG_META_ROUTE_AVAILABLE);
	cr_assert_eq(parse("GET /v1/bandwidth/version HTTP/1.0\r\n\r\n", &r, &st), 0);
	cr_assert_eq(r.route, GATEWAY_WG_META_ROUTE_VERSION);
	/* incomplete */
	cr_assert_eq(parse("GET /v1/bandwidth/available HTTP/1.1\r\nHost: x\r\n", &r, &st), -EAGAIN);
	cr_assert_eq(parse("", &r, &st), -EAGAIN);
	/* refusals */
	cr_assert_eq(parse("GET /v1/other HTTP/1.1\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 404);
	cr_assert_eq(parse("POST /v1/bandwidth/available HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 405);
	cr_assert_eq(parse("GET /v1/bandwidth/topup HTTP/1.1\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 405);
	cr_assert_eq(parse("POST /v1/bandwidth/topup HTTP/1.1\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 411);
	cr_assert_eq(parse("POST /v1/bandwidth/topup HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 501);
	cr_assert_eq(parse("GET /v1/bandwidth/available HTTP/2.0\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 400);
	cr_assert_eq(parse("GET  /v1/bandwidth/available HTTP/1.1\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 400);
	cr_assert_eq(parse("GET /v1/bandwidth/available HTTP/1.1\r\nno colon\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 400);
	cr_assert_eq(parse("POST /v1/bandwidth/topup HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n{",
			   &r, &st),
		     -EPROTO);
	cr_assert_eq(st, 400);
	cr_assert_eq(parse("POST /v1/bandwidth/topup HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(parse("POST /v1/bandwidth/topup HTTP/1.1\r\nContent-Length: 99999\r\n\r\n", &r, &st), -EPROTO);
	cr_assert_eq(st, 413);
	static char big[GATEWAY_WG_META_MAX_REQUEST + 10];
	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(parse(big, &r, &st), -EPROTO);
	cr_assert_eq(st, 413);
}

static void topup_request(char *out, size_t cap, const char *body)
{
	snprintf(out, cap, "POST /v1/bandwidth/topup HTTP/1.1\r\nContent-Type: application/json\r\ncontent-length: %zu\r\n\r\n%s",
		 strlen(body), body);
}

Test(wg_meta, parse_topup)
{
	static struct gateway_wg_meta_request r;
	static uint8_t t[NYM_TICKET_MAX_LEN];
	static char hex[2 * NYM_TICKET_MAX_LEN + 1], body[2 * NYM_TICKET_MAX_LEN + 64], req[8192];
	int st;
	size_t n = make_ticket(t, NYM_TICKET_WG_EXIT, 7);
	nym_hex_encode(hex, t, n);
	snprintf(body, sizeof(body), "{\"ticket\":\"%s\"}", hex);
	topup_request(req, sizeof(req), body);
	cr_assert_eq(parse(req, &r, &st), 0);
	cr_assert_eq(r.route, GATEWAY_WG_META_ROUTE_TOPUP);
	cr_assert_eq(r.ticket_len, n);
	cr_assert_arr_eq(r.ticket, t, n);
	/* The body cut short: read more. */
	cr_assert_eq(gateway_wg_meta_parse((const uint8_t *)req, strlen(req) - 1, &r, &st), -EAGAIN);
	/* Bad bodies. */
	static const char *const bad[] = {
		"{}", "[]", "{\"ticket\":1}", "{\"ticket\":\"zz\"}", "{\"ticket\":\"00\"}", "not json",
		"{\"ticket\":\"00\",\"x\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		topup_request(req, sizeof(req), bad[i]);
		cr_assert_eq(parse(req, &r, &st), -EPROTO, "%s", bad[i]);
		cr_assert_eq(st, 400);
	}
	/* A duplicate key. */
	static char dup[4 * NYM_TICKET_MAX_LEN + 64];
	snprintf(dup, sizeof(dup), "{\"ticket\":\"%s\",\"ticket\":\"%s\"}", hex, hex);
	topup_request(req, sizeof(req), dup);
	cr_assert_eq(parse(req, &r, &st), -EPROTO);
}

Test(wg_meta, sources)
{
	struct gateway_wg_pool_config cfg;
	gateway_wg_pool_default_config(&cfg);
	uint8_t a4[4], a6[16];
	inet_pton(AF_INET, "10.1.3.4", a4);
	cr_assert(gateway_wg_meta_source_allowed(&cfg, AF_INET, a4));
	inet_pton(AF_INET, "10.1.0.1", a4); /* the gateway itself */
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_INET, a4));
	inet_pton(AF_INET, "10.2.0.5", a4);
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_INET, a4));
	inet_pton(AF_INET, "192.0.2.1", a4);
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_INET, a4));
	inet_pton(AF_INET6, "fc01::abcd", a6);
	cr_assert(gateway_wg_meta_source_allowed(&cfg, AF_INET6, a6));
	inet_pton(AF_INET6, "fc01::1:0", a6); /* outside the /112 */
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_INET6, a6));
	inet_pton(AF_INET6, "fc00::5", a6);
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_INET6, a6));
	inet_pton(AF_INET6, "::ffff:10.1.0.9", a6);
	cr_assert(gateway_wg_meta_source_allowed(&cfg, AF_INET6, a6));
	inet_pton(AF_INET6, "::ffff:8.8.8.8", a6);
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_INET6, a6));
	cr_assert_not(gateway_wg_meta_source_allowed(&cfg, AF_UNIX, a6));
}

Test(wg_meta, responses)
{
	uint8_t out[512];
	size_t n;
	char body[64];
	cr_assert_gt(gateway_wg_meta_available_json(123, body, sizeof(body)), 0);
	cr_assert_str_eq(body, "{\"available_bandwidth\":123}");
	cr_assert_eq(gateway_wg_meta_response(200, body, out, sizeof(out), &n), 0);
	static const char want[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n"
				   "Connection: close\r\n\r\n{\"available_bandwidth\":123}";
	cr_assert_eq(n, sizeof(want) - 1);
	cr_assert_arr_eq(out, want, n);
	cr_assert_eq(gateway_wg_meta_response(200, body, out, 40, &n), -ENOSPC);
	cr_assert_gt(gateway_wg_meta_error_json("a \"quoted\"\\ \n", body, sizeof(body)), 0);
	cr_assert_str_eq(body, "{\"error\":\"a ?quoted?? ?\"}");
	cr_assert_gt(gateway_wg_meta_version_json(body, sizeof(body)), 0);
	cr_assert_str_eq(body, "{\"version\":1}");
}

static int serve(struct env *e, int family, const char *src, const char *req, char *out)
{
	uint8_t a[16];
	size_t n;
	inet_pton(family, src, a);
	int rc = gateway_wg_meta_serve(e->gw, family, a, (const uint8_t *)req, strlen(req), 1100, (uint8_t *)out, 4095, &n);
	if (rc == 0)
		out[n] = 0;
	return rc;
}

Test(wg_meta, serve_through_the_engine)
{
	struct env *e = &E;
	static char out[4096], req[8192], hex[2 * NYM_TICKET_MAX_LEN + 1], body[2 * NYM_TICKET_MAX_LEN + 64];
	static uint8_t t[NYM_TICKET_MAX_LEN];
	struct nym_x25519_keypair a;
	env_init(e);
	struct link_wg_ips ia = register_peer(e, 1, 1, 1000, &a);
	char src4[INET_ADDRSTRLEN], src6[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET, ia.v4, src4, sizeof(src4));
	inet_ntop(AF_INET6, ia.v6, src6, sizeof(src6));
	const char *avail = "GET /v1/bandwidth/available HTTP/1.1\r\n\r\n";
	cr_assert_eq(serve(e, AF_INET, src4, avail, out), 0);
	cr_assert(strstr(out, "HTTP/1.1 200 OK\r\n"));
	cr_assert(strstr(out, "{\"available_bandwidth\":1000000}"));
	cr_assert_eq(serve(e, AF_INET6, src6, avail, out), 0);
	cr_assert(strstr(out, "{\"available_bandwidth\":1000000}"));
	/* From outside the tunnel: 403, counted. */
	cr_assert_eq(serve(e, AF_INET, "198.51.100.30", avail, out), 0);
	cr_assert(strstr(out, "HTTP/1.1 403 Forbidden\r\n"));
	/* From a tunnel address without a peer: 404. */
	cr_assert_eq(serve(e, AF_INET, "10.1.200.200", avail, out), 0);
	cr_assert(strstr(out, "HTTP/1.1 404 "));
	/* Top-up. */
	size_t n = make_ticket(t, NYM_TICKET_WG_ENTRY, 2);
	nym_hex_encode(hex, t, n);
	snprintf(body, sizeof(body), "{\"ticket\":\"%s\"}", hex);
	topup_request(req, sizeof(req), body);
	cr_assert_eq(serve(e, AF_INET, src4, req, out), 0);
	cr_assert(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_assert(strstr(out, "{\"available_bandwidth\":2000000}"));
	/* The same ticket again: 409; a wg-exit ticket at an entry: 402. */
	cr_assert_eq(serve(e, AF_INET, src4, req, out), 0);
	cr_assert(strstr(out, "HTTP/1.1 409 "), "%s", out);
	n = make_ticket(t, NYM_TICKET_WG_EXIT, 3);
	nym_hex_encode(hex, t, n);
	snprintf(body, sizeof(body), "{\"ticket\":\"%s\"}", hex);
	topup_request(req, sizeof(req), body);
	cr_assert_eq(serve(e, AF_INET, src4, req, out), 0);
	cr_assert(strstr(out, "HTTP/1.1 402 "), "%s", out);
	/* Garbage: 400; incomplete: read more. */
	cr_assert_eq(serve(e, AF_INET, src4, "BREW /pot HTTP/1.1\r\n\r\n", out), 0);
	cr_assert(strstr(out, "HTTP/1.1 404 "), "%s", out);
	cr_assert_eq(serve(e, AF_INET, src4, "GET /v1/bandwidth/avail", out), -EAGAIN);
	struct gateway_wg_counters k;
	gateway_wg_counters(e->gw, &k);
	cr_assert_eq(k.meta_outside, 1);
	cr_assert_eq(k.meta_unknown_peer, 1);
	cr_assert_eq(k.meta_bad_request, 1);
	cr_assert_eq(k.topups, 1);
	cr_assert_eq(balance_of(e, a.public_key), 2000000);
	/* The balance is on disk. */
	env_close(e);
	env_open(e);
	cr_assert_eq(balance_of(e, a.public_key), 2000000);
	env_fini(e);
}
