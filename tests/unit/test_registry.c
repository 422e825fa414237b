/* The authority's registry engine: announcements (new, newer, repeated, older, forged,
 * malformed, oversized), merging a peer's list, reachability, votes, documents and their
 * signatures. Refused requests leave the database byte for byte as it was. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../support/tmpdir.h"
#include "../support/topofix.h"
#include "crypto/secret.h"
#include "directory/registry.h"
#include "topology/canonical.h"

#define NOW 1795395600

struct env {
	char dir[256], path[300];
	struct nym_registry *r;
};

static void env_init(struct env *e)
{
	cr_assert_eq(nym_crypto_init(), 0);
	test_tmpdir(e->dir, sizeof(e->dir));
	test_path(e->path, sizeof(e->path), e->dir, "registry.db");
	cr_assert_eq(nym_registry_open(&e->r, e->path, NULL), 0);
}

static void env_fini(struct env *e)
{
	nym_registry_close(e->r);
	test_tmpdir_remove(e->dir);
}

TestSuite(registry, .timeout = 60);

static char *body_of(const struct nym_descriptor_signed *sd, size_t *len)
{
	json_t *j = nym_descriptor_signed_to_json(sd);
	char *text;
	cr_assert_eq(nym_canonical_encode(j, &text, len), 0);
	json_decref(j);
	return text;
}

static int post(struct env *e, const char *body, size_t len, int64_t now, char **resp)
{
	int status;
	size_t rlen;
	cr_assert_eq(nym_registry_handle_post(e->r, body, len, now, &status, resp, &rlen), 0);
	cr_assert_not_null(strstr(*resp, status == 200 ? "\"result\"" : "\"error\""), "%s", *resp);
	return status;
}

static char *nodes(struct env *e)
{
	char *out;
	size_t len;
	cr_assert_eq(nym_registry_nodes_json(e->r, NULL, 100000, &out, &len), 0);
	return out;
}

Test(registry, announcements)
{
	struct env e;
	env_init(&e);
	struct nym_descriptor_signed v1, v2;
	topofix_signed(1, NYM_ROLE_MIXNODE, NOW - 10, &v1);
	topofix_signed(1, NYM_ROLE_MIXNODE, NOW, &v2);
	size_t l1, l2;
	char *b1 = body_of(&v1, &l1), *b2 = body_of(&v2, &l2), *resp;
	cr_assert_eq(post(&e, b1, l1, NOW, &resp), 200);
	cr_assert_not_null(strstr(resp, "\"added\""));
	free(resp);
	cr_assert_eq(post(&e, b1, l1, NOW, &resp), 200, "a repeat is fine");
	cr_assert_not_null(strstr(resp, "\"unchanged\""));
	free(resp);
	cr_assert_eq(post(&e, b2, l2, NOW, &resp), 200);
	cr_assert_not_null(strstr(resp, "\"updated\""));
	free(resp);
	char *before = nodes(&e);

	/* Everything below is refused and changes nothing. */
	cr_assert_eq(post(&e, b1, l1, NOW + 1, &resp), 409, "older than the registered one: a replay");
	free(resp);
	char *forged = strdup(b2);
	char *p = strstr(forged, "1789");
	p[0] = '2';
	cr_assert_eq(post(&e, forged, l2, NOW, &resp), 401);
	free(resp);
	cr_assert_eq(post(&e, "{\"description\":", 15, NOW, &resp), 400);
	free(resp);
	cr_assert_eq(post(&e, "", 0, NOW, &resp), 400);
	free(resp);
	char *big = calloc(1, NYM_REGISTRY_POST_MAX + 2);
	memset(big, ' ', NYM_REGISTRY_POST_MAX + 1);
	cr_assert_eq(post(&e, big, NYM_REGISTRY_POST_MAX + 1, NOW, &resp), 413);
	free(resp);
	free(big);
	struct nym_descriptor_signed future, ancient;
	topofix_signed(2, NYM_ROLE_MIXNODE, NOW + 3600, &future);
	topofix_signed(3, NYM_ROLE_MIXNODE, NOW - 2 * 86400, &ancient);
	size_t lf, la;
	char *bf = body_of(&future, &lf), *ba = body_of(&ancient, &la);
	cr_assert_eq(post(&e, bf, lf, NOW, &resp), 400);
	free(resp);
	cr_assert_eq(post(&e, ba, la, NOW, &resp), 400);
	free(resp);
	/* The same published time with other content is no replay either. */
	struct nym_descriptor_signed same_time;
	struct nym_descriptor d;
	struct nym_ed25519_keypair kp;
	topofix_identity(1, &kp);
	topofix_descriptor(1, NYM_ROLE_MIXNODE, NOW, &d);
	d.mix_port = 1790;
	cr_assert_eq(nym_descriptor_sign(&d, &kp, &same_time), 0);
	size_t ls;
	char *bs = body_of(&same_time, &ls);
	cr_assert_eq(post(&e, bs, ls, NOW, &resp), 409);
	free(resp);
	char *after = nodes(&e);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	free(forged);
	free(b1);
	free(b2);
	free(bf);
	free(ba);
	free(bs);
	env_fini(&e);
}

