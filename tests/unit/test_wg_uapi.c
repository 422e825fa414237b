#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wg/wg_conf.h"
#include "wg/wg_device.h"
#include "wg/wg_uapi.h"

TestSuite(wg_uapi);

static void fill(uint8_t k[WG_KEY_LEN], uint8_t v)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(v + i);
}

static void ip(struct wg_allowed_ip *a, const char *text)
{
	cr_assert_eq(wg_allowed_ip_parse(a, text), 0, "%s", text);
}

#define HEX01 "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
#define HEXA0 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define HEXC0 "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
#define HEXE0 "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

Test(wg_uapi, encode_set_exact)
{
	struct wg_allowed_ip aips[3];
	ip(&aips[0], "10.0.0.0/8");
	ip(&aips[1], "fd00::1");
	ip(&aips[2], "192.0.2.7/32");
	aips[2].remove = true;
	struct wg_peer_conf peers[3] = { 0 };
	fill(peers[0].public_key, 0xa0);
	peers[0].flags = WG_PEER_PRESHARED_KEY | WG_PEER_KEEPALIVE | WG_PEER_REPLACE_ALLOWED_IPS;
	fill(peers[0].preshared_key, 0xc0);
	peers[0].keepalive = 25;
	peers[0].endpoint.in.sin_family = AF_INET;
	peers[0].endpoint.in.sin_port = htons(51820);
	inet_pton(AF_INET, "198.51.100.9", &peers[0].endpoint.in.sin_addr);
	peers[0].allowed_ips = aips;
	peers[0].n_allowed_ips = 3;
	fill(peers[1].public_key, 0xe0);
	peers[1].flags = WG_PEER_REMOVE | WG_PEER_KEEPALIVE; /* everything but the key ignored */
	peers[1].allowed_ips = aips;
	peers[1].n_allowed_ips = 1;
	fill(peers[2].public_key, 0xc0);
	peers[2].flags = WG_PEER_UPDATE_ONLY;
	peers[2].endpoint.in6.sin6_family = AF_INET6;
	peers[2].endpoint.in6.sin6_port = htons(1);
	inet_pton(AF_INET6, "2001:db8::1", &peers[2].endpoint.in6.sin6_addr);
	struct wg_conf c = { .flags = WG_CONF_PRIVATE_KEY | WG_CONF_LISTEN_PORT | WG_CONF_FWMARK | WG_CONF_REPLACE_PEERS,
			     .listen_port = 51822,
			     .fwmark = 0x14d,
			     .peers = peers,
			     .n_peers = 3 };
	fill(c.private_key, 1);
	char *out;
	size_t len;
	cr_assert_eq(wg_uapi_encode_set(&c, &out, &len), 0);
	const char *want = "set=1\n"
			   "private_key=" HEX01 "\n"
			   "listen_port=51822\n"
			   "fwmark=333\n"
			   "replace_peers=true\n"
			   "public_key=" HEXA0 "\n"
			   "preshared_key=" HEXC0 "\n"
			   "endpoint=198.51.100.9:51820\n"
			   "persistent_keepalive_interval=25\n"
			   "replace_allowed_ips=true\n"
			   "allowed_ip=10.0.0.0/8\n"
			   "allowed_ip=fd00::1/128\n"
			   "allowed_ip=-192.0.2.7/32\n"
			   "public_key=" HEXE0 "\n"
			   "remove=true\n"
			   "public_key=" HEXC0 "\n"
			   "update_only=true\n"
			   "endpoint=[2001:db8::1]:1\n"
			   "\n";
	cr_assert_str_eq(out, want);
	cr_assert_eq(len, strlen(want));
	wg_uapi_free(out, len);
}

Test(wg_uapi, encode_set_minimal_and_bad)
{
	struct wg_conf c = { 0 };
	char *out;
	size_t len;
	cr_assert_eq(wg_uapi_encode_set(&c, &out, &len), 0);
	cr_assert_str_eq(out, "set=1\n\n");
	wg_uapi_free(out, len);

	struct wg_allowed_ip a = { .family = AF_INET, .cidr = 33 };
	struct wg_peer_conf p = { .allowed_ips = &a, .n_allowed_ips = 1 };
	c.peers = &p;
	c.n_peers = 1;
	cr_assert_eq(wg_uapi_encode_set(&c, &out, &len), -EINVAL);
	a.family = AF_UNIX;
	a.cidr = 1;
	cr_assert_eq(wg_uapi_encode_set(&c, &out, &len), -EINVAL);
	p.n_allowed_ips = 0;
	p.endpoint.sa.sa_family = AF_UNIX;
	cr_assert_eq(wg_uapi_encode_set(&c, &out, &len), -EINVAL);
}

