/* The pure pieces of the mixnet listener's admission limits: the lock-free token bucket
 * (util/ratelimit, also under the log rate limit), the per-address table and the connection
 * deadlines (io/conn_limit). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "io/conn_limit.h"
#include "net/net_addr.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/ratelimit.h"

#define SEC NYM_NS_PER_SEC
#define T0 (1000 * SEC) /* a monotonic time well after boot */

static struct sockaddr_storage v4(const char *ip, int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	cr_assert_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
	a->sin6_family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

/* --- token bucket ----------------------------------------------------------------------- */

Test(ratelimit, bucket_grants_its_burst_then_one_per_interval)
{
	struct nym_ratelimit_bucket b = { 0 };
	for (int i = 0; i < 5; i++)
		cr_assert(nym_ratelimit_bucket_take(&b, T0, SEC / 4, 5), "token %d of the burst", i);
	cr_assert_not(nym_ratelimit_bucket_take(&b, T0, SEC / 4, 5), "the burst is spent");
	cr_assert_not(nym_ratelimit_bucket_full(&b, T0));
	cr_assert_not(nym_ratelimit_bucket_take(&b, T0 + SEC / 4 - 1, SEC / 4, 5), "one interval not yet passed");
	cr_assert(nym_ratelimit_bucket_take(&b, T0 + SEC / 4, SEC / 4, 5), "one token back after one interval");
	cr_assert_not(nym_ratelimit_bucket_take(&b, T0 + SEC / 4, SEC / 4, 5));
	/* Refused takes cost nothing: two intervals later, exactly two tokens. */
	cr_assert(nym_ratelimit_bucket_take(&b, T0 + 3 * SEC / 4, SEC / 4, 5));
	cr_assert(nym_ratelimit_bucket_take(&b, T0 + 3 * SEC / 4, SEC / 4, 5));
	cr_assert_not(nym_ratelimit_bucket_take(&b, T0 + 3 * SEC / 4, SEC / 4, 5));
	/* A long pause refills to the burst and no further. */
	cr_assert(nym_ratelimit_bucket_full(&b, T0 + 100 * SEC));
	int granted = 0;
	while (nym_ratelimit_bucket_take(&b, T0 + 100 * SEC, SEC / 4, 5))
		granted++;
	cr_assert_eq(granted, 5);
}

Test(ratelimit, bucket_edges)
{
	struct nym_ratelimit_bucket b = { 0 };
	for (int i = 0; i < 1000; i++)
		cr_assert(nym_ratelimit_bucket_take(&b, T0, 0, 0), "interval 0: no limit");
	cr_assert_not(nym_ratelimit_bucket_take(&b, T0, SEC, 0), "burst 0: nothing");
	/* A burst whose horizon overflows 64 bits saturates instead of wrapping into a refusal. */
	for (int i = 0; i < 1000; i++)
		cr_assert(nym_ratelimit_bucket_take(&b, T0, UINT64_MAX / 4, UINT32_MAX));
	nym_ratelimit_bucket_reset(&b);
	cr_assert(nym_ratelimit_bucket_full(&b, 0));
}

struct take_race {
	struct nym_ratelimit_bucket *b;
	int granted;
};

static void *take_many(void *arg)
{
	struct take_race *r = arg;
	for (int i = 0; i < 100000; i++)
		r->granted += nym_ratelimit_bucket_take(r->b, T0, SEC, 1000);
	return NULL;
}

Test(ratelimit, bucket_shared_by_threads_grants_exactly_the_burst)
{
	struct nym_ratelimit_bucket b = { 0 };
	struct take_race r[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct take_race){ &b, 0 };
		pthread_create(&t[i], NULL, take_many, &r[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += r[i].granted;
	}
	cr_assert_eq(total, 1000);
}

Test(ratelimit, log_limiter_allows_a_burst_and_reports_what_it_suppressed)
{
	static struct nym_log_ratelimit rl;
	for (int i = 0; i < NYM_RATELIMIT_BURST; i++)
		cr_assert_eq(nym_log_ratelimit_take(&rl), 0);
	cr_assert_eq(nym_log_ratelimit_take(&rl), -1);
	cr_assert_eq(nym_log_ratelimit_take(&rl), -1);
	cr_assert_eq(atomic_load(&rl.suppressed), 2);
	/* Pretend the window has passed: the next line reports the two suppressed. */
	nym_ratelimit_bucket_reset(&rl.bucket);
	cr_assert_eq(nym_log_ratelimit_take(&rl), 2);
	cr_assert_eq(nym_log_ratelimit_take(&rl), 0);
}

/* --- per-address table ------------------------------------------------------------------ */

Test(conn_limit, keys_are_ipv4_addresses_and_ipv6_slash_64s)
{
	uint8_t a[NET_ADDR_LIMIT_KEY_LEN], b[NET_ADDR_LIMIT_KEY_LEN];
	struct sockaddr_storage s1 = v4("198.51.100.7", 1), s2 = v6("::ffff:198.51.100.7");
	cr_assert_eq(net_addr_limit_key(SA(s1), a), 0);
	cr_assert_eq(net_addr_limit_key(SA(s2), b), 0);
	cr_assert_arr_eq(a, b, sizeof(a), "an IPv4-mapped address is the IPv4 address");
	s1 = v6("2001:db8:1:2:aaaa::1");
	s2 = v6("2001:db8:1:2:bbbb::2");
	net_addr_limit_key(SA(s1), a);
	net_addr_limit_key(SA(s2), b);
	cr_assert_arr_eq(a, b, sizeof(a), "one /64 is one address");
	s2 = v6("2001:db8:1:3::1");
	net_addr_limit_key(SA(s2), b);
	cr_assert(memcmp(a, b, sizeof(a)) != 0, "another /64 is another address");
	struct sockaddr_storage un = { .ss_family = AF_UNIX };
	cr_assert_eq(net_addr_limit_key(SA(un), a), -EAFNOSUPPORT);
}

Test(conn_limit, an_address_holds_at_most_its_limit_whatever_the_port)
{
	struct conn_limit l;
	cr_assert_eq(conn_limit_init(&l, 1024, 3, 0, 0), 0);
	uint32_t slot[4], other;
	for (int i = 0; i < 3; i++) {
		struct sockaddr_storage a = v4("198.51.100.7", 1000 + i);
		cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &slot[i]), 0);
	}
	cr_assert_eq(slot[0], slot[1]);
	cr_assert_eq(conn_limit_connections(&l, slot[0]), 3);
	struct sockaddr_storage a = v4("198.51.100.7", 2000), b = v4("198.51.100.8", 2000);
	cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &slot[3]), -EUSERS);
	cr_assert_eq(conn_limit_admit(&l, SA(b), T0, &other), 0, "another address is not affected");
	cr_assert_neq(other, slot[0]);
	conn_limit_release(&l, slot[1]);
	cr_assert_eq(conn_limit_connections(&l, slot[0]), 2);
	cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &slot[3]), 0, "a closed connection frees its place");
	cr_assert_eq(slot[3], slot[0]);
	conn_limit_fini(&l);

	cr_assert_eq(conn_limit_init(&l, 16, 0, 0, 0), 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &slot[0]), 0, "per_address 0: no limit");
	conn_limit_fini(&l);
	cr_assert_eq(conn_limit_init(&l, 0, 1, 0, 0), -EINVAL);
	cr_assert_eq(conn_limit_init(&l, SIZE_MAX / 4, 1, 0, 0), 0, "a huge slot count is capped, not refused");
	cr_assert_eq(l.mask + 1, CONN_LIMIT_MAX_ENTRIES);
	conn_limit_fini(&l);
}

