#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "client/client_poisson.h"
#include "crypto/secret.h"

#define MS 1000000ull

static struct nym_seeded_rng seed_state;

static struct nym_rng seeded(uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof(seed));
	return nym_seeded_rng_init(&seed_state, seed);
}

/* Steps time by `step` ns for `steps` steps with `queued` real packets always waiting, and
 * counts what fires; each event is checked against the due time the scheduler announced. */
static void run(struct client_poisson *p, uint64_t start, uint64_t step, uint64_t steps, size_t queued,
		uint64_t counts[4])
{
	memset(counts, 0, 4 * sizeof(counts[0]));
	for (uint64_t i = 1; i <= steps; i++) {
		uint64_t now = start + i * step;
		for (;;) {
			uint64_t due = client_poisson_next_due(p, now, queued);
			enum client_poisson_event e = client_poisson_poll(p, now, queued);
			if (e == CLIENT_POISSON_NONE) {
				cr_assert_gt(due, now, "nothing fired although due %llu <= now %llu",
					     (unsigned long long)due, (unsigned long long)now);
				break;
			}
			cr_assert_leq(due, now, "an event fired before its due time");
			counts[e]++;
		}
	}
}

Test(client_poisson, defaults_match_nym)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cr_assert_eq(cfg.message_sending_average_delay_ns, 20 * MS);
	cr_assert_eq(cfg.loop_cover_traffic_average_delay_ns, 200 * MS);
	cr_assert(!cfg.disable_main_poisson_packet_distribution);
	cr_assert(!cfg.disable_loop_cover_traffic_stream);
}

/* 1000 s of simulated time polled every 0.1 ms: about 50 000 mixed and 5 000 loop events. The
 * seed is fixed, so the figures are deterministic; the tolerance (3 %) is above 4 standard
 * deviations of the count for the loop stream (1/sqrt(5000) = 1.4 %) and the polling step adds
 * at most 0.05 ms of lateness per event (0.25 % of 20 ms). */
Test(client_poisson, means_match_configuration)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	struct nym_rng rng = seeded(7);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);

	uint64_t c[4];
	uint64_t span = 1000ull * 1000 * MS, step = MS / 10;
	run(&p, 0, step, span / step, 0, c);
	double mixed_mean = (double)span / (double)c[CLIENT_POISSON_COVER];
	double loop_mean = (double)span / (double)c[CLIENT_POISSON_LOOP_COVER];
	cr_log_info("mixed mean %.3f ms over %llu events, loop mean %.3f ms over %llu events", mixed_mean / MS,
		    (unsigned long long)c[CLIENT_POISSON_COVER], loop_mean / MS,
		    (unsigned long long)c[CLIENT_POISSON_LOOP_COVER]);
	cr_assert_eq(c[CLIENT_POISSON_REAL], 0);
	cr_assert(fabs(mixed_mean / (20.0 * MS) - 1) < 0.03, "mixed mean %.3f ms", mixed_mean / MS);
	cr_assert(fabs(loop_mean / (200.0 * MS) - 1) < 0.03, "loop mean %.3f ms", loop_mean / MS);

	struct client_poisson_stats st;
	client_poisson_get_stats(&p, &st);
	cr_assert_eq(st.cover, c[CLIENT_POISSON_COVER]);
	cr_assert_eq(st.loop_cover, c[CLIENT_POISSON_LOOP_COVER]);
	cr_assert_leq(st.late_ns_max, step);
}

