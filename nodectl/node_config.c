#include "node_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/sock.h"
#include "util/log.h"

#define F(field) offsetof(struct node_config, field)

/* Defaults follow nym-node (nym-node/src/config) unless noted. */
const struct conf_key node_config_schema[] = {
	{ "id", CONF_STRING, F(id), "default-nym-node", "node identifier (its directory name)", 0, 0 },
	{ "mode", CONF_STRING, F(mode), "mixnode", "mixnode, entry-gateway, exit-gateway or authority", 0, 0 },
	{ "host.public_ips", CONF_LIST, F(host.public_ips), NULL, "addresses other nodes and clients reach this node on", 0, 0 },
	{ "host.hostname", CONF_STRING, F(host.hostname), "", "DNS name, if any", 0, 0 },
	{ "host.location", CONF_STRING, F(host.location), "", "two-letter country code (ISO 3166-1 alpha-2)", 0, 0 },
	{ "host.description", CONF_STRING, F(host.description), "description.yaml", "operator description file, relative to data/ (reloaded on SIGHUP)", 0, 0 },
	{ "mixnet.bind_address", CONF_STRING, F(mixnet.bind_address), "[::]:1789", "listen address for Sphinx packets from other nodes", 0, 0 },
	{ "mixnet.announce_port", CONF_U64, F(mixnet.announce_port), "0", "port announced to others (0: the bind port)", 0, 65535 },
	{ "mixnet.workers", CONF_U64, F(mixnet.workers), "0", "packet processing threads, each with its own io_uring (0: one per core)", 0, 256 },
	{ "mixnet.noise", CONF_BOOL, F(mixnet.noise), "true", "use Noise XKpsk3 to next hops whose Noise key is known", 0, 0 },
	{ "mixnet.topology_file", CONF_STRING, F(mixnet.topology_file), "", "JSON list of nodes (routing address, Sphinx and Noise keys); --topology overrides", 0, 0 },
	{ "mixnet.replay_protection.enabled", CONF_BOOL, F(mixnet.replay_protection), "true", "drop packets whose replay tag was seen", 0, 0 },
	{ "mixnet.replay_protection.false_positive_rate", CONF_DOUBLE, F(mixnet.replay_false_positive_rate), "1e-5", "replay filter false-positive rate", 1e-12, 0.1 },
	{ "mixnet.replay_protection.expected_packets_per_second", CONF_U64, F(mixnet.replay_expected_packets_per_second), "2000", "sizes the filter for one key lifetime; memory is about 3.6 bytes per packet of that lifetime at 1e-5", 1, 10000000 },
	{ "mixnet.replay_protection.save_interval", CONF_DURATION, F(mixnet.replay_save_interval_ns), "10m", "how often the filter is saved to disk (also saved at shutdown)", 1, 86400 },
	{ "mixnet.debug.maximum_forward_packet_delay", CONF_DURATION, F(mixnet.maximum_forward_packet_delay_ns), "10s", "longer requested delays are clamped to this and counted", 0, 3600 },
	{ "mixnet.debug.connection_idle_timeout", CONF_DURATION, F(mixnet.connection_idle_timeout_ns), "5m", "close connections idle this long (0: never)", 0, 86400 },
	{ "mixnet.debug.connection_write_timeout", CONF_DURATION, F(mixnet.connection_write_timeout_ns), "500ms", "a send stalled this long drops the rest of its batch; 3 in a row close the connection (0: no timeout)", 0, 60 },
	{ "mixnet.debug.maximum_connection_buffer_size", CONF_U64, F(mixnet.maximum_connection_buffer_size), "2000", "packets queued per next hop before new ones are dropped", 1, 1000000 },
	{ "mixnet.debug.initial_connection_timeout", CONF_DURATION, F(mixnet.initial_connection_timeout_ns), "1500ms", "connect timeout to a next hop", 0.001, 60 },
	{ "mixnet.debug.packet_forwarding_initial_backoff", CONF_DURATION, F(mixnet.packet_forwarding_initial_backoff_ns), "10s", "wait after a failed connection before trying that hop again", 0, 3600 },
	{ "mixnet.debug.packet_forwarding_maximum_backoff", CONF_DURATION, F(mixnet.packet_forwarding_maximum_backoff_ns), "300s", "the wait doubles per failure up to this", 0, 86400 },
	{ "mixnet.debug.maximum_delayed_packets", CONF_U64, F(mixnet.maximum_delayed_packets), "100000", "packets held in the delay queue per worker before new ones are dropped (ours)", 1, 100000000 },
	{ "mixnet.debug.maximum_connections", CONF_U64, F(mixnet.maximum_connections), "4096", "ingress connections per worker (ours)", 1, 1000000 },
	{ "http.bind_address", CONF_STRING, F(http.bind_address), "[::]:8080", "node HTTP API", 0, 0 },
	{ "http.access_token", CONF_STRING, F(http.access_token), "", "bearer token required for /api/v1/metrics/prometheus (empty: open)", 0, 0 },
	{ "http.expose_system_info", CONF_BOOL, F(http.expose_system_info), "true", "include host details in /api/v1/host-information", 0, 0 },
	{ "sphinx.epoch_duration", CONF_DURATION, F(sphinx.epoch_duration_ns), "1h", "epoch length", 1, 86400 },
	{ "sphinx.epochs_per_rotation", CONF_U64, F(sphinx.epochs_per_rotation), "24", "epochs a Sphinx key is primary; the previous key stays valid one more epoch", 1, 10000 },
	{ "sphinx.genesis", CONF_U64, F(sphinx.genesis), "0", "Unix time the first rotation started", 0, 0 },
	{ "logging.level", CONF_STRING, F(logging.level), "info", "error, warn, info or debug (reloaded on SIGHUP)", 0, 0 },
	{ 0 },
};

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
	struct sock_addr a;
	if (node_mode_parse(c->mode, &mode)) {
		snprintf(err, CONF_ERROR_MAX, "mode: expected mixnode, entry-gateway, exit-gateway or authority, got \"%.40s\"", c->mode);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->host.public_ips.count; i++) {
		if (sock_addr_parse(&a, c->host.public_ips.item[i], 1) != 0) {
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
	if (sock_addr_parse(&a, c->mixnet.bind_address, -1)) {
		snprintf(err, CONF_ERROR_MAX, "mixnet.bind_address: expected IP:PORT or [IPv6]:PORT, got \"%.60s\"", c->mixnet.bind_address);
		return -EINVAL;
	}
	if (sock_addr_parse(&a, c->http.bind_address, -1)) {
		snprintf(err, CONF_ERROR_MAX, "http.bind_address: expected IP:PORT or [IPv6]:PORT, got \"%.60s\"", c->http.bind_address);
		return -EINVAL;
	}
	if (nym_log_parse_level(c->logging.level, &level)) {
		snprintf(err, CONF_ERROR_MAX, "logging.level: expected error, warn, info or debug, got \"%.40s\"", c->logging.level);
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
