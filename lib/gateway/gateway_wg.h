/* The gateway's WireGuard peers as an engine without a device (docs/PROTOCOLS.md §8.7, §8.8):
 * NymVPN's registration ("authenticator") flow over the client link, the address pair pool,
 * metering of the device's per-peer counters against durable balances, top-ups, the in-tunnel
 * metadata endpoint and the wireguard metrics. What the device must do comes out as actions
 * through a hook (add a peer with its /32 and /128, remove one); what the device counts comes
 * in as readings. Tickets are spent through a hook as well (in nym-node:
 * gateway_clients_spend_ticket against the ticket store), so the engine runs in tests with a
 * ticket store of their own.
 *
 *   WG_INIT key     -> a random free pair pre-allocated, a random nonce, WG_PENDING with the
 *                      gateway's MAC; the same WG_PENDING again while it is pending, and
 *                      WG_REGISTERED for a key already registered (idempotent)
 *   WG_FINAL        -> pair and nonce as offered, the client's MAC, a ticket of this
 *                      gateway's type (wg-entry at an entry, wg-exit at an exit) spent and
 *                      credited, the peer stored, action ADD, WG_REGISTERED. A FINAL without a
 *                      ticket is paid by the balance the key has left; a repeat of the FINAL
 *                      that registered the key answers WG_REGISTERED again, spending nothing.
 *   WG_QUERY        -> WG_BANDWIDTH;  WG_TOPUP -> ticket spent, WG_BANDWIDTH
 *   meter(readings) -> rx + tx deltas debited (a counter below the last reading means the
 *                      device was recreated: the reading is all new); at 0 the peer is removed
 *                      (action REMOVE) and its pair freed; saved in one transaction
 *   tick(now)       -> pre-allocations older than stale_prealloc_s released; registered peers
 *                      without a handshake or anything received for stale_peer_s (since the later of
 *                      their registration and their last activity) removed (action REMOVE,
 *                      reason STALE) and their pair freed, their balance kept: the key
 *                      registers again without a ticket while it has bandwidth (Nym's 3 days)
 *
 * Durable state (struct gateway_clients, clients.sqlite): the peers (wg_peers) and their
 * balances (balances, under gateway_wg_balance_id). Ticket credits are crash-safe through the
 * spend hook; debits are saved at every meter call, so a crash forgives at most one interval.
 * Pending registrations live in memory only (Nym's do too). One struct per thread. */
#ifndef NYM_GATEWAY_GATEWAY_WG_H
#define NYM_GATEWAY_GATEWAY_WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "gateway/gateway_clients.h"
#include "gateway/gateway_wg_pool.h"
#include "link/link_msg.h"

#define GATEWAY_WG_METER_INTERVAL_S 5	     /* Nym's DEFAULT_PEER_TIMEOUT_CHECK */
#define GATEWAY_WG_ACTIVE_THRESHOLD_S 180    /* a peer with traffic this recent is active */
#define GATEWAY_WG_STALE_PREALLOC_S 3600     /* Nym's DEFAULT_IP_STALE_AGE */
#define GATEWAY_WG_CLEANUP_INTERVAL_S 300    /* Nym's DEFAULT_IP_CLEANUP_INTERVAL */
#define GATEWAY_WG_STALE_PEER_S (3 * 86400)  /* Nym removes peers without a handshake this long */
#define GATEWAY_WG_MAX_PENDING 4096
#define GATEWAY_WG_METADATA_PORT 51830	     /* Nym's WG_METADATA_PORT, at the gateway's .1 */

struct gateway_wg;

