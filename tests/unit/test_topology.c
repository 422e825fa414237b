/* The directory's pure layer: canonical JSON, self-descriptions, layer assignment, votes,
 * the consensus, the epoch document and its k-of-n signatures, body signatures. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../support/topofix.h"
#include "crypto/secret.h"
#include "topology/body_sig.h"
#include "topology/canonical.h"
#include "topology/descriptor.h"
#include "topology/epoch_doc.h"
#include "topology/layers.h"
#include "topology/vote.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(topology, .init = setup, .timeout = 60);

static char *canon(const char *text)
{
	json_t *j;
	if (nym_canonical_parse(text, strlen(text), 1 << 20, &j))
		return NULL;
	char *out;
	size_t len;
	int rc = nym_canonical_encode(j, &out, &len);
	json_decref(j);
	cr_assert_eq(rc, 0);
	cr_assert_eq(strlen(out), len);
	return out;
}

Test(topology, canonical_form)
{
	char *c = canon(" { \"b\" : [ 3 , -1, {\"z\":1, \"a\":\"x y\"} ], \"a\": 0, \"B\": \"\" } ");
	cr_assert_str_eq(c, "{\"B\":\"\",\"a\":0,\"b\":[3,-1,{\"a\":\"x y\",\"z\":1}]}");
	free(c);
	c = canon("{\"n\":-0, \"m\":9223372036854775807}");
	cr_assert_str_eq(c, "{\"m\":9223372036854775807,\"n\":0}");
	free(c);
	/* Outside the subset: floats, booleans, null, escapes, non-ASCII, duplicates, arrays at
	 * the top, too deep, too big an integer. */
	const char *bad[] = { "{\"a\":1.0}", "{\"a\":1e3}", "{\"a\":true}", "{\"a\":null}",
			      "{\"a\":\"q\\\"q\"}", "{\"a\":\"b\\\\s\"}", "{\"a\":\"\\n\"}", "{\"a\":\"\xc3\xa9\"}",
			      "{\"\\u0001\":1}", "{\"a\":1,\"a\":2}", "[1]", "{\"a\":99999999999999999999}",
			      "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}", "{\"a\":1} x", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(canon(bad[i]), "accepted %s", bad[i]);
	json_t *j;
	cr_assert_eq(nym_canonical_parse("{\"a\":1}", 7, 6, &j), -EMSGSIZE);
	/* Encoding refuses what parsing refuses. */
	json_t *f = json_pack("{s:f}", "a", 1.5);
	char *out;
	size_t len;
	cr_assert_eq(nym_canonical_encode(f, &out, &len), -EINVAL);
	json_decref(f);
}

Test(topology, canonical_signatures)
{
	struct nym_ed25519_keypair kp;
	topofix_identity(1, &kp);
	json_t *a = json_pack("{s:i, s:s}", "x", 1, "y", "z");
	json_t *b = json_pack("{s:s, s:i}", "y", "z", "x", 1); /* same value, other order */
	uint8_t sig[64];
	cr_assert_eq(nym_canonical_sign(&kp, "dom", a, sig), 0);
	cr_assert_eq(nym_canonical_verify(kp.public_key, "dom", b, sig), 0);
	cr_assert_eq(nym_canonical_verify(kp.public_key, "dom2", b, sig), -EBADMSG, "domain separation");
	json_object_set_new(b, "x", json_integer(2));
	cr_assert_eq(nym_canonical_verify(kp.public_key, "dom", b, sig), -EBADMSG);
	json_decref(a);
	json_decref(b);
}

Test(topology, descriptor_round_trip)
{
	unsigned roles[] = { NYM_ROLE_MIXNODE, NYM_ROLE_ENTRY, NYM_ROLE_ENTRY | NYM_ROLE_EXIT,
			     NYM_ROLE_ENTRY | NYM_ROLE_EXIT | NYM_ROLE_WIREGUARD };
	for (size_t r = 0; r < 4; r++) {
		struct nym_descriptor_signed sd, back;
		topofix_signed(5, roles[r], 1700000000, &sd);
		json_t *j = nym_descriptor_signed_to_json(&sd);
		cr_assert_not_null(j);
		char *text, *again;
		size_t len, len2;
		cr_assert_eq(nym_canonical_encode(j, &text, &len), 0);
		cr_assert_eq(nym_descriptor_signed_decode(text, len, &back), 0, "%s", text);
		cr_assert_eq(back.d.roles, roles[r]);
		json_t *j2 = nym_descriptor_signed_to_json(&back);
		cr_assert_eq(nym_canonical_encode(j2, &again, &len2), 0);
		cr_assert_str_eq(again, text, "a parsed description re-encodes to its bytes");
		/* Any change breaks the signature or the format. */
		char *p = strstr(text, "1789");
		cr_assert_not_null(p);
		p[3] = '0';
		cr_assert_eq(nym_descriptor_signed_decode(text, len, &back), -EBADMSG);
		free(text);
		free(again);
		json_decref(j);
		json_decref(j2);
	}
}

