/* What `nym-ntm apply` would install, worked out from the configuration, the command line,
 * the policy file and the host's routes. apply installs it, status compares the kernel's
 * table with it, --dry-run prints it. */
#ifndef NYM_NTM_NTM_PLAN_H
#define NYM_NTM_NTM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "nft/gateway_config.h"
#include "nft/nft_gateway.h"
#include "nft/nft_ruleset.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "util/cli.h"

#define NTM_DEFAULT_CONFIG "/etc/nym/ntm.yaml"
#define NTM_DEFAULT_POLICY "/etc/nym/exit-policy.txt"
#define NTM_TABLE "nym-ntm"

struct ntm_options {
	const char *config;
	const char *policy;
	const char *uplink, *uplink_v4, *uplink_v6;
	uint64_t ssh_port;
	const char *mode;
	bool dry_run;
};

/* The options shared by apply and status (dry_run only when with_dry_run). The array ends
 * with a zero entry; `opts` must hold NTM_PLAN_OPTIONS entries. */
#define NTM_PLAN_OPTIONS 10
void ntm_plan_options(struct ntm_options *o, struct cli_option *opts, bool with_dry_run);

/* Forwarding settings as they were before the first apply, kept in the table's comment so
 * that remove can put them back. -1: the setting does not exist (IPv6 disabled). */
struct ntm_saved {
	bool valid;
	int ip_forward;
	int ipv6_forwarding;
};

void ntm_saved_format(const struct ntm_saved *s, enum nft_gateway_mode mode, char *out, size_t cap);
/* Parses a table comment written by ntm_saved_format; *mode may be NULL. */
bool ntm_saved_parse(const char *comment, struct ntm_saved *s, enum nft_gateway_mode *mode);

struct ntm_plan {
	struct gateway_config cfg;
	char policy_name[4096]; /* file name, or "entry-gateway policy" */
	char *policy_text;
	struct policy policy;
	struct policy_compiled compiled;
	bool have_policy;
	char uplink_v4[NFT_IFNAME_LEN]; /* resolved; "" = none */
	char uplink_v6[NFT_IFNAME_LEN];
	/* The flowtable's devices: the uplinks (which exist: apply resolves them), when
	 * flow_offload is on and the kernel has flowtables (none otherwise). Never the tunnels,
	 * which the node creates after apply. */
	char offload_devices[NFT_FLOWTABLE_MAX_DEVICES][NFT_IFNAME_LEN];
	size_t n_offload_devices;
	bool offload_unsupported; /* flow_offload is on but the kernel has no flowtables */
};

/* Loads everything; prints "<context>: problem" (or "FILE:LINE:COL: problem") and returns
 * -EINVAL for user errors, -errno for others. */
int ntm_plan_prepare(const char *context, const struct ntm_options *o, struct ntm_plan *plan);

/* The table for this plan with the given table comment. Returns 0 or -errno; rs must be
 * freed either way. */
int ntm_plan_ruleset(const struct ntm_plan *plan, const char *comment, struct nft_ruleset *rs);

void ntm_plan_free(struct ntm_plan *plan);

/* The largest configuration or policy file read (a 10,000-network policy is about 0.3 MiB). */
#define NTM_FILE_MAX (64u << 20)

#endif
