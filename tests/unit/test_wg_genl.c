/* wg_genl's messages, without a kernel: the bytes of a small SET_DEVICE message, a large
 * configuration split over several messages (REPLACE flags only in the first part) that
 * reads back whole through the dump reader (which merges a repeated peer), and the refusals. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>

#include "wg/wg_genl.h"

TestSuite(wg_genl);

static void fill(uint8_t k[WG_KEY_LEN], uint8_t v)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(v + i);
}

static uint8_t msg[8192] __attribute__((aligned(8)));

Test(wg_genl, small_message_bytes)
{
	struct wg_allowed_ip a = { .family = AF_INET, .addr = { 10, 1, 0, 0 }, .cidr = 16 };
	struct wg_peer_conf p = { .flags = WG_PEER_KEEPALIVE | WG_PEER_REPLACE_ALLOWED_IPS,
				  .keepalive = 25,
				  .allowed_ips = &a,
				  .n_allowed_ips = 1 };
	fill(p.public_key, 0xa0);
	struct wg_conf c = { .flags = WG_CONF_LISTEN_PORT | WG_CONF_FWMARK | WG_CONF_REPLACE_PEERS,
			     .listen_port = 51822,
			     .fwmark = 0x14d,
			     .peers = &p,
			     .n_peers = 1 };
	struct wg_genl_cursor cur = { 0 };
	memset(msg, 0, sizeof(msg));
	cr_assert_eq(wg_genl_build_set(msg, sizeof(msg), 0x1234, "wg0", &c, &cur), 0);
	cr_assert(cur.done);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;
	/* The expected message, attribute by attribute (little-endian host). */
	static const uint8_t want[] = {
		/* nlmsghdr: len 144, type 0x1234, flags 0, seq 0, pid 0 */
		144, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* genlmsghdr: cmd SET_DEVICE (1), version 1 */
		1, 1, 0, 0,
		/* IFNAME (2) "wg0\0" */
		8, 0, 2, 0, 'w', 'g', '0', 0,
		/* LISTEN_PORT (6) u16 51822 */
		6, 0, 6, 0, 0x6e, 0xca, 0, 0,
		/* FWMARK (7) u32 0x14d */
		8, 0, 7, 0, 0x4d, 0x01, 0, 0,
		/* FLAGS (5) REPLACE_PEERS */
		8, 0, 5, 0, 1, 0, 0, 0,
		/* PEERS (8 | NLA_F_NESTED), len 92 */
		92, 0, 8, 0x80,
		/* peer 0 (0 | nested), len 88 */
		88, 0, 0, 0x80,
		/* PUBLIC_KEY (1), 32 bytes */
		36, 0, 1, 0, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
		0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd,
		0xbe, 0xbf,
		/* FLAGS (3) REPLACE_ALLOWEDIPS */
		8, 0, 3, 0, 2, 0, 0, 0,
		/* PERSISTENT_KEEPALIVE_INTERVAL (5) u16 25 */
		6, 0, 5, 0, 25, 0, 0, 0,
		/* ALLOWEDIPS (9 | nested), len 32 */
		32, 0, 9, 0x80,
		/* entry 0 (nested), len 28: FAMILY (1) u16 AF_INET, IPADDR (2) 10.1.0.0, CIDR_MASK (3) 16 */
		28, 0, 0, 0x80, 6, 0, 1, 0, AF_INET, 0, 0, 0, 8, 0, 2, 0, 10, 1, 0, 0, 5, 0, 3, 0, 16, 0, 0, 0,
	};
	cr_assert_eq(nlh->nlmsg_len, sizeof(want));
	cr_assert_arr_eq(msg, want, sizeof(want));
}

/* The flags attribute of the device and of each peer part in one message. */
struct flags_seen {
	int dev_flags;          /* -1 absent */
	int peer_flags[512];    /* per peer part, -1 absent */
	uint8_t key0[512];      /* the first byte of each part's public key */
	size_t n;
};

