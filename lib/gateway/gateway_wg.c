#include "gateway/gateway_wg.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/sha256.h"
#include "gateway/gateway_wg_meta.h"
#include "util/log.h"

#define BUCKETS 4096

static const char balance_domain[] = "nym-c/wg-balance/v1";

/* A key pending its FINAL or registered. */
struct entry {
	struct entry *next; /* hash chain */
	uint8_t key[LINK_WG_KEY_LEN];
	bool registered;
	uint32_t index; /* its pair */
	struct link_wg_ips ips;
	uint64_t nonce;
	uint8_t mac[LINK_WG_MAC_LEN]; /* the gateway's, in WG_PENDING */
	int64_t created;
	/* registered */
	uint64_t balance;
	uint64_t counter;	/* rx + tx at the last reading */
	uint64_t last_rx, last_tx;
	bool fresh;		/* restored: no reading since, last_rx / last_tx unknown */
	bool dirty;		/* balance or counter not saved */
	int64_t last_active, registered_at;
};

struct gateway_wg {
	struct gateway_wg_config cfg;
	struct nym_x25519_keypair key;
	struct gateway_clients *db;
	struct gateway_wg_hooks hooks;
	struct gateway_wg_pool pool;
	struct entry *buckets[BUCKETS];
	struct entry **by_index; /* registered peers by pair index */
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	uint64_t n_pending, n_registered;
	uint64_t bytes_rx, bytes_tx;
	struct gateway_wg_counters counters;
};

void gateway_wg_balance_id(const uint8_t key[LINK_WG_KEY_LEN], uint8_t id[GATEWAY_CLIENT_ID_LEN])
{
	struct nym_sha256 h;
	nym_sha256_init(&h);
	nym_sha256_update(&h, balance_domain, sizeof(balance_domain) - 1);
	nym_sha256_update(&h, key, LINK_WG_KEY_LEN);
	nym_sha256_final(&h, id);
}

/* Keys are chosen by clients: a keyed hash, so nobody can fill one chain. */
static size_t bucket(const struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, LINK_WG_KEY_LEN, g->hash_key);
	return ((size_t)h[0] | (size_t)h[1] << 8) % BUCKETS;
}

static struct entry *find(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN])
{
	for (struct entry *e = g->buckets[bucket(g, key)]; e; e = e->next)
		if (!memcmp(e->key, key, LINK_WG_KEY_LEN))
			return e;
	return NULL;
}

static struct entry *insert(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN])
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->key, key, LINK_WG_KEY_LEN);
	size_t b = bucket(g, key);
	e->next = g->buckets[b];
	g->buckets[b] = e;
	return e;
}

static void unlink_free(struct gateway_wg *g, struct entry *e)
{
	struct entry **pp = &g->buckets[bucket(g, e->key)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	free(e);
}

static uint64_t ticket_bytes(const struct gateway_wg *g)
{
	return g->cfg.bytes_per_ticket;
}

static void db_failed(struct gateway_wg *g, int rc, const char *what)
{
	g->counters.store_failed++;
	log_ratelimited(NYM_LOG_ERROR, "gateway wg: %s: %s", what, strerror(-rc));
}

static void row_of(const struct entry *e, struct gateway_clients_wg_peer *p)
{
	memcpy(p->public_key, e->key, LINK_WG_KEY_LEN);
	memcpy(p->ipv4, e->ips.v4, 4);
	memcpy(p->ipv6, e->ips.v6, 16);
	p->nonce = e->nonce;
	p->counter = e->counter;
	p->last_active = e->last_active;
	p->registered = e->registered_at;
}

/* Balance and row of one peer (inside or outside a transaction). */
static int save_peer(struct gateway_wg *g, struct entry *e, int64_t now)
{
	struct gateway_clients_wg_peer p;
	uint8_t id[GATEWAY_CLIENT_ID_LEN];
	if (!g->db)
		return 0;
	gateway_wg_balance_id(e->key, id);
	row_of(e, &p);
	int rc = gateway_clients_balance_set(g->db, id, e->balance, now);
	if (rc == 0)
		rc = gateway_clients_wg_peer_put(g->db, &p);
	if (rc == 0)
		e->dirty = false;
	return rc;
}

static int apply(struct gateway_wg *g, enum gateway_wg_action_kind kind, const struct entry *e,
		 const uint8_t *key, enum gateway_wg_remove_reason reason)
{
	struct gateway_wg_action a = { .kind = kind, .reason = reason };
	memcpy(a.key, e ? e->key : key, LINK_WG_KEY_LEN);
	if (e)
		a.ips = e->ips;
	int rc = g->hooks.apply(g->hooks.ctx, &a);
	if (rc)
		g->counters.apply_failed++;
	return rc;
}

/* ---- open, restore, close ---- */

struct restore_list {
	struct gateway_clients_wg_peer *rows;
	size_t n, cap;
};

static int collect(void *ctx, const struct gateway_clients_wg_peer *p)
{
	struct restore_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *r = realloc(l->rows, cap * sizeof(*l->rows));
		if (!r)
			return -ENOMEM;
		l->rows = r;
		l->cap = cap;
	}
	l->rows[l->n++] = *p;
	return 0;
}

