#include "topology/epoch_doc.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sha256.h"
#include "topology/canonical.h"
#include "util/hex.h"

void nym_epoch_doc_init(struct nym_epoch_doc *doc)
{
	memset(doc, 0, sizeof(*doc));
}

void nym_epoch_doc_free(struct nym_epoch_doc *doc)
{
	for (int l = 0; l < NYM_LAYERS; l++)
		free(doc->layers[l]);
	free(doc->gateways);
	nym_epoch_doc_init(doc);
}

/* Lists are searched with the identity as key: it leads both structures. */
_Static_assert(offsetof(struct nym_descriptor_signed, d) == 0 && offsetof(struct nym_descriptor, identity) == 0,
	       "identity first");

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Every identity once in the whole document. */
static bool identities_unique(const struct nym_epoch_doc *doc)
{
	size_t n = doc->gateway_count, k = 0;
	for (int l = 0; l < NYM_LAYERS; l++)
		n += doc->layer_count[l];
	if (n < 2)
		return true;
	uint8_t(*ids)[32] = malloc(n * 32);
	if (!ids)
		return false;
	for (int l = 0; l < NYM_LAYERS; l++)
		for (size_t i = 0; i < doc->layer_count[l]; i++)
			memcpy(ids[k++], doc->layers[l][i].d.identity, 32);
	for (size_t i = 0; i < doc->gateway_count; i++)
		memcpy(ids[k++], doc->gateways[i].d.identity, 32);
	qsort(ids, n, 32, cmp_id);
	bool ok = true;
	for (size_t i = 1; i < n && ok; i++)
		ok = memcmp(ids[i - 1], ids[i], 32) != 0;
	free(ids);
	return ok;
}

static bool list_ok(const struct nym_descriptor_signed *list, size_t n, bool mixnodes)
{
	for (size_t i = 0; i < n; i++) {
		const struct nym_descriptor *d = &list[i].d;
		if (nym_descriptor_validate(d))
			return false;
		if (mixnodes ? d->roles != NYM_ROLE_MIXNODE : !(d->roles & NYM_ROLES_GATEWAY))
			return false;
		if (i && memcmp(list[i - 1].d.identity, d->identity, 32) >= 0)
			return false;
	}
	return true;
}

int nym_epoch_doc_validate(const struct nym_epoch_doc *doc)
{
	if (doc->epoch < 1 || doc->epoch > (1ull << 53) || doc->valid_from < 0 ||
	    doc->valid_until <= doc->valid_from)
		return -EINVAL;
	if (doc->voter_count < 1 || doc->voter_count > NYM_AUTHORITIES_MAX)
		return -EINVAL;
	for (size_t i = 1; i < doc->voter_count; i++)
		if (memcmp(doc->voters[i - 1], doc->voters[i], 32) >= 0)
			return -EINVAL;
	size_t total = doc->gateway_count;
	for (int l = 0; l < NYM_LAYERS; l++) {
		total += doc->layer_count[l];
		if (!list_ok(doc->layers[l], doc->layer_count[l], true))
			return -EINVAL;
	}
	if (total > NYM_TOPOLOGY_NODES_MAX || !list_ok(doc->gateways, doc->gateway_count, false) ||
	    !identities_unique(doc))
		return -EINVAL;
	return 0;
}

