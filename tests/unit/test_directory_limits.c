/* The authority's limits (issue 10): admission (allowlist decisions, the rule across
 * authorities, a peer's list merged), the registry's cap and whom it evicts, the pages of
 * GET /v1/nodes, the per-address limit of a vote, and the per-address token buckets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../support/tmpdir.h"
#include "../support/topofix.h"
#include "crypto/secret.h"
#include "directory/address_limit.h"
#include "directory/allowlist.h"
#include "directory/registry.h"
#include "net/net_addr.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/ratelimit.h"

#define NOW 1795395600

struct env {
	char dir[256], path[300];
	struct nym_registry *r;
};

static void env_init(struct env *e, bool allowlist, uint64_t max_nodes)
{
	struct nym_registry_config cfg;
	cr_assert_eq(nym_crypto_init(), 0);
	nym_registry_config_default(&cfg);
	cfg.allowlist = allowlist;
	cfg.max_nodes = max_nodes;
	test_tmpdir(e->dir, sizeof(e->dir));
	test_path(e->path, sizeof(e->path), e->dir, "registry.db");
	cr_assert_eq(nym_registry_open(&e->r, e->path, &cfg), 0);
}

static void env_fini(struct env *e)
{
	nym_registry_close(e->r);
	test_tmpdir_remove(e->dir);
}

static void id_of(unsigned n, uint8_t out[32])
{
	struct nym_ed25519_keypair kp;
	topofix_identity(n, &kp);
	memcpy(out, kp.public_key, 32);
}

static int submit(struct env *e, unsigned n, int64_t now)
{
	struct nym_descriptor_signed sd;
	enum nym_registry_outcome o;
	topofix_signed(n, NYM_ROLE_MIXNODE, now, &sd);
	return nym_registry_submit(e->r, &sd, now, &o);
}

TestSuite(directory_limits, .timeout = 60);

Test(directory_limits, allowlist_decisions)
{
	struct env e;
	env_init(&e, true, 4096);
	sqlite3 *db = nym_registry_db(e.r);
	uint8_t node[32], a1[32], a2[32];
	id_of(1, node);
	id_of(201, a1);
	id_of(202, a2);
	bool ok;
	cr_assert_eq(submit(&e, 1, NOW), -EPERM, "not admitted: refused");
	cr_assert_eq(nym_allowlist_set(db, node, a1, true, NOW), 0);
	cr_assert_eq(nym_allowlist_admitted(db, node, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(submit(&e, 1, NOW), 0);
	/* One authority revoking outweighs any number admitting. */
	cr_assert_eq(nym_allowlist_set(db, node, a2, false, NOW + 1), 0);
	cr_assert_eq(nym_allowlist_admitted(db, node, &ok), 0);
	cr_assert(!ok);
	cr_assert_eq(submit(&e, 1, NOW + 2), -EPERM);
	struct nym_descriptor_signed *list;
	struct nym_descriptor *targets;
	size_t n;
	nym_registry_probe_result(e.r, node, NOW + 3, true, true);
	cr_assert_eq(nym_registry_reachable(e.r, NOW, &list, &n), 0);
	cr_assert_eq(n, 0, "a revoked node is not voted for though it answers");
	free(list);
	cr_assert_eq(nym_registry_probe_order(e.r, &targets, &n), 0);
	cr_assert_eq(n, 0, "nor probed");
	free(targets);
	cr_assert_eq(nym_allowlist_set(db, node, a2, true, NOW + 4), 0);
	cr_assert_eq(nym_registry_reachable(e.r, NOW, &list, &n), 0);
	cr_assert_eq(n, 1, "admitted again by the authority that revoked it");
	free(list);
	env_fini(&e);
}