Test(registry, merge_reachability_and_gateways)
{
	struct env a, b;
	env_init(&a);
	env_init(&b);
	enum nym_registry_outcome o;
	struct nym_descriptor_signed sd;
	for (unsigned n = 1; n <= 4; n++) {
		topofix_signed(n, n == 4 ? NYM_ROLE_ENTRY : NYM_ROLE_MIXNODE, NOW, &sd);
		cr_assert_eq(nym_registry_submit(a.r, &sd, NOW, &o), 0);
	}
	char *list = nodes(&a);
	size_t added;
	cr_assert_eq(nym_registry_merge(b.r, list, strlen(list), NOW + 5, &added), 0);
	cr_assert_eq(added, 4);
	cr_assert_eq(nym_registry_merge(b.r, list, strlen(list), NOW + 5, &added), 0);
	cr_assert_eq(added, 0, "merging twice adds nothing");
	cr_assert_eq(nym_registry_merge(b.r, "[]", 2, NOW, &added), -EINVAL);
	struct nym_ed25519_keypair k1, k4;
	topofix_identity(1, &k1);
	topofix_identity(4, &k4);
	cr_assert(nym_registry_is_gateway(b.r, k4.public_key));
	cr_assert(!nym_registry_is_gateway(b.r, k1.public_key));

	struct nym_descriptor_signed *all, *up;
	size_t n, nup;
	cr_assert_eq(nym_registry_all(b.r, &all, &n), 0);
	cr_assert_eq(n, 4);
	for (size_t i = 0; i < n; i++)
		nym_registry_probe_result(b.r, all[i].d.identity, NOW + 10, true, i != 2);
	cr_assert_eq(nym_registry_reachable(b.r, NOW + 10, &up, &nup), 0);
	cr_assert_eq(nup, 3, "both probes must answer");
	free(up);
	cr_assert_eq(nym_registry_reachable(b.r, NOW + 11, &up, &nup), 0);
	cr_assert_eq(nup, 0, "answers older than the window do not count");
	free(up);
	/* A node that stopped answering keeps its older answer only. */
	nym_registry_probe_result(b.r, all[0].d.identity, NOW + 20, false, false);
	nym_registry_probe_result(b.r, all[1].d.identity, NOW + 20, true, true);
	cr_assert_eq(nym_registry_reachable(b.r, NOW + 15, &up, &nup), 0);
	cr_assert_eq(nup, 1);
	cr_assert_arr_eq(up[0].d.identity, all[1].d.identity, 32);
	free(up);
	free(all);
	/* Forgotten when not announced for max_age. */
	cr_assert_eq(nym_registry_prune(a.r, NOW + 86401, 0), 0);
	cr_assert_eq(nym_registry_all(a.r, &all, &n), 0);
	cr_assert_eq(n, 0);
	free(all);
	free(list);
	env_fini(&a);
	env_fini(&b);
}