static json_t *node_list(const struct nym_descriptor_signed *list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *e = nym_descriptor_signed_to_json(&list[i]);
		if (!e || json_array_append_new(a, e)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *nym_epoch_doc_to_json(const struct nym_epoch_doc *doc)
{
	if (nym_epoch_doc_validate(doc))
		return NULL;
	char prev[65] = "";
	if (doc->has_previous)
		nym_hex_encode(prev, doc->previous, 32);
	json_t *voters = json_array(), *layers = json_array();
	for (size_t i = 0; voters && i < doc->voter_count; i++)
		json_array_append_new(voters, nym_canonical_b58(doc->voters[i], 32));
	for (int l = 0; layers && l < NYM_LAYERS; l++)
		json_array_append_new(layers, node_list(doc->layers[l], doc->layer_count[l]));
	json_t *gateways = node_list(doc->gateways, doc->gateway_count);
	if (!voters || json_array_size(voters) != doc->voter_count || !layers ||
	    json_array_size(layers) != NYM_LAYERS || !gateways) {
		json_decref(voters);
		json_decref(layers);
		json_decref(gateways);
		return NULL;
	}
	return json_pack("{s:I, s:o, s:o, s:s, s:I, s:I, s:i, s:o}", "epoch", (json_int_t)doc->epoch,
			 "gateways", gateways, "layers", layers, "previous", prev, "valid_from",
			 (json_int_t)doc->valid_from, "valid_until", (json_int_t)doc->valid_until,
			 "version", NYM_EPOCH_DOC_VERSION, "voters", voters);
}

int nym_epoch_doc_encode(const struct nym_epoch_doc *doc, char **out, size_t *len, uint8_t digest[32])
{
	json_t *j = nym_epoch_doc_to_json(doc);
	if (!j)
		return -EINVAL;
	char *bytes;
	size_t n;
	int rc = nym_canonical_encode(j, &bytes, &n);
	json_decref(j);
	if (rc)
		return rc;
	if (digest)
		nym_sha256(digest, bytes, n);
	if (out) {
		*out = bytes;
		*len = n;
	} else {
		free(bytes);
	}
	return 0;
}

static int parse_nodes(const json_t *a, struct nym_descriptor_signed **out, size_t *count)
{
	if (!json_is_array(a) || json_array_size(a) > NYM_TOPOLOGY_NODES_MAX)
		return -EINVAL;
	size_t n = json_array_size(a);
	*count = 0;
	*out = NULL;
	if (n == 0)
		return 0;
	struct nym_descriptor_signed *list = calloc(n, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = nym_descriptor_signed_from_json(json_array_get(a, i), &list[i]);
		if (rc) {
			free(list);
			return rc;
		}
	}
	*out = list;
	*count = n;
	return 0;
}

int nym_epoch_doc_from_json(const json_t *j, struct nym_epoch_doc *doc)
{
	static const char *const names[] = { "epoch", "gateways", "layers", "previous", "valid_from",
					     "valid_until", "version", "voters", NULL };
	nym_epoch_doc_init(doc);
	int64_t epoch, version;
	const char *prev;
	if (!nym_canonical_only_fields(j, names, 8) ||
	    !nym_canonical_get_int(j, "version", NYM_EPOCH_DOC_VERSION, NYM_EPOCH_DOC_VERSION, &version) ||
	    !nym_canonical_get_int(j, "epoch", 1, 1ll << 53, &epoch) ||
	    !nym_canonical_get_int(j, "valid_from", 0, INT64_MAX, &doc->valid_from) ||
	    !nym_canonical_get_int(j, "valid_until", 0, INT64_MAX, &doc->valid_until) ||
	    !(prev = nym_canonical_get_str(j, "previous", 64)))
		return -EINVAL;
	doc->epoch = (uint64_t)epoch;
	if (prev[0]) {
		char again[65];
		if (nym_hex_decode_exact(doc->previous, 32, prev))
			return -EINVAL;
		nym_hex_encode(again, doc->previous, 32);
		if (strcmp(again, prev) != 0) /* lowercase only: one spelling */
			return -EINVAL;
		doc->has_previous = true;
	}
	json_t *voters = json_object_get(j, "voters");
	if (!json_is_array(voters) || json_array_size(voters) > NYM_AUTHORITIES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(voters); i++) {
		if (!nym_canonical_key_value(json_array_get(voters, i), doc->voters[i]))
			return -EINVAL;
	}
	doc->voter_count = json_array_size(voters);
	json_t *layers = json_object_get(j, "layers");
	if (!json_is_array(layers) || json_array_size(layers) != NYM_LAYERS)
		return -EINVAL;
	int rc = 0;
	for (int l = 0; l < NYM_LAYERS && !rc; l++)
		rc = parse_nodes(json_array_get(layers, l), &doc->layers[l], &doc->layer_count[l]);
	if (!rc)
		rc = parse_nodes(json_object_get(j, "gateways"), &doc->gateways, &doc->gateway_count);
	if (!rc)
		rc = nym_epoch_doc_validate(doc);
	if (rc)
		nym_epoch_doc_free(doc);
	return rc;
}

int nym_epoch_doc_signed_encode(const char *doc_bytes, size_t doc_len, const struct nym_epoch_doc_signatures *sigs,
			  char **out, size_t *out_len)
{
	/* {"document":DOC,"signatures":[...]}: keys already in order, so this is canonical too. */
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < sigs->count; i++)
		json_array_append_new(arr, json_pack("{s:o, s:o}", "authority",
						     nym_canonical_b58(sigs->sigs[i].authority, 32), "signature",
						     nym_canonical_b58(sigs->sigs[i].signature, 64)));
	char *sig_text;
	size_t sig_len;
	int rc = arr ? nym_canonical_encode(arr, &sig_text, &sig_len) : -ENOMEM;
	json_decref(arr);
	if (rc)
		return rc;
	static const char head[] = "{\"document\":", mid[] = ",\"signatures\":";
	size_t n = sizeof(head) - 1 + doc_len + sizeof(mid) - 1 + sig_len + 1;
	char *buf = malloc(n + 1);
	if (!buf) {
		free(sig_text);
		return -ENOMEM;
	}
	char *p = buf;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	memcpy(p, doc_bytes, doc_len);
	p += doc_len;
	memcpy(p, mid, sizeof(mid) - 1);
	p += sizeof(mid) - 1;
	memcpy(p, sig_text, sig_len);
	p += sig_len;
	*p++ = '}';
	*p = '\0';
	free(sig_text);
	*out = buf;
	*out_len = n;
	return 0;
}

static int parse_signatures(const json_t *a, struct nym_epoch_doc_signatures *sigs)
{
	static const char *const names[] = { "authority", "signature", NULL };
	memset(sigs, 0, sizeof(*sigs));
	if (!json_is_array(a) || json_array_size(a) > NYM_AUTHORITIES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		struct nym_epoch_doc_signature s;
		if (!nym_canonical_only_fields(e, names, 2) || !nym_canonical_get_key(e, "authority", s.authority) ||
		    !nym_canonical_get_sig(e, "signature", s.signature))
			return -EINVAL;
		for (size_t k = 0; k < sigs->count; k++)
			if (memcmp(sigs->sigs[k].authority, s.authority, 32) == 0)
				return -EINVAL; /* one signature per authority */
		sigs->sigs[sigs->count++] = s;
	}
	return 0;
}

int nym_epoch_doc_signed_decode(const char *body, size_t len, struct nym_epoch_doc *doc,
			  struct nym_epoch_doc_signatures *sigs, char **canonical, size_t *canonical_len,
			  uint8_t digest[32])
{
	static const char *const names[] = { "document", "signatures", NULL };
	json_t *j;
	char *bytes = NULL;
	size_t n;
	nym_epoch_doc_init(doc);
	int rc = nym_canonical_parse(body, len, NYM_EPOCH_DOC_JSON_MAX, &j);
	if (rc)
		return rc;
	if (!nym_canonical_only_fields(j, names, 2) || parse_signatures(json_object_get(j, "signatures"), sigs)) {
		rc = -EINVAL;
		goto out;
	}
	json_t *d = json_object_get(j, "document");
	if (!json_is_object(d)) {
		rc = -EINVAL;
		goto out;
	}
	if ((rc = nym_epoch_doc_from_json(d, doc)) != 0 || (rc = nym_canonical_encode(d, &bytes, &n)) != 0)
		goto out;
	if (digest)
		nym_sha256(digest, bytes, n);
	if (canonical) {
		*canonical = bytes;
		*canonical_len = n;
		bytes = NULL;
	}
out:
	if (rc)
		nym_epoch_doc_free(doc);
	free(bytes);
	json_decref(j);
	return rc;
}

void nym_epoch_doc_sign(const struct nym_ed25519_keypair *kp, const char *doc_bytes, size_t doc_len,
		  struct nym_epoch_doc_signature *out)
{
	memcpy(out->authority, kp->public_key, 32);
	nym_canonical_sign_bytes(kp, NYM_EPOCH_DOC_DOMAIN, doc_bytes, doc_len, out->signature);
}

bool nym_epoch_doc_signature_valid(const struct nym_epoch_doc_signature *s, const char *doc_bytes, size_t doc_len)
{
	return nym_canonical_verify_bytes(s->authority, NYM_EPOCH_DOC_DOMAIN, doc_bytes, doc_len, s->signature);
}

int nym_epoch_doc_signatures_add(struct nym_epoch_doc_signatures *sigs, const struct nym_epoch_doc_signature *s)
{
	for (size_t i = 0; i < sigs->count; i++)
		if (memcmp(sigs->sigs[i].authority, s->authority, 32) == 0) {
			sigs->sigs[i] = *s;
			return 0;
		}
	if (sigs->count == NYM_AUTHORITIES_MAX)
		return -ENOSPC;
	sigs->sigs[sigs->count++] = *s;
	return 0;
}

int nym_epoch_doc_verify(const struct nym_epoch_doc_signatures *sigs, const char *doc_bytes, size_t doc_len,
		   const uint8_t (*trusted)[32], size_t ntrusted, size_t threshold, size_t *valid)
{
	*valid = 0;
	if (threshold == 0 || threshold > ntrusted)
		return -EINVAL;
	for (size_t t = 0; t < ntrusted; t++) {
		bool dup = false;
		for (size_t u = 0; u < t && !dup; u++)
			dup = memcmp(trusted[u], trusted[t], 32) == 0;
		if (dup)
			continue; /* a key listed twice counts once */
		for (size_t i = 0; i < sigs->count; i++)
			if (memcmp(sigs->sigs[i].authority, trusted[t], 32) == 0) {
				if (nym_epoch_doc_signature_valid(&sigs->sigs[i], doc_bytes, doc_len))
					(*valid)++;
				break;
			}
	}
	return *valid >= threshold ? 0 : -EACCES;
}

const struct nym_descriptor_signed *nym_epoch_doc_find(const struct nym_epoch_doc *doc,
						       const uint8_t identity[32], int *layer)
{
	for (int l = 0; l < NYM_LAYERS; l++) {
		const struct nym_descriptor_signed *hit =
			doc->layer_count[l] ? bsearch(identity, doc->layers[l], doc->layer_count[l],
						      sizeof(doc->layers[l][0]), cmp_id)
					    : NULL;
		if (hit) {
			if (layer)
				*layer = l;
			return hit;
		}
	}
	const struct nym_descriptor_signed *hit =
		doc->gateway_count
			? bsearch(identity, doc->gateways, doc->gateway_count, sizeof(doc->gateways[0]), cmp_id)
			: NULL;
	if (layer)
		*layer = NYM_LAYER_NONE;
	return hit;
}

size_t nym_epoch_doc_gateways(const struct nym_epoch_doc *doc, const struct nym_epoch_doc_gateway_query *q,
			      const struct nym_descriptor_signed **out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < doc->gateway_count; i++) {
		const struct nym_descriptor *d = &doc->gateways[i].d;
		if ((d->roles & q->roles) != q->roles)
			continue;
		if (q->country[0] && strcmp(q->country, d->country) != 0)
			continue;
		if (q->amnezia && !d->has_amnezia)
			continue;
		if (n < cap)
			out[n] = &doc->gateways[i];
		n++;
	}
	return n;
}
