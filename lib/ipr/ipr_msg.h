/* IP packet router messages (docs/PROTOCOLS.md, "IP packet router"): the structure of Nym's
 * v8 requests and responses (common/ip-packet-requests/src/v8) in our own compact encoding
 * instead of bincode, with the reply SURBs that travel with requests carried in the request
 * itself (Nym carries them one layer down, in its repliable message).
 *
 *     request  = version | service | kind | sender tag (16) | SURB count u16
 *                | [SURB length u16 | count x reply SURB] | body
 *     response = version | kind | body
 *
 * A reply SURB is the 16-byte reply key followed by a SURB as sphinx_surb_encode writes it;
 * all SURBs of one request have one length, which must be a valid SURB length. Bodies are
 * listed with the kinds. Integers are big-endian; text is printable ASCII with a one-byte
 * length. A decoded message points into the bytes it was decoded from. */
#ifndef NYM_IPR_IPR_MSG_H
#define NYM_IPR_IPR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipr/ipr_addr.h"

/* Nym's v8 with the top bit set: Nym never used it, so a Nym peer and we refuse each other
 * at the first byte instead of misreading the rest. */
#define IPR_VERSION 0x88
#define IPR_SERVICE_IP_PACKET_ROUTER 1 /* Nym's ServiceProviderType::IpPacketRouter */
#define IPR_SENDER_TAG_LEN 16
#define IPR_REPLY_KEY_LEN 16
/* Nym's largest SURB request ("maximum allowed" reply SURBs). */
#define IPR_MAX_SURBS 500
#define IPR_HEALTH_TEXT_MAX 64
#define IPR_INFO_TEXT_MAX 200
#define IPR_REQUEST_FIXED_LEN (3 + IPR_SENDER_TAG_LEN + 2) /* 21 */
#define IPR_RESPONSE_FIXED_LEN 2

enum ipr_request_kind {
	IPR_REQ_DATA = 0,	/* bundle */
	IPR_REQ_CONNECT = 1,	/* request id, timestamp, optional buffer timeout */
	IPR_REQ_DISCONNECT = 2, /* request id, timestamp */
	IPR_REQ_PING = 3,	/* request id, timestamp */
	IPR_REQ_HEALTH = 4,	/* request id, timestamp */
	IPR_REQ_SURBS = 5,	/* no body: only the SURBs it carries (at least one) */
};
#define IPR_REQ_KIND_MAX IPR_REQ_SURBS

enum ipr_response_kind {
	IPR_RESP_DATA = 0,		     /* bundle */
	IPR_RESP_CONNECT = 1,		     /* request id, reply, the pair on success */
	IPR_RESP_DISCONNECT = 2,	     /* request id, reply */
	IPR_RESP_UNREQUESTED_DISCONNECT = 3, /* reason */
	IPR_RESP_PONG = 4,		     /* request id */
	IPR_RESP_HEALTH = 5,		     /* request id, routable, build version */
	IPR_RESP_INFO = 6,		     /* request id, code, level, text */
	IPR_RESP_SURB_REQUEST = 7,	     /* amount: send this many more reply SURBs */
};
#define IPR_RESP_KIND_MAX IPR_RESP_SURB_REQUEST

enum ipr_connect_reply {
	IPR_CONNECT_SUCCESS = 0,
	IPR_CONNECT_ALREADY_CONNECTED = 1,
	IPR_CONNECT_NO_AVAILABLE_IP = 2,
	IPR_CONNECT_OTHER = 3,
};

enum ipr_disconnect_reply {
	IPR_DISCONNECT_SUCCESS = 0,
	IPR_DISCONNECT_NOT_CONNECTED = 1,
	IPR_DISCONNECT_OTHER = 2,
};

enum ipr_unrequested_reason {
	IPR_UNREQUESTED_MIXNET_TIMEOUT = 1,
	IPR_UNREQUESTED_TUN_TIMEOUT = 2,
	IPR_UNREQUESTED_OTHER = 3,
};

