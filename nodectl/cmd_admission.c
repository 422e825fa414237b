/* nym-node authority admit|revoke|list: the operator's side of admission to the directory
 * (directory/allowlist.h). Decisions go into the authority's registry database, where the
 * running authority reads them at once and serves them, signed, to its peers. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cmd_util.h"
#include "commands.h"
#include "directory/allowlist.h"
#include "directory/registry.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_keys.h"
#include "util/base58.h"
#include "util/cli.h"
#include "util/clock.h"
#include "util/log.h"

/* Opens the registry of the authority at --id/--data-dir and loads its identity. */
static int open_authority(const char *context, const char *id, const char *data_dir, struct nym_registry **reg,
			  uint8_t self[32])
{
	struct node_config cfg;
	struct node_keys keys;
	char dir[NODE_DIR_MAX], data[NODE_PATH_MAX], path[NODE_PATH_MAX + 16], err[512];
	if (node_config_open(context, id, data_dir, &cfg, dir, sizeof(dir)))
		return -EINVAL;
	if (strcmp(cfg.mode, "authority") != 0) {
		fprintf(stderr, "%s: %s is not an authority (mode %s)\n", context, dir, cfg.mode);
		return -EINVAL;
	}
	snprintf(data, sizeof(data), "%s/data", dir);
	if (node_keys_load(data, &keys, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", context, err);
		return -EINVAL;
	}
	memcpy(self, keys.identity.public_key, 32);
	node_keys_clear(&keys);
	snprintf(path, sizeof(path), "%s/registry.db", data);
	int rc = nym_registry_open(reg, path, NULL);
	if (rc)
		fprintf(stderr, "%s: %s: cannot open the registry: %s\n", context, path, strerror(-rc));
	return rc;
}

static int decide(const char *context, int argc, char **argv, bool admit)
{
	const char *id = NULL, *data_dir = NULL, *identity[1];
	size_t npos = 0;
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &id, false, "ID    the authority node" },
		{ "data-dir", CLI_STRING, &data_dir, false, "DIR   its directory (instead of --id)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, identity, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	uint8_t node[32], self[32];
	if (npos != 1 || nym_base58_decode_exact(node, 32, identity[0])) {
		fprintf(stderr, "%s: expected one node identity (base58 Ed25519 key, as in data/ed25519_identity.pub)\n",
			context);
		return EXIT_FAIL;
	}
	struct nym_registry *reg = NULL;
	enum nym_log_level level = nym_log_get_level();
	nym_log_set_level(NYM_LOG_WARN);
	int status = EXIT_FAIL;
	if (open_authority(context, id, data_dir, &reg, self))
		goto out;
	if ((rc = nym_allowlist_set(nym_registry_db(reg), node, self, admit, nym_clock_unix_now())) != 0) {
		fprintf(stderr, "%s: cannot record the decision: %s\n", context,
			rc == -EDQUOT ? "this authority's list is full" : strerror(-rc));
		goto out;
	}
	bool now_admitted = false;
	nym_allowlist_admitted(nym_registry_db(reg), node, &now_admitted);
	printf("%s %s%s\n", identity[0], admit ? "admitted" : "revoked",
	       admit && !now_admitted ? " here, but another authority revokes it: not admitted" : "");
	status = EXIT_OK;
out:
	nym_log_set_level(level);
	nym_registry_close(reg);
	return status;
}

int cmd_authority_admit(const char *context, int argc, char **argv)
{
	return decide(context, argc, argv, true);
}

int cmd_authority_revoke(const char *context, int argc, char **argv)
{
	return decide(context, argc, argv, false);
}

int cmd_authority_list(const char *context, int argc, char **argv)
{
	const char *id = NULL, *data_dir = NULL;
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &id, false, "ID    the authority node" },
		{ "data-dir", CLI_STRING, &data_dir, false, "DIR   its directory (instead of --id)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct nym_registry *reg = NULL;
	uint8_t self[32];
	json_t *list = NULL;
	int status = EXIT_FAIL;
	enum nym_log_level level = nym_log_get_level();
	nym_log_set_level(NYM_LOG_WARN);
	if (open_authority(context, id, data_dir, &reg, self))
		goto out;
	if ((rc = nym_allowlist_list(nym_registry_db(reg), &list)) != 0) {
		fprintf(stderr, "%s: cannot read the admission list: %s\n", context, strerror(-rc));
		goto out;
	}
	char who[64];
	nym_base58_encode(who, sizeof(who), self, 32);
	status = cmd_print_json(json_pack("{s:s, s:o}", "authority", who, "nodes", list));
out:
	nym_log_set_level(level);
	nym_registry_close(reg);
	return status;
}
