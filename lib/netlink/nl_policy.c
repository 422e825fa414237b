#include "netlink/nl_policy.h"

#include "netlink/nl_link.h"
#include "netlink/nl_sock.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- dumps and deletes ---- */

/* Copies of dumped messages, to be sent back as deletes (what `ip rule flush` and `ip route
 * flush` do: the kernel matches a delete on the attributes it reported). */
struct msgs {
	struct nlmsghdr **m;
	size_t n, cap;
	int err;
};

static void msgs_add(struct msgs *l, const struct nlmsghdr *nlh)
{
	if (l->err)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct nlmsghdr **m = realloc(l->m, cap * sizeof(*m));
		if (!m) {
			l->err = -ENOMEM;
			return;
		}
		l->m = m;
		l->cap = cap;
	}
	struct nlmsghdr *c = malloc(nlh->nlmsg_len);
	if (!c) {
		l->err = -ENOMEM;
		return;
	}
	memcpy(c, nlh, nlh->nlmsg_len);
	l->m[l->n++] = c;
}

static void msgs_free(struct msgs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->m[i]);
	free(l->m);
	memset(l, 0, sizeof(*l));
}

/* Sends each message back with type `del`; absent ones (deleted meanwhile) are fine. */
static int msgs_delete(struct msgs *l, uint16_t del)
{
	int rc = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct nlmsghdr *nlh = l->m[i];
		nlh->nlmsg_type = del;
		nlh->nlmsg_flags = 0;
		int r = nl_sock_ack(nlh);
		if (r && r != -ENOENT && r != -ESRCH && !rc)
			rc = r;
	}
	return rc;
}

static int dump(uint16_t type, int family, mnl_cb_t cb, void *data)
{
	uint8_t buf[64];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, type, 0);
	if (type == RTM_GETRULE) {
		struct fib_rule_hdr *fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
		fr->family = (uint8_t)family;
	} else {
		struct rtmsg *rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
		rm->rtm_family = (uint8_t)family;
	}
	return nl_sock_dump(nlh, cb, data);
}

/* ---- rules ---- */

struct rule_info {
	uint32_t prio, table, fwmark, fwmask;
	bool has_prio, has_fwmark, invert, other; /* other: a selector we never set */
	int32_t suppress;			  /* -1: none */
	uint8_t action;
};

static int rule_attr_cb(const struct nlattr *a, void *data)
{
	struct rule_info *ri = data;
	uint16_t type = mnl_attr_get_type(a);
	bool u32 = mnl_attr_get_payload_len(a) == 4;
	switch (type) {
	case FRA_PRIORITY:
		ri->has_prio = u32;
		ri->prio = u32 ? mnl_attr_get_u32(a) : 0;
		break;
	case FRA_TABLE:
		if (u32)
			ri->table = mnl_attr_get_u32(a);
		break;
	case FRA_FWMARK:
		ri->has_fwmark = u32;
		ri->fwmark = u32 ? mnl_attr_get_u32(a) : 0;
		break;
	case FRA_FWMASK:
		if (u32)
			ri->fwmask = mnl_attr_get_u32(a);
		break;
	case FRA_SUPPRESS_PREFIXLEN:
		if (u32)
			ri->suppress = (int32_t)mnl_attr_get_u32(a);
		break;
	case FRA_SUPPRESS_IFGROUP:
		if (u32 && mnl_attr_get_u32(a) != 0xffffffffu)
			ri->other = true;
		break;
	case FRA_PROTOCOL:
	case FRA_UNSPEC:
		break;
	default: /* iifname, oifname, src / dst, goto, l3mdev, uid range, ports, ip proto, tun id */
		ri->other = true;
		break;
	}
	return MNL_CB_OK;
}

static void rule_parse(const struct nlmsghdr *nlh, struct rule_info *ri)
{
	const struct fib_rule_hdr *fr = mnl_nlmsg_get_payload(nlh);
	memset(ri, 0, sizeof(*ri));
	ri->suppress = -1;
	ri->action = fr->action;
	ri->table = fr->table;
	ri->invert = fr->flags & FIB_RULE_INVERT;
	if (fr->src_len || fr->dst_len || fr->tos)
		ri->other = true;
	mnl_attr_parse(nlh, sizeof(*fr), rule_attr_cb, ri);
}

