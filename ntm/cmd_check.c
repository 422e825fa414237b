/* nym-ntm check and nym-ntm policy show|test. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "nft/nft_dump.h"
#include "nft/nft_policy.h"
#include "ntm_plan.h"
#include "policy/policy.h"
#include "util/file.h"
#include "policy/policy_compile.h"
#include "policy/policy_match.h"

/* Reads, parses and compiles a policy file, printing FILE:LINE:COL for syntax errors. */
static int load_policy(const char *context, const char *path, struct policy *p, struct policy_compiled *c)
{
	char *text;
	size_t len;
	int rc = nym_file_read(path, NTM_FILE_MAX, (uint8_t **)&text, &len);
	if (rc) {
		fprintf(stderr, "%s: cannot read %s: %s\n", context, path, strerror(-rc));
		return rc;
	}
	struct policy_error err;
	rc = policy_parse(text, len, p, &err);
	free(text);
	if (rc == -EINVAL) {
		fprintf(stderr, "%s:%u:%u: %s\n", path, err.line, err.column, err.message);
		return rc;
	}
	if (rc || (rc = policy_compile(p, c))) {
		fprintf(stderr, "%s: cannot compile %s: %s\n", context, path, strerror(-rc));
		policy_free(p);
		return rc;
	}
	return 0;
}

int cmd_check(const char *context, int argc, char **argv)
{
	const char *policy_file = NULL;
	struct cli_option opts[] = {
		{ "policy", CLI_STRING, &policy_file, false, "FILE  check against this file instead of the installed policy" },
		{ 0 },
	};
	const char *pos[3];
	size_t npos = 0;
	int rc = cli_parse(context, argc, argv, opts, pos, 3, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_CHECK_ERROR;
	if (npos < 2) {
		fprintf(stderr, "%s: expected ADDR PORT [tcp|udp]\n", context);
		return EXIT_CHECK_ERROR;
	}
	struct policy_addr addr;
	if (policy_addr_parse(pos[0], &addr)) {
		fprintf(stderr, "%s: '%s' is not an IPv4 or IPv6 address\n", context, pos[0]);
		return EXIT_CHECK_ERROR;
	}
	char *end;
	errno = 0;
	unsigned long port = strtoul(pos[1], &end, 10);
	if (!*pos[1] || *end || errno || port > 65535 || pos[1][0] == '-') {
		fprintf(stderr, "%s: expected a port 0-65535, got '%s'\n", context, pos[1]);
		return EXIT_CHECK_ERROR;
	}
	enum policy_proto proto = POLICY_PROTO_TCP;
	if (npos == 3) {
		if (strcmp(pos[2], "udp") == 0)
			proto = POLICY_PROTO_UDP;
		else if (strcmp(pos[2], "tcp") != 0) {
			fprintf(stderr, "%s: expected tcp or udp, got '%s'\n", context, pos[2]);
			return EXIT_CHECK_ERROR;
		}
	}

	struct policy_verdict v;
	if (policy_file) {
		struct policy p;
		struct policy_compiled c;
		if (load_policy(context, policy_file, &p, &c))
			return EXIT_CHECK_ERROR;
		bool exempt;
		policy_compiled_decide(&c, &addr, proto, (uint16_t)port, &v, &exempt);
		printf("%s\n", v.accept ? "accept" : "reject");
		if (exempt)
			printf("%s: DNS passes to every network the policy does not reject whole; the policy itself: ",
			       policy_file);
		if (v.entry == POLICY_NO_ENTRY)
			printf("%s: no line matches: implicit reject at the end of the policy\n", policy_file);
		else
			printf("%s:%u: %s\n", policy_file, p.entries[v.entry].line, p.entries[v.entry].text);
		policy_compiled_free(&c);
		policy_free(&p);
		return v.accept ? EXIT_CHECK_ACCEPT : EXIT_CHECK_REJECT;
	}

	struct nft_objects inst;
	bool exists;
	rc = nft_dump_table(NTM_TABLE, &inst, &exists);
	if (rc) {
		fprintf(stderr, "%s: cannot read the nftables ruleset: %s%s\n", context, strerror(-rc),
			rc == -EPERM ? " (run as root, or give --policy FILE)" : "");
		return EXIT_CHECK_ERROR;
	}
	if (!exists) {
		fprintf(stderr, "%s: table inet %s is not installed: apply it first, or give --policy FILE\n", context, NTM_TABLE);
		return EXIT_CHECK_ERROR;
	}
	struct nft_policy_decoded d;
	rc = nft_policy_decode(&inst, &d);
	nft_objects_free(&inst);
	if (rc) {
		fprintf(stderr, "%s: %s\n", context,
			rc == -ENOENT ? "the installed table forwards nothing (mode mixnode): there is no policy to check"
				      : "the installed table's policy maps are not in the shape nym-ntm writes (edited by hand?)");
		return EXIT_CHECK_ERROR;
	}
	bool exempt;
	policy_compiled_decide(&d.compiled, &addr, proto, (uint16_t)port, &v, &exempt);
	printf("%s\n", v.accept ? "accept" : "reject");
	if (exempt)
		printf("installed policy: DNS passes to every network the policy does not reject whole; the policy itself: ");
	if (v.entry == POLICY_NO_ENTRY)
		printf("installed policy: no line matches: implicit reject at the end of the policy\n");
	else
		printf("installed policy, line %u: %s\n", d.entries[v.entry].line, d.entries[v.entry].text);
	nft_policy_decoded_free(&d);
	return v.accept ? EXIT_CHECK_ACCEPT : EXIT_CHECK_REJECT;
}

static int policy_file_arg(const char *context, int argc, char **argv, const char **file)
{
	struct cli_option opts[] = { { 0 } };
	const char *pos[1];
	size_t npos = 0;
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1) {
		fprintf(stderr, "%s: expected a policy FILE\n", context);
		return -EINVAL;
	}
	*file = pos[0];
	return 0;
}