/* The intervals themselves are exponential: their standard deviation equals their mean. */
Test(client_poisson, intervals_are_exponential)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.disable_loop_cover_traffic_stream = true;
	struct nym_rng rng = seeded(9);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);

	double sum = 0, sum2 = 0;
	uint64_t last = 0;
	int n = 20000;
	for (int i = 0; i < n; i++) {
		uint64_t due = client_poisson_next_due(&p, last, 0);
		cr_assert_eq(client_poisson_poll(&p, due, 0), CLIENT_POISSON_COVER);
		double gap = (double)(due - last);
		sum += gap;
		sum2 += gap * gap;
		last = due;
	}
	double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
	cr_log_info("mixed intervals: mean %.3f ms, sd %.3f ms over %d", mean / MS, sd / MS, n);
	cr_assert(fabs(mean / (20.0 * MS) - 1) < 0.03, "mean %.3f ms", mean / MS);
	cr_assert(fabs(sd / mean - 1) < 0.05, "sd/mean %.3f", sd / mean);
}

Test(client_poisson, real_packets_replace_cover)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	struct nym_rng rng = seeded(1);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);

	uint64_t c[4];
	run(&p, 0, MS, 100000, 3, c); /* 100 s with real packets always waiting */
	cr_assert_eq(c[CLIENT_POISSON_COVER], 0);
	cr_assert_gt(c[CLIENT_POISSON_REAL], 4500);
	cr_assert_lt(c[CLIENT_POISSON_REAL], 5500);
	cr_assert_gt(c[CLIENT_POISSON_LOOP_COVER], 400, "the loop stream goes on beside real traffic");

	/* The queue drains: the next mixed firing is cover again, at the same rate. */
	uint64_t c2[4];
	run(&p, 100000 * MS, MS, 100000, 0, c2);
	cr_assert_eq(c2[CLIENT_POISSON_REAL], 0);
	cr_assert_gt(c2[CLIENT_POISSON_COVER], 4500);
	cr_assert_lt(c2[CLIENT_POISSON_COVER], 5500);
}

Test(client_poisson, one_real_packet_waits_for_its_slot)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.disable_loop_cover_traffic_stream = true;
	struct nym_rng rng = seeded(2);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);
	uint64_t due = client_poisson_next_due(&p, 0, 1);
	cr_assert_gt(due, 0);
	cr_assert_eq(client_poisson_poll(&p, due - 1, 1), CLIENT_POISSON_NONE);
	cr_assert_eq(client_poisson_poll(&p, due, 1), CLIENT_POISSON_REAL);
	cr_assert_eq(client_poisson_poll(&p, due, 0), CLIENT_POISSON_NONE);
}

Test(client_poisson, main_distribution_disabled_sends_at_once_without_cover)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.disable_main_poisson_packet_distribution = true;
	cfg.disable_loop_cover_traffic_stream = true;
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, NULL, 0), 0);

	cr_assert_eq(client_poisson_next_due(&p, 5, 0), UINT64_MAX, "idle: nothing ever due");
	cr_assert_eq(client_poisson_poll(&p, 10 * 1000 * MS, 0), CLIENT_POISSON_NONE);
	cr_assert_eq(client_poisson_next_due(&p, 5, 2), 5);
	/* A queue of three drains at one time. */
	size_t queued = 3;
	uint64_t now = 17;
	while (client_poisson_poll(&p, now, queued) == CLIENT_POISSON_REAL)
		queued--;
	cr_assert_eq(queued, 0);
	struct client_poisson_stats st;
	client_poisson_get_stats(&p, &st);
	cr_assert_eq(st.real, 3);
	cr_assert_eq(st.cover + st.loop_cover, 0);
}

Test(client_poisson, main_distribution_disabled_keeps_loop_stream)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.disable_main_poisson_packet_distribution = true;
	struct nym_rng rng = seeded(3);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);
	uint64_t c[4];
	run(&p, 0, MS, 20000, 0, c); /* 20 s idle */
	cr_assert_eq(c[CLIENT_POISSON_COVER] + c[CLIENT_POISSON_REAL], 0);
	cr_assert_gt(c[CLIENT_POISSON_LOOP_COVER], 70);
	cr_assert_lt(c[CLIENT_POISSON_LOOP_COVER], 130);
}

