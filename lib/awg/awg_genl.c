#include "awg/awg_genl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <net/if.h>
#include <nym_awg.h>
#include <spawn.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#include "netlink/nl_sock.h"

extern char **environ;

static struct nlmsghdr *awg_genl_request(void *buf, uint16_t family, uint8_t cmd)
{
	struct nlmsghdr *nlh = nl_sock_put_request(buf, family, 0);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = NYM_AWG_GENL_VERSION;
	return nlh;
}

static int awg_genl_ifname(const char *ifname)
{
	return ifname && ifname[0] && strlen(ifname) < IF_NAMESIZE ? 0 : -EINVAL;
}

int awg_genl_build_set(void *buf, size_t size, uint16_t family, const char *ifname, uint16_t port, int mode,
		       const struct awg_params *p)
{
	if (awg_genl_ifname(ifname) || !p || size < AWG_GENL_MSG_SIZE)
		return -EINVAL;
	struct nlmsghdr *nlh = awg_genl_request(buf, family, NYM_AWG_CMD_SET);
	mnl_attr_put_strz(nlh, NYM_AWG_A_IFNAME, ifname);
	mnl_attr_put_u16(nlh, NYM_AWG_A_PORT, port);
	mnl_attr_put_u8(nlh, NYM_AWG_A_MODE, (uint8_t)mode);
	mnl_attr_put_u16(nlh, NYM_AWG_A_JC, p->jc);
	mnl_attr_put_u16(nlh, NYM_AWG_A_JMIN, p->jmin);
	mnl_attr_put_u16(nlh, NYM_AWG_A_JMAX, p->jmax);
	mnl_attr_put_u16(nlh, NYM_AWG_A_S1, p->s1);
	mnl_attr_put_u16(nlh, NYM_AWG_A_S2, p->s2);
	mnl_attr_put_u32(nlh, NYM_AWG_A_H1, p->h1);
	mnl_attr_put_u32(nlh, NYM_AWG_A_H2, p->h2);
	mnl_attr_put_u32(nlh, NYM_AWG_A_H3, p->h3);
	mnl_attr_put_u32(nlh, NYM_AWG_A_H4, p->h4);
	return 0;
}

int awg_genl_set_why(const char *ifname, uint16_t port, int mode, const struct awg_params *p, char *why,
		     size_t cap)
{
	uint16_t family;
	if (why && cap)
		why[0] = 0;
	if (awg_genl_ifname(ifname) || !p)
		return -EINVAL;
	int rc = nl_sock_genl_family(NYM_AWG_GENL_NAME, &family);
	if (rc)
		return rc;
	uint8_t buf[AWG_GENL_MSG_SIZE] __attribute__((aligned(8)));
	memset(buf, 0, sizeof(buf));
	rc = awg_genl_build_set(buf, sizeof(buf), family, ifname, port, mode, p);
	if (rc)
		return rc;
	return nl_sock_ack_why(NETLINK_GENERIC, (struct nlmsghdr *)buf, why, cap);
}

int awg_genl_set(const char *ifname, uint16_t port, int mode, const struct awg_params *p)
{
	return awg_genl_set_why(ifname, port, mode, p, NULL, 0);
}

int awg_genl_del(const char *ifname)
{
	uint16_t family;
	if (awg_genl_ifname(ifname))
		return -EINVAL;
	int rc = nl_sock_genl_family(NYM_AWG_GENL_NAME, &family);
	if (rc)
		return rc;
	uint8_t buf[128] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = awg_genl_request(buf, family, NYM_AWG_CMD_DEL);
	mnl_attr_put_strz(nlh, NYM_AWG_A_IFNAME, ifname);
	return nl_sock_ack_on(NETLINK_GENERIC, nlh, NULL, NULL);
}

struct awg_genl_get_ctx {
	const char *ifname;
	bool found;
	struct awg_params p;
	int mode;
	struct awg_genl_counters c;
};

static void awg_genl_counter(const struct nlattr *a, struct awg_genl_counters *c)
{
	uint64_t v = mnl_attr_validate(a, MNL_TYPE_U64) == 0 ? mnl_attr_get_u64(a) : 0;
	switch (mnl_attr_get_type(a)) {
	case NYM_AWG_C_TX_ENCODED: c->tx_encoded = v; break;
	case NYM_AWG_C_TX_PLAIN: c->tx_plain = v; break;
	case NYM_AWG_C_TX_JUNK: c->tx_junk = v; break;
	case NYM_AWG_C_TX_DROPPED: c->tx_dropped = v; break;
	case NYM_AWG_C_RX_DECODED: c->rx_decoded = v; break;
	case NYM_AWG_C_RX_PLAIN: c->rx_plain = v; break;
	case NYM_AWG_C_RX_DROPPED: c->rx_dropped = v; break;
	case NYM_AWG_C_RX_CSUM: c->rx_csum = v; break;
	case NYM_AWG_C_LEARN_FULL: c->learn_full = v; break;
	case NYM_AWG_C_NOMEM: c->nomem = v; break;
	default: break;
	}
}

