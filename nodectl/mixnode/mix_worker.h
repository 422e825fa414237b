/* The mixnet data plane: one worker thread per core, each with its own io_uring, delay queue,
 * ingress connections and egress connections. Nothing on the per-packet path is shared
 * between workers except read-mostly state published by pointer (keys, topology) and the
 * lock-free replay filters.
 *
 *   socket -> frame decoder -> batch of the receive's frames -> Sphinx open -> replay filter
 *          -> Sphinx peel -> delay queue -> next hop's queue -> committed output buffer -> send
 *
 * Worker 0 accepts connections, counts each against its source address's limits
 * (io/conn_limit.h) and hands each to the workers in turn over io_uring (IORING_OP_MSG_RING),
 * so load spreads evenly whatever the kernel's port hashing does. */
#ifndef NYM_NODECTL_MIX_WORKER_H
#define NYM_NODECTL_MIX_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/x25519.h"
#include "io/conn_limit.h"
#include "io/uring_loop.h"
#include "net/net_addr.h"
#include "mix/mix_frame.h"
#include "mixnode/delay_queue.h"
#include "mixnode/key_rotation.h"
#include "mixnode/mix_forward.h"
#include "noise/noise_session.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_metrics.h"
#include "mixnode/mixnode_peers.h"

#define INGRESS_RBUF 32768
#define EGRESS_OBUF (256 * 1024)
#define PEER_BUCKETS 1024
#define MIX_INGRESS_BATCH 8 /* one group of lanes of crypto/x25519_batch */

struct mix_worker;
struct egress_peer;

/* State every worker reads; written only by the main thread. */
struct mix_shared {
	const struct node_config *cfg;
	enum node_mode mode;
	struct node_metrics *metrics;
	_Atomic(struct mixnode_keyring *) keyring;
	_Atomic(struct mixnode_peers *) topology;
	struct nym_x25519_keypair noise;
	int listen_fd;
	size_t nworkers;
	struct mix_worker *workers;
	pthread_barrier_t rings_ready;
	_Atomic bool stopping;
	/* Derived from cfg once, in nanoseconds or counts. */
	uint64_t max_delay_ns, idle_ns, write_timeout_ns, connect_timeout_ns;
	uint64_t backoff_initial_ns, backoff_max_ns;
	uint64_t busy_poll_ns;
	uint64_t first_frame_ns;
	uint32_t per_address_max, handshake_burst;
	uint64_t handshakes_per_second;
	/* Admission by source address, across workers: worker 0 counts each connection in at
	 * accept, the worker that owns it counts it out at close (see io/conn_limit.h). */
	struct conn_limit limits;
	struct conn_limit_timeouts ingress_timeouts;
	size_t peer_queue_max, delayed_max, ingress_max;
	size_t packet_memory_max;
	bool replay_protection;
	/* Gateway modes (nodectl/gateway/gateway_plane.h), set before the workers start; NULL
	 * for a mixnode. final: a final-hop message (msg points into the worker's packet; the
	 * hook copies it). drain: on every wake of a worker, sends what the gateway queued. */
	void *gateway_ctx;
	void (*gateway_final)(void *ctx, struct mix_worker *w, const struct mix_frame *f, const struct mix_forward *d,
			      const uint8_t *msg, size_t msg_len);
	void (*gateway_drain)(void *ctx, struct mix_worker *w);
};

/* One packet on its way through a worker: the v8 frame as it will leave. */
struct packet_slot {
	struct packet_slot *next;
	struct egress_peer *peer;
	uint32_t frame_len;
	uint32_t capacity;
	uint8_t frame[];
};

enum ingress_proto { INGRESS_UNKNOWN, INGRESS_PLAIN, INGRESS_NOISE };