Test(client_poisson, loop_stream_disabled)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.disable_loop_cover_traffic_stream = true;
	cfg.loop_cover_traffic_average_delay_ns = 0; /* ignored when off */
	struct nym_rng rng = seeded(4);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);
	uint64_t c[4];
	run(&p, 0, MS, 20000, 0, c);
	cr_assert_eq(c[CLIENT_POISSON_LOOP_COVER], 0);
	cr_assert_gt(c[CLIENT_POISSON_COVER], 800);

	cfg.disable_loop_cover_traffic_stream = false;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), -EINVAL, "an on loop stream needs a mean");
}

Test(client_poisson, both_disabled_is_silent)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.disable_main_poisson_packet_distribution = true;
	cfg.disable_loop_cover_traffic_stream = true;
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, NULL, 0), 0);
	uint64_t c[4];
	run(&p, 0, 10 * MS, 10000, 0, c);
	cr_assert_eq(c[1] + c[2] + c[3], 0);
}

/* Mean 0: one firing per poll time, a real packet while any waits, cover otherwise. */
Test(client_poisson, lifted_rate_fires_once_per_poll)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	cfg.message_sending_average_delay_ns = 0;
	cfg.disable_loop_cover_traffic_stream = true;
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, NULL, 100), 0);
	cr_assert_eq(client_poisson_next_due(&p, 100, 5), 101);
	for (uint64_t now = 101; now < 1101; now++) {
		cr_assert_eq(client_poisson_poll(&p, now, 5), CLIENT_POISSON_REAL);
		cr_assert_eq(client_poisson_poll(&p, now, 5), CLIENT_POISSON_NONE, "once per poll time");
	}
	cr_assert_eq(client_poisson_poll(&p, 2000, 0), CLIENT_POISSON_COVER);
}

/* After a gap of 10 s (500 mixed and 50 loop intervals), each stream fires once, then waits
 * a fresh exponential interval from the time of the poll: no burst of missed events. */
Test(client_poisson, long_gap_does_not_burst)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	struct nym_rng rng = seeded(5);
	struct client_poisson p;
	cr_assert_eq(client_poisson_init(&p, &cfg, &rng, 0), 0);

	uint64_t now = 10000 * MS;
	uint64_t c[4] = { 0 };
	enum client_poisson_event e;
	while ((e = client_poisson_poll(&p, now, 0)) != CLIENT_POISSON_NONE)
		c[e]++;
	cr_assert_eq(c[CLIENT_POISSON_COVER], 1);
	cr_assert_eq(c[CLIENT_POISSON_LOOP_COVER], 1);
	cr_assert_gt(client_poisson_next_due(&p, now, 0), now);

	struct client_poisson_stats st;
	client_poisson_get_stats(&p, &st);
	cr_assert_gt(st.late_ns_max, 9000 * MS, "the lateness is reported");

	/* The rate right after the gap is the configured one, measured from the poll. */
	run(&p, now, MS, 100000, 0, c);
	cr_assert_gt(c[CLIENT_POISSON_COVER], 4500);
	cr_assert_lt(c[CLIENT_POISSON_COVER], 5500);
}

Test(client_poisson, same_seed_same_schedule)
{
	struct client_poisson_config cfg;
	client_poisson_config_default(&cfg);
	struct client_poisson a, b;
	struct nym_seeded_rng sa, sb;
	uint8_t seed[32] = { 42 };
	struct nym_rng ra = nym_seeded_rng_init(&sa, seed), rb = nym_seeded_rng_init(&sb, seed);
	cr_assert_eq(client_poisson_init(&a, &cfg, &ra, 0), 0);
	cr_assert_eq(client_poisson_init(&b, &cfg, &rb, 0), 0);
	uint64_t now = 0;
	for (int i = 0; i < 1000; i++) {
		now = client_poisson_next_due(&a, now, 0);
		cr_assert_eq(client_poisson_next_due(&b, now, 0), now);
		cr_assert_eq(client_poisson_poll(&a, now, 0), client_poisson_poll(&b, now, 0));
	}
}