static void scan(const struct nlmsghdr *nlh, struct flags_seen *f)
{
	f->dev_flags = -1;
	f->n = 0;
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == 5)
			f->dev_flags = (int)mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != 8)
			continue;
		const struct nlattr *p;
		mnl_attr_for_each_nested(p, a) {
			f->peer_flags[f->n] = -1;
			const struct nlattr *x;
			mnl_attr_for_each_nested(x, p) {
				if (mnl_attr_get_type(x) == 3)
					f->peer_flags[f->n] = (int)mnl_attr_get_u32(x);
				if (mnl_attr_get_type(x) == 1)
					f->key0[f->n] = *(const uint8_t *)mnl_attr_get_payload(x);
			}
			f->n++;
		}
	}
}

Test(wg_genl, split_and_merge)
{
	enum { PEERS = 40, BIG = 1500 };
	struct wg_allowed_ip *aips = calloc(BIG + PEERS, sizeof(*aips));
	struct wg_peer_conf *peers = calloc(PEERS, sizeof(*peers));
	for (size_t i = 0; i < BIG + PEERS; i++) {
		aips[i].family = i % 2 ? AF_INET6 : AF_INET;
		aips[i].addr[0] = 10;
		aips[i].addr[1] = (uint8_t)(i >> 8);
		aips[i].addr[2] = (uint8_t)i;
		aips[i].cidr = i % 2 ? 128 : 32;
	}
	for (size_t i = 0; i < PEERS; i++) {
		fill(peers[i].public_key, (uint8_t)(i * 3));
		peers[i].flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_PRESHARED_KEY;
		fill(peers[i].preshared_key, (uint8_t)(i + 100));
		peers[i].endpoint.in.sin_family = AF_INET;
		peers[i].endpoint.in.sin_port = htons((uint16_t)(1000 + i));
		peers[i].allowed_ips = &aips[i == 5 ? PEERS : i];
		peers[i].n_allowed_ips = i == 5 ? BIG : 1; /* peer 5 spans several messages */
	}
	struct wg_conf c = { .flags = WG_CONF_PRIVATE_KEY | WG_CONF_REPLACE_PEERS, .peers = peers, .n_peers = PEERS };
	fill(c.private_key, 9);

	struct wg_status st = { 0 };
	struct wg_genl_cursor cur = { 0 };
	size_t messages = 0, parts5 = 0;
	struct flags_seen f;
	while (!cur.done) {
		memset(msg, 0, sizeof(msg));
		cr_assert_eq(wg_genl_build_set(msg, 2048, 7, "wg0", &c, &cur), 0);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;
		cr_assert_leq(nlh->nlmsg_len, 2048);
		scan(nlh, &f);
		cr_assert_eq(f.dev_flags, messages == 0 ? 1 : -1, "message %zu: device flags %d", messages, f.dev_flags);
		cr_assert_eq(wg_genl_parse_device(nlh, &st), 0);
		for (size_t k = 0; k < f.n; k++)
			parts5 += f.key0[k] == 15; /* peer 5's key begins with 5 * 3 */
		messages++;
		cr_assert_lt(messages, 1000);
	}
	cr_assert_gt(messages, 5);
	cr_assert_gt(parts5, 2, "peer 5 was not split (%zu parts)", parts5);
	cr_assert_eq(st.n_peers, PEERS, "%zu peers after merging", st.n_peers);
	cr_assert(st.has_private_key);
	cr_assert_arr_eq(st.private_key, c.private_key, WG_KEY_LEN);
	for (size_t i = 0; i < PEERS; i++) {
		struct wg_peer_status *p = &st.peers[i];
		cr_assert_arr_eq(p->public_key, peers[i].public_key, WG_KEY_LEN);
		cr_assert(p->has_preshared_key);
		cr_assert_arr_eq(p->preshared_key, peers[i].preshared_key, WG_KEY_LEN);
		cr_assert_eq(ntohs(p->endpoint.in.sin_port), 1000 + i);
		cr_assert_eq(p->n_allowed_ips, peers[i].n_allowed_ips);
		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			cr_assert_eq(p->allowed_ips[k].family, peers[i].allowed_ips[k].family);
			cr_assert_eq(p->allowed_ips[k].cidr, peers[i].allowed_ips[k].cidr);
			cr_assert_arr_eq(p->allowed_ips[k].addr, peers[i].allowed_ips[k].addr, 16);
		}
	}
	wg_status_free(&st);

	/* Peer flags: REPLACE_ALLOWEDIPS once per peer, in its first part only. */
	size_t replace = 0, parts = 0;
	memset(&cur, 0, sizeof(cur));
	while (!cur.done) {
		memset(msg, 0, sizeof(msg));
		cr_assert_eq(wg_genl_build_set(msg, 2048, 7, "wg0", &c, &cur), 0);
		scan((const struct nlmsghdr *)msg, &f);
		for (size_t k = 0; k < f.n; k++) {
			parts++;
			if (f.peer_flags[k] == 2)
				replace++;
			else
				cr_assert_eq(f.peer_flags[k], -1);
		}
	}
	cr_assert_eq(replace, PEERS);
	cr_assert_gt(parts, PEERS);

	/* UPDATE_ONLY stays on every part of a split peer. */
	peers[5].flags |= WG_PEER_UPDATE_ONLY;
	size_t upd = 0, parts_of_5 = 0;
	memset(&cur, 0, sizeof(cur));
	while (!cur.done) {
		memset(msg, 0, sizeof(msg));
		cr_assert_eq(wg_genl_build_set(msg, 2048, 7, "wg0", &c, &cur), 0);
		scan((const struct nlmsghdr *)msg, &f);
		for (size_t k = 0; k < f.n; k++) {
			if (f.key0[k] != 15)
				continue;
			parts_of_5++;
			cr_assert(f.peer_flags[k] == 4 || f.peer_flags[k] == (2 | 4), "flags %d", f.peer_flags[k]);
			upd += f.peer_flags[k] == (2 | 4);
		}
	}
	cr_assert_gt(parts_of_5, 2);
	cr_assert_eq(upd, 1); /* REPLACE_ALLOWEDIPS with the first part only */
	free(aips);
	free(peers);
}

