#include "dirclient/dir_client.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "http/http_client.h"
#include "topology/body_sig.h"
#include "util/base58.h"

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Appends "; text" to err. */
static void add_reason(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_reason(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strlen(err);
	if (used + 3 >= errlen)
		return;
	if (used) {
		strcpy(err + used, "; ");
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* The "error" (or "message") of a JSON error body, else the status line. */
static void server_reason(const struct nym_http_response *r, char *out, size_t cap)
{
	json_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	json_t *m = json_object_get(j, "error");
	if (!json_is_string(m))
		m = json_object_get(j, "message");
	if (json_is_string(m))
		snprintf(out, cap, "HTTP %ld: %s", r->status, json_string_value(m));
	else
		snprintf(out, cap, "HTTP %ld", r->status);
	json_decref(j);
}

int nym_dir_client_trust_add(struct nym_dir_client_trust *t, const char *b58)
{
	uint8_t key[32];
	if (nym_base58_decode_exact(key, 32, b58))
		return -EINVAL;
	if (nym_dir_client_trust_has(t, key))
		return 0;
	if (t->count == NYM_AUTHORITIES_MAX)
		return -ENOSPC;
	memcpy(t->keys[t->count++], key, 32);
	return 0;
}

bool nym_dir_client_trust_has(const struct nym_dir_client_trust *t, const uint8_t key[32])
{
	for (size_t i = 0; i < t->count; i++)
		if (memcmp(t->keys[i], key, 32) == 0)
			return true;
	return false;
}

void nym_dir_client_topology_free(struct nym_dir_client_topology *t)
{
	nym_epoch_doc_free(&t->doc);
	free(t->canonical);
	memset(t, 0, sizeof(*t));
}

int nym_dir_client_fetch_topology(const char *const *urls, size_t nurls, const struct nym_dir_client_trust *trust, uint64_t epoch,
			   long timeout_ms, struct nym_dir_client_topology *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (trust && (trust->count == 0 || trust->threshold < 1 || trust->threshold > trust->count)) {
		say(err, errlen, "need 1..%zu required signatures from %zu authority keys", trust->count, trust->count);
		return -EINVAL;
	}
	bool have = false;
	for (size_t i = 0; i < nurls; i++) {
		char url[512], path[64];
		struct nym_http_response r;
		if (epoch)
			snprintf(path, sizeof(path), "/v1/topology/%" PRIu64, epoch);
		else
			snprintf(path, sizeof(path), "/v1/topology");
		if (nym_http_url(url, sizeof(url), urls[i], path)) {
			add_reason(err, errlen, "%s: URL too long", urls[i]);
			continue;
		}
		struct nym_http_request req = { .url = url, .max_response = NYM_EPOCH_DOC_JSON_MAX + 65536,
						.timeout_ms = timeout_ms };
		int rc = nym_http_request(&req, &r);
		if (rc) {
			add_reason(err, errlen, "%s: %s", urls[i], nym_http_strerror(rc));
			continue;
		}
		if (r.status != 200) {
			char why[200];
			server_reason(&r, why, sizeof(why));
			add_reason(err, errlen, "%s: %s", urls[i], why);
			nym_http_response_free(&r);
			continue;
		}
		struct nym_dir_client_topology t = { 0 };
		rc = nym_epoch_doc_signed_decode(r.body, r.len, &t.doc, &t.sigs, &t.canonical, &t.len, t.digest);
		nym_http_response_free(&r);
		if (rc) {
			add_reason(err, errlen, "%s: not a valid signed document", urls[i]);
			continue;
		}
		if (!trust) {
			/* Unverified: the first document that decodes. */
			snprintf(t.source, sizeof(t.source), "%s", urls[i]);
			*out = t;
			return 0;
		}
		rc = nym_epoch_doc_verify(&t.sigs, t.canonical, t.len, (const uint8_t(*)[32])trust->keys, trust->count,
				    trust->threshold, &t.valid);
		if (rc) {
			add_reason(err, errlen, "%s: epoch %" PRIu64 " carries %zu valid signatures of the %zu required",
				   urls[i], t.doc.epoch, t.valid, trust->threshold);
			nym_dir_client_topology_free(&t);
			continue;
		}
		snprintf(t.source, sizeof(t.source), "%s", urls[i]);
		if (!have || t.doc.epoch > out->doc.epoch || (t.doc.epoch == out->doc.epoch && t.valid > out->valid)) {
			if (have)
				nym_dir_client_topology_free(out);
			*out = t;
			have = true;
		} else {
			nym_dir_client_topology_free(&t);
		}
	}
	if (have) {
		err[0] = '\0';
		return 0;
	}
	if (!err[0])
		say(err, errlen, "no authority given");
	return -EACCES;
}

int nym_dir_client_pick_gateway(const struct nym_epoch_doc *doc, const uint8_t *identity, const struct nym_epoch_doc_gateway_query *q,
			 const struct nym_descriptor_signed **out)
{
	if (identity) {
		int layer;
		const struct nym_descriptor_signed *sd = nym_epoch_doc_find(doc, identity, &layer);
		if (!sd || layer != NYM_LAYER_NONE || (q && (sd->d.roles & q->roles) != q->roles) ||
		    (q && q->amnezia && !sd->d.has_amnezia))
			return -ENOENT;
		*out = sd;
		return 0;
	}
	size_t n = nym_epoch_doc_gateways(doc, q, NULL, 0);
	if (n == 0)
		return -ENOENT;
	const struct nym_descriptor_signed **all = calloc(n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	nym_epoch_doc_gateways(doc, q, all, n);
	uint64_t r;
	nym_random(&r, sizeof(r));
	*out = all[r % n]; /* n is small: the bias is negligible */
	free(all);
	return 0;
}

/* GET with the body signed by a trusted authority (when trust is given). */
static int fetch_signed(const char *base, const char *path, const char *label, size_t max,
			const struct nym_dir_client_trust *trust, int64_t now, long timeout_ms, struct nym_http_response *r,
			struct nym_body_sig *sig, bool *verified, char *err, size_t errlen)
{
	char url[512];
	*verified = false;
	if (nym_http_url(url, sizeof(url), base, path)) {
		say(err, errlen, "%s: URL too long", base);
		return -EINVAL;
	}
	struct nym_http_request req = { .url = url, .max_response = max, .timeout_ms = timeout_ms };
	int rc = nym_http_request(&req, r);
	if (rc) {
		say(err, errlen, "%s: %s", url, nym_http_strerror(rc));
		return rc;
	}
	if (r->status != 200) {
		char why[200];
		server_reason(r, why, sizeof(why));
		say(err, errlen, "%s: %s", url, why);
		nym_http_response_free(r);
		return -EIO;
	}
	memset(sig, 0, sizeof(*sig));
	bool parsed = r->signature[0] && nym_body_sig_parse(r->signature, strlen(r->signature), sig) == 0;
	if (!trust)
		return 0;
	const char *why = NULL;
	if (!parsed)
		why = "no signature";
	else if (!nym_dir_client_trust_has(trust, sig->authority))
		why = "signed by an authority not configured";
	else if (!nym_body_sig_valid(sig, label, r->body, r->len))
		why = "bad signature";
	else if (sig->created < now - NYM_DIR_SIGNED_MAX_AGE_S || sig->created > now + NYM_DIR_SIGNED_MAX_SKEW_S)
		why = "signed too long ago (a replay?) or in the future";
	if (why) {
		say(err, errlen, "%s: %s", url, why);
		nym_http_response_free(r);
		return -EACCES;
	}
	*verified = true;
	return 0;
}

int nym_dir_client_fetch_issuer_keys(const char *url, const struct nym_dir_client_trust *trust, int64_t now, long timeout_ms,
			      struct nym_issuer_keyset *ks, bool *verified, char *err, size_t errlen)
{
	struct nym_http_response r;
	struct nym_body_sig sig;
	nym_issuer_keyset_init(ks);
	int rc = fetch_signed(url, "/v1/issuer-keys", NYM_BODY_LABEL_ISSUER_KEYS, NYM_ISSUER_KEYS_JSON_MAX, trust, now,
			      timeout_ms, &r, &sig, verified, err, errlen);
	if (rc)
		return rc;
	rc = nym_issuer_keyset_from_json(ks, r.body, r.len);
	if (rc)
		say(err, errlen, "%s: not a valid issuer key list", url);
	nym_http_response_free(&r);
	return rc;
}

int nym_dir_client_fetch_spent_filter(const char *url, const struct nym_dir_client_trust *trust, int64_t now, long timeout_ms,
			       uint8_t **data, size_t *len, int64_t *created, char *err, size_t errlen)
{
	struct nym_http_response r;
	struct nym_body_sig sig;
	bool verified;
	int rc = fetch_signed(url, "/v1/spent-filter", NYM_BODY_LABEL_SPENT_FILTER, NYM_DIR_FILTER_MAX, trust, now,
			      timeout_ms, &r, &sig, &verified, err, errlen);
	if (rc)
		return rc;
	*data = (uint8_t *)r.body;
	*len = r.len;
	*created = sig.created;
	return 0;
}

int nym_dir_client_post(const char *url, const char *content_type, const void *body, size_t len, long timeout_ms,
		 int *status, char **answer, char *err, size_t errlen)
{
	struct nym_http_response r;
	struct nym_http_request req = { .method = "POST", .url = url, .content_type = content_type, .body = body,
					.body_len = len, .max_response = 1 << 20, .timeout_ms = timeout_ms };
	int rc = nym_http_request(&req, &r);
	if (rc) {
		say(err, errlen, "%s: %s", url, nym_http_strerror(rc));
		return rc;
	}
	*status = (int)r.status;
	if (r.status != 200)
		server_reason(&r, err, errlen);
	if (answer) {
		*answer = r.body;
		r.body = NULL;
	}
	nym_http_response_free(&r);
	return 0;
}

int nym_dir_client_obtain_ticketbook(const char *url, const struct nym_dir_client_trust *trust, const char *voucher,
			      enum nym_ticket_type type, size_t count, const char *path, int64_t now, long timeout_ms,
			      struct nym_ticketbook **out, char *err, size_t errlen)
{
	struct nym_issuer_keyset ks;
	struct nym_ticketbook *book = NULL;
	char *req = NULL, *answer = NULL, post_url[512];
	size_t req_len;
	bool verified, resumed = false;
	int status, rc;
	if (out)
		*out = NULL;
	nym_issuer_keyset_init(&ks);
	/* A pending book of this voucher: its answer was lost, ask again with the same request. */
	if (nym_ticketbook_load(&book, path) == 0) {
		if (book->state == NYM_TICKETBOOK_PENDING && strcmp(book->voucher, voucher) == 0 && book->type == type) {
			resumed = true;
		} else {
			say(err, errlen, "%s already holds a ticketbook; refusing to overwrite it", path);
			rc = -EEXIST;
			goto out;
		}
	}
	if (!resumed) {
		if ((rc = nym_dir_client_fetch_issuer_keys(url, trust, now, timeout_ms, &ks, &verified, err, errlen)) != 0)
			goto out;
		const struct nym_issuer_keyset_entry *k = nym_issuer_keyset_current(&ks, type, now);
		if (!k) {
			say(err, errlen, "%s: no %s key issues now", url, nym_ticket_type_name(type));
			rc = -ENOKEY;
			goto out;
		}
		if ((rc = nym_ticketbook_create(&book, k->key, type, k->expiry, count, voucher)) != 0) {
			say(err, errlen, "preparing the book failed: %s", strerror(-rc));
			goto out;
		}
		if ((rc = nym_ticketbook_save(book, path)) != 0) {
			say(err, errlen, "%s: cannot write: %s", path, strerror(-rc));
			goto out;
		}
	}
	if ((rc = nym_ticketbook_request(book, &req, &req_len)) != 0 ||
	    (rc = nym_http_url(post_url, sizeof(post_url), url, "/v1/ticketbooks")) != 0) {
		say(err, errlen, "building the request failed: %s", strerror(-rc));
		goto out;
	}
	rc = nym_dir_client_post(post_url, "application/json", req, req_len, timeout_ms, &status, &answer, err, errlen);
	if (rc)
		goto out; /* no answer: the pending book stays for a retry */
	if (status != 200) {
		/* Refused: the voucher was not redeemed by this request, nothing to retry. */
		unlink(path);
		rc = status == 403 ? -EACCES : -EIO;
		goto out;
	}
	rc = nym_ticketbook_finalize(book, answer, strlen(answer));
	if (rc == -EINVAL && book->state == NYM_TICKETBOOK_PENDING) {
		say(err, errlen, "%s: the answer is not an issuance answer; the pending book in %s can be retried", url,
		    path);
		goto out;
	}
	if (rc) {
		say(err, errlen, "%s: the issuer's signatures do not verify (%s); the book is dropped", url, strerror(-rc));
		unlink(path);
		goto out;
	}
	if ((rc = nym_ticketbook_save(book, path)) != 0) {
		say(err, errlen, "%s: cannot write: %s", path, strerror(-rc));
		goto out;
	}
	if (out) {
		*out = book;
		book = NULL;
	}
out:
	if (req)
		nym_memzero(req, req_len);
	free(req);
	free(answer);
	nym_ticketbook_free(book);
	nym_issuer_keyset_clear(&ks);
	return rc;
}
