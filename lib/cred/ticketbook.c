#include "cred/ticketbook.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/log.h"

static const char *const state_names[] = {
	[NYM_TICKETBOOK_PENDING] = "pending",
	[NYM_TICKETBOOK_READY] = "ready",
	[NYM_TICKETBOOK_FAILED] = "failed",
};

void nym_ticketbook_free(struct nym_ticketbook *book)
{
	if (!book)
		return;
	nym_blind_rsa_public_key_free(book->key);
	nym_memzero(book, sizeof(*book));
	free(book);
}

static void drop(struct nym_ticketbook *book)
{
	nym_memzero(book->entries, sizeof(book->entries));
	nym_memzero(book->voucher, sizeof(book->voucher));
	book->state = NYM_TICKETBOOK_FAILED;
}

static bool key_is_production(const struct nym_blind_rsa_public_key *key)
{
	return nym_blind_rsa_public_key_variant(key) == NYM_BRSA_PSS_RANDOMIZED;
}

int nym_ticketbook_create(struct nym_ticketbook **out, const struct nym_blind_rsa_public_key *key,
			  enum nym_ticket_type type, int64_t expiry, size_t count,
			  const char *voucher)
{
	struct nym_ticketbook *book = NULL;
	int rc = -EINVAL;
	*out = NULL;
	if (!key_is_production(key) || !nym_ticket_type_valid(type) || expiry <= 0 ||
	    expiry % NYM_TICKET_DAY_S || count == 0 || count > NYM_TICKETBOOK_SIZE ||
	    !nym_issue_voucher_valid(voucher))
		goto out;
	rc = -ENOMEM;
	book = calloc(1, sizeof(*book));
	if (!book)
		goto out;
	rc = nym_blind_rsa_public_key_copy(&book->key, key);
	if (rc)
		goto out;
	book->state = NYM_TICKETBOOK_PENDING;
	book->type = type;
	book->expiry = expiry;
	book->count = count;
	snprintf(book->voucher, sizeof(book->voucher), "%s", voucher);
	for (size_t i = 0; i < count; i++) {
		struct nym_ticketbook_entry *e = &book->entries[i];
		struct nym_ticket_msg msg = { .type = type, .expiry = expiry };
		uint8_t m[NYM_TICKET_MSG_LEN];
		size_t plen;
		nym_random(msg.serial, sizeof(msg.serial));
		nym_ticket_msg_encode(m, &msg);
		rc = nym_blind_rsa_prepare(key, m, sizeof(m), e->prepared, sizeof(e->prepared), &plen);
		nym_memzero(m, sizeof(m));
		nym_memzero(&msg, sizeof(msg));
		if (rc)
			goto out;
		/* -EINVAL here is a gcd failure: the key is hostile or broken (spec §7.4). */
		rc = nym_blind_rsa_blind(key, e->prepared, plen, e->blinded, e->inv);
		if (rc)
			goto out;
	}
	*out = book;
	book = NULL;
	rc = 0;
out:
	nym_ticketbook_free(book);
	return rc;
}

int nym_ticketbook_request(const struct nym_ticketbook *book, char **json, size_t *len)
{
	if (book->state != NYM_TICKETBOOK_PENDING)
		return -EINVAL;
	struct nym_issue_request *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	memcpy(req->voucher, book->voucher, sizeof(req->voucher));
	req->type = book->type;
	req->expiry = book->expiry;
	req->count = book->count;
	req->elem_len = nym_blind_rsa_public_key_len(book->key);
	for (size_t i = 0; i < book->count; i++)
		memcpy(req->blinded[i], book->entries[i].blinded, req->elem_len);
	int rc = nym_issue_request_encode(req, json, len);
	nym_issue_request_clear(req);
	free(req);
	return rc;
}

