#include "nft/nft_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nft_index_entry *)a)->name, ((const struct nft_index_entry *)b)->name);
}

int nft_index_build(struct nft_index *ix, size_t n, const char *(*name_at)(const void *ctx, size_t i),
		    const void *ctx)
{
	ix->n = 0;
	ix->v = malloc((n ? n : 1) * sizeof(*ix->v));
	if (!ix->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ix->v[i] = (struct nft_index_entry){ name_at(ctx, i), (uint32_t)i };
	ix->n = n;
	qsort(ix->v, n, sizeof(*ix->v), entry_cmp);
	return 0;
}

bool nft_index_find(const struct nft_index *ix, const char *name, uint32_t *value)
{
	struct nft_index_entry key = { name, 0 };
	const struct nft_index_entry *e = bsearch(&key, ix->v, ix->n, sizeof(*ix->v), entry_cmp);
	if (!e)
		return false;
	*value = e->value;
	return true;
}

void nft_index_free(struct nft_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}
