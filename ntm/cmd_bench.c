/* nym-ntm policy bench: what a policy lookup costs as the policy grows, for the compiled
 * form (what the IP packet router and the nftables maps use) and the linear first-match
 * walk. A measurement printed for the reader, not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_match.h"
#include "util/cli.h"
#include "util/clock.h"

static uint64_t rng = 0x853c49e6748fea9bull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* N rejected /24 networks, a port allowlist, a final reject: the shape of Nym's policy with
 * a long deny list. */
static char *make_policy(size_t n)
{
	size_t cap = n * 48 + 4096, off = 0;
	char *t = malloc(cap);
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t a = next();
		off += (size_t)snprintf(t + off, cap - off, "ExitPolicy reject %u.%u.%u.0/24:*\n", 1 + a % 222,
					(a >> 8) & 255, (a >> 16) & 255);
	}
	static const char *const allow[] = { "53", "80-81", "443", "465 tcp limit 30/minute burst 60", "853",
					     "993", "1194", "5000-5005", "8080", "50000-65535" };
	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		off += (size_t)snprintf(t + off, cap - off, "ExitPolicy accept *:%s\n", allow[i]);
	snprintf(t + off, cap - off, "ExitPolicy reject *:*\n");
	return t;
}

int cmd_policy_bench(const char *context, int argc, char **argv)
{
	uint64_t lookups = 2000000;
	struct cli_option opts[] = {
		{ "lookups", CLI_U64, &lookups, false, "N  compiled lookups per size (default 2000000)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (lookups < 1000)
		lookups = 1000;
	enum { QUERIES = 4096 };
	static struct policy_addr q[QUERIES];
	static uint16_t qport[QUERIES];
	for (int i = 0; i < QUERIES; i++) {
		uint32_t a = next();
		q[i].family = POLICY_FAMILY_V4;
		memcpy(q[i].bytes, &a, 4);
		qport[i] = (uint16_t)next();
	}
	printf("%-9s %9s %8s %14s %14s\n", "entries", "v4 ranges", "groups", "compiled ns", "linear ns");
	static const size_t sizes[] = { 10, 100, 1000, 10000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		char *text = make_policy(sizes[s]);
		struct policy p;
		struct policy_error err;
		struct policy_compiled c;
		if (!text || policy_parse(text, strlen(text), &p, &err) || policy_compile(&p, &c)) {
			fprintf(stderr, "%s: cannot build the test policy\n", context);
			free(text);
			return EXIT_FAIL;
		}
		free(text);
		struct policy_verdict v;
		uint64_t accepted = 0;
		uint64_t t0 = nym_clock_now_ns();
		for (uint64_t i = 0; i < lookups; i++) {
			policy_compiled_lookup(&c, &q[i % QUERIES], POLICY_PROTO_TCP, qport[i % QUERIES], &v);
			accepted += v.accept;
		}
		double compiled_ns = (double)(nym_clock_now_ns() - t0) / (double)lookups;
		uint64_t linear_n = lookups / (sizes[s] / 10 + 1);
		t0 = nym_clock_now_ns();
		for (uint64_t i = 0; i < linear_n; i++) {
			policy_match(&p, &q[i % QUERIES], POLICY_PROTO_TCP, qport[i % QUERIES], &v);
			accepted += v.accept;
		}
		double linear_ns = (double)(nym_clock_now_ns() - t0) / (double)linear_n;
		printf("%-9zu %9zu %8zu %14.1f %14.1f\n", p.n_entries, c.n_v4, c.n_groups, compiled_ns, linear_ns);
		if (accepted == UINT64_MAX)
			printf("\n"); /* keeps the loops from being optimised away */
		policy_compiled_free(&c);
		policy_free(&p);
	}
	return EXIT_OK;
}