int nym_ticketbook_finalize(struct nym_ticketbook *book, const char *response, size_t len)
{
	size_t k = nym_blind_rsa_public_key_len(book->key);
	struct nym_issue_response *resp = NULL;
	uint8_t(*sigs)[NYM_BRSA_MAX_LEN] = NULL;
	int rc = -EINVAL;
	if (book->state != NYM_TICKETBOOK_PENDING)
		return -EINVAL;
	rc = -ENOMEM;
	resp = malloc(sizeof(*resp));
	sigs = calloc(NYM_TICKETBOOK_SIZE, NYM_BRSA_MAX_LEN);
	if (!resp || !sigs)
		goto out;
	/* An answer that does not even parse (a proxy's error page, a truncated body) tells us
	 * nothing about the issuer: the book stays pending and the request can be sent again. */
	rc = nym_issue_response_decode(resp, response, len);
	if (rc)
		goto out;
	if (resp->type != book->type || resp->expiry != book->expiry ||
	    resp->count != book->count || resp->elem_len != k)
		rc = -EINVAL;
	for (size_t i = 0; rc == 0 && i < book->count; i++) {
		struct nym_ticketbook_entry *e = &book->entries[i];
		rc = nym_blind_rsa_finalize(book->key, e->prepared, NYM_TICKET_PREPARED_LEN,
				       resp->blind_sigs[i], k, e->inv, sigs[i]);
	}
	if (rc) {
		/* A bad answer may be an attempt to tag us: nothing from this book is kept. */
		log_warn("ticketbook: the issuer's answer for a %s book failed (%s); book dropped",
			 nym_ticket_type_name(book->type), strerror(-rc));
		drop(book);
		goto out;
	}
	for (size_t i = 0; i < book->count; i++) {
		struct nym_ticketbook_entry *e = &book->entries[i];
		memcpy(e->sig, sigs[i], k);
		nym_memzero(e->inv, sizeof(e->inv));
		nym_memzero(e->blinded, sizeof(e->blinded));
		e->spent = false;
	}
	nym_memzero(book->voucher, sizeof(book->voucher));
	book->state = NYM_TICKETBOOK_READY;
out:
	if (sigs)
		nym_memzero(sigs, (size_t)NYM_TICKETBOOK_SIZE * NYM_BRSA_MAX_LEN);
	free(sigs);
	free(resp);
	return rc;
}

int nym_ticketbook_ticket(const struct nym_ticketbook *book, size_t index, uint8_t *out, size_t cap,
			  size_t *out_len)
{
	if (book->state != NYM_TICKETBOOK_READY)
		return -EINVAL;
	if (index >= book->count)
		return -ENOENT;
	return nym_ticket_encode(out, cap, out_len, book->entries[index].prepared,
				 book->entries[index].sig, nym_blind_rsa_public_key_len(book->key));
}

size_t nym_ticketbook_unspent(const struct nym_ticketbook *book)
{
	size_t n = 0;
	if (book->state == NYM_TICKETBOOK_READY)
		for (size_t i = 0; i < book->count; i++)
			n += !book->entries[i].spent;
	return n;
}

int nym_ticketbook_take(struct nym_ticketbook *book, size_t *index)
{
	size_t left = nym_ticketbook_unspent(book);
	if (left == 0)
		return -ENOENT;
	uint32_t pick = randombytes_uniform((uint32_t)left);
	for (size_t i = 0; i < book->count; i++) {
		if (book->entries[i].spent)
			continue;
		if (pick-- == 0) {
			book->entries[i].spent = true;
			*index = i;
			return 0;
		}
	}
	return -ENOENT;
}

int nym_ticketbook_mark_spent(struct nym_ticketbook *book, size_t index)
{
	if (book->state != NYM_TICKETBOOK_READY)
		return -EINVAL;
	if (index >= book->count)
		return -ENOENT;
	book->entries[index].spent = true;
	return 0;
}

/* --- File format ------------------------------------------------------------------------ */

static json_t *hex_string(const uint8_t *p, size_t len)
{
	char buf[2 * (NYM_TICKET_PREPARED_LEN + NYM_BRSA_MAX_LEN) + 1];
	nym_hex_encode(buf, p, len);
	json_t *s = json_string(buf);
	nym_memzero(buf, sizeof(buf));
	return s;
}

static json_t *entry_json(const struct nym_ticketbook *book, const struct nym_ticketbook_entry *e)
{
	size_t k = nym_blind_rsa_public_key_len(book->key);
	if (book->state == NYM_TICKETBOOK_PENDING)
		return json_pack("{s:o, s:o, s:o}", "prepared",
				 hex_string(e->prepared, NYM_TICKET_PREPARED_LEN), "blinded",
				 hex_string(e->blinded, k), "inv", hex_string(e->inv, k));
	uint8_t t[NYM_TICKET_MAX_LEN];
	size_t tlen;
	if (nym_ticket_encode(t, sizeof(t), &tlen, e->prepared, e->sig, k) != 0)
		return NULL;
	return json_pack("{s:o, s:b}", "ticket", hex_string(t, tlen), "spent", e->spent);
}