static int restore(struct gateway_wg *g)
{
	struct restore_list l = { 0 };
	int rc = gateway_clients_wg_peer_list(g->db, collect, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const struct gateway_clients_wg_peer *p = &l.rows[i];
		struct link_wg_ips ips;
		uint32_t index;
		uint8_t id[GATEWAY_CLIENT_ID_LEN];
		memcpy(ips.v4, p->ipv4, 4);
		memcpy(ips.v6, p->ipv6, 16);
		if (find(g, p->public_key) || gateway_wg_pool_index(&g->pool, &ips, &index) ||
		    gateway_wg_pool_allocate(&g->pool, index, true)) {
			/* Outside this pool (the ranges changed) or a duplicate: forgotten; the balance
			 * stays, the client registers again. */
			log_ratelimited(NYM_LOG_WARN, "gateway wg: a stored peer's pair is not in the pool: dropped");
			if ((rc = gateway_clients_wg_peer_delete(g->db, p->public_key)) != 0)
				break;
			continue;
		}
		struct entry *e = insert(g, p->public_key);
		if (!e) {
			rc = -ENOMEM;
			break;
		}
		e->registered = true;
		e->index = index;
		e->ips = ips;
		e->nonce = p->nonce;
		e->counter = p->counter;
		e->fresh = true;
		e->last_active = p->last_active;
		e->registered_at = p->registered;
		gateway_wg_balance_id(p->public_key, id);
		if ((rc = gateway_clients_balance_get(g->db, id, &e->balance)) != 0)
			break;
		g->by_index[index] = e;
		g->n_registered++;
	}
	free(l.rows);
	return rc;
}

