#include "netlink/nl_route.h"

#include "netlink/nl_sock.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct best {
	int family;
	bool main_found, any_found;
	uint32_t main_metric, any_metric;
	int main_oif, any_oif;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case RTA_OIF:
	case RTA_PRIORITY:
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_OK; /* ignore a malformed attribute rather than fail the dump */
		break;
	case RTA_MULTIPATH:
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct best *b = data;
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWROUTE || rm->rtm_family != b->family || rm->rtm_dst_len != 0 ||
	    rm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	mnl_attr_parse(nlh, sizeof(*rm), attr_cb, tb);
	uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rm->rtm_table;
	uint32_t metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	int oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	if (!oif && tb[RTA_MULTIPATH]) {
		const struct rtnexthop *nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		if (mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= sizeof(*nh))
			oif = nh->rtnh_ifindex;
	}
	if (oif <= 0)
		return MNL_CB_OK;
	if (table == RT_TABLE_MAIN && (!b->main_found || metric < b->main_metric)) {
		b->main_found = true;
		b->main_metric = metric;
		b->main_oif = oif;
	}
	if (table != RT_TABLE_LOCAL && (!b->any_found || metric < b->any_metric)) {
		b->any_found = true;
		b->any_metric = metric;
		b->any_oif = oif;
	}
	return MNL_CB_OK;
}

int nl_route_default_ifname(int family, char ifname[IF_NAMESIZE])
{
	uint8_t buf[64];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, RTM_GETROUTE, 0);
	struct rtmsg *rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = (unsigned char)family;
	struct best b = { .family = family };
	int rc = nl_sock_dump(nlh, route_cb, &b);
	if (rc)
		return rc;
	int oif = b.main_found ? b.main_oif : b.any_found ? b.any_oif : 0;
	if (!oif)
		return -ENOENT;
	if (!if_indextoname((unsigned)oif, ifname))
		return -errno;
	return 0;
}