Test(topology, descriptor_rules)
{
	struct nym_descriptor d;
	struct nym_ed25519_keypair kp, other;
	struct nym_descriptor_signed sd;
	topofix_identity(3, &kp);
	topofix_identity(4, &other);
	topofix_descriptor(3, NYM_ROLE_MIXNODE, 1, &d);
	cr_assert_eq(nym_descriptor_sign(&d, &other, &sd), -EINVAL, "signed by someone else");
	struct nym_descriptor bad = d;
	bad.roles = NYM_ROLE_MIXNODE | NYM_ROLE_ENTRY;
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	bad = d;
	bad.roles = NYM_ROLE_WIREGUARD;
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	bad = d;
	bad.roles = NYM_ROLE_ENTRY | NYM_ROLE_WIREGUARD; /* no port */
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	bad = d;
	strcpy(bad.addresses[0], "010.1.1.1");
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL, "one spelling per address");
	bad = d;
	strcpy(bad.addresses[0], "2001:DB8::1");
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	strcpy(bad.addresses[0], "2001:db8::1");
	cr_assert_eq(nym_descriptor_validate(&bad), 0);
	bad = d;
	bad.sphinx[1].rotation = bad.sphinx[0].rotation;
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	bad = d;
	strcpy(bad.country, "de");
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	bad = d;
	bad.mix_port = 0;
	cr_assert_eq(nym_descriptor_validate(&bad), -EINVAL);
	/* Unknown fields and a role listed twice are refused by the parser. */
	cr_assert_eq(nym_descriptor_sign(&d, &kp, &sd), 0);
	json_t *j = nym_descriptor_signed_to_json(&sd);
	json_object_set_new(json_object_get(j, "description"), "extra", json_integer(1));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &sd), -EINVAL);
	json_object_del(json_object_get(j, "description"), "extra");
	json_array_append_new(json_object_get(json_object_get(j, "description"), "roles"), json_string("mixnode"));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &sd), -EINVAL);
	json_decref(j);
}

static void sizes(const uint8_t *layer, size_t n, size_t out[3])
{
	out[0] = out[1] = out[2] = 0;
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(layer[i], 3);
		out[layer[i]]++;
	}
}

static void make_ids(uint8_t (*ids)[32], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(ids[i], 0, 32);
		ids[i][0] = (uint8_t)i;
		ids[i][1] = (uint8_t)(i >> 8);
	}
}

Test(topology, layers_balanced_and_deterministic)
{
	uint8_t ids[200][32], layer[200], again[200], seed[32];
	make_ids(ids, 200);
	for (size_t n = 1; n <= 200; n += (n < 20 ? 1 : 17)) {
		nym_layers_seed(n, NULL, seed);
		cr_assert_eq(nym_layers_assign(seed, (const uint8_t(*)[32])ids, n, NULL, layer), 0);
		size_t s[3];
		sizes(layer, n, s);
		size_t lo = s[0] < s[1] ? (s[0] < s[2] ? s[0] : s[2]) : (s[1] < s[2] ? s[1] : s[2]);
		size_t hi = s[0] > s[1] ? (s[0] > s[2] ? s[0] : s[2]) : (s[1] > s[2] ? s[1] : s[2]);
		cr_assert_leq(hi - lo, 1, "n=%zu: %zu/%zu/%zu", n, s[0], s[1], s[2]);
		cr_assert_eq(nym_layers_assign(seed, (const uint8_t(*)[32])ids, n, NULL, again), 0);
		cr_assert_arr_eq(layer, again, n, "same inputs, same layers");
	}
	/* The order the identities come in does not matter. */
	uint8_t rev[30][32], rev_layer[30];
	for (size_t i = 0; i < 30; i++)
		memcpy(rev[i], ids[29 - i], 32);
	nym_layers_seed(9, NULL, seed);
	nym_layers_assign(seed, (const uint8_t(*)[32])ids, 30, NULL, layer);
	nym_layers_assign(seed, (const uint8_t(*)[32])rev, 30, NULL, rev_layer);
	for (size_t i = 0; i < 30; i++)
		cr_assert_eq(layer[i], rev_layer[29 - i]);
}

