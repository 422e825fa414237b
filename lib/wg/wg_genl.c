#include "wg/wg_genl.h"

#include "crypto/secret.h"
#include "netlink/nl_sock.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* include/uapi/linux/wireguard.h, written out here so that the build does not depend on the
 * installed headers' age (the allowed-IP flags are a 2025 addition) and so that an AmneziaWG
 * family with the same names can live beside it. */
enum {
	WG_GENL_CMD_GET_DEVICE = 0,
	WG_GENL_CMD_SET_DEVICE = 1,
};
enum {
	WG_GENL_DEV_IFINDEX = 1,
	WG_GENL_DEV_IFNAME = 2,
	WG_GENL_DEV_PRIVATE_KEY = 3,
	WG_GENL_DEV_PUBLIC_KEY = 4,
	WG_GENL_DEV_FLAGS = 5,
	WG_GENL_DEV_LISTEN_PORT = 6,
	WG_GENL_DEV_FWMARK = 7,
	WG_GENL_DEV_PEERS = 8,
	WG_GENL_DEV_MAX = 8,
};
enum { WG_GENL_DEV_F_REPLACE_PEERS = 1U << 0 };
enum {
	WG_GENL_PEER_PUBLIC_KEY = 1,
	WG_GENL_PEER_PRESHARED_KEY = 2,
	WG_GENL_PEER_FLAGS = 3,
	WG_GENL_PEER_ENDPOINT = 4,
	WG_GENL_PEER_KEEPALIVE = 5,
	WG_GENL_PEER_LAST_HANDSHAKE = 6,
	WG_GENL_PEER_RX_BYTES = 7,
	WG_GENL_PEER_TX_BYTES = 8,
	WG_GENL_PEER_ALLOWEDIPS = 9,
	WG_GENL_PEER_PROTOCOL_VERSION = 10,
	WG_GENL_PEER_MAX = 10,
};
enum {
	WG_GENL_PEER_F_REMOVE_ME = 1U << 0,
	WG_GENL_PEER_F_REPLACE_ALLOWEDIPS = 1U << 1,
	WG_GENL_PEER_F_UPDATE_ONLY = 1U << 2,
};
enum {
	WG_GENL_AIP_FAMILY = 1,
	WG_GENL_AIP_IPADDR = 2,
	WG_GENL_AIP_CIDR_MASK = 3,
	WG_GENL_AIP_MAX = 3,
};

static struct nlmsghdr *wg_genl_header(void *buf, uint16_t family, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = nl_sock_put_request(buf, family, flags);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = WG_GENL_VERSION;
	return nlh;
}

static bool wg_genl_ifname_ok(const char *ifname)
{
	return ifname && *ifname && strlen(ifname) < IF_NAMESIZE;
}

/* The peer's own attributes, sent with its first part only. */
static bool wg_genl_put_peer_head(struct nlmsghdr *nlh, size_t size, const struct wg_peer_conf *p)
{
	uint32_t flags = 0;
	if (p->flags & WG_PEER_REMOVE)
		flags |= WG_GENL_PEER_F_REMOVE_ME;
	if (p->flags & WG_PEER_REPLACE_ALLOWED_IPS)
		flags |= WG_GENL_PEER_F_REPLACE_ALLOWEDIPS;
	if (p->flags & WG_PEER_UPDATE_ONLY)
		flags |= WG_GENL_PEER_F_UPDATE_ONLY;
	if (flags && !mnl_attr_put_u32_check(nlh, size, WG_GENL_PEER_FLAGS, flags))
		return false;
	if (p->flags & WG_PEER_REMOVE)
		return true;
	if ((p->flags & WG_PEER_PRESHARED_KEY) &&
	    !mnl_attr_put_check(nlh, size, WG_GENL_PEER_PRESHARED_KEY, WG_KEY_LEN, p->preshared_key))
		return false;
	if (p->endpoint.sa.sa_family == AF_INET &&
	    !mnl_attr_put_check(nlh, size, WG_GENL_PEER_ENDPOINT, sizeof(p->endpoint.in), &p->endpoint.in))
		return false;
	if (p->endpoint.sa.sa_family == AF_INET6 &&
	    !mnl_attr_put_check(nlh, size, WG_GENL_PEER_ENDPOINT, sizeof(p->endpoint.in6), &p->endpoint.in6))
		return false;
	if ((p->flags & WG_PEER_KEEPALIVE) &&
	    !mnl_attr_put_u16_check(nlh, size, WG_GENL_PEER_KEEPALIVE, p->keepalive))
		return false;
	return true;
}

