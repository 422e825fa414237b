#include "nodectl/node/node_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_addr.h"
#include "nodectl/node/node_amnezia.h"
#include "util/base58.h"
#include "util/log.h"

#define F(field) offsetof(struct node_config, field)

/* Defaults follow nym-node (nym-node/src/config) unless noted. */
const struct conf_key node_config_schema[] = {
	{ "id", CONF_STRING, F(id), "default-nym-node", "node identifier (its directory name)", 0, 0 },
	{ "mode", CONF_STRING, F(mode), "mixnode", "mixnode, entry-gateway, exit-gateway or authority", 0, 0 },
	{ "user", CONF_STRING, F(user), NYM_NODE_DEFAULT_USER, "started as root, run continues as this user after handing it the node directory, keeping only the capabilities the mode needs (CAP_NET_BIND_SERVICE; CAP_NET_ADMIN on gateways); empty: stay root (ours)", 0, 0 },
	{ "host.public_ips", CONF_LIST, F(host.public_ips), NULL, "addresses other nodes and clients reach this node on", 0, 0 },
	{ "host.hostname", CONF_STRING, F(host.hostname), "", "DNS name, if any", 0, 0 },
	{ "host.location", CONF_STRING, F(host.location), "", "two-letter country code (ISO 3166-1 alpha-2)", 0, 0 },
	{ "host.description", CONF_STRING, F(host.description), "description.yaml", "operator description file, relative to data/ (reloaded on SIGHUP)", 0, 0 },
	{ "mixnet.bind_address", CONF_STRING, F(mixnet.bind_address), "[::]:1789", "listen address for Sphinx packets from other nodes", 0, 0 },
	{ "mixnet.announce_port", CONF_U64, F(mixnet.announce_port), "0", "port announced to others (0: the bind port)", 0, 65535 },
	{ "mixnet.workers", CONF_U64, F(mixnet.workers), "0", "packet processing threads, each with its own io_uring (0: one per core)", 0, 256 },
	{ "mixnet.noise", CONF_BOOL, F(mixnet.noise), "true", "use Noise XKpsk3 to next hops whose Noise key is known", 0, 0 },
	{ "mixnet.topology_file", CONF_STRING, F(mixnet.topology_file), "", "JSON list of nodes (routing address, Sphinx and Noise keys); --topology overrides", 0, 0 },
	{ "mixnet.busy_poll", CONF_DURATION, F(mixnet.busy_poll_ns), "200us", "after handling packets a worker keeps polling this long before it sleeps, so a packet soon after is not delayed by waking the CPU (0: sleep at once; ours)", 0, 0.01 },
	{ "mixnet.replay_protection.enabled", CONF_BOOL, F(mixnet.replay_protection), "true", "drop packets whose replay tag was seen", 0, 0 },
	{ "mixnet.replay_protection.false_positive_rate", CONF_DOUBLE, F(mixnet.replay_false_positive_rate), "1e-5", "replay filter false-positive rate", 1e-12, 0.1 },
	{ "mixnet.replay_protection.expected_packets_per_second", CONF_U64, F(mixnet.replay_expected_packets_per_second), "2000", "sizes the filter for one key lifetime; memory is about 3.6 bytes per packet of that lifetime at 1e-5", 1, 10000000 },
	{ "mixnet.replay_protection.save_interval", CONF_DURATION, F(mixnet.replay_save_interval_ns), "10m", "how often the filter is saved to disk (also saved at shutdown)", 1, 86400 },
	{ "mixnet.debug.maximum_forward_packet_delay", CONF_DURATION, F(mixnet.maximum_forward_packet_delay_ns), "10s", "longer requested delays are clamped to this and counted", 0, 3600 },
	{ "mixnet.debug.connection_idle_timeout", CONF_DURATION, F(mixnet.connection_idle_timeout_ns), "5m", "close ingress connections that brought no complete frame for this long (bytes alone do not count; ours) and egress connections that sent nothing for this long (0: never)", 0, 86400 },
	{ "mixnet.debug.connection_write_timeout", CONF_DURATION, F(mixnet.connection_write_timeout_ns), "500ms", "a send stalled this long drops the rest of its batch; 3 in a row close the connection (0: no timeout)", 0, 60 },
	{ "mixnet.debug.maximum_connection_buffer_size", CONF_U64, F(mixnet.maximum_connection_buffer_size), "2000", "packets queued per next hop before new ones are dropped", 1, 1000000 },
	{ "mixnet.debug.initial_connection_timeout", CONF_DURATION, F(mixnet.initial_connection_timeout_ns), "1500ms", "connect timeout to a next hop", 0.001, 60 },
	{ "mixnet.debug.packet_forwarding_initial_backoff", CONF_DURATION, F(mixnet.packet_forwarding_initial_backoff_ns), "10s", "wait after a failed connection before trying that hop again", 0, 3600 },
	{ "mixnet.debug.packet_forwarding_maximum_backoff", CONF_DURATION, F(mixnet.packet_forwarding_maximum_backoff_ns), "300s", "the wait doubles per failure up to this", 0, 86400 },
	{ "mixnet.debug.maximum_delayed_packets", CONF_U64, F(mixnet.maximum_delayed_packets), "100000", "packets held in the delay queue per worker before new ones are dropped (ours)", 1, 100000000 },
	{ "mixnet.debug.maximum_connections", CONF_U64, F(mixnet.maximum_connections), "1024", "ingress connections per worker (ours)", 1, 1000000 },
	{ "mixnet.debug.maximum_packet_memory", CONF_U64, F(mixnet.maximum_packet_memory), "268435456", "bytes of packets a worker may hold (delayed and queued); beyond it packets are dropped (ours)", 65536, 1e12 },
	{ "mixnet.ingress.max_connections_per_address", CONF_U64, F(mixnet.max_connections_per_address), "64", "ingress connections one address (an IPv4 address or an IPv6 /64) may hold across all workers; more are closed at once (0: no limit; ours)", 0, 1000000 },
	{ "mixnet.ingress.handshakes_per_second", CONF_U64, F(mixnet.handshakes_per_second), "4", "Noise handshakes one address may start per second once its burst is spent; a connection over the budget is closed before any X25519 work (0: no limit; ours)", 0, 1000000 },
	{ "mixnet.ingress.handshake_burst", CONF_U64, F(mixnet.handshake_burst), "32", "Noise handshakes one address may start at once (ours)", 1, 1000000 },
	{ "mixnet.ingress.first_frame_timeout", CONF_DURATION, F(mixnet.first_frame_timeout_ns), "10s", "an ingress connection must finish its Noise handshake and bring a first complete frame within this long (0: no deadline; ours)", 0, 3600 },
	{ "http.bind_address", CONF_STRING, F(http.bind_address), "[::]:8080", "node HTTP API", 0, 0 },
	{ "http.access_token", CONF_STRING, F(http.access_token), "", "bearer token required for /api/v1/metrics/prometheus (empty: open)", 0, 0 },
	{ "http.expose_system_info", CONF_BOOL, F(http.expose_system_info), "true", "include host details in /api/v1/host-information", 0, 0 },
	{ "http.threads", CONF_U64, F(http.threads), "4", "threads serving the HTTP API; each serves many connections at once (ours)", 1, 64 },
	{ "http.max_connections", CONF_U64, F(http.max_connections), "1024", "open HTTP connections at most; from seven eighths of it on, each new connection closes the oldest one still sending its request (ours)", 16, 100000 },
	{ "http.max_connections_per_address", CONF_U64, F(http.max_connections_per_address), "16", "open HTTP connections from one IP address at most; more are closed at once (0: no limit; ours)", 0, 100000 },
	{ "http.request_deadline", CONF_DURATION, F(http.request_deadline_ns), "10s", "a request, headers and body, must arrive within this long of its connection opening (or of the previous answer on that connection), however steadily it trickles in (ours)", 1, 3600 },
	{ "http.idle_timeout", CONF_DURATION, F(http.idle_timeout_ns), "30s", "close an HTTP connection nothing was sent or received on for this long (ours)", 1, 86400 },
	{ "sphinx.epoch_duration", CONF_DURATION, F(sphinx.epoch_duration_ns), "1h", "epoch length", 1, 86400 },
	{ "sphinx.epochs_per_rotation", CONF_U64, F(sphinx.epochs_per_rotation), "24", "epochs a Sphinx key is primary; the previous key stays valid one more epoch", 1, 10000 },
	{ "sphinx.genesis", CONF_U64, F(sphinx.genesis), "0", "Unix time the first rotation started", 0, 0 },
	{ "logging.level", CONF_STRING, F(logging.level), "info", "error, warn, info or debug (reloaded on SIGHUP)", 0, 0 },
	{ "gateway.clients_port", CONF_U64, F(gateway.clients_port), "9000", "client link port (TCP, IPv4 and IPv6, on mixnet.bind_address's host) gateways listen on and announce", 1, 65535 },
	{ "gateway.bandwidth_per_ticket", CONF_U64, F(gateway.bandwidth_per_ticket), "200000000", "bytes of Sphinx packets one mixnet-entry ticket buys (Nym: 200 MB; tests set a tiny allowance)", 1, 1e15 },
	{ "gateway.max_clients", CONF_U64, F(gateway.max_clients), "1024", "client links open at once; more are closed at accept (about 400 KiB each; ours)", 1, 1000000 },
	{ "gateway.max_clients_per_address", CONF_U64, F(gateway.max_clients_per_address), "16", "client links one address (IPv4, or IPv6 /64) may hold (0: no limit; ours)", 0, 1000000 },
	{ "gateway.link_idle_timeout", CONF_DURATION, F(gateway.link_idle_timeout_ns), "5m", "close a client link that brought no complete frame for this long (0: never; ours)", 0, 86400 },
	{ "gateway.link_first_frame_timeout", CONF_DURATION, F(gateway.link_first_frame_timeout_ns), "10s", "a client link must finish its Noise handshake and send a first frame within this long (0: no deadline; ours)", 0, 3600 },
	{ "gateway.inbox.max_messages", CONF_U64, F(gateway.inbox_max_messages), "1000", "messages kept per client that is not connected; more are dropped (ours)", 0, 10000000 },
	{ "gateway.inbox.max_age", CONF_DURATION, F(gateway.inbox_max_age_ns), "24h", "stored messages are forgotten after this long (Nym: 24 h)", 0, 30 * 86400 },
	{ "gateway.final_queue", CONF_U64, F(gateway.final_queue), "16384", "final-hop packets queued from the mix workers to the gateway service; more are dropped and counted (ours)", 16, 10000000 },
	{ "gateway.spent_filter_refresh", CONF_DURATION, F(gateway.spent_filter_refresh_ns), "5m", "how often the authorities' merged spent filter and issuer keys are fetched again (ours)", 1, 86400 },
	{ "wireguard.enabled", CONF_BOOL, F(wireguard.enabled), "false", "entry and exit gateways: run the WireGuard service (device, registration over the client link, metering, metadata endpoint) and announce the WireGuard role with the key data/x25519_wireguard", 0, 0 },
	{ "wireguard.announced_port", CONF_U64, F(wireguard.announced_port), "51822", "gateways: WireGuard UDP port announced", 1, 65535 },
	{ "wireguard.backend", CONF_STRING, F(wireguard.backend), "auto", "WireGuard backend: auto (the kernel's when it has WireGuard, else wireguard-go), kernel or userspace (ours)", 0, 0 },
	{ "wireguard.bind_port", CONF_U64, F(wireguard.bind_port), "51822", "UDP port of the WireGuard device (Nym: 51822)", 1, 65535 },
	{ "wireguard.private_network_v4", CONF_STRING, F(wireguard.private_network_v4), "10.1.0.0/16", "IPv4 network of the peers' private addresses; the gateway takes its .1 (Nym: 10.1.0.0/16)", 0, 0 },
	{ "wireguard.private_network_v6", CONF_STRING, F(wireguard.private_network_v6), "fc01::/112", "IPv6 network of the peers' private addresses; the gateway takes its ::1 (Nym: fc01::/112)", 0, 0 },
	{ "wireguard.interface", CONF_STRING, F(wireguard.interface), "nymwg", "name of the WireGuard device; nym-ntm covers it (ours)", 0, 0 },
	{ "wireguard.bandwidth_per_ticket", CONF_U64, F(wireguard.bandwidth_per_ticket), "500000000", "bytes (rx + tx) one wg-entry / wg-exit ticket buys (Nym: 500 MB; tests set a tiny allowance)", 1, 1e15 },
	{ "wireguard.stale_peer_after", CONF_DURATION, F(wireguard.stale_peer_after_ns), "3d", "a peer without a handshake and with nothing received from it for this long is removed and its address pair freed; its balance stays, so the key registers again without a ticket (Nym: 3 days)", 1, 365 * 86400 },
	{ "wireguard.metadata_port", CONF_U64, F(wireguard.metadata_port), "51830", "TCP port of the in-tunnel metadata endpoint on the gateway's private IPv4 and IPv6 addresses (Nym: 51830)", 1, 65535 },
	{ "wireguard.amnezia", CONF_STRING, F(wireguard.amnezia), "off", "AmneziaWG 1.0 on the WireGuard port (nym_awg.ko, kernel backend; announced in the descriptor): off, base, random (drawn once, kept in DATA_DIR/amnezia) or \"jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4\" (ours)", 0, 0 },
	{ "exit_gateway.ip_packet_router.enabled", CONF_BOOL, F(exit_gateway.ip_packet_router.enabled), "true", "exit gateways: run the IP packet router (a TUN device, clients' IP packets to the internet under the exit policy)", 0, 0 },
	{ "exit_gateway.ip_packet_router.tun_name", CONF_STRING, F(exit_gateway.ip_packet_router.tun_name), "nymtun0", "TUN device the router creates (10.0.0.1/16, fc00::1/112); nym-ntm's tunnel interfaces must name it", 0, 0 },
	{ "exit_gateway.ip_packet_router.tun_mtu", CONF_U64, F(exit_gateway.ip_packet_router.tun_mtu), "1420", "MTU of the TUN device (Nym: 1420)", 1280, 65535 },
	{ "exit_gateway.ip_packet_router.policy_file", CONF_STRING, F(exit_gateway.ip_packet_router.policy_file), "/etc/nym/exit-policy.txt", "exit policy every client packet is checked against (nym-ntm's default file; relative paths are under the node directory)", 0, 0 },
	{ "exit_gateway.ip_packet_router.client_idle_timeout", CONF_DURATION, F(exit_gateway.ip_packet_router.client_idle_timeout_ns), "60s", "a client that sent no request for this long loses its address pair (Nym: 60 s)", 1, 86400 },
	{ "exit_gateway.ip_packet_router.buffer_timeout", CONF_DURATION, F(exit_gateway.ip_packet_router.buffer_timeout_ns), "5ms", "a partial bundle of packets for a client leaves after this long, unless its CONNECT asked for another timeout (Nym: 20 ms)", 0, 1 },
	{ "exit_gateway.ip_packet_router.fill_wait", CONF_DURATION, F(exit_gateway.ip_packet_router.fill_wait_ns), "1ms", "with a zero buffer timeout (a client's CONNECT may ask for one), a bundle of bulk packets whose last reply packet is over a quarter empty waits this long for the next packets from the TUN (0: never waits) (ours)", 0, 1 },
	{ "exit_gateway.ip_packet_router.max_clients", CONF_U64, F(exit_gateway.ip_packet_router.max_clients), "1024", "connected clients at most; more are refused (ours)", 1, 65533 },
	{ "exit_gateway.ip_packet_router.max_surbs_per_client", CONF_U64, F(exit_gateway.ip_packet_router.max_surbs_per_client), "256", "reply SURBs kept per client (about 460 bytes each); beyond it the oldest go (ours)", 2, 65535 },
	{ "exit_gateway.ip_packet_router.surb_low_water", CONF_U64, F(exit_gateway.ip_packet_router.surb_low_water), "20", "ask a client for more reply SURBs when its stock falls under this (ours)", 0, 65535 },
	{ "exit_gateway.ip_packet_router.surb_request_amount", CONF_U64, F(exit_gateway.ip_packet_router.surb_request_amount), "64", "reply SURBs asked for at a time (ours)", 1, 500 },
	{ "exit_gateway.ip_packet_router.surb_max_age", CONF_DURATION, F(exit_gateway.ip_packet_router.surb_max_age_ns), "0", "reply SURBs older than this are dropped unused (0: no age limit; SURBs whose mixnode keys have rotated away by the sphinx.* schedule are dropped anyway) (ours)", 0, 31536000 },
	{ "exit_gateway.ip_packet_router.max_pending_responses", CONF_U64, F(exit_gateway.ip_packet_router.max_pending_responses), "64", "responses per client waiting for reply SURBs; more are dropped (ours)", 1, 100000 },
	{ "exit_gateway.ip_packet_router.deliver_queue", CONF_U64, F(exit_gateway.ip_packet_router.deliver_queue), "8192", "final-hop packets queued from the gateway to the router's thread; more are dropped and counted (ours)", 16, 10000000 },
	{ "directory.authorities", CONF_LIST, F(directory.authorities), NULL, "authority URLs (http://IP:PORT) to announce to and fetch the topology from; --authority adds more", 0, 0 },
	{ "directory.authority_keys", CONF_LIST, F(directory.authority_keys), NULL, "base58 Ed25519 keys of the authorities whose signatures count; --authority-key adds more", 0, 0 },
	{ "directory.threshold", CONF_U64, F(directory.threshold), "0", "signatures a topology needs (0: a majority of the keys)", 0, 16 },
	{ "authority.peers", CONF_LIST, F(authority.peers), NULL, "the other authorities, each \"URL KEY\" (base58 Ed25519 identity)", 0, 0 },
	{ "authority.threshold", CONF_U64, F(authority.threshold), "0", "signatures a document needs to be served as the network's (0: a majority of all authorities)", 0, 16 },
	{ "authority.probe_interval", CONF_DURATION, F(authority.probe_interval_ns), "1m", "how often every registered node is probed (mixnet port and HTTP API)", 0.1, 86400 },
	{ "authority.probe_timeout", CONF_DURATION, F(authority.probe_timeout_ns), "3s", "how long one probe of a node may take (a round of them ends within probe_interval)", 0.1, 60 },
	{ "authority.reachable_window", CONF_DURATION, F(authority.reachable_window_ns), "5m", "a node is listed when both probes answered within this long before the vote", 0.1, 86400 },
	{ "authority.issuer_key_bits", CONF_U64, F(authority.issuer_key_bits), "3072", "size of new issuer RSA keys: 2048, 3072 or 4096", 2048, 4096 },
	{ "authority.descriptor_max_age", CONF_DURATION, F(authority.descriptor_max_age_ns), "1d", "descriptions published longer ago are refused, and nodes not announced for this long forgotten", 60, 30 * 86400 },
	{ "authority.admission", CONF_STRING, F(authority.admission), "allowlist", "allowlist: only nodes admitted with `nym-node authority admit` (here or at a peer authority) may register; open: any key (test networks)", 0, 0 },
	{ "authority.max_nodes_per_address", CONF_U64, F(authority.max_nodes_per_address), "2", "identities a vote lists per IP address (IPv6: per /64), the longest reachable first", 1, 4096 },
	{ "authority.registrations_per_epoch", CONF_U64, F(authority.registrations_per_epoch), "16", "POST /v1/nodes one source address may make per epoch, on average (token bucket)", 1, 1000000 },
	{ "authority.registration_burst", CONF_U64, F(authority.registration_burst), "32", "POST /v1/nodes one source address may make at once (the bucket's size)", 1, 1000000 },
	{ "authority.registration_sources", CONF_U64, F(authority.registration_sources), "65536", "source addresses whose registration rate is tracked; beyond it the idlest is forgotten", 64, 16777216 },
	{ "authority.max_registered_nodes", CONF_U64, F(authority.max_registered_nodes), "4096", "nodes the registry holds; a new one then replaces the one unreachable longest, or is refused (503)", 16, 1000000 },
	{ "authority.probe_parallel", CONF_U64, F(authority.probe_parallel), "64", "probe connections open at once; reachable nodes are probed first", 1, 4096 },
	{ "authority.nodes_page_size", CONF_U64, F(authority.nodes_page_size), "500", "nodes per page of GET /v1/nodes (peers follow \"next\")", 10, 4096 },
	{ 0 },
};