Test(topology, layers_change_across_epochs)
{
	enum { N = 31 };
	uint8_t ids[N][32], layer[N], seed[32], digest[32];
	int8_t prev[N];
	make_ids(ids, N);
	nym_layers_seed(1, NULL, seed);
	cr_assert_eq(nym_layers_assign(seed, (const uint8_t(*)[32])ids, N, NULL, layer), 0);
	for (uint64_t epoch = 2; epoch < 40; epoch++) {
		for (size_t i = 0; i < N; i++)
			prev[i] = (int8_t)layer[i];
		memset(digest, (int)epoch, 32);
		nym_layers_seed(epoch, digest, seed);
		int kept = nym_layers_assign(seed, (const uint8_t(*)[32])ids, N, prev, layer);
		cr_assert_eq(kept, 0, "epoch %llu: %d nodes kept their layer", (unsigned long long)epoch, kept);
		for (size_t i = 0; i < N; i++)
			cr_assert_neq(layer[i], prev[i]);
		size_t s[3];
		sizes(layer, N, s);
		cr_assert(s[0] >= 10 && s[1] >= 10 && s[2] >= 10);
	}
	/* New nodes join and others leave: still balanced, returning nodes still move. */
	for (size_t i = 0; i < N; i++)
		prev[i] = i % 4 == 0 ? NYM_LAYER_NONE : (int8_t)layer[i];
	nym_layers_seed(50, NULL, seed);
	cr_assert_eq(nym_layers_assign(seed, (const uint8_t(*)[32])ids, N, prev, layer), 0);
}

Test(topology, layers_keep_only_what_they_must)
{
	/* Everybody was on layer 0: a third must stay there, nobody else. */
	enum { N = 12 };
	uint8_t ids[N][32], layer[N], seed[32];
	int8_t prev[N];
	make_ids(ids, N);
	memset(prev, 0, sizeof(prev));
	nym_layers_seed(3, NULL, seed);
	cr_assert_eq(nym_layers_assign(seed, (const uint8_t(*)[32])ids, N, prev, layer), 4);
	size_t s[3];
	sizes(layer, N, s);
	cr_assert(s[0] == 4 && s[1] == 4 && s[2] == 4);
	/* Two nodes, both previously on layer 1: the empty layer can be layer 1. */
	prev[0] = prev[1] = 1;
	cr_assert_eq(nym_layers_assign(seed, (const uint8_t(*)[32])ids, 2, prev, layer), 0);
	cr_assert(layer[0] != 1 && layer[1] != 1 && layer[0] != layer[1]);
	/* Seeds differ per epoch, so do the draws. */
	uint8_t s1[32], s2[32], l1[N], l2[N];
	nym_layers_seed(10, NULL, s1);
	nym_layers_seed(11, NULL, s2);
	nym_layers_assign(s1, (const uint8_t(*)[32])ids, N, NULL, l1);
	nym_layers_assign(s2, (const uint8_t(*)[32])ids, N, NULL, l2);
	cr_assert(memcmp(l1, l2, N) != 0);
}

static void free_votes(struct nym_vote *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nym_vote_free(&v[i]);
}

static char *build_doc(const struct nym_vote *const *votes, size_t n, const struct nym_epoch_doc *prev,
		       const uint8_t *prev_digest, struct nym_epoch_doc *doc, size_t *len)
{
	char *bytes;
	cr_assert_eq(nym_vote_consensus_build(votes, n, prev, prev_digest, doc), 0);
	cr_assert_eq(nym_epoch_doc_encode(doc, &bytes, len, NULL), 0);
	return bytes;
}

