/* nym-node bench sphinx: the cost of Sphinx against the curve arithmetic it cannot avoid.
 * Each figure is the median over many short batches, which shrugs off the odd scheduling
 * hiccup better than one long average, and the operations' batches alternate, so that a
 * slower or faster stretch of the machine hits them all. */
#include "nodectl/bench/bench_sphinx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x25519.h"
#include "nodectl/bench/bench_host.h"
#include "util/clock.h"

#define PACKET_LEN BENCH_SPHINX_PACKET_LEN
#define POOL 64
#define BENCH_HOPS BENCH_SPHINX_HOPS
#define BATCH BENCH_SPHINX_BATCH

struct bench_state {
	struct nym_x25519_keypair nodes[BENCH_HOPS];
	struct sphinx_hop route[BENCH_HOPS];
	uint8_t destination[32], identifier[16];
	uint8_t forward[POOL][PACKET_LEN]; /* packets as the first hop receives them */
	uint8_t final[POOL][PACKET_LEN];   /* one-hop packets: the node is their final hop */
	uint8_t scratch[PACKET_LEN];
	uint8_t batch[BATCH][PACKET_LEN];
	uint8_t x_scalar[32], x_point[32];
	uint8_t xb_scalar[BATCH][32], xb_point[BATCH][32];
	unsigned next;
};

static struct sphinx_packet_params params(struct bench_state *s, size_t hops)
{
	return (struct sphinx_packet_params){ .route = s->route,
					      .hops = hops,
					      .destination = s->destination,
					      .identifier = s->identifier,
					      .version = SPHINX_VERSION_DEFAULT };
}

static int op_x25519(struct bench_state *s)
{
	/* Feed each output back in so no call can be skipped or cached. */
	return nym_x25519(s->x_point, s->x_scalar, s->x_point);
}

/* BATCH scalar multiplications in one call. */
static int op_x25519_batch(struct bench_state *s)
{
	int rc[BATCH];
	nym_x25519_batch(s->xb_point, (const uint8_t(*)[32])s->xb_scalar, (const uint8_t(*)[32])s->xb_point, rc,
			 BATCH);
	return 0;
}

/* BATCH forward hops in one call, as a node processes a backlog. */
static int op_forward_batch(struct bench_state *s)
{
	struct sphinx_hop_keys keys[BATCH];
	struct sphinx_processed out[BATCH];
	const uint8_t *secrets[BATCH];
	uint8_t *packets[BATCH];
	size_t lens[BATCH];
	int rc[BATCH];
	for (int i = 0; i < BATCH; i++) {
		memcpy(s->batch[i], s->forward[s->next++ % POOL], PACKET_LEN);
		secrets[i] = s->nodes[0].secret;
		packets[i] = s->batch[i];
		lens[i] = PACKET_LEN;
	}
	sphinx_packet_open_batch(keys, secrets, packets, lens, rc, BATCH);
	sphinx_packet_peel_batch(packets, lens, keys, out, rc, BATCH);
	for (int i = 0; i < BATCH; i++)
		if (rc[i])
			return rc[i];
	return 0;
}

static int op_create(struct bench_state *s)
{
	static const uint8_t msg[] = "bench";
	struct sphinx_packet_params p = params(s, BENCH_HOPS);
	return sphinx_packet_create(s->scratch, PACKET_LEN, &p, msg, sizeof(msg));
}

static int op_forward(struct bench_state *s)
{
	struct sphinx_processed out;
	memcpy(s->scratch, s->forward[s->next++ % POOL], PACKET_LEN);
	return sphinx_packet_process(s->scratch, PACKET_LEN, s->nodes[0].secret, &out);
}