int gateway_wg_open(struct gateway_wg **out, const struct gateway_wg_config *cfg, const struct nym_x25519_keypair *key,
		    struct gateway_clients *db, const struct gateway_wg_hooks *hooks, int64_t now)
{
	(void)now;
	*out = NULL;
	if (!cfg || !key || !hooks || !hooks->spend || !hooks->apply ||
	    (cfg->ticket_type != NYM_TICKET_WG_ENTRY && cfg->ticket_type != NYM_TICKET_WG_EXIT))
		return -EINVAL;
	struct gateway_wg *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cfg = *cfg;
	if (!g->cfg.port)
		g->cfg.port = LINK_WG_DEFAULT_PORT;
	if (!g->cfg.bytes_per_ticket)
		g->cfg.bytes_per_ticket = nym_ticket_type_bytes(cfg->ticket_type);
	if (!g->cfg.stale_prealloc_s)
		g->cfg.stale_prealloc_s = GATEWAY_WG_STALE_PREALLOC_S;
	if (!g->cfg.active_threshold_s)
		g->cfg.active_threshold_s = GATEWAY_WG_ACTIVE_THRESHOLD_S;
	if (!g->cfg.stale_peer_s)
		g->cfg.stale_peer_s = GATEWAY_WG_STALE_PEER_S;
	if (!g->cfg.max_pending)
		g->cfg.max_pending = GATEWAY_WG_MAX_PENDING;
	g->key = *key;
	g->db = db;
	g->hooks = *hooks;
	crypto_shorthash_keygen(g->hash_key);
	int rc = gateway_wg_pool_init(&g->pool, &cfg->pool, cfg->rng);
	if (rc) {
		gateway_wg_close(g);
		return rc;
	}
	g->by_index = calloc(g->pool.size, sizeof(*g->by_index));
	if (!g->by_index) {
		gateway_wg_close(g);
		return -ENOMEM;
	}
	if (db && (rc = restore(g)) != 0) {
		gateway_wg_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

/* Saves every registered peer with unsaved changes and commits the transaction the caller
 * began (began == 0; otherwise each save stands alone); a failure is db_failed's, what naming
 * the pass in its log. */
static int save_dirty(struct gateway_wg *g, int began, int64_t now, const char *what)
{
	int rc = 0;
	if (!g->db)
		return 0;
	for (size_t b = 0; b < BUCKETS && rc == 0; b++)
		for (struct entry *e = g->buckets[b]; e && rc == 0; e = e->next)
			if (e->registered && e->dirty)
				rc = save_peer(g, e, now);
	if (began == 0) {
		int c = gateway_clients_commit(g->db);
		if (rc == 0)
			rc = c;
	}
	if (rc)
		db_failed(g, rc, what);
	return rc;
}

void gateway_wg_close(struct gateway_wg *g)
{
	if (!g)
		return;
	if (g->by_index && g->db)
		save_dirty(g, gateway_clients_begin(g->db), 0, "saving balances");
	for (size_t b = 0; b < BUCKETS; b++) {
		struct entry *e = g->buckets[b];
		while (e) {
			struct entry *n = e->next;
			free(e);
			e = n;
		}
	}
	free(g->by_index);
	gateway_wg_pool_free(&g->pool);
	nym_x25519_keypair_clear(&g->key);
	nym_memzero(g->hash_key, sizeof(g->hash_key));
	free(g);
}

int gateway_wg_sync_device(struct gateway_wg *g)
{
	int rc = 0;
	for (uint32_t i = 0; i < g->pool.size; i++)
		if (g->by_index[i] && apply(g, GATEWAY_WG_ADD_PEER, g->by_index[i], NULL, 0) && !rc)
			rc = -EIO;
	return rc;
}

/* ---- registration ---- */

static void refuse_msg(struct link_msg *resp, enum link_error_code code, const char *text)
{
	link_msg_error(resp, code, text);
}

static void registered_msg(const struct gateway_wg *g, const struct entry *e, struct link_msg *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->type = LINK_MSG_WG_REGISTERED;
	resp->wg_registered.ips = e->ips;
	resp->wg_registered.port = g->cfg.port;
	memcpy(resp->wg_registered.gateway_key, g->key.public_key, LINK_WG_KEY_LEN);
	resp->wg_registered.balance = e->balance;
}

static void pending_msg(const struct gateway_wg *g, const struct entry *e, struct link_msg *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->type = LINK_MSG_WG_PENDING;
	resp->wg_pending.nonce = e->nonce;
	memcpy(resp->wg_pending.gateway_key, g->key.public_key, LINK_WG_KEY_LEN);
	resp->wg_pending.ips = e->ips;
	resp->wg_pending.port = g->cfg.port;
	memcpy(resp->wg_pending.mac, e->mac, LINK_WG_MAC_LEN);
}

static void on_init(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN], int64_t now, struct link_msg *resp)
{
	g->counters.inits++;
	struct entry *e = find(g, key);
	if (e && e->registered) {
		g->counters.repeats++;
		registered_msg(g, e, resp);
		return;
	}
	if (e) {
		pending_msg(g, e, resp);
		return;
	}
	if (g->n_pending >= g->cfg.max_pending) {
		g->counters.no_address++;
		refuse_msg(resp, LINK_ERR_WG_NO_ADDRESS, "too many pending registrations");
		return;
	}
	uint32_t index;
	if (gateway_wg_pool_preallocate(&g->pool, &index)) {
		g->counters.no_address++;
		refuse_msg(resp, LINK_ERR_WG_NO_ADDRESS, "no free address pair");
		return;
	}
	struct link_wg_ips ips;
	uint64_t nonce;
	uint8_t mac[LINK_WG_MAC_LEN];
	gateway_wg_pool_pair(&g->pool, index, &ips);
	nym_rng_fill(g->cfg.rng, &nonce, sizeof(nonce));
	if (link_wg_mac(mac, g->key.secret, key, g->key.public_key, &ips, nonce)) {
		gateway_wg_pool_release(&g->pool, index);
		g->counters.bad_key++;
		refuse_msg(resp, LINK_ERR_PROTOCOL, "unusable key");
		return;
	}
	if (!(e = insert(g, key))) {
		gateway_wg_pool_release(&g->pool, index);
		refuse_msg(resp, LINK_ERR_INTERNAL, NULL);
		return;
	}
	e->index = index;
	e->ips = ips;
	e->nonce = nonce;
	memcpy(e->mac, mac, sizeof(mac));
	e->created = now;
	g->n_pending++;
	pending_msg(g, e, resp);
}

static bool same_ips(const struct link_wg_ips *a, const struct link_wg_ips *b)
{
	return !memcmp(a->v4, b->v4, 4) && !memcmp(a->v6, b->v6, 16);
}

/* A spend's result as the link's ERROR; 0 when spent. */
static int spend_refusal(struct gateway_wg *g, int rc, struct link_msg *resp)
{
	switch (rc) {
	case 0:
		return 0;
	case -EINVAL:
		g->counters.tickets_refused++;
		refuse_msg(resp, LINK_ERR_TICKET_MALFORMED, "not a ticket");
		break;
	case -EPERM:
	case -EKEYEXPIRED:
	case -ENOKEY:
	case -EBADMSG:
		g->counters.tickets_refused++;
		refuse_msg(resp, LINK_ERR_TICKET_REJECTED,
		      rc == -EPERM	   ? "wrong ticket type"
		      : rc == -EKEYEXPIRED ? "ticket expired"
		      : rc == -ENOKEY	   ? "unknown issuer key"
					   : "bad signature");
		break;
	case -EALREADY:
		g->counters.tickets_spent_before++;
		refuse_msg(resp, LINK_ERR_TICKET_SPENT, "serial spent before");
		break;
	default:
		g->counters.spend_failed++;
		refuse_msg(resp, LINK_ERR_INTERNAL, "ticket store failed");
		break;
	}
	return rc ? rc : -EIO;
}

/* The ticket's type against this gateway's, before anything costs a signature check. */
static int check_type(struct gateway_wg *g, const uint8_t *ticket, size_t len, struct link_msg *resp)
{
	struct nym_ticket_view v;
	if (nym_ticket_parse(&v, ticket, len)) {
		g->counters.tickets_refused++;
		refuse_msg(resp, LINK_ERR_TICKET_MALFORMED, "not a ticket");
		return -EINVAL;
	}
	if (v.msg.type != g->cfg.ticket_type) {
		g->counters.tickets_wrong_type++;
		refuse_msg(resp, LINK_ERR_TICKET_REJECTED,
		      g->cfg.ticket_type == NYM_TICKET_WG_ENTRY ? "wrong ticket type: this gateway takes wg-entry"
								: "wrong ticket type: this gateway takes wg-exit");
		return -EPERM;
	}
	return 0;
}

static void on_final(struct gateway_wg *g, const struct link_wg_final *f, int64_t now, struct link_msg *resp)
{
	struct entry *e = find(g, f->client_key);
	uint8_t id[GATEWAY_CLIENT_ID_LEN];
	if (!e) {
		g->counters.not_pending++;
		refuse_msg(resp, LINK_ERR_WG_NOT_PENDING, "no pending registration for this key");
		return;
	}
	int rc = link_wg_mac_verify(f->mac, g->key.secret, f->client_key, f->client_key, &f->ips, f->nonce);
	if (!same_ips(&f->ips, &e->ips) || f->nonce != e->nonce) {
		g->counters.not_pending++;
		refuse_msg(resp, LINK_ERR_WG_NOT_PENDING, "another address pair or nonce than offered");
		return;
	}
	if (rc) {
		g->counters.bad_mac++;
		refuse_msg(resp, LINK_ERR_WG_BAD_MAC, "bad MAC");
		return;
	}
	if (e->registered) {
		/* The FINAL that registered the key, again (its answer was lost): nothing spent. */
		g->counters.repeats++;
		registered_msg(g, e, resp);
		return;
	}
	gateway_wg_balance_id(f->client_key, id);
	uint64_t balance = 0;
	if (f->ticket_len) {
		if (check_type(g, f->ticket, f->ticket_len, resp))
			return;
		rc = g->hooks.spend(g->hooks.ctx, f->ticket, f->ticket_len, g->cfg.ticket_type, id, ticket_bytes(g),
				    &balance);
		if (spend_refusal(g, rc, resp))
			return;
	} else {
		if (g->db && (rc = gateway_clients_balance_get(g->db, id, &balance)) != 0) {
			db_failed(g, rc, "reading a balance");
			refuse_msg(resp, LINK_ERR_INTERNAL, NULL);
			return;
		}
		if (!balance) {
			g->counters.no_bandwidth++;
			refuse_msg(resp, LINK_ERR_BANDWIDTH_EXHAUSTED, "no bandwidth left: send a ticket");
			return;
		}
	}
	/* Stored first, then on the device: a crash in between restores the peer and the next
	 * sync adds it. A device that refuses leaves the key pending (the balance is kept, so
	 * a FINAL without a ticket finishes it). */
	e->registered = true;
	e->balance = balance;
	e->counter = e->last_rx = e->last_tx = 0;
	e->fresh = false;
	e->last_active = e->registered_at = now;
	if ((rc = save_peer(g, e, now)) != 0) {
		db_failed(g, rc, "storing a peer");
		e->registered = false;
		refuse_msg(resp, LINK_ERR_INTERNAL, NULL);
		return;
	}
	if (apply(g, GATEWAY_WG_ADD_PEER, e, NULL, 0)) {
		e->registered = false;
		if (g->db && (rc = gateway_clients_wg_peer_delete(g->db, e->key)) != 0)
			db_failed(g, rc, "forgetting a peer");
		refuse_msg(resp, LINK_ERR_INTERNAL, "the device refused the peer");
		return;
	}
	gateway_wg_pool_allocate(&g->pool, e->index, false);
	g->by_index[e->index] = e;
	g->n_pending--;
	g->n_registered++;
	g->counters.registrations++;
	nym_memzero(e->mac, sizeof(e->mac));
	registered_msg(g, e, resp);
}

static int credit(struct gateway_wg *g, struct entry *e, const uint8_t *ticket, size_t len, int64_t now,
		  struct link_msg *resp)
{
	uint8_t id[GATEWAY_CLIENT_ID_LEN];
	uint64_t stored = 0;
	int rc = check_type(g, ticket, len, resp);
	if (rc)
		return rc;
	gateway_wg_balance_id(e->key, id);
	rc = g->hooks.spend(g->hooks.ctx, ticket, len, g->cfg.ticket_type, id, ticket_bytes(g), &stored);
	if ((rc = spend_refusal(g, rc, resp)) != 0)
		return rc;
	/* The hook credited the stored balance; ours may hold debits not saved yet. */
	e->balance = ticket_bytes(g) > UINT64_MAX - e->balance ? UINT64_MAX : e->balance + ticket_bytes(g);
	g->counters.topups++;
	if ((rc = save_peer(g, e, now)) != 0)
		db_failed(g, rc, "saving a balance"); /* the credit itself is stored */
	return 0;
}

int gateway_wg_handle(struct gateway_wg *g, const struct link_msg *req, int64_t now, struct link_msg *resp)
{
	struct entry *e;
	switch (req->type) {
	case LINK_MSG_WG_INIT:
		on_init(g, req->wg_key, now, resp);
		return 0;
	case LINK_MSG_WG_FINAL:
		on_final(g, &req->wg_final, now, resp);
		return 0;
	case LINK_MSG_WG_QUERY: {
		bool reg;
		uint64_t bal;
		if (gateway_wg_balance(g, req->wg_key, &reg, &bal)) {
			refuse_msg(resp, LINK_ERR_INTERNAL, NULL);
			return 0;
		}
		memset(resp, 0, sizeof(*resp));
		resp->type = LINK_MSG_WG_BANDWIDTH;
		memcpy(resp->wg_bandwidth.client_key, req->wg_key, LINK_WG_KEY_LEN);
		resp->wg_bandwidth.registered = reg;
		resp->wg_bandwidth.balance = bal;
		return 0;
	}
	case LINK_MSG_WG_TOPUP:
		e = find(g, req->wg_topup.client_key);
		if (!e || !e->registered) {
			g->counters.not_pending++;
			refuse_msg(resp, LINK_ERR_WG_NOT_PENDING, "no peer for this key");
			return 0;
		}
		if (credit(g, e, req->wg_topup.ticket, req->wg_topup.ticket_len, now, resp))
			return 0;
		memset(resp, 0, sizeof(*resp));
		resp->type = LINK_MSG_WG_BANDWIDTH;
		memcpy(resp->wg_bandwidth.client_key, e->key, LINK_WG_KEY_LEN);
		resp->wg_bandwidth.registered = true;
		resp->wg_bandwidth.balance = e->balance;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- metering ---- */

static void remove_peer(struct gateway_wg *g, struct entry *e, enum gateway_wg_remove_reason why, int64_t now)
{
	int rc;
	apply(g, GATEWAY_WG_REMOVE_PEER, e, NULL, why);
	if (g->db) {
		uint8_t id[GATEWAY_CLIENT_ID_LEN];
		gateway_wg_balance_id(e->key, id);
		if ((rc = gateway_clients_balance_set(g->db, id, e->balance, now)) != 0 ||
		    (rc = gateway_clients_wg_peer_delete(g->db, e->key)) != 0)
			db_failed(g, rc, "removing a peer");
	}
	gateway_wg_pool_release(&g->pool, e->index);
	g->by_index[e->index] = NULL;
	g->n_registered--;
	unlink_free(g, e);
}

static bool zero_key(const uint8_t *k)
{
	uint8_t z = 0;
	for (size_t i = 0; i < LINK_WG_KEY_LEN; i++)
		z |= k[i];
	return z == 0;
}

int gateway_wg_meter(struct gateway_wg *g, const struct gateway_wg_reading *r, size_t n, int64_t now)
{
	int began = g->db ? gateway_clients_begin(g->db) : -1;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = find(g, r[i].key);
		if (!e || !e->registered) {
			/* Not ours (left from another run, added by hand): off the device. Nym's
			 * catch-all routing peer has the all-zero key and stays. */
			if (!zero_key(r[i].key)) {
				g->counters.removed_unknown++;
				apply(g, GATEWAY_WG_REMOVE_PEER, NULL, r[i].key, GATEWAY_WG_REMOVED_UNKNOWN);
			}
			continue;
		}
		uint64_t total = r[i].rx + r[i].tx, delta, drx, dtx;
		bool reset = e->fresh ? total < e->counter : r[i].rx < e->last_rx || r[i].tx < e->last_tx;
		/* Activity is what came from the peer: the device keeps sending (handshake
		 * initiations, data for it) to a peer that has gone. */
		bool heard = reset ? r[i].rx > 0 : e->fresh ? total > e->counter : r[i].rx > e->last_rx;
		if (reset) {
			g->counters.counter_resets++;
			delta = total;
			drx = r[i].rx;
			dtx = r[i].tx;
		} else {
			delta = total - e->counter;
			drx = e->fresh ? 0 : r[i].rx - e->last_rx;
			dtx = e->fresh ? 0 : r[i].tx - e->last_tx;
		}
		e->fresh = false;
		e->counter = total;
		e->last_rx = r[i].rx;
		e->last_tx = r[i].tx;
		g->bytes_rx += drx;
		g->bytes_tx += dtx;
		if (delta)
			e->dirty = true;
		if (heard)
			e->last_active = now;
		if (r[i].last_handshake > e->last_active) {
			e->last_active = r[i].last_handshake;
			e->dirty = true; /* stored: a restart must not make the peer look stale */
		}
		if (!delta)
			continue;
		bool had = e->balance > 0;
		e->balance = delta >= e->balance ? 0 : e->balance - delta;
		if (e->balance == 0 && had) {
			g->counters.removed_no_bandwidth++;
			remove_peer(g, e, GATEWAY_WG_REMOVED_NO_BANDWIDTH, now);
		}
	}
	/* The removals above are in the same transaction. */
	return save_dirty(g, began, now, "saving the metering");
}

int gateway_wg_tick(struct gateway_wg *g, int64_t now)
{
	int began = g->db ? gateway_clients_begin(g->db) : -1;
	uint64_t before = g->counters.store_failed;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct entry *e = g->buckets[b];
		while (e) {
			struct entry *next = e->next;
			if (!e->registered && now - e->created >= (int64_t)g->cfg.stale_prealloc_s) {
				gateway_wg_pool_release(&g->pool, e->index);
				g->n_pending--;
				g->counters.stale_released++;
				unlink_free(g, e);
			} else if (e->registered) {
				int64_t seen = e->last_active > e->registered_at ? e->last_active : e->registered_at;
				if (now - seen >= (int64_t)g->cfg.stale_peer_s) {
					g->counters.removed_stale++;
					remove_peer(g, e, GATEWAY_WG_REMOVED_STALE, now); /* the balance is saved */
				}
			}
			e = next;
		}
	}
	int rc = 0;
	if (began == 0)
		rc = gateway_clients_commit(g->db);
	if (rc)
		db_failed(g, rc, "removing stale peers");
	return rc ? rc : g->counters.store_failed != before ? -EIO : 0;
}

/* ---- queries ---- */

int gateway_wg_balance(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN], bool *registered, uint64_t *balance)
{
	struct entry *e = find(g, key);
	if (e && e->registered) {
		*registered = true;
		*balance = e->balance;
		return 0;
	}
	*registered = false;
	*balance = 0;
	if (!g->db)
		return 0;
	uint8_t id[GATEWAY_CLIENT_ID_LEN];
	gateway_wg_balance_id(key, id);
	return gateway_clients_balance_get(g->db, id, balance);
}

