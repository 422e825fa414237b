#include "link/link_msg.h"

#include <errno.h>
#include <string.h>

#include "mix/mix_frame.h"
#include "mix/mix_surb_ack.h"
#include "util/bytes.h"

static const char auth_domain[] = "nym-c/link-auth/v1";
#define AUTH_DOMAIN_LEN (sizeof(auth_domain) - 1)
#define AUTH_SIGNED_LEN (AUTH_DOMAIN_LEN + LINK_HANDSHAKE_HASH_LEN + NYM_ED25519_PUBLIC_LEN + 8)

static const char *const error_names[] = {
	[LINK_ERR_PROTOCOL] = "protocol",
	[LINK_ERR_VERSION] = "version",
	[LINK_ERR_AUTH] = "auth",
	[LINK_ERR_CLOCK_SKEW] = "clock_skew",
	[LINK_ERR_TICKET_MALFORMED] = "ticket_malformed",
	[LINK_ERR_TICKET_REJECTED] = "ticket_rejected",
	[LINK_ERR_TICKET_SPENT] = "ticket_spent",
	[LINK_ERR_BANDWIDTH_EXHAUSTED] = "bandwidth_exhausted",
	[LINK_ERR_BAD_PACKET] = "bad_packet",
	[LINK_ERR_BUSY] = "busy",
	[LINK_ERR_INTERNAL] = "internal",
	[LINK_ERR_WG_BAD_MAC] = "wg_bad_mac",
	[LINK_ERR_WG_NOT_PENDING] = "wg_not_pending",
	[LINK_ERR_WG_NO_ADDRESS] = "wg_no_address",
};

static bool printable(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool sphinx_class(unsigned size)
{
	return mix_packet_size_valid(size) && !mix_packet_size_is_outfox(size);
}

size_t link_send_entry_len(enum mix_packet_size size)
{
	return sphinx_class(size) ? LINK_SEND_ENTRY_OVERHEAD + mix_packet_size_len(size) : 0;
}

size_t link_receive_item_len(enum mix_packet_size size)
{
	if (!sphinx_class(size))
		return 0;
	if (size == MIX_PACKET_SIZE_ACK)
		return mix_packet_size_plaintext_len(size);
	/* The plaintext after the SURB-ACK's first hop; the gateway zeroes the ack packet's bytes
	 * after sending it on (docs/PROTOCOLS.md §8.6). */
	return mix_packet_size_plaintext_len(size) - MIX_SURB_ACK_HOP_LEN;
}

size_t link_packets_per_frame(enum link_msg_type type, enum mix_packet_size size)
{
	size_t item = type == LINK_MSG_SEND ? link_send_entry_len(size)
		      : type == LINK_MSG_RECEIVE ? link_receive_item_len(size)
						 : 0;
	return item ? (LINK_FRAME_MAX_BODY - 1) / item : 0;
}

void link_send_entry_get(const struct link_packets *p, size_t i, struct link_send_entry *e)
{
	const uint8_t *item = p->items + i * p->item_len;
	e->key_rotation = item[0];
	e->first_hop = item + 1;
	e->packet = item + LINK_SEND_ENTRY_OVERHEAD;
	e->packet_len = p->item_len - LINK_SEND_ENTRY_OVERHEAD;
}

/* A first hop is an address the gateway can connect to, written in our zero-padded form. */
static int check_first_hop(const uint8_t slot[MIX_NODE_ADDR_MAX_UNPADDED_LEN])
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	if (mix_node_addr_decode(slot, MIX_NODE_ADDR_MAX_UNPADDED_LEN, &ss, &sl, &used) != 0)
		return -EINVAL;
	for (size_t i = used; i < MIX_NODE_ADDR_MAX_UNPADDED_LEN; i++)
		if (slot[i])
			return -EINVAL;
	return 0;
}

static int check_send_entry(const uint8_t *item)
{
	if (item[0] > MIX_KEY_ROTATION_EVEN)
		return -EINVAL;
	return check_first_hop(item + 1);
}

int link_send_entry_write(uint8_t *out, enum mix_packet_size size, uint8_t key_rotation,
			  const struct sockaddr *first_hop, socklen_t first_hop_len,
			  const uint8_t *packet, size_t packet_len)
{
	if (!sphinx_class(size) || packet_len != mix_packet_size_len(size))
		return -EINVAL;
	int r = link_send_entry_write_prefix(out, key_rotation, first_hop, first_hop_len);
	if (r)
		return r;
	if (packet != out + LINK_SEND_ENTRY_OVERHEAD)
		memmove(out + LINK_SEND_ENTRY_OVERHEAD, packet, packet_len);
	return 0;
}

