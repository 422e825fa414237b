/* Name -> number lookups for tables with thousands of chains: a sorted array searched by
 * bisection, so that encoding, printing and decoding a large policy stay O(n log n). */
#ifndef NYM_NFT_NFT_INDEX_H
#define NYM_NFT_NFT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nft_index_entry {
	const char *name; /* borrowed: must outlive the index */
	uint32_t value;
};

struct nft_index {
	struct nft_index_entry *v;
	size_t n;
};

/* Indexes name_at(ctx, i) -> i for i < n. Returns 0 or -ENOMEM. With duplicate names, one
 * of them is found. */
int nft_index_build(struct nft_index *ix, size_t n, const char *(*name_at)(const void *ctx, size_t i),
		    const void *ctx);

bool nft_index_find(const struct nft_index *ix, const char *name, uint32_t *value);

void nft_index_free(struct nft_index *ix);

#endif
