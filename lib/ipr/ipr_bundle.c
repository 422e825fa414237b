#include "ipr/ipr_bundle.h"

#include <errno.h>
#include <string.h>

int ipr_bundle_init(struct ipr_bundle_builder *b, uint8_t *buf, size_t cap, size_t limit)
{
	if (limit < IPR_BUNDLE_PREFIX_LEN + 1 || cap < limit)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	b->limit = limit;
	return 0;
}

bool ipr_bundle_fits(const struct ipr_bundle_builder *b, size_t len)
{
	if (len == 0 || len > IPR_BUNDLE_MAX_PACKET)
		return false;
	size_t need = IPR_BUNDLE_PREFIX_LEN + len;
	if (b->count == 0)
		return need <= b->cap;
	/* An oversized packet alone has taken the bundle past the limit: nothing joins it. */
	return b->len <= b->limit && need <= b->limit - b->len;
}

int ipr_bundle_add(struct ipr_bundle_builder *b, const uint8_t *packet, size_t len)
{
	if (len == 0 || len > IPR_BUNDLE_MAX_PACKET)
		return -EMSGSIZE;
	if (!ipr_bundle_fits(b, len))
		return b->count == 0 ? -EMSGSIZE : -ENOSPC;
	b->buf[b->len] = (uint8_t)(len >> 8);
	b->buf[b->len + 1] = (uint8_t)len;
	memcpy(b->buf + b->len + IPR_BUNDLE_PREFIX_LEN, packet, len);
	b->len += IPR_BUNDLE_PREFIX_LEN + len;
	b->count++;
	return 0;
}

void ipr_bundle_reset(struct ipr_bundle_builder *b)
{
	b->len = 0;
	b->count = 0;
}

void ipr_bundle_iter_init(struct ipr_bundle_iter *it, const uint8_t *bundle, size_t len)
{
	it->p = bundle;
	it->len = len;
	it->pos = 0;
}

int ipr_bundle_next(struct ipr_bundle_iter *it, const uint8_t **packet, size_t *len)
{
	if (it->pos > it->len)
		return -EBADMSG;
	size_t left = it->len - it->pos;
	if (left == 0)
		return -ENOENT;
	if (left < IPR_BUNDLE_PREFIX_LEN)
		goto bad;
	size_t n = (size_t)it->p[it->pos] << 8 | it->p[it->pos + 1];
	if (n == 0 || n > left - IPR_BUNDLE_PREFIX_LEN)
		goto bad;
	*packet = it->p + it->pos + IPR_BUNDLE_PREFIX_LEN;
	*len = n;
	it->pos += IPR_BUNDLE_PREFIX_LEN + n;
	return 0;
bad:
	/* Past the end: every later call fails too. */
	it->pos = it->len + 1;
	return -EBADMSG;
}

int ipr_bundle_validate(const uint8_t *bundle, size_t len, size_t *count)
{
	struct ipr_bundle_iter it;
	const uint8_t *p;
	size_t n = 0, plen;
	int r;
	ipr_bundle_iter_init(&it, bundle, len);
	while ((r = ipr_bundle_next(&it, &p, &plen)) == 0)
		n++;
	if (r != -ENOENT || n == 0)
		return -EBADMSG;
	*count = n;
	return 0;
}
