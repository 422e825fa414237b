/* nym-node's configuration: ~/.nym/nym-nodes/<ID>/config/config.yaml (or --data-dir).
 * Every key, its default and its meaning are in the schema in node_config.c; `nym-node init`
 * writes them all out with comments. */
#ifndef NYM_NODECTL_NODE_CONFIG_H
#define NYM_NODECTL_NODE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

/* A node directory leaves room for the paths built under it. */
#define NODE_DIR_MAX 2048
#define NODE_PATH_MAX 4096

/* The `user` key's default: empty (stay who started the node) unless the build sets it
 * (the Debian package: make NODE_DEFAULT_USER=nym). */
#ifndef NYM_NODE_DEFAULT_USER
#define NYM_NODE_DEFAULT_USER ""
#endif

struct node_config {
	char id[CONF_STR_MAX];
	char mode[CONF_STR_MAX];
	char user[CONF_STR_MAX];
	struct {
		struct conf_list public_ips;
		char hostname[CONF_STR_MAX];
		char location[CONF_STR_MAX];
		char description[CONF_STR_MAX];
	} host;
	struct {
		char bind_address[CONF_STR_MAX];
		uint64_t announce_port;
		uint64_t workers;
		bool noise;
		char topology_file[CONF_STR_MAX];
		uint64_t busy_poll_ns;
		bool replay_protection;
		double replay_false_positive_rate;
		uint64_t replay_expected_packets_per_second;
		uint64_t replay_save_interval_ns;
		uint64_t maximum_forward_packet_delay_ns;
		uint64_t connection_idle_timeout_ns;
		uint64_t connection_write_timeout_ns;
		uint64_t maximum_connection_buffer_size;
		uint64_t initial_connection_timeout_ns;
		uint64_t packet_forwarding_initial_backoff_ns;
		uint64_t packet_forwarding_maximum_backoff_ns;
		uint64_t maximum_delayed_packets;
		uint64_t maximum_connections;
		uint64_t maximum_packet_memory;
		uint64_t max_connections_per_address;
		uint64_t handshakes_per_second;
		uint64_t handshake_burst;
		uint64_t first_frame_timeout_ns;
	} mixnet;
	struct {
		char bind_address[CONF_STR_MAX];
		char access_token[CONF_STR_MAX];
		bool expose_system_info;
		uint64_t threads;
		uint64_t max_connections;
		uint64_t max_connections_per_address;
		uint64_t request_deadline_ns;
		uint64_t idle_timeout_ns;
	} http;
	struct {
		uint64_t epoch_duration_ns;
		uint64_t epochs_per_rotation;
		uint64_t genesis;
	} sphinx;
	struct {
		char level[CONF_STR_MAX];
	} logging;
	struct {
		uint64_t clients_port;
		/* gateway service (client links, inbox, final hops) */
		uint64_t bandwidth_per_ticket;
		uint64_t max_clients;
		uint64_t max_clients_per_address;
		uint64_t link_idle_timeout_ns;
		uint64_t link_first_frame_timeout_ns;
		uint64_t inbox_max_messages;
		uint64_t inbox_max_age_ns;
		uint64_t final_queue;
		uint64_t spent_filter_refresh_ns;
	} gateway;
	struct {
		bool enabled;
		uint64_t announced_port;
		char backend[CONF_STR_MAX];
		uint64_t bind_port;
		char private_network_v4[CONF_STR_MAX];
		char private_network_v6[CONF_STR_MAX];
		char interface[CONF_STR_MAX];
		uint64_t bandwidth_per_ticket;
		uint64_t metadata_port;
		char amnezia[CONF_STR_MAX];
		uint64_t stale_peer_after_ns;
	} wireguard;
	/* exit_gateway.ip_packet_router.*: the exit's IP packet router (nodectl/gateway/gateway_ipr) */
	struct {
		struct {
			bool enabled;
			char tun_name[CONF_STR_MAX];
			uint64_t tun_mtu;
			char policy_file[CONF_STR_MAX];
			uint64_t client_idle_timeout_ns;
			uint64_t buffer_timeout_ns;
			uint64_t fill_wait_ns;
			uint64_t max_clients;
			uint64_t max_surbs_per_client;
			uint64_t surb_low_water;
			uint64_t surb_request_amount;
			uint64_t surb_max_age_ns; /* 0: none (the rotation schedule still applies) */
			uint64_t max_pending_responses;
			uint64_t deliver_queue;
		} ip_packet_router;
	} exit_gateway;
	struct {
		struct conf_list authorities;
		struct conf_list authority_keys;
		uint64_t threshold;
	} directory;
	struct {
		struct conf_list peers;
		uint64_t threshold;
		uint64_t probe_interval_ns;
		uint64_t probe_timeout_ns;
		uint64_t reachable_window_ns;
		uint64_t issuer_key_bits;
		uint64_t descriptor_max_age_ns;
		char admission[CONF_STR_MAX];
		uint64_t max_nodes_per_address;
		uint64_t registrations_per_epoch;
		uint64_t registration_burst;
		uint64_t registration_sources;
		uint64_t max_registered_nodes;
		uint64_t probe_parallel;
		uint64_t nodes_page_size;
	} authority;
};

extern const struct conf_key node_config_schema[];

enum node_mode { NODE_MODE_MIXNODE, NODE_MODE_ENTRY, NODE_MODE_EXIT, NODE_MODE_AUTHORITY };

/* An authority peer entry "URL KEY": splits it (url gets the URL, key the 32 bytes).
 * Returns 0 or -EINVAL. */
int node_config_peer(const char *entry, char *url, size_t url_len, uint8_t key[32]);
/* Whether text is an http:// or https:// URL we accept for an authority. */
bool node_config_url_ok(const char *text);

/* Parses a mode name. Returns 0 or -EINVAL. */
int node_mode_parse(const char *name, enum node_mode *out);

/* Checks the values the schema cannot: addresses parse, the mode and log level are known,
 * the country code is two letters. On failure err names the key. */
int node_config_validate(const struct node_config *c, char err[CONF_ERROR_MAX]);

/* Where a node keeps its files. dir gets "<base>/<id>" where base is ~/.nym/nym-nodes
 * unless data_dir is given (then dir = data_dir). */
void node_dir(char *dir, size_t len, const char *id, const char *data_dir);

/* Loads and validates <dir>/config/config.yaml for --id/--data-dir, printing any problem as
 * "<context>: <file>:<line>:<col>: ..." on stderr. dir receives the node directory. */
int node_config_open(const char *context, const char *id, const char *data_dir,
		     struct node_config *cfg, char *dir, size_t dir_len);

#endif
