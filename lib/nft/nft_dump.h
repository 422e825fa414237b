/* Reading one inet table back from the kernel (for `status` and `check`), and comparing
 * table contents object by object in a canonical text form that ignores what the kernel
 * adds (handles, counters, element order, the contents of dynamic sets). */
#ifndef NYM_NFT_NFT_DUMP_H
#define NYM_NFT_NFT_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nft/nft_encode.h"

/* Reads inet table `name` with its chains, rules (in chain order), sets and elements,
 * retrying if the ruleset changes while it is read. Returns 0 (*exists false when there is
 * no such table) or -errno. */
int nft_dump_table(const char *name, struct nft_objects *out, bool *exists);

/* The comment stored in a table's, chain's or rule's user data ("" if none). */
void nft_table_comment(const struct nftnl_table *t, char *out, size_t cap);
void nft_chain_comment(const struct nftnl_chain *c, char *out, size_t cap);
void nft_rule_comment(const struct nftnl_rule *r, char *out, size_t cap);

/* Canonical lines, sorted; one per table, chain, set, element and rule. */
struct nft_canon {
	char **lines;
	size_t n, cap;
};

int nft_canon_build(const struct nft_objects *o, struct nft_canon *out);
void nft_canon_free(struct nft_canon *c);

/* Writes up to `max` differing lines, each prefixed "- " (expected only) or "+ " (installed
 * only); returns the number of differing lines. */
size_t nft_canon_diff(const struct nft_canon *expected, const struct nft_canon *installed, FILE *out,
		      size_t max);

/* The counter of rule r (first counter expression); false when it has none. */
bool nft_rule_counter(const struct nftnl_rule *r, uint64_t *packets, uint64_t *bytes);

/* An element of a dumped set, for decoding maps. */
struct nft_dump_elem {
	uint8_t key[16];
	uint32_t key_len;
	bool interval_end;
	int verdict; /* NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_GOTO, or -1 without data */
	char chain[64];
};

/* Elements of set `name` in o, sorted by key. Returns 0, -ENOENT or -ENOMEM; free *out. */
int nft_dump_set_elems(const struct nft_objects *o, const char *name, struct nft_dump_elem **out,
		       size_t *n);

#endif
