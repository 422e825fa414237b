#include "ipr/ipr_msg.h"

#include <errno.h>
#include <string.h>

#include "ipr/ipr_bundle.h"
#include "sphinx/sphinx_params.h"

#define ID_TS_LEN 16 /* request id u64 | timestamp u64 */

/* Reads a message front to back; any read past the end leaves it failed. */
struct reader {
	const uint8_t *p;
	size_t len, pos;
	bool short_read;
};

static const uint8_t *take(struct reader *r, size_t n)
{
	if (r->short_read || n > r->len - r->pos) {
		r->short_read = true;
		return NULL;
	}
	const uint8_t *at = r->p + r->pos;
	r->pos += n;
	return at;
}

static uint8_t take_u8(struct reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

static uint16_t take_u16(struct reader *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint64_t take_u64(struct reader *r)
{
	const uint8_t *p = take(r, 8);
	uint64_t v = 0;
	for (int i = 0; p && i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The rest of the message, all of it belonging to the field being read. */
static struct ipr_bytes take_rest(struct reader *r)
{
	struct ipr_bytes b = { r->p + r->pos, r->len - r->pos };
	r->pos = r->len;
	return b;
}

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
	return p + 8;
}

static bool text_ok(struct ipr_bytes t, size_t max)
{
	if (t.len > max || (t.len && !t.p))
		return false;
	for (size_t i = 0; i < t.len; i++)
		if (t.p[i] < 0x20 || t.p[i] > 0x7e)
			return false;
	return true;
}

static bool bundle_ok(struct ipr_bytes b)
{
	size_t count;
	return b.p && ipr_bundle_validate(b.p, b.len, &count) == 0;
}

bool ipr_reply_surb_len_valid(size_t len)
{
	/* sphinx_surb_decode's rule: header and first hop, then 1..5 seeds (v259) or 1..5
	 * payload keys (v258), told apart by whether they add up to less than one key. */
	size_t fixed = IPR_REPLY_KEY_LEN + SPHINX_HEADER_LEN + SPHINX_ADDRESS_LEN;
	if (len <= fixed)
		return false;
	size_t m = len - fixed;
	size_t step = m < SPHINX_PAYLOAD_KEY_LEN ? SPHINX_PAYLOAD_SEED_LEN : SPHINX_PAYLOAD_KEY_LEN;
	return m % step == 0 && m / step <= SPHINX_MAX_HOPS;
}

size_t ipr_request_overhead(size_t surb_count, size_t surb_len)
{
	return IPR_REQUEST_FIXED_LEN + (surb_count ? 2 + surb_count * surb_len : 0);
}

size_t ipr_response_overhead(void)
{
	return IPR_RESPONSE_FIXED_LEN;
}

static int request_body_len(const struct ipr_request *q, size_t *len)
{
	switch (q->kind) {
	case IPR_REQ_DATA:
		if (!bundle_ok(q->bundle))
			return -EINVAL;
		*len = q->bundle.len;
		return 0;
	case IPR_REQ_CONNECT:
		*len = ID_TS_LEN + 1 + (q->has_buffer_timeout ? 8 : 0);
		return 0;
	case IPR_REQ_DISCONNECT:
	case IPR_REQ_PING:
	case IPR_REQ_HEALTH:
		*len = ID_TS_LEN;
		return 0;
	case IPR_REQ_SURBS:
		*len = 0;
		return q->surb_count ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int ipr_request_encoded_len(const struct ipr_request *q, size_t *len)
{
	size_t body;
	int r = request_body_len(q, &body);
	if (r)
		return r;
	if (q->surb_count > IPR_MAX_SURBS ||
	    (q->surb_count && (!q->surbs || !ipr_reply_surb_len_valid(q->surb_len))))
		return -EINVAL;
	*len = ipr_request_overhead(q->surb_count, q->surb_len) + body;
	return 0;
}

int ipr_request_encode(const struct ipr_request *q, uint8_t *out, size_t cap, size_t *written)
{
	size_t len;
	int r = ipr_request_encoded_len(q, &len);
	if (r)
		return r;
	if (cap < len)
		return -ENOSPC;
	uint8_t *p = out;
	*p++ = IPR_VERSION;
	*p++ = IPR_SERVICE_IP_PACKET_ROUTER;
	*p++ = (uint8_t)q->kind;
	memcpy(p, q->sender_tag, IPR_SENDER_TAG_LEN);
	p = put_u16(p + IPR_SENDER_TAG_LEN, (uint16_t)q->surb_count);
	if (q->surb_count) {
		p = put_u16(p, (uint16_t)q->surb_len);
		memmove(p, q->surbs, q->surb_count * q->surb_len);
		p += q->surb_count * q->surb_len;
	}
	switch (q->kind) {
	case IPR_REQ_DATA:
		/* memmove: the bundle may have been built in place. */
		memmove(p, q->bundle.p, q->bundle.len);
		p += q->bundle.len;
		break;
	case IPR_REQ_CONNECT:
		p = put_u64(put_u64(p, q->request_id), q->timestamp_ms);
		*p++ = q->has_buffer_timeout ? 1 : 0;
		if (q->has_buffer_timeout)
			p = put_u64(p, q->buffer_timeout_ms);
		break;
	case IPR_REQ_DISCONNECT:
	case IPR_REQ_PING:
	case IPR_REQ_HEALTH:
		p = put_u64(put_u64(p, q->request_id), q->timestamp_ms);
		break;
	case IPR_REQ_SURBS:
		break;
	}
	*written = (size_t)(p - out);
	return 0;
}

int ipr_request_decode(const uint8_t *in, size_t len, struct ipr_request *q)
{
	struct reader rd = { in, len, 0, false };
	memset(q, 0, sizeof(*q));
	uint8_t version = take_u8(&rd);
	if (rd.short_read)
		return -EBADMSG;
	if (version != IPR_VERSION)
		return -EPROTONOSUPPORT;
	uint8_t service = take_u8(&rd), kind = take_u8(&rd);
	const uint8_t *tag = take(&rd, IPR_SENDER_TAG_LEN);
	uint16_t count = take_u16(&rd);
	if (rd.short_read)
		return -EBADMSG;
	if (service != IPR_SERVICE_IP_PACKET_ROUTER || kind > IPR_REQ_KIND_MAX || count > IPR_MAX_SURBS)
		return -EINVAL;
	q->kind = (enum ipr_request_kind)kind;
	memcpy(q->sender_tag, tag, IPR_SENDER_TAG_LEN);
	if (count) {
		uint16_t each = take_u16(&rd);
		if (rd.short_read)
			return -EBADMSG;
		if (!ipr_reply_surb_len_valid(each))
			return -EINVAL;
		q->surb_count = count;
		q->surb_len = each;
		q->surbs = take(&rd, (size_t)count * each);
	}
	switch (q->kind) {
	case IPR_REQ_DATA:
		q->bundle = take_rest(&rd);
		if (!rd.short_read && !bundle_ok(q->bundle))
			return -EBADMSG;
		break;
	case IPR_REQ_CONNECT: {
		q->request_id = take_u64(&rd);
		q->timestamp_ms = take_u64(&rd);
		uint8_t has = take_u8(&rd);
		if (!rd.short_read && has > 1)
			return -EINVAL;
		q->has_buffer_timeout = has == 1;
		if (q->has_buffer_timeout)
			q->buffer_timeout_ms = take_u64(&rd);
		break;
	}
	case IPR_REQ_DISCONNECT:
	case IPR_REQ_PING:
	case IPR_REQ_HEALTH:
		q->request_id = take_u64(&rd);
		q->timestamp_ms = take_u64(&rd);
		break;
	case IPR_REQ_SURBS:
		if (!count)
			return -EINVAL;
		break;
	}
	if (rd.short_read || rd.pos != rd.len)
		return -EBADMSG;
	return 0;
}

const uint8_t *ipr_request_surb(const struct ipr_request *q, size_t i)
{
	return q->surbs + i * q->surb_len;
}

static int response_body_len(const struct ipr_response *s, size_t *len)
{
	switch (s->kind) {
	case IPR_RESP_DATA:
		if (!bundle_ok(s->bundle))
			return -EINVAL;
		*len = s->bundle.len;
		return 0;
	case IPR_RESP_CONNECT:
		if (s->reply > IPR_CONNECT_OTHER)
			return -EINVAL;
		*len = 8 + 1 + (s->reply == IPR_CONNECT_SUCCESS ? 4 + 16 : 0);
		return 0;
	case IPR_RESP_DISCONNECT:
		if (s->reply > IPR_DISCONNECT_OTHER)
			return -EINVAL;
		*len = 8 + 1;
		return 0;
	case IPR_RESP_UNREQUESTED_DISCONNECT:
		if (s->reason < IPR_UNREQUESTED_MIXNET_TIMEOUT || s->reason > IPR_UNREQUESTED_OTHER)
			return -EINVAL;
		*len = 1;
		return 0;
	case IPR_RESP_PONG:
		*len = 8;
		return 0;
	case IPR_RESP_HEALTH:
		if (s->routable > IPR_ROUTABLE_UNKNOWN || !text_ok(s->text, IPR_HEALTH_TEXT_MAX))
			return -EINVAL;
		*len = 8 + 1 + 1 + s->text.len;
		return 0;
	case IPR_RESP_INFO:
		if (s->code < IPR_INFO_GENERIC || s->code > IPR_INFO_EXIT_POLICY ||
		    s->level > IPR_LEVEL_ERROR || !text_ok(s->text, IPR_INFO_TEXT_MAX))
			return -EINVAL;
		*len = 8 + 1 + 1 + 1 + s->text.len;
		return 0;
	case IPR_RESP_SURB_REQUEST:
		if (s->amount < 1 || s->amount > IPR_MAX_SURBS)
			return -EINVAL;
		*len = 2;
		return 0;
	}
	return -EINVAL;
}

int ipr_response_encoded_len(const struct ipr_response *s, size_t *len)
{
	size_t body;
	int r = response_body_len(s, &body);
	if (r == 0)
		*len = IPR_RESPONSE_FIXED_LEN + body;
	return r;
}

int ipr_response_encode(const struct ipr_response *s, uint8_t *out, size_t cap, size_t *written)
{
	size_t len;
	int r = ipr_response_encoded_len(s, &len);
	if (r)
		return r;
	if (cap < len)
		return -ENOSPC;
	uint8_t *p = out;
	*p++ = IPR_VERSION;
	*p++ = (uint8_t)s->kind;
	switch (s->kind) {
	case IPR_RESP_DATA:
		memmove(p, s->bundle.p, s->bundle.len);
		p += s->bundle.len;
		break;
	case IPR_RESP_CONNECT:
		p = put_u64(p, s->request_id);
		*p++ = s->reply;
		if (s->reply == IPR_CONNECT_SUCCESS) {
			memcpy(p, s->ips.v4, 4);
			memcpy(p + 4, s->ips.v6, 16);
			p += 20;
		}
		break;
	case IPR_RESP_DISCONNECT:
		p = put_u64(p, s->request_id);
		*p++ = s->reply;
		break;
	case IPR_RESP_UNREQUESTED_DISCONNECT:
		*p++ = s->reason;
		break;
	case IPR_RESP_PONG:
		p = put_u64(p, s->request_id);
		break;
	case IPR_RESP_HEALTH:
		p = put_u64(p, s->request_id);
		*p++ = s->routable;
		*p++ = (uint8_t)s->text.len;
		memcpy(p, s->text.p, s->text.len);
		p += s->text.len;
		break;
	case IPR_RESP_INFO:
		p = put_u64(p, s->request_id);
		*p++ = s->code;
		*p++ = s->level;
		*p++ = (uint8_t)s->text.len;
		memcpy(p, s->text.p, s->text.len);
		p += s->text.len;
		break;
	case IPR_RESP_SURB_REQUEST:
		p = put_u16(p, s->amount);
		break;
	}
	*written = (size_t)(p - out);
	return 0;
}

/* A one-byte length and that much printable text. */
static int take_text(struct reader *rd, size_t max, struct ipr_bytes *out)
{
	uint8_t n = take_u8(rd);
	const uint8_t *t = take(rd, n);
	if (rd->short_read)
		return -EBADMSG;
	*out = (struct ipr_bytes){ t, n };
	return text_ok(*out, max) ? 0 : -EINVAL;
}

int ipr_response_decode(const uint8_t *in, size_t len, struct ipr_response *s)
{
	struct reader rd = { in, len, 0, false };
	int r = 0;
	memset(s, 0, sizeof(*s));
	uint8_t version = take_u8(&rd);
	if (rd.short_read)
		return -EBADMSG;
	if (version != IPR_VERSION)
		return -EPROTONOSUPPORT;
	uint8_t kind = take_u8(&rd);
	if (rd.short_read)
		return -EBADMSG;
	if (kind > IPR_RESP_KIND_MAX)
		return -EINVAL;
	s->kind = (enum ipr_response_kind)kind;
	switch (s->kind) {
	case IPR_RESP_DATA:
		s->bundle = take_rest(&rd);
		if (!bundle_ok(s->bundle))
			return -EBADMSG;
		break;
	case IPR_RESP_CONNECT: {
		s->request_id = take_u64(&rd);
		s->reply = take_u8(&rd);
		if (!rd.short_read && s->reply > IPR_CONNECT_OTHER)
			return -EINVAL;
		if (s->reply == IPR_CONNECT_SUCCESS) {
			const uint8_t *ips = take(&rd, 20);
			if (ips) {
				memcpy(s->ips.v4, ips, 4);
				memcpy(s->ips.v6, ips + 4, 16);
			}
		}
		break;
	}
	case IPR_RESP_DISCONNECT:
		s->request_id = take_u64(&rd);
		s->reply = take_u8(&rd);
		if (!rd.short_read && s->reply > IPR_DISCONNECT_OTHER)
			return -EINVAL;
		break;
	case IPR_RESP_UNREQUESTED_DISCONNECT:
		s->reason = take_u8(&rd);
		if (!rd.short_read &&
		    (s->reason < IPR_UNREQUESTED_MIXNET_TIMEOUT || s->reason > IPR_UNREQUESTED_OTHER))
			return -EINVAL;
		break;
	case IPR_RESP_PONG:
		s->request_id = take_u64(&rd);
		break;
	case IPR_RESP_HEALTH:
		s->request_id = take_u64(&rd);
		s->routable = take_u8(&rd);
		if (!rd.short_read && s->routable > IPR_ROUTABLE_UNKNOWN)
			return -EINVAL;
		r = take_text(&rd, IPR_HEALTH_TEXT_MAX, &s->text);
		break;
	case IPR_RESP_INFO:
		s->request_id = take_u64(&rd);
		s->code = take_u8(&rd);
		s->level = take_u8(&rd);
		if (!rd.short_read && (s->code < IPR_INFO_GENERIC || s->code > IPR_INFO_EXIT_POLICY ||
				       s->level > IPR_LEVEL_ERROR))
			return -EINVAL;
		r = take_text(&rd, IPR_INFO_TEXT_MAX, &s->text);
		break;
	case IPR_RESP_SURB_REQUEST:
		s->amount = take_u16(&rd);
		if (!rd.short_read && (s->amount < 1 || s->amount > IPR_MAX_SURBS))
			return -EINVAL;
		break;
	}
	if (rd.short_read)
		return -EBADMSG;
	if (r)
		return r;
	return rd.pos == rd.len ? 0 : -EBADMSG;
}
