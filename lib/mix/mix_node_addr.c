#include "mix/mix_node_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int mix_node_addr_encode_unpadded(const struct sockaddr *sa, socklen_t salen,
				  uint8_t out[MIX_NODE_ADDR_MAX_UNPADDED_LEN], size_t *written)
{
	if (salen < (socklen_t)sizeof(sa->sa_family))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		if (salen < (socklen_t)sizeof(sin))
			return -EINVAL;
		memcpy(&sin, sa, sizeof(sin));
		out[0] = 4;
		memcpy(out + 1, &sin.sin_port, 2); /* already big-endian */
		memcpy(out + 3, &sin.sin_addr, 4);
		*written = MIX_NODE_ADDR_V4_LEN;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		if (salen < (socklen_t)sizeof(sin6))
			return -EINVAL;
		memcpy(&sin6, sa, sizeof(sin6));
		out[0] = 6;
		memcpy(out + 1, &sin6.sin6_port, 2);
		memcpy(out + 3, &sin6.sin6_addr, 16);
		*written = MIX_NODE_ADDR_V6_LEN;
		return 0;
	}
	return -EAFNOSUPPORT;
}

int mix_node_addr_encode(const struct sockaddr *sa, socklen_t salen,
			 uint8_t out[MIX_NODE_ADDR_LEN])
{
	uint8_t tmp[MIX_NODE_ADDR_MAX_UNPADDED_LEN];
	size_t n;
	int r = mix_node_addr_encode_unpadded(sa, salen, tmp, &n);
	if (r)
		return r;
	memset(out, 0, MIX_NODE_ADDR_LEN);
	memcpy(out, tmp, n);
	return 0;
}

int mix_node_addr_decode(const uint8_t *in, size_t len, struct sockaddr_storage *out,
			 socklen_t *out_len, size_t *consumed)
{
	if (len < 1)
		return -EMSGSIZE;
	memset(out, 0, sizeof(*out));
	if (in[0] == 4) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		if (len < MIX_NODE_ADDR_V4_LEN)
			return -EMSGSIZE;
		memcpy(&sin.sin_port, in + 1, 2);
		memcpy(&sin.sin_addr, in + 3, 4);
		memcpy(out, &sin, sizeof(sin));
		*out_len = sizeof(sin);
		*consumed = MIX_NODE_ADDR_V4_LEN;
		return 0;
	}
	if (in[0] == 6) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
		if (len < MIX_NODE_ADDR_V6_LEN)
			return -EMSGSIZE;
		memcpy(&sin6.sin6_port, in + 1, 2);
		memcpy(&sin6.sin6_addr, in + 3, 16);
		memcpy(out, &sin6, sizeof(sin6));
		*out_len = sizeof(sin6);
		*consumed = MIX_NODE_ADDR_V6_LEN;
		return 0;
	}
	return -EAFNOSUPPORT;
}

int mix_node_addr_format(const uint8_t *in, size_t len, char buf[MIX_NODE_ADDR_STR_LEN])
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	char ip[INET6_ADDRSTRLEN];
	int r = mix_node_addr_decode(in, len, &ss, &sl, &used);
	if (r)
		return r;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, MIX_NODE_ADDR_STR_LEN, "%s:%u", ip, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, MIX_NODE_ADDR_STR_LEN, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
	return 0;
}