Test(registry, votes_documents_signatures)
{
	struct env e;
	env_init(&e);
	unsigned ids[] = { 1, 2, 3 };
	struct nym_vote v0, v1, again, *got;
	size_t n;
	topofix_vote(0, 4, ids, 3, NULL, &v0);
	topofix_vote(1, 4, ids, 2, NULL, &v1);
	cr_assert_eq(nym_registry_put_vote(e.r, &v0, NOW), 0);
	cr_assert_eq(nym_registry_put_vote(e.r, &v1, NOW), 0);
	topofix_vote(0, 4, ids, 1, NULL, &again);
	cr_assert_eq(nym_registry_put_vote(e.r, &again, NOW), -EEXIST, "one vote per authority and epoch");
	cr_assert_eq(nym_registry_votes(e.r, 4, &got, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert(got[0].node_count + got[1].node_count == 5);
	for (size_t i = 0; i < n; i++)
		nym_vote_free(&got[i]);
	free(got);
	char *json;
	size_t len;
	cr_assert_eq(nym_registry_votes_json(e.r, 4, &json, &len), 0);
	cr_assert_not_null(strstr(json, "\"votes\":[{"));
	free(json);

	const struct nym_vote *vs[] = { &v0, &v1 };
	struct nym_epoch_doc doc;
	char *bytes, *back;
	size_t blen;
	uint8_t digest[32], d2[32];
	bool own;
	cr_assert_eq(nym_vote_consensus_build(vs, 2, NULL, NULL, &doc), 0);
	cr_assert_eq(nym_epoch_doc_encode(&doc, &bytes, &blen, digest), 0);
	cr_assert_eq(nym_registry_put_document(e.r, 4, bytes, blen, true), 0);
	struct nym_ed25519_keypair auth;
	struct nym_epoch_doc_signature s;
	topofix_identity(200, &auth);
	nym_epoch_doc_sign(&auth, bytes, blen, &s);
	cr_assert_eq(nym_registry_add_signature(e.r, 4, &s), 0);
	cr_assert_eq(nym_registry_document(e.r, 4, &back, &len, d2, &own), 0);
	cr_assert_eq(len, blen);
	cr_assert_arr_eq(d2, digest, 32);
	cr_assert(own);
	free(back);
	cr_assert_eq(nym_registry_signed_document(e.r, 4, &json, &len), 0);
	struct nym_epoch_doc parsed;
	struct nym_epoch_doc_signatures sigs;
	cr_assert_eq(nym_epoch_doc_signed_decode(json, len, &parsed, &sigs, NULL, NULL, NULL), 0);
	cr_assert_eq(sigs.count, 1);
	nym_epoch_doc_free(&parsed);
	free(json);
	/* The same document again keeps the signatures; another one drops them. */
	cr_assert_eq(nym_registry_put_document(e.r, 4, bytes, blen, false), 0);
	cr_assert_eq(nym_registry_signatures(e.r, 4, &sigs), 0);
	cr_assert_eq(sigs.count, 1);
	bytes[blen - 2] = bytes[blen - 2] == '1' ? '2' : '1';
	cr_assert_eq(nym_registry_put_document(e.r, 4, bytes, blen, false), 0);
	cr_assert_eq(nym_registry_signatures(e.r, 4, &sigs), 0);
	cr_assert_eq(sigs.count, 0);
	uint64_t latest;
	cr_assert_eq(nym_registry_latest_document(e.r, 100, &latest), 0);
	cr_assert_eq(latest, 4);
	cr_assert_eq(nym_registry_latest_document(e.r, 3, &latest), -ENOENT);
	cr_assert_eq(nym_registry_prune(e.r, NOW, 5), 0);
	cr_assert_eq(nym_registry_document(e.r, 4, NULL, NULL, NULL, NULL), -ENOENT);
	free(bytes);
	nym_epoch_doc_free(&doc);
	nym_vote_free(&v0);
	nym_vote_free(&v1);
	nym_vote_free(&again);
	env_fini(&e);
}
