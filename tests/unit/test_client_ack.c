#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_ack.h"
#include "crypto/secret.h"

#define MS 1000000ull

static struct nym_seeded_rng seed_state;

static struct nym_rng seeded(uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof(seed));
	return nym_seeded_rng_init(&seed_state, seed);
}

static struct client_ack *make(uint32_t max_retransmissions, size_t max_tracked)
{
	struct client_ack_config cfg;
	client_ack_config_default(&cfg);
	cfg.max_retransmissions = max_retransmissions;
	cfg.max_tracked = max_tracked;
	struct nym_rng rng = seeded(1);
	struct client_ack *a;
	cr_assert_eq(client_ack_new(&cfg, &rng, &a), 0);
	return a;
}

static struct mix_fragment_id fid(int32_t set, uint8_t pos)
{
	return (struct mix_fragment_id){ .set_id = set, .position = pos };
}

static struct client_ack_stats stats(const struct client_ack *a)
{
	struct client_ack_stats st;
	client_ack_get_stats(a, &st);
	return st;
}

Test(client_ack, defaults_and_bad_configuration)
{
	struct client_ack_config cfg;
	client_ack_config_default(&cfg);
	cr_assert_eq(cfg.ack_wait_multiplier, 1.5);
	cr_assert_eq(cfg.ack_wait_addition_ns, 1500 * MS);
	struct client_ack *a;
	struct client_ack_config bad = cfg;
	bad.max_tracked = 0;
	cr_assert_eq(client_ack_new(&bad, NULL, &a), -EINVAL);
	bad = cfg;
	bad.ack_wait_multiplier = -1;
	cr_assert_eq(client_ack_new(&bad, NULL, &a), -EINVAL);
	bad.ack_wait_multiplier = 0.0 / 0.0;
	cr_assert_eq(client_ack_new(&bad, NULL, &a), -EINVAL);
	cr_assert_eq(client_ack_new(&cfg, NULL, &a), 0, "system randomness for the hash key");
	client_ack_free(a);
}

/* Deadline = now + 1.5 x expected + 1500 ms: with 100 ms expected, sent at 1 s, due at 2.65 s. */
Test(client_ack, deadline_follows_nym_formula)
{
	struct client_ack *a = make(3, 16);
	struct mix_fragment_id id = fid(77, 1);
	cr_assert_eq(client_ack_track(a, &id, 100 * MS, 1000 * MS), 0);
	cr_assert_eq(client_ack_next_deadline(a), 2650 * MS);
	struct client_ack_due due[4];
	cr_assert_eq(client_ack_expire(a, 2650 * MS - 1, due, 4), 0, "nothing before the deadline");
	cr_assert_eq(client_ack_expire(a, 2650 * MS, due, 4), 1);
	client_ack_free(a);
}

Test(client_ack, ack_before_deadline_removes)
{
	struct client_ack *a = make(3, 16);
	struct mix_fragment_id id = fid(5, 2);
	cr_assert_eq(client_ack_track(a, &id, 50 * MS, 0), 0);
	cr_assert_eq(client_ack_track(a, &id, 50 * MS, 0), -EEXIST);
	cr_assert_eq(client_ack_received(a, &id), 0);
	struct client_ack_due due[4];
	cr_assert_eq(client_ack_expire(a, 100000 * MS, due, 4), 0, "an acked fragment never expires");
	cr_assert_eq(client_ack_next_deadline(a), UINT64_MAX);
	struct client_ack_stats st = stats(a);
	cr_assert_eq(st.acked, 1);
	cr_assert_eq(st.tracked, 0);
	client_ack_free(a);
}

Test(client_ack, duplicate_unknown_and_cover_acks_are_counted)
{
	struct client_ack *a = make(3, 16);
	struct mix_fragment_id id = fid(9, 1), other = fid(9, 2), cover = MIX_FRAGMENT_ID_COVER;
	cr_assert_eq(client_ack_track(a, &id, 0, 0), 0);
	cr_assert_eq(client_ack_received(a, &id), 0);
	cr_assert_eq(client_ack_received(a, &id), -ENOENT);
	cr_assert_eq(client_ack_received(a, &id), -ENOENT);
	cr_assert_eq(client_ack_received(a, &other), -ENOENT);
	cr_assert_eq(client_ack_received(a, &cover), -ENOENT);
	cr_assert_eq(client_ack_track(a, &cover, 0, 0), -EINVAL, "cover packets are not retransmitted");
	struct client_ack_stats st = stats(a);
	cr_assert_eq(st.acked, 1);
	cr_assert_eq(st.unmatched_acks, 3);
	cr_assert_eq(st.cover_acks, 1);
	client_ack_free(a);
}