Test(topology, consensus_majority_and_order)
{
	/* Authority 0 sees nodes 1-9, authority 1 sees 1-8 and 10, authority 2 sees 2-9. */
	unsigned a0[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, a1[] = { 1, 2, 3, 4, 5, 6, 7, 8, 10 },
		 a2[] = { 2, 3, 4, 5, 6, 7, 8, 9 };
	struct nym_vote v[3];
	topofix_vote(0, 5, a0, 9, NULL, &v[0]);
	topofix_vote(1, 5, a1, 9, NULL, &v[1]);
	topofix_vote(2, 5, a2, 8, NULL, &v[2]);
	const struct nym_vote *order1[] = { &v[0], &v[1], &v[2] }, *order2[] = { &v[2], &v[0], &v[1] };
	struct nym_epoch_doc d1, d2;
	size_t l1, l2;
	char *b1 = build_doc(order1, 3, NULL, NULL, &d1, &l1);
	char *b2 = build_doc(order2, 3, NULL, NULL, &d2, &l2);
	cr_assert_str_eq(b1, b2, "the same votes give the same bytes");
	size_t total = d1.layer_count[0] + d1.layer_count[1] + d1.layer_count[2];
	cr_assert_eq(total, 9, "nodes 1-9 have a majority, node 10 does not");
	struct nym_ed25519_keypair k10;
	topofix_identity(10, &k10);
	cr_assert_null(nym_epoch_doc_find(&d1, k10.public_key, NULL));
	cr_assert_eq(d1.voter_count, 3);
	cr_assert_eq(d1.epoch, 5);
	cr_assert_eq(d1.valid_from, 300);
	for (int l = 0; l < 3; l++)
		cr_assert_eq(d1.layer_count[l], 3);
	/* Two votes: a node needs both. */
	struct nym_epoch_doc d3;
	size_t l3;
	char *b3 = build_doc(order1, 2, NULL, NULL, &d3, &l3);
	cr_assert_eq(d3.layer_count[0] + d3.layer_count[1] + d3.layer_count[2], 8);
	/* Votes for different epochs or from one authority twice are refused. */
	struct nym_vote other;
	topofix_vote(2, 6, a2, 8, NULL, &other);
	const struct nym_vote *mixed[] = { &v[0], &other }, *twice[] = { &v[0], &v[0] };
	struct nym_epoch_doc bad;
	cr_assert_eq(nym_vote_consensus_build(mixed, 2, NULL, NULL, &bad), -EINVAL);
	cr_assert_eq(nym_vote_consensus_build(twice, 2, NULL, NULL, &bad), -EINVAL);
	nym_vote_free(&other);
	free(b1);
	free(b2);
	free(b3);
	nym_epoch_doc_free(&d1);
	nym_epoch_doc_free(&d2);
	nym_epoch_doc_free(&d3);
	free_votes(v, 3);
}

Test(topology, consensus_latest_description_and_gateways)
{
	struct nym_vote v[2];
	unsigned nodes[] = { 1, 2, 3 };
	topofix_vote(0, 5, nodes, 3, NULL, &v[0]);
	topofix_vote(1, 5, nodes, 3, NULL, &v[1]);
	/* Authority 1 has a newer description of node 2 (new Sphinx key) and node 3 as gateway. */
	struct nym_ed25519_keypair kp, auth;
	struct nym_descriptor d;
	topofix_identity(2, &kp);
	topofix_descriptor(2, NYM_ROLE_MIXNODE, 2000, &d);
	d.sphinx[1].key[0] ^= 1;
	struct nym_ed25519_keypair k3;
	topofix_identity(3, &k3);
	for (size_t i = 0; i < 3; i++) {
		if (memcmp(v[1].nodes[i].d.identity, kp.public_key, 32) == 0)
			cr_assert_eq(nym_descriptor_sign(&d, &kp, &v[1].nodes[i]), 0);
		for (size_t a = 0; a < 2; a++)
			if (memcmp(v[a].nodes[i].d.identity, k3.public_key, 32) == 0)
				topofix_signed(3, NYM_ROLE_ENTRY | NYM_ROLE_EXIT, 3000, &v[a].nodes[i]);
	}
	topofix_identity(201, &auth);
	cr_assert_eq(nym_vote_sign(&v[1], &auth), 0);
	topofix_identity(200, &auth);
	cr_assert_eq(nym_vote_sign(&v[0], &auth), 0);
	const struct nym_vote *votes[] = { &v[0], &v[1] };
	struct nym_epoch_doc doc;
	cr_assert_eq(nym_vote_consensus_build(votes, 2, NULL, NULL, &doc), 0);
	const struct nym_descriptor_signed *n2 = nym_epoch_doc_find(&doc, kp.public_key, NULL);
	cr_assert_not_null(n2);
	cr_assert_eq(n2->d.published, 2000);
	cr_assert_eq(doc.gateway_count, 1);
	struct nym_epoch_doc_gateway_query q = { .roles = NYM_ROLE_EXIT, .country = "DE" };
	const struct nym_descriptor_signed *found[4];
	cr_assert_eq(nym_epoch_doc_gateways(&doc, &q, found, 4), 1, "node 3 is in DE");
	strcpy(q.country, "CH");
	cr_assert_eq(nym_epoch_doc_gateways(&doc, &q, found, 4), 0);
	q.roles = NYM_ROLE_WIREGUARD;
	q.country[0] = 0;
	cr_assert_eq(nym_epoch_doc_gateways(&doc, &q, found, 4), 0);
	nym_epoch_doc_free(&doc);
	free_votes(v, 2);
}

Test(topology, consensus_avoids_previous_layers)
{
	unsigned nodes[12];
	for (unsigned i = 0; i < 12; i++)
		nodes[i] = i + 1;
	struct nym_vote v1, v2;
	topofix_vote(0, 5, nodes, 12, NULL, &v1);
	const struct nym_vote *a[] = { &v1 };
	struct nym_epoch_doc d5, d6;
	uint8_t digest5[32];
	cr_assert_eq(nym_vote_consensus_build(a, 1, NULL, NULL, &d5), 0);
	cr_assert_eq(nym_epoch_doc_encode(&d5, NULL, NULL, digest5), 0);
	topofix_vote(0, 6, nodes, 12, digest5, &v2);
	bool has;
	uint8_t chosen[32];
	const struct nym_vote *b[] = { &v2 };
	nym_vote_consensus_previous(b, 1, &has, chosen);
	cr_assert(has);
	cr_assert_arr_eq(chosen, digest5, 32);
	cr_assert_eq(nym_vote_consensus_build(b, 1, &d5, chosen, &d6), 0);
	cr_assert(d6.has_previous);
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; i < d6.layer_count[l]; i++) {
			int before;
			cr_assert_not_null(nym_epoch_doc_find(&d5, d6.layers[l][i].d.identity, &before));
			cr_assert_neq(before, l, "a node kept its layer");
		}
	nym_epoch_doc_free(&d5);
	nym_epoch_doc_free(&d6);
	nym_vote_free(&v1);
	nym_vote_free(&v2);
}

