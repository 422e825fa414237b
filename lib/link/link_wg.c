#include "link/link_wg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "link/link_msg.h"
#include "util/bytes.h"

static int shared_key(struct nym_hmac_sha256_key *k, const uint8_t own_secret[NYM_X25519_LEN],
		      const uint8_t peer_key[LINK_WG_KEY_LEN])
{
	uint8_t dh[NYM_X25519_LEN];
	int rc = nym_x25519(dh, own_secret, peer_key);
	if (rc == 0)
		nym_hmac_sha256_key_init(k, dh, sizeof(dh));
	nym_memzero(dh, sizeof(dh));
	return rc ? -EINVAL : 0;
}

int link_wg_mac(uint8_t out[LINK_WG_MAC_LEN], const uint8_t own_secret[NYM_X25519_LEN],
		const uint8_t peer_key[LINK_WG_KEY_LEN], const uint8_t sender_key[LINK_WG_KEY_LEN],
		const struct link_wg_ips *ips, uint64_t nonce)
{
	struct nym_hmac_sha256_key k;
	uint8_t tail[LINK_WG_IPS_LEN + 8];
	int rc = shared_key(&k, own_secret, peer_key);
	if (rc)
		return rc;
	memcpy(tail, ips->v4, 4);
	memcpy(tail + 4, ips->v6, 16);
	nym_bytes_put_be64(tail + LINK_WG_IPS_LEN, nonce);
	nym_hmac_sha256_prepared(&k, sender_key, LINK_WG_KEY_LEN, tail, sizeof(tail), NULL, 0, out);
	nym_hmac_sha256_key_clear(&k);
	return 0;
}

int link_wg_mac_verify(const uint8_t mac[LINK_WG_MAC_LEN], const uint8_t own_secret[NYM_X25519_LEN],
		       const uint8_t peer_key[LINK_WG_KEY_LEN], const uint8_t sender_key[LINK_WG_KEY_LEN],
		       const struct link_wg_ips *ips, uint64_t nonce)
{
	uint8_t want[LINK_WG_MAC_LEN];
	int rc = link_wg_mac(want, own_secret, peer_key, sender_key, ips, nonce);
	if (rc == 0 && !nym_ct_equal(want, mac, LINK_WG_MAC_LEN))
		rc = -EBADMSG;
	nym_memzero(want, sizeof(want));
	return rc;
}

bool link_wg_ticket_len_ok(size_t len)
{
	if (len <= NYM_TICKET_PREPARED_LEN)
		return false;
	size_t k = len - NYM_TICKET_PREPARED_LEN;
	return k == 256 || k == 384 || k == 512;
}

void link_wg_ips_format(const struct link_wg_ips *ips, char *out, size_t cap)
{
	char a[INET_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET, ips->v4, a, sizeof(a));
	inet_ntop(AF_INET6, ips->v6, b, sizeof(b));
	snprintf(out, cap, "%s %s", a, b);
}

static int ticket_ok(const uint8_t *t, size_t len)
{
	struct nym_ticket_view v;
	if (!link_wg_ticket_len_ok(len))
		return -EMSGSIZE;
	return nym_ticket_parse(&v, t, len) ? -EINVAL : 0;
}

static void put_ips(uint8_t *b, const struct link_wg_ips *ips)
{
	memcpy(b, ips->v4, 4);
	memcpy(b + 4, ips->v6, 16);
}

static void get_ips(struct link_wg_ips *ips, const uint8_t *b)
{
	memcpy(ips->v4, b, 4);
	memcpy(ips->v6, b + 4, 16);
}

int link_wg_body_len(const struct link_msg *m, size_t *len)
{
	int rc;
	switch (m->type) {
	case LINK_MSG_WG_INIT:
		*len = LINK_WG_INIT_LEN;
		return 0;
	case LINK_MSG_WG_QUERY:
		*len = LINK_WG_QUERY_LEN;
		return 0;
	case LINK_MSG_WG_PENDING:
		if (m->wg_pending.port == 0)
			return -EINVAL;
		*len = LINK_WG_PENDING_LEN;
		return 0;
	case LINK_MSG_WG_FINAL:
		if (!m->wg_final.ticket_len) {
			*len = LINK_WG_FINAL_BASE_LEN;
			return 0;
		}
		if ((rc = ticket_ok(m->wg_final.ticket, m->wg_final.ticket_len)) != 0)
			return rc;
		*len = LINK_WG_FINAL_BASE_LEN + m->wg_final.ticket_len;
		return 0;
	case LINK_MSG_WG_REGISTERED:
		if (m->wg_registered.port == 0)
			return -EINVAL;
		*len = LINK_WG_REGISTERED_LEN;
		return 0;
	case LINK_MSG_WG_BANDWIDTH:
		*len = LINK_WG_BANDWIDTH_LEN;
		return 0;
	case LINK_MSG_WG_TOPUP:
		if ((rc = ticket_ok(m->wg_topup.ticket, m->wg_topup.ticket_len)) != 0)
			return rc;
		*len = LINK_WG_KEY_LEN + m->wg_topup.ticket_len;
		return 0;
	default:
		return -EINVAL;
	}
}

