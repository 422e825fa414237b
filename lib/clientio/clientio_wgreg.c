#include "clientio/clientio_wgreg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_wg_register.h"
#include "clientio/clientio.h"
#include "clientio/clientio_link.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"

/* Waits for an answer other than noise (BANDWIDTH, LOW_BALANCE, RECEIVE pass by). */
static int expect(struct clientio_link *l, struct link_msg *m)
{
	for (;;) {
		int rc = clientio_link_next_msg(l, m, l->timeout_ms);
		if (rc)
			return rc;
		if (m->type != LINK_MSG_BANDWIDTH && m->type != LINK_MSG_LOW_BALANCE && m->type != LINK_MSG_RECEIVE)
			return 0;
	}
}

int clientio_wgreg_register(const struct clientio_wgreg_config *c, struct clientio_wgreg_result *out, char *err,
			    size_t errlen)
{
	struct clientio_link *l = calloc(1, sizeof(*l));
	struct client_wg_register reg;
	struct link_msg m, send;
	bool more;
	int rc;
	memset(out, 0, sizeof(*out));
	memset(&reg, 0, sizeof(reg));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fd = -1;
	struct clientio_link_options lo = { .fwmark = c->fwmark,
					    .bind_ifname = c->bind_ifname,
					    .timeout_ms = c->timeout_ms > 0 ? (uint64_t)c->timeout_ms : 10000 };
	rc = client_wg_register_init(&reg, c->wg_key, NULL, c->ticket, c->ticket_len);
	if (rc) {
		snprintf(err, errlen, "a ticket of a length the link does not carry");
		goto out;
	}
	rc = clientio_link_connect(l, c->gateway, c->gateway_len, &lo);
	if (rc) {
		snprintf(err, errlen, "cannot connect to the gateway: %s", strerror(-rc));
		goto out;
	}
	rc = clientio_link_handshake(l, c->gateway_noise);
	if (rc) {
		snprintf(err, errlen, "the Noise handshake with the gateway failed: %s", strerror(-rc));
		goto out;
	}
	struct link_msg hello = { .type = LINK_MSG_HELLO, .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
	if ((rc = clientio_link_send_msg(l, &hello)) != 0 || (rc = expect(l, &m)) != 0) {
		snprintf(err, errlen, "no VERSION from the gateway: %s", strerror(-rc));
		goto out;
	}
	if (m.type != LINK_MSG_VERSION) {
		rc = -EPROTO;
		snprintf(err, errlen, "the gateway answered HELLO with %s", link_msg_type_name(m.type));
		goto out;
	}
	if ((rc = client_wg_register_start(&reg, &send)) != 0 || (rc = clientio_link_send_msg(l, &send)) != 0) {
		snprintf(err, errlen, "cannot send WG_INIT: %s", strerror(-rc));
		goto out;
	}
	while (!client_wg_register_done(&reg)) {
		rc = expect(l, &m);
		if (rc) {
			snprintf(err, errlen, "no registration answer from the gateway: %s", strerror(-rc));
			goto out;
		}
		if (m.type == LINK_MSG_CLOSE) {
			rc = -ECONNRESET;
			snprintf(err, errlen, "the gateway closed the link during the registration");
			goto out;
		}
		rc = client_wg_register_on_msg(&reg, &m, &send, &more);
		if (rc == -ENOMSG)
			continue;
		if (rc) {
			if (rc == -ECONNREFUSED) {
				const char *name = link_error_name(reg.error);
				snprintf(err, errlen, "the gateway refused the registration: %s", name ? name : "unknown error");
			} else {
				snprintf(err, errlen, "bad registration answer from the gateway: %s",
					 rc == -EBADMSG ? "bad MAC" : "out of place or inconsistent");
			}
			goto out;
		}
		if (more && (rc = clientio_link_send_msg(l, &send)) != 0) {
			snprintf(err, errlen, "cannot send WG_FINAL: %s", strerror(-rc));
			goto out;
		}
		nym_memzero(&send, sizeof(send));
	}
	out->reg = reg.result;
	out->ticket_used = client_wg_register_ticket_used(&reg);
	struct link_msg cl = { .type = LINK_MSG_CLOSE };
	clientio_link_send_msg(l, &cl); /* best effort */
	rc = 0;
out:
	if (rc && reg.ticket_used)
		out->ticket_used = true;
	client_wg_register_clear(&reg);
	clientio_link_close(l);
	nym_memzero(l, sizeof(*l));
	free(l);
	return rc;
}

size_t clientio_wgreg_tickets_left(const char *dir, enum nym_ticket_type type, int64_t now)
{
	char p[PATH_MAX];
	size_t total = 0;
	clientio_ticketbook_pick(dir, type, now, p, sizeof(p), &total);
	return total;
}

int clientio_wgreg_take_ticket(const char *dir, enum nym_ticket_type type, int64_t now, uint8_t *ticket, size_t cap,
			       size_t *len, size_t *left)
{
	char path[PATH_MAX];
	size_t total = 0, index;
	if (left)
		*left = 0;
	int rc = clientio_ticketbook_pick(dir, type, now, path, sizeof(path), &total);
	if (rc)
		return rc;
	struct nym_ticketbook *book = NULL;
	if ((rc = nym_ticketbook_load(&book, path)) != 0)
		return rc;
	if ((rc = nym_ticketbook_take(book, &index)) == 0 && (rc = nym_ticketbook_save(book, path)) == 0)
		rc = nym_ticketbook_ticket(book, index, ticket, cap, len); /* spent in the file first */
	nym_ticketbook_free(book);
	if (rc == 0 && left)
		*left = total - 1;
	return rc;
}
