/* Turns a ruleset description into libnftnl objects: the table, chains, sets with their
 * elements and rules, encoded as nft(8) 1.0 encodes the same text (same expressions in the
 * same order, same set flags and user data). nft_batch sends them; nft_dump compares them
 * with what the kernel reports. */
#ifndef NYM_NFT_NFT_ENCODE_H
#define NYM_NFT_NFT_ENCODE_H

#include <stddef.h>

#include "nft/nft_ruleset.h"

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;
struct nftnl_rule;
struct nftnl_flowtable;

struct nft_objects {
	struct nftnl_table *table;
	struct nftnl_flowtable *flowtable; /* NULL = none */
	struct nftnl_chain **chains;
	size_t n_chains;
	struct nftnl_set **sets; /* with their elements attached */
	size_t n_sets;
	struct nftnl_rule **rules;
	size_t n_rules;
};

/* nftables' datatype numbers (nftables src/datatype.h), kept in set metadata so that
 * `nft list` can print keys. */
#define NFT_TYPE_VERDICT 1
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_ICMP6_TYPE 29
#define NFT_TYPE_IFNAME 41

/* Returns 0, -EINVAL (rs->error set, or a statement that cannot be encoded) or -ENOMEM. */
int nft_encode(const struct nft_ruleset *rs, struct nft_objects *out);
void nft_objects_free(struct nft_objects *o);

#endif