void link_wg_body_write(const struct link_msg *m, uint8_t *b)
{
	switch (m->type) {
	case LINK_MSG_WG_INIT:
	case LINK_MSG_WG_QUERY:
		memcpy(b, m->wg_key, LINK_WG_KEY_LEN);
		break;
	case LINK_MSG_WG_PENDING: {
		const struct link_wg_pending *p = &m->wg_pending;
		nym_bytes_put_be64(b, p->nonce);
		memcpy(b + 8, p->gateway_key, LINK_WG_KEY_LEN);
		put_ips(b + 40, &p->ips);
		nym_bytes_put_be16(b + 60, p->port);
		memcpy(b + 62, p->mac, LINK_WG_MAC_LEN);
		break;
	}
	case LINK_MSG_WG_FINAL: {
		const struct link_wg_final *f = &m->wg_final;
		memcpy(b, f->client_key, LINK_WG_KEY_LEN);
		put_ips(b + 32, &f->ips);
		nym_bytes_put_be64(b + 52, f->nonce);
		memcpy(b + 60, f->mac, LINK_WG_MAC_LEN);
		if (f->ticket_len)
			memmove(b + LINK_WG_FINAL_BASE_LEN, f->ticket, f->ticket_len);
		break;
	}
	case LINK_MSG_WG_REGISTERED: {
		const struct link_wg_registered *r = &m->wg_registered;
		put_ips(b, &r->ips);
		nym_bytes_put_be16(b + 20, r->port);
		memcpy(b + 22, r->gateway_key, LINK_WG_KEY_LEN);
		nym_bytes_put_be64(b + 54, r->balance);
		break;
	}
	case LINK_MSG_WG_BANDWIDTH:
		memcpy(b, m->wg_bandwidth.client_key, LINK_WG_KEY_LEN);
		b[32] = m->wg_bandwidth.registered ? 1 : 0;
		nym_bytes_put_be64(b + 33, m->wg_bandwidth.balance);
		break;
	case LINK_MSG_WG_TOPUP:
		memcpy(b, m->wg_topup.client_key, LINK_WG_KEY_LEN);
		memmove(b + LINK_WG_KEY_LEN, m->wg_topup.ticket, m->wg_topup.ticket_len);
		break;
	default:
		break;
	}
}

int link_wg_body_read(struct link_msg *m, const uint8_t *b, size_t len)
{
	int rc;
	switch (m->type) {
	case LINK_MSG_WG_INIT:
	case LINK_MSG_WG_QUERY:
		if (len != LINK_WG_KEY_LEN)
			return -EMSGSIZE;
		memcpy(m->wg_key, b, LINK_WG_KEY_LEN);
		return 0;
	case LINK_MSG_WG_PENDING: {
		struct link_wg_pending *p = &m->wg_pending;
		if (len != LINK_WG_PENDING_LEN)
			return -EMSGSIZE;
		p->nonce = nym_bytes_get_be64(b);
		memcpy(p->gateway_key, b + 8, LINK_WG_KEY_LEN);
		get_ips(&p->ips, b + 40);
		p->port = nym_bytes_get_be16(b + 60);
		memcpy(p->mac, b + 62, LINK_WG_MAC_LEN);
		return p->port ? 0 : -EINVAL;
	}
	case LINK_MSG_WG_FINAL: {
		struct link_wg_final *f = &m->wg_final;
		if (len < LINK_WG_FINAL_BASE_LEN)
			return -EMSGSIZE;
		memcpy(f->client_key, b, LINK_WG_KEY_LEN);
		get_ips(&f->ips, b + 32);
		f->nonce = nym_bytes_get_be64(b + 52);
		memcpy(f->mac, b + 60, LINK_WG_MAC_LEN);
		if (len == LINK_WG_FINAL_BASE_LEN)
			return 0;
		f->ticket = b + LINK_WG_FINAL_BASE_LEN;
		f->ticket_len = len - LINK_WG_FINAL_BASE_LEN;
		return ticket_ok(f->ticket, f->ticket_len);
	}
	case LINK_MSG_WG_REGISTERED: {
		struct link_wg_registered *r = &m->wg_registered;
		if (len != LINK_WG_REGISTERED_LEN)
			return -EMSGSIZE;
		get_ips(&r->ips, b);
		r->port = nym_bytes_get_be16(b + 20);
		memcpy(r->gateway_key, b + 22, LINK_WG_KEY_LEN);
		r->balance = nym_bytes_get_be64(b + 54);
		return r->port ? 0 : -EINVAL;
	}
	case LINK_MSG_WG_BANDWIDTH:
		if (len != LINK_WG_BANDWIDTH_LEN)
			return -EMSGSIZE;
		if (b[32] > 1)
			return -EINVAL;
		memcpy(m->wg_bandwidth.client_key, b, LINK_WG_KEY_LEN);
		m->wg_bandwidth.registered = b[32] == 1;
		m->wg_bandwidth.balance = nym_bytes_get_be64(b + 33);
		return 0;
	case LINK_MSG_WG_TOPUP:
		if (len < LINK_WG_KEY_LEN)
			return -EMSGSIZE;
		memcpy(m->wg_topup.client_key, b, LINK_WG_KEY_LEN);
		m->wg_topup.ticket = b + LINK_WG_KEY_LEN;
		m->wg_topup.ticket_len = len - LINK_WG_KEY_LEN;
		rc = ticket_ok(m->wg_topup.ticket, m->wg_topup.ticket_len);
		return rc;
	default:
		return -EINVAL;
	}
}
