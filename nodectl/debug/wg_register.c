#include "nodectl/debug/wg_register.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/client_wg_register.h"
#include "clientio/clientio_link.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "wg/wg_conf.h"

static void put_key(json_t *r, const char *name, const uint8_t key[32])
{
	char b64[WG_KEY_B64_LEN];
	wg_key_to_base64(b64, key);
	json_object_set_new(r, name, json_string(b64));
}

/* Notes the gateway's ERROR frames by name as they pass. */
static void note_error(void *arg, const struct link_msg *m)
{
	if (m->type == LINK_MSG_ERROR)
		json_array_append_new((json_t *)arg, json_string(clientio_link_answer_name(m)));
}

int wg_register_run(const struct wg_register_options *o, json_t **out, char *err, size_t errlen)
{
	static struct clientio_link c;
	static struct client_wg_register reg;
	struct nym_ticketbook *book = NULL;
	struct nym_x25519_keypair kp;
	uint8_t ticket[NYM_TICKET_MAX_LEN];
	size_t tlen = 0;
	struct link_msg m, resp;
	json_t *r = json_object(), *errors = json_array();
	int rc;
	*out = NULL;
	c.fd = -1;
	if (o->book_path) {
		if ((rc = nym_ticketbook_load(&book, o->book_path)) != 0) {
			snprintf(err, errlen, "%s: cannot load the ticketbook: %s", o->book_path, strerror(-rc));
			json_decref(r);
			json_decref(errors);
			return rc;
		}
		rc = nym_ticketbook_ticket(book, o->ticket_index, ticket, sizeof(ticket), &tlen);
		nym_ticketbook_free(book);
		if (rc) {
			snprintf(err, errlen, "the ticketbook holds no ticket %zu", o->ticket_index);
			json_decref(r);
			json_decref(errors);
			return -ENOENT;
		}
	}
	if (o->have_key) {
		memcpy(kp.secret, o->private_key, 32);
		wg_key_public(kp.public_key, kp.secret);
	} else {
		wg_key_generate(kp.secret, kp.public_key);
		put_key(r, "private_key", kp.secret);
	}
	put_key(r, "public_key", kp.public_key);
	client_wg_register_init(&reg, &kp, NULL, tlen ? ticket : NULL, tlen);
	nym_x25519_keypair_clear(&kp);
	nym_memzero(ticket, sizeof(ticket));
	struct clientio_link_options lo = { .timeout_ms = o->timeout_ms, .on_msg = note_error, .arg = errors };
	if ((rc = clientio_link_connect(&c, (const struct sockaddr *)&o->gateway.ss, o->gateway.len, &lo)) != 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = clientio_link_handshake(&c, o->gateway_noise)) != 0) {
		json_object_set_new(r, "handshake_error", json_string(strerror(-rc)));
		goto done;
	}
	if ((rc = clientio_link_hello(&c, &m)) != 0) {
		json_object_set_new(r, "version_error", json_string(rc == -ECONNREFUSED ? clientio_link_answer_name(&m) : strerror(-rc)));
		goto done;
	}
	bool send = true;
	client_wg_register_start(&reg, &resp);
	while (send) {
		if (resp.type == LINK_MSG_WG_FINAL && o->forge_mac)
			resp.wg_final.mac[0] ^= 0x01;
		if ((rc = clientio_link_send_msg(&c, &resp)) != 0)
			break;
		send = false;
		for (;;) {
			rc = clientio_link_next_msg(&c, &m, c.timeout_ms);
			if (rc)
				break;
			rc = client_wg_register_on_msg(&reg, &m, &resp, &send);
			if (rc == -ENOMSG)
				continue;
			break;
		}
		if (rc)
			break;
	}
	json_object_set_new(r, "registered", json_boolean(client_wg_register_done(&reg)));
	json_object_set_new(r, "ticket_used", json_boolean(client_wg_register_ticket_used(&reg)));
	if (client_wg_register_done(&reg)) {
		char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET, reg.result.ips.v4, a4, sizeof(a4));
		inet_ntop(AF_INET6, reg.result.ips.v6, a6, sizeof(a6));
		json_object_set_new(r, "ipv4", json_string(a4));
		json_object_set_new(r, "ipv6", json_string(a6));
		json_object_set_new(r, "port", json_integer(reg.result.port));
		put_key(r, "gateway_key", reg.result.gateway_key);
		json_object_set_new(r, "balance", json_integer((json_int_t)reg.result.balance));
		if (o->query) {
			struct link_msg q = { .type = LINK_MSG_WG_QUERY };
			memcpy(q.wg_key, reg.key.public_key, LINK_WG_KEY_LEN);
			if (clientio_link_send_msg(&c, &q) == 0 &&
			    clientio_link_expect(&c, &m, LINK_MSG_WG_BANDWIDTH, LINK_MSG_ERROR) == 0 &&
			    m.type == LINK_MSG_WG_BANDWIDTH)
				json_object_set_new(r, "queried_balance", json_integer((json_int_t)m.wg_bandwidth.balance));
		}
	} else {
		const char *why = reg.reason == -EBADMSG ? "bad_mac"
				: reg.reason == -EPROTO ? "protocol"
				: reg.reason == -ECONNREFUSED ? "refused"
				: rc ? strerror(-rc) : "unknown";
		json_object_set_new(r, "failure", json_string(why));
		if (reg.error)
			json_object_set_new(r, "error",
					    json_string(link_error_name(reg.error) ? link_error_name(reg.error) : "unknown"));
	}
	struct link_msg cl = { .type = LINK_MSG_CLOSE };
	clientio_link_send_msg(&c, &cl);
	clientio_link_drain(&c, 1000);
done:
	json_object_set_new(r, "errors", json_incref(errors));
	*out = r;
	rc = 0;
	goto out;
fail:
	json_decref(r);
out:
	json_decref(errors);
	clientio_link_close(&c);
	client_wg_register_clear(&reg);
	return rc;
}