/* jansson frees strings without wiping them, and these trees hold inverses and unspent
 * tickets: overwrite every string in place before the tree is released. */
static void scrub(json_t *v)
{
	const char *key;
	json_t *child;
	size_t i;
	if (json_is_string(v))
		nym_memzero((char *)json_string_value(v), json_string_length(v));
	else if (json_is_object(v))
		json_object_foreach(v, key, child) scrub(child);
	else if (json_is_array(v))
		json_array_foreach(v, i, child) scrub(child);
}

int nym_ticketbook_to_json(const struct nym_ticketbook *book, char **json, size_t *len)
{
	json_t *tickets = NULL, *root = NULL;
	char *pem = NULL;
	int rc = -EINVAL;
	*json = NULL;
	if (book->state == NYM_TICKETBOOK_FAILED)
		goto out;
	rc = nym_blind_rsa_public_key_to_pem(book->key, &pem);
	if (rc)
		goto out;
	rc = -ENOMEM;
	tickets = json_array();
	if (!tickets)
		goto out;
	for (size_t i = 0; i < book->count; i++)
		if (json_array_append_new(tickets, entry_json(book, &book->entries[i])) != 0)
			goto out;
	root = json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:O}", "version", NYM_TICKETBOOK_VERSION,
			 "state", state_names[book->state], "type",
			 nym_ticket_type_name(book->type), "expiry", (json_int_t)book->expiry,
			 "variant", nym_blind_rsa_variant_name(nym_blind_rsa_public_key_variant(book->key)),
			 "public_key_pem", pem, "tickets", tickets);
	if (!root)
		goto out;
	if (book->state == NYM_TICKETBOOK_PENDING &&
	    json_object_set_new(root, "voucher", json_string(book->voucher)) != 0)
		goto out;
	*json = json_dumps(root, JSON_INDENT(1));
	if (!*json)
		goto out;
	*len = strlen(*json);
	rc = 0;
out:
	free(pem);
	scrub(tickets);
	json_decref(tickets);
	json_decref(root);
	return rc;
}

void nym_ticketbook_json_free(char *json, size_t len)
{
	if (!json)
		return;
	nym_memzero(json, len);
	free(json);
}

static int hex_field(json_t *obj, const char *name, uint8_t *out, size_t len)
{
	json_t *v = json_object_get(obj, name);
	if (!json_is_string(v) || json_string_length(v) != 2 * len)
		return -EINVAL;
	return nym_hex_decode_exact(out, len, json_string_value(v));
}

/* Each prepared message must be the book's own (type, expiry): a file that mixes tickets
 * would later be refused by gateways one ticket at a time. */
static int check_prepared(const struct nym_ticketbook *book, const uint8_t *prepared)
{
	struct nym_ticket_msg m;
	int rc = nym_ticket_msg_decode(&m, prepared + NYM_BRSA_PREFIX_LEN, NYM_TICKET_MSG_LEN);
	if (rc || m.type != book->type || m.expiry != book->expiry)
		return -EINVAL;
	return 0;
}

static int parse_entry(struct nym_ticketbook *book, json_t *obj, struct nym_ticketbook_entry *e)
{
	size_t k = nym_blind_rsa_public_key_len(book->key);
	if (!json_is_object(obj))
		return -EINVAL;
	if (book->state == NYM_TICKETBOOK_PENDING) {
		if (json_object_size(obj) != 3 ||
		    hex_field(obj, "prepared", e->prepared, NYM_TICKET_PREPARED_LEN) ||
		    hex_field(obj, "blinded", e->blinded, k) || hex_field(obj, "inv", e->inv, k))
			return -EINVAL;
		return check_prepared(book, e->prepared);
	}
	uint8_t t[NYM_TICKET_MAX_LEN];
	json_t *spent = json_object_get(obj, "spent");
	int rc = -EINVAL;
	if (json_object_size(obj) != 2 || !json_is_boolean(spent) ||
	    hex_field(obj, "ticket", t, NYM_TICKET_PREPARED_LEN + k))
		goto out;
	memcpy(e->prepared, t, NYM_TICKET_PREPARED_LEN);
	memcpy(e->sig, t + NYM_TICKET_PREPARED_LEN, k);
	e->spent = json_is_true(spent);
	rc = check_prepared(book, e->prepared);
out:
	nym_memzero(t, sizeof(t));
	return rc;
}

