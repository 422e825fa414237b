/* Socket addresses and sockets: parsing "198.51.100.2:1789" / "[2001:db8::1]:1789",
 * formatting, and the listening and connecting sockets every daemon opens. */
#ifndef NYM_IO_SOCK_H
#define NYM_IO_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define SOCK_ADDR_STR_LEN 64

struct sock_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parses "IPv4:PORT", "[IPv6]:PORT", or a bare address when default_port > 0.
 * Returns 0 or -EINVAL. Never resolves host names. */
int sock_addr_parse(struct sock_addr *out, const char *text, int default_port);
/* Formats as "IPv4:PORT" or "[IPv6]:PORT". */
void sock_addr_format(const struct sockaddr *sa, char buf[SOCK_ADDR_STR_LEN]);
int sock_addr_port(const struct sockaddr *sa);
void sock_addr_set_port(struct sock_addr *a, int port);
bool sock_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* A non-blocking TCP listener. An IPv6 wildcard also accepts IPv4 (dual stack).
 * reuseport lets several workers each own a listener on the same address. Returns the fd or
 * a negative errno. */
int sock_tcp_listen(const struct sock_addr *addr, bool reuseport, int backlog);

/* TCP_NODELAY and keepalive on an established or connecting socket. */
void sock_tcp_tune(int fd);

#endif
