#include "ntm_plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink/nl_route.h"
#include "nft/nft_batch.h"
#include "util/file.h"

void ntm_plan_options(struct ntm_options *o, struct cli_option *opts, bool with_dry_run)
{
	memset(o, 0, sizeof(*o));
	o->ssh_port = UINT64_MAX; /* not given */
	struct cli_option list[] = {
		{ "config", CLI_STRING, &o->config, false, "FILE  YAML configuration (default " NTM_DEFAULT_CONFIG ")" },
		{ "policy", CLI_STRING, &o->policy, false, "FILE  exit policy (default from the configuration)" },
		{ "uplink", CLI_STRING, &o->uplink, false, "IF  uplink for IPv4 and IPv6 (default: the default routes)" },
		{ "uplink-v4", CLI_STRING, &o->uplink_v4, false, "IF  IPv4 uplink" },
		{ "uplink-v6", CLI_STRING, &o->uplink_v6, false, "IF  IPv6 uplink ('none': IPv4 only)" },
		{ "ssh-port", CLI_U64, &o->ssh_port, false, "N  SSH port to keep open (default 22)" },
		{ "mode", CLI_STRING, &o->mode, false, "MODE  entry-gateway, exit-gateway or mixnode" },
		{ "dry-run", CLI_FLAG, &o->dry_run, false, "print the ruleset in nft syntax instead of installing it" },
		{ 0 },
	};
	size_t n = sizeof(list) / sizeof(list[0]);
	if (!with_dry_run) {
		list[n - 2] = list[n - 1];
		n--;
	}
	memcpy(opts, list, n * sizeof(list[0]));
	for (size_t i = n; i < NTM_PLAN_OPTIONS; i++)
		memset(&opts[i], 0, sizeof(opts[i]));
}

void ntm_saved_format(const struct ntm_saved *s, enum nft_gateway_mode mode, char *out, size_t cap)
{
	snprintf(out, cap, "nym-ntm mode=%s saved ip_forward=%d ipv6_forwarding=%d", gateway_config_mode_name(mode),
		 s->ip_forward, s->ipv6_forwarding);
}

bool ntm_saved_parse(const char *comment, struct ntm_saved *s, enum nft_gateway_mode *mode)
{
	char m[32];
	int off = 0;
	memset(s, 0, sizeof(*s));
	if (sscanf(comment, "nym-ntm mode=%31s saved ip_forward=%d ipv6_forwarding=%d%n", m, &s->ip_forward,
		   &s->ipv6_forwarding, &off) != 3 || comment[off])
		return false;
	enum nft_gateway_mode md;
	if (gateway_config_mode_parse(m, &md))
		return false;
	if (mode)
		*mode = md;
	s->valid = true;
	return true;
}

/* The entry gateway's forwarding, written as a policy so that it is compiled, installed,
 * counted and checked like the exit policy. */
static int entry_policy_text(const struct gateway_config *cfg, char **out)
{
	size_t cap = 256 + cfg->n_entry_gateways * cfg->n_entry_ports * 96;
	char *t = malloc(cap);
	if (!t)
		return -ENOMEM;
	size_t off = (size_t)snprintf(t, cap, "# entry-gateway: only the listed gateways' WireGuard and registration ports\n");
	for (size_t g = 0; g < cfg->n_entry_gateways; g++) {
		const struct gateway_config_entry_dest *gw = &cfg->entry_gateways[g];
		char a[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN + 8];
		inet_ntop(gw->family == 4 ? AF_INET : AF_INET6, gw->addr, a, sizeof(a));
		unsigned full = gw->family == 4 ? 32 : 128;
		if (gw->family == 4)
			snprintf(addr, sizeof(addr), gw->prefix == full ? "%s" : "%s/%u", a, gw->prefix);
		else
			snprintf(addr, sizeof(addr), gw->prefix == full ? "[%s]" : "[%s]/%u", a, gw->prefix);
		for (size_t p = 0; p < cfg->n_entry_ports; p++)
			off += (size_t)snprintf(t + off, cap - off, "accept %s:%u %s\n", addr, cfg->entry_ports[p].port,
						cfg->entry_ports[p].udp ? "udp" : "tcp");
	}
	snprintf(t + off, cap - off, "reject *:*\n");
	*out = t;
	return 0;
}

