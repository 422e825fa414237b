/* Socket addresses as plain values: parsing "198.51.100.2:1789" / "[2001:db8::1]:1789",
 * formatting, comparing, ports. No sockets are opened here (those are in io/sock). */
#ifndef NYM_NET_NET_ADDR_H
#define NYM_NET_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* The key under which per-address limits count a peer: an IPv4 address (an IPv4-mapped IPv6
 * address is the same IPv4 address) as its mapped form, an IPv6 address by its /64 (one host
 * easily holds a whole /64). Returns 0, or -EAFNOSUPPORT for other families. */
#define NET_ADDR_LIMIT_KEY_LEN 16
int net_addr_limit_key(const struct sockaddr *sa, uint8_t key[NET_ADDR_LIMIT_KEY_LEN]);

#endif
