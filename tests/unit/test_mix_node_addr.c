#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "mix/mix_node_addr.h"
#include "util/hex.h"

TestSuite(mix_node_addr);

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	cr_assert_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return sin;
}

static struct sockaddr_in6 v6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	cr_assert_eq(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	return sin6;
}

Test(mix_node_addr, ipv4_layout)
{
	struct sockaddr_in sin = v4("198.51.100.7", 1789);
	uint8_t out[32];
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin, sizeof(sin), out), 0);
	uint8_t want[32];
	nym_hex_decode_exact(want, 32,
			     "0406fdc6336407000000000000000000"
			     "00000000000000000000000000000000");
	cr_assert_arr_eq(out, want, 32);

	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	cr_assert_eq(mix_node_addr_decode(out, 32, &ss, &sl, &used), 0);
	cr_assert_eq(used, 7);
	cr_assert_eq(sl, sizeof(struct sockaddr_in));
	cr_assert_eq(ss.ss_family, AF_INET);
	const struct sockaddr_in *back = (const struct sockaddr_in *)&ss;
	cr_assert_eq(back->sin_port, sin.sin_port);
	cr_assert_eq(back->sin_addr.s_addr, sin.sin_addr.s_addr);

	char text[MIX_NODE_ADDR_STR_LEN];
	cr_assert_eq(mix_node_addr_format(out, 32, text), 0);
	cr_assert_str_eq(text, "198.51.100.7:1789");
}

Test(mix_node_addr, ipv6_layout)
{
	struct sockaddr_in6 sin6 = v6("2001:db8::1:2", 65535);
	uint8_t out[32];
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin6, sizeof(sin6), out), 0);
	uint8_t want[32];
	nym_hex_decode_exact(want, 32,
			     "06ffff20010db8000000000000000000"
			     "01000200000000000000000000000000");
	cr_assert_arr_eq(out, want, 32);

	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	cr_assert_eq(mix_node_addr_decode(out, 32, &ss, &sl, &used), 0);
	cr_assert_eq(used, 19);
	cr_assert_eq(sl, sizeof(struct sockaddr_in6));
	const struct sockaddr_in6 *back = (const struct sockaddr_in6 *)&ss;
	cr_assert_eq(back->sin6_family, AF_INET6);
	cr_assert_eq(back->sin6_port, htons(65535));
	cr_assert_arr_eq(&back->sin6_addr, &sin6.sin6_addr, 16);

	char text[MIX_NODE_ADDR_STR_LEN];
	cr_assert_eq(mix_node_addr_format(out, 32, text), 0);
	cr_assert_str_eq(text, "[2001:db8::1:2]:65535");

	/* The longest text form fits. */
	struct sockaddr_in6 big = v6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&big, sizeof(big), out), 0);
	cr_assert_eq(mix_node_addr_format(out, 32, text), 0);
	cr_assert_eq(strlen(text), strlen("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"));
}

Test(mix_node_addr, unpadded_forms)
{
	struct sockaddr_in sin = v4("0.0.0.0", 42);
	struct sockaddr_in6 sin6 = v6("::", 42);
	uint8_t out[MIX_NODE_ADDR_MAX_UNPADDED_LEN];
	size_t n, used;
	struct sockaddr_storage ss;
	socklen_t sl;

	cr_assert_eq(mix_node_addr_encode_unpadded((struct sockaddr *)&sin, sizeof(sin), out, &n),
		     0);
	cr_assert_eq(n, MIX_NODE_ADDR_V4_LEN);
	cr_assert_eq(mix_node_addr_decode(out, n, &ss, &sl, &used), 0);
	cr_assert_eq(used, n);
	cr_assert_eq(((struct sockaddr_in *)&ss)->sin_port, htons(42));

	cr_assert_eq(mix_node_addr_encode_unpadded((struct sockaddr *)&sin6, sizeof(sin6), out, &n),
		     0);
	cr_assert_eq(n, MIX_NODE_ADDR_V6_LEN);
	cr_assert_eq(mix_node_addr_decode(out, n, &ss, &sl, &used), 0);
	cr_assert_eq(used, n);
	/* One byte short of either form. */
	cr_assert_eq(mix_node_addr_decode(out, n - 1, &ss, &sl, &used), -EMSGSIZE);
	out[0] = 4;
	cr_assert_eq(mix_node_addr_decode(out, 6, &ss, &sl, &used), -EMSGSIZE);
	cr_assert_eq(mix_node_addr_decode(out, 0, &ss, &sl, &used), -EMSGSIZE);
}

Test(mix_node_addr, malformed)
{
	uint8_t in[32] = { 0 };
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	char text[MIX_NODE_ADDR_STR_LEN];
	static const uint8_t bad_versions[] = { 0, 1, 5, 7, 41, 46, 255 };
	for (size_t i = 0; i < sizeof(bad_versions); i++) {
		in[0] = bad_versions[i];
		cr_assert_eq(mix_node_addr_decode(in, 32, &ss, &sl, &used), -EAFNOSUPPORT);
		cr_assert_eq(mix_node_addr_format(in, 32, text), -EAFNOSUPPORT);
	}

	/* Nonzero padding is accepted, as Nym does; the address is what the first bytes say. */
	struct sockaddr_in sin = v4("203.0.113.9", 9000);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin, sizeof(sin), in), 0);
	memset(in + 7, 0xab, 25);
	cr_assert_eq(mix_node_addr_decode(in, 32, &ss, &sl, &used), 0);
	cr_assert_eq(((struct sockaddr_in *)&ss)->sin_addr.s_addr, sin.sin_addr.s_addr);

	/* Unsupported families and truncated socket addresses. */
	struct sockaddr_un {
		sa_family_t family;
		char path[20];
	} un = { AF_UNIX, "x" };
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&un, sizeof(un), in), -EAFNOSUPPORT);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin, sizeof(sin) - 1, in), -EINVAL);
	struct sockaddr_in6 sin6 = v6("::1", 1);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin6, sizeof(struct sockaddr_in), in),
		     -EINVAL);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin6, 1, in), -EINVAL);
}

Test(mix_node_addr, round_trip_many)
{
	for (uint32_t i = 0; i < 2000; i++) {
		uint8_t out[32];
		struct sockaddr_storage ss;
		socklen_t sl;
		size_t used;
		uint16_t port = (uint16_t)(i * 7919);
		if (i % 2) {
			struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
			sin.sin_addr.s_addr = htonl(i * 2654435761u);
			cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin, sizeof(sin), out), 0);
			cr_assert_eq(mix_node_addr_decode(out, 32, &ss, &sl, &used), 0);
			cr_assert_eq(memcmp(&ss, &sin, sizeof(sin)), 0);
		} else {
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
			for (int k = 0; k < 16; k++)
				sin6.sin6_addr.s6_addr[k] = (uint8_t)(i * 31 + (uint32_t)k * 17);
			cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&sin6, sizeof(sin6), out),
				     0);
			cr_assert_eq(mix_node_addr_decode(out, 32, &ss, &sl, &used), 0);
			cr_assert_eq(memcmp(&ss, &sin6, sizeof(sin6)), 0);
		}
		for (int k = (i % 2) ? 7 : 19; k < 32; k++)
			cr_assert_eq(out[k], 0, "padding must be zero");
	}
}