bool node_config_url_ok(const char *text)
{
	size_t n = strlen(text);
	if (strncmp(text, "http://", 7) != 0 && strncmp(text, "https://", 8) != 0)
		return false;
	if (n > 200)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f)
			return false;
	return true;
}

int node_config_peer(const char *entry, char *url, size_t url_len, uint8_t key[32])
{
	const char *sp = strchr(entry, ' ');
	if (!sp || (size_t)(sp - entry) >= url_len)
		return -EINVAL;
	memcpy(url, entry, (size_t)(sp - entry));
	url[sp - entry] = '\0';
	while (*sp == ' ')
		sp++;
	if (!node_config_url_ok(url) || nym_base58_decode_exact(key, 32, sp) != 0)
		return -EINVAL;
	return 0;
}

int node_mode_parse(const char *name, enum node_mode *out)
{
	static const char *const names[] = { "mixnode", "entry-gateway", "exit-gateway", "authority" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum node_mode)i;
			return 0;
		}
	return -EINVAL;
}

int node_config_validate(const struct node_config *c, char err[CONF_ERROR_MAX])
{
	enum node_mode mode;
	enum nym_log_level level;
	struct net_addr a;
	if (node_mode_parse(c->mode, &mode)) {
		snprintf(err, CONF_ERROR_MAX, "mode: expected mixnode, entry-gateway, exit-gateway or authority, got \"%.40s\"", c->mode);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->host.public_ips.count; i++) {
		if (net_addr_parse(&a, c->host.public_ips.item[i], 1) != 0) {
			snprintf(err, CONF_ERROR_MAX, "host.public_ips: \"%.60s\" is not an IPv4 or IPv6 address",
				 c->host.public_ips.item[i]);
			return -EINVAL;
		}
	}
	const char *loc = c->host.location;
	if (loc[0] && !(strlen(loc) == 2 && isupper((unsigned char)loc[0]) && isupper((unsigned char)loc[1]))) {
		snprintf(err, CONF_ERROR_MAX, "host.location: expected a two-letter country code such as DE, got \"%.40s\"", loc);
		return -EINVAL;
	}
	if (net_addr_parse(&a, c->mixnet.bind_address, -1)) {
		snprintf(err, CONF_ERROR_MAX, "mixnet.bind_address: expected IP:PORT or [IPv6]:PORT, got \"%.60s\"", c->mixnet.bind_address);
		return -EINVAL;
	}
	if (net_addr_parse(&a, c->http.bind_address, -1)) {
		snprintf(err, CONF_ERROR_MAX, "http.bind_address: expected IP:PORT or [IPv6]:PORT, got \"%.60s\"", c->http.bind_address);
		return -EINVAL;
	}
	if (c->http.max_connections < 8 * c->http.threads) {
		/* libmicrohttpd splits the cap between its threads. */
		snprintf(err, CONF_ERROR_MAX, "http.max_connections: expected at least 8 per thread of http.threads (%llu), got %llu",
			 (unsigned long long)c->http.threads, (unsigned long long)c->http.max_connections);
		return -EINVAL;
	}
	if (nym_log_parse_level(c->logging.level, &level)) {
		snprintf(err, CONF_ERROR_MAX, "logging.level: expected error, warn, info or debug, got \"%.40s\"", c->logging.level);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->directory.authorities.count; i++)
		if (!node_config_url_ok(c->directory.authorities.item[i])) {
			snprintf(err, CONF_ERROR_MAX, "directory.authorities: expected http://HOST:PORT, got \"%.60s\"",
				 c->directory.authorities.item[i]);
			return -EINVAL;
		}
	uint8_t key[32];
	for (size_t i = 0; i < c->directory.authority_keys.count; i++)
		if (nym_base58_decode_exact(key, 32, c->directory.authority_keys.item[i])) {
			snprintf(err, CONF_ERROR_MAX, "directory.authority_keys: \"%.60s\" is not a base58 Ed25519 key",
				 c->directory.authority_keys.item[i]);
			return -EINVAL;
		}
	if (c->directory.threshold > c->directory.authority_keys.count) {
		snprintf(err, CONF_ERROR_MAX, "directory.threshold: %llu signatures required but only %zu keys listed",
			 (unsigned long long)c->directory.threshold, c->directory.authority_keys.count);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->authority.peers.count; i++) {
		char url[CONF_STR_MAX];
		if (node_config_peer(c->authority.peers.item[i], url, sizeof(url), key)) {
			snprintf(err, CONF_ERROR_MAX, "authority.peers: expected \"http://HOST:PORT BASE58KEY\", got \"%.80s\"",
				 c->authority.peers.item[i]);
			return -EINVAL;
		}
	}
	if (c->authority.threshold > c->authority.peers.count + 1) {
		snprintf(err, CONF_ERROR_MAX, "authority.threshold: %llu signatures required but there are %zu authorities",
			 (unsigned long long)c->authority.threshold, c->authority.peers.count + 1);
		return -EINVAL;
	}
	if (c->authority.issuer_key_bits != 2048 && c->authority.issuer_key_bits != 3072 &&
	    c->authority.issuer_key_bits != 4096) {
		snprintf(err, CONF_ERROR_MAX, "authority.issuer_key_bits: expected 2048, 3072 or 4096");
		return -EINVAL;
	}
	if (strcmp(c->authority.admission, "allowlist") != 0 && strcmp(c->authority.admission, "open") != 0) {
		snprintf(err, CONF_ERROR_MAX, "authority.admission: expected allowlist or open, got \"%.40s\"",
			 c->authority.admission);
		return -EINVAL;
	}
	const char *tun = c->exit_gateway.ip_packet_router.tun_name;
	size_t tun_len = strlen(tun);
	if (tun_len == 0 || tun_len >= 16 || strchr(tun, '/') || strchr(tun, ' ') || strchr(tun, '%')) {
		snprintf(err, CONF_ERROR_MAX, "exit_gateway.ip_packet_router.tun_name: expected an interface name of 1-15 characters, got \"%.40s\"", tun);
		return -EINVAL;
	}
	const char *wgif = c->wireguard.interface;
	size_t wgif_len = strlen(wgif);
	if (wgif_len == 0 || wgif_len >= 16 || strchr(wgif, '/') || strchr(wgif, ' ') || strchr(wgif, '%')) {
		snprintf(err, CONF_ERROR_MAX, "wireguard.interface: expected an interface name of 1-15 characters, got \"%.40s\"", wgif);
		return -EINVAL;
	}
	if (strcmp(c->wireguard.backend, "auto") && strcmp(c->wireguard.backend, "kernel") &&
	    strcmp(c->wireguard.backend, "userspace")) {
		snprintf(err, CONF_ERROR_MAX, "wireguard.backend: expected auto, kernel or userspace, got \"%.40s\"", c->wireguard.backend);
		return -EINVAL;
	}
	if (node_amnezia_check(c->wireguard.amnezia, err, CONF_ERROR_MAX))
		return -EINVAL;
	if (node_amnezia_on(c) && !strcmp(c->wireguard.backend, "userspace")) {
		snprintf(err, CONF_ERROR_MAX, "wireguard.amnezia: needs the kernel backend (nym_awg.ko), but wireguard.backend is userspace");
		return -EINVAL;
	}
	if (c->mixnet.packet_forwarding_maximum_backoff_ns < c->mixnet.packet_forwarding_initial_backoff_ns) {
		snprintf(err, CONF_ERROR_MAX, "mixnet.debug.packet_forwarding_maximum_backoff: must not be below the initial backoff");
		return -EINVAL;
	}
	return 0;
}

void node_dir(char *dir, size_t len, const char *id, const char *data_dir)
{
	if (data_dir) {
		snprintf(dir, len, "%s", data_dir);
		return;
	}
	const char *home = getenv("HOME");
	snprintf(dir, len, "%s/.nym/nym-nodes/%s", home && *home ? home : "/root", id);
}

int node_config_open(const char *context, const char *id, const char *data_dir,
		     struct node_config *cfg, char *dir, size_t dir_len)
{
	char path[NODE_PATH_MAX], err[CONF_ERROR_MAX];
	node_dir(dir, dir_len, id ? id : "default-nym-node", data_dir);
	snprintf(path, sizeof(path), "%s/config/config.yaml", dir);
	int rc = conf_load(path, node_config_schema, cfg, err);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: no node at %s (run `nym-node init` first)\n", context, dir);
		return rc;
	}
	if (rc == 0 && (rc = node_config_validate(cfg, err)) != 0)
		fprintf(stderr, "%s: %s: %s\n", context, path, err);
	else if (rc)
		fprintf(stderr, "%s: %s\n", context, err);
	return rc;
}