static bool is_suppress_rule(const struct rule_info *ri)
{
	return ri->has_prio && ri->prio == NL_POLICY_PRIO_SUPPRESS && ri->action == FR_ACT_TO_TBL &&
	       ri->table == RT_TABLE_MAIN && ri->suppress == 0 && !ri->has_fwmark && !ri->invert && !ri->other;
}

/* The mark rule, for any table (a stale one from an older configuration is ours too). */
static bool is_mark_rule(const struct rule_info *ri, uint32_t fwmark)
{
	return ri->has_prio && ri->prio == NL_POLICY_PRIO_FWMARK && ri->action == FR_ACT_TO_TBL &&
	       ri->has_fwmark && ri->fwmark == fwmark && (ri->fwmask == 0xffffffffu || ri->fwmask == 0) &&
	       ri->invert && ri->suppress < 0 && !ri->other;
}

struct rule_scan {
	uint32_t table, fwmark;
	bool keep;	     /* up: keep one current rule of each kind */
	bool have_suppress, have_mark;
	struct msgs del;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_scan *s = data;
	if (nlh->nlmsg_type != RTM_NEWRULE)
		return MNL_CB_OK;
	struct rule_info ri;
	rule_parse(nlh, &ri);
	if (is_suppress_rule(&ri)) {
		if (s->keep && !s->have_suppress)
			s->have_suppress = true;
		else
			msgs_add(&s->del, nlh);
	} else if (is_mark_rule(&ri, s->fwmark)) {
		if (s->keep && !s->have_mark && ri.table == s->table)
			s->have_mark = true;
		else
			msgs_add(&s->del, nlh);
	}
	return MNL_CB_OK;
}

static int rule_add_suppress(int family)
{
	uint8_t buf[256];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
	struct fib_rule_hdr *fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = (uint8_t)family;
	fr->action = FR_ACT_TO_TBL;
	fr->table = RT_TABLE_MAIN;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, NL_POLICY_PRIO_SUPPRESS);
	mnl_attr_put_u32(nlh, FRA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	return nl_sock_ack(nlh);
}

static int rule_add_mark(int family, uint32_t table, uint32_t fwmark)
{
	uint8_t buf[256];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
	struct fib_rule_hdr *fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = (uint8_t)family;
	fr->action = FR_ACT_TO_TBL;
	fr->flags = FIB_RULE_INVERT;
	fr->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, NL_POLICY_PRIO_FWMARK);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_FWMARK, fwmark);
	return nl_sock_ack(nlh);
}

/* up (keep = true): one rule of each kind stays or is added, the rest goes; down: all goes. */
static int rules_sync(int family, uint32_t table, uint32_t fwmark, bool keep)
{
	struct rule_scan s = { .table = table, .fwmark = fwmark, .keep = keep };
	int rc = dump(RTM_GETRULE, family, rule_cb, &s);
	if (!rc)
		rc = s.del.err;
	if (!rc)
		rc = msgs_delete(&s.del, RTM_DELRULE);
	msgs_free(&s.del);
	if (rc || !keep)
		return rc;
	if (!s.have_suppress && (rc = rule_add_suppress(family)) && rc != -EEXIST)
		return rc;
	if (!s.have_mark && (rc = rule_add_mark(family, table, fwmark)) && rc != -EEXIST)
		return rc;
	return 0;
}

/* ---- routes ---- */

struct route_info {
	const struct nlattr *dst, *gateway, *multipath;
	uint32_t table, oif;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_info *ri = data;
	bool u32 = mnl_attr_get_payload_len(a) == 4;
	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		ri->dst = a;
		break;
	case RTA_GATEWAY:
	case RTA_VIA:
		ri->gateway = a;
		break;
	case RTA_MULTIPATH:
		ri->multipath = a;
		break;
	case RTA_TABLE:
		if (u32)
			ri->table = mnl_attr_get_u32(a);
		break;
	case RTA_OIF:
		if (u32)
			ri->oif = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

static void route_parse(const struct nlmsghdr *nlh, struct route_info *ri)
{
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	memset(ri, 0, sizeof(*ri));
	ri->table = rm->rtm_table;
	mnl_attr_parse(nlh, sizeof(*rm), route_attr_cb, ri);
}

struct route_flush {
	uint32_t table;
	struct msgs del;
};

static int flush_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_flush *f = data;
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	struct route_info ri;
	route_parse(nlh, &ri);
	if (ri.table == f->table)
		msgs_add(&f->del, nlh);
	return MNL_CB_OK;
}

