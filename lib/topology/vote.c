#include "topology/vote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topology/canonical.h"
#include "util/hex.h"

void nym_vote_free(struct nym_vote *v)
{
	free(v->nodes);
	memset(v, 0, sizeof(*v));
}

static int cmp_desc(const void *a, const void *b)
{
	const struct nym_descriptor_signed *x = a, *y = b;
	return memcmp(x->d.identity, y->d.identity, 32);
}

static int vote_body(const struct nym_vote *v, json_t **out)
{
	if (v->epoch < 1 || v->valid_from < 0 || v->valid_until <= v->valid_from)
		return -EINVAL;
	json_t *nodes = json_array();
	for (size_t i = 0; nodes && i < v->node_count; i++) {
		if (i && memcmp(v->nodes[i - 1].d.identity, v->nodes[i].d.identity, 32) >= 0) {
			json_decref(nodes);
			return -EINVAL;
		}
		json_t *e = nym_descriptor_signed_to_json(&v->nodes[i]);
		if (!e || json_array_append_new(nodes, e)) {
			json_decref(nodes);
			return -EINVAL;
		}
	}
	char prev[65] = "";
	if (v->has_previous)
		nym_hex_encode(prev, v->previous, 32);
	*out = nodes ? json_pack("{s:o, s:I, s:o, s:s, s:I, s:I, s:i}", "authority",
				 nym_canonical_b58(v->authority, 32), "epoch", (json_int_t)v->epoch, "nodes",
				 nodes, "previous", prev, "valid_from", (json_int_t)v->valid_from,
				 "valid_until", (json_int_t)v->valid_until, "version", NYM_VOTE_VERSION)
		     : NULL;
	return *out ? 0 : -ENOMEM;
}

int nym_vote_sign(struct nym_vote *v, const struct nym_ed25519_keypair *kp)
{
	memcpy(v->authority, kp->public_key, 32);
	if (v->node_count)
		qsort(v->nodes, v->node_count, sizeof(v->nodes[0]), cmp_desc);
	json_t *body;
	int rc = vote_body(v, &body);
	if (rc)
		return rc;
	rc = nym_canonical_sign(kp, NYM_VOTE_DOMAIN, body, v->signature);
	json_decref(body);
	return rc;
}

json_t *nym_vote_to_json(const struct nym_vote *v)
{
	json_t *body;
	if (vote_body(v, &body))
		return NULL;
	return json_pack("{s:o, s:o}", "signature", nym_canonical_b58(v->signature, 64), "vote", body);
}

int nym_vote_from_json(const json_t *j, struct nym_vote *v)
{
	static const char *const env_names[] = { "signature", "vote", NULL };
	static const char *const names[] = { "authority", "epoch", "nodes", "previous", "valid_from",
					     "valid_until", "version", NULL };
	memset(v, 0, sizeof(*v));
	json_t *b = json_object_get(j, "vote");
	int64_t epoch, version;
	const char *prev;
	if (!nym_canonical_only_fields(j, env_names, 2) || !nym_canonical_get_sig(j, "signature", v->signature) ||
	    !nym_canonical_only_fields(b, names, 7) || !nym_canonical_get_key(b, "authority", v->authority) ||
	    !nym_canonical_get_int(b, "version", NYM_VOTE_VERSION, NYM_VOTE_VERSION, &version) ||
	    !nym_canonical_get_int(b, "epoch", 1, 1ll << 53, &epoch) ||
	    !nym_canonical_get_int(b, "valid_from", 0, INT64_MAX, &v->valid_from) ||
	    !nym_canonical_get_int(b, "valid_until", v->valid_from + 1, INT64_MAX, &v->valid_until) ||
	    !(prev = nym_canonical_get_str(b, "previous", 64)))
		return -EINVAL;
	v->epoch = (uint64_t)epoch;
	if (prev[0]) {
		char again[65];
		if (nym_hex_decode_exact(v->previous, 32, prev))
			return -EINVAL;
		nym_hex_encode(again, v->previous, 32);
		if (strcmp(again, prev) != 0)
			return -EINVAL;
		v->has_previous = true;
	}
	int rc = nym_canonical_verify(v->authority, NYM_VOTE_DOMAIN, b, v->signature);
	if (rc)
		return rc;
	json_t *nodes = json_object_get(b, "nodes");
	if (!json_is_array(nodes) || json_array_size(nodes) > NYM_TOPOLOGY_NODES_MAX)
		return -EINVAL;
	size_t n = json_array_size(nodes);
	if (n && !(v->nodes = calloc(n, sizeof(v->nodes[0]))))
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = nym_descriptor_signed_from_json(json_array_get(nodes, i), &v->nodes[i]);
		if (!rc && i && memcmp(v->nodes[i - 1].d.identity, v->nodes[i].d.identity, 32) >= 0)
			rc = -EINVAL;
	}
	v->node_count = n;
	if (rc)
		nym_vote_free(v);
	return rc;
}

int nym_vote_decode(const char *body, size_t len, struct nym_vote *v)
{
	json_t *j;
	memset(v, 0, sizeof(*v));
	int rc = nym_canonical_parse(body, len, NYM_VOTE_JSON_MAX, &j);
	if (rc)
		return rc;
	rc = nym_vote_from_json(j, v);
	json_decref(j);
	return rc;
}

