/* nym-node run: the node in the foreground, in the role its mode names. Logs to stderr;
 * SIGINT/SIGTERM stop it cleanly, SIGHUP reloads the description and the log level. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "nodectl/authority/authority.h"
#include "nodectl/gateway/gateway.h"
#include "nodectl/mixnode/mixnode.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_privs.h"
#include "util/cli.h"
#include "util/log.h"

int cmd_run(const char *context, int argc, char **argv)
{
	const char *mode = NULL;
	struct cli_list authorities = { 0 }, authority_keys = { 0 };
	struct mixnode_options o = { .authorities = &authorities, .authority_keys = &authority_keys };
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &o.id, false, "ID    node name" },
		{ "data-dir", CLI_STRING, &o.data_dir, false, "DIR   node directory" },
		{ "mode", CLI_STRING, &mode, false, "MODE  override the configured mode" },
		{ "topology", CLI_STRING, &o.topology_file, false, "FILE  nodes this node may forward to, with Noise keys" },
		{ "workers", CLI_U64, &o.workers, false, "N     packet threads (default: config, 0 = one per core)" },
		{ "authority", CLI_LIST, &authorities, false, "URL   an authority to announce to (adds to directory.authorities)" },
		{ "authority-key", CLI_LIST, &authority_keys, false, "B58   an authority key whose topology signatures count" },
		{ "authority-threshold", CLI_U64, &o.authority_threshold, false, "K     signatures a topology needs (default: a majority)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	static struct node_config cfg;
	char dir[NODE_DIR_MAX], err[CONF_ERROR_MAX];
	if (node_config_open(context, o.id, o.data_dir, &cfg, dir, sizeof(dir)))
		return EXIT_FAIL;
	if (mode)
		snprintf(cfg.mode, sizeof(cfg.mode), "%s", mode);
	if (node_config_validate(&cfg, err)) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	enum nym_log_level level;
	nym_log_parse_level(cfg.logging.level, &level);
	nym_log_set_level(level);
	enum node_mode role;
	node_mode_parse(cfg.mode, &role);
	/* Before any thread or socket: every thread then starts with the reduced set. */
	if (node_privs_drop(context, cfg.user, role, dir))
		return EXIT_FAIL;
	switch (role) {
	case NODE_MODE_AUTHORITY:
		return authority_run(context, &cfg, dir);
	case NODE_MODE_ENTRY:
	case NODE_MODE_EXIT:
		return gateway_run(context, &cfg, dir, &o);
	case NODE_MODE_MIXNODE:
		break;
	}
	return mixnode_run(context, &cfg, dir, &o);
}
