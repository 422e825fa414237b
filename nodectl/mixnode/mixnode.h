/* nym-node run --mode mixnode: the mixnet data plane and what keeps it going (Sphinx key
 * rotation, replay filters, the directory thread, the HTTP API). The gateway roles run it
 * too (nodectl/gateway/gateway.h). */
#ifndef NYM_NODECTL_MIXNODE_H
#define NYM_NODECTL_MIXNODE_H

#include <stdint.h>

#include "nodectl/node/node_config.h"
#include "util/cli.h"

struct mix_shared;
struct node_keys;
struct node_metrics;
struct node_directory;

/* What a role running beside the data plane (the gateway service) gets from the node. */
struct mixnode_runtime {
	const struct node_config *cfg;
	const char *node_dir, *data_dir;
	const struct node_keys *keys; /* copy what is needed: the node reloads them on rotation */
	struct node_metrics *metrics; /* block per_worker[mix->nworkers] is the service's */
	struct mix_shared *mix;
	const struct node_directory *directory; /* the authorities (urls, trust) */
};

/* attach: before the workers start (set the mix hooks); start: after they started; stop:
 * before they stop. attach and start return 0 or a negative errno (the node then stops). */
struct mixnode_service {
	void *ctx;
	int (*attach)(void *ctx, const struct mixnode_runtime *rt);
	int (*start)(void *ctx);
	void (*stop)(void *ctx);
};

/* What `nym-node run` adds to the configuration. */
struct mixnode_options {
	const char *id, *data_dir;	   /* where SIGHUP finds the configuration again */
	const char *topology_file;	   /* NULL: mixnet.topology_file */
	uint64_t workers;		   /* 0: mixnet.workers, 0 there: one per core */
	const struct cli_list *authorities; /* added to directory.authorities */
	const struct cli_list *authority_keys;
	uint64_t authority_threshold; /* 0: a majority of the keys */
	const struct mixnode_service *service; /* NULL: none (a mixnode) */
};

/* Runs until SIGINT or SIGTERM. `cfg` is validated; `dir` is the node's directory. Returns
 * the process exit status; errors are reported on stderr with `context`. */
int mixnode_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o);

#endif