enum ipr_routable {
	IPR_ROUTABLE_NO = 0,
	IPR_ROUTABLE_YES = 1,
	IPR_ROUTABLE_UNKNOWN = 2, /* no routing test has run (Nym's None) */
};

enum ipr_info_code {
	IPR_INFO_GENERIC = 1,
	IPR_INFO_VERSION_MISMATCH = 2,
	IPR_INFO_EXIT_POLICY = 3, /* ExitPolicyFilterCheckFailed: the text names the destination */
};

enum ipr_info_level {
	IPR_LEVEL_INFO = 0,
	IPR_LEVEL_WARN = 1,
	IPR_LEVEL_ERROR = 2,
};

struct ipr_bytes {
	const uint8_t *p;
	size_t len;
};

struct ipr_request {
	enum ipr_request_kind kind;
	uint8_t sender_tag[IPR_SENDER_TAG_LEN];
	size_t surb_count;
	size_t surb_len;     /* bytes per reply SURB, key included */
	const uint8_t *surbs; /* surb_count * surb_len */
	uint64_t request_id;   /* all but DATA and SURBS */
	uint64_t timestamp_ms; /* Unix milliseconds; all but DATA and SURBS */
	bool has_buffer_timeout;    /* CONNECT */
	uint64_t buffer_timeout_ms; /* CONNECT, when present */
	struct ipr_bytes bundle;    /* DATA */
};

struct ipr_response {
	enum ipr_response_kind kind;
	uint64_t request_id; /* CONNECT, DISCONNECT, PONG, HEALTH, INFO */
	uint8_t reply;	     /* CONNECT, DISCONNECT: enum ipr_connect_reply / ipr_disconnect_reply */
	struct ipr_addr_pair ips; /* CONNECT success */
	uint8_t reason;		  /* UNREQUESTED_DISCONNECT */
	uint8_t routable;	  /* HEALTH */
	uint8_t code, level;	  /* INFO */
	struct ipr_bytes text;	  /* HEALTH: build version; INFO: message */
	uint16_t amount;	  /* SURB_REQUEST: 1..500 */
	struct ipr_bytes bundle;  /* DATA */
};

/* Bytes a request or response spends around a DATA bundle: what the bundle limit leaves
 * off a message's capacity. A request carrying SURBs spends 2 + count * len more. */
size_t ipr_request_overhead(size_t surb_count, size_t surb_len);
size_t ipr_response_overhead(void);

/* Bytes of an encoded message. Returns 0 or the encoder's error. */
int ipr_request_encoded_len(const struct ipr_request *req, size_t *len);
int ipr_response_encoded_len(const struct ipr_response *resp, size_t *len);

/* Writes a message. A DATA bundle may already sit where it belongs in out (at the
 * overhead's offset), built there in place. Returns 0, -EINVAL (a field out of range, a
 * malformed bundle, text that is not printable ASCII or too long, a bad SURB length) or
 * -ENOSPC. */
int ipr_request_encode(const struct ipr_request *req, uint8_t *out, size_t cap, size_t *written);
int ipr_response_encode(const struct ipr_response *resp, uint8_t *out, size_t cap,
			size_t *written);

/* Reads a message. Returns 0; -EPROTONOSUPPORT for a version other than ours (the IPR
 * answers it with INFO version mismatch); -EINVAL for an unknown service, kind or value;
 * -EBADMSG for a truncated message, trailing bytes or a malformed bundle. */
int ipr_request_decode(const uint8_t *in, size_t len, struct ipr_request *req);
int ipr_response_decode(const uint8_t *in, size_t len, struct ipr_response *resp);

/* Reply SURB i (< surb_count) of a decoded request: key (16) | SURB. */
const uint8_t *ipr_request_surb(const struct ipr_request *req, size_t i);

/* Whether len is the length of a reply SURB (key and a 1..5-hop SURB of either form). */
bool ipr_reply_surb_len_valid(size_t len);

#endif