static int op_final(struct bench_state *s)
{
	struct sphinx_processed out;
	const uint8_t *msg;
	size_t len;
	memcpy(s->scratch, s->final[s->next++ % POOL], PACKET_LEN);
	int rc = sphinx_packet_process(s->scratch, PACKET_LEN, s->nodes[0].secret, &out);
	return rc ? rc : sphinx_packet_message(s->scratch, PACKET_LEN, &msg, &len);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef int (*bench_op)(struct bench_state *);

/* Median microseconds per call of each of `n` operations into us[i]; returns 0, or -1 when
 * an operation failed. The operations take turns, one batch of about 20 ms each per round,
 * until `seconds` have passed: whatever else the machine does slows all of them alike, so
 * their ratios hold up on a busy host better than back-to-back measurements would.
 * spread_pct (may be NULL) gets, per operation, how much its batches differed: the 10th to
 * 90th percentile of their times as a percentage of the median. The code is the same in every
 * batch, so this is how steady the CPU was. */
static int measure(struct bench_state *s, const bench_op *ops, size_t n, double seconds, double *us,
		   double *spread_pct)
{
	enum { MAX_OPS = 6, MAX_ROUNDS = 2048, BATCH_NS = 20 * 1000 * 1000 };
	static double per_op[MAX_OPS][MAX_ROUNDS];
	unsigned batch[MAX_OPS];
	if (n == 0 || n > MAX_OPS)
		return -1;
	/* Calibrate each batch to about 20 ms, after a warm-up call. */
	for (size_t k = 0; k < n; k++) {
		if (ops[k](s))
			return -1;
		uint64_t t0 = nym_clock_now_ns();
		unsigned calls = 0;
		while (nym_clock_now_ns() - t0 < BATCH_NS / 4) {
			if (ops[k](s))
				return -1;
			calls++;
		}
		batch[k] = calls ? calls * 4 : 1;
	}
	size_t rounds = 0;
	uint64_t end = nym_clock_now_ns() + (uint64_t)(seconds * 1e9);
	while (rounds < MAX_ROUNDS && (rounds < 5 || nym_clock_now_ns() < end)) {
		for (size_t k = 0; k < n; k++) {
			uint64_t b0 = nym_clock_now_ns();
			for (unsigned i = 0; i < batch[k]; i++)
				if (ops[k](s))
					return -1;
			per_op[k][rounds] = (double)(nym_clock_now_ns() - b0) / batch[k] / 1000.0;
		}
		rounds++;
	}
	for (size_t k = 0; k < n; k++) {
		qsort(per_op[k], rounds, sizeof(double), cmp_double);
		us[k] = per_op[k][rounds / 2];
		if (spread_pct)
			spread_pct[k] = 100.0 * (per_op[k][rounds * 9 / 10] - per_op[k][rounds / 10]) / us[k];
	}
	return 0;
}

/* Keys, routes and packet pools; returns NULL on failure. */
static struct bench_state *bench_state_new(void)
{
	struct bench_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (int i = 0; i < BENCH_HOPS; i++) {
		nym_x25519_generate(&s->nodes[i]);
		memcpy(s->route[i].public_key, s->nodes[i].public_key, 32);
		nym_random(s->route[i].address, 32);
		s->route[i].delay_ns = 0;
	}
	nym_random(s->destination, 32);
	nym_random(s->identifier, 16);
	nym_random(s->x_scalar, 32);
	nym_x25519_public(s->x_point, s->x_scalar);
	nym_random(s->xb_scalar, sizeof(s->xb_scalar));
	for (int i = 0; i < BATCH; i++)
		nym_x25519_public(s->xb_point[i], s->xb_scalar[i]);
	static const uint8_t msg[] = "bench";
	for (int i = 0; i < POOL; i++) {
		struct sphinx_packet_params fw = params(s, BENCH_HOPS), fin = params(s, 1);
		if (sphinx_packet_create(s->forward[i], PACKET_LEN, &fw, msg, sizeof(msg)) ||
		    sphinx_packet_create(s->final[i], PACKET_LEN, &fin, msg, sizeof(msg))) {
			free(s);
			return NULL;
		}
	}
	return s;
}

double bench_sphinx_forward_us(double seconds, double *spread_pct)
{
	struct bench_state *s = bench_state_new();
	static const bench_op ops[] = { op_forward };
	double us = -1;
	if (s && measure(s, ops, 1, seconds, &us, spread_pct))
		us = -1;
	free(s);
	return us;
}

int bench_sphinx_run(const struct bench_sphinx_options *options, struct bench_sphinx_result *result)
{
	struct bench_state *s = bench_state_new();
	if (!s)
		return -ENOMEM;
	struct bench_host_cpu cpu0, cpu1;
	bench_host_cpu_read(&cpu0);
	static const bench_op ops[] = { op_x25519, op_create, op_forward, op_final, op_x25519_batch, op_forward_batch };
	double us[6], spread[6];
	int failed = measure(s, ops, 6, options->seconds, us, spread);
	free(s);
	if (failed)
		return -EIO;
	bench_host_cpu_read(&cpu1);
	*result = (struct bench_sphinx_result){
		.x25519_us = us[0],
		.create_us = us[1],
		.process_forward_us = us[2],
		.process_final_us = us[3],
		.x25519_batched_us = us[4] / BATCH,
		.process_forward_batched_us = us[5] / BATCH,
		.forward_packets_per_second = 1e6 / us[2],
		.x25519_vectorised = nym_x25519_batch_vectorised(),
		.host_steal_pct = bench_host_steal_pct(&cpu0, &cpu1),
		.host_speed_spread_pct = spread[0],
	};
	return 0;
}