struct gateway_wg_config {
	struct gateway_wg_pool_config pool; /* gateway_wg_pool_default_config: Nym's ranges */
	uint16_t port;			    /* announced WireGuard port; 0: 51822 */
	enum nym_ticket_type ticket_type;   /* NYM_TICKET_WG_ENTRY or NYM_TICKET_WG_EXIT */
	uint64_t bytes_per_ticket;	    /* 0: the type's allowance (500 MB) */
	uint64_t stale_prealloc_s;	    /* 0: GATEWAY_WG_STALE_PREALLOC_S */
	uint64_t active_threshold_s;	    /* 0: GATEWAY_WG_ACTIVE_THRESHOLD_S */
	uint64_t stale_peer_s;		    /* 0: GATEWAY_WG_STALE_PEER_S */
	uint32_t max_pending;		    /* 0: GATEWAY_WG_MAX_PENDING */
	const struct nym_rng *rng;	    /* nonces and pairs; NULL: nym_random */
};

enum gateway_wg_action_kind {
	GATEWAY_WG_ADD_PEER = 1,    /* key with allowed IPs ips.v4/32 and ips.v6/128 */
	GATEWAY_WG_REMOVE_PEER = 2, /* key */
};

enum gateway_wg_remove_reason {
	GATEWAY_WG_REMOVED_NO_BANDWIDTH = 1, /* the balance reached 0 */
	GATEWAY_WG_REMOVED_UNKNOWN = 2,	     /* a device peer the engine does not know */
	GATEWAY_WG_REMOVED_STALE = 3,	     /* no handshake and nothing received for stale_peer_s */
};

struct gateway_wg_action {
	enum gateway_wg_action_kind kind;
	uint8_t key[LINK_WG_KEY_LEN];
	struct link_wg_ips ips;			   /* ADD */
	enum gateway_wg_remove_reason reason;	   /* REMOVE */
};

struct gateway_wg_hooks {
	void *ctx;
	/* Spends a ticket of `type` and credits `bytes` to the balance stored under id
	 * (gateway_clients_spend_ticket with 1 << type); *balance gets the stored balance after
	 * the credit. Returns 0 or nym_ticket_store_spend's refusals (-EINVAL malformed; -EPERM,
	 * -EKEYEXPIRED, -ENOKEY, -EBADMSG rejected; -EALREADY spent); anything else is the
	 * gateway's failure. */
	int (*spend)(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		     const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance);
	/* Applies an action to the device. 0 or a negative errno (an ADD that fails fails the
	 * registration; a REMOVE that fails is counted, the engine forgets the peer anyway). */
	int (*apply)(void *ctx, const struct gateway_wg_action *a);
};

/* One peer's counters as read from the device. */
struct gateway_wg_reading {
	uint8_t key[LINK_WG_KEY_LEN];
	uint64_t rx, tx;
	int64_t last_handshake; /* Unix seconds, 0: never */
};

/* For /api/v1/metrics/wireguard-stats and Prometheus. */
struct gateway_wg_stats {
	uint64_t total_peers;  /* registered */
	uint64_t active_peers; /* received traffic or a handshake within active_threshold_s */
	uint64_t pending;      /* registrations waiting for their FINAL */
	uint64_t bytes_rx, bytes_tx; /* metered since the engine opened */
	uint64_t pairs_free;	     /* address pairs neither pending nor registered */
};

struct gateway_wg_counters {
	uint64_t inits, registrations, repeats; /* repeats: INIT or FINAL of a registered key */
	uint64_t bad_mac, not_pending, no_address, bad_key;
	uint64_t tickets_wrong_type, tickets_refused, tickets_spent_before, spend_failed;
	uint64_t no_bandwidth;	/* FINAL without a ticket and no balance left */
	uint64_t topups;
	uint64_t stale_released; /* pre-allocations released by tick */
	uint64_t removed_no_bandwidth, removed_unknown, removed_stale;
	uint64_t counter_resets; /* readings below the last: device recreated */
	uint64_t apply_failed, store_failed;
	uint64_t meta_requests, meta_outside, meta_bad_request, meta_unknown_peer;
};

/* The balances row of a WireGuard key: SHA-256("nym-c/wg-balance/v1" || key), so a key can
 * never share a balance with a client link identity. */
void gateway_wg_balance_id(const uint8_t key[LINK_WG_KEY_LEN], uint8_t id[GATEWAY_CLIENT_ID_LEN]);

