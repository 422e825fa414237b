/* Admission limits for a listener whose connections live on several threads: how many
 * connections each source address holds, a token bucket per address for work a connection
 * can make the server do (a Noise handshake's X25519 operations), and the two deadlines of
 * a connection (its first complete frame, then idleness between frames).
 *
 * An "address" is what a new one costs an attacker: an IPv4 address (IPv4-mapped IPv6
 * addresses included), or an IPv6 /64, the smallest allocation a customer gets.
 *
 * The table is open addressing with a keyed hash (addresses are chosen by remote peers) and
 * a bounded probe window. Threads: one thread, the acceptor, calls conn_limit_admit; any
 * thread may call conn_limit_release and conn_limit_take_handshake with the slot its
 * connection was admitted under. Only the acceptor reuses an entry, and only once no
 * connection holds it, so a slot stays valid for as long as its connection lives. An entry
 * whose connections have all closed keeps its token bucket, so closing and reconnecting
 * does not refill it; under pressure such entries are reused, those with full buckets first. */
#ifndef NYM_IO_CONN_LIMIT_H
#define NYM_IO_CONN_LIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/net_addr.h"
#include "util/ratelimit.h"

#define CONN_LIMIT_PROBES 16 /* entries looked at per admission */
#define CONN_LIMIT_MAX_ENTRIES (1u << 22) /* 128 MiB of entries at most, touched lazily */

struct conn_limit_entry {
	uint8_t key[NET_ADDR_LIMIT_KEY_LEN]; /* written and read by the acceptor only */
	bool used;
	_Atomic uint32_t connections;
	struct nym_ratelimit_bucket handshakes;
};

struct conn_limit {
	struct conn_limit_entry *entries;
	uint32_t mask;
	uint8_t hash_key[16];
	uint32_t per_address;           /* connections one address may hold; 0: no limit */
	uint64_t handshake_interval_ns; /* one token per interval; 0: no limit */
	uint32_t handshake_burst;
};

/* Sizes the table for max_connections open at once (twice as many entries, a power of two,
 * at most CONN_LIMIT_MAX_ENTRIES). handshakes_per_second 0 means no handshake limit.
 * Returns 0, -EINVAL or -ENOMEM. */
int conn_limit_init(struct conn_limit *l, size_t max_connections, uint32_t per_address,
		    uint64_t handshakes_per_second, uint32_t handshake_burst);
void conn_limit_fini(struct conn_limit *l);

/* Counts a new connection from peer at now_ns (acceptor thread only). Returns 0 with *slot set,
 * -EUSERS when the address already holds per_address connections, -ENOSPC when every entry
 * of its probe window holds connections of other addresses, -EAFNOSUPPORT for anything but
 * IPv4 and IPv6. */
int conn_limit_admit(struct conn_limit *l, const struct sockaddr *peer, uint64_t now_ns, uint32_t *slot);
/* The connection admitted under slot has closed (any thread). */
void conn_limit_release(struct conn_limit *l, uint32_t slot);
/* Takes a handshake token for the connection's address (any thread). */
bool conn_limit_take_handshake(struct conn_limit *l, uint32_t slot, uint64_t now_ns);
/* Connections the slot's address holds now. */
uint32_t conn_limit_connections(const struct conn_limit *l, uint32_t slot);
/* Deadlines of one connection; 0 disables either. */
struct conn_limit_timeouts {
	uint64_t first_frame_ns; /* from opening to the first complete frame (handshake included) */
	uint64_t idle_ns;        /* between complete frames (from opening until the first) */
};

struct conn_limit_timer {
	uint64_t opened_ns;
	uint64_t last_frame_ns;
	bool framed;
};

enum conn_limit_expiry {
	CONN_LIMIT_LIVE,
	CONN_LIMIT_NO_FIRST_FRAME,
	CONN_LIMIT_IDLE,
};

void conn_limit_timer_start(struct conn_limit_timer *t, uint64_t now_ns);
/* A complete frame arrived: what resets the idle deadline (bytes alone do not). */
static inline void conn_limit_timer_frame(struct conn_limit_timer *t, uint64_t now_ns)
{
	t->last_frame_ns = now_ns;
	t->framed = true;
}
/* Which deadline, if any, the connection has passed at now_ns. Before the first frame the
 * shorter of the two deadlines decides. */
enum conn_limit_expiry conn_limit_timer_check(const struct conn_limit_timer *t, const struct conn_limit_timeouts *to,
					      uint64_t now_ns);

#endif
