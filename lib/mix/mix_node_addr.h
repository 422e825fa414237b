/* Node routing address: where a Sphinx hop sends the packet next (nymtech/nym
 * common/nymsphinx/addressing/src/nodes.rs, NymNodeRoutingAddress).
 *
 *     ip version (4 or 6) | port u16 BE | IP octets (4 or 16) | zero padding to 32 bytes
 *
 * Inside a Sphinx header the address is padded to 32 bytes; in a client's MixPacket and in
 * the SURB-ACK prefix it appears unpadded (7 bytes for IPv4, 19 for IPv6).
 *
 * Decoding follows Nym: the bytes after the address are not inspected, so a nonzero padding
 * is accepted (Nym's try_from_bytes "does not care if it's zero-padded or not"); refusing it
 * would drop packets every Nym node forwards. We always write zeros. */
#ifndef NYM_MIX_MIX_NODE_ADDR_H
#define NYM_MIX_MIX_NODE_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MIX_NODE_ADDR_LEN 32
#define MIX_NODE_ADDR_V4_LEN 7
#define MIX_NODE_ADDR_V6_LEN 19
#define MIX_NODE_ADDR_MAX_UNPADDED_LEN MIX_NODE_ADDR_V6_LEN
/* "[" + the longest IPv6 text (45) + "]:65535" + NUL = 54. */
#define MIX_NODE_ADDR_STR_LEN 56

/* Encodes an AF_INET or AF_INET6 socket address (its IP and port; an IPv6 scope or flow
 * label is not representable and is dropped) into the padded 32-byte form.
 * Returns 0 or -EAFNOSUPPORT / -EINVAL (salen too short for the family). */
int mix_node_addr_encode(const struct sockaddr *sa, socklen_t salen,
			 uint8_t out[MIX_NODE_ADDR_LEN]);

/* The unpadded form; out needs MIX_NODE_ADDR_MAX_UNPADDED_LEN bytes. *written gets 7 or 19. */
int mix_node_addr_encode_unpadded(const struct sockaddr *sa, socklen_t salen,
				  uint8_t out[MIX_NODE_ADDR_MAX_UNPADDED_LEN], size_t *written);

/* Decodes an address from the start of in (padded or not): *consumed gets 7 or 19. Writes a
 * sockaddr_in or sockaddr_in6 into *out and its length into *out_len.
 * Returns 0, -EAFNOSUPPORT (first byte not 4 or 6) or -EMSGSIZE (too few bytes). */
int mix_node_addr_decode(const uint8_t *in, size_t len, struct sockaddr_storage *out,
			 socklen_t *out_len, size_t *consumed);

/* "1.2.3.4:1789" or "[2001:db8::1]:1789" for logs and debug output. Returns 0 or the
 * decoding error; buf must hold MIX_NODE_ADDR_STR_LEN bytes. */
int mix_node_addr_format(const uint8_t *in, size_t len, char buf[MIX_NODE_ADDR_STR_LEN]);

#endif
