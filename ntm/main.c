/* nym-ntm: the network tunnel manager of a Nym node host. It replaces Nym's
 * network-tunnel-manager.sh: forwarding, NAT, the node's ports and the exit policy, applied
 * as one nftables transaction on a table of its own. */
#include "commands.h"
#include "util/cli.h"
#include "util/log.h"

static const struct cli_command commands[] = {
	{ NULL, "apply", cmd_apply, "install forwarding, NAT, node ports and the exit policy (one transaction)" },
	{ NULL, "status", cmd_status, "show the installed table, whether it is current, and its counters" },
	{ NULL, "check", cmd_check, "ADDR PORT [tcp|udp]: would the policy let a client reach it, and by which line" },
	{ NULL, "remove", cmd_remove, "delete the table and restore the forwarding settings" },
	{ "policy", "show", cmd_policy_show, "FILE: print a policy as parsed and compiled" },
	{ "policy", "test", cmd_policy_test, "FILE: check a policy file" },
	{ "policy", "bench", cmd_policy_bench, "cost of a lookup as the policy grows (compiled and linear)" },
	{ 0 },
};

int main(int argc, char **argv)
{
	nym_log_set_ident("nym-ntm");
	return cli_main("nym-ntm", commands, argc, argv);
}
