#include "gateway/gateway_wg_meta.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "link/link_wg.h"
#include "util/hex.h"

static const char path_version[] = "/v1/bandwidth/version";
static const char path_available[] = "/v1/bandwidth/available";
static const char path_topup[] = "/v1/bandwidth/topup";

static int refuse(int *status, int code)
{
	*status = code;
	return -EPROTO;
}

/* The end of the header block ("\r\n\r\n"), or NULL. */
static const uint8_t *header_end(const uint8_t *in, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if (in[i] == '\r' && in[i + 1] == '\n' && in[i + 2] == '\r' && in[i + 3] == '\n')
			return in + i;
	return NULL;
}

static bool token_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* Content-Length: digits only, no leading sign, at most GATEWAY_WG_META_MAX_REQUEST. */
static int parse_length(const char *v, size_t n, size_t *out)
{
	size_t x = 0;
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n || n > 6)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (size_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

static int parse_ticket_body(const uint8_t *body, size_t n, struct gateway_wg_meta_request *out)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, &err);
	int rc = -EINVAL;
	if (!j)
		return -EINVAL;
	json_t *t = json_object_get(j, "ticket");
	if (json_is_object(j) && json_object_size(j) == 1 && json_is_string(t) &&
	    nym_hex_decode(out->ticket, sizeof(out->ticket), &out->ticket_len, json_string_value(t)) == 0 &&
	    link_wg_ticket_len_ok(out->ticket_len)) {
		struct nym_ticket_view v;
		rc = nym_ticket_parse(&v, out->ticket, out->ticket_len) ? -EINVAL : 0;
	}
	json_decref(j);
	return rc;
}

int gateway_wg_meta_parse(const uint8_t *in, size_t len, struct gateway_wg_meta_request *out, int *status)
{
	*status = 0;
	memset(out, 0, sizeof(*out));
	const uint8_t *end = header_end(in, len > GATEWAY_WG_META_MAX_REQUEST ? GATEWAY_WG_META_MAX_REQUEST : len);
	if (!end)
		return len >= GATEWAY_WG_META_MAX_REQUEST ? refuse(status, 413) : -EAGAIN;
	size_t head = (size_t)(end - in);
	/* Request line: METHOD SP PATH SP HTTP/1.x */
	size_t i = 0, line_end = 0;
	while (line_end < head && in[line_end] != '\r')
		line_end++;
	const uint8_t *method = in;
	while (i < line_end && token_char(in[i]))
		i++;
	size_t method_len = i;
	if (i >= line_end || in[i] != ' ' || !method_len)
		return refuse(status, 400);
	const uint8_t *path = in + ++i;
	while (i < line_end && token_char(in[i]))
		i++;
	size_t path_len = (size_t)(in + i - path);
	if (i >= line_end || in[i] != ' ' || !path_len)
		return refuse(status, 400);
	i++;
	if (line_end - i != 8 || memcmp(in + i, "HTTP/1.", 7) || (in[i + 7] != '0' && in[i + 7] != '1'))
		return refuse(status, 400);
	/* Headers: only Content-Length and Transfer-Encoding matter; each line "name: value". */
	bool have_length = false;
	size_t content_length = 0;
	size_t pos = line_end + 2;
	while (pos < head) {
		size_t e = pos;
		while (e < head && in[e] != '\r')
			e++;
		if (e < head && in[e + 1] != '\n')
			return refuse(status, 400);
		const char *h = (const char *)in + pos;
		size_t hn = e - pos;
		const char *colon = memchr(h, ':', hn);
		if (!colon || colon == h)
			return refuse(status, 400);
		for (const char *c = h; c < colon; c++)
			if (!token_char((uint8_t)*c))
				return refuse(status, 400);
		for (const char *c = colon + 1; c < h + hn; c++)
			if ((uint8_t)*c < 0x20 && *c != '\t')
				return refuse(status, 400);
		size_t name_len = (size_t)(colon - h);
		if (name_len == 14 && !strncasecmp(h, "content-length", 14)) {
			if (have_length || parse_length(colon + 1, hn - name_len - 1, &content_length))
				return refuse(status, 400);
			have_length = true;
		} else if (name_len == 17 && !strncasecmp(h, "transfer-encoding", 17)) {
			return refuse(status, 501);
		}
		pos = e + 2;
	}
	size_t body_at = head + 4;
	bool get = method_len == 3 && !memcmp(method, "GET", 3);
	bool post = method_len == 4 && !memcmp(method, "POST", 4);
#define PATH_IS(p) (path_len == sizeof(p) - 1 && !memcmp(path, p, sizeof(p) - 1))
	if (PATH_IS(path_version) || PATH_IS(path_available)) {
		if (!get)
			return refuse(status, 405);
		if (have_length && content_length)
			return refuse(status, 400);
		out->route = PATH_IS(path_version) ? GATEWAY_WG_META_ROUTE_VERSION : GATEWAY_WG_META_ROUTE_AVAILABLE;
		return 0;
	}
	if (!PATH_IS(path_topup))
		return refuse(status, 404);
#undef PATH_IS
	if (!post)
		return refuse(status, 405);
	if (!have_length)
		return refuse(status, 411);
	if (body_at + content_length > GATEWAY_WG_META_MAX_REQUEST)
		return refuse(status, 413);
	if (len < body_at + content_length)
		return -EAGAIN;
	if (parse_ticket_body(in + body_at, content_length, out))
		return refuse(status, 400);
	out->route = GATEWAY_WG_META_ROUTE_TOPUP;
	return 0;
}

bool gateway_wg_meta_source_allowed(const struct gateway_wg_pool_config *cfg, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET)
		return gateway_wg_pool_contains(cfg, AF_INET, addr) && memcmp(addr, cfg->gateway4, 4) != 0;
	if (family == AF_INET6)
		return gateway_wg_pool_contains(cfg, AF_INET6, addr) && memcmp(addr, cfg->gateway6, 16) != 0;
	return false;
}

const char *gateway_wg_meta_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

int gateway_wg_meta_response(int status, const char *body, uint8_t *out, size_t cap, size_t *written)
{
	size_t blen = strlen(body);
	int n = snprintf((char *)out, cap,
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, gateway_wg_meta_reason(status), blen);
	if (n < 0 || (size_t)n + blen > cap)
		return -ENOSPC;
	memcpy(out + n, body, blen);
	*written = (size_t)n + blen;
	return 0;
}

static int fits(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int gateway_wg_meta_available_json(uint64_t bytes, char *out, size_t cap)
{
	return fits(snprintf(out, cap, "{\"available_bandwidth\":%" PRIu64 "}", bytes), cap);
}

int gateway_wg_meta_version_json(char *out, size_t cap)
{
	return fits(snprintf(out, cap, "{\"version\":%d}", GATEWAY_WG_META_VERSION), cap);
}

int gateway_wg_meta_error_json(const char *text, char *out, size_t cap)
{
	char clean[128];
	size_t i = 0;
	for (; text && text[i] && i < sizeof(clean) - 1; i++)
		clean[i] = text[i] >= 0x20 && text[i] <= 0x7e && text[i] != '"' && text[i] != '\\' ? text[i] : '?';
	clean[i] = 0;
	return fits(snprintf(out, cap, "{\"error\":\"%s\"}", clean), cap);
}
