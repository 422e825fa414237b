/* nym-node run --mode mixnode: the mixnet data plane and what keeps it going (Sphinx key
 * rotation, replay filters, the directory thread, the HTTP API). The gateway roles run it
 * too (nodectl/gateway/gateway.h). */
#ifndef NYM_NODECTL_MIXNODE_H
#define NYM_NODECTL_MIXNODE_H

#include <stdint.h>

#include "nodectl/node/node_config.h"
#include "util/cli.h"

/* What `nym-node run` adds to the configuration. */
struct mixnode_options {
	const char *id, *data_dir;	   /* where SIGHUP finds the configuration again */
	const char *topology_file;	   /* NULL: mixnet.topology_file */
	uint64_t workers;		   /* 0: mixnet.workers, 0 there: one per core */
	const struct cli_list *authorities; /* added to directory.authorities */
	const struct cli_list *authority_keys;
	uint64_t authority_threshold; /* 0: a majority of the keys */
};

/* Runs until SIGINT or SIGTERM. `cfg` is validated; `dir` is the node's directory. Returns
 * the process exit status; errors are reported on stderr with `context`. */
int mixnode_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o);

#endif
