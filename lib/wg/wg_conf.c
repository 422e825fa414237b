#include "wg/wg_conf.h"

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "util/array.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wg_status_free(struct wg_status *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_peers; i++) {
		free(st->peers[i].allowed_ips);
		nym_memzero(&st->peers[i], sizeof(st->peers[i]));
	}
	free(st->peers);
	nym_memzero(st, sizeof(*st));
}

struct wg_peer_status *wg_status_add_peer(struct wg_status *st)
{
	void *arr = st->peers;
	if (nym_array_grow(&arr, &st->cap_peers, st->n_peers + 1, sizeof(*st->peers)))
		return NULL;
	st->peers = arr;
	struct wg_peer_status *p = &st->peers[st->n_peers++];
	memset(p, 0, sizeof(*p));
	return p;
}

struct wg_allowed_ip *wg_status_add_allowed_ip(struct wg_peer_status *p)
{
	void *arr = p->allowed_ips;
	if (nym_array_grow(&arr, &p->cap_allowed_ips, p->n_allowed_ips + 1, sizeof(*p->allowed_ips)))
		return NULL;
	p->allowed_ips = arr;
	struct wg_allowed_ip *a = &p->allowed_ips[p->n_allowed_ips++];
	memset(a, 0, sizeof(*a));
	return a;
}

struct wg_peer_status *wg_status_find_peer(struct wg_status *st, const uint8_t key[WG_KEY_LEN])
{
	for (size_t i = 0; i < st->n_peers; i++)
		if (memcmp(st->peers[i].public_key, key, WG_KEY_LEN) == 0)
			return &st->peers[i];
	return NULL;
}

void wg_conf_clear(struct wg_conf *c)
{
	if (c)
		nym_memzero(c->private_key, sizeof(c->private_key));
}

bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	/* Constant time: the key may be a secret. */
	uint8_t acc = 0;
	for (size_t i = 0; i < WG_KEY_LEN; i++)
		acc |= key[i];
	return acc == 0;
}

void wg_key_to_base64(char out[WG_KEY_B64_LEN], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_B64_LEN, key, WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *b64)
{
	size_t len = 0;
	if (!b64 || strlen(b64) != WG_KEY_B64_LEN - 1 || b64[WG_KEY_B64_LEN - 2] != '=')
		return -EINVAL;
	uint8_t tmp[WG_KEY_LEN + 2];
	int rc = sodium_base642bin(tmp, sizeof(tmp), b64, WG_KEY_B64_LEN - 1, NULL, &len, NULL,
				   sodium_base64_VARIANT_ORIGINAL);
	if (rc != 0 || len != WG_KEY_LEN) {
		nym_memzero(tmp, sizeof(tmp));
		return -EINVAL;
	}
	memcpy(key, tmp, WG_KEY_LEN);
	nym_memzero(tmp, sizeof(tmp));
	return 0;
}

void wg_key_generate(uint8_t private_key[WG_KEY_LEN], uint8_t public_key[WG_KEY_LEN])
{
	nym_random(private_key, WG_KEY_LEN);
	private_key[0] &= 248;
	private_key[31] = (uint8_t)((private_key[31] & 127) | 64);
	wg_key_public(public_key, private_key);
}

void wg_key_public(uint8_t public_key[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN])
{
	nym_x25519_public(public_key, private_key);
}

int wg_allowed_ip_parse(struct wg_allowed_ip *out, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, n + 1);
	memset(out, 0, sizeof(*out));
	char *slash = strchr(buf, '/');
	long cidr = -1;
	if (slash) {
		*slash = 0;
		char *end;
		const char *c = slash + 1;
		if (*c < '0' || *c > '9' || strlen(c) > 3)
			return -EINVAL;
		cidr = strtol(c, &end, 10);
		if (*end)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	long max = out->family == AF_INET ? 32 : 128;
	if (cidr < 0)
		cidr = max;
	if (cidr > max)
		return -EINVAL;
	out->cidr = (uint8_t)cidr;
	return 0;
}

void wg_allowed_ip_format(char out[WG_ALLOWED_IP_STR_LEN], const struct wg_allowed_ip *a)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, a->addr, ip, sizeof(ip));
	snprintf(out, WG_ALLOWED_IP_STR_LEN, "%s/%u", ip, (unsigned)a->cidr);
}