static bool wg_genl_put_aip(struct nlmsghdr *nlh, size_t size, const struct wg_allowed_ip *a)
{
	struct nlattr *n = mnl_attr_nest_start_check(nlh, size, 0);
	if (!n)
		return false;
	size_t alen = a->family == AF_INET ? 4 : 16;
	if (!mnl_attr_put_u16_check(nlh, size, WG_GENL_AIP_FAMILY, (uint16_t)a->family) ||
	    !mnl_attr_put_check(nlh, size, WG_GENL_AIP_IPADDR, alen, a->addr) ||
	    !mnl_attr_put_u8_check(nlh, size, WG_GENL_AIP_CIDR_MASK, a->cidr)) {
		mnl_attr_nest_cancel(nlh, n);
		return false;
	}
	mnl_attr_nest_end(nlh, n);
	return true;
}

static int wg_genl_check(const struct wg_conf *c)
{
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wg_peer_conf *p = &c->peers[i];
		int fam = p->endpoint.sa.sa_family;
		if (fam != 0 && fam != AF_INET && fam != AF_INET6)
			return -EINVAL;
		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			const struct wg_allowed_ip *a = &p->allowed_ips[j];
			if ((a->family != AF_INET || a->cidr > 32) && (a->family != AF_INET6 || a->cidr > 128))
				return -EINVAL;
			if (a->remove)
				return -EOPNOTSUPP;
		}
	}
	return 0;
}