static int resolve_uplink(const char *context, const char *want, int family, bool required, char *out)
{
	out[0] = '\0';
	if (strcmp(want, "none") == 0)
		return 0;
	if (strcmp(want, "auto") != 0) {
		snprintf(out, NFT_IFNAME_LEN, "%s", want);
		return 0;
	}
	char name[IF_NAMESIZE];
	int rc = nl_route_default_ifname(family, name);
	if (rc == 0) {
		snprintf(out, NFT_IFNAME_LEN, "%s", name);
		return 0;
	}
	const char *v = family == AF_INET ? "IPv4" : "IPv6";
	if (rc == -ENOENT && !required) {
		fprintf(stderr, "%s: no %s default route: %s is not forwarded (give --uplink-v6 to choose one)\n", context, v, v);
		return 0;
	}
	if (rc == -ENOENT)
		fprintf(stderr, "%s: no %s default route to take the uplink from: give --uplink or --uplink-v4\n", context, v);
	else
		fprintf(stderr, "%s: cannot read the %s routes: %s\n", context, v, strerror(-rc));
	return rc == -ENOENT ? -EINVAL : rc;
}

static int load_config(const char *context, struct gateway_config *cfg, const char *path, bool optional)
{
	char *text;
	size_t len;
	int rc = nym_file_read(path, NTM_FILE_MAX, (uint8_t **)&text, &len);
	if (rc == -ENOENT && optional)
		return 0;
	if (rc) {
		fprintf(stderr, "%s: cannot read the configuration %s: %s\n", context, path, strerror(-rc));
		return rc;
	}
	struct gateway_config_error err;
	rc = gateway_config_parse(cfg, text, len, &err);
	free(text);
	if (rc == -EINVAL)
		fprintf(stderr, "%s:%u:%u: %s\n", path, err.line, err.column, err.message);
	else if (rc)
		fprintf(stderr, "%s: cannot parse %s: %s\n", context, path, strerror(-rc));
	return rc;
}

static void offload_device(struct ntm_plan *plan, const char *ifname)
{
	if (!ifname[0] || if_nametoindex(ifname) == 0)
		return; /* a flowtable cannot name a device that does not exist */
	for (size_t i = 0; i < plan->n_offload_devices; i++)
		if (strcmp(plan->offload_devices[i], ifname) == 0)
			return;
	if (plan->n_offload_devices < NFT_FLOWTABLE_MAX_DEVICES)
		snprintf(plan->offload_devices[plan->n_offload_devices++], NFT_IFNAME_LEN, "%s", ifname);
}

static void plan_offload(struct ntm_plan *plan)
{
	/* Asked of the kernel, so that apply and status agree on the same host; without the
	 * rights to ask (a --dry-run as a user), assume a kernel that has them, as Debian's. */
	int rc = nft_batch_flowtable_supported();
	if (rc == 0) {
		plan->offload_unsupported = true;
		return;
	}
	/* The uplinks only: a flowtable must name devices that exist, and the tunnels come and
	 * go with the node (nymtun0 appears after apply, and again after every restart), so
	 * listing them would make the table depend on when apply ran. Offloaded connections
	 * still take the fast path from the uplink into the tunnel, where the bulk of a tunnel
	 * client's traffic flows; the tunnel side stays on the forward chain. */
	offload_device(plan, plan->uplink_v4);
	offload_device(plan, plan->uplink_v6);
}