/* key: the gateway's WireGuard key pair (copied; zeroed at close). db NULL keeps everything
 * in memory (fuzzing); otherwise the stored peers are restored (peers whose pair is not in
 * the configured pool are dropped). Returns 0, -EINVAL (config, hooks), -ENOMEM or a store
 * error. */
int gateway_wg_open(struct gateway_wg **out, const struct gateway_wg_config *cfg, const struct nym_x25519_keypair *key,
		    struct gateway_clients *db, const struct gateway_wg_hooks *hooks, int64_t now);
/* Saves the balances and frees; NULL is fine. */
void gateway_wg_close(struct gateway_wg *g);

/* ADD for every registered peer: after the device was (re)created, and once at start. */
int gateway_wg_sync_device(struct gateway_wg *g);

/* One WG_* request from a client link: *resp gets the frame to send back (a WG_* answer or an
 * ERROR). Returns 0 when *resp is set, -EINVAL when req is no WG request. */
int gateway_wg_handle(struct gateway_wg *g, const struct link_msg *req, int64_t now, struct link_msg *resp);

/* Debits the readings (GATEWAY_WG_METER_INTERVAL_S apart); peers without a reading keep
 * their balance. Returns 0 or a store error (the engine's own state is updated anyway). */
int gateway_wg_meter(struct gateway_wg *g, const struct gateway_wg_reading *r, size_t n, int64_t now);

/* Releases stale pre-allocations and removes stale peers (balances kept); call every
 * GATEWAY_WG_CLEANUP_INTERVAL_S or so (more often when stale_peer_s is shorter). Returns 0 or
 * a store error. */
int gateway_wg_tick(struct gateway_wg *g, int64_t now);

/* The balance of a key: *registered whether it has a peer. */
int gateway_wg_balance(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN], bool *registered, uint64_t *balance);
/* Spends a ticket for a registered key. Returns 0 with the new balance, -ENOENT (no peer),
 * -EPERM (a ticket of another type) or the spend hook's refusal or error. */
int gateway_wg_topup(struct gateway_wg *g, const uint8_t key[LINK_WG_KEY_LEN], const uint8_t *ticket, size_t len,
		     int64_t now, uint64_t *balance);
/* The registered peer whose private address is addr (AF_INET: 4 bytes, AF_INET6: 16). */
int gateway_wg_peer_by_addr(struct gateway_wg *g, int family, const uint8_t *addr, uint8_t key[LINK_WG_KEY_LEN]);

void gateway_wg_stats(struct gateway_wg *g, int64_t now, struct gateway_wg_stats *out);
void gateway_wg_counters(const struct gateway_wg *g, struct gateway_wg_counters *out);
const struct gateway_wg_config *gateway_wg_config(const struct gateway_wg *g);

/* {"bytes_rx":N,"bytes_tx":N,"total_peers":N,"active_peers":N} for
 * /api/v1/metrics/wireguard-stats. Returns the length or -ENOSPC. */
int gateway_wg_stats_json(const struct gateway_wg_stats *s, char *out, size_t cap);
/* Nym's Prometheus names, one "# TYPE" and one sample each: nym_node_wireguard_bytes_rx,
 * _bytes_tx (counters), _total_peers, _active_peers (gauges). Returns the length or -ENOSPC. */
int gateway_wg_stats_prometheus(const struct gateway_wg_stats *s, char *out, size_t cap);

/* The in-tunnel metadata endpoint (10.1.0.1:51830, gateway_wg_meta): one HTTP request from
 * src (family, 4 or 16 address bytes) whole in req, the response into out. Requests from
 * outside the pool's ranges get 403 and are counted. Returns 0 with *written bytes, -EAGAIN
 * (the request is not complete yet: read more) or -ENOSPC. */
int gateway_wg_meta_serve(struct gateway_wg *g, int family, const uint8_t *src, const uint8_t *req, size_t len,
			  int64_t now, uint8_t *out, size_t cap, size_t *written);

#endif
