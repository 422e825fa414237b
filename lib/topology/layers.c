#include "topology/layers.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sha256.h"

void nym_layers_seed(uint64_t epoch, const uint8_t *previous_digest, uint8_t seed[32])
{
	static const uint8_t zero[32];
	static const char domain[] = "nym-layers-v1";
	uint8_t e[8];
	for (int i = 0; i < 8; i++)
		e[i] = (uint8_t)(epoch >> (56 - 8 * i));
	struct nym_sha256 h;
	nym_sha256_init(&h);
	nym_sha256_update(&h, domain, sizeof(domain)); /* with its NUL */
	nym_sha256_update(&h, e, sizeof(e));
	nym_sha256_update(&h, previous_digest ? previous_digest : zero, 32);
	nym_sha256_final(&h, seed);
}

struct slot {
	uint8_t rank[32]; /* SHA-256(seed || id): order and preferences */
	size_t index;
	int forbidden; /* previous layer, or NYM_LAYER_NONE */
};

static int by_rank(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c = memcmp(x->rank, y->rank, 32);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* A perfect assignment of the remaining nodes into the remaining capacity exists iff, for
 * every layer l, the nodes that may not go to l fit in the other two layers (Hall's
 * condition; every node has at least two allowed layers, so no other subset binds). */
static bool feasible(const size_t cap[NYM_LAYERS], const size_t barred[NYM_LAYERS])
{
	size_t total = cap[0] + cap[1] + cap[2];
	for (int l = 0; l < NYM_LAYERS; l++)
		if (barred[l] > total - cap[l])
			return false;
	return true;
}

int nym_layers_assign(const uint8_t seed[32], const uint8_t (*ids)[32], size_t n, const int8_t *prev,
		      uint8_t *layer)
{
	if (n == 0)
		return 0;
	struct slot *s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct nym_sha256 h;
		nym_sha256_init(&h);
		nym_sha256_update(&h, seed, 32);
		nym_sha256_update(&h, ids[i], 32);
		nym_sha256_final(&h, s[i].rank);
		s[i].index = i;
		s[i].forbidden = prev && prev[i] >= 0 && prev[i] < NYM_LAYERS ? prev[i] : NYM_LAYER_NONE;
	}
	qsort(s, n, sizeof(*s), by_rank);

	/* Balanced sizes. Which layers take one more is drawn from the seed, among the choices
	 * that force the fewest nodes to keep their layer. */
	size_t cap[NYM_LAYERS], barred[NYM_LAYERS] = { 0 };
	size_t extra = n % NYM_LAYERS, best_forced = SIZE_MAX, first = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i].forbidden != NYM_LAYER_NONE)
			barred[s[i].forbidden]++;
	for (size_t t = 0; t < NYM_LAYERS; t++) {
		size_t f = (seed[0] + t) % NYM_LAYERS, forced = 0;
		for (size_t l = 0; l < NYM_LAYERS; l++) {
			size_t c = n / NYM_LAYERS + ((l + NYM_LAYERS - f) % NYM_LAYERS < extra);
			forced += barred[l] > n - c ? barred[l] - (n - c) : 0;
		}
		if (forced < best_forced) {
			best_forced = forced;
			first = f;
		}
	}
	for (size_t l = 0; l < NYM_LAYERS; l++)
		cap[l] = n / NYM_LAYERS + ((l + NYM_LAYERS - first) % NYM_LAYERS < extra);

	/* When too many nodes come from one layer for the others to hold them, the excess must
	 * stay: release the bar of the last ones in rank order (at most one layer can be
	 * over, since the other two together hold at most n nodes). */
	for (int l = 0; l < NYM_LAYERS; l++) {
		if (barred[l] <= n - cap[l])
			continue;
		size_t excess = barred[l] - (n - cap[l]);
		for (size_t i = n; i-- > 0 && excess;)
			if (s[i].forbidden == l) {
				s[i].forbidden = NYM_LAYER_NONE;
				barred[l]--;
				excess--;
			}
	}

	/* Greedy in rank order: each node takes its most preferred allowed layer that leaves
	 * the rest feasible. Its preferences are a permutation of the layers drawn from its
	 * rank. One always exists while the state is feasible. */
	static const uint8_t perms[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					     { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *pref = perms[s[i].rank[31] % 6];
		if (s[i].forbidden != NYM_LAYER_NONE)
			barred[s[i].forbidden]--;
		int chosen = -1;
		for (int p = 0; p < NYM_LAYERS && chosen < 0; p++) {
			int l = pref[p];
			if (l == s[i].forbidden || cap[l] == 0)
				continue;
			cap[l]--;
			if (feasible(cap, barred))
				chosen = l;
			else
				cap[l]++;
		}
		if (chosen < 0) { /* unreachable: the state was feasible */
			rc = -EINVAL;
			break;
		}
		layer[s[i].index] = (uint8_t)chosen;
	}
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			if (prev && prev[i] >= 0 && prev[i] < NYM_LAYERS && layer[i] == (uint8_t)prev[i])
				rc++;
	free(s);
	return rc;
}
