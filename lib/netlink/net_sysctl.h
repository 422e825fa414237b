/* Network sysctls through /proc/sys (per network namespace). */
#ifndef NYM_NETLINK_NET_SYSCTL_H
#define NYM_NETLINK_NET_SYSCTL_H

#include <stddef.h>

/* Reads /proc/sys/<key> (key like "net/ipv4/ip_forward") without its newline. Returns 0 or
 * -errno (-ENOENT when the kernel has no such setting, e.g. IPv6 disabled). */
int net_sysctl_read(const char *key, char *out, size_t cap);

/* Writes `value` to /proc/sys/<key>. Returns 0 or -errno. */
int net_sysctl_write(const char *key, const char *value);

/* Integer helpers. */
int net_sysctl_read_int(const char *key, int *out);
int net_sysctl_write_int(const char *key, int value);

#define NET_SYSCTL_IPV4_FORWARD "net/ipv4/ip_forward"
#define NET_SYSCTL_IPV6_FORWARD "net/ipv6/conf/all/forwarding"

#endif