Test(wg_uapi, encode_many_peers_grows)
{
	enum { N = 300 };
	struct wg_peer_conf *peers = calloc(N, sizeof(*peers));
	struct wg_allowed_ip a;
	ip(&a, "10.1.2.3/32");
	for (int i = 0; i < N; i++) {
		fill(peers[i].public_key, (uint8_t)i);
		peers[i].allowed_ips = &a;
		peers[i].n_allowed_ips = 1;
	}
	struct wg_conf c = { .peers = peers, .n_peers = N };
	char *out;
	size_t len;
	cr_assert_eq(wg_uapi_encode_set(&c, &out, &len), 0);
	cr_assert_eq(len, strlen("set=1\n\n") + N * (strlen("public_key=\n") + 64 + strlen("allowed_ip=10.1.2.3/32\n")));
	wg_uapi_free(out, len);
	free(peers);
}

static const char get_reply[] = "private_key=" HEX01 "\n"
				"listen_port=51822\n"
				"fwmark=333\n"
				"public_key=" HEXA0 "\n"
				"preshared_key=" HEXC0 "\n"
				"protocol_version=1\n"
				"endpoint=198.51.100.9:51820\n"
				"last_handshake_time_sec=1700000000\n"
				"last_handshake_time_nsec=123456789\n"
				"tx_bytes=18446744073709551615\n"
				"rx_bytes=4096\n"
				"persistent_keepalive_interval=25\n"
				"allowed_ip=10.0.0.0/8\n"
				"allowed_ip=fd00::1/128\n"
				"public_key=" HEXE0 "\n"
				"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
				"endpoint=[2001:db8::1]:1\n"
				"some_future_key=whatever\n"
				"last_handshake_time_sec=0\n"
				"last_handshake_time_nsec=0\n"
				"tx_bytes=0\n"
				"rx_bytes=0\n"
				"persistent_keepalive_interval=0\n"
				"errno=0\n"
				"\n";

Test(wg_uapi, parse_get)
{
	struct wg_status st;
	cr_assert_eq(wg_uapi_parse_get(get_reply, strlen(get_reply), &st), 0);
	uint8_t k[WG_KEY_LEN], pub[WG_KEY_LEN];
	fill(k, 1);
	wg_key_public(pub, k);
	cr_assert(st.has_private_key);
	cr_assert_arr_eq(st.private_key, k, WG_KEY_LEN);
	cr_assert(st.has_public_key);
	cr_assert_arr_eq(st.public_key, pub, WG_KEY_LEN);
	cr_assert_eq(st.listen_port, 51822);
	cr_assert_eq(st.fwmark, 333);
	cr_assert_eq(st.n_peers, 2);
	struct wg_peer_status *p = &st.peers[0];
	fill(k, 0xa0);
	cr_assert_arr_eq(p->public_key, k, WG_KEY_LEN);
	cr_assert(p->has_preshared_key);
	fill(k, 0xc0);
	cr_assert_arr_eq(p->preshared_key, k, WG_KEY_LEN);
	cr_assert_eq(p->protocol_version, 1);
	cr_assert_eq(p->endpoint.sa.sa_family, AF_INET);
	cr_assert_eq(ntohs(p->endpoint.in.sin_port), 51820);
	cr_assert_eq(p->last_handshake_sec, 1700000000);
	cr_assert_eq(p->last_handshake_nsec, 123456789);
	cr_assert_eq(p->tx_bytes, UINT64_MAX);
	cr_assert_eq(p->rx_bytes, 4096);
	cr_assert_eq(p->keepalive, 25);
	cr_assert_eq(p->n_allowed_ips, 2);
	char t[WG_ALLOWED_IP_STR_LEN];
	wg_allowed_ip_format(t, &p->allowed_ips[0]);
	cr_assert_str_eq(t, "10.0.0.0/8");
	wg_allowed_ip_format(t, &p->allowed_ips[1]);
	cr_assert_str_eq(t, "fd00::1/128");
	p = &st.peers[1];
	cr_assert_not(p->has_preshared_key);
	cr_assert_eq(p->endpoint.sa.sa_family, AF_INET6);
	cr_assert_eq(ntohs(p->endpoint.in6.sin6_port), 1);
	cr_assert_eq(p->n_allowed_ips, 0);
	cr_assert_not_null(wg_status_find_peer(&st, st.peers[1].public_key));
	wg_status_free(&st);
	cr_assert_eq(st.n_peers, 0);
	cr_assert_null(st.peers);
}

