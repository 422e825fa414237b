/* One netlink conversation over libmnl (rtnetlink for nl_link, nl_route and nl_policy,
 * generic netlink for wg_genl and awg_genl): a socket of its own (opened, bound, closed
 * again), one request, and either the kernel's acknowledgement or a whole dump. The
 * request's NLM_F_REQUEST and NLM_F_ACK / NLM_F_DUMP flags and its sequence number are set
 * here. Returns 0 or -errno (the kernel's error from the acknowledgement, e.g. -EEXIST,
 * -ENOENT, -ESRCH; -EIO when libmnl fails without one). */
#ifndef NYM_NETLINK_NL_SOCK_H
#define NYM_NETLINK_NL_SOCK_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

/* Starts a request in buf (zeroed header, type, flags such as NLM_F_CREATE | NLM_F_EXCL);
 * the caller adds its extra header and attributes with mnl_nlmsg_put_extra_header /
 * mnl_attr_put_*. buf must be aligned for struct nlmsghdr and large enough. */
struct nlmsghdr *nl_sock_put_request(void *buf, uint16_t type, uint16_t flags);

/* Sends nlh and waits for its acknowledgement. */
int nl_sock_ack(struct nlmsghdr *nlh);

/* Sends nlh as a dump request and calls cb(message, data) for each answer until the end of
 * the dump (a callback that returns MNL_CB_ERROR ends it with -errno). */
int nl_sock_dump(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* The same two conversations on another netlink bus (NETLINK_GENERIC for a generic-netlink
 * family such as wg_genl's). nl_sock_ack_on passes the answers that come before the
 * acknowledgement to cb when it is not NULL (a CTRL_CMD_GETFAMILY reply). */
int nl_sock_ack_on(int bus, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
int nl_sock_dump_on(int bus, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* nl_sock_ack_on that also asks for the kernel's extended acknowledgement: on an error,
 * why (capacity cap, NUL-terminated, "" when the kernel gave none) receives its message,
 * e.g. the rule a generic-netlink family's policy or handler names. */
int nl_sock_ack_why(int bus, struct nlmsghdr *nlh, char *why, size_t cap);

/* A generic-netlink family's id by name (CTRL_CMD_GETFAMILY on NETLINK_GENERIC; asking also
 * loads the module where the kernel has one for that name). Returns 0, -ENOENT (no such
 * family; the kernel's -EINVAL counts as one too), -EINVAL (name empty or longer than a
 * family's) or another -errno. */
int nl_sock_genl_family(const char *name, uint16_t *id);

#endif