void nym_vote_consensus_previous(const struct nym_vote *const *votes, size_t n, bool *has, uint8_t digest[32])
{
	size_t best_count = 0;
	*has = false;
	for (size_t i = 0; i < n; i++) {
		if (!votes[i]->has_previous)
			continue;
		size_t count = 0;
		for (size_t j = 0; j < n; j++)
			count += votes[j]->has_previous && memcmp(votes[j]->previous, votes[i]->previous, 32) == 0;
		if (count > best_count || (count == best_count && memcmp(votes[i]->previous, digest, 32) < 0)) {
			best_count = count;
			memcpy(digest, votes[i]->previous, 32);
			*has = true;
		}
	}
}

/* One listing of a node by one vote. */
struct listing {
	const struct nym_descriptor_signed *sd;
};

static int cmp_listing(const void *a, const void *b)
{
	const struct nym_descriptor_signed *x = ((const struct listing *)a)->sd, *y = ((const struct listing *)b)->sd;
	int c = memcmp(x->d.identity, y->d.identity, 32);
	if (c)
		return c;
	/* Latest description first, then the smaller signature: the same pick everywhere. */
	if (x->d.published != y->d.published)
		return x->d.published > y->d.published ? -1 : 1;
	return memcmp(x->signature, y->signature, sizeof(x->signature));
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

int nym_vote_consensus_build(const struct nym_vote *const *votes, size_t n, const struct nym_epoch_doc *previous,
			const uint8_t *previous_digest, struct nym_epoch_doc *out)
{
	nym_epoch_doc_init(out);
	if (n == 0 || n > NYM_AUTHORITIES_MAX || (previous && !previous_digest))
		return -EINVAL;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (votes[i]->epoch != votes[0]->epoch || votes[i]->valid_from != votes[0]->valid_from ||
		    votes[i]->valid_until != votes[0]->valid_until)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (memcmp(votes[i]->authority, votes[j]->authority, 32) == 0)
				return -EINVAL;
		memcpy(out->voters[i], votes[i]->authority, 32);
		total += votes[i]->node_count;
	}
	out->voter_count = n;
	qsort(out->voters, n, 32, cmp_key);
	out->epoch = votes[0]->epoch;
	out->valid_from = votes[0]->valid_from;
	out->valid_until = votes[0]->valid_until;
	if (previous_digest) {
		out->has_previous = true;
		memcpy(out->previous, previous_digest, 32);
	}

	int rc = -ENOMEM;
	struct listing *all = total ? calloc(total, sizeof(*all)) : NULL;
	struct nym_descriptor_signed *mix = total ? calloc(total, sizeof(*mix)) : NULL;
	uint8_t(*ids)[32] = total ? calloc(total, 32) : NULL;
	int8_t *prev_layer = total ? calloc(total, 1) : NULL;
	uint8_t *layer = total ? calloc(total, 1) : NULL;
	if (total && (!all || !mix || !ids || !prev_layer || !layer))
		goto out;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < votes[i]->node_count; j++)
			all[k++].sd = &votes[i]->nodes[j];
	if (total)
		qsort(all, total, sizeof(*all), cmp_listing);
	if (total && !(out->gateways = calloc(total, sizeof(out->gateways[0]))))
		goto out;

	size_t nmix = 0;
	for (size_t i = 0; i < total;) {
		size_t j = i + 1;
		while (j < total && memcmp(all[j].sd->d.identity, all[i].sd->d.identity, 32) == 0)
			j++;
		/* A majority of the votes; the first of the group is the chosen description. */
		if (2 * (j - i) > n && nmix + out->gateway_count < NYM_TOPOLOGY_NODES_MAX) {
			const struct nym_descriptor_signed *sd = all[i].sd;
			if (sd->d.roles == NYM_ROLE_MIXNODE)
				mix[nmix++] = *sd;
			else
				out->gateways[out->gateway_count++] = *sd;
		}
		i = j;
	}

	uint8_t seed[32];
	nym_layers_seed(out->epoch, previous_digest, seed);
	for (size_t i = 0; i < nmix; i++) {
		int l = NYM_LAYER_NONE;
		memcpy(ids[i], mix[i].d.identity, 32);
		if (previous && nym_epoch_doc_find(previous, mix[i].d.identity, &l) == NULL)
			l = NYM_LAYER_NONE;
		prev_layer[i] = (int8_t)l;
	}
	rc = nym_layers_assign(seed, (const uint8_t(*)[32])ids, nmix, prev_layer, layer);
	if (rc < 0)
		goto out;
	for (int l = 0; l < NYM_LAYERS; l++) {
		size_t count = 0;
		for (size_t i = 0; i < nmix; i++)
			count += layer[i] == l;
		if (count && !(out->layers[l] = calloc(count, sizeof(out->layers[l][0])))) {
			rc = -ENOMEM;
			goto out;
		}
		/* mix[] is in identity order, so each layer is too. */
		for (size_t i = 0; i < nmix; i++)
			if (layer[i] == l)
				out->layers[l][out->layer_count[l]++] = mix[i];
	}
	rc = nym_epoch_doc_validate(out);
out:
	if (rc)
		nym_epoch_doc_free(out);
	free(all);
	free(mix);
	free(ids);
	free(prev_layer);
	free(layer);
	return rc;
}
