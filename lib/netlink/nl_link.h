/* Configuring a network interface over rtnetlink (libmnl): what `ip link set up mtu`,
 * `ip addr add`, `ip route add default dev D table T` and `ip rule add oif D lookup T` do.
 * The exit gateway's IP packet router configures nymtun0 with it; the probe its own TUN.
 * Every call opens its own netlink socket, sends one request and waits for the kernel's
 * acknowledgement (nl_sock). Returns 0 or -errno (-ENODEV: no such interface; -EEXIST from
 * an add that is already there; -ESRCH / -ENOENT from a delete of something absent). */
#ifndef NYM_NETLINK_NL_LINK_H
#define NYM_NETLINK_NL_LINK_H

#include <stdint.h>

/* Sets the link up, with this MTU (0: leave the MTU). */
int nl_link_set_up(const char *ifname, unsigned mtu);

/* Adds / deletes an address (family AF_INET with 4 bytes or AF_INET6 with 16) with its
 * prefix length; IPv6 addresses are added without duplicate address detection. */
int nl_link_addr_add(const char *ifname, int family, const void *addr, unsigned prefix);
int nl_link_addr_del(const char *ifname, int family, const void *addr, unsigned prefix);

/* Adds / deletes the default route of `family` through the interface in routing table
 * `table` (RT_TABLE_MAIN is 254); replace adds it or replaces the one there. */
int nl_link_route_add_default(const char *ifname, int family, uint32_t table);
int nl_link_route_replace_default(const char *ifname, int family, uint32_t table);
int nl_link_route_del_default(const char *ifname, int family, uint32_t table);
/* The same for the route to dst/prefix (4 or 16 bytes of dst) through the interface. */
int nl_link_route_replace(const char *ifname, int family, const void *dst, unsigned prefix, uint32_t table);
int nl_link_route_del(const char *ifname, int family, const void *dst, unsigned prefix, uint32_t table);

/* Adds / deletes the policy rule "priority P: oif IFNAME lookup TABLE" of `family`, so that
 * sockets bound to the interface use that table. */
int nl_link_rule_add_oif(const char *ifname, int family, uint32_t table, uint32_t priority);
int nl_link_rule_del_oif(const char *ifname, int family, uint32_t table, uint32_t priority);

#endif