static int table_flush(int family, uint32_t table)
{
	struct route_flush f = { .table = table };
	int rc = dump(RTM_GETROUTE, family, flush_cb, &f);
	if (!rc)
		rc = f.del.err;
	if (!rc)
		rc = msgs_delete(&f.del, RTM_DELROUTE);
	msgs_free(&f.del);
	return rc;
}

static bool table_ok(uint32_t t)
{
	return t != 0 && t != RT_TABLE_MAIN && t != RT_TABLE_LOCAL && t != RT_TABLE_DEFAULT;
}

int nl_policy_up(const struct nl_policy_routing *r)
{
	if (!r || !r->ifname || !r->ifname[0] || strlen(r->ifname) >= IF_NAMESIZE || !table_ok(r->table) ||
	    !r->fwmark || (!r->ipv4 && !r->ipv6))
		return -EINVAL;
	if (!if_nametoindex(r->ifname))
		return -ENODEV;
	static const int fams[2] = { AF_INET, AF_INET6 };
	for (int i = 0; i < 2; i++) {
		bool on = i == 0 ? r->ipv4 : r->ipv6;
		int rc;
		if (on) {
			/* Route first: once the rule is there, unmarked traffic needs it. */
			if ((rc = nl_link_route_replace_default(r->ifname, fams[i], r->table)) ||
			    (rc = rules_sync(fams[i], r->table, r->fwmark, true)))
				return rc;
		} else if ((rc = rules_sync(fams[i], r->table, r->fwmark, false)) ||
			   (rc = table_flush(fams[i], r->table))) {
			if (rc != -EAFNOSUPPORT)
				return rc;
		}
	}
	return 0;
}

int nl_policy_down(uint32_t table, uint32_t fwmark)
{
	if (!table_ok(table) || !fwmark)
		return -EINVAL;
	int first = 0;
	static const int fams[2] = { AF_INET, AF_INET6 };
	for (int i = 0; i < 2; i++) {
		int rc = rules_sync(fams[i], table, fwmark, false);
		if (rc && rc != -EAFNOSUPPORT && !first)
			first = rc;
		rc = table_flush(fams[i], table);
		if (rc && rc != -EAFNOSUPPORT && !first)
			first = rc;
	}
	return first;
}

/* ---- on-link prefixes ---- */

struct onlink {
	int family;
	unsigned except;
	struct nl_policy_prefix *out;
	size_t cap, n;
	bool full;
};

static int onlink_cb(const struct nlmsghdr *nlh, void *data)
{
	struct onlink *o = data;
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	if (rm->rtm_family != o->family || rm->rtm_type != RTN_UNICAST || rm->rtm_dst_len == 0)
		return MNL_CB_OK;
	if (o->family == AF_INET && rm->rtm_scope != RT_SCOPE_LINK)
		return MNL_CB_OK;
	struct route_info ri;
	route_parse(nlh, &ri);
	size_t alen = o->family == AF_INET6 ? 16 : 4;
	if (ri.table != RT_TABLE_MAIN || ri.gateway || ri.multipath || !ri.dst || !ri.oif || ri.oif == o->except ||
	    mnl_attr_get_payload_len(ri.dst) != alen)
		return MNL_CB_OK;
	struct nl_policy_prefix p = { .family = o->family, .prefix = rm->rtm_dst_len };
	memcpy(p.addr, mnl_attr_get_payload(ri.dst), alen);
	for (size_t i = 0; i < o->n; i++)
		if (o->out[i].prefix == p.prefix && memcmp(o->out[i].addr, p.addr, alen) == 0)
			return MNL_CB_OK;
	if (o->n == o->cap)
		o->full = true;
	else
		o->out[o->n++] = p;
	return MNL_CB_OK;
}

int nl_policy_onlink_prefixes(int family, const char *except, struct nl_policy_prefix *out, size_t cap,
			      size_t *n)
{
	if ((family != AF_INET && family != AF_INET6) || !n || (cap && !out))
		return -EINVAL;
	*n = 0;
	struct onlink o = { .family = family, .out = out, .cap = cap };
	if (except && except[0])
		o.except = if_nametoindex(except); /* 0 when it does not exist: nothing excepted */
	int rc = dump(RTM_GETROUTE, family, onlink_cb, &o);
	*n = o.n;
	if (rc)
		return rc;
	return o.full ? -ENOSPC : 0;
}