Test(topology, consensus_previous_choice)
{
	struct nym_vote v[3];
	uint8_t x[32], y[32], got[32];
	bool has;
	memset(x, 0xaa, 32);
	memset(y, 0x11, 32);
	unsigned none[] = { 1 };
	topofix_vote(0, 5, none, 1, x, &v[0]);
	topofix_vote(1, 5, none, 1, y, &v[1]);
	topofix_vote(2, 5, none, 1, NULL, &v[2]);
	const struct nym_vote *all[] = { &v[0], &v[1], &v[2] };
	nym_vote_consensus_previous(all, 3, &has, got);
	cr_assert(has);
	cr_assert_arr_eq(got, y, 32, "a tie goes to the smaller digest");
	nym_vote_free(&v[2]);
	topofix_vote(2, 5, none, 1, x, &v[2]);
	nym_vote_consensus_previous(all, 3, &has, got);
	cr_assert_arr_eq(got, x, 32, "the majority wins");
	const struct nym_vote *no_prev[] = { &v[2] };
	nym_vote_free(&v[2]);
	topofix_vote(2, 5, none, 1, NULL, &v[2]);
	nym_vote_consensus_previous(no_prev, 1, &has, got);
	cr_assert(!has);
	free_votes(v, 3);
}

Test(topology, vote_round_trip_and_tamper)
{
	unsigned nodes[] = { 4, 2, 9 };
	struct nym_vote v, back;
	topofix_vote(1, 7, nodes, 3, NULL, &v);
	json_t *j = nym_vote_to_json(&v);
	char *text;
	size_t len;
	cr_assert_eq(nym_canonical_encode(j, &text, &len), 0);
	cr_assert_eq(nym_vote_decode(text, len, &back), 0);
	cr_assert_eq(back.node_count, 3);
	cr_assert_eq(back.epoch, 7);
	nym_vote_free(&back);
	char *p = strstr(text, "\"epoch\":7");
	p[8] = '8';
	cr_assert_eq(nym_vote_decode(text, len, &back), -EBADMSG);
	free(text);
	json_decref(j);
	nym_vote_free(&v);
}

