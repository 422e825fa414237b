/* The bodies of the client link's frames (link_frame.h; docs/PROTOCOLS.md, "Client link"),
 * as one tagged message: link_msg_encode writes a whole frame, link_msg_decode reads one the
 * decoder returned and checks every field. Byte strings in a decoded message point into the
 * frame.
 *
 * A link runs: HELLO -> VERSION, AUTH -> AUTH_OK, then SPEND_TICKET -> BANDWIDTH, SEND and
 * RECEIVE in any order, LOW_BALANCE when the balance runs low, ERROR and CLOSE at any time.
 * The WireGuard registration frames (WG_*, link_wg.h) may follow VERSION, with or without
 * AUTH.
 * The order is the engines' to enforce; this module only knows each frame on its own. */
#ifndef NYM_LINK_LINK_MSG_H
#define NYM_LINK_LINK_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"
#include "crypto/ed25519.h"
#include "link/link_frame.h"
#include "link/link_wg.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_packet_size.h"

/* Link protocol versions; 1 is this document. HELLO, VERSION, ERROR and CLOSE keep their
 * layout in every version, so two sides can always find out they do not agree. */
#define LINK_VERSION_MIN 1
#define LINK_VERSION_MAX 1

#define LINK_HELLO_LEN 2
#define LINK_VERSION_LEN 1
#define LINK_HANDSHAKE_HASH_LEN 32
#define LINK_AUTH_LEN (NYM_ED25519_PUBLIC_LEN + 8 + NYM_ED25519_SIG_LEN) /* 104 */
#define LINK_BALANCE_LEN 8
/* A ticket is prepared message (73) | signature (k), k = 256, 384 or 512 (RSA 2048, 3072,
 * 4096 bits); nothing else is a ticket. */
#define LINK_TICKET_MIN_LEN (NYM_TICKET_PREPARED_LEN + 256)
#define LINK_TICKET_MAX_LEN (NYM_TICKET_PREPARED_LEN + NYM_BRSA_MAX_LEN)
/* Text in an ERROR frame: printable ASCII only, so it can go to a log as it is. */
#define LINK_ERROR_TEXT_MAX 200
#define LINK_ERROR_MIN_LEN 2
#define LINK_ERROR_MAX_LEN (2 + LINK_ERROR_TEXT_MAX)

/* A SEND entry: key rotation (1) | first hop (19: unpadded node routing address, zero
 * padded) | Sphinx packet. A RECEIVE item is what the gateway hands the client at the
 * final hop: a packet's plaintext after its first 19 bytes (the SURB-ACK's first hop), with
 * the 386 ack-packet bytes zeroed when the gateway sent them on (2029 bytes for regular,
 * docs/PROTOCOLS.md §8.6), or an acknowledgement's plaintext whole (21 bytes). */
#define LINK_SEND_ENTRY_OVERHEAD (1 + MIX_NODE_ADDR_MAX_UNPADDED_LEN)
#define LINK_SEND_MIN_LEN (1 + LINK_SEND_ENTRY_OVERHEAD + MIX_ACK_PACKET_LEN)
#define LINK_RECEIVE_MIN_LEN (1 + MIX_ACK_IV_LEN + MIX_FRAG_ID_LEN)
/* Where the entries or items of SEND and RECEIVE start in a frame: an engine can write them
 * there directly and encode the frame around them without a copy. */
#define LINK_PACKETS_OFFSET (LINK_FRAME_HEADER_LEN + 1)

/* Skew tolerated between the client's clock and the gateway's in AUTH. */
#define LINK_AUTH_DEFAULT_SKEW_S 300
/* The gateway sends LOW_BALANCE when the balance falls under this (1 MB). */
#define LINK_LOW_BALANCE_BYTES 1000000ull

enum link_error_code {
	LINK_ERR_PROTOCOL = 1,		 /* malformed frame or a frame out of order */
	LINK_ERR_VERSION = 2,		 /* no version in common */
	LINK_ERR_AUTH = 3,		 /* bad signature or unknown key */
	LINK_ERR_CLOCK_SKEW = 4,	 /* AUTH timestamp too far from the gateway's clock */
	LINK_ERR_TICKET_MALFORMED = 5,	 /* not a ticket */
	LINK_ERR_TICKET_REJECTED = 6,	 /* wrong type, expired, unknown key, bad signature */
	LINK_ERR_TICKET_SPENT = 7,	 /* serial already spent */
	LINK_ERR_BANDWIDTH_EXHAUSTED = 8, /* nothing forwarded until a ticket is spent */
	LINK_ERR_BAD_PACKET = 9,	 /* a SEND entry the gateway cannot forward */
	LINK_ERR_BUSY = 10,		 /* the gateway is overloaded; try later or elsewhere */
	LINK_ERR_INTERNAL = 11,		 /* the gateway failed; not the client's fault */
	LINK_ERR_WG_BAD_MAC = 12,	 /* WG_FINAL: the client's MAC does not verify */
	LINK_ERR_WG_NOT_PENDING = 13,	 /* WG_FINAL / WG_TOPUP: no such registration (or another pair, nonce) */
	LINK_ERR_WG_NO_ADDRESS = 14,	 /* no free address pair, or too many pending registrations */
};
#define LINK_ERR_MAX LINK_ERR_WG_NO_ADDRESS

