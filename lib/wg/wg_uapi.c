#include "wg/wg_uapi.h"

#include "crypto/secret.h"
#include "net/net_addr.h"
#include "util/hex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text buffer that never leaves a copy of its content behind (it carries keys). */
struct wg_uapi_buf {
	char *p;
	size_t len, cap;
	int err;
};

static void wg_uapi_put(struct wg_uapi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wg_uapi_put(struct wg_uapi_buf *b, const char *fmt, ...)
{
	char line[160];
	if (b->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		b->err = -EINVAL;
		goto out;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 512;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = malloc(cap);
		if (!p) {
			b->err = -ENOMEM;
			goto out;
		}
		if (b->p) {
			memcpy(p, b->p, b->len);
			wg_uapi_free(b->p, b->cap);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, line, (size_t)n + 1);
	b->len += (size_t)n;
out:
	nym_memzero(line, sizeof(line));
}

static void wg_uapi_put_key(struct wg_uapi_buf *b, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char hex[WG_KEY_HEX_LEN];
	nym_hex_encode(hex, key, WG_KEY_LEN);
	wg_uapi_put(b, "%s=%s\n", name, hex);
	nym_memzero(hex, sizeof(hex));
}

static void wg_uapi_put_peer(struct wg_uapi_buf *b, const struct wg_peer_conf *p)
{
	wg_uapi_put_key(b, "public_key", p->public_key);
	if (p->flags & WG_PEER_REMOVE) {
		wg_uapi_put(b, "remove=true\n");
		return;
	}
	if (p->flags & WG_PEER_UPDATE_ONLY)
		wg_uapi_put(b, "update_only=true\n");
	if (p->flags & WG_PEER_PRESHARED_KEY)
		wg_uapi_put_key(b, "preshared_key", p->preshared_key);
	if (p->endpoint.sa.sa_family == AF_INET || p->endpoint.sa.sa_family == AF_INET6) {
		char ep[NET_ADDR_STR_LEN];
		net_addr_format(&p->endpoint.sa, ep);
		wg_uapi_put(b, "endpoint=%s\n", ep);
	} else if (p->endpoint.sa.sa_family != 0) {
		b->err = b->err ? b->err : -EINVAL;
	}
	if (p->flags & WG_PEER_KEEPALIVE)
		wg_uapi_put(b, "persistent_keepalive_interval=%u\n", (unsigned)p->keepalive);
	if (p->flags & WG_PEER_REPLACE_ALLOWED_IPS)
		wg_uapi_put(b, "replace_allowed_ips=true\n");
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		const struct wg_allowed_ip *a = &p->allowed_ips[i];
		if ((a->family != AF_INET || a->cidr > 32) && (a->family != AF_INET6 || a->cidr > 128)) {
			b->err = b->err ? b->err : -EINVAL;
			return;
		}
		char text[WG_ALLOWED_IP_STR_LEN];
		wg_allowed_ip_format(text, a);
		wg_uapi_put(b, "allowed_ip=%s%s\n", a->remove ? "-" : "", text);
	}
}

int wg_uapi_encode_set(const struct wg_conf *c, char **out, size_t *out_len)
{
	struct wg_uapi_buf b = { 0 };
	wg_uapi_put(&b, "set=1\n");
	if (c->flags & WG_CONF_PRIVATE_KEY)
		wg_uapi_put_key(&b, "private_key", c->private_key);
	if (c->flags & WG_CONF_LISTEN_PORT)
		wg_uapi_put(&b, "listen_port=%u\n", (unsigned)c->listen_port);
	if (c->flags & WG_CONF_FWMARK)
		wg_uapi_put(&b, "fwmark=%" PRIu32 "\n", c->fwmark);
	if (c->flags & WG_CONF_REPLACE_PEERS)
		wg_uapi_put(&b, "replace_peers=true\n");
	for (size_t i = 0; i < c->n_peers; i++)
		wg_uapi_put_peer(&b, &c->peers[i]);
	wg_uapi_put(&b, "\n");
	if (b.err) {
		wg_uapi_free(b.p, b.cap);
		return b.err;
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

void wg_uapi_free(char *buf, size_t len)
{
	if (!buf)
		return;
	nym_memzero(buf, len);
	free(buf);
}

size_t wg_uapi_reply_len(const char *buf, size_t len)
{
	if (len >= 1 && buf[0] == '\n')
		return 1;
	for (size_t i = 1; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			return i + 1;
	return 0;
}

/* Decimal without sign, leading '+' or spaces, at most `max`. */
static int wg_uapi_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -EBADMSG;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EBADMSG;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* "errno=N": N decimal with an optional '-', 0..4095 either sign. */
static int wg_uapi_errno_value(const char *v, int *out)
{
	bool neg = *v == '-';
	uint64_t n;
	if (wg_uapi_u64(v + neg, 4095, &n))
		return -EBADMSG;
	*out = n ? -(int)n : 0;
	return 0;
}

static int wg_uapi_endpoint(const char *v, union wg_endpoint *ep)
{
	struct net_addr a;
	if (net_addr_parse(&a, v, -1))
		return -EBADMSG;
	memset(ep, 0, sizeof(*ep));
	if (a.ss.ss_family == AF_INET)
		memcpy(&ep->in, &a.ss, sizeof(ep->in));
	else if (a.ss.ss_family == AF_INET6)
		memcpy(&ep->in6, &a.ss, sizeof(ep->in6));
	else
		return -EBADMSG;
	return 0;
}

static int wg_uapi_key(const char *v, uint8_t key[WG_KEY_LEN])
{
	return strlen(v) == WG_KEY_HEX_LEN - 1 && nym_hex_decode_exact(key, WG_KEY_LEN, v) == 0 ? 0 : -EBADMSG;
}

/* One line "key=value" of a get reply. */
static int wg_uapi_get_line(const char *k, const char *v, struct wg_status *st, struct wg_peer_status **peer)
{
	uint64_t n;
	struct wg_peer_status *p = *peer;
	if (!strcmp(k, "public_key")) {
		if (!(p = wg_status_add_peer(st)))
			return -ENOMEM;
		*peer = p;
		return wg_uapi_key(v, p->public_key);
	}
	if (!p) {
		if (!strcmp(k, "private_key")) {
			if (wg_uapi_key(v, st->private_key))
				return -EBADMSG;
			st->has_private_key = !wg_key_is_zero(st->private_key);
			if (st->has_private_key) {
				wg_key_public(st->public_key, st->private_key);
				st->has_public_key = true;
			}
			return 0;
		}
		if (!strcmp(k, "listen_port")) {
			if (wg_uapi_u64(v, UINT16_MAX, &n))
				return -EBADMSG;
			st->listen_port = (uint16_t)n;
			return 0;
		}
		if (!strcmp(k, "fwmark")) {
			if (wg_uapi_u64(v, UINT32_MAX, &n))
				return -EBADMSG;
			st->fwmark = (uint32_t)n;
			return 0;
		}
		static const char *const peer_keys[] = { "preshared_key", "endpoint", "allowed_ip", "rx_bytes",
							 "tx_bytes", "last_handshake_time_sec",
							 "last_handshake_time_nsec",
							 "persistent_keepalive_interval", "protocol_version" };
		for (size_t i = 0; i < sizeof(peer_keys) / sizeof(peer_keys[0]); i++)
			if (!strcmp(k, peer_keys[i]))
				return -EBADMSG; /* a peer's key before any peer */
		return 0; /* a device key of some extension */
	}
	if (!strcmp(k, "preshared_key")) {
		if (wg_uapi_key(v, p->preshared_key))
			return -EBADMSG;
		p->has_preshared_key = !wg_key_is_zero(p->preshared_key);
		return 0;
	}
	if (!strcmp(k, "endpoint"))
		return wg_uapi_endpoint(v, &p->endpoint);
	if (!strcmp(k, "allowed_ip")) {
		struct wg_allowed_ip a;
		if (wg_allowed_ip_parse(&a, v) || !strchr(v, '/'))
			return -EBADMSG;
		struct wg_allowed_ip *slot = wg_status_add_allowed_ip(p);
		if (!slot)
			return -ENOMEM;
		*slot = a;
		return 0;
	}
	uint64_t max = UINT64_MAX;
	uint64_t *dst = NULL;
	if (!strcmp(k, "rx_bytes"))
		dst = &p->rx_bytes;
	else if (!strcmp(k, "tx_bytes"))
		dst = &p->tx_bytes;
	else if (!strcmp(k, "last_handshake_time_sec") || !strcmp(k, "last_handshake_time_nsec"))
		max = INT64_MAX;
	else if (!strcmp(k, "persistent_keepalive_interval"))
		max = UINT16_MAX;
	else if (!strcmp(k, "protocol_version"))
		max = UINT32_MAX;
	else if (!strcmp(k, "private_key") || !strcmp(k, "listen_port") || !strcmp(k, "fwmark"))
		return -EBADMSG; /* device keys come before the first peer */
	else
		return 0;
	if (wg_uapi_u64(v, max, &n))
		return -EBADMSG;
	if (dst)
		*dst = n;
	else if (k[0] == 'l' && !strcmp(k, "last_handshake_time_sec"))
		p->last_handshake_sec = (int64_t)n;
	else if (k[0] == 'l')
		p->last_handshake_nsec = (int64_t)n;
	else if (k[0] == 'p' && k[1] == 'e')
		p->keepalive = (uint16_t)n;
	else
		p->protocol_version = (uint32_t)n;
	return 0;
}

/* Walks the lines of a reply; for get replies st is filled, for set replies it is NULL and
 * only errno is allowed. */
static int wg_uapi_parse(const char *text, size_t len, struct wg_status *st)
{
	size_t end = wg_uapi_reply_len(text, len);
	if (end == 0 || end != len)
		return -EBADMSG;
	struct wg_peer_status *peer = NULL;
	int rc = -EBADMSG;
	bool have_errno = false;
	int err = 0;
	char line[256];
	size_t at = 0;
	while (at < end - 1) {
		const char *nl = memchr(text + at, '\n', end - at);
		size_t n = (size_t)(nl - (text + at));
		if (n == 0 || n >= sizeof(line) || memchr(text + at, 0, n) || have_errno)
			goto out;
		memcpy(line, text + at, n);
		line[n] = 0;
		at += n + 1;
		char *eq = strchr(line, '=');
		if (!eq || eq == line)
			goto out;
		*eq = 0;
		if (!strcmp(line, "errno")) {
			if (wg_uapi_errno_value(eq + 1, &err))
				goto out;
			have_errno = true;
			continue;
		}
		if (!st)
			goto out;
		int r = wg_uapi_get_line(line, eq + 1, st, &peer);
		if (r) {
			rc = r;
			goto out;
		}
	}
	rc = have_errno ? err : -EBADMSG;
out:
	nym_memzero(line, sizeof(line));
	return rc;
}

int wg_uapi_parse_get(const char *text, size_t len, struct wg_status *st)
{
	memset(st, 0, sizeof(*st));
	int rc = wg_uapi_parse(text, len, st);
	if (rc)
		wg_status_free(st);
	return rc;
}

int wg_uapi_parse_set_reply(const char *text, size_t len)
{
	return wg_uapi_parse(text, len, NULL);
}