Test(directory_limits, allowlist_replicated)
{
	struct env a, b;
	env_init(&a, true, 4096);
	env_init(&b, true, 4096);
	uint8_t n1[32], n2[32], a1[32];
	id_of(1, n1);
	id_of(2, n2);
	id_of(201, a1);
	cr_assert_eq(nym_allowlist_set(nym_registry_db(a.r), n1, a1, true, NOW), 0);
	cr_assert_eq(nym_allowlist_set(nym_registry_db(a.r), n2, a1, false, NOW), 0);
	char *body;
	size_t len, taken;
	cr_assert_eq(nym_allowlist_json(nym_registry_db(a.r), a1, &body, &len), 0);
	cr_assert_not_null(strstr(body, "\"state\":\"admitted\""), "%s", body);
	/* Only under the authority it names. */
	uint8_t other[32];
	id_of(202, other);
	cr_assert_eq(nym_allowlist_merge(nym_registry_db(b.r), other, body, len, &taken), -EINVAL);
	cr_assert_eq(nym_allowlist_merge(nym_registry_db(b.r), a1, body, len, &taken), 0);
	cr_assert_eq(taken, 2);
	bool ok;
	nym_allowlist_admitted(nym_registry_db(b.r), n1, &ok);
	cr_assert(ok);
	nym_allowlist_admitted(nym_registry_db(b.r), n2, &ok);
	cr_assert(!ok);
	cr_assert_eq(submit(&b, 1, NOW), 0, "admitted at a peer: registers here");
	/* A malformed list changes nothing. */
	char *bad = strdup(body);
	char *p = strstr(bad, "admitted");
	memcpy(p, "admittex", 8);
	cr_assert_eq(nym_allowlist_merge(nym_registry_db(b.r), a1, bad, len, &taken), -EINVAL);
	nym_allowlist_admitted(nym_registry_db(b.r), n1, &ok);
	cr_assert(ok);
	/* The peer's later list replaces the earlier one: n1 is no longer admitted by it. */
	cr_assert_eq(nym_allowlist_merge(nym_registry_db(b.r), a1, "{\"authority\":\"x\",\"decisions\":[]}", 33, &taken),
		     -EINVAL);
	json_t *empty = json_pack("{s:s, s:[]}", "authority", "", "decisions");
	char b58[64];
	nym_base58_encode(b58, sizeof(b58), a1, 32);
	json_object_set_new(empty, "authority", json_string(b58));
	char *eb = json_dumps(empty, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_eq(nym_allowlist_merge(nym_registry_db(b.r), a1, eb, strlen(eb), &taken), 0);
	nym_allowlist_admitted(nym_registry_db(b.r), n1, &ok);
	cr_assert(!ok);
	json_t *listing;
	cr_assert_eq(nym_allowlist_list(nym_registry_db(a.r), &listing), 0);
	cr_assert_eq(json_array_size(listing), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(listing, i);
		uint8_t id[32];
		nym_base58_decode_exact(id, 32, json_string_value(json_object_get(e, "identity")));
		cr_assert_eq(json_is_true(json_object_get(e, "admitted")), memcmp(id, n1, 32) == 0,
			     "n1 admitted, n2 revoked, each on its own decisions");
	}
	json_decref(listing);
	json_decref(empty);
	free(eb);
	free(bad);
	free(body);
	env_fini(&a);
	env_fini(&b);
}

Test(directory_limits, registry_cap_evicts_the_unreachable)
{
	struct env e;
	env_init(&e, false, 3);
	uint8_t id[8][32];
	for (unsigned n = 1; n <= 7; n++)
		id_of(n, id[n]);
	for (unsigned n = 1; n <= 3; n++)
		cr_assert_eq(submit(&e, n, NOW), 0);
	nym_registry_probe_result(e.r, id[1], NOW + 1, true, true);
	nym_registry_probe_result(e.r, id[2], NOW + 1, true, true);
	nym_registry_probe_result(e.r, id[3], NOW + 1, false, false);
	/* Full: node 4 takes the place of node 3, which does not answer. */
	cr_assert_eq(submit(&e, 4, NOW + 2), 0);
	struct nym_registry_stats st;
	cr_assert_eq(nym_registry_stats(e.r, &st), 0);
	cr_assert_eq(st.nodes, 3);
	/* Node 4 has not answered yet either: node 5 replaces it. Then every node answers. */
	cr_assert_eq(submit(&e, 5, NOW + 3), 0);
	nym_registry_probe_result(e.r, id[5], NOW + 4, true, true);
	cr_assert_eq(submit(&e, 6, NOW + 5), -EDQUOT, "nodes that answer are never evicted");
	struct nym_descriptor_signed *list;
	size_t n;
	cr_assert_eq(nym_registry_all(e.r, &list, &n), 0);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		cr_assert(memcmp(list[i].d.identity, id[3], 32) && memcmp(list[i].d.identity, id[4], 32));
	free(list);
	/* A known node's newer description needs no room. */
	cr_assert_eq(submit(&e, 1, NOW + 6), 0);
	int status;
	char *resp;
	size_t rlen;
	struct nym_descriptor_signed sd;
	topofix_signed(7, NYM_ROLE_MIXNODE, NOW, &sd);
	json_t *j = nym_descriptor_signed_to_json(&sd);
	char *body = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_eq(nym_registry_handle_post(e.r, body, strlen(body), NOW + 7, &status, &resp, &rlen), 0);
	cr_assert_eq(status, 503, "%s", resp);
	free(resp);
	free(body);
	json_decref(j);
	env_fini(&e);
}

Test(directory_limits, probe_order_longest_reachable_first)
{
	struct env e;
	env_init(&e, false, 100);
	uint8_t id[5][32];
	for (unsigned n = 1; n <= 4; n++) {
		id_of(n, id[n]);
		cr_assert_eq(submit(&e, n, NOW + n), 0);
	}
	nym_registry_probe_result(e.r, id[3], NOW + 10, true, true);
	nym_registry_probe_result(e.r, id[2], NOW + 20, true, true);
	nym_registry_probe_result(e.r, id[3], NOW + 20, true, true); /* still reachable since +10 */
	struct nym_descriptor_signed *list;
	struct nym_descriptor *targets;
	size_t n;
	cr_assert_eq(nym_registry_probe_order(e.r, &targets, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_arr_eq(targets[0].identity, id[3], 32);
	cr_assert_arr_eq(targets[1].identity, id[2], 32);
	/* Then the others, registered earliest first. */
	cr_assert_arr_eq(targets[2].identity, id[1], 32);
	cr_assert_arr_eq(targets[3].identity, id[4], 32);
	cr_assert_str_eq(targets[0].addresses[0], "198.51.100.4"); /* topofix: node n at .(n + 1) */
	cr_assert_eq(targets[0].mix_port, 1789);
	free(targets);
	cr_assert_eq(nym_registry_reachable(e.r, NOW + 20, &list, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_arr_eq(list[0].d.identity, id[3], 32);
	free(list);
	/* A failed round resets the streak. */
	nym_registry_probe_result(e.r, id[3], NOW + 30, true, false);
	nym_registry_probe_result(e.r, id[3], NOW + 40, true, true);
	nym_registry_probe_result(e.r, id[2], NOW + 40, true, true);
	cr_assert_eq(nym_registry_probe_order(e.r, &targets, &n), 0);
	cr_assert_arr_eq(targets[0].identity, id[2], 32);
	free(targets);
	env_fini(&e);
}

Test(directory_limits, node_pages)
{
	struct env e;
	env_init(&e, false, 100);
	for (unsigned n = 1; n <= 7; n++)
		cr_assert_eq(submit(&e, n, NOW), 0);
	uint8_t after[32];
	bool have_after = false;
	size_t seen = 0, pages = 0;
	char last[64] = "";
	for (;;) {
		char *out;
		size_t len;
		cr_assert_eq(nym_registry_nodes_json(e.r, have_after ? after : NULL, 3, &out, &len), 0);
		json_t *j = json_loads(out, 0, NULL);
		json_t *nodes = json_object_get(j, "nodes");
		pages++;
		for (size_t i = 0; i < json_array_size(nodes); i++) {
			const char *id = json_string_value(json_object_get(
				json_object_get(json_object_get(json_array_get(nodes, i), "node"), "description"),
				"identity"));
			uint8_t a[32], b[32];
			nym_base58_decode_exact(a, 32, id);
			if (last[0]) {
				nym_base58_decode_exact(b, 32, last);
				cr_assert_lt(memcmp(b, a, 32), 0, "ascending across pages, each once");
			}
			snprintf(last, sizeof(last), "%s", id);
			seen++;
		}
		const char *next = json_string_value(json_object_get(j, "next"));
		if (next) {
			cr_assert_eq(json_array_size(nodes), 3);
			cr_assert_str_eq(next, last);
			cr_assert_eq(nym_base58_decode_exact(after, 32, next), 0);
			have_after = true;
		}
		json_decref(j);
		free(out);
		if (!next)
			break;
	}
	cr_assert_eq(seen, 7);
	cr_assert_eq(pages, 3);
	env_fini(&e);
}

static void with_address(struct nym_descriptor_signed *sd, unsigned n, const char *a, const char *b)
{
	memset(sd, 0, sizeof(*sd));
	sd->d.identity[0] = (uint8_t)n;
	snprintf(sd->d.addresses[0], NYM_DESCRIPTOR_ADDR_LEN, "%s", a);
	sd->d.address_count = 1;
	if (b) {
		snprintf(sd->d.addresses[1], NYM_DESCRIPTOR_ADDR_LEN, "%s", b);
		sd->d.address_count = 2;
	}
}

Test(directory_limits, per_address_in_a_vote)
{
	struct nym_descriptor_signed v[7];
	with_address(&v[0], 0, "198.51.100.1", NULL);
	with_address(&v[1], 1, "198.51.100.1", NULL);
	with_address(&v[2], 2, "198.51.100.1", NULL);	     /* third on .1: out */
	with_address(&v[3], 3, "198.51.100.2", "198.51.100.1"); /* .1 is full: out, and .2 not counted */
	with_address(&v[4], 4, "2001:db8:1:2::1", NULL);
	with_address(&v[5], 5, "2001:db8:1:2::ffff", "198.51.100.2"); /* same /64 */
	with_address(&v[6], 6, "2001:db8:1:2:8000::1", NULL);	      /* third in that /64: out */
	size_t n = 7;
	cr_assert_eq(nym_address_limit(v, &n, 2), 0);
	cr_assert_eq(n, 4);
	unsigned want[] = { 0, 1, 4, 5 };
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(v[i].d.identity[0], want[i], "kept in preference order");
	n = 7;
	cr_assert_eq(nym_address_limit(v, &n, 0), -EINVAL);
}

static struct sockaddr_storage v4(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	inet_pton(AF_INET, text, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, text, &s->sin6_addr);
	return ss;
}

/* The authority's registration limit: util/ratelimit's keyed table over net_addr_limit_key. */
static bool take_at(struct nym_ratelimit_table *t, const struct sockaddr_storage *ss, uint64_t ms)
{
	uint8_t key[NET_ADDR_LIMIT_KEY_LEN];
	cr_assert_eq(net_addr_limit_key((const struct sockaddr *)ss, key), 0);
	return nym_ratelimit_table_take(t, key, ms * NYM_NS_PER_MS);
}

Test(directory_limits, registration_buckets)
{
	struct nym_ratelimit_table *t;
	cr_assert_eq(nym_ratelimit_table_new(&t, 0, NYM_NS_PER_SEC, 1), -EINVAL);
	/* 2 per second, bursts of 3. */
	cr_assert_eq(nym_ratelimit_table_new(&t, 64, NYM_NS_PER_SEC / 2, 3), 0);
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2"), m = v6("::ffff:192.0.2.1");
	struct sockaddr_storage x1 = v6("2001:db8::1"), x2 = v6("2001:db8::2"), y = v6("2001:db8:0:1::1");
	for (int i = 0; i < 3; i++)
		cr_assert(take_at(t, &a, 1000));
	cr_assert(!take_at(t, &a, 1000), "burst spent");
	cr_assert(!take_at(t, &m, 1000), "the mapped form is the same address");
	cr_assert(take_at(t, &b, 1000), "another address has its own bucket");
	cr_assert(!take_at(t, &a, 1400));
	cr_assert(take_at(t, &a, 1500), "a token every 500 ms");
	cr_assert(!take_at(t, &a, 1500));
	cr_assert(take_at(t, &a, 1000000), "refilled");
	for (int i = 0; i < 3; i++)
		cr_assert(take_at(t, &x1, 2000));
	cr_assert(!take_at(t, &x2, 2000), "IPv6 counts per /64");
	cr_assert(take_at(t, &y, 2000));
	nym_ratelimit_table_free(t);

	/* A table of 8 slots stays 8 slots however many addresses come; the idlest is forgotten. */
	cr_assert_eq(nym_ratelimit_table_new(&t, 8, 1000 * NYM_NS_PER_SEC, 1), 0);
	for (unsigned i = 0; i < 1000; i++) {
		struct sockaddr_storage s = { 0 };
		struct sockaddr_in *in = (struct sockaddr_in *)&s;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(0x0a000000u + i);
		cr_assert(take_at(t, &s, 5000), "a fresh address starts full");
	}
	nym_ratelimit_table_free(t);
}
