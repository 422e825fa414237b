/* The in-tunnel metadata endpoint's request parser (gateway_wg_meta_parse) and source check.
 *
 * Byte 0 picks a source address family and the first of its bytes (the rest is fixed inside
 * the pool's ranges or outside them); the rest is the request. The parse must give one of its
 * documented results, a refusal status it documents, and a ticket of a carried length; a
 * request that parses also parses the same way with bytes appended (one request per
 * connection: trailing bytes are never read), and no proper prefix of the header block is
 * anything but incomplete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "gateway/gateway_wg_meta.h"
#include "link/link_wg.h"

static void check(int rc, int status, const struct gateway_wg_meta_request *r)
{
	if (rc == 0) {
		if (r->route < GATEWAY_WG_META_ROUTE_VERSION || r->route > GATEWAY_WG_META_ROUTE_TOPUP)
			abort();
		if (r->route == GATEWAY_WG_META_ROUTE_TOPUP && !link_wg_ticket_len_ok(r->ticket_len))
			abort();
		return;
	}
	if (rc == -EAGAIN)
		return;
	if (rc != -EPROTO)
		abort();
	if (status != 400 && status != 404 && status != 405 && status != 411 && status != 413 && status != 501)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gateway_wg_meta_request r, r2;
	struct gateway_wg_pool_config cfg;
	if (size < 1)
		return 0;
	gateway_wg_pool_default_config(&cfg);
	uint8_t addr[16] = { 0 };
	int family = data[0] & 1 ? AF_INET6 : AF_INET;
	if (family == AF_INET) {
		addr[0] = 10;
		addr[1] = data[0] & 2 ? 1 : 2;
		addr[3] = data[0] >> 2;
	} else {
		memcpy(addr, cfg.net6, 16);
		addr[14] = data[0] & 2 ? 0 : 1;
		addr[15] = data[0] >> 2;
	}
	(void)gateway_wg_meta_source_allowed(&cfg, family, addr);
	const uint8_t *req = data + 1;
	size_t len = size - 1;
	int status = 0, status2 = 0;
	int rc = gateway_wg_meta_parse(req, len, &r, &status);
	check(rc, status, &r);
	if (rc == 0) {
		uint8_t *more = malloc(len + 7);
		if (!more)
			abort();
		memcpy(more, req, len);
		memcpy(more + len, "garbage", 7);
		int rc2 = gateway_wg_meta_parse(more, len + 7, &r2, &status2);
		free(more);
		if (rc2 != 0 || r2.route != r.route || r2.ticket_len != r.ticket_len ||
		    memcmp(r2.ticket, r.ticket, r.ticket_len) != 0)
			abort();
	}
	/* Before the blank line nothing is decided, unless the request is already too large. */
	for (size_t cut = 0; cut + 4 <= len && cut < 64; cut++) {
		if (!memcmp(req + cut, "\r\n\r\n", 4))
			break;
		int rc3 = gateway_wg_meta_parse(req, cut, &r2, &status2);
		if (rc3 != -EAGAIN)
			abort();
	}
	/* Any text makes a JSON error body (cut, never overflowing) that fits a response. */
	char text[300], body[256];
	uint8_t out[512];
	size_t n, tl = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
	memcpy(text, req, tl);
	text[tl] = 0;
	if (gateway_wg_meta_error_json(text, body, sizeof(body)) < 0 ||
	    gateway_wg_meta_response(status ? status : 200, body, out, sizeof(out), &n) != 0)
		abort();
	return 0;
}
