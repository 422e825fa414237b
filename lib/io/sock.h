/* The listening and connecting sockets every daemon opens. */
#ifndef NYM_IO_SOCK_H
#define NYM_IO_SOCK_H

#include <stdbool.h>

#include "net/net_addr.h"

/* A non-blocking TCP listener. An IPv6 wildcard also accepts IPv4 (dual stack).
 * reuseport lets several workers each own a listener on the same address. Returns the fd or
 * a negative errno. */
int sock_tcp_listen(const struct net_addr *addr, bool reuseport, int backlog);

/* TCP_NODELAY and keepalive on an established or connecting socket. */
void sock_tcp_tune(int fd);

#endif