Test(topology, document_k_of_n)
{
	unsigned nodes[] = { 1, 2, 3, 4, 5, 6 };
	struct nym_vote v[3];
	for (unsigned a = 0; a < 3; a++)
		topofix_vote(a, 9, nodes, 6, NULL, &v[a]);
	const struct nym_vote *votes[] = { &v[0], &v[1], &v[2] };
	struct nym_epoch_doc doc, parsed;
	size_t len;
	char *bytes = build_doc(votes, 3, NULL, NULL, &doc, &len);
	struct nym_ed25519_keypair auth[4];
	uint8_t trusted[3][32];
	struct nym_epoch_doc_signatures sigs = { 0 };
	for (unsigned a = 0; a < 4; a++)
		topofix_identity(200 + a, &auth[a]);
	for (unsigned a = 0; a < 3; a++) {
		memcpy(trusted[a], auth[a].public_key, 32);
		struct nym_epoch_doc_signature s;
		nym_epoch_doc_sign(&auth[a], bytes, len, &s);
		cr_assert_eq(nym_epoch_doc_signatures_add(&sigs, &s), 0);
	}
	size_t valid;
	cr_assert_eq(nym_epoch_doc_verify(&sigs, bytes, len, (const uint8_t(*)[32])trusted, 3, 3, &valid), 0);
	cr_assert_eq(valid, 3);
	/* The signed envelope parses back to the same bytes and verifies 2 of 3. */
	char *env, *canonical;
	size_t env_len, clen;
	uint8_t digest[32], digest2[32];
	struct nym_epoch_doc_signatures got;
	cr_assert_eq(nym_epoch_doc_signed_encode(bytes, len, &sigs, &env, &env_len), 0);
	cr_assert_eq(nym_epoch_doc_signed_decode(env, env_len, &parsed, &got, &canonical, &clen, digest), 0);
	cr_assert_eq(clen, len);
	cr_assert_arr_eq(canonical, bytes, len);
	cr_assert_eq(nym_epoch_doc_encode(&doc, NULL, NULL, digest2), 0);
	cr_assert_arr_eq(digest, digest2, 32);
	cr_assert_eq(nym_epoch_doc_verify(&got, canonical, clen, (const uint8_t(*)[32])trusted, 3, 2, &valid), 0);
	/* Signed by one: refused at 2 of 3. Signatures by an untrusted key do not count. */
	struct nym_epoch_doc_signatures one = { 0 };
	struct nym_epoch_doc_signature s;
	nym_epoch_doc_signatures_add(&one, &sigs.sigs[1]);
	nym_epoch_doc_sign(&auth[3], bytes, len, &s);
	nym_epoch_doc_signatures_add(&one, &s);
	cr_assert_eq(nym_epoch_doc_verify(&one, bytes, len, (const uint8_t(*)[32])trusted, 3, 2, &valid), -EACCES);
	cr_assert_eq(valid, 1);
	/* A key configured twice counts once. */
	uint8_t twice[2][32];
	memcpy(twice[0], trusted[1], 32);
	memcpy(twice[1], trusted[1], 32);
	cr_assert_eq(nym_epoch_doc_verify(&one, bytes, len, (const uint8_t(*)[32])twice, 2, 2, &valid), -EACCES);
	/* Changed bytes: no signature holds. */
	bytes[len - 2] ^= 1;
	cr_assert_eq(nym_epoch_doc_verify(&sigs, bytes, len, (const uint8_t(*)[32])trusted, 3, 1, &valid), -EACCES);
	cr_assert_eq(valid, 0);
	cr_assert_eq(nym_epoch_doc_verify(&sigs, bytes, len, (const uint8_t(*)[32])trusted, 3, 0, &valid), -EINVAL);
	cr_assert_eq(nym_epoch_doc_verify(&sigs, bytes, len, (const uint8_t(*)[32])trusted, 3, 4, &valid), -EINVAL);
	/* A signature entry repeated for one authority is malformed. */
	char *dup = strstr(env, "\"signatures\":[");
	cr_assert_not_null(dup);
	free(env);
	sigs.sigs[1] = sigs.sigs[0];
	cr_assert_eq(nym_epoch_doc_signed_encode(canonical, clen, &sigs, &env, &env_len), 0);
	cr_assert_eq(nym_epoch_doc_signed_decode(env, env_len, &parsed, &got, NULL, NULL, NULL), -EINVAL);
	free(env);
	free(canonical);
	free(bytes);
	nym_epoch_doc_free(&doc);
	nym_epoch_doc_free(&parsed);
	free_votes(v, 3);
}