int wg_genl_build_set(void *buf, size_t size, uint16_t family, const char *ifname, const struct wg_conf *c,
		      struct wg_genl_cursor *cur)
{
	if (!wg_genl_ifname_ok(ifname) || size > 65536 || size < MNL_NLMSG_HDRLEN + 64)
		return -EINVAL;
	int rc = wg_genl_check(c);
	if (rc)
		return rc;
	struct nlmsghdr *nlh = wg_genl_header(buf, family, WG_GENL_CMD_SET_DEVICE, 0);
	mnl_attr_put_strz(nlh, WG_GENL_DEV_IFNAME, ifname);
	if (!cur->started) {
		uint32_t flags = (c->flags & WG_CONF_REPLACE_PEERS) ? WG_GENL_DEV_F_REPLACE_PEERS : 0;
		if ((c->flags & WG_CONF_PRIVATE_KEY) &&
		    !mnl_attr_put_check(nlh, size, WG_GENL_DEV_PRIVATE_KEY, WG_KEY_LEN, c->private_key))
			return -EMSGSIZE;
		if ((c->flags & WG_CONF_LISTEN_PORT) &&
		    !mnl_attr_put_u16_check(nlh, size, WG_GENL_DEV_LISTEN_PORT, c->listen_port))
			return -EMSGSIZE;
		if ((c->flags & WG_CONF_FWMARK) && !mnl_attr_put_u32_check(nlh, size, WG_GENL_DEV_FWMARK, c->fwmark))
			return -EMSGSIZE;
		if (flags && !mnl_attr_put_u32_check(nlh, size, WG_GENL_DEV_FLAGS, flags))
			return -EMSGSIZE;
		cur->started = true;
	}
	if (cur->peer >= c->n_peers) {
		cur->done = true;
		return 0;
	}
	struct nlattr *peers = mnl_attr_nest_start_check(nlh, size, WG_GENL_DEV_PEERS);
	if (!peers)
		return -EMSGSIZE;
	size_t placed = 0; /* peers or parts of peers in this message */
	while (cur->peer < c->n_peers) {
		const struct wg_peer_conf *p = &c->peers[cur->peer];
		struct nlattr *pn = mnl_attr_nest_start_check(nlh, size, 0);
		if (!pn)
			break;
		/* A continuation keeps UPDATE_ONLY, or it would create the peer the first part left
		 * alone; everything else of the peer went with the first part. */
		bool cont_flags = cur->peer_started && (p->flags & WG_PEER_UPDATE_ONLY);
		if (!mnl_attr_put_check(nlh, size, WG_GENL_PEER_PUBLIC_KEY, WG_KEY_LEN, p->public_key) ||
		    (cont_flags && !mnl_attr_put_u32_check(nlh, size, WG_GENL_PEER_FLAGS, WG_GENL_PEER_F_UPDATE_ONLY)) ||
		    (!cur->peer_started && !wg_genl_put_peer_head(nlh, size, p))) {
			mnl_attr_nest_cancel(nlh, pn);
			break;
		}
		bool full = false;
		if (!(p->flags & WG_PEER_REMOVE) && cur->allowed_ip < p->n_allowed_ips) {
			struct nlattr *an = mnl_attr_nest_start_check(nlh, size, WG_GENL_PEER_ALLOWEDIPS);
			size_t before = cur->allowed_ip;
			if (an) {
				while (cur->allowed_ip < p->n_allowed_ips &&
				       wg_genl_put_aip(nlh, size, &p->allowed_ips[cur->allowed_ip]))
					cur->allowed_ip++;
				if (cur->allowed_ip == before)
					mnl_attr_nest_cancel(nlh, an);
				else
					mnl_attr_nest_end(nlh, an);
			}
			full = cur->allowed_ip < p->n_allowed_ips;
			if (full && cur->allowed_ip == before && cur->peer_started) {
				/* Nothing of this continuation fitted: it goes whole into the next. */
				mnl_attr_nest_cancel(nlh, pn);
				break;
			}
		}
		mnl_attr_nest_end(nlh, pn);
		placed++;
		if (full) {
			cur->peer_started = true;
			break;
		}
		cur->peer++;
		cur->allowed_ip = 0;
		cur->peer_started = false;
	}
	if (placed == 0)
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, peers);
	if (cur->peer >= c->n_peers)
		cur->done = true;
	return 0;
}

int wg_genl_build_get(void *buf, size_t size, uint16_t family, const char *ifname)
{
	if (!wg_genl_ifname_ok(ifname) || size < 64)
		return -EINVAL;
	struct nlmsghdr *nlh = wg_genl_header(buf, family, WG_GENL_CMD_GET_DEVICE, 0);
	mnl_attr_put_strz(nlh, WG_GENL_DEV_IFNAME, ifname);
	return 0;
}

/* --- reading ------------------------------------------------------------------------------ */

struct wg_genl_attrs {
	const struct nlattr *tb[16];
	int max;
	int bad;
};

