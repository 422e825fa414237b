/* TUN devices: a layer-3 interface whose packets a process reads and writes as plain IP
 * packets (no packet-information header). Used by the exit gateway's IP packet router
 * (nymtun0) and by the probe's own tunnel. Configure the device with netlink/nl_link.h. */
#ifndef NYM_IO_TUN_H
#define NYM_IO_TUN_H

#include <net/if.h>

/* Opens (creating it if needed) the TUN device `name` (1..15 characters) with IFF_TUN |
 * IFF_NO_PI. The fd is non-blocking and close-on-exec; closing it removes a device this call
 * created (it is not persistent). Returns 0 with *fd, -EINVAL for a bad name, or -errno
 * (-EPERM without CAP_NET_ADMIN, -EBUSY when another process holds it). */
int tun_open(const char *name, int *fd);

/* The kernel's name of the device behind fd (IF_NAMESIZE bytes). Returns 0 or -errno. */
int tun_name(int fd, char name[IF_NAMESIZE]);

#endif
