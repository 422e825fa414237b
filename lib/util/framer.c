#include "util/framer.h"

#include <errno.h>
#include <string.h>

void framer_init(struct framer *f, framer_length_fn length, size_t max_header, uint8_t *buf, size_t cap)
{
	memset(f, 0, sizeof(*f));
	f->length = length;
	f->max_header = max_header;
	f->buf = buf;
	f->cap = cap;
}

int framer_feed(struct framer *f, const uint8_t *data, size_t len)
{
	if (f->error)
		return f->error;
	if (f->in_pos < f->in_len)
		return -EBUSY;
	f->in = data;
	f->in_len = len;
	f->in_pos = 0;
	return 0;
}

static int fail(struct framer *f, int err, size_t frame_start)
{
	f->error = err;
	f->frame_start = frame_start;
	return err;
}

/* Keeps what is left of the read for the next one. */
static int hold(struct framer *f, const uint8_t *p, size_t avail, size_t need)
{
	memcpy(f->buf, p, avail);
	f->have = avail;
	f->need = need;
	f->in_pos = f->in_len;
	return -EAGAIN;
}

int framer_next(struct framer *f, const uint8_t **frame, size_t *len)
{
	size_t flen, take;
	int r;
	if (f->error)
		return f->error;
	size_t avail = f->in_len - f->in_pos;

	if (f->have == 0) {
		/* The common case: the whole frame is in the caller's read. */
		const uint8_t *p = f->in + f->in_pos;
		if (!avail)
			return -EAGAIN;
		r = f->length(p, avail, &flen);
		if (r == -EAGAIN)
			return hold(f, p, avail, 0);
		if (r)
			return fail(f, r, f->in_pos);
		if (flen > f->cap)
			return fail(f, -EMSGSIZE, f->in_pos);
		if (avail >= flen) {
			*frame = p;
			*len = flen;
			f->in_pos += flen;
			return 0;
		}
		return hold(f, p, avail, flen);
	}

	/* A frame that began in an earlier read: complete its header first. Taking up to
	 * max_header bytes may take some of the body too, which belongs in buf anyway. */
	if (f->need == 0) {
		take = f->max_header - f->have < avail ? f->max_header - f->have : avail;
		memcpy(f->buf + f->have, f->in + f->in_pos, take);
		r = f->length(f->buf, f->have + take, &flen);
		if (r && r != -EAGAIN)
			return fail(f, r, 0);
		f->have += take;
		f->in_pos += take;
		if (r)
			return r;
		if (flen > f->cap || flen < f->have)
			return fail(f, -EMSGSIZE, 0);
		f->need = flen;
		avail -= take;
	}
	take = f->need - f->have < avail ? f->need - f->have : avail;
	memcpy(f->buf + f->have, f->in + f->in_pos, take);
	f->have += take;
	f->in_pos += take;
	if (f->have < f->need)
		return -EAGAIN;
	*frame = f->buf;
	*len = f->need;
	f->have = f->need = 0;
	return 0;
}

size_t framer_consumed(const struct framer *f)
{
	return f->error ? f->frame_start : f->in_pos;
}

size_t framer_buffered(const struct framer *f)
{
	return f->have;
}