/* Expiry hands the fragment back; after the re-send it waits on the new route's delay. */
Test(client_ack, retransmit_after_deadline)
{
	struct client_ack *a = make(3, 16);
	struct mix_fragment_id id = fid(11, 4);
	cr_assert_eq(client_ack_track(a, &id, 0, 0), 0);
	struct client_ack_due due[4];
	cr_assert_eq(client_ack_expire(a, 1500 * MS, due, 4), 1);
	cr_assert_eq(due[0].id.set_id, 11);
	cr_assert_eq(due[0].id.position, 4);
	cr_assert(!due[0].failed);
	cr_assert_eq(due[0].retransmissions, 0);
	cr_assert_eq(client_ack_next_deadline(a), UINT64_MAX, "not armed until re-sent");
	cr_assert_eq(client_ack_expire(a, 9000 * MS, due, 4), 0, "handed back once only");
	cr_assert_eq(stats(a).awaiting_rearm, 1);

	cr_assert_eq(client_ack_rearm(a, &id, 200 * MS, 1600 * MS), 0);
	cr_assert_eq(client_ack_rearm(a, &id, 200 * MS, 1600 * MS), -EALREADY);
	cr_assert_eq(client_ack_next_deadline(a), 1600 * MS + 300 * MS + 1500 * MS);
	cr_assert_eq(client_ack_received(a, &id), 0, "the ack of the re-sent copy");
	struct client_ack_stats st = stats(a);
	cr_assert_eq(st.retransmissions, 1);
	cr_assert_eq(st.awaiting_rearm, 0);
	cr_assert_eq(st.tracked, 0);
	client_ack_free(a);
}

Test(client_ack, ack_while_awaiting_rearm_cancels_resend)
{
	struct client_ack *a = make(3, 16);
	struct mix_fragment_id id = fid(12, 1);
	cr_assert_eq(client_ack_track(a, &id, 0, 0), 0);
	struct client_ack_due due[1];
	cr_assert_eq(client_ack_expire(a, 2000 * MS, due, 1), 1);
	cr_assert_eq(client_ack_received(a, &id), 0, "the first copy's ack was only late");
	cr_assert_eq(client_ack_rearm(a, &id, 0, 2000 * MS), -ENOENT, "nothing to re-send");
	struct client_ack_stats st = stats(a);
	cr_assert_eq(st.awaiting_rearm, 0);
	cr_assert_eq(st.tracked, 0);
	client_ack_free(a);
}

/* With a cap of 2: sent, re-sent twice, then the third expiry reports it failed. */
Test(client_ack, retransmission_cap_reports_failure)
{
	struct client_ack *a = make(2, 16);
	struct mix_fragment_id id = fid(13, 1);
	uint64_t now = 0;
	cr_assert_eq(client_ack_track(a, &id, 0, now), 0);
	struct client_ack_due due[1];
	for (uint32_t i = 0; i < 2; i++) {
		now += 1500 * MS;
		cr_assert_eq(client_ack_expire(a, now, due, 1), 1);
		cr_assert(!due[0].failed);
		cr_assert_eq(due[0].retransmissions, i);
		cr_assert_eq(client_ack_rearm(a, &id, 0, now), 0);
	}
	now += 1500 * MS;
	cr_assert_eq(client_ack_expire(a, now, due, 1), 1);
	cr_assert(due[0].failed);
	cr_assert_eq(due[0].retransmissions, 2);
	cr_assert_eq(client_ack_rearm(a, &id, 0, now), -ENOENT, "forgotten");
	cr_assert_eq(client_ack_received(a, &id), -ENOENT, "a late ack is unmatched");
	struct client_ack_stats st = stats(a);
	cr_assert_eq(st.failed, 1);
	cr_assert_eq(st.retransmissions, 2);
	cr_assert_eq(st.tracked, 0);
	client_ack_free(a);
}

Test(client_ack, zero_cap_fails_at_first_expiry)
{
	struct client_ack *a = make(0, 4);
	struct mix_fragment_id id = fid(14, 1);
	cr_assert_eq(client_ack_track(a, &id, 0, 0), 0);
	struct client_ack_due due[1];
	cr_assert_eq(client_ack_expire(a, 1500 * MS, due, 1), 1);
	cr_assert(due[0].failed);
	client_ack_free(a);
}

/* 5000 fragments with shuffled expected delays come back strictly in deadline order, in
 * batches smaller than what is due; every third is acked first and never comes back. */
Test(client_ack, many_fragments_in_deadline_order)
{
	enum { N = 5000 };
	struct client_ack *a = make(5, N);
	struct nym_rng rng = seeded(3);
	static uint64_t delay[N];
	for (int i = 0; i < N; i++) {
		uint32_t r;
		nym_rng_fill(&rng, &r, sizeof(r));
		delay[i] = (uint64_t)(r % 100000) * 1000; /* 0 .. 100 ms */
		struct mix_fragment_id id = fid(1 + i / 200, (uint8_t)(1 + i % 200));
		cr_assert_eq(client_ack_track(a, &id, delay[i], 0), 0);
	}
	for (int i = 0; i < N; i += 3) {
		struct mix_fragment_id id = fid(1 + i / 200, (uint8_t)(1 + i % 200));
		cr_assert_eq(client_ack_received(a, &id), 0);
	}
	struct client_ack_due due[64];
	uint64_t last = 0;
	size_t got = 0, n;
	static bool seen[N];
	while ((n = client_ack_expire(a, UINT64_MAX - 1, due, 64)) > 0) {
		for (size_t k = 0; k < n; k++) {
			int i = (due[k].id.set_id - 1) * 200 + (due[k].id.position - 1);
			cr_assert(i % 3 != 0, "acked fragment %d came back", i);
			cr_assert(!seen[i], "fragment %d came back twice", i);
			seen[i] = true;
			uint64_t d = delay[i] * 3 / 2 + 1500 * MS;
			cr_assert_geq(d, last, "out of deadline order");
			last = d;
			got++;
		}
	}
	cr_assert_eq(got, N - (N + 2) / 3);
	cr_assert_eq(stats(a).awaiting_rearm, got);
	client_ack_free(a);
}

