/* sd_notify(3)'s protocol without libsystemd (builds with SYSTEMD=0 keep it): one datagram
 * to $NOTIFY_SOCKET, a path or an abstract name starting with '@'. */
#ifndef NYM_NODECTL_NODE_NOTIFY_H
#define NYM_NODECTL_NODE_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1"). 0 when sent or when no manager listens
 * ($NOTIFY_SOCKET unset), else -errno. */
int node_notify(const char *state);

#endif
