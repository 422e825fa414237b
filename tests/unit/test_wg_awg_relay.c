/* lib/wg/wg_awg_relay over loopback: a socket plays wireguard-go, another the gateway. What
 * wireguard-go sends arrives AWG-encoded (junk first before an initiation), what the gateway
 * sends back arrives decoded, and what does not classify never reaches wireguard-go. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "awg/awg.h"
#include "crypto/secret.h"
#include "net/net_addr.h"
#include "wg/wg_awg_relay.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(wg_awg_relay, .init = setup, .timeout = 30);

static const struct awg_params P = {
	.jc = 3, .jmin = 50, .jmax = 80, .s1 = 20, .s2 = 30, .h1 = 1000, .h2 = 2000, .h3 = 3000, .h4 = 4000,
};

static int udp(struct net_addr *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(net_addr_parse(a, "127.0.0.1:0", -1), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a->ss, a->len), 0);
	a->len = sizeof(a->ss);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a->ss, &a->len), 0);
	return fd;
}

/* One datagram within 2 s, or -1. */
static ssize_t rx(int fd, uint8_t *buf, size_t cap, struct net_addr *from, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1)
		return -1;
	from->len = sizeof(from->ss);
	return recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from->ss, &from->len);
}

static void wg_msg(uint8_t *m, unsigned type, size_t len)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(0x40 + i);
	m[0] = (uint8_t)type;
	m[1] = m[2] = m[3] = 0;
}

Test(wg_awg_relay, both_ways)
{
	struct net_addr wa, ga, ra, from, relay_net;
	int w = udp(&wa), g = udp(&ga);
	struct wg_awg_relay_config c;
	memset(&c, 0, sizeof(c));
	c.params = P;
	c.net_peer = ga;
	cr_assert_eq(net_addr_parse(&c.wg_bind, "127.0.0.1:0", -1), 0);
	struct wg_awg_relay *r;
	cr_assert_eq(wg_awg_relay_start(&c, &r), 0);
	wg_awg_relay_wg_addr(r, &ra);
	uint8_t m[2000], d[2000];

	/* An initiation: Jc junk datagrams of [Jmin, Jmax), then 148 + S1 with H1 at S1. */
	wg_msg(m, 1, 148);
	cr_assert_eq(sendto(w, m, 148, 0, (struct sockaddr *)&ra.ss, ra.len), 148);
	for (int i = 0; i < 3; i++) {
		ssize_t n = rx(g, d, sizeof(d), &from, 2000);
		cr_assert(n >= 50 && n < 80, "junk %d: %zd", i, n);
		size_t off;
		cr_assert_eq(awg_classify(&P, d, (size_t)n, &off), 0);
	}
	ssize_t n = rx(g, d, sizeof(d), &relay_net, 2000);
	cr_assert_eq(n, 168);
	size_t off;
	cr_assert_eq(awg_decode(&P, d, 168, &off), AWG_MSG_INIT);
	cr_assert_eq(memcmp(d + off, m, 148), 0);

	/* The gateway's response, encoded, comes out plain at wireguard-go's socket. */
	wg_msg(m, 2, 92);
	n = awg_encode(&P, m, 92, d, sizeof(d), NULL);
	cr_assert_eq(sendto(g, d, (size_t)n, 0, (struct sockaddr *)&relay_net.ss, relay_net.len), n);
	n = rx(w, d, sizeof(d), &from, 2000);
	cr_assert_eq(n, 92);
	cr_assert_eq(memcmp(d, m, 92), 0);
	cr_assert(net_addr_equal((struct sockaddr *)&from.ss, (struct sockaddr *)&ra.ss), "from the relay's wg side");

	/* Transport both ways: only the header changes. */
	wg_msg(m, 4, 1400);
	cr_assert_eq(sendto(w, m, 1400, 0, (struct sockaddr *)&ra.ss, ra.len), 1400);
	n = rx(g, d, sizeof(d), &from, 2000);
	cr_assert_eq(n, 1400);
	cr_assert_eq(d[0] | d[1] << 8, 4000);
	cr_assert_eq(memcmp(d + 4, m + 4, 1396), 0);
	cr_assert_eq(sendto(g, d, 1400, 0, (struct sockaddr *)&relay_net.ss, relay_net.len), 1400);
	n = rx(w, d, sizeof(d), &from, 2000);
	cr_assert_eq(n, 1400);
	cr_assert_eq(memcmp(d, m, 1400), 0);

	/* Garbage from the network and non-WireGuard from wireguard-go's side are dropped. */
	memset(d, 0x5a, 300);
	for (size_t len = 0; len < 300; len += 7)
		sendto(g, d, len, 0, (struct sockaddr *)&relay_net.ss, relay_net.len);
	wg_msg(m, 4, 1400); /* plain type 4 is not H4 */
	sendto(g, m, 1400, 0, (struct sockaddr *)&relay_net.ss, relay_net.len);
	sendto(w, d, 100, 0, (struct sockaddr *)&ra.ss, ra.len);
	cr_assert_eq(rx(w, d, sizeof(d), &from, 300), -1, "nothing reached wireguard-go");
	cr_assert_eq(rx(g, d, sizeof(d), &from, 100), -1, "nothing reached the gateway");
	struct wg_awg_relay_stats st;
	wg_awg_relay_stats(r, &st);
	cr_assert_eq(st.junk, 3);
	cr_assert_eq(st.initiations, 1);
	cr_assert_eq(st.to_net, 2);
	cr_assert_eq(st.from_net, 2);
	cr_assert_eq(st.dropped_net, 44, "%llu", (unsigned long long)st.dropped_net);
	cr_assert_eq(st.dropped_wg, 1);
	wg_awg_relay_stop(r);
	close(w);
	close(g);
}

Test(wg_awg_relay, refuses_bad_parameters)
{
	struct wg_awg_relay_config c;
	struct wg_awg_relay *r = (struct wg_awg_relay *)1;
	memset(&c, 0, sizeof(c));
	c.params = P;
	c.params.s2 = (uint16_t)(c.params.s1 + 56);
	cr_assert_eq(net_addr_parse(&c.wg_bind, "127.0.0.1:0", -1), 0);
	cr_assert_eq(net_addr_parse(&c.net_peer, "127.0.0.1:9", -1), 0);
	cr_assert_eq(wg_awg_relay_start(&c, &r), -EINVAL);
	cr_assert_null(r);
	c.params = P;
	memset(&c.net_peer, 0, sizeof(c.net_peer));
	cr_assert_eq(wg_awg_relay_start(&c, &r), -EINVAL, "neither a remote nor a bind address");
	wg_awg_relay_stop(NULL);
}
