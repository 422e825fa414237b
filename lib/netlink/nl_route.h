/* Route queries over rtnetlink (libmnl). */
#ifndef NYM_NETLINK_NL_ROUTE_H
#define NYM_NETLINK_NL_ROUTE_H

#include <net/if.h>

/* Name of the interface that carries the default route of `family` (AF_INET or AF_INET6):
 * the lowest-metric default route of the main table, else of any table (as Nym's script
 * falls back to `ip route show default table all`). For a multipath route, its first
 * next hop. Returns 0, -ENOENT (no default route) or -errno. */
int nl_route_default_ifname(int family, char ifname[IF_NAMESIZE]);

#endif