int link_send_entry_write_prefix(uint8_t *out, uint8_t key_rotation, const struct sockaddr *first_hop,
				 socklen_t first_hop_len)
{
	size_t used;
	if (key_rotation > MIX_KEY_ROTATION_EVEN)
		return -EINVAL;
	memset(out + 1, 0, MIX_NODE_ADDR_MAX_UNPADDED_LEN);
	int r = mix_node_addr_encode_unpadded(first_hop, first_hop_len, out + 1, &used);
	if (r)
		return r;
	out[0] = key_rotation;
	return 0;
}

/* Checks a run of items against its class; the body length is 1 + count * item_len. */
static int check_packets(enum link_msg_type type, const struct link_packets *p)
{
	if (!sphinx_class(p->size))
		return -EINVAL;
	size_t item = type == LINK_MSG_SEND ? link_send_entry_len(p->size)
					    : link_receive_item_len(p->size);
	if (p->item_len != item || p->count == 0)
		return -EINVAL;
	if (p->count > (LINK_FRAME_MAX_BODY - 1) / item)
		return -EMSGSIZE;
	if (type == LINK_MSG_SEND)
		for (size_t i = 0; i < p->count; i++)
			if (check_send_entry(p->items + i * item))
				return -EINVAL;
	return 0;
}

static bool ticket_len_ok(size_t len)
{
	size_t k = len - NYM_TICKET_PREPARED_LEN;
	return len > NYM_TICKET_PREPARED_LEN && (k == 256 || k == 384 || k == 512);
}

static int check_text(const char *text, size_t *len)
{
	size_t n = strnlen(text, LINK_ERROR_TEXT_MAX + 1);
	if (n > LINK_ERROR_TEXT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!printable(text[i]))
			return -EINVAL;
	*len = n;
	return 0;
}

/* The body of m and its length, without writing it: the checks shared by encode and the
 * length the header needs. */
static int body_len(const struct link_msg *m, size_t *len)
{
	struct nym_ticket_view v;
	int r;
	switch (m->type) {
	case LINK_MSG_HELLO:
		if (m->hello.min < 1 || m->hello.min > m->hello.max)
			return -EINVAL;
		*len = LINK_HELLO_LEN;
		return 0;
	case LINK_MSG_VERSION:
		if (m->version < 1)
			return -EINVAL;
		*len = LINK_VERSION_LEN;
		return 0;
	case LINK_MSG_AUTH:
		*len = LINK_AUTH_LEN;
		return 0;
	case LINK_MSG_AUTH_OK:
	case LINK_MSG_BANDWIDTH:
	case LINK_MSG_LOW_BALANCE:
		*len = LINK_BALANCE_LEN;
		return 0;
	case LINK_MSG_SPEND_TICKET:
		if (!ticket_len_ok(m->ticket.len))
			return -EMSGSIZE;
		if (nym_ticket_parse(&v, m->ticket.bytes, m->ticket.len))
			return -EINVAL;
		*len = m->ticket.len;
		return 0;
	case LINK_MSG_SEND:
	case LINK_MSG_RECEIVE:
		r = check_packets(m->type, &m->packets);
		if (r)
			return r;
		*len = 1 + m->packets.count * m->packets.item_len;
		return 0;
	case LINK_MSG_ERROR:
		if (m->error.code == 0)
			return -EINVAL;
		r = check_text(m->error.text, len);
		if (r)
			return r;
		*len += 2;
		return 0;
	case LINK_MSG_CLOSE:
		*len = 0;
		return 0;
	case LINK_MSG_WG_INIT:
	case LINK_MSG_WG_PENDING:
	case LINK_MSG_WG_FINAL:
	case LINK_MSG_WG_REGISTERED:
	case LINK_MSG_WG_QUERY:
	case LINK_MSG_WG_BANDWIDTH:
	case LINK_MSG_WG_TOPUP:
		return link_wg_body_len(m, len);
	}
	return -EINVAL;
}