struct ingress_conn {
	struct mix_worker *w;
	struct ingress_conn *prev, *next;
	int fd;
	int ops;
	bool closing;
	enum ingress_proto proto;
	uint32_t addr_slot; /* its address's entry in mix_shared.limits */
	struct conn_limit_timer timer;
	struct uring_loop_op recv_op, send_op;
	struct noise_session *noise; /* responder state, for Noise connections */
	uint8_t reply[NOISE_FRAME_HEADER_LEN + NOISE_HANDSHAKE_MAX_LEN];
	struct mix_frame_decoder dec;
	uint8_t rbuf[INGRESS_RBUF];
};

enum peer_state { PEER_IDLE, PEER_CONNECTING, PEER_HANDSHAKE, PEER_READY, PEER_CLOSING };

struct egress_peer {
	struct mix_worker *w;
	struct egress_peer *hash_next, *dirty_next;
	struct net_addr addr;
	char name[NET_ADDR_STR_LEN];
	enum peer_state state;
	int fd;
	int ops;
	bool dirty;
	bool send_in_flight;
	uint64_t backoff_until_ns, backoff_ns;
	uint64_t last_send_ns;
	int consecutive_timeouts;
	struct packet_slot *q_head, *q_tail;
	size_t q_len;
	uint8_t *obuf;
	size_t olen, osent, obuf_frames;
	struct uring_loop_op connect_op, send_op, recv_op;
	struct noise_session *noise; /* initiator state, when the next hop's Noise key is known */
	uint8_t rbuf[256];
};

struct mix_worker {
	struct mix_shared *shared;
	size_t index;
	pthread_t thread;
	struct uring_loop loop;
	struct worker_metrics *m;
	int wake_fd;
	uint64_t wake_value;
	struct uring_loop_op wake_op, accept_op;
	size_t next_handoff;
	struct delay_queue delays;
	struct ingress_conn *ingress;
	size_t ingress_count;
	struct egress_peer *peers[PEER_BUCKETS];
	size_t peer_count;
	struct egress_peer *dirty;
	struct packet_slot *free_slots;
	size_t free_slot_count;
	size_t packet_memory;
	size_t pending_delivery;
	uint64_t next_housekeeping_ns;
	uint64_t busy_poll_until_ns;
	/* Frames taken from this round's receives and not yet decided: their curve operations
	 * run together (mix_forward_decide_batch), so a backlog drains faster than packet by
	 * packet. */
	struct ingress_pending {
		struct packet_slot *slot;
		struct mix_frame frame; /* frame.packet points into the slot */
	} pending[MIX_INGRESS_BATCH];
	size_t pending_count;
	/* Scratch for Noise plaintext; every use completes before the next begins. */
	uint8_t noise_plain[NOISE_MAX_PLAINTEXT_LEN];
};

/* Lifecycle (main thread). */
int mix_workers_start(struct mix_shared *shared);
void mix_workers_stop(struct mix_shared *shared);

/* Used between the worker modules. */
struct packet_slot *mix_slot_alloc(struct mix_worker *w, size_t frame_len);
void mix_slot_free(struct mix_worker *w, struct packet_slot *s);
/* Takes a connection counted in the address table under addr_slot. */
void mix_ingress_adopt(struct mix_worker *w, int fd, uint32_t addr_slot);
void mix_ingress_housekeeping(struct mix_worker *w);
void mix_ingress_close_all(struct mix_worker *w);
/* Decides the frames taken so far; the loop calls it after each round of completions, so
 * frames from every connection that had data in the round share a batch. */
void mix_ingress_flush(struct mix_worker *w);
/* Hands a due packet to its next hop (queued, or dropped and counted). */
void mix_egress_enqueue(struct mix_worker *w, struct packet_slot *s);
/* Finds or creates the peer for a next-hop address; NULL when the address is not allowed
 * (not in the topology) or the peer table is full. */
struct egress_peer *mix_egress_peer(struct mix_worker *w, const struct net_addr *addr);
/* Connects or sends for every peer that got packets this round. */
void mix_egress_flush_dirty(struct mix_worker *w);
void mix_egress_housekeeping(struct mix_worker *w);
void mix_egress_close_all(struct mix_worker *w);

#endif
