/* The IP packet router of an exit gateway (docs/PROTOCOLS.md §9), as an engine with no
 * sockets, threads or clock: nodectl/gateway/gateway_ipr.c runs it on the TUN device.
 *
 * In:
 *   gateway_ipr_engine_item  a final-hop packet for the IPR as a RECEIVE item (either layout,
 *                            mix_envelope_item_split): opened with the IPR's X25519 secret, the
 *                            fragment reassembled, the NymMessage (Repliable) unpadded and the
 *                            request decoded and served;
 *   gateway_ipr_engine_tun   an IP packet read from the TUN device, for the client whose
 *                            address it is sent to;
 *   gateway_ipr_engine_tun_drained  the driver read every packet waiting on the TUN device:
 *                            the bundles of clients with a zero buffer timeout leave;
 *   gateway_ipr_engine_tick  time: bundle timeouts, idle clients.
 * Out (hooks): IP packets for the TUN device (client packets that passed the anti-spoofing
 * and exit-policy checks) and reply Sphinx packets, one per fragment of each response, each
 * built with one of the client's reply SURBs, without a SURB-ACK (the unacknowledged layout:
 * 1990 data bytes a packet), and sent to the SURB's first hop.
 *
 * Per client (keyed by its sender tag): its address pair, a stock of reply SURBs (bounded,
 * used oldest first, SURB_REQUEST when it falls under the low-water mark), the current DATA
 * bundle (up to bundle_max_fragments full reply packets; sent when full, when the client's
 * buffer timeout passes, or with a zero timeout once the TUN is drained), a bounded queue of
 * responses waiting for SURBs. A client that sends nothing for client_idle_ns is released
 * (UNREQUESTED_DISCONNECT when a SURB is left). Everything is bounded and every refusal
 * counted. Not thread-safe: one owner. */
#ifndef NYM_GATEWAY_GATEWAY_IPR_H
#define NYM_GATEWAY_GATEWAY_IPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "ipr/ipr_addr.h"
#include "ipr/ipr_msg.h"
#include "mix/mix_packet_size.h"
#include "net/net_addr.h"
#include "policy/policy.h"

struct gateway_ipr_engine_config {
	size_t max_clients;		 /* default 1024 */
	size_t max_surbs_per_client;	 /* stock cap; the oldest goes first beyond it (default 256) */
	size_t surb_low_water;		 /* SURB_REQUEST below this (default 20) */
	uint16_t surb_request_amount;	 /* asked for at a time (default 64, 1..500) */
	uint64_t client_idle_ns;	 /* release after this long without a request (60 s) */
	uint64_t buffer_timeout_ns;	 /* bundle timeout when CONNECT gives none (5 ms) */
	/* With a zero buffer timeout a bundle leaves when the TUN is drained, except a bundle
	 * holding a bulk packet (more than half a reply packet's data) whose last reply packet
	 * would leave over a quarter empty: it waits up to this long after its first packet for
	 * the next read to fill it (1 ms; 0: never waits). */
	uint64_t fill_wait_ns;
	uint64_t max_buffer_timeout_ns;	 /* a client's own timeout is clamped to this (1 s) */
	uint64_t surb_request_retry_ns;	 /* ask again if no SURB came for this long (1 s) */
	/* SURBs whose mixnodes' Sphinx keys are gone are dropped unused, since a reply through
	 * one would be lost. A SURB arriving at t was built with the keys of the rotation t lies
	 * in; they die at the next rotation start plus the overlap. Rotations start at
	 * rotation_origin_ns + k * rotation_ns on the engine's clock (rotation_ns 0: no
	 * schedule); the overlap is overlap_ns. surb_max_age_ns (0: none) caps the age too. */
	uint64_t rotation_ns, rotation_origin_ns, overlap_ns;
	uint64_t surb_max_age_ns;
	size_t max_pending_responses;	 /* per client, waiting for SURBs (default 64) */
	/* A DATA bundle of several packets fills at most this many reply packets (1..32,
	 * default 8: nine 1420-byte packets in seven full reply packets). */
	size_t bundle_max_fragments;
	size_t reassembly_max_sets;	 /* 0: the reassembly default */
	size_t reassembly_max_bytes;	 /* 0: 16 MiB */
	uint64_t reassembly_timeout_ns;	 /* 0: 30 s */
	enum mix_packet_size packet_size; /* of reply packets (regular) */
	const char *build_version;	 /* HEALTH text (NULL: NYM_VERSION) */
};

void gateway_ipr_engine_config_default(struct gateway_ipr_engine_config *cfg);