int nym_ticketbook_from_json(struct nym_ticketbook **out, const char *json, size_t len)
{
	struct nym_ticketbook *book = NULL;
	json_error_t err;
	json_t *root = NULL;
	int rc = -EMSGSIZE;
	*out = NULL;
	if (len > NYM_TICKETBOOK_FILE_MAX)
		goto out;
	rc = -EINVAL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(root))
		goto out;
	json_t *version = json_object_get(root, "version"), *state = json_object_get(root, "state"),
	       *type = json_object_get(root, "type"), *expiry = json_object_get(root, "expiry"),
	       *variant = json_object_get(root, "variant"),
	       *pem = json_object_get(root, "public_key_pem"),
	       *tickets = json_object_get(root, "tickets"),
	       *voucher = json_object_get(root, "voucher");
	if (!json_is_integer(version))
		goto out;
	if (json_integer_value(version) != NYM_TICKETBOOK_VERSION) {
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	rc = -ENOMEM;
	book = calloc(1, sizeof(*book));
	if (!book)
		goto out;
	rc = -EINVAL;
	enum nym_blind_rsa_variant v;
	if (!json_is_string(state) || !json_is_string(type) || !json_is_integer(expiry) ||
	    !json_is_string(variant) || !json_is_string(pem) || !json_is_array(tickets) ||
	    nym_ticket_type_parse(json_string_value(type), &book->type) != 0 ||
	    nym_blind_rsa_variant_parse(json_string_value(variant), &v) != 0 ||
	    v != NYM_BRSA_PSS_RANDOMIZED)
		goto out;
	if (strcmp(json_string_value(state), "pending") == 0)
		book->state = NYM_TICKETBOOK_PENDING;
	else if (strcmp(json_string_value(state), "ready") == 0)
		book->state = NYM_TICKETBOOK_READY;
	else
		goto out;
	bool pending = book->state == NYM_TICKETBOOK_PENDING;
	if (json_object_size(root) != (pending ? 8u : 7u))
		goto out;
	if (pending && (!json_is_string(voucher) || json_string_length(voucher) > NYM_VOUCHER_MAX ||
			!nym_issue_voucher_valid(json_string_value(voucher))))
		goto out;
	if (pending)
		memcpy(book->voucher, json_string_value(voucher), json_string_length(voucher) + 1);
	book->expiry = (int64_t)json_integer_value(expiry);
	book->count = json_array_size(tickets);
	if (book->expiry <= 0 || book->expiry % NYM_TICKET_DAY_S || book->count == 0 ||
	    book->count > NYM_TICKETBOOK_SIZE)
		goto out;
	if (nym_blind_rsa_public_key_from_pem(&book->key, v, json_string_value(pem),
					 json_string_length(pem)) != 0)
		goto out;
	for (size_t i = 0; i < book->count; i++) {
		rc = parse_entry(book, json_array_get(tickets, i), &book->entries[i]);
		if (rc)
			goto out;
	}
	*out = book;
	book = NULL;
	rc = 0;
out:
	nym_ticketbook_free(book);
	scrub(root);
	json_decref(root);
	return rc;
}

int nym_ticketbook_save(const struct nym_ticketbook *book, const char *path)
{
	char *json;
	size_t len;
	int rc = nym_ticketbook_to_json(book, &json, &len);
	if (rc)
		return rc;
	rc = nym_file_write_atomic(path, json, len, 0600);
	nym_ticketbook_json_free(json, len);
	return rc;
}

int nym_ticketbook_load(struct nym_ticketbook **out, const char *path)
{
	uint8_t *data;
	size_t len;
	*out = NULL;
	int rc = nym_file_read(path, NYM_TICKETBOOK_FILE_MAX, &data, &len);
	if (rc)
		return rc == -EFBIG ? -EMSGSIZE : rc;
	rc = nym_ticketbook_from_json(out, (const char *)data, len);
	nym_memzero(data, len);
	free(data);
	return rc;
}
