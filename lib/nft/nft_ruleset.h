/* A description of one nftables table (chains, sets, maps, rules) as plain data: built by
 * code that knows what the host needs (nft_gateway), committed in one transaction by
 * nft_batch, printed in `nft -f` syntax for --dry-run, and compared with what the kernel
 * holds by nft_dump.
 *
 * Only the statements this project uses are expressible. Each is encoded exactly as nft(8)
 * 1.0 encodes the same text, so `nft list` shows our rules in their usual form. */
#ifndef NYM_NFT_NFT_RULESET_H
#define NYM_NFT_NFT_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NFT_NAME_LEN 64	    /* chain, set and table names, with the NUL */
#define NFT_COMMENT_LEN 128 /* nft's own limit on comments, with the NUL */
#define NFT_IFNAME_LEN 16   /* IFNAMSIZ */

enum nft_family {
	NFT_V4 = 4,
	NFT_V6 = 6,
};

enum nft_key {
	NFT_KEY_IPV4,	     /* ipv4_addr */
	NFT_KEY_IPV6,	     /* ipv6_addr */
	NFT_KEY_PORT,	     /* inet_service */
	NFT_KEY_IFNAME,	     /* ifname */
	NFT_KEY_ICMPV6_TYPE, /* icmpv6_type */
};

enum nft_verdict {
	NFT_VERDICT_NONE = 0, /* a plain set, or an element without data */
	NFT_VERDICT_ACCEPT,
	NFT_VERDICT_DROP,
	NFT_VERDICT_JUMP,
	NFT_VERDICT_GOTO,
};

/* One element: [lo, hi] in network byte order (a single key when lo == hi). Map elements
 * carry a verdict and, for jump/goto, a chain. */
struct nft_elem {
	uint8_t lo[16], hi[16];
	enum nft_verdict verdict;
	char chain[NFT_NAME_LEN];
};

struct nft_set {
	char name[NFT_NAME_LEN];
	enum nft_key key;
	bool interval;
	bool vmap;    /* data is a verdict */
	bool dynamic; /* filled by the packet path (update @set) */
	uint32_t timeout_ms;
	uint32_t size;
	struct nft_elem *elems;
	size_t n_elems, cap_elems;
};

enum nft_hook {
	NFT_HOOK_NONE = 0, /* a regular chain */
	NFT_HOOK_INPUT,
	NFT_HOOK_FORWARD,
	NFT_HOOK_POSTROUTING,
	NFT_HOOK_OUTPUT,
	NFT_HOOK_PREROUTING,
};

struct nft_chain {
	char name[NFT_NAME_LEN];
	enum nft_hook hook;
	bool nat;	  /* type nat (else filter) */
	int32_t priority; /* 0 = filter, 100 = srcnat, -100 = dstnat */
	bool policy_drop;
	char comment[NFT_COMMENT_LEN];
};

enum nft_stmt_kind {
	/* matches */
	NFT_M_IIFNAME,	   /* iifname "name" */
	NFT_M_OIFNAME,	   /* oifname "name" */
	NFT_M_IIFNAME_SET, /* iifname @set */
	NFT_M_OIFNAME_SET, /* oifname @set */
	NFT_M_NFPROTO,	   /* meta nfproto ipv4|ipv6 (arg = family) */
	NFT_M_L4PROTO,	   /* meta l4proto tcp|udp (arg = IPPROTO_*) */
	NFT_M_CT_STATE,	   /* ct state A,B (arg = NF_CT_STATE_* bits) */
	NFT_M_SADDR_SET,   /* ip saddr @set / ip6 saddr @set (arg = family) */
	NFT_M_DADDR_SET,   /* ip daddr @set / ip6 daddr @set (arg = family) */
	NFT_M_DPORT,	   /* tcp|udp dport N (arg = IPPROTO_*, port) */
	NFT_M_DPORT_SET,   /* tcp|udp dport @set (arg = IPPROTO_*) */
	NFT_M_ICMP_ECHO,   /* icmp type echo-request / icmpv6 type echo-request (arg = family) */
	NFT_M_ICMPV6_TYPE_SET, /* icmpv6 type @set */
	NFT_M_OIFNAME_NOT, /* oifname != "name" */
	NFT_M_MARK,	   /* meta mark 0x... (arg = mark) */
	NFT_M_DADDR,	   /* ip daddr A / ip6 daddr A (arg = family, addr) */
	NFT_M_SPORT_DPORT, /* tcp|udp sport S tcp|udp dport D (arg = IPPROTO_*, sport, port):
			    * one 4-byte compare, as nft merges the two */
	/* statements */
	NFT_S_COUNTER,
	NFT_S_LIMIT_OVER, /* update @set { ip saddr limit rate over R/U burst B packets } (arg = family) */
	NFT_S_MASQUERADE,
	NFT_S_DNAT,	/* dnat ip to A / dnat ip6 to A (arg = family, addr; an nfproto match first) */
	NFT_S_FLOW_ADD, /* flow add @flowtable */
	/* verdicts, always last */
	NFT_V_ACCEPT,
	NFT_V_DROP,
	NFT_V_JUMP,
	NFT_V_GOTO,
	NFT_V_REJECT_TCP,  /* reject with tcp reset (needs an l4proto tcp match first) */
	NFT_V_REJECT_PORT, /* reject with icmpx port-unreachable */
	NFT_V_VMAP_DADDR,  /* ip daddr vmap @set / ip6 daddr vmap @set (arg = family) */
	NFT_V_VMAP_DPORT,  /* tcp|udp dport vmap @set (arg = IPPROTO_*) */
};