int link_msg_encode(const struct link_msg *m, uint8_t *out, size_t cap, size_t *written)
{
	size_t len;
	int r = body_len(m, &len);
	if (r)
		return r;
	if (cap < LINK_FRAME_HEADER_LEN + len)
		return -ENOSPC;
	r = link_frame_header_encode(m->type, len, out);
	if (r)
		return r;
	uint8_t *b = out + LINK_FRAME_HEADER_LEN;
	switch (m->type) {
	case LINK_MSG_HELLO:
		b[0] = m->hello.min;
		b[1] = m->hello.max;
		break;
	case LINK_MSG_VERSION:
		b[0] = m->version;
		break;
	case LINK_MSG_AUTH:
		memcpy(b, m->auth.identity, NYM_ED25519_PUBLIC_LEN);
		nym_bytes_put_be64(b + NYM_ED25519_PUBLIC_LEN, m->auth.timestamp);
		memcpy(b + NYM_ED25519_PUBLIC_LEN + 8, m->auth.signature, NYM_ED25519_SIG_LEN);
		break;
	case LINK_MSG_AUTH_OK:
	case LINK_MSG_BANDWIDTH:
	case LINK_MSG_LOW_BALANCE:
		nym_bytes_put_be64(b, m->balance);
		break;
	case LINK_MSG_SPEND_TICKET:
		memcpy(b, m->ticket.bytes, m->ticket.len);
		break;
	case LINK_MSG_SEND:
	case LINK_MSG_RECEIVE:
		b[0] = (uint8_t)m->packets.size;
		/* memmove: the items may have been written in place, at LINK_PACKETS_OFFSET. */
		memmove(b + 1, m->packets.items, len - 1);
		break;
	case LINK_MSG_ERROR:
		b[0] = (uint8_t)(m->error.code >> 8);
		b[1] = (uint8_t)m->error.code;
		memcpy(b + 2, m->error.text, len - 2);
		break;
	case LINK_MSG_CLOSE:
		break;
	case LINK_MSG_WG_INIT:
	case LINK_MSG_WG_PENDING:
	case LINK_MSG_WG_FINAL:
	case LINK_MSG_WG_REGISTERED:
	case LINK_MSG_WG_QUERY:
	case LINK_MSG_WG_BANDWIDTH:
	case LINK_MSG_WG_TOPUP:
		link_wg_body_write(m, b);
		break;
	}
	*written = LINK_FRAME_HEADER_LEN + len;
	return 0;
}

int link_msg_decode(const struct link_frame *f, enum link_side from, struct link_msg *m)
{
	const uint8_t *b = f->body;
	size_t len = f->body_len, min, max;
	unsigned type = f->header.type;
	if (!link_msg_type_allowed(type, from))
		return -EINVAL;
	link_msg_body_bounds(type, &min, &max);
	if (len < min || len > max || len != f->header.len)
		return -EMSGSIZE;
	memset(m, 0, sizeof(*m));
	m->type = (enum link_msg_type)type;
	switch (m->type) {
	case LINK_MSG_HELLO:
		m->hello.min = b[0];
		m->hello.max = b[1];
		return m->hello.min >= 1 && m->hello.min <= m->hello.max ? 0 : -EINVAL;
	case LINK_MSG_VERSION:
		m->version = b[0];
		return m->version >= 1 ? 0 : -EINVAL;
	case LINK_MSG_AUTH:
		memcpy(m->auth.identity, b, NYM_ED25519_PUBLIC_LEN);
		m->auth.timestamp = nym_bytes_get_be64(b + NYM_ED25519_PUBLIC_LEN);
		memcpy(m->auth.signature, b + NYM_ED25519_PUBLIC_LEN + 8, NYM_ED25519_SIG_LEN);
		return 0;
	case LINK_MSG_AUTH_OK:
	case LINK_MSG_BANDWIDTH:
	case LINK_MSG_LOW_BALANCE:
		m->balance = nym_bytes_get_be64(b);
		return 0;
	case LINK_MSG_SPEND_TICKET: {
		struct nym_ticket_view v;
		if (!ticket_len_ok(len))
			return -EMSGSIZE;
		if (nym_ticket_parse(&v, b, len))
			return -EINVAL;
		m->ticket.bytes = b;
		m->ticket.len = len;
		return 0;
	}
	case LINK_MSG_SEND:
	case LINK_MSG_RECEIVE: {
		struct link_packets *p = &m->packets;
		p->size = (enum mix_packet_size)b[0];
		p->item_len = m->type == LINK_MSG_SEND ? link_send_entry_len(p->size)
						       : link_receive_item_len(p->size);
		if (!p->item_len)
			return -EINVAL;
		if ((len - 1) % p->item_len)
			return -EMSGSIZE;
		p->count = (len - 1) / p->item_len;
		p->items = b + 1;
		return check_packets(m->type, p);
	}
	case LINK_MSG_ERROR:
		m->error.code = nym_bytes_get_be16(b);
		if (m->error.code == 0)
			return -EINVAL;
		for (size_t i = 2; i < len; i++) {
			if (!printable((char)b[i]))
				return -EINVAL;
			m->error.text[i - 2] = (char)b[i];
		}
		return 0;
	case LINK_MSG_CLOSE:
		return 0;
	case LINK_MSG_WG_INIT:
	case LINK_MSG_WG_PENDING:
	case LINK_MSG_WG_FINAL:
	case LINK_MSG_WG_REGISTERED:
	case LINK_MSG_WG_QUERY:
	case LINK_MSG_WG_BANDWIDTH:
	case LINK_MSG_WG_TOPUP:
		return link_wg_body_read(m, b, len);
	}
	return -EINVAL;
}