Test(wg_uapi, parse_empty_device)
{
	struct wg_status st;
	const char *r = "listen_port=0\nerrno=0\n\n";
	cr_assert_eq(wg_uapi_parse_get(r, strlen(r), &st), 0);
	cr_assert_not(st.has_private_key);
	cr_assert_not(st.has_public_key);
	cr_assert_eq(st.n_peers, 0);
	wg_status_free(&st);
}

Test(wg_uapi, errno_either_sign)
{
	struct wg_status st;
	cr_assert_eq(wg_uapi_parse_get("errno=-22\n\n", 11, &st), -EINVAL);
	cr_assert_eq(wg_uapi_parse_get("errno=22\n\n", 10, &st), -EINVAL);
	cr_assert_eq(st.n_peers, 0);
	cr_assert_eq(wg_uapi_parse_set_reply("errno=0\n\n", 9), 0);
	cr_assert_eq(wg_uapi_parse_set_reply("errno=-55\n\n", 11), -55);
	cr_assert_eq(wg_uapi_parse_set_reply("errno=5\n\n", 9), -EIO);
	/* An error after some keys leaves the status empty. */
	const char *r = "listen_port=5\npublic_key=" HEXA0 "\nerrno=-5\n\n";
	cr_assert_eq(wg_uapi_parse_get(r, strlen(r), &st), -EIO);
	cr_assert_eq(st.n_peers, 0);
	cr_assert_null(st.peers);
}

Test(wg_uapi, bad_replies)
{
	static const char *const bad[] = {
		"",                                     /* nothing */
		"errno=0\n",                            /* no empty line */
		"listen_port=1\n\n",                    /* no errno */
		"errno=0\n\nextra",                     /* text after the reply */
		"errno=0\nlisten_port=1\n\n",           /* a key after errno */
		"errno=\n\n",                           /* no number */
		"errno=4096\n\n",                       /* out of range */
		"errno=+1\n\n",                         /* a sign errno never has */
		"errno=1x\n\n",                         /* trailing junk */
		"listen_port=65536\nerrno=0\n\n",       /* port too large */
		"listen_port=-1\nerrno=0\n\n",          /* negative */
		"fwmark=4294967296\nerrno=0\n\n",       /* mark too large */
		"listen_port\nerrno=0\n\n",             /* no '=' */
		"=1\nerrno=0\n\n",                      /* no key */
		"private_key=0102\nerrno=0\n\n",        /* a short key */
		"private_key=" HEX01 "00\nerrno=0\n\n", /* a long key */
		"rx_bytes=1\nerrno=0\n\n",              /* a peer key before any peer */
		"public_key=" HEXA0 "\nlisten_port=1\nerrno=0\n\n",     /* a device key after a peer */
		"public_key=" HEXA0 "\nallowed_ip=10.0.0.1\nerrno=0\n\n", /* no prefix length */
		"public_key=" HEXA0 "\nallowed_ip=10.0.0.1/33\nerrno=0\n\n",
		"public_key=" HEXA0 "\nendpoint=10.0.0.1\nerrno=0\n\n", /* no port */
		"public_key=" HEXA0 "\nendpoint=host:1\nerrno=0\n\n",   /* a name */
		"public_key=" HEXA0 "\nrx_bytes=18446744073709551616\nerrno=0\n\n",
		"public_key=" HEXA0 "\npersistent_keepalive_interval=65536\nerrno=0\n\n",
		"public_key=" HEXA0 "\nlast_handshake_time_sec=9223372036854775808\nerrno=0\n\n",
		"public_key=" HEXA0 "\n\nerrno=0\n\n", /* an empty line inside */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wg_status st;
		int rc = wg_uapi_parse_get(bad[i], strlen(bad[i]), &st);
		cr_assert_eq(rc, -EBADMSG, "case %zu (%s): %d", i, bad[i], rc);
		cr_assert_eq(st.n_peers, 0);
	}
	/* A NUL inside a line. */
	struct wg_status st;
	cr_assert_eq(wg_uapi_parse_get("fwmark=1\0\nerrno=0\n\n", 19, &st), -EBADMSG);
	/* A set reply carries errno only. */
	cr_assert_eq(wg_uapi_parse_set_reply("listen_port=1\nerrno=0\n\n", 23), -EBADMSG);
}