/* A run of equal-size items: SEND entries or RECEIVE items. */
struct link_packets {
	enum mix_packet_size size; /* Sphinx classes only; Outfox is refused */
	size_t count;
	size_t item_len;      /* bytes per entry or item */
	const uint8_t *items; /* count * item_len bytes */
};

/* One SEND entry, read out of a decoded frame. */
struct link_send_entry {
	uint8_t key_rotation; /* enum mix_key_rotation of the first hop */
	const uint8_t *first_hop; /* 19 bytes: routing address, zero padded */
	const uint8_t *packet;
	size_t packet_len;
};

struct link_auth {
	uint8_t identity[NYM_ED25519_PUBLIC_LEN];
	uint64_t timestamp; /* Unix seconds */
	uint8_t signature[NYM_ED25519_SIG_LEN];
};

struct link_msg {
	enum link_msg_type type;
	union {
		struct {
			uint8_t min, max;
		} hello;
		uint8_t version;
		struct link_auth auth;
		uint64_t balance; /* AUTH_OK, BANDWIDTH, LOW_BALANCE: bytes left */
		struct {
			const uint8_t *bytes;
			size_t len;
		} ticket;
		struct link_packets packets; /* SEND, RECEIVE */
		struct {
			uint16_t code; /* enum link_error_code; others are shown as numbers */
			char text[LINK_ERROR_TEXT_MAX + 1];
		} error;
		uint8_t wg_key[LINK_WG_KEY_LEN]; /* WG_INIT, WG_QUERY: the client's key */
		struct link_wg_pending wg_pending;
		struct link_wg_final wg_final;
		struct link_wg_registered wg_registered;
		struct link_wg_bandwidth wg_bandwidth;
		struct link_wg_topup wg_topup;
	};
};

/* The body length of one SEND entry (packet class plus 20) or RECEIVE item for a Sphinx
 * class; 0 for an unknown or Outfox class. */
size_t link_send_entry_len(enum mix_packet_size size);
size_t link_receive_item_len(enum mix_packet_size size);

/* Writes m as a whole frame (header and body) into out; SEND and RECEIVE items may already
 * sit at out + LINK_PACKETS_OFFSET. Returns 0, -EINVAL (a field out of
 * range, text that is not printable ASCII), -EMSGSIZE (packets that do not fill whole items
 * or do not fit one frame) or -ENOSPC. */
int link_msg_encode(const struct link_msg *m, uint8_t *out, size_t cap, size_t *written);

/* Reads a frame the decoder returned (its header was checked for `from` already; it is
 * checked again). Returns 0, -EINVAL (a field out of range) or -EMSGSIZE (a body length the
 * type does not allow). */
int link_msg_decode(const struct link_frame *f, enum link_side from, struct link_msg *m);

/* Entry i (< count) of a decoded or built SEND message. */
void link_send_entry_get(const struct link_packets *p, size_t i, struct link_send_entry *e);

/* Writes one SEND entry (item_len bytes) into out: the first hop's address is encoded from
 * sa. Returns 0, -EINVAL (rotation, packet length) or mix_node_addr_encode_unpadded's error. */
int link_send_entry_write(uint8_t *out, enum mix_packet_size size, uint8_t key_rotation,
			  const struct sockaddr *first_hop, socklen_t first_hop_len,
			  const uint8_t *packet, size_t packet_len);

/* Writes only the first LINK_SEND_ENTRY_OVERHEAD bytes of a SEND entry (rotation, first hop),
 * for a packet that is built in place at out + LINK_SEND_ENTRY_OVERHEAD (the client engine
 * does so to save a copy). Returns 0, -EINVAL or mix_node_addr_encode_unpadded's error. */
int link_send_entry_write_prefix(uint8_t *out, uint8_t key_rotation, const struct sockaddr *first_hop,
				 socklen_t first_hop_len);

/* Packets of a class that fit in one frame: 26 regular SEND entries, 32 regular RECEIVE
 * items. */
size_t link_packets_per_frame(enum link_msg_type type, enum mix_packet_size size);

/* The highest version in both ranges. Returns 0, -EINVAL (an empty or zero range) or
 * -EPROTONOSUPPORT (no overlap). */
int link_version_pick(uint8_t offer_min, uint8_t offer_max, uint8_t ours_min, uint8_t ours_max,
		      uint8_t *out);

/* The client's AUTH: signs "nym-c/link-auth/v1" | handshake hash (32) | identity (32) |
 * timestamp u64. The handshake hash binds the signature to this Noise session (and through
 * it to the gateway's static key), so it cannot be replayed on another link. */
void link_auth_sign(const struct nym_ed25519_keypair *kp,
		    const uint8_t handshake_hash[LINK_HANDSHAKE_HASH_LEN], uint64_t timestamp,
		    struct link_auth *out);

/* The gateway's check of an AUTH against its own view of the session and clock. Returns 0,
 * -ETIME (timestamp more than max_skew seconds from now, either way) or -EKEYREJECTED (the
 * signature does not verify). */
int link_auth_verify(const struct link_auth *a,
		     const uint8_t handshake_hash[LINK_HANDSHAKE_HASH_LEN], uint64_t now,
		     uint64_t max_skew);

/* "protocol", "version", ...; NULL for a code we do not know. */
const char *link_error_name(unsigned code);

/* Copies text into an ERROR message, replacing anything but printable ASCII with '?' and
 * cutting at LINK_ERROR_TEXT_MAX bytes, so a caller can pass any string. */
void link_msg_error(struct link_msg *m, enum link_error_code code, const char *text);

#endif