struct gateway_ipr_engine_hooks {
	void *ctx;
	/* One IP packet for the TUN device. */
	int (*tun_write)(void *ctx, const uint8_t *packet, size_t len);
	/* One reply Sphinx packet of class `size` for next_hop (the SURB's first hop). */
	int (*inject)(void *ctx, const struct net_addr *next_hop, enum mix_packet_size size,
		      const uint8_t *packet, size_t len);
};

struct gateway_ipr_stats {
	uint64_t items;		     /* delivered to gateway_ipr_engine_item */
	uint64_t items_malformed;    /* wrong length, unreadable fragment */
	uint64_t messages;	     /* whole messages reassembled */
	uint64_t messages_malformed; /* bad padding, not Repliable, undecodable request */
	uint64_t version_mismatch;   /* requests of another IPR version */
	uint64_t unknown_client;     /* requests other than CONNECT from an unknown tag */
	uint64_t connects, connect_refused, disconnects, idle_released;
	uint64_t bundles_malformed;  /* DATA bundles refused (and requests with them) */
	uint64_t packets_in;	     /* client packets in DATA requests */
	uint64_t packets_malformed;  /* ... that are not IP packets */
	uint64_t packets_spoofed;    /* ... with a source that is not the client's */
	uint64_t packets_refused;    /* ... the exit policy refused */
	uint64_t packets_to_tun;     /* ... written to the TUN */
	uint64_t tun_write_errors;
	uint64_t tun_packets;	     /* read from the TUN */
	uint64_t tun_unknown;	     /* ... for no client (dropped) */
	uint64_t tun_malformed;
	uint64_t surbs_received, surbs_dropped; /* dropped: over the stock cap (oldest) */
	uint64_t surbs_expired;	     /* dropped unused: their keys are gone (or too old) */
	uint64_t surb_requests;
	uint64_t responses;	     /* response messages sent */
	uint64_t responses_dropped;  /* no SURB in time, queue full, or an error */
	uint64_t reply_packets;	     /* reply Sphinx packets built */
	uint64_t data_bundles;	     /* DATA responses made of TUN packets and refusals */
	uint64_t inject_errors;
	size_t clients;		     /* now */
};

struct gateway_ipr_engine;

/* x25519_secret: the IPR's decryption key (nym_ed25519_secret_to_x25519 of the gateway
 * identity), copied. The policy is compiled (twice: as written, and its network view) and not
 * kept. rng NULL: the system's. Returns 0, -EINVAL or -ENOMEM. */
int gateway_ipr_engine_new(const struct gateway_ipr_engine_config *cfg, const uint8_t x25519_secret[32],
			   const struct policy *policy, const struct gateway_ipr_engine_hooks *hooks,
			   const struct nym_rng *rng, struct gateway_ipr_engine **out);
void gateway_ipr_engine_free(struct gateway_ipr_engine *e);

/* A RECEIVE item (2029 bytes for regular: mix_envelope_item_split's two layouts) of class size. */
void gateway_ipr_engine_item(struct gateway_ipr_engine *e, enum mix_packet_size size, const uint8_t *item,
			     size_t len, uint64_t now_ns);

/* An IP packet from the TUN device. */
void gateway_ipr_engine_tun(struct gateway_ipr_engine *e, const uint8_t *packet, size_t len, uint64_t now_ns);

/* The driver has read every packet waiting on the TUN device (a read returned EAGAIN):
 * the bundles of clients with a zero buffer timeout leave now, so the packets of one read
 * batch share their reply packets and none waits for a packet that is not there. */
void gateway_ipr_engine_tun_drained(struct gateway_ipr_engine *e, uint64_t now_ns);

/* Flushes bundles whose timeout passed (a zero timeout's at once), releases idle clients,
 * re-asks for SURBs. */
void gateway_ipr_engine_tick(struct gateway_ipr_engine *e, uint64_t now_ns);

/* When tick next has something to do (absolute ns; UINT64_MAX: nothing). */
uint64_t gateway_ipr_engine_next_due(const struct gateway_ipr_engine *e);

void gateway_ipr_engine_get_stats(const struct gateway_ipr_engine *e, struct gateway_ipr_stats *out);

/* The policy decision the IPR makes for one client packet (parsed with ipr_packet_parse):
 * true to forward. Exposed for tests. */
struct ipr_packet_info;
bool gateway_ipr_engine_allows(const struct gateway_ipr_engine *e, const struct ipr_packet_info *info);

/* The pair of the client with this sender tag. Returns 0 or -ENOENT. For tests. */
int gateway_ipr_engine_client_addr(const struct gateway_ipr_engine *e, const uint8_t tag[IPR_SENDER_TAG_LEN],
				   struct ipr_addr_pair *out);
/* SURBs the client holds here. Returns the count or -ENOENT. */
int gateway_ipr_engine_client_surbs(const struct gateway_ipr_engine *e, const uint8_t tag[IPR_SENDER_TAG_LEN]);

#endif
