/* Least privilege for `nym-node run` started by hand as root: the configuration key `user`
 * names the account the node continues as. The switch happens before any thread or socket
 * exists, so every thread inherits the reduced set; the capabilities the role needs stay
 * permitted, effective and ambient (so a wireguard-go child inherits them):
 *
 *   every mode        CAP_NET_BIND_SERVICE (ports below 1024, e.g. 80/443 in a config)
 *   entry/exit gateway CAP_NET_ADMIN too (nymtun0, nymwg, WireGuard peers and their routes)
 *
 * Every other capability leaves the bounding set, and no_new_privs is set. The node
 * directory is handed to the user first when it belongs to someone else (as systemd does
 * with a StateDirectory). Run under systemd as the user already (nym-node@.service), this is
 * a no-op: the unit's AmbientCapabilities give the same set. */
#ifndef NYM_NODECTL_NODE_PRIVS_H
#define NYM_NODECTL_NODE_PRIVS_H

#include <stdint.h>

#include "nodectl/node/node_config.h"

/* Capability bit mask (1 << CAP_x) the mode needs after setup. */
uint64_t node_privs_needed(enum node_mode mode);

/* Switches to user (empty: keep the current one) keeping `node_privs_needed(mode)`.
 * Not root: nothing to switch (a warning when user names someone else). Returns 0 or -errno,
 * after printing "<context>: ..." on stderr. */
int node_privs_drop(const char *context, const char *user, enum node_mode mode, const char *dir);

#endif
