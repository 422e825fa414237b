/* wireguard.amnezia of a gateway: off | base | random | the text form "jc=..,jmin=..,...".
 * "random" is drawn once and kept in DATA_DIR/amnezia (the text form), so a gateway's
 * parameters, like its keys, survive restarts and the clients that learned them keep working. */
#ifndef NYM_NODECTL_NODE_AMNEZIA_H
#define NYM_NODECTL_NODE_AMNEZIA_H

#include <stdbool.h>
#include <stddef.h>

#include "awg/awg.h"
#include "nodectl/node/node_config.h"

/* True when wireguard.amnezia is not "off". */
bool node_amnezia_on(const struct node_config *c);

/* Checks the value alone (config validation): 0, or -EINVAL with err naming the fault. */
int node_amnezia_check(const char *value, char *err, size_t err_len);

/* The parameter set (zeroed for off); draws and saves "random" at the first call. 0 or -errno
 * with err set. */
int node_amnezia_params(const struct node_config *c, const char *data_dir, struct awg_params *p, char *err,
			size_t err_len);

#endif
