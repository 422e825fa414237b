/* An exit policy as nftables objects, and back.
 *
 * Emitting: chain `tunnel_policy` looks the destination up in the interval maps policy_v4 /
 * policy_v6, which send each address range to its group's chain (policy_gN) or, when the
 * whole group is decided by one entry, straight to that entry's chain. A group chain looks
 * the destination port up in policy_gN_tcp / policy_gN_udp and sends ICMP echo and other
 * protocols to their entries. Every entry that decides something has a chain (policy_l12,
 * or policy_l12c30 for the second item on line 12) that counts and accepts, rejects (TCP
 * reset, otherwise ICMP port unreachable) or applies its per-client rate limit through a
 * dynamic set. So a packet costs two interval lookups whatever the policy size.
 *
 * Decoding reads those maps and chains from a dump into a policy_compiled, which answers
 * `nym-ntm check` about the policy the kernel actually enforces. */
#ifndef NYM_NFT_NFT_POLICY_H
#define NYM_NFT_NFT_POLICY_H

#include "nft/nft_encode.h"
#include "nft/nft_ruleset.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"

#define NFT_POLICY_CHAIN "tunnel_policy"

/* Adds the policy's chains and maps to rs. Returns rs->error. */
int nft_policy_emit(struct nft_ruleset *rs, const struct policy *p, const struct policy_compiled *c);

/* An entry as recorded in its chain's comment. */
struct nft_policy_entry {
	uint32_t line;
	enum policy_action action;
	char text[NFT_COMMENT_LEN]; /* "accept *:443" */
	char chain[NFT_NAME_LEN];
};

struct nft_policy_decoded {
	struct policy_compiled compiled; /* entry numbers index `entries` */
	struct nft_policy_entry *entries;
	size_t n_entries;
};

/* Rebuilds the policy from a dumped table. Returns 0, -ENOENT (the table holds no policy),
 * -EBADMSG (the objects do not have the shape nft_policy_emit gives them) or -ENOMEM. */
int nft_policy_decode(const struct nft_objects *installed, struct nft_policy_decoded *out);
void nft_policy_decoded_free(struct nft_policy_decoded *d);

#endif