static int wg_genl_attr_cb(const struct nlattr *attr, void *data)
{
	struct wg_genl_attrs *a = data;
	int type = mnl_attr_get_type(attr);
	if (type > 0 && type <= a->max)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static bool wg_genl_len(const struct nlattr *a, size_t len)
{
	return mnl_attr_get_payload_len(a) == len;
}

static int wg_genl_parse_aip(const struct nlattr *nest, struct wg_peer_status *p)
{
	struct wg_genl_attrs t = { .max = WG_GENL_AIP_MAX };
	if (mnl_attr_parse_nested(nest, wg_genl_attr_cb, &t) < 0)
		return -EBADMSG;
	const struct nlattr *fam = t.tb[WG_GENL_AIP_FAMILY], *ip = t.tb[WG_GENL_AIP_IPADDR],
			    *cidr = t.tb[WG_GENL_AIP_CIDR_MASK];
	if (!fam || !ip || !cidr || !wg_genl_len(fam, 2) || !wg_genl_len(cidr, 1))
		return -EBADMSG;
	int family = mnl_attr_get_u16(fam);
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	uint8_t c = mnl_attr_get_u8(cidr);
	if (!alen || !wg_genl_len(ip, alen) || c > alen * 8)
		return -EBADMSG;
	struct wg_allowed_ip *a = wg_status_add_allowed_ip(p);
	if (!a)
		return -ENOMEM;
	a->family = family;
	memcpy(a->addr, mnl_attr_get_payload(ip), alen);
	a->cidr = c;
	return 0;
}

static int wg_genl_parse_peer(const struct nlattr *nest, struct wg_status *st)
{
	struct wg_genl_attrs t = { .max = WG_GENL_PEER_MAX };
	if (mnl_attr_parse_nested(nest, wg_genl_attr_cb, &t) < 0)
		return -EBADMSG;
	const struct nlattr *pk = t.tb[WG_GENL_PEER_PUBLIC_KEY];
	if (!pk || !wg_genl_len(pk, WG_KEY_LEN))
		return -EBADMSG;
	struct wg_peer_status *p = NULL;
	if (st->n_peers && !memcmp(st->peers[st->n_peers - 1].public_key, mnl_attr_get_payload(pk), WG_KEY_LEN))
		p = &st->peers[st->n_peers - 1]; /* the dump continues the last peer */
	else if (!(p = wg_status_add_peer(st)))
		return -ENOMEM;
	memcpy(p->public_key, mnl_attr_get_payload(pk), WG_KEY_LEN);
	const struct nlattr *a;
	if ((a = t.tb[WG_GENL_PEER_PRESHARED_KEY])) {
		if (!wg_genl_len(a, WG_KEY_LEN))
			return -EBADMSG;
		memcpy(p->preshared_key, mnl_attr_get_payload(a), WG_KEY_LEN);
		p->has_preshared_key = !wg_key_is_zero(p->preshared_key);
	}
	if ((a = t.tb[WG_GENL_PEER_ENDPOINT])) {
		size_t len = mnl_attr_get_payload_len(a);
		const struct sockaddr *sa = mnl_attr_get_payload(a);
		memset(&p->endpoint, 0, sizeof(p->endpoint));
		if (len == sizeof(struct sockaddr_in) && sa->sa_family == AF_INET)
			memcpy(&p->endpoint.in, sa, len);
		else if (len == sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6)
			memcpy(&p->endpoint.in6, sa, len);
		else
			return -EBADMSG;
	}
	if ((a = t.tb[WG_GENL_PEER_KEEPALIVE])) {
		if (!wg_genl_len(a, 2))
			return -EBADMSG;
		p->keepalive = mnl_attr_get_u16(a);
	}
	if ((a = t.tb[WG_GENL_PEER_LAST_HANDSHAKE])) {
		int64_t ts[2];
		if (!wg_genl_len(a, sizeof(ts)))
			return -EBADMSG;
		memcpy(ts, mnl_attr_get_payload(a), sizeof(ts));
		p->last_handshake_sec = ts[0];
		p->last_handshake_nsec = ts[1];
	}
	if ((a = t.tb[WG_GENL_PEER_RX_BYTES])) {
		if (!wg_genl_len(a, 8))
			return -EBADMSG;
		p->rx_bytes = mnl_attr_get_u64(a);
	}
	if ((a = t.tb[WG_GENL_PEER_TX_BYTES])) {
		if (!wg_genl_len(a, 8))
			return -EBADMSG;
		p->tx_bytes = mnl_attr_get_u64(a);
	}
	if ((a = t.tb[WG_GENL_PEER_PROTOCOL_VERSION])) {
		if (!wg_genl_len(a, 4))
			return -EBADMSG;
		p->protocol_version = mnl_attr_get_u32(a);
	}
	if ((a = t.tb[WG_GENL_PEER_ALLOWEDIPS])) {
		const struct nlattr *n;
		mnl_attr_for_each_nested(n, a) {
			int rc = wg_genl_parse_aip(n, p);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int wg_genl_parse_device(const struct nlmsghdr *nlh, struct wg_status *st)
{
	struct wg_genl_attrs t = { .max = WG_GENL_DEV_MAX };
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct genlmsghdr) ||
	    mnl_attr_parse(nlh, sizeof(struct genlmsghdr), wg_genl_attr_cb, &t) < 0)
		return -EBADMSG;
	const struct nlattr *a;
	if ((a = t.tb[WG_GENL_DEV_PRIVATE_KEY])) {
		if (!wg_genl_len(a, WG_KEY_LEN))
			return -EBADMSG;
		memcpy(st->private_key, mnl_attr_get_payload(a), WG_KEY_LEN);
		st->has_private_key = !wg_key_is_zero(st->private_key);
	}
	if ((a = t.tb[WG_GENL_DEV_PUBLIC_KEY])) {
		if (!wg_genl_len(a, WG_KEY_LEN))
			return -EBADMSG;
		memcpy(st->public_key, mnl_attr_get_payload(a), WG_KEY_LEN);
		st->has_public_key = !wg_key_is_zero(st->public_key);
	}
	if ((a = t.tb[WG_GENL_DEV_LISTEN_PORT])) {
		if (!wg_genl_len(a, 2))
			return -EBADMSG;
		st->listen_port = mnl_attr_get_u16(a);
	}
	if ((a = t.tb[WG_GENL_DEV_FWMARK])) {
		if (!wg_genl_len(a, 4))
			return -EBADMSG;
		st->fwmark = mnl_attr_get_u32(a);
	}
	if ((a = t.tb[WG_GENL_DEV_PEERS])) {
		const struct nlattr *n;
		mnl_attr_for_each_nested(n, a) {
			int rc = wg_genl_parse_peer(n, st);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* --- conversations ------------------------------------------------------------------------ */

#define WG_GENL_MSG_SIZE 8192

int wg_genl_set(uint16_t family, const char *ifname, const struct wg_conf *c)
{
	uint8_t *buf = aligned_alloc(8, WG_GENL_MSG_SIZE);
	if (!buf)
		return -ENOMEM;
	struct wg_genl_cursor cur = { 0 };
	int rc = 0;
	while (!cur.done) {
		memset(buf, 0, WG_GENL_MSG_SIZE);
		rc = wg_genl_build_set(buf, WG_GENL_MSG_SIZE, family, ifname, c, &cur);
		if (rc)
			break;
		rc = nl_sock_ack_on(NETLINK_GENERIC, (struct nlmsghdr *)buf, NULL, NULL);
		if (rc)
			break;
	}
	nym_memzero(buf, WG_GENL_MSG_SIZE);
	free(buf);
	return rc;
}

struct wg_genl_get_ctx {
	struct wg_status *st;
	int rc;
};

static int wg_genl_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wg_genl_get_ctx *ctx = data;
	int rc = wg_genl_parse_device(nlh, ctx->st);
	if (rc) {
		ctx->rc = rc;
		errno = -rc;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int wg_genl_get(uint16_t family, const char *ifname, struct wg_status *st)
{
	memset(st, 0, sizeof(*st));
	uint8_t buf[128] __attribute__((aligned(8)));
	int rc = wg_genl_build_get(buf, sizeof(buf), family, ifname);
	if (rc)
		return rc;
	struct wg_genl_get_ctx ctx = { .st = st };
	rc = nl_sock_dump_on(NETLINK_GENERIC, (struct nlmsghdr *)buf, wg_genl_get_cb, &ctx);
	if (ctx.rc)
		rc = ctx.rc;
	if (rc)
		wg_status_free(st);
	return rc;
}

int wg_genl_link_add(const char *ifname)
{
	if (!wg_genl_ifname_ok(ifname))
		return -EINVAL;
	uint8_t buf[256] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_sock_put_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, WG_GENL_LINK_KIND);
	mnl_attr_nest_end(nlh, info);
	return nl_sock_ack(nlh);
}

int wg_genl_link_del(const char *ifname)
{
	if (!wg_genl_ifname_ok(ifname))
		return -EINVAL;
	uint8_t buf[256] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_sock_put_request(buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nl_sock_ack(nlh);
}