int gateway_wg_topup(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN], const uint8_t *ticket, size_t len,
		     int64_t now, uint64_t *balance)
{
	struct link_msg resp;
	struct entry *e = find(g, key);
	if (!e || !e->registered)
		return -ENOENT;
	int rc = credit(g, e, ticket, len, now, &resp);
	if (rc == 0)
		*balance = e->balance;
	return rc;
}

int gateway_wg_peer_by_addr(struct gateway_wg *g, int family, const uint8_t *addr, uint8_t key[LINK_WG_KEY_LEN])
{
	uint32_t index;
	if (gateway_wg_pool_index_of(&g->pool, family, addr, &index) || !g->by_index[index])
		return -ENOENT;
	memcpy(key, g->by_index[index]->key, LINK_WG_KEY_LEN);
	return 0;
}

void gateway_wg_stats(struct gateway_wg *g, int64_t now, struct gateway_wg_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->total_peers = g->n_registered;
	out->pending = g->n_pending;
	out->bytes_rx = g->bytes_rx;
	out->bytes_tx = g->bytes_tx;
	out->pairs_free = g->pool.n_free;
	for (uint32_t i = 0; i < g->pool.size; i++) {
		const struct entry *e = g->by_index[i];
		if (e && now - e->last_active <= (int64_t)g->cfg.active_threshold_s)
			out->active_peers++;
	}
}