int ntm_plan_prepare(const char *context, const struct ntm_options *o, struct ntm_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	struct gateway_config *cfg = &plan->cfg;
	gateway_config_defaults(cfg, NTM_DEFAULT_POLICY);
	int rc = load_config(context, cfg, o->config ? o->config : NTM_DEFAULT_CONFIG, o->config == NULL);
	if (rc)
		return rc;

	if (o->mode && gateway_config_mode_parse(o->mode, &cfg->mode)) {
		fprintf(stderr, "%s: --mode expects entry-gateway, exit-gateway or mixnode, got '%s'\n", context, o->mode);
		return -EINVAL;
	}
	if (o->policy)
		snprintf(cfg->policy, sizeof(cfg->policy), "%s", o->policy);
	if (o->uplink && (o->uplink_v4 || o->uplink_v6)) {
		fprintf(stderr, "%s: give either --uplink or --uplink-v4/--uplink-v6\n", context);
		return -EINVAL;
	}
	const char *names[] = { o->uplink, o->uplink_v4, o->uplink_v6 };
	const char *flags[] = { "--uplink", "--uplink-v4", "--uplink-v6" };
	for (int i = 0; i < 3; i++) {
		if (!names[i])
			continue;
		if (!gateway_config_ifname_valid(names[i])) {
			fprintf(stderr, "%s: %s expects an interface name, got '%s'\n", context, flags[i], names[i]);
			return -EINVAL;
		}
		if (i != 2)
			snprintf(cfg->uplink_v4, sizeof(cfg->uplink_v4), "%s", names[i]);
		if (i != 1)
			snprintf(cfg->uplink_v6, sizeof(cfg->uplink_v6), "%s", names[i]);
	}
	if (o->ssh_port != UINT64_MAX) {
		if (o->ssh_port < 1 || o->ssh_port > 65535) {
			fprintf(stderr, "%s: --ssh-port expects 1-65535, got %llu\n", context, (unsigned long long)o->ssh_port);
			return -EINVAL;
		}
		cfg->ssh_port = (uint16_t)o->ssh_port;
	}

	if (cfg->mode == NFT_GATEWAY_MIXNODE)
		return 0;
	if (cfg->mode == NFT_GATEWAY_EXIT) {
		size_t len;
		snprintf(plan->policy_name, sizeof(plan->policy_name), "%s", cfg->policy);
		rc = nym_file_read(cfg->policy, NTM_FILE_MAX, (uint8_t **)&plan->policy_text, &len);
		if (rc) {
			fprintf(stderr, "%s: cannot read the exit policy %s: %s\n", context, cfg->policy, strerror(-rc));
			return rc;
		}
	} else {
		snprintf(plan->policy_name, sizeof(plan->policy_name), "entry-gateway policy");
		if (cfg->n_entry_gateways == 0)
			fprintf(stderr, "%s: entry_gateway.gateways is empty: tunnel clients can reach nothing\n", context);
		if ((rc = entry_policy_text(cfg, &plan->policy_text)))
			return rc;
	}
	struct policy_error perr;
	rc = policy_parse(plan->policy_text, strlen(plan->policy_text), &plan->policy, &perr);
	if (rc == -EINVAL) {
		fprintf(stderr, "%s:%u:%u: %s\n", plan->policy_name, perr.line, perr.column, perr.message);
		return rc;
	}
	if (rc || (rc = policy_compile(&plan->policy, &plan->compiled))) {
		fprintf(stderr, "%s: cannot compile the policy: %s\n", context, strerror(-rc));
		return rc;
	}
	plan->have_policy = true;
	if ((rc = resolve_uplink(context, cfg->uplink_v4, AF_INET, true, plan->uplink_v4)))
		return rc;
	if ((rc = resolve_uplink(context, cfg->uplink_v6, AF_INET6, false, plan->uplink_v6)))
		return rc;
	if (!plan->uplink_v4[0] && !plan->uplink_v6[0]) {
		fprintf(stderr, "%s: no uplink: give --uplink\n", context);
		return -EINVAL;
	}
	if (cfg->flow_offload)
		plan_offload(plan);
	return 0;
}

int ntm_plan_ruleset(const struct ntm_plan *plan, const char *comment, struct nft_ruleset *rs)
{
	const struct gateway_config *cfg = &plan->cfg;
	struct nft_gateway g;
	memset(&g, 0, sizeof(g));
	g.table = NTM_TABLE;
	g.comment = comment;
	g.mode = cfg->mode;
	snprintf(g.uplink_v4, sizeof(g.uplink_v4), "%s", plan->uplink_v4);
	snprintf(g.uplink_v6, sizeof(g.uplink_v6), "%s", plan->uplink_v6);
	memcpy(g.tunnels, cfg->tunnels, sizeof(g.tunnels));
	g.n_tunnels = cfg->n_tunnels;
	bool wg_is_tunnel = false;
	for (size_t i = 0; i < cfg->n_tunnels; i++)
		if (strcmp(cfg->tunnels[i].ifname, cfg->wireguard_interface) == 0)
			wg_is_tunnel = true;
	if (wg_is_tunnel)
		snprintf(g.wireguard_ifname, sizeof(g.wireguard_ifname), "%s", cfg->wireguard_interface);
	g.host_firewall = cfg->host_firewall;
	memcpy(g.offload_devices, plan->offload_devices, sizeof(g.offload_devices));
	g.n_offload_devices = plan->n_offload_devices;
	g.tcp.port[0] = cfg->ssh_port;
	g.tcp.n = 1;
	for (size_t i = 0; i < cfg->tcp.n && g.tcp.n < NFT_GATEWAY_MAX_PORTS; i++)
		g.tcp.port[g.tcp.n++] = cfg->tcp.port[i];
	g.udp = cfg->udp;
	g.gateway_tcp = cfg->gateway_tcp;
	g.gateway_udp = cfg->gateway_udp;
	g.wireguard_tcp = cfg->wireguard_tcp;
	g.policy = plan->have_policy ? &plan->policy : NULL;
	g.compiled = plan->have_policy ? &plan->compiled : NULL;
	return nft_gateway_build(&g, rs);
}

void ntm_plan_free(struct ntm_plan *plan)
{
	free(plan->policy_text);
	policy_free(&plan->policy);
	policy_compiled_free(&plan->compiled);
	memset(plan, 0, sizeof(*plan));
}