Test(topology, body_signatures)
{
	struct nym_ed25519_keypair kp;
	topofix_identity(7, &kp);
	struct nym_body_sig s, back;
	const char body[] = "{\"version\":1,\"keys\":[]}";
	nym_body_sig_make(&kp, NYM_BODY_LABEL_ISSUER_KEYS, 1700000000, body, sizeof(body) - 1, &s);
	char text[NYM_BODY_SIG_TEXT_MAX];
	nym_body_sig_format(&s, text);
	cr_assert_eq(nym_body_sig_parse(text, strlen(text), &back), 0);
	cr_assert_eq(back.created, 1700000000);
	cr_assert(nym_body_sig_valid(&back, NYM_BODY_LABEL_ISSUER_KEYS, body, sizeof(body) - 1));
	cr_assert(!nym_body_sig_valid(&back, NYM_BODY_LABEL_SPENT_FILTER, body, sizeof(body) - 1));
	cr_assert(!nym_body_sig_valid(&back, NYM_BODY_LABEL_ISSUER_KEYS, body, sizeof(body) - 2));
	back.created++;
	cr_assert(!nym_body_sig_valid(&back, NYM_BODY_LABEL_ISSUER_KEYS, body, sizeof(body) - 1));
	const char *bad[] = { "", "v2 authority=x created=1 signature=y", "v1 authority= created=1 signature=x",
			      "v1 created=1 authority=x signature=y", "v1 authority=x created=-1 signature=y" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(nym_body_sig_parse(bad[i], strlen(bad[i]), &back), -EINVAL);
}

/* A gateway with the wireguard role announcing AmneziaWG parameters (PROTOCOLS §7.2). */
static void awg_gateway(unsigned n, int64_t published, const struct awg_params *p, struct nym_descriptor_signed *sd)
{
	struct nym_ed25519_keypair kp;
	struct nym_descriptor d;
	topofix_identity(n, &kp);
	topofix_descriptor(n, NYM_ROLE_ENTRY | NYM_ROLE_EXIT | NYM_ROLE_WIREGUARD, published, &d);
	d.has_amnezia = true;
	d.amnezia = *p;
	cr_assert_eq(nym_descriptor_sign(&d, &kp, sd), 0);
}

Test(topology, descriptor_amnezia)
{
	const struct awg_params p = { .jc = 7, .jmin = 300, .jmax = 1000, .s1 = 44, .s2 = 120,
				      .h1 = 123456789, .h2 = 987654321, .h3 = 555, .h4 = 2147483646 };
	struct nym_descriptor_signed sd, back;
	awg_gateway(7, 1700000000, &p, &sd);
	json_t *j = nym_descriptor_signed_to_json(&sd);
	char *text, *again;
	size_t len, len2;
	cr_assert_eq(nym_canonical_encode(j, &text, &len), 0);
	cr_assert_not_null(strstr(text, "\"amnezia\":{\"h1\":123456789,\"h2\":987654321,\"h3\":555,\"h4\":2147483646,"
					"\"jc\":7,\"jmax\":1000,\"jmin\":300,\"s1\":44,\"s2\":120}"),
			   "%s", text);
	cr_assert_eq(nym_descriptor_signed_decode(text, len, &back), 0);
	cr_assert(back.d.has_amnezia);
	cr_assert_eq(memcmp(&back.d.amnezia, &p, sizeof(p)), 0);
	json_t *j2 = nym_descriptor_signed_to_json(&back);
	cr_assert_eq(nym_canonical_encode(j2, &again, &len2), 0);
	cr_assert_str_eq(again, text);
	free(again);
	json_decref(j2);
	/* The parameters are signed. */
	char *s1 = strstr(text, "\"s1\":44");
	s1[6] = '5';
	cr_assert_eq(nym_descriptor_signed_decode(text, len, &back), -EBADMSG);
	free(text);

	/* Without the member: no AWG. */
	struct nym_descriptor_signed plain;
	topofix_signed(8, NYM_ROLE_ENTRY | NYM_ROLE_EXIT | NYM_ROLE_WIREGUARD, 1700000000, &plain);
	cr_assert_not(plain.d.has_amnezia);
	json_t *pj = nym_descriptor_signed_to_json(&plain);
	cr_assert_null(json_object_get(json_object_get(pj, "description"), "amnezia"));
	json_decref(pj);

	/* Refused: without the wireguard role, a set breaking a rule, an inactive set. */
	struct nym_descriptor d = sd.d;
	cr_assert_eq(nym_descriptor_validate(&d), 0);
	d.roles = NYM_ROLE_ENTRY | NYM_ROLE_EXIT;
	d.wireguard_port = 0;
	cr_assert_eq(nym_descriptor_validate(&d), -EINVAL);
	d = sd.d;
	d.amnezia.s2 = (uint16_t)(d.amnezia.s1 + 56);
	cr_assert_eq(nym_descriptor_validate(&d), -EINVAL);
	d = sd.d;
	d.amnezia.h2 = d.amnezia.h1;
	cr_assert_eq(nym_descriptor_validate(&d), -EINVAL);
	d = sd.d;
	memset(&d.amnezia, 0, sizeof(d.amnezia));
	cr_assert_eq(nym_descriptor_validate(&d), -EINVAL);
	cr_assert_null(nym_descriptor_to_json(&d));

	/* The parser refuses a member missing, an extra one, a value out of range or negative. */
	json_t *desc = json_object_get(j, "description"), *a = json_object_get(desc, "amnezia");
	json_object_del(a, "jc");
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), -EINVAL);
	json_object_set_new(a, "jc", json_integer(7));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), 0);
	json_object_set_new(a, "s3", json_integer(1));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), -EINVAL);
	json_object_del(a, "s3");
	json_object_set_new(a, "s1", json_integer(65536));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), -EINVAL);
	json_object_set_new(a, "s1", json_integer(-1));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), -EINVAL);
	json_object_set_new(a, "s1", json_integer(44));
	json_object_set_new(a, "h1", json_integer(4294967296));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), -EINVAL);
	json_object_set_new(desc, "amnezia", json_string("base"));
	cr_assert_eq(nym_descriptor_signed_from_json(j, &back), -EINVAL);
	json_decref(j);
}

