/* The client side of an IP packet router session (client_ipr) fed arbitrary input: the input
 * is cut into records (op byte, length u16, bytes) that are responses from the IPR, packets
 * from the TUN or timer polls, in any order. Nothing may crash, every delivered packet lies
 * inside the response it came from, and every request the session sends decodes (SURB
 * top-ups, with an unacknowledged way out on odd-length inputs, one packet each). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_ipr.h"
#include "fuzz.h"
#include "ipr/ipr_msg.h"

#define SURB_LEN 460

static const uint8_t *cur;
static size_t cur_len;
static uint64_t connect_id;

static int f_send(void *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	(void)ctx;
	(void)now;
	struct ipr_request q;
	if (ipr_request_decode(msg, len, &q) != 0)
		abort();
	if (q.kind == IPR_REQ_CONNECT)
		connect_id = q.request_id;
	return 0;
}

/* Unacknowledged requests are SURB top-ups that fit one packet (1990 data bytes less the
 * type byte and padding marker). */
static int f_send_unacked(void *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	struct ipr_request q;
	if (len + 2 > 1990 || ipr_request_decode(msg, len, &q) != 0 || q.kind != IPR_REQ_SURBS || q.surb_count > 4)
		abort();
	return f_send(ctx, msg, len, now);
}

static int f_surbs(void *ctx, size_t n, uint8_t *out, size_t cap, size_t *surb_len, uint64_t now)
{
	(void)ctx;
	(void)now;
	if (n * SURB_LEN > cap)
		return -ENOSPC;
	memset(out, 0x5a, n * SURB_LEN);
	*surb_len = SURB_LEN;
	return 0;
}

static void f_deliver(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	if (!len || p < cur || p + len > cur + cur_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_ipr_config cfg;
	client_ipr_config_default(&cfg);
	cfg.initial_surbs = 2;
	cfg.surb_batch = 3;
	struct client_ipr_hooks h = { .send = f_send, .make_surbs = f_surbs, .deliver = f_deliver,
				      .send_unacked = size % 2 ? f_send_unacked : NULL };
	struct client_ipr *c;
	if (client_ipr_new(&cfg, &h, NULL, &c) != 0)
		abort();
	uint64_t now = 1;
	client_ipr_connect(c, now, 0);
	size_t off = 0;
	while (off + 3 <= size) {
		uint8_t op = data[off];
		size_t len = (size_t)(data[off + 1] << 8 | data[off + 2]);
		off += 3;
		if (len > size - off)
			len = size - off;
		const uint8_t *p = data + off;
		off += len;
		now += 1000000;
		switch (op % 4) {
		case 0:
			cur = p;
			cur_len = len;
			client_ipr_on_message(c, p, len, now, 0);
			break;
		case 1:
			client_ipr_send_packet(c, p, len, now);
			break;
		case 2:
			now += (uint64_t)len * 1000000;
			client_ipr_poll(c, now, 0);
			break;
		default: {
			/* A CONNECT success for the attempt in flight gets the session going. */
			struct ipr_response r = { .kind = IPR_RESP_CONNECT, .request_id = connect_id, .reply = 0 };
			uint8_t buf[64];
			size_t n;
			if (ipr_addr_from_index(0x0203, &r.ips) != 0 || ipr_response_encode(&r, buf, sizeof(buf), &n) != 0)
				abort();
			cur = buf;
			cur_len = n;
			client_ipr_on_message(c, buf, n, now, 0);
			break;
		}
		}
		if (client_ipr_next_due(c) == 0 && client_ipr_state(c) != CLIENT_IPR_CONNECTED)
			abort();
	}
	client_ipr_free(c);
	return 0;
}