Test(conn_limit, reconnecting_does_not_refill_the_handshake_budget)
{
	struct conn_limit l;
	cr_assert_eq(conn_limit_init(&l, 1024, 8, 2, 3), 0); /* 2 per second, burst 3 */
	struct sockaddr_storage a = v4("198.51.100.7", 1), b = v4("198.51.100.8", 1);
	uint32_t s, sb;
	int granted = 0;
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &s), 0);
		granted += conn_limit_take_handshake(&l, s, T0);
		conn_limit_release(&l, s);
	}
	cr_assert_eq(granted, 3, "ten connections in a row got %d handshakes", granted);
	cr_assert_eq(conn_limit_admit(&l, SA(b), T0, &sb), 0);
	cr_assert(conn_limit_take_handshake(&l, sb, T0), "another address has its own budget");
	cr_assert_eq(conn_limit_admit(&l, SA(a), T0 + SEC / 2, &s), 0);
	cr_assert(conn_limit_take_handshake(&l, s, T0 + SEC / 2), "refilled at the configured rate");
	cr_assert_not(conn_limit_take_handshake(&l, s, T0 + SEC / 2));
	conn_limit_fini(&l);
}

Test(conn_limit, a_full_window_refuses_and_reuse_forgets_the_least)
{
	struct conn_limit l;
	/* 8 connections: 16 entries, one probe window covering the whole table. */
	cr_assert_eq(conn_limit_init(&l, 8, 4, 1, 1), 0);
	cr_assert_eq(l.mask + 1, CONN_LIMIT_PROBES);
	uint32_t slot[CONN_LIMIT_PROBES], s;
	char ip[32];
	for (int i = 0; i < CONN_LIMIT_PROBES; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		struct sockaddr_storage a = v4(ip, 1);
		cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &slot[i]), 0);
	}
	struct sockaddr_storage newcomer = v4("192.0.2.1", 1);
	cr_assert_eq(conn_limit_admit(&l, SA(newcomer), T0, &s), -ENOSPC, "every entry holds a connection");
	/* Entry 0 closes in debt (it spent its only handshake token), entry 1 closes with a
	 * full bucket: the newcomer takes entry 1's place, and entry 0 keeps its debt. */
	cr_assert(conn_limit_take_handshake(&l, slot[0], T0));
	conn_limit_release(&l, slot[0]);
	conn_limit_release(&l, slot[1]);
	cr_assert_eq(conn_limit_admit(&l, SA(newcomer), T0, &s), 0);
	cr_assert_eq(s, slot[1]);
	struct sockaddr_storage first = v4("203.0.113.1", 2);
	cr_assert_eq(conn_limit_admit(&l, SA(first), T0, &s), 0);
	cr_assert_eq(s, slot[0]);
	cr_assert_not(conn_limit_take_handshake(&l, s, T0), "the debt survived the reuse pressure");
	/* With no free or full entry left, the one that refills first is forgotten. */
	conn_limit_release(&l, s);
	struct sockaddr_storage late = v4("192.0.2.2", 1);
	cr_assert_eq(conn_limit_admit(&l, SA(late), T0, &s), 0);
	cr_assert_eq(s, slot[0]);
	cr_assert(conn_limit_take_handshake(&l, s, T0), "a reused entry starts with a full bucket");
	conn_limit_fini(&l);
}