void gateway_wg_counters(const struct gateway_wg *g, struct gateway_wg_counters *out)
{
	*out = g->counters;
}

const struct gateway_wg_config *gateway_wg_config(const struct gateway_wg *g)
{
	return &g->cfg;
}

static int fitted(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int gateway_wg_stats_json(const struct gateway_wg_stats *s, char *out, size_t cap)
{
	return fitted(snprintf(out, cap,
			       "{\"bytes_rx\":%" PRIu64 ",\"bytes_tx\":%" PRIu64 ",\"total_peers\":%" PRIu64
			       ",\"active_peers\":%" PRIu64 "}",
			       s->bytes_rx, s->bytes_tx, s->total_peers, s->active_peers),
		      cap);
}

int gateway_wg_stats_prometheus(const struct gateway_wg_stats *s, char *out, size_t cap)
{
	return fitted(snprintf(out, cap,
			       "# TYPE nym_node_wireguard_bytes_rx counter\nnym_node_wireguard_bytes_rx %" PRIu64 "\n"
			       "# TYPE nym_node_wireguard_bytes_tx counter\nnym_node_wireguard_bytes_tx %" PRIu64 "\n"
			       "# TYPE nym_node_wireguard_total_peers gauge\nnym_node_wireguard_total_peers %" PRIu64 "\n"
			       "# TYPE nym_node_wireguard_active_peers gauge\nnym_node_wireguard_active_peers %" PRIu64
			       "\n",
			       s->bytes_rx, s->bytes_tx, s->total_peers, s->active_peers),
		      cap);
}

/* ---- the metadata endpoint ---- */

static int answer(int status, const char *body, uint8_t *out, size_t cap, size_t *written)
{
	return gateway_wg_meta_response(status, body, out, cap, written);
}

static int answer_error(int status, const char *text, uint8_t *out, size_t cap, size_t *written)
{
	char body[192];
	if (gateway_wg_meta_error_json(text, body, sizeof(body)) < 0)
		return -ENOSPC;
	return answer(status, body, out, cap, written);
}

int gateway_wg_meta_serve(struct gateway_wg *g, int family, const uint8_t *src, const uint8_t *req, size_t len,
			  int64_t now, uint8_t *out, size_t cap, size_t *written)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct gateway_wg_meta_request r;
	uint8_t key[LINK_WG_KEY_LEN];
	char body[96];
	int status, rc;
	if (!gateway_wg_meta_source_allowed(&g->cfg.pool, family, src)) {
		g->counters.meta_outside++;
		return answer_error(403, "only from inside the tunnel", out, cap, written);
	}
	rc = gateway_wg_meta_parse(req, len, &r, &status);
	if (rc == -EAGAIN)
		return rc;
	g->counters.meta_requests++;
	if (rc) {
		g->counters.meta_bad_request++;
		return answer_error(status, gateway_wg_meta_reason(status), out, cap, written);
	}
	if (r.route == GATEWAY_WG_META_ROUTE_VERSION) {
		gateway_wg_meta_version_json(body, sizeof(body));
		return answer(200, body, out, cap, written);
	}
	if (family == AF_INET6 && !memcmp(src, mapped, sizeof(mapped))) {
		family = AF_INET;
		src += 12;
	}
	if (gateway_wg_peer_by_addr(g, family, src, key)) {
		g->counters.meta_unknown_peer++;
		return answer_error(404, "no peer at this address", out, cap, written);
	}
	uint64_t balance;
	if (r.route == GATEWAY_WG_META_ROUTE_AVAILABLE) {
		bool reg;
		if (gateway_wg_balance(g, key, &reg, &balance))
			return answer_error(500, "internal error", out, cap, written);
	} else {
		rc = gateway_wg_topup(g, key, r.ticket, r.ticket_len, now, &balance);
		nym_memzero(r.ticket, sizeof(r.ticket));
		if (rc == -EALREADY)
			return answer_error(409, "ticket spent before", out, cap, written);
		if (rc == -EINVAL || rc == -EPERM || rc == -EKEYEXPIRED || rc == -ENOKEY || rc == -EBADMSG)
			return answer_error(402, nym_ticket_store_refusal_text(rc), out, cap, written);
		if (rc)
			return answer_error(500, "ticket store failed", out, cap, written);
	}
	gateway_wg_meta_available_json(balance, body, sizeof(body));
	return answer(200, body, out, cap, written);
}
