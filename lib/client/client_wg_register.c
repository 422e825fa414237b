#include "client/client_wg_register.h"

#include <errno.h>
#include <string.h>

#include "crypto/secret.h"

int client_wg_register_init(struct client_wg_register *r, const struct nym_x25519_keypair *key,
			    const uint8_t *gateway_key, const uint8_t *ticket, size_t ticket_len)
{
	memset(r, 0, sizeof(*r));
	if (ticket_len && (!ticket || !link_wg_ticket_len_ok(ticket_len)))
		return -EINVAL;
	r->key = *key;
	if (gateway_key) {
		r->pin_gateway = true;
		memcpy(r->gateway_key, gateway_key, LINK_WG_KEY_LEN);
	}
	if (ticket_len)
		memcpy(r->ticket, ticket, ticket_len);
	r->ticket_len = ticket_len;
	return 0;
}

void client_wg_register_clear(struct client_wg_register *r)
{
	nym_memzero(r, sizeof(*r));
}

int client_wg_register_start(struct client_wg_register *r, struct link_msg *out)
{
	if (r->state != CLIENT_WG_REGISTER_IDLE)
		return -EALREADY;
	memset(out, 0, sizeof(*out));
	out->type = LINK_MSG_WG_INIT;
	memcpy(out->wg_key, r->key.public_key, LINK_WG_KEY_LEN);
	r->state = CLIENT_WG_REGISTER_INIT_SENT;
	return 0;
}

static int fail(struct client_wg_register *r, int reason, uint16_t code)
{
	r->state = CLIENT_WG_REGISTER_FAILED;
	r->reason = reason;
	r->error = code;
	nym_memzero(r->ticket, sizeof(r->ticket));
	return reason;
}

static int on_pending(struct client_wg_register *r, const struct link_wg_pending *p, struct link_msg *out, bool *send)
{
	if (r->pin_gateway && memcmp(p->gateway_key, r->gateway_key, LINK_WG_KEY_LEN))
		return fail(r, -EPROTO, 0);
	/* The gateway's MAC covers its own key: DH(our secret, its key). */
	int rc = link_wg_mac_verify(p->mac, r->key.secret, p->gateway_key, p->gateway_key, &p->ips, p->nonce);
	if (rc)
		return fail(r, -EBADMSG, 0);
	memcpy(r->gateway_key, p->gateway_key, LINK_WG_KEY_LEN);
	r->pending = *p;
	memset(out, 0, sizeof(*out));
	out->type = LINK_MSG_WG_FINAL;
	struct link_wg_final *f = &out->wg_final;
	memcpy(f->client_key, r->key.public_key, LINK_WG_KEY_LEN);
	f->ips = p->ips;
	f->nonce = p->nonce;
	if (link_wg_mac(f->mac, r->key.secret, p->gateway_key, r->key.public_key, &p->ips, p->nonce))
		return fail(r, -EBADMSG, 0);
	if (r->ticket_len) {
		f->ticket = r->ticket;
		f->ticket_len = r->ticket_len;
		r->ticket_used = true;
	}
	r->state = CLIENT_WG_REGISTER_FINAL_SENT;
	*send = true;
	return 0;
}

static int on_registered(struct client_wg_register *r, const struct link_wg_registered *g)
{
	if (r->state == CLIENT_WG_REGISTER_FINAL_SENT) {
		/* What we registered: the pair offered, the key that signed the offer. */
		if (memcmp(&g->ips, &r->pending.ips, sizeof(g->ips)) ||
		    memcmp(g->gateway_key, r->gateway_key, LINK_WG_KEY_LEN))
			return fail(r, -EPROTO, 0);
	} else if (r->pin_gateway && memcmp(g->gateway_key, r->gateway_key, LINK_WG_KEY_LEN)) {
		return fail(r, -EPROTO, 0);
	}
	r->result = *g;
	memcpy(r->gateway_key, g->gateway_key, LINK_WG_KEY_LEN);
	r->state = CLIENT_WG_REGISTER_DONE;
	nym_memzero(r->ticket, sizeof(r->ticket));
	return 0;
}

int client_wg_register_on_msg(struct client_wg_register *r, const struct link_msg *in, struct link_msg *out,
			      bool *send)
{
	*send = false;
	if (r->state == CLIENT_WG_REGISTER_DONE || r->state == CLIENT_WG_REGISTER_FAILED)
		return -ENOMSG;
	switch (in->type) {
	case LINK_MSG_WG_PENDING:
		if (r->state != CLIENT_WG_REGISTER_INIT_SENT)
			return fail(r, -EPROTO, 0);
		return on_pending(r, &in->wg_pending, out, send);
	case LINK_MSG_WG_REGISTERED:
		if (r->state != CLIENT_WG_REGISTER_INIT_SENT && r->state != CLIENT_WG_REGISTER_FINAL_SENT)
			return fail(r, -EPROTO, 0);
		return on_registered(r, &in->wg_registered);
	case LINK_MSG_ERROR:
		if (r->state == CLIENT_WG_REGISTER_IDLE)
			return -ENOMSG;
		return fail(r, -ECONNREFUSED, in->error.code);
	default:
		return -ENOMSG;
	}
}
