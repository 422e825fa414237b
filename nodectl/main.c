/* nym-node: the node daemon and its operator tooling. */
#include "commands.h"
#include "crypto/evp_cache.h"
#include "crypto/secret.h"
#include "util/cli.h"
#include "util/log.h"

static const struct cli_command commands[] = {
	{ NULL, "init", cmd_init, "create a node: configuration and keys" },
	{ NULL, "run", cmd_run, "run the node in the foreground" },
	{ NULL, "probe", cmd_probe, "probe gateways over the mixnet: ping, DNS and HTTP through an exit's IP packet router" },
	{ "keys", "show", cmd_keys_show, "print the node's public keys" },
	{ "debug", "keygen", cmd_debug_keygen, "print a fresh X25519 key pair (hex and base58)" },
	{ "debug", "ipr", cmd_debug_ipr, "run the IP packet router alone on its TUN device (no mixnet)" },
	{ "debug", "sphinx-create", cmd_debug_sphinx_create, "build a Sphinx packet for a route" },
	{ "debug", "sphinx-process", cmd_debug_sphinx_process, "peel one Sphinx layer with a node key" },
	{ "debug", "mix-send", cmd_debug_mix_send, "send Sphinx packets through the mixnet the authorities describe" },
	{ "debug", "mix-sink", cmd_debug_mix_sink, "listen where a route ends and report arriving packets" },
	{ "bench", "sphinx", cmd_bench_sphinx, "measure Sphinx create/process against X25519" },
	{ "bench", "mixnet", cmd_bench_mixnet, "measure a real mixnode process: throughput, loss, added latency" },
	{ "bench", "transport", cmd_bench_transport,
	  "measure frame decoding, Noise and reassembly (no Sphinx)" },
	{ "debug", "ticketbook-issue-local", cmd_debug_ticketbook_issue_local,
	  "issue a ticketbook from a local issuer database (blind protocol)" },
	{ "debug", "ticket-verify", cmd_debug_ticket_verify,
	  "verify one ticket of a ticketbook (exit 0 when valid)" },
	{ "debug", "ticket-export", cmd_debug_ticket_export,
	  "print one ticket as message, signature and issuer key (JSON)" },
	{ "authority", "voucher", cmd_authority_voucher,
	  "voucher create: single-use codes, each good for one ticketbook" },
	{ "authority", "admit", cmd_authority_admit,
	  "admit a node identity to the directory (authority.admission: allowlist)" },
	{ "authority", "revoke", cmd_authority_revoke, "take a node identity out of the directory" },
	{ "authority", "list", cmd_authority_list,
	  "print every admission decision, this authority's and its peers' (JSON)" },
	{ "debug", "topology-fetch", cmd_debug_topology_fetch,
	  "fetch the signed topology from authorities and check k-of-n" },
	{ "debug", "ticketbook-obtain", cmd_debug_ticketbook_obtain,
	  "obtain a ticketbook from an authority with a voucher" },
	{ "debug", "ticket-spend", cmd_debug_ticket_spend,
	  "spend a ticket as a gateway: verify, record, report, refresh the filter" },
	{ "debug", "link-client", cmd_debug_link_client,
	  "one client link session against a gateway (handshake, auth, tickets, send; abuse modes for tests)" },
	{ "debug", "descriptors", cmd_debug_descriptors,
	  "print signed self-descriptions of fresh throwaway identities (flood tests)" },
	{ "debug", "wg-run", cmd_debug_wg_run,
	  "create a WireGuard device (kernel or wireguard-go), configure it from JSON, keep it until stopped" },
	{ "debug", "wg-set", cmd_debug_wg_set, "configure an existing WireGuard device from JSON" },
	{ "debug", "wg-show", cmd_debug_wg_show, "a WireGuard device's status as JSON" },
	{ "debug", "awg-set", cmd_debug_awg_set,
	  "apply AmneziaWG 1.0 (nym_awg.ko) to a kernel WireGuard device's UDP port" },
	{ "debug", "awg-del", cmd_debug_awg_del, "remove nym_awg.ko's transform from a device" },
	{ "debug", "awg-show", cmd_debug_awg_show, "nym_awg.ko's parameters and counters of a device as JSON" },
	{ "debug", "wg-register", cmd_debug_wg_register,
	  "register a WireGuard key with a gateway over a client link (a wg-entry / wg-exit ticket); JSON" },
	{ "debug", "awg-relay", cmd_debug_awg_relay,
	  "an AmneziaWG relay between a wireguard-go and the network (lib/wg/wg_awg_relay); JSON" },
	{ "bench", "credentials", cmd_bench_credentials,
	  "measure ticket issuance and verification" },
	{ 0 },
};

int main(int argc, char **argv)
{
	nym_log_set_ident("nym-node");
	if (nym_crypto_init() != 0) {
		log_error("cannot initialise libsodium");
		return EXIT_FAIL;
	}
	int status = cli_main("nym-node", commands, argc, argv);
	nym_evp_cache_release();
	return status;
}