static void print_unused(const char *path, const struct policy *p, const struct policy_compiled *c, FILE *out,
			 const char *prefix)
{
	bool *used = calloc(p->n_entries + 1, sizeof(*used));
	if (!used)
		return;
	policy_compiled_used(c, used);
	for (size_t i = 0; i < p->n_entries; i++)
		if (!used[i])
			fprintf(out, "%s%s:%u:%u: %s: never decides anything (earlier entries cover it)\n", prefix, path,
				p->entries[i].line, p->entries[i].column, p->entries[i].text);
	free(used);
}

int cmd_policy_test(const char *context, int argc, char **argv)
{
	const char *file;
	int rc = policy_file_arg(context, argc, argv, &file);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct policy p;
	struct policy_compiled c;
	if (load_policy(context, file, &p, &c))
		return EXIT_FAIL;
	print_unused(file, &p, &c, stderr, "warning: ");
	printf("%s: ok: %zu entries; compiles to %zu IPv4 ranges, %zu IPv6 ranges, %zu groups, %zu port ranges\n", file,
	       p.n_entries, c.n_v4, c.n_v6, c.n_groups, c.n_ports);
	policy_compiled_free(&c);
	policy_free(&p);
	return EXIT_OK;
}

static void entry_ref(const struct policy *p, uint32_t e, char *out, size_t cap)
{
	if (e == POLICY_NO_ENTRY)
		snprintf(out, cap, "end of policy (reject)");
	else
		snprintf(out, cap, "line %u: %s", p->entries[e].line, p->entries[e].text);
}

int cmd_policy_show(const char *context, int argc, char **argv)
{
	const char *file;
	int rc = policy_file_arg(context, argc, argv, &file);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct policy p;
	struct policy_compiled c;
	if (load_policy(context, file, &p, &c))
		return EXIT_FAIL;
	printf("# %s: %zu entries, first match wins\n", file, p.n_entries);
	for (size_t i = 0; i < p.n_entries; i++)
		printf("line %4u  %s\n", p.entries[i].line, p.entries[i].text);
	print_unused(file, &p, &c, stdout, "# unused: ");
	printf("\n# compiled: %zu IPv4 ranges, %zu IPv6 ranges, %zu groups, %zu port ranges\n", c.n_v4, c.n_v6,
	       c.n_groups, c.n_ports);
	char ref[160];
	for (size_t g = 0; g < c.n_groups; g++) {
		uint32_t e;
		const struct policy_group *grp = &c.groups[g];
		if (policy_group_uniform(&c, grp, &e)) {
			entry_ref(&p, e, ref, sizeof(ref));
			printf("group %zu: everything -> %s\n", g, ref);
			continue;
		}
		printf("group %zu:\n", g);
		for (int slot = 0; slot < 2; slot++) {
			const struct policy_port_range *r = c.ports + grp->ports_off[slot];
			for (uint32_t i = 0; i < grp->ports_len[slot]; i++) {
				entry_ref(&p, r[i].entry, ref, sizeof(ref));
				printf("  %s %5u-%-5u -> %s\n", slot ? "udp" : "tcp", r[i].lo, r[i].hi, ref);
			}
		}
		entry_ref(&p, grp->icmp_entry, ref, sizeof(ref));
		printf("  icmp echo   -> %s\n", ref);
		entry_ref(&p, grp->other_entry, ref, sizeof(ref));
		printf("  other       -> %s\n", ref);
	}
	for (size_t i = 0; i < c.n_v4; i++)
		printf("ipv4 %u.%u.%u.%u-%u.%u.%u.%u -> group %u\n", c.v4[i].lo >> 24, c.v4[i].lo >> 16 & 255,
		       c.v4[i].lo >> 8 & 255, c.v4[i].lo & 255, c.v4[i].hi >> 24, c.v4[i].hi >> 16 & 255,
		       c.v4[i].hi >> 8 & 255, c.v4[i].hi & 255, c.v4[i].group);
	for (size_t i = 0; i < c.n_v6; i++) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, c.v6[i].lo, a, sizeof(a));
		inet_ntop(AF_INET6, c.v6[i].hi, b, sizeof(b));
		printf("ipv6 %s-%s -> group %u\n", a, b, c.v6[i].group);
	}
	policy_compiled_free(&c);
	policy_free(&p);
	return EXIT_OK;
}
