/* nym-node bench sphinx: the cost of Sphinx against the curve arithmetic it cannot avoid.
 * Single-threaded, one process. Each figure is the median over many short batches, which
 * shrugs off the odd scheduling hiccup better than one long average, and the operations'
 * batches alternate, so that a slower or faster stretch of the machine hits them all. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/x25519.h"
#include "crypto/x25519_batch.h"
#include "sphinx/sphinx_packet.h"
#include "util/cli.h"
#include "util/clock.h"

#define REGULAR_PAYLOAD 2065
#define PACKET_LEN (SPHINX_HEADER_LEN + REGULAR_PAYLOAD)
#define POOL 64
#define BENCH_HOPS 4 /* three mix layers and the exit gateway */
#define BATCH NYM_X25519_LANES /* what a node takes from one receive at a time */

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

int cmd_bench_sphinx(const char *context, int argc, char **argv)
{
	uint64_t seconds = 4;
	bool json = false;
	struct cli_option opts[] = {
		{ "seconds", CLI_U64, &seconds, false, "N  total measuring time (default 4)" },
		{ "json", CLI_FLAG, &json, false, "   one JSON object instead of text" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (seconds == 0) {
		fprintf(stderr, "%s: --seconds must be at least 1\n", context);
		return EXIT_FAIL;
	}

	struct bench_state *s = bench_state_new();
	if (!s) {
		fprintf(stderr, "%s: cannot set up the benchmark\n", context);
		return EXIT_FAIL;
	}
	int status = EXIT_FAIL;

	struct cmd_host_cpu cpu0, cpu1;
	cmd_host_cpu_read(&cpu0);
	static const bench_op ops[] = { op_x25519, op_create, op_forward, op_final, op_x25519_batch, op_forward_batch };
	double us[6], spread[6];
	int failed = measure(s, ops, 6, (double)seconds, us, spread);
	double x25519_us = us[0], create_us = us[1], forward_us = us[2], final_us = us[3];
	double x25519_batched_us = us[4] / BATCH, forward_batched_us = us[5] / BATCH;
	if (failed) {
		fprintf(stderr, "%s: a Sphinx operation failed during the benchmark\n", context);
		goto out;
	}
	cmd_host_cpu_read(&cpu1);
	double steal = cmd_host_steal_pct(&cpu0, &cpu1);
	double pps = 1e6 / forward_us;
	if (json) {
		json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "x25519_us", x25519_us, "create_us",
				      create_us, "process_forward_us", forward_us, "process_final_us", final_us,
				      "forward_packets_per_second", pps, "host_steal_pct", steal,
				      "host_speed_spread_pct", spread[0]);
		json_object_set_new(o, "x25519_batched_us", json_real(x25519_batched_us));
		json_object_set_new(o, "process_forward_batched_us", json_real(forward_batched_us));
		json_object_set_new(o, "x25519_vectorised", json_boolean(nym_x25519_batch_vectorised()));
		status = cmd_print_json(o);
		goto out;
	}
	printf("sphinx v%d, regular packets (%d bytes), 1 thread, medians of 20 ms batches taking turns for %llu s\n",
	       SPHINX_VERSION_DEFAULT, PACKET_LEN, (unsigned long long)seconds);
	printf("  x25519 scalar multiplication %9.2f us\n", x25519_us);
	printf("  create (4 hops)              %9.2f us  = %5.2f x x25519\n", create_us, create_us / x25519_us);
	printf("  process forward hop          %9.2f us  = %5.2f x x25519\n", forward_us, forward_us / x25519_us);
	printf("  process final hop            %9.2f us  = %5.2f x x25519\n", final_us, final_us / x25519_us);
	printf("  forward packets per second per core: %.0f\n", pps);
	printf("  in batches of %d (%s):\n", BATCH,
	       nym_x25519_batch_vectorised() ? "eight-lane AVX-512 IFMA ladder" : "no AVX-512 IFMA: one at a time");
	printf("    x25519 per operation       %9.2f us\n", x25519_batched_us);
	printf("    process forward per packet %9.2f us  = %5.2f x unbatched\n", forward_batched_us,
	       forward_batched_us / forward_us);
	printf("  host: %.1f %% of CPU time stolen by the hypervisor during the run%s\n", steal,
	       steal > 2 ? " (figures and ratios are unreliable)" : "");
	printf("  host: x25519 batches differed by %.0f %% of their median (10th to 90th percentile)%s\n",
	       spread[0], spread[0] > 20 ? " (an unsteady CPU: figures are unreliable)" : "");
	status = EXIT_OK;
out:
	free(s);
	return status;
}
