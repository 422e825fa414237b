/* The IP packet router suites' world: three simulated mix nodes and the client's gateway
 * (keys and addresses), the IPR's identity, an engine whose TUN and inject hooks capture what
 * it emits, and a simulated client (reply keys, reassembly, sender tag) that seals requests
 * to the IPR as its mixnet client would and opens the reply packets by walking them through
 * the SURB route. One fixture per test process (Criterion forks per test). */
#ifndef NYM_TESTS_IPRFIX_H
#define NYM_TESTS_IPRFIX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "gateway/gateway_ipr.h"
#include "ipr/ipr_msg.h"
#include "mix/mix_fragment.h"
#include "mix/mix_reassembly.h"
#include "mix/mix_reply.h"
#include "sphinx/sphinx_packet.h"

#define IPRFIX_SURB_LEN 460
#define IPRFIX_MAX_OUT 4096
#define IPRFIX_MAX_KEYS 4096

enum { IPRFIX_MIX1, IPRFIX_MIX2, IPRFIX_MIX3, IPRFIX_GW, IPRFIX_NODES };

struct iprfix {
	struct nym_x25519_keypair node_keys[IPRFIX_NODES];
	struct sphinx_hop hops[IPRFIX_NODES];
	struct nym_ed25519_keypair ipr_id;
	uint8_t ipr_pub[32];

	/* What came out of the engine. */
	uint8_t *tun_out[IPRFIX_MAX_OUT];
	size_t tun_len[IPRFIX_MAX_OUT], n_tun;
	uint8_t *inj_out[IPRFIX_MAX_OUT];
	size_t n_inj, inj_seen; /* inj_seen: reply packets already taken by the client */
	struct net_addr inj_hop;  /* the next hop of the last injected packet */

	/* The simulated client. */
	uint8_t client_id[32];
	uint8_t keys[IPRFIX_MAX_KEYS][MIX_REPLY_KEY_LEN];
	size_t n_keys;
	struct mix_reassembly *client_reasm;
	uint8_t tag[IPR_SENDER_TAG_LEN];

	struct gateway_ipr_engine *eng;
	size_t unacked_sent; /* messages sent with iprfix_send_raw_unacked */
};

extern struct iprfix ipf;

/* The exit policy the engine is made with: rejects 198.51.100.0/24, accepts
 * 203.0.113.0/24:443 and *:80, rejects everything else. */
extern const char iprfix_policy_text[];

/* Fresh node keys, IPR identity, client and an engine made with cfg (NULL: the defaults). */
void iprfix_init(const struct gateway_ipr_engine_config *cfg);
void iprfix_fini(void);

/* n reply SURBs (key | SURB, IPRFIX_SURB_LEN each, malloc'd) routed mix1, mix2, mix3, the
 * client's gateway; their reply keys are remembered. */
uint8_t *iprfix_make_surbs(size_t n);

/* Sends a message as the client's mixnet client would: padded with its type, fragmented,
 * each fragment sealed to the IPR with no SURB-ACK and handed to the engine as a final-hop
 * item at `now`. */
void iprfix_send_raw(const uint8_t *msg, size_t len, enum mix_message_type type, uint64_t now);
/* The same in the unacknowledged layout (a zero first hop, 1997-byte fragments). */
void iprfix_send_raw_unacked(const uint8_t *msg, size_t len, enum mix_message_type type, uint64_t now);

/* Takes the next reply packet the engine injected (ipf.inj_seen < ipf.n_inj), checks it
 * leaves towards mix1, walks it through the route to the client, checks it has no SURB-ACK
 * and names one of the client's reply keys, opens it and adds it to the reassembly. Returns
 * 1 with *data (malloc'd, caller frees; the message is data + 1) and *len when it completed
 * a Reply message, 0 otherwise. */
int iprfix_take_reply(uint8_t **data, size_t *len);

/* An IPv4 packet from src to dst (dotted quad) into out: proto 6 (a TCP SYN, seq 1) or 17
 * (UDP) from port 40000 to dport, then payload zero bytes. Returns its length. */
size_t iprfix_make_v4(uint8_t *out, const uint8_t src[4], const char *dst, uint8_t proto, uint16_t dport,
		      size_t payload);

#endif
