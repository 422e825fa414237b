/* Socket addresses as plain values: parsing "198.51.100.2:1789" / "[2001:db8::1]:1789",
 * formatting, comparing, ports. No sockets are opened here (those are in io/sock). */
#ifndef NYM_NET_NET_ADDR_H
#define NYM_NET_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDR_STR_LEN 64

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parses "IPv4:PORT", "[IPv6]:PORT", or a bare address when default_port > 0.
 * Returns 0 or -EINVAL. Never resolves host names. */
int net_addr_parse(struct net_addr *out, const char *text, int default_port);
/* Formats as "IPv4:PORT" or "[IPv6]:PORT". */
void net_addr_format(const struct sockaddr *sa, char buf[NET_ADDR_STR_LEN]);
int net_addr_port(const struct sockaddr *sa);
void net_addr_set_port(struct net_addr *a, int port);
bool net_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
