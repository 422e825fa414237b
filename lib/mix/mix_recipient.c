#include "mix/mix_recipient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "util/base58.h"

void mix_recipient_encode(const struct mix_recipient *r, uint8_t out[MIX_RECIPIENT_LEN])
{
	memcpy(out, r->identity, 32);
	memcpy(out + 32, r->encryption_key, 32);
	memcpy(out + 64, r->gateway, 32);
}

void mix_recipient_decode(const uint8_t in[MIX_RECIPIENT_LEN], struct mix_recipient *out)
{
	memcpy(out->identity, in, 32);
	memcpy(out->encryption_key, in + 32, 32);
	memcpy(out->gateway, in + 64, 32);
}

int mix_recipient_format(const struct mix_recipient *r, char *out, size_t cap)
{
	char id[64], key[64], gw[64];
	nym_base58_encode(id, sizeof(id), r->identity, 32);
	nym_base58_encode(key, sizeof(key), r->encryption_key, 32);
	nym_base58_encode(gw, sizeof(gw), r->gateway, 32);
	int n = snprintf(out, cap, "%s.%s@%s", id, key, gw);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

static int key_part(uint8_t out[32], const char *start, size_t len)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return nym_base58_decode_exact(out, 32, buf);
}

int mix_recipient_parse(const char *text, struct mix_recipient *out)
{
	const char *dot = strchr(text, '.'), *at = strchr(text, '@');
	if (!dot || !at || at < dot || strchr(at + 1, '@') || strchr(dot + 1, '.'))
		return -EINVAL;
	if (key_part(out->identity, text, (size_t)(dot - text)) ||
	    key_part(out->encryption_key, dot + 1, (size_t)(at - dot - 1)) ||
	    key_part(out->gateway, at + 1, strlen(at + 1)))
		return -EINVAL;
	return 0;
}

int mix_recipient_of_node(const uint8_t node_identity[32], struct mix_recipient *out)
{
	if (nym_ed25519_public_to_x25519(node_identity, out->encryption_key) != 0)
		return -EINVAL;
	memcpy(out->identity, node_identity, 32);
	memcpy(out->gateway, node_identity, 32);
	return 0;
}
