/* nftables transactions over libmnl: everything in one batch, so the kernel applies all of
 * it or none of it. Only the named inet table is ever created, replaced or deleted; other
 * tables on the host are never in a batch of ours. */
#ifndef NYM_NFT_NFT_BATCH_H
#define NYM_NFT_NFT_BATCH_H

#include <stdbool.h>

#include "nft/nft_encode.h"

struct nft_batch_error {
	char what[200]; /* which object the kernel refused, e.g. "rule 3 of chain forward" */
	bool refused;	/* the kernel refused the batch, so none of it took effect; when false
			 * on a failure, its fate is unknown (the answer was lost) */
};

/* Installs the objects as table o->table, replacing any table of that name in the same
 * transaction (create-if-missing, delete, create): there is no moment with neither the old
 * nor the new ruleset. Returns 0 or the kernel's -errno (err->what names the object). */
int nft_batch_replace(const struct nft_objects *o, struct nft_batch_error *err);

/* Deletes inet table `name`. Returns 0 (also when it does not exist) or -errno. */
int nft_batch_delete_table(const char *name, struct nft_batch_error *err);

/* Whether the kernel takes a software flowtable in an inet table (nf_flow_table_inet built
 * or loadable): 1 yes, 0 no, -errno when it cannot be asked (-EPERM without CAP_NET_ADMIN).
 * Asks by sending one in a batch the kernel checks and then aborts: nothing is installed,
 * not even for a moment. */
int nft_batch_flowtable_supported(void);

#endif