struct releaser {
	struct conn_limit *l;
	uint32_t *slots;
	size_t n;
};

static void *release_all(void *arg)
{
	struct releaser *r = arg;
	for (size_t i = 0; i < r->n; i++) {
		conn_limit_take_handshake(r->l, r->slots[i], T0);
		conn_limit_release(r->l, r->slots[i]);
	}
	return NULL;
}

Test(conn_limit, releases_from_other_threads_keep_counts_exact)
{
	struct conn_limit l;
	cr_assert_eq(conn_limit_init(&l, 100000, 0, 1000, 1000), 0);
	enum { PER_THREAD = 20000, THREADS = 3, ADDRS = 50 };
	static uint32_t slots[THREADS][PER_THREAD];
	char ip[32];
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < PER_THREAD; i++) {
			snprintf(ip, sizeof(ip), "10.0.0.%d", i % ADDRS);
			struct sockaddr_storage a = v4(ip, 1);
			cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &slots[t][i]), 0);
		}
	/* The acceptor keeps admitting while the other threads release. */
	pthread_t th[THREADS];
	struct releaser r[THREADS];
	for (int t = 0; t < THREADS; t++) {
		r[t] = (struct releaser){ &l, slots[t], PER_THREAD };
		pthread_create(&th[t], NULL, release_all, &r[t]);
	}
	uint32_t mine[ADDRS];
	for (int i = 0; i < ADDRS; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		struct sockaddr_storage a = v4(ip, 2);
		cr_assert_eq(conn_limit_admit(&l, SA(a), T0, &mine[i]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < ADDRS; i++)
		cr_assert_eq(conn_limit_connections(&l, mine[i]), 1, "address %d", i);
	conn_limit_fini(&l);
}

/* --- deadlines -------------------------------------------------------------------------- */

Test(conn_limit, first_frame_deadline_then_idle_reset_only_by_frames)
{
	struct conn_limit_timeouts to = { 10 * SEC, 300 * SEC };
	struct conn_limit_timer t;
	conn_limit_timer_start(&t, T0);
	cr_assert_eq(conn_limit_timer_check(&t, &to, T0 + 10 * SEC - 1), CONN_LIMIT_LIVE);
	cr_assert_eq(conn_limit_timer_check(&t, &to, T0 + 10 * SEC), CONN_LIMIT_NO_FIRST_FRAME);
	conn_limit_timer_start(&t, T0);
	conn_limit_timer_frame(&t, T0 + 9 * SEC);
	cr_assert_eq(conn_limit_timer_check(&t, &to, T0 + 100 * SEC), CONN_LIMIT_LIVE, "the first frame came in time");
	cr_assert_eq(conn_limit_timer_check(&t, &to, T0 + 309 * SEC - 1), CONN_LIMIT_LIVE);
	cr_assert_eq(conn_limit_timer_check(&t, &to, T0 + 309 * SEC), CONN_LIMIT_IDLE);
	conn_limit_timer_frame(&t, T0 + 309 * SEC);
	cr_assert_eq(conn_limit_timer_check(&t, &to, T0 + 500 * SEC), CONN_LIMIT_LIVE, "each frame restarts it");
}

Test(conn_limit, the_shorter_deadline_decides_before_the_first_frame)
{
	struct conn_limit_timer t;
	conn_limit_timer_start(&t, T0);
	struct conn_limit_timeouts idle_first = { 10 * SEC, 3 * SEC };
	cr_assert_eq(conn_limit_timer_check(&t, &idle_first, T0 + 3 * SEC), CONN_LIMIT_IDLE);
	cr_assert_eq(conn_limit_timer_check(&t, &idle_first, T0 + 20 * SEC), CONN_LIMIT_IDLE);
	struct conn_limit_timeouts none = { 0, 0 };
	cr_assert_eq(conn_limit_timer_check(&t, &none, T0 + 1000000 * SEC), CONN_LIMIT_LIVE);
	struct conn_limit_timeouts first_only = { 5 * SEC, 0 };
	cr_assert_eq(conn_limit_timer_check(&t, &first_only, T0 + 5 * SEC), CONN_LIMIT_NO_FIRST_FRAME);
	conn_limit_timer_frame(&t, T0 + 1 * SEC);
	cr_assert_eq(conn_limit_timer_check(&t, &first_only, T0 + 1000000 * SEC), CONN_LIMIT_LIVE);
}