Test(wg_genl, refusals)
{
	struct wg_allowed_ip a = { .family = AF_INET, .cidr = 8, .remove = true };
	struct wg_peer_conf p = { .allowed_ips = &a, .n_allowed_ips = 1 };
	struct wg_conf c = { .peers = &p, .n_peers = 1 };
	struct wg_genl_cursor cur = { 0 };
	cr_assert_eq(wg_genl_build_set(msg, sizeof(msg), 7, "wg0", &c, &cur), -EOPNOTSUPP);
	a.remove = false;
	a.cidr = 33;
	cr_assert_eq(wg_genl_build_set(msg, sizeof(msg), 7, "wg0", &c, &cur), -EINVAL);
	a.cidr = 8;
	cr_assert_eq(wg_genl_build_set(msg, sizeof(msg), 7, "", &c, &cur), -EINVAL);
	cr_assert_eq(wg_genl_build_set(msg, sizeof(msg), 7, "a-name-too-long-x", &c, &cur), -EINVAL);
	/* Room for the headers but not for one peer. */
	p.flags = WG_PEER_PRESHARED_KEY;
	cr_assert_eq(wg_genl_build_set(msg, 96, 7, "wg0", &c, &cur), -EMSGSIZE);
}

Test(wg_genl, bad_messages)
{
	/* A public key of 31 bytes, a peer without a key, an endpoint of the wrong size. */
	for (int bad = 0; bad < 3; bad++) {
		memset(msg, 0, sizeof(msg));
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg);
		struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->cmd = 0;
		struct nlattr *peers = mnl_attr_nest_start(nlh, 8);
		struct nlattr *peer = mnl_attr_nest_start(nlh, 0);
		uint8_t key[32] = { 1 };
		if (bad == 0)
			mnl_attr_put(nlh, 1, 31, key);
		if (bad == 2) {
			mnl_attr_put(nlh, 1, 32, key);
			mnl_attr_put(nlh, 4, 10, key);
		}
		mnl_attr_nest_end(nlh, peer);
		mnl_attr_nest_end(nlh, peers);
		struct wg_status st = { 0 };
		cr_assert_eq(wg_genl_parse_device(nlh, &st), -EBADMSG, "case %d", bad);
		wg_status_free(&st);
	}
	/* A GET request is what wg(8) sends. */
	memset(msg, 0, sizeof(msg));
	cr_assert_eq(wg_genl_build_get(msg, sizeof(msg), 0x22, "wg1"), 0);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;
	cr_assert_eq(nlh->nlmsg_type, 0x22);
	cr_assert_eq(((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd, 0);
	cr_assert_eq(nlh->nlmsg_len, 16 + 4 + 8);
}
