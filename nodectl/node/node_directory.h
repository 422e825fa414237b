/* A node's side of the directory (nym-node run with authorities configured): one thread that
 *   - announces the node's signed self-description to every authority at start, at the
 *     start of every epoch and whenever its announced Sphinx keys change (key rotation),
 *     retrying an authority that did not take it;
 *   - when authority keys are configured, fetches the epoch document from the authorities at
 *     the start of every epoch, accepts it with k of the n keys' signatures, and publishes it
 *     as the forwarding engine's peer table (struct mixnode_peers), replacing --topology. A
 *     replaced table is freed after a grace period, as keyrings are. */
#ifndef NYM_NODECTL_NODE_DIRECTORY_H
#define NYM_NODECTL_NODE_DIRECTORY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/x25519.h"
#include "dirclient/dir_client.h"
#include "nodectl/mixnode/mix_worker.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_http.h"
#include "nodectl/node/node_keys.h"
#include "topology/epoch.h"
#include "util/cli.h"
#include "util/retire.h"

#define NODE_DIRECTORY_AUTHORITIES_MAX 16

struct node_directory {
	/* Set by the caller before start. */
	const struct node_config *cfg;
	const char *data_dir;
	const struct node_keys *keys; /* copied at start: the main thread reloads its keys */
	struct node_http *http;	  /* the Sphinx keys announced (under http->lock) */
	struct mix_shared *mix;	  /* where the peer table is published */
	size_t nurls;
	char urls[NODE_DIRECTORY_AUTHORITIES_MAX][CONF_STR_MAX];
	struct nym_dir_client_trust trust; /* count 0: announce only */

	/* Internal. */
	struct nym_ed25519_keypair identity;
	uint8_t noise_public[32];
	struct nym_epoch_clock clock;
	bool wireguard;
	struct nym_x25519_keypair wg;
	pthread_t thread;
	bool started;
	_Atomic bool stopping;
	int64_t last_published;
	uint64_t announced_epoch;
	uint32_t announced_rotations[2];
	bool pending[NODE_DIRECTORY_AUTHORITIES_MAX];
	int64_t retry_ms, next_fetch_ms;
	uint64_t topology_epoch;
	struct nym_retire retired; /* peer tables workers may still read */
	struct mixnode_peers *owned; /* the table published last, freed at stop */
	_Atomic uint64_t announcements, announce_failures, documents;
};

/* Reads the authorities from cfg and the command line; prints problems as
 * "<context>: ..." and returns -EINVAL. */
int node_directory_configure(struct node_directory *d, const char *context, const struct cli_list *urls,
			     const struct cli_list *keys, uint64_t threshold);
int node_directory_start(struct node_directory *d);
void node_directory_stop(struct node_directory *d);

#endif
