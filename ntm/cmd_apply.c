/* nym-ntm apply and remove. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "netlink/net_sysctl.h"
#include "nft/nft_batch.h"
#include "nft/nft_dump.h"
#include "nft/nft_encode.h"
#include "ntm_plan.h"

static int read_forwarding(struct ntm_saved *s)
{
	s->valid = true;
	int rc = net_sysctl_read_int(NET_SYSCTL_IPV4_FORWARD, &s->ip_forward);
	if (rc)
		return rc;
	if (net_sysctl_read_int(NET_SYSCTL_IPV6_FORWARD, &s->ipv6_forwarding))
		s->ipv6_forwarding = -1;
	return 0;
}

/* The state saved by an earlier apply, if our table is installed and carries it. */
static int installed_state(struct ntm_saved *s, bool *exists)
{
	struct nft_objects o;
	int rc = nft_dump_table(NTM_TABLE, &o, exists);
	if (rc)
		return rc;
	if (*exists) {
		char comment[NFT_COMMENT_LEN];
		nft_table_comment(o.table, comment, sizeof(comment));
		ntm_saved_parse(comment, s, NULL);
	}
	nft_objects_free(&o);
	return 0;
}

static int set_forwarding(const char *context, const char *key, int value)
{
	/* Already so: no write (a sandboxed unit's /proc/sys is read-only; nym-node@.service's
	 * refresh after start must not fail on it). */
	int cur;
	if (net_sysctl_read_int(key, &cur) == 0 && cur == value)
		return 0;
	int rc = net_sysctl_write_int(key, value);
	if (rc)
		fprintf(stderr, "%s: cannot set %s to %d: %s\n", context, key, value, strerror(-rc));
	return rc;
}

int cmd_apply(const char *context, int argc, char **argv)
{
	struct ntm_options o;
	struct cli_option opts[NTM_PLAN_OPTIONS];
	ntm_plan_options(&o, opts, true);
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct ntm_plan plan;
	struct nft_ruleset rs;
	struct nft_objects objs;
	memset(&rs, 0, sizeof(rs));
	memset(&objs, 0, sizeof(objs));
	int status = EXIT_FAIL;
	if (ntm_plan_prepare(context, &o, &plan))
		goto out;

	/* Keep the settings from before the first apply: re-applying must not forget them. */
	struct ntm_saved saved = { 0 };
	bool exists = false;
	rc = installed_state(&saved, &exists);
	if (rc && !o.dry_run) {
		fprintf(stderr, "%s: cannot read the nftables ruleset: %s%s\n", context, strerror(-rc),
			rc == -EPERM ? " (run as root)" : "");
		goto out;
	}
	if (!saved.valid && (rc = read_forwarding(&saved))) {
		fprintf(stderr, "%s: cannot read %s: %s\n", context, NET_SYSCTL_IPV4_FORWARD, strerror(-rc));
		goto out;
	}
	char comment[NFT_COMMENT_LEN];
	ntm_saved_format(&saved, plan.cfg.mode, comment, sizeof(comment));
	rc = ntm_plan_ruleset(&plan, comment, &rs);
	if (rc) {
		fprintf(stderr, "%s: cannot build the ruleset: %s\n", context, strerror(-rc));
		goto out;
	}
	bool gateway = plan.cfg.mode != NFT_GATEWAY_MIXNODE;
	if (o.dry_run) {
		printf("# nym-ntm apply --dry-run: mode %s", gateway_config_mode_name(plan.cfg.mode));
		if (gateway)
			printf(", IPv4 uplink %s, IPv6 uplink %s, policy %s", plan.uplink_v4[0] ? plan.uplink_v4 : "none",
			       plan.uplink_v6[0] ? plan.uplink_v6 : "none", plan.policy_name);
		printf("\n");
		if (gateway)
			printf("# and then: net.ipv4.ip_forward = %d, net.ipv6.conf.all.forwarding = %d\n",
			       plan.uplink_v4[0] ? 1 : saved.ip_forward, plan.uplink_v6[0] ? 1 : saved.ipv6_forwarding);
		status = nft_ruleset_print(&rs, stdout) == 0 && fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	}
	if ((rc = nft_encode(&rs, &objs))) {
		fprintf(stderr, "%s: cannot encode the ruleset: %s\n", context, strerror(-rc));
		goto out;
	}
	struct nft_batch_error berr;
	rc = nft_batch_replace(&objs, &berr);
	if (rc && berr.refused) {
		fprintf(stderr, "%s: the transaction failed (%s): %s%s; nothing was changed\n", context,
			berr.what[0] ? berr.what : "?", strerror(-rc), rc == -EPERM ? " (run as root)" : "");
		goto out;
	}
	if (rc) {
		fprintf(stderr, "%s: %s: %s; whether the table was replaced is unknown (nym-ntm status tells)\n",
			context, berr.what[0] ? berr.what : "committing", strerror(-rc));
		goto out;
	}
	/* Forwarding only after the policy is in place, so nothing is forwarded unfiltered. */
	if (gateway) {
		if (plan.uplink_v4[0] && set_forwarding(context, NET_SYSCTL_IPV4_FORWARD, 1))
			goto out;
		if (plan.uplink_v6[0] && saved.ipv6_forwarding >= 0 && set_forwarding(context, NET_SYSCTL_IPV6_FORWARD, 1))
			goto out;
		char ra[64];
		if (plan.uplink_v6[0]) {
			char key[96];
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", plan.uplink_v6);
			if (net_sysctl_read(key, ra, sizeof(ra)) == 0 && strcmp(ra, "1") == 0)
				fprintf(stderr,
					"%s: note: with forwarding on, %s ignores router advertisements (accept_ra=1); "
					"set it to 2 if its IPv6 address or route comes from SLAAC\n",
					context, plan.uplink_v6);
		}
	} else if (exists) {
		/* A gateway host turned into a mixnode: forwarding back to how it was. */
		if (saved.ip_forward >= 0 && set_forwarding(context, NET_SYSCTL_IPV4_FORWARD, saved.ip_forward))
			goto out;
		if (saved.ipv6_forwarding >= 0 && set_forwarding(context, NET_SYSCTL_IPV6_FORWARD, saved.ipv6_forwarding))
			goto out;
	}
	printf("%s: table inet %s installed: %s", context, NTM_TABLE, gateway_config_mode_name(plan.cfg.mode));
	if (gateway)
		printf(", IPv4 uplink %s, IPv6 uplink %s, %s (%zu entries)", plan.uplink_v4[0] ? plan.uplink_v4 : "none",
		       plan.uplink_v6[0] ? plan.uplink_v6 : "none", plan.policy_name, plan.policy.n_entries);
	printf(", %zu chains, %zu rules, %zu sets", rs.n_chains, rs.n_rules, rs.n_sets);
	if (plan.n_offload_devices)
		printf(", flowtable on %zu device%s", plan.n_offload_devices, plan.n_offload_devices == 1 ? "" : "s");
	printf("\n");
	if (plan.offload_unsupported)
		printf("%s: this kernel has no nftables flowtables (nf_flow_table_inet): established "
		       "connections take the full forwarding path\n", context);
	status = EXIT_OK;
out:
	nft_objects_free(&objs);
	nft_ruleset_free(&rs);
	ntm_plan_free(&plan);
	return status;
}