Test(wg_uapi, reply_len)
{
	cr_assert_eq(wg_uapi_reply_len("errno=0\n", 8), 0);
	cr_assert_eq(wg_uapi_reply_len("errno=0\n\nx", 10), 9);
	cr_assert_eq(wg_uapi_reply_len("\n", 1), 1);
	cr_assert_eq(wg_uapi_reply_len("", 0), 0);
}

Test(wg_conf, keys_and_allowed_ips)
{
	uint8_t k[WG_KEY_LEN], back[WG_KEY_LEN];
	fill(k, 7);
	char b64[WG_KEY_B64_LEN];
	wg_key_to_base64(b64, k);
	cr_assert_eq(strlen(b64), 44);
	cr_assert_eq(wg_key_from_base64(back, b64), 0);
	cr_assert_arr_eq(k, back, WG_KEY_LEN);
	cr_assert_eq(wg_key_from_base64(back, "abc="), -EINVAL);
	cr_assert_eq(wg_key_from_base64(back, "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY"), -EINVAL);
	cr_assert_eq(wg_key_from_base64(back, "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJS!="), -EINVAL);
	/* The public key of a known private key (RFC 7748 section 6.1, Alice). */
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	cr_assert_eq(wg_key_from_base64(priv, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="), 0);
	wg_key_public(pub, priv);
	wg_key_to_base64(b64, pub);
	cr_assert_str_eq(b64, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
	uint8_t gpriv[WG_KEY_LEN], gpub[WG_KEY_LEN];
	wg_key_generate(gpriv, gpub);
	cr_assert_eq(gpriv[0] & 7, 0);
	cr_assert_eq(gpriv[31] & 0xc0, 0x40);
	cr_assert_not(wg_key_is_zero(gpub));
	memset(k, 0, sizeof(k));
	cr_assert(wg_key_is_zero(k));

	struct wg_allowed_ip a;
	char t[WG_ALLOWED_IP_STR_LEN];
	cr_assert_eq(wg_allowed_ip_parse(&a, "0.0.0.0/0"), 0);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.cidr, 0);
	cr_assert_eq(wg_allowed_ip_parse(&a, "::/0"), 0);
	wg_allowed_ip_format(t, &a);
	cr_assert_str_eq(t, "::/0");
	cr_assert_eq(wg_allowed_ip_parse(&a, "2001:db8::/129"), -EINVAL);
	cr_assert_eq(wg_allowed_ip_parse(&a, "10.0.0.1/"), -EINVAL);
	cr_assert_eq(wg_allowed_ip_parse(&a, "10.0.0.1/-1"), -EINVAL);
	cr_assert_eq(wg_allowed_ip_parse(&a, "10.0.0.1/ 8"), -EINVAL);
	cr_assert_eq(wg_allowed_ip_parse(&a, "10.0.0/8"), -EINVAL);
	cr_assert_eq(wg_allowed_ip_parse(&a, ""), -EINVAL);
}

Test(wg_device, backend_names)
{
	enum wg_backend b;
	static const char *const names[] = { "auto", "kernel", "userspace" };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(wg_backend_parse(names[i], &b), 0);
		cr_assert_str_eq(wg_backend_name(b), names[i]);
	}
	cr_assert_eq(wg_backend_parse("Kernel", &b), -EINVAL);
	cr_assert_eq(wg_backend_parse("", &b), -EINVAL);
	cr_assert_eq(wg_backend_parse(NULL, &b), -EINVAL);
}
