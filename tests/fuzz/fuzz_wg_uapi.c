/* WireGuard device replies as lib/wg reads them: a UAPI get reply from a daemon's socket
 * (wg_uapi) and, from the same bytes, a generic-netlink GET_DEVICE message (wg_genl). A reply
 * that parses is written back as UAPI text and must parse to the same status. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/net_addr.h"
#include "util/hex.h"
#include "wg/wg_genl.h"
#include "wg/wg_uapi.h"

static size_t put(char *out, size_t cap, size_t at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t put(char *out, size_t cap, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + at, cap - at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - at)
		abort();
	return at + (size_t)n;
}

static size_t put_key(char *out, size_t cap, size_t at, const char *name, const uint8_t *k)
{
	char hex[WG_KEY_HEX_LEN];
	nym_hex_encode(hex, k, WG_KEY_LEN);
	return put(out, cap, at, "%s=%s\n", name, hex);
}

/* The status as a get reply, as wireguard-go writes one. */
static char *format(const struct wg_status *st, size_t *len)
{
	size_t cap = 256 + st->n_peers * 600;
	for (size_t i = 0; i < st->n_peers; i++)
		cap += st->peers[i].n_allowed_ips * 64;
	char *out = malloc(cap);
	size_t at = 0;
	if (st->has_private_key)
		at = put_key(out, cap, at, "private_key", st->private_key);
	at = put(out, cap, at, "listen_port=%u\nfwmark=%" PRIu32 "\n", st->listen_port, st->fwmark);
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct wg_peer_status *p = &st->peers[i];
		at = put_key(out, cap, at, "public_key", p->public_key);
		at = put_key(out, cap, at, "preshared_key", p->preshared_key);
		if (p->endpoint.sa.sa_family) {
			char ep[NET_ADDR_STR_LEN];
			net_addr_format(&p->endpoint.sa, ep);
			at = put(out, cap, at, "endpoint=%s\n", ep);
		}
		at = put(out, cap, at,
			 "last_handshake_time_sec=%" PRId64 "\nlast_handshake_time_nsec=%" PRId64 "\ntx_bytes=%" PRIu64
			 "\nrx_bytes=%" PRIu64 "\npersistent_keepalive_interval=%u\nprotocol_version=%" PRIu32 "\n",
			 p->last_handshake_sec, p->last_handshake_nsec, p->tx_bytes, p->rx_bytes, p->keepalive,
			 p->protocol_version);
		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			char t[WG_ALLOWED_IP_STR_LEN];
			wg_allowed_ip_format(t, &p->allowed_ips[k]);
			at = put(out, cap, at, "allowed_ip=%s\n", t);
		}
	}
	at = put(out, cap, at, "errno=0\n\n");
	*len = at;
	return out;
}

static void same(const struct wg_status *a, const struct wg_status *b)
{
	if (a->has_private_key != b->has_private_key || a->listen_port != b->listen_port || a->fwmark != b->fwmark ||
	    a->n_peers != b->n_peers || memcmp(a->private_key, b->private_key, WG_KEY_LEN))
		abort();
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct wg_peer_status *p = &a->peers[i], *q = &b->peers[i];
		if (memcmp(p->public_key, q->public_key, WG_KEY_LEN) || p->has_preshared_key != q->has_preshared_key ||
		    p->rx_bytes != q->rx_bytes || p->tx_bytes != q->tx_bytes || p->keepalive != q->keepalive ||
		    p->last_handshake_sec != q->last_handshake_sec || p->n_allowed_ips != q->n_allowed_ips ||
		    p->endpoint.sa.sa_family != q->endpoint.sa.sa_family)
			abort();
		for (size_t k = 0; k < p->n_allowed_ips; k++)
			if (p->allowed_ips[k].family != q->allowed_ips[k].family ||
			    p->allowed_ips[k].cidr != q->allowed_ips[k].cidr ||
			    memcmp(p->allowed_ips[k].addr, q->allowed_ips[k].addr, 16))
				abort();
	}
}

static void uapi(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct wg_status st;
	int rc = wg_uapi_parse_get(text, size, &st);
	if (rc > 0 || rc < -4095 || (rc && st.n_peers))
		abort();
	size_t end = wg_uapi_reply_len(text, size);
	if (rc != -EBADMSG && end != size)
		abort();
	int set = wg_uapi_parse_set_reply(text, size);
	if (set > 0 || set < -4095)
		abort();
	if (rc == 0) {
		size_t len;
		char *again = format(&st, &len);
		struct wg_status st2;
		if (wg_uapi_parse_get(again, len, &st2) != 0)
			abort();
		same(&st, &st2);
		wg_status_free(&st2);
		free(again);
	}
	wg_status_free(&st);
}

static void genl(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536] __attribute__((aligned(8)));
	if (size < 20 || size > sizeof(buf))
		return;
	memcpy(buf, data, size);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)size;
	struct wg_status st = { 0 };
	int rc = wg_genl_parse_device(nlh, &st);
	if (rc != 0 && rc != -EBADMSG)
		abort();
	wg_status_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uapi(data, size);
	genl(data, size);
	return 0;
}