int link_version_pick(uint8_t offer_min, uint8_t offer_max, uint8_t ours_min, uint8_t ours_max,
		      uint8_t *out)
{
	if (offer_min < 1 || offer_min > offer_max || ours_min < 1 || ours_min > ours_max)
		return -EINVAL;
	uint8_t hi = offer_max < ours_max ? offer_max : ours_max;
	uint8_t lo = offer_min > ours_min ? offer_min : ours_min;
	if (hi < lo)
		return -EPROTONOSUPPORT;
	*out = hi;
	return 0;
}

static void auth_signed_bytes(uint8_t out[AUTH_SIGNED_LEN],
			      const uint8_t handshake_hash[LINK_HANDSHAKE_HASH_LEN],
			      const uint8_t identity[NYM_ED25519_PUBLIC_LEN], uint64_t timestamp)
{
	memcpy(out, auth_domain, AUTH_DOMAIN_LEN);
	memcpy(out + AUTH_DOMAIN_LEN, handshake_hash, LINK_HANDSHAKE_HASH_LEN);
	memcpy(out + AUTH_DOMAIN_LEN + LINK_HANDSHAKE_HASH_LEN, identity, NYM_ED25519_PUBLIC_LEN);
	nym_bytes_put_be64(out + AUTH_SIGNED_LEN - 8, timestamp);
}

void link_auth_sign(const struct nym_ed25519_keypair *kp,
		    const uint8_t handshake_hash[LINK_HANDSHAKE_HASH_LEN], uint64_t timestamp,
		    struct link_auth *out)
{
	uint8_t msg[AUTH_SIGNED_LEN];
	memcpy(out->identity, kp->public_key, NYM_ED25519_PUBLIC_LEN);
	out->timestamp = timestamp;
	auth_signed_bytes(msg, handshake_hash, kp->public_key, timestamp);
	nym_ed25519_sign(kp, msg, sizeof(msg), out->signature);
}

int link_auth_verify(const struct link_auth *a,
		     const uint8_t handshake_hash[LINK_HANDSHAKE_HASH_LEN], uint64_t now,
		     uint64_t max_skew)
{
	uint8_t msg[AUTH_SIGNED_LEN];
	uint64_t skew = a->timestamp > now ? a->timestamp - now : now - a->timestamp;
	/* The clock first: it costs nothing, a signature check does. */
	if (skew > max_skew)
		return -ETIME;
	auth_signed_bytes(msg, handshake_hash, a->identity, a->timestamp);
	return nym_ed25519_verify(a->identity, msg, sizeof(msg), a->signature) ? 0 : -EKEYREJECTED;
}

const char *link_error_name(unsigned code)
{
	return code >= 1 && code <= LINK_ERR_MAX ? error_names[code] : NULL;
}

void link_msg_error(struct link_msg *m, enum link_error_code code, const char *text)
{
	size_t i = 0;
	memset(m, 0, sizeof(*m));
	m->type = LINK_MSG_ERROR;
	m->error.code = (uint16_t)code;
	for (; text && text[i] && i < LINK_ERROR_TEXT_MAX; i++)
		m->error.text[i] = printable(text[i]) ? text[i] : '?';
}
