#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "client/client_surbs.h"
#include "crypto/x25519.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_reply.h"
#include "sphinx/sphinx_surb.h"

static struct sphinx_hop route[4];
static struct nym_x25519_keypair keys[4];
static const uint8_t me[32] = { 7, 7, 7 };

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
	for (int i = 0; i < 4; i++) {
		nym_x25519_generate(&keys[i]);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789) };
		a.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&a, sizeof(a), route[i].address), 0);
		memcpy(route[i].public_key, keys[i].public_key, 32);
	}
}

TestSuite(client_surbs, .init = setup);

static void make(struct client_surbs *s, uint64_t now, uint8_t out[460])
{
	size_t w;
	cr_assert_eq(client_surbs_make(s, route, 4, me, NULL, now, out, 460, &w), 0);
	cr_assert_eq(w, 460);
	cr_assert_eq(CLIENT_SURBS_LEN(4), 460);
}

static void digest_of(const uint8_t surb[460], uint8_t d[32])
{
	mix_reply_key_digest(surb, d);
}

Test(client_surbs, layout_key_then_surb_and_single_use)
{
	struct client_surbs *s;
	cr_assert_eq(client_surbs_new(NULL, &s), 0);
	uint8_t b[460], d[32], key[16];
	make(s, 0, b);
	struct sphinx_surb surb;
	cr_assert_eq(sphinx_surb_decode(&surb, b + 16, 444), 0);
	cr_assert_eq(surb.hops, 4);
	cr_assert_eq(surb.version, SPHINX_VERSION_259);
	cr_assert_arr_eq(surb.first_hop, route[0].address, 32);
	digest_of(b, d);
	cr_assert(client_surbs_known(s, d, 1));
	cr_assert_eq(client_surbs_take(s, d, 1, key), 0);
	cr_assert_arr_eq(key, b, 16);
	cr_assert_not(client_surbs_known(s, d, 1));
	cr_assert_eq(client_surbs_take(s, d, 1, key), -ENOENT, "single use");
	uint8_t none[32] = { 1 };
	cr_assert_eq(client_surbs_take(s, none, 1, key), -ENOENT);
	struct client_surbs_stats st;
	client_surbs_get_stats(s, &st);
	cr_assert_eq(st.made, 1);
	cr_assert_eq(st.taken, 1);
	cr_assert_eq(st.held, 0);
	cr_assert_eq(client_surbs_make(s, route, 4, me, NULL, 0, b, 459, &(size_t){ 0 }), -ENOSPC);
	client_surbs_free(s);
}

Test(client_surbs, keys_expire_after_their_lifetime)
{
	struct client_surbs_config cfg = { .lifetime_ns = 100, .max_keys = 16 };
	struct client_surbs *s;
	cr_assert_eq(client_surbs_new(&cfg, &s), 0);
	uint8_t a[460], b[460], d[32], key[16];
	make(s, 0, a);
	make(s, 50, b);
	digest_of(a, d);
	cr_assert_eq(client_surbs_take(s, d, 100, key), -ENOENT, "expired at 100");
	cr_assert_eq(client_surbs_expire(s, 100), 1);
	digest_of(b, d);
	cr_assert_eq(client_surbs_take(s, d, 149, key), 0);
	struct client_surbs_stats st;
	client_surbs_get_stats(s, &st);
	cr_assert_eq(st.expired, 1);
	cr_assert_eq(st.held, 0);
	client_surbs_free(s);
}

/* At the cap the oldest go first; taking keys out of the middle leaves the ring consistent,
 * and every remaining key is still found (the table survives deletions). */
Test(client_surbs, bounded_oldest_dropped)
{
	enum { CAP = 64, MADE = 200 };
	struct client_surbs_config cfg = { .max_keys = CAP };
	struct client_surbs *s;
	cr_assert_eq(client_surbs_new(&cfg, &s), 0);
	static uint8_t b[MADE][460];
	uint8_t d[32], key[16];
	for (int i = 0; i < MADE; i++) {
		make(s, (uint64_t)i, b[i]);
		if (i % 3 == 0) { /* a reply comes for some */
			digest_of(b[i], d);
			cr_assert_eq(client_surbs_take(s, d, (uint64_t)i, key), 0);
		}
	}
	struct client_surbs_stats st;
	client_surbs_get_stats(s, &st);
	cr_assert_leq(st.held, CAP);
	size_t found = 0;
	for (int i = 0; i < MADE; i++) {
		digest_of(b[i], d);
		bool known = client_surbs_known(s, d, MADE);
		if (i % 3 == 0 || i < MADE - CAP)
			cr_assert_not(known, "key %d", i);
		else
			cr_assert(known, "key %d", i);
		found += known;
	}
	cr_assert_eq(found, st.held);
	cr_assert_gt(st.dropped, 0);
	cr_assert_eq(st.made, MADE);
	cr_assert_eq(st.dropped + st.taken + st.held, MADE);
	client_surbs_free(s);
}
