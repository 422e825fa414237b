/* nym-ntm status: what is installed, whether it is what apply would install now, and the
 * counters of its rules. */
#include <errno.h>
#include <inttypes.h>
#include <libnftnl/chain.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "netlink/net_sysctl.h"
#include "nft/nft_dump.h"
#include "nft/nft_encode.h"
#include "nft/nft_index.h"
#include "ntm_plan.h"

static const char *chain_name_at(const void *ctx, size_t i)
{
	return nftnl_chain_get_str(((const struct nft_objects *)ctx)->chains[i], NFTNL_CHAIN_NAME);
}

static void chain_comment(const struct nft_objects *o, const struct nft_index *ix, const char *chain, char *buf,
			  size_t cap)
{
	uint32_t i;
	buf[0] = '\0';
	if (nft_index_find(ix, chain, &i))
		nft_chain_comment(o->chains[i], buf, cap);
}

static void print_counters(const struct nft_objects *o, bool all)
{
	struct nft_index ix;
	if (nft_index_build(&ix, o->n_chains, chain_name_at, o))
		return;
	printf("counters (packets, bytes):\n");
	size_t silent = 0;
	for (size_t i = 0; i < o->n_rules; i++) {
		uint64_t pk, by;
		if (!nft_rule_counter(o->rules[i], &pk, &by))
			continue;
		const char *chain = nftnl_rule_get_str(o->rules[i], NFTNL_RULE_CHAIN);
		char rc_[NFT_COMMENT_LEN], cc[NFT_COMMENT_LEN], what[2 * NFT_COMMENT_LEN + 4];
		nft_rule_comment(o->rules[i], rc_, sizeof(rc_));
		bool policy_entry = strncmp(chain, "policy_", 7) == 0;
		if (!rc_[0] || policy_entry) {
			chain_comment(o, &ix, chain, cc, sizeof(cc));
			snprintf(what, sizeof(what), rc_[0] ? "%s (%s)" : "%s", cc, rc_);
		} else {
			snprintf(what, sizeof(what), "%s", rc_);
		}
		if (policy_entry && pk == 0 && !all) {
			silent++;
			continue;
		}
		printf("  %-14s %12" PRIu64 " %14" PRIu64 "  %s\n", chain, pk, by, what);
	}
	if (silent)
		printf("  (%zu policy rules have not matched yet; --all lists them)\n", silent);
	nft_index_free(&ix);
}

int cmd_status(const char *context, int argc, char **argv)
{
	struct ntm_options o;
	struct cli_option opts[NTM_PLAN_OPTIONS + 1];
	ntm_plan_options(&o, opts, false);
	bool all = false;
	size_t n = 0;
	while (opts[n].name)
		n++;
	opts[n] = (struct cli_option){ "all", CLI_FLAG, &all, false, "list every counter, also those at zero" };
	memset(&opts[n + 1], 0, sizeof(opts[0]));
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct nft_objects inst, want;
	struct nft_ruleset rs;
	struct nft_canon ci, cw;
	struct ntm_plan plan;
	memset(&want, 0, sizeof(want));
	memset(&rs, 0, sizeof(rs));
	memset(&ci, 0, sizeof(ci));
	memset(&cw, 0, sizeof(cw));
	memset(&plan, 0, sizeof(plan));
	bool exists;
	int status = EXIT_FAIL;
	rc = nft_dump_table(NTM_TABLE, &inst, &exists);
	if (rc) {
		fprintf(stderr, "%s: cannot read the nftables ruleset: %s%s\n", context, strerror(-rc),
			rc == -EPERM ? " (run as root)" : "");
		return EXIT_FAIL;
	}
	if (!exists) {
		printf("table inet %s: not installed (nym-ntm apply installs it)\n", NTM_TABLE);
		return EXIT_FAIL;
	}
	char comment[NFT_COMMENT_LEN];
	nft_table_comment(inst.table, comment, sizeof(comment));
	struct ntm_saved saved;
	enum nft_gateway_mode mode = NFT_GATEWAY_EXIT;
	bool ours = ntm_saved_parse(comment, &saved, &mode);
	printf("table inet %s: installed, %zu chains, %zu rules, %zu sets", NTM_TABLE, inst.n_chains, inst.n_rules,
	       inst.n_sets);
	if (ours)
		printf(", mode %s\n", gateway_config_mode_name(mode));
	else
		printf(", without nym-ntm's state comment\n");
	if (inst.flowtable) {
		printf("flowtable %s: established connections offloaded on", nftnl_flowtable_get_str(inst.flowtable, NFTNL_FLOWTABLE_NAME));
		const char *const *devs = nftnl_flowtable_is_set(inst.flowtable, NFTNL_FLOWTABLE_DEVICES)
						  ? nftnl_flowtable_get_array(inst.flowtable, NFTNL_FLOWTABLE_DEVICES)
						  : NULL;
		for (size_t i = 0; devs && devs[i]; i++)
			printf(" %s", devs[i]);
		printf("\n");
	}

	int f4 = -1, f6 = -1;
	net_sysctl_read_int(NET_SYSCTL_IPV4_FORWARD, &f4);
	net_sysctl_read_int(NET_SYSCTL_IPV6_FORWARD, &f6);
	printf("forwarding: net.ipv4.ip_forward=%d net.ipv6.conf.all.forwarding=%d", f4, f6);
	if (ours)
		printf(" (before nym-ntm: %d and %d)", saved.ip_forward, saved.ipv6_forwarding);
	printf("\n");

	bool matches = false;
	if (ntm_plan_prepare(context, &o, &plan) == 0 && (rc = ntm_plan_ruleset(&plan, comment, &rs)) == 0 &&
	    (rc = nft_encode(&rs, &want)) == 0 && (rc = nft_canon_build(&want, &cw)) == 0 &&
	    (rc = nft_canon_build(&inst, &ci)) == 0) {
		if (plan.cfg.mode != NFT_GATEWAY_MIXNODE)
			printf("would apply: mode %s, IPv4 uplink %s, IPv6 uplink %s, %s (%zu entries)\n",
			       gateway_config_mode_name(plan.cfg.mode), plan.uplink_v4[0] ? plan.uplink_v4 : "none",
			       plan.uplink_v6[0] ? plan.uplink_v6 : "none", plan.policy_name, plan.policy.n_entries);
		size_t diffs = nft_canon_diff(&cw, &ci, NULL, 0);
		matches = diffs == 0;
		if (matches) {
			printf("matches what nym-ntm apply would install: yes\n");
		} else {
			printf("matches what nym-ntm apply would install: no, %zu differences "
			       "(- only in what apply would install, + only in the kernel):\n", diffs);
			nft_canon_diff(&cw, &ci, stdout, 40);
			if (diffs > 40)
				printf("  ... %zu more\n", diffs - 40);
		}
	} else {
		printf("matches what nym-ntm apply would install: unknown (see above)\n");
	}
	print_counters(&inst, all);
	status = matches ? EXIT_OK : EXIT_FAIL;
	nft_canon_free(&ci);
	nft_canon_free(&cw);
	nft_objects_free(&want);
	nft_ruleset_free(&rs);
	ntm_plan_free(&plan);
	nft_objects_free(&inst);
	return status;
}
