/* nym-node init: create a node's directory, configuration and keys. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_util.h"
#include "commands.h"
#include "net/net_addr.h"
#include "mixnode/key_rotation.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_keys.h"
#include "util/clock.h"
#include "util/cli.h"

static int make_dir(const char *context, const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "%s: cannot create %s: %s\n", context, path, strerror(errno));
	return -errno;
}

/* mkdir -p for the node directory's parents. */
static int make_parents(const char *context, const char *dir)
{
	char path[NODE_PATH_MAX];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = make_dir(context, path, 0755);
		*p = '/';
		if (rc)
			return rc;
	}
	return make_dir(context, path, 0700);
}

int cmd_init(const char *context, int argc, char **argv)
{
	const char *id = NULL, *mode = NULL, *hostname = "", *location = "", *data_dir = NULL, *user = NULL;
	struct cli_list ips = { 0 };
	uint64_t mixnet_port = 1789, http_port = 8080;
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &id, true, "ID    node name (its directory under ~/.nym/nym-nodes)" },
		{ "mode", CLI_STRING, &mode, true, "MODE  mixnode, entry-gateway, exit-gateway or authority" },
		{ "public-ip", CLI_LIST, &ips, true, "IP    address others reach this node on" },
		{ "hostname", CLI_STRING, &hostname, false, "NAME  DNS name" },
		{ "location", CLI_STRING, &location, false, "CC    two-letter country code" },
		{ "mixnet-port", CLI_U64, &mixnet_port, false, "PORT  Sphinx packets from other nodes (1789)" },
		{ "http-port", CLI_U64, &http_port, false, "PORT  HTTP API (8080)" },
		{ "data-dir", CLI_STRING, &data_dir, false, "DIR   node directory (default ~/.nym/nym-nodes/ID)" },
		{ "user", CLI_STRING, &user, false, "NAME  user run switches to when started as root (config key user; default \"" NYM_NODE_DEFAULT_USER "\")" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct node_config cfg;
	char err[CONF_ERROR_MAX], dir[NODE_DIR_MAX], path[NODE_PATH_MAX];
	conf_defaults(node_config_schema, &cfg, err);
	if (strlen(id) == 0 || strchr(id, '/') || strlen(id) >= sizeof(cfg.id)) {
		fprintf(stderr, "%s: --id must be a non-empty name without '/'\n", context);
		return EXIT_FAIL;
	}
	if (mixnet_port == 0 || mixnet_port > 65535 || http_port == 0 || http_port > 65535) {
		fprintf(stderr, "%s: ports must be between 1 and 65535\n", context);
		return EXIT_FAIL;
	}
	snprintf(cfg.id, sizeof(cfg.id), "%s", id);
	snprintf(cfg.mode, sizeof(cfg.mode), "%s", mode);
	if (user)
		snprintf(cfg.user, sizeof(cfg.user), "%s", user);
	snprintf(cfg.host.hostname, sizeof(cfg.host.hostname), "%s", hostname);
	snprintf(cfg.host.location, sizeof(cfg.host.location), "%s", location);
	for (size_t i = 0; i < ips.count; i++)
		snprintf(cfg.host.public_ips.item[cfg.host.public_ips.count++], CONF_STR_MAX, "%s", ips.items[i]);
	snprintf(cfg.mixnet.bind_address, sizeof(cfg.mixnet.bind_address), "[::]:%u", (unsigned)mixnet_port);
	snprintf(cfg.http.bind_address, sizeof(cfg.http.bind_address), "[::]:%u", (unsigned)http_port);
	if (node_config_validate(&cfg, err)) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}

	node_dir(dir, sizeof(dir), id, data_dir);
	snprintf(path, sizeof(path), "%s/data/ed25519_identity", dir);
	struct stat st;
	if (stat(path, &st) == 0) {
		fprintf(stderr, "%s: %s already holds a node's keys; refusing to overwrite them\n", context, dir);
		return EXIT_FAIL;
	}
	char config_dir[NODE_PATH_MAX - 64], data[NODE_PATH_MAX];
	snprintf(config_dir, sizeof(config_dir), "%s/config", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	if (make_parents(context, dir) || make_dir(context, config_dir, 0700) || make_dir(context, data, 0700))
		return EXIT_FAIL;

	struct key_rotation_schedule sched = { (int64_t)cfg.sphinx.genesis, cfg.sphinx.epoch_duration_ns / 1000000000ull,
					   (uint32_t)cfg.sphinx.epochs_per_rotation };
	rc = node_keys_create(data, key_rotation_id_at(&sched, nym_clock_unix_now()));
	if (rc) {
		fprintf(stderr, "%s: cannot write keys in %s: %s\n", context, data,
			rc == -EEXIST ? "a key file already exists; refusing to overwrite it" : strerror(-rc));
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/config.yaml", config_dir);
	rc = conf_write(path, node_config_schema, &cfg, 0600);
	if (rc) {
		fprintf(stderr, "%s: cannot write %s: %s\n", context, path, strerror(-rc));
		return EXIT_FAIL;
	}
	printf("initialised %s node '%s' in %s\n", mode, id, dir);
	return EXIT_OK;
}