/* At the cap, new fragments are refused and counted; an ack frees room. */
Test(client_ack, memory_cap_refuses_new_fragments)
{
	struct client_ack *a = make(3, 8);
	for (int i = 0; i < 8; i++) {
		struct mix_fragment_id id = fid(20, (uint8_t)(i + 1));
		cr_assert_eq(client_ack_track(a, &id, 0, 0), 0);
	}
	struct mix_fragment_id extra = fid(21, 1);
	cr_assert_eq(client_ack_track(a, &extra, 0, 0), -ENOBUFS);
	cr_assert_eq(client_ack_track(a, &extra, 0, 0), -ENOBUFS);
	struct client_ack_stats st = stats(a);
	cr_assert_eq(st.refused_full, 2);
	cr_assert_eq(st.tracked, 8);

	/* A fragment awaiting re-arm still holds its place. */
	struct client_ack_due due[1];
	cr_assert_eq(client_ack_expire(a, 1500 * MS, due, 1), 1);
	cr_assert_eq(client_ack_track(a, &extra, 0, 0), -ENOBUFS);

	struct mix_fragment_id first = fid(20, 3);
	cr_assert_eq(client_ack_received(a, &first), 0);
	cr_assert_eq(client_ack_track(a, &extra, 0, 0), 0);
	cr_assert_eq(client_ack_forget(a, &extra), 0);
	cr_assert_eq(client_ack_forget(a, &extra), -ENOENT);
	cr_assert_eq(stats(a).forgotten, 1);
	client_ack_free(a);
}

/* Random track / ack / expire / re-arm against a plain array model: the hash table (with its
 * backward-shift deletion) and the heap agree with it at every step. */
Test(client_ack, random_operations_match_model)
{
	enum { CAP = 64, IDS = 200 };
	struct client_ack *a = make(2, CAP);
	struct nym_rng rng = seeded(8);
	/* model state per id: 0 absent, 1 armed, 2 awaiting re-arm */
	static int state[IDS];
	static uint64_t dl[IDS];
	static uint32_t resends[IDS];
	size_t tracked = 0;
	uint64_t now = 0;
	for (int step = 0; step < 200000; step++) {
		uint32_t r[2];
		nym_rng_fill(&rng, r, sizeof(r));
		int i = (int)(r[0] % IDS);
		/* few set ids and positions, so probe chains collide and wrap */
		struct mix_fragment_id id = fid(1 + i % 7, (uint8_t)(1 + i / 7));
		switch (r[1] % 5) {
		case 0: {
			uint64_t delay = (r[1] >> 8) % (100 * MS);
			int rc = client_ack_track(a, &id, delay, now);
			if (state[i] != 0) {
				cr_assert_eq(rc, -EEXIST);
			} else if (tracked == CAP) {
				cr_assert_eq(rc, -ENOBUFS);
			} else {
				cr_assert_eq(rc, 0);
				state[i] = 1;
				resends[i] = 0;
				dl[i] = now + delay * 3 / 2 + 1500 * MS;
				tracked++;
			}
			break;
		}
		case 1:
			cr_assert_eq(client_ack_received(a, &id), state[i] ? 0 : -ENOENT);
			if (state[i])
				tracked--;
			state[i] = 0;
			break;
		case 2: {
			int rc = client_ack_rearm(a, &id, 0, now);
			cr_assert_eq(rc, state[i] == 0 ? -ENOENT : state[i] == 1 ? -EALREADY : 0);
			if (state[i] == 2) {
				state[i] = 1;
				resends[i]++;
				dl[i] = now + 1500 * MS;
			}
			break;
		}
		default: {
			now += (r[1] >> 8) % (40 * MS);
			struct client_ack_due due[8];
			size_t n = client_ack_expire(a, now, due, 8);
			for (size_t k = 0; k < n; k++) {
				int j = (due[k].id.position - 1) * 7 + (due[k].id.set_id - 1);
				cr_assert_eq(state[j], 1);
				cr_assert_leq(dl[j], now);
				cr_assert_eq(due[k].retransmissions, resends[j]);
				cr_assert_eq(due[k].failed, resends[j] >= 2);
				if (due[k].failed) {
					state[j] = 0;
					tracked--;
				} else {
					state[j] = 2;
				}
			}
			if (n < 8)
				for (int j = 0; j < IDS; j++)
					cr_assert(state[j] != 1 || dl[j] > now, "id %d was due and not handed back", j);
			break;
		}
		}
		cr_assert_eq(stats(a).tracked, tracked);
	}
	client_ack_free(a);
}
