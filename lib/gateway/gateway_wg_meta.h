/* The in-tunnel metadata endpoint's pure part (docs/PROTOCOLS.md §8.8): NymVPN clients ask
 * their gateway at 10.1.0.1:51830, through the tunnel, how much bandwidth is left and top it
 * up with a ticket, without leaving the tunnel.
 *
 *   GET  /v1/bandwidth/version    -> 200 {"version":1}
 *   GET  /v1/bandwidth/available  -> 200 {"available_bandwidth":N}
 *   POST /v1/bandwidth/topup      body {"ticket":"HEX"} -> 200 {"available_bandwidth":N}
 *
 * One request per connection (HTTP/1.0 or 1.1, answered with Connection: close), at most
 * GATEWAY_WG_META_MAX_REQUEST bytes. Parsing and answers only: no sockets. */
#ifndef NYM_GATEWAY_GATEWAY_WG_META_H
#define NYM_GATEWAY_GATEWAY_WG_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/ticket.h"
#include "gateway/gateway_wg_pool.h"

#define GATEWAY_WG_META_MAX_REQUEST 4096
#define GATEWAY_WG_META_VERSION 1

enum gateway_wg_meta_route {
	GATEWAY_WG_META_ROUTE_VERSION = 1,
	GATEWAY_WG_META_ROUTE_AVAILABLE,
	GATEWAY_WG_META_ROUTE_TOPUP,
};

struct gateway_wg_meta_request {
	enum gateway_wg_meta_route route;
	uint8_t ticket[NYM_TICKET_MAX_LEN]; /* TOPUP: a ticket of a length the link carries */
	size_t ticket_len;
};

/* Reads one request from the bytes received so far. Returns 0 (*out set), -EAGAIN (not
 * complete: read more), or -EPROTO with *status the HTTP refusal: 400 (malformed, a bad
 * body or ticket), 404 (unknown path), 405 (a method the path does not take), 411 (POST
 * without Content-Length), 413 (larger than GATEWAY_WG_META_MAX_REQUEST), 501
 * (Transfer-Encoding). */
int gateway_wg_meta_parse(const uint8_t *in, size_t len, struct gateway_wg_meta_request *out, int *status);

/* Whether a request from addr may be served: an address of the pool's ranges (an IPv4-mapped
 * IPv6 address counts as its IPv4 address), not the gateway's own. */
bool gateway_wg_meta_source_allowed(const struct gateway_wg_pool_config *cfg, int family, const uint8_t *addr);

/* A whole response: status line, Content-Type: application/json, Content-Length,
 * Connection: close, then body. Returns 0 or -ENOSPC. */
int gateway_wg_meta_response(int status, const char *body, uint8_t *out, size_t cap, size_t *written);
/* The bodies: {"available_bandwidth":N}, {"version":1}, {"error":"TEXT"} (text: printable
 * ASCII without quotes or backslashes, others replaced by '?'). Return the length or -ENOSPC. */
int gateway_wg_meta_available_json(uint64_t bytes, char *out, size_t cap);
int gateway_wg_meta_version_json(char *out, size_t cap);
int gateway_wg_meta_error_json(const char *text, char *out, size_t cap);
/* "OK", "Bad Request", ... for the statuses above, 402, 403, 409, 500 and 503. */
const char *gateway_wg_meta_reason(int status);

#endif
