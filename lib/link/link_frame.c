#include "link/link_frame.h"

#include <errno.h>
#include <string.h>

#include "link/link_msg.h"
#include "link/link_wg.h"

#define FROM_C (1u << LINK_FROM_CLIENT)
#define FROM_G (1u << LINK_FROM_GATEWAY)

static const struct {
	const char *name;
	unsigned from;
	size_t min, max;
} types[] = {
	[LINK_MSG_HELLO] = { "hello", FROM_C, LINK_HELLO_LEN, LINK_HELLO_LEN },
	[LINK_MSG_VERSION] = { "version", FROM_G, LINK_VERSION_LEN, LINK_VERSION_LEN },
	[LINK_MSG_AUTH] = { "auth", FROM_C, LINK_AUTH_LEN, LINK_AUTH_LEN },
	[LINK_MSG_AUTH_OK] = { "auth_ok", FROM_G, LINK_BALANCE_LEN, LINK_BALANCE_LEN },
	[LINK_MSG_SPEND_TICKET] = { "spend_ticket", FROM_C, LINK_TICKET_MIN_LEN, LINK_TICKET_MAX_LEN },
	[LINK_MSG_BANDWIDTH] = { "bandwidth", FROM_G, LINK_BALANCE_LEN, LINK_BALANCE_LEN },
	[LINK_MSG_LOW_BALANCE] = { "low_balance", FROM_G, LINK_BALANCE_LEN, LINK_BALANCE_LEN },
	[LINK_MSG_SEND] = { "send", FROM_C, LINK_SEND_MIN_LEN, LINK_FRAME_MAX_BODY },
	[LINK_MSG_RECEIVE] = { "receive", FROM_G, LINK_RECEIVE_MIN_LEN, LINK_FRAME_MAX_BODY },
	[LINK_MSG_ERROR] = { "error", FROM_C | FROM_G, LINK_ERROR_MIN_LEN, LINK_ERROR_MAX_LEN },
	[LINK_MSG_CLOSE] = { "close", FROM_C | FROM_G, 0, 0 },
	[LINK_MSG_WG_INIT] = { "wg_init", FROM_C, LINK_WG_INIT_LEN, LINK_WG_INIT_LEN },
	[LINK_MSG_WG_PENDING] = { "wg_pending", FROM_G, LINK_WG_PENDING_LEN, LINK_WG_PENDING_LEN },
	[LINK_MSG_WG_FINAL] = { "wg_final", FROM_C, LINK_WG_FINAL_BASE_LEN, LINK_WG_FINAL_MAX_LEN },
	[LINK_MSG_WG_REGISTERED] = { "wg_registered", FROM_G, LINK_WG_REGISTERED_LEN, LINK_WG_REGISTERED_LEN },
	[LINK_MSG_WG_QUERY] = { "wg_query", FROM_C, LINK_WG_QUERY_LEN, LINK_WG_QUERY_LEN },
	[LINK_MSG_WG_BANDWIDTH] = { "wg_bandwidth", FROM_G, LINK_WG_BANDWIDTH_LEN, LINK_WG_BANDWIDTH_LEN },
	[LINK_MSG_WG_TOPUP] = { "wg_topup", FROM_C, LINK_WG_TOPUP_MIN_LEN, LINK_WG_TOPUP_MAX_LEN },
};

static bool known(unsigned type)
{
	return type >= LINK_MSG_TYPE_MIN && type <= LINK_MSG_TYPE_MAX;
}

const char *link_msg_type_name(unsigned type)
{
	return known(type) ? types[type].name : NULL;
}

bool link_msg_type_allowed(unsigned type, enum link_side from)
{
	return known(type) && (from == LINK_FROM_CLIENT || from == LINK_FROM_GATEWAY) &&
	       (types[type].from & (1u << from));
}

int link_msg_body_bounds(unsigned type, size_t *min, size_t *max)
{
	if (!known(type))
		return -EINVAL;
	*min = types[type].min;
	*max = types[type].max;
	return 0;
}

static bool length_ok(unsigned type, size_t len)
{
	return len >= types[type].min && len <= types[type].max;
}

int link_frame_header_encode(unsigned type, size_t body_len, uint8_t out[LINK_FRAME_HEADER_LEN])
{
	if (!known(type))
		return -EINVAL;
	if (!length_ok(type, body_len))
		return -EMSGSIZE;
	out[0] = (uint8_t)type;
	out[1] = 0;
	out[2] = (uint8_t)(body_len >> 8);
	out[3] = (uint8_t)body_len;
	return 0;
}

int link_frame_header_decode(const uint8_t *in, size_t len, enum link_side from,
			     struct link_frame_header *h)
{
	if (len >= 1 && !link_msg_type_allowed(in[0], from))
		return -EINVAL;
	if (len >= 2 && in[1] != 0)
		return -EINVAL;
	if (len < LINK_FRAME_HEADER_LEN)
		return -EAGAIN;
	uint16_t body = (uint16_t)(in[2] << 8 | in[3]);
	if (!length_ok(in[0], body))
		return -EMSGSIZE;
	h->type = in[0];
	h->len = body;
	return 0;
}

/* The framer takes no context, so each side gets its own length function. */
static int length_from(const uint8_t *in, size_t len, size_t *frame_len, enum link_side from)
{
	struct link_frame_header h;
	int r = link_frame_header_decode(in, len, from, &h);
	if (r == 0)
		*frame_len = LINK_FRAME_HEADER_LEN + h.len;
	return r;
}

static int length_from_client(const uint8_t *in, size_t len, size_t *frame_len)
{
	return length_from(in, len, frame_len, LINK_FROM_CLIENT);
}

static int length_from_gateway(const uint8_t *in, size_t len, size_t *frame_len)
{
	return length_from(in, len, frame_len, LINK_FROM_GATEWAY);
}

void link_frame_decoder_init(struct link_frame_decoder *d, enum link_side from)
{
	d->from = from;
	framer_init(&d->f, from == LINK_FROM_CLIENT ? length_from_client : length_from_gateway,
		    LINK_FRAME_HEADER_LEN, d->buf, sizeof(d->buf));
}

int link_frame_decoder_feed(struct link_frame_decoder *d, const uint8_t *data, size_t len)
{
	return framer_feed(&d->f, data, len);
}

int link_frame_decoder_next(struct link_frame_decoder *d, struct link_frame *out)
{
	const uint8_t *frame;
	size_t len;
	int r = framer_next(&d->f, &frame, &len);
	if (r)
		return r;
	/* Checked by the framer already; decoded again for the fields. */
	link_frame_header_decode(frame, len, d->from, &out->header);
	out->body = frame + LINK_FRAME_HEADER_LEN;
	out->body_len = len - LINK_FRAME_HEADER_LEN;
	return 0;
}

size_t link_frame_decoder_consumed(const struct link_frame_decoder *d)
{
	return framer_consumed(&d->f);
}

size_t link_frame_decoder_buffered(const struct link_frame_decoder *d)
{
	return framer_buffered(&d->f);
}