int cmd_remove(const char *context, int argc, char **argv)
{
	struct cli_option opts[] = { { 0 } };
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct ntm_saved saved = { 0 };
	bool exists = false;
	rc = installed_state(&saved, &exists);
	if (rc) {
		fprintf(stderr, "%s: cannot read the nftables ruleset: %s%s\n", context, strerror(-rc),
			rc == -EPERM ? " (run as root)" : "");
		return EXIT_FAIL;
	}
	if (!exists) {
		printf("%s: table inet %s is not installed; nothing to do\n", context, NTM_TABLE);
		return EXIT_OK;
	}
	/* Forwarding first: between the two steps nothing passes unfiltered. */
	if (saved.valid) {
		if (saved.ip_forward >= 0 && set_forwarding(context, NET_SYSCTL_IPV4_FORWARD, saved.ip_forward))
			return EXIT_FAIL;
		if (saved.ipv6_forwarding >= 0 && set_forwarding(context, NET_SYSCTL_IPV6_FORWARD, saved.ipv6_forwarding))
			return EXIT_FAIL;
	} else {
		fprintf(stderr, "%s: the table carries no saved forwarding settings; leaving them as they are\n", context);
	}
	struct nft_batch_error berr;
	rc = nft_batch_delete_table(NTM_TABLE, &berr);
	if (rc) {
		fprintf(stderr, "%s: cannot delete table inet %s: %s\n", context, NTM_TABLE, strerror(-rc));
		return EXIT_FAIL;
	}
	printf("%s: table inet %s deleted", context, NTM_TABLE);
	if (saved.valid)
		printf("; net.ipv4.ip_forward back to %d, net.ipv6.conf.all.forwarding back to %d", saved.ip_forward,
		       saved.ipv6_forwarding);
	printf("\n");
	return EXIT_OK;
}
