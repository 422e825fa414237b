#include "netlink/nl_link.h"

#include "netlink/nl_sock.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

static int nl_link_index(const char *ifname, unsigned *index)
{
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	unsigned i = if_nametoindex(ifname);
	if (!i)
		return -ENODEV;
	*index = i;
	return 0;
}

static int nl_link_addr_len(int family, size_t *len, unsigned prefix)
{
	if (family == AF_INET && prefix <= 32)
		*len = 4;
	else if (family == AF_INET6 && prefix <= 128)
		*len = 16;
	else
		return -EINVAL;
	return 0;
}

int nl_link_set_up(const char *ifname, unsigned mtu)
{
	unsigned index;
	int rc = nl_link_index(ifname, &index);
	if (rc)
		return rc;
	uint8_t buf[256];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_sock_ack(nlh);
}

static int nl_link_addr(uint16_t type, uint16_t flags, const char *ifname, int family, const void *addr,
			unsigned prefix)
{
	unsigned index;
	size_t len;
	int rc = nl_link_index(ifname, &index);
	if (rc || (rc = nl_link_addr_len(family, &len, prefix)))
		return rc;
	uint8_t buf[256];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	if (family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, len, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	return nl_sock_ack(nlh);
}

int nl_link_addr_add(const char *ifname, int family, const void *addr, unsigned prefix)
{
	return nl_link_addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifname, family, addr, prefix);
}

int nl_link_addr_del(const char *ifname, int family, const void *addr, unsigned prefix)
{
	return nl_link_addr(RTM_DELADDR, 0, ifname, family, addr, prefix);
}

static int nl_link_route_to(uint16_t type, uint16_t flags, const char *ifname, int family, const void *dst,
			    unsigned prefix, uint32_t table)
{
	unsigned index;
	int rc = nl_link_index(ifname, &index);
	if (rc)
		return rc;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	uint8_t buf[256];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, type, flags);
	struct rtmsg *rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = (uint8_t)family;
	if (prefix > (family == AF_INET ? 32u : 128u) || (prefix && !dst))
		return -EINVAL;
	rm->rtm_dst_len = (uint8_t)prefix;
	rm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rm->rtm_protocol = RTPROT_STATIC;
	rm->rtm_scope = RT_SCOPE_LINK;
	rm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
	return nl_sock_ack(nlh);
}

static int nl_link_route(uint16_t type, uint16_t flags, const char *ifname, int family, uint32_t table)
{
	return nl_link_route_to(type, flags, ifname, family, NULL, 0, table);
}

int nl_link_route_replace(const char *ifname, int family, const void *dst, unsigned prefix, uint32_t table)
{
	return nl_link_route_to(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifname, family, dst, prefix, table);
}

int nl_link_route_del(const char *ifname, int family, const void *dst, unsigned prefix, uint32_t table)
{
	return nl_link_route_to(RTM_DELROUTE, 0, ifname, family, dst, prefix, table);
}

int nl_link_route_add_default(const char *ifname, int family, uint32_t table)
{
	return nl_link_route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifname, family, table);
}

int nl_link_route_replace_default(const char *ifname, int family, uint32_t table)
{
	return nl_link_route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifname, family, table);
}

int nl_link_route_del_default(const char *ifname, int family, uint32_t table)
{
	return nl_link_route(RTM_DELROUTE, 0, ifname, family, table);
}

static int nl_link_rule(uint16_t type, uint16_t flags, const char *ifname, int family, uint32_t table,
			uint32_t priority)
{
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	uint8_t buf[256];
	struct nlmsghdr *nlh = nl_sock_put_request(buf, type, flags);
	struct fib_rule_hdr *fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = (uint8_t)family;
	fr->action = FR_ACT_TO_TBL;
	fr->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
	mnl_attr_put_strz(nlh, FRA_OIFNAME, ifname);
	return nl_sock_ack(nlh);
}

int nl_link_rule_add_oif(const char *ifname, int family, uint32_t table, uint32_t priority)
{
	return nl_link_rule(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, ifname, family, table, priority);
}

int nl_link_rule_del_oif(const char *ifname, int family, uint32_t table, uint32_t priority)
{
	return nl_link_rule(RTM_DELRULE, 0, ifname, family, table, priority);
}