int awg_genl_parse(const struct nlmsghdr *nlh, char ifname[IF_NAMESIZE], struct awg_params *p, int *mode,
		   struct awg_genl_counters *c)
{
	const struct nlattr *tb[NYM_AWG_A_MAX + 1] = { 0 };
	const struct nlattr *a;
	/* nlmsg_len is the caller's to bound (mnl_cb_run checks it against what was received). */
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)))
		return -EBADMSG;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		unsigned t = mnl_attr_get_type(a);
		if (t <= NYM_AWG_A_MAX)
			tb[t] = a;
	}
	static const enum mnl_attr_data_type want[NYM_AWG_A_MAX + 1] = {
		[NYM_AWG_A_IFNAME] = MNL_TYPE_NUL_STRING,
		[NYM_AWG_A_PORT] = MNL_TYPE_U16, [NYM_AWG_A_MODE] = MNL_TYPE_U8,
		[NYM_AWG_A_JC] = MNL_TYPE_U16, [NYM_AWG_A_JMIN] = MNL_TYPE_U16,
		[NYM_AWG_A_JMAX] = MNL_TYPE_U16, [NYM_AWG_A_S1] = MNL_TYPE_U16,
		[NYM_AWG_A_S2] = MNL_TYPE_U16, [NYM_AWG_A_H1] = MNL_TYPE_U32,
		[NYM_AWG_A_H2] = MNL_TYPE_U32, [NYM_AWG_A_H3] = MNL_TYPE_U32,
		[NYM_AWG_A_H4] = MNL_TYPE_U32, [NYM_AWG_A_ENDPOINTS] = MNL_TYPE_U32,
		[NYM_AWG_A_COUNTERS] = MNL_TYPE_NESTED,
	};
	for (unsigned t = NYM_AWG_A_IFNAME; t <= NYM_AWG_A_MAX; t++)
		if (!tb[t] || mnl_attr_validate(tb[t], want[t]))
			return -EBADMSG;
	const char *name = mnl_attr_get_str(tb[NYM_AWG_A_IFNAME]);
	if (awg_genl_ifname(name))
		return -EBADMSG;
	struct awg_genl_counters cc = { 0 };
	mnl_attr_for_each_nested(a, tb[NYM_AWG_A_COUNTERS])
		awg_genl_counter(a, &cc);
	strcpy(ifname, name);
	cc.port = mnl_attr_get_u16(tb[NYM_AWG_A_PORT]);
	cc.endpoints = mnl_attr_get_u32(tb[NYM_AWG_A_ENDPOINTS]);
	*mode = mnl_attr_get_u8(tb[NYM_AWG_A_MODE]);
	*p = (struct awg_params){
		.jc = mnl_attr_get_u16(tb[NYM_AWG_A_JC]), .jmin = mnl_attr_get_u16(tb[NYM_AWG_A_JMIN]),
		.jmax = mnl_attr_get_u16(tb[NYM_AWG_A_JMAX]), .s1 = mnl_attr_get_u16(tb[NYM_AWG_A_S1]),
		.s2 = mnl_attr_get_u16(tb[NYM_AWG_A_S2]), .h1 = mnl_attr_get_u32(tb[NYM_AWG_A_H1]),
		.h2 = mnl_attr_get_u32(tb[NYM_AWG_A_H2]), .h3 = mnl_attr_get_u32(tb[NYM_AWG_A_H3]),
		.h4 = mnl_attr_get_u32(tb[NYM_AWG_A_H4]),
	};
	*c = cc;
	return 0;
}

static int awg_genl_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct awg_genl_get_ctx *ctx = data;
	char name[IF_NAMESIZE];
	struct awg_params p;
	struct awg_genl_counters c;
	int mode;
	if (awg_genl_parse(nlh, name, &p, &mode, &c)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (strcmp(name, ctx->ifname) == 0) {
		ctx->found = true;
		ctx->p = p;
		ctx->mode = mode;
		ctx->c = c;
	}
	return MNL_CB_OK;
}

int awg_genl_get(const char *ifname, struct awg_params *p, int *mode, struct awg_genl_counters *c)
{
	uint16_t family;
	if (awg_genl_ifname(ifname))
		return -EINVAL;
	int rc = nl_sock_genl_family(NYM_AWG_GENL_NAME, &family);
	if (rc)
		return rc;
	uint8_t buf[128] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = awg_genl_request(buf, family, NYM_AWG_CMD_GET);
	struct awg_genl_get_ctx ctx = { .ifname = ifname };
	rc = nl_sock_dump_on(NETLINK_GENERIC, nlh, awg_genl_get_cb, &ctx);
	if (rc)
		return rc;
	if (!ctx.found)
		return -ENOENT;
	if (p)
		*p = ctx.p;
	if (mode)
		*mode = ctx.mode;
	if (c)
		*c = ctx.c;
	return 0;
}

int awg_genl_available(void)
{
	uint16_t family;
	if (nl_sock_genl_family(NYM_AWG_GENL_NAME, &family) == 0)
		return 1;
	char *argv[] = { "modprobe", "-q", "nym_awg", NULL };
	pid_t pid;
	int status;
	if (posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ) != 0)
		return 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return nl_sock_genl_family(NYM_AWG_GENL_NAME, &family) == 0;
}

const char *awg_genl_mode_name(int mode)
{
	return mode == AWG_GENL_MODE_INITIATOR ? "initiator" : mode == AWG_GENL_MODE_RESPONDER ? "responder" : "?";
}

int awg_genl_mode_parse(const char *s, int *mode)
{
	if (s && !strcmp(s, "initiator"))
		*mode = AWG_GENL_MODE_INITIATOR;
	else if (s && !strcmp(s, "responder"))
		*mode = AWG_GENL_MODE_RESPONDER;
	else
		return -EINVAL;
	return 0;
}