struct nft_stmt {
	enum nft_stmt_kind kind;
	uint32_t arg;
	uint16_t port;
	uint16_t sport;
	uint8_t addr[16];	 /* NFT_M_DADDR, NFT_S_DNAT: network byte order */
	char name[NFT_NAME_LEN]; /* set, chain or interface */
	uint32_t rate, unit_s, burst;
};

#define NFT_RULE_MAX_STMTS 8

struct nft_rule {
	char chain[NFT_NAME_LEN];
	struct nft_stmt stmts[NFT_RULE_MAX_STMTS];
	size_t n_stmts;
	char comment[NFT_COMMENT_LEN];
};

/* A software flowtable: connections a rule offloads to it (flow add @name) skip the
 * forward path, conntrack's per-packet work and NAT lookups included, from the ingress hook
 * of its devices until they end. Devices must exist when the table is installed. */
#define NFT_FLOWTABLE_MAX_DEVICES 8

struct nft_flowtable {
	char name[NFT_NAME_LEN];
	int32_t priority; /* ingress hook priority; 0 = filter */
	char devices[NFT_FLOWTABLE_MAX_DEVICES][NFT_IFNAME_LEN];
	size_t n_devices;
};

/* ct state bits as the kernel numbers them. */
#define NFT_CT_INVALID 1u
#define NFT_CT_ESTABLISHED 2u
#define NFT_CT_RELATED 4u
#define NFT_CT_NEW 8u

/* One table of family inet. */
struct nft_ruleset {
	char table[NFT_NAME_LEN];
	char comment[NFT_COMMENT_LEN];
	struct nft_chain *chains;
	size_t n_chains, cap_chains;
	struct nft_set **sets; /* separately allocated: pointers stay valid while building */
	size_t n_sets, cap_sets;
	struct nft_rule *rules;
	size_t n_rules, cap_rules;
	struct nft_flowtable *flowtable; /* NULL = none */
	int error; /* first -ENOMEM or -EINVAL met while building; checked once at the end */
};

void nft_ruleset_init(struct nft_ruleset *rs, const char *table);
void nft_ruleset_free(struct nft_ruleset *rs);

/* Builders. They never fail on their own: an error is latched in rs->error and the object
 * returned is a scratch one, so building code reads straight and checks rs->error once. */
struct nft_chain *nft_add_chain(struct nft_ruleset *rs, const char *name, const char *comment);
struct nft_chain *nft_add_base_chain(struct nft_ruleset *rs, const char *name, enum nft_hook hook,
				     bool nat, int32_t priority, bool policy_drop,
				     const char *comment);
struct nft_set *nft_add_set(struct nft_ruleset *rs, const char *name, enum nft_key key, bool interval,
			    bool vmap);
void nft_set_add(struct nft_ruleset *rs, struct nft_set *set, const void *lo, const void *hi,
		 enum nft_verdict verdict, const char *chain);
/* Adds the table's one flowtable, or returns the existing one; devices are added with
 * nft_flowtable_add_device (duplicates ignored). */
struct nft_flowtable *nft_add_flowtable(struct nft_ruleset *rs, const char *name, int32_t priority);
void nft_flowtable_add_device(struct nft_ruleset *rs, struct nft_flowtable *ft, const char *ifname);
/* Convenience for single keys: ports (host order), interface names. */
void nft_set_add_port(struct nft_ruleset *rs, struct nft_set *set, uint16_t lo, uint16_t hi);
void nft_set_add_ifname(struct nft_ruleset *rs, struct nft_set *set, const char *ifname);

/* Starts a rule in `chain`; add statements with nft_rule_*; the comment may be NULL. */
struct nft_rule *nft_add_rule(struct nft_ruleset *rs, const char *chain, const char *comment);
void nft_rule_stmt(struct nft_ruleset *rs, struct nft_rule *r, enum nft_stmt_kind kind, uint32_t arg,
		   const char *name);
void nft_rule_dport(struct nft_ruleset *rs, struct nft_rule *r, uint8_t l4proto, uint16_t port);
/* meta mark M; ip|ip6 daddr A (4 or 16 bytes by family); tcp|udp sport S dport D. */
void nft_rule_mark(struct nft_ruleset *rs, struct nft_rule *r, uint32_t mark);
void nft_rule_daddr(struct nft_ruleset *rs, struct nft_rule *r, enum nft_family family, const void *addr);
/* dnat ip|ip6 to A (the rule must match that family first: nft_rule_stmt NFT_M_NFPROTO). */
void nft_rule_dnat(struct nft_ruleset *rs, struct nft_rule *r, enum nft_family family, const void *addr);
void nft_rule_ports(struct nft_ruleset *rs, struct nft_rule *r, uint8_t l4proto, uint16_t sport, uint16_t dport);
void nft_rule_limit(struct nft_ruleset *rs, struct nft_rule *r, enum nft_family family,
		    const char *set, uint32_t rate, uint32_t unit_s, uint32_t burst);

const struct nft_chain *nft_find_chain(const struct nft_ruleset *rs, const char *name);
const struct nft_set *nft_find_set(const struct nft_ruleset *rs, const char *name);

/* Key length in bytes. */
size_t nft_key_len(enum nft_key key);

/* Writes the table in the syntax of `nft -f` (what `nft list table` prints, give or take
 * whitespace). Returns 0 or -errno from the stream. */
int nft_ruleset_print(const struct nft_ruleset *rs, FILE *out);

/* Writes one rule's statements (no chain, no newline), e.g. for status output. */
void nft_rule_format(const struct nft_rule *r, char *out, size_t cap);

#endif
