/* nym-node keys show: the node's public keys in Nym's base58 form. */
#include <jansson.h>
#include <stdio.h>

#include "cmd_util.h"
#include "commands.h"
#include "mixnode/key_rotation.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_keys.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/cli.h"

int cmd_keys_show(const char *context, int argc, char **argv)
{
	const char *id = NULL, *data_dir = NULL;
	bool json = false;
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &id, false, "ID   node name" },
		{ "data-dir", CLI_STRING, &data_dir, false, "DIR  node directory" },
		{ "json", CLI_FLAG, &json, false, "     JSON output" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct node_config cfg;
	struct node_keys keys;
	char dir[NODE_DIR_MAX], data[NODE_PATH_MAX], err[512];
	if (node_config_open(context, id, data_dir, &cfg, dir, sizeof(dir)))
		return EXIT_FAIL;
	snprintf(data, sizeof(data), "%s/data", dir);
	if (node_keys_load(data, &keys, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	if (keys.sphinx_count == 0) {
		fprintf(stderr, "%s: %s holds no Sphinx key yet; `nym-node run` creates it\n", context, data);
		node_keys_clear(&keys);
		return EXIT_FAIL;
	}
	/* The key in use now: this rotation's, or the newest older one if the node has not run
	 * since (it rotates when it starts). */
	struct key_rotation_schedule sched = { (int64_t)cfg.sphinx.genesis, cfg.sphinx.epoch_duration_ns / 1000000000ull,
					   (uint32_t)cfg.sphinx.epochs_per_rotation };
	uint32_t now_id = key_rotation_id_at(&sched, nym_clock_unix_now());
	const struct node_sphinx_key *current = &keys.sphinx[0];
	for (size_t i = 0; i < keys.sphinx_count; i++)
		if (keys.sphinx[i].rotation_id <= now_id)
			current = &keys.sphinx[i];

	char identity[64], sphinx[64], noise[64];
	nym_base58_encode(identity, sizeof(identity), keys.identity.public_key, 32);
	nym_base58_encode(sphinx, sizeof(sphinx), current->kp.public_key, 32);
	nym_base58_encode(noise, sizeof(noise), keys.noise.public_key, 32);
	uint32_t rotation = current->rotation_id;
	node_keys_clear(&keys);
	if (json)
		return cmd_print_json(json_pack("{s:s, s:s, s:I, s:s}", "identity", identity, "sphinx", sphinx,
						"sphinx_rotation", (json_int_t)rotation, "noise", noise));
	printf("identity key:    %s\nsphinx key:      %s (rotation %u)\nnoise key:       %s\n", identity, sphinx,
	       rotation, noise);
	return EXIT_OK;
}