Test(topology, epoch_doc_carries_amnezia)
{
	struct nym_vote v[2];
	unsigned nodes[] = { 1, 2, 3, 4 };
	topofix_vote(0, 5, nodes, 4, NULL, &v[0]);
	topofix_vote(1, 5, nodes, 4, NULL, &v[1]);
	struct awg_params p;
	cr_assert_eq(awg_params_preset("random", &p), 0);
	struct nym_ed25519_keypair k4, auth;
	topofix_identity(4, &k4);
	for (size_t a = 0; a < 2; a++)
		for (size_t i = 0; i < 4; i++)
			if (memcmp(v[a].nodes[i].d.identity, k4.public_key, 32) == 0)
				awg_gateway(4, 3000, &p, &v[a].nodes[i]);
	for (unsigned a = 0; a < 2; a++) {
		topofix_identity(200 + a, &auth);
		cr_assert_eq(nym_vote_sign(&v[a], &auth), 0);
	}
	const struct nym_vote *votes[] = { &v[0], &v[1] };
	struct nym_epoch_doc doc, parsed;
	size_t len;
	char *bytes = build_doc(votes, 2, NULL, NULL, &doc, &len);
	cr_assert_not_null(strstr(bytes, "\"amnezia\":{\"h1\":"));
	json_t *j;
	cr_assert_eq(nym_canonical_parse(bytes, len, 1 << 20, &j), 0);
	cr_assert_eq(nym_epoch_doc_from_json(j, &parsed), 0);
	json_decref(j);
	const struct nym_descriptor_signed *g = nym_epoch_doc_find(&parsed, k4.public_key, NULL);
	cr_assert_not_null(g);
	cr_assert(g->d.has_amnezia);
	cr_assert(awg_params_equal(&g->d.amnezia, &p));
	free(bytes);
	nym_epoch_doc_free(&doc);
	nym_epoch_doc_free(&parsed);
	free_votes(v, 2);
}
