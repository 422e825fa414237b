#include "netlink/nl_sock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

/* Each conversation has a socket of its own, so the number only has to differ from the
 * kernel's zero; a counter keeps two requests of one process apart in traces. */
static uint32_t nl_sock_seq;

struct nlmsghdr *nl_sock_put_request(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

struct nl_sock_why {
	char *msg;
	size_t cap;
};

/* An error acknowledgement: its errno, and the kernel's extended-ack message when asked. */
static int nl_sock_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nl_sock_why *why = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;
	if (why && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		/* With NETLINK_CAP_ACK the request's header alone follows the error. */
		size_t off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
		const struct nlattr *a;
		mnl_attr_for_each(a, nlh, MNL_ALIGN(off)) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
				snprintf(why->msg, why->cap, "%s", mnl_attr_get_str(a));
				break;
			}
		}
	}
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

static int nl_sock_talk_why(int bus, struct nlmsghdr *nlh, bool dump, mnl_cb_t cb, void *data,
			    const struct nl_sock_why *why);

static int nl_sock_talk(int bus, struct nlmsghdr *nlh, bool dump, mnl_cb_t cb, void *data)
{
	return nl_sock_talk_why(bus, nlh, dump, cb, data, NULL);
}

static int nl_sock_talk_why(int bus, struct nlmsghdr *nlh, bool dump, mnl_cb_t cb, void *data,
			    const struct nl_sock_why *why)
{
	if (why && (cb || dump))
		return -EINVAL;
	struct mnl_socket *nl = mnl_socket_open(bus);
	if (!nl)
		return -errno;
	int rc = 0;
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	/* An error acknowledgement then carries the request's header only, not the whole request
	 * (a large one would not fit the receive buffer). Old kernels lack it: no harm. */
	int one = 1;
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (why)
		(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	nlh->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	nlh->nlmsg_seq = __atomic_add_fetch(&nl_sock_seq, 1, __ATOMIC_RELAXED);
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		errno = 0;
		int r;
		if (why) {
			mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = nl_sock_error_cb };
			/* Only acknowledgements ask (cb is NULL): the error callback gets why. */
			r = mnl_cb_run2(buf, (size_t)n, seq, portid, NULL, (void *)why, ctl, NLMSG_MIN_TYPE);
		} else {
			r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		}
		if (r < 0) {
			rc = errno ? -errno : -EIO;
			goto out;
		}
		if (r == MNL_CB_STOP)
			break;
	}
out:
	free(buf);
	mnl_socket_close(nl);
	return rc;
}

int nl_sock_ack(struct nlmsghdr *nlh)
{
	return nl_sock_talk(NETLINK_ROUTE, nlh, false, NULL, NULL);
}

int nl_sock_dump(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return nl_sock_talk(NETLINK_ROUTE, nlh, true, cb, data);
}

int nl_sock_ack_on(int bus, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return nl_sock_talk(bus, nlh, false, cb, data);
}

int nl_sock_dump_on(int bus, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return nl_sock_talk(bus, nlh, true, cb, data);
}

int nl_sock_ack_why(int bus, struct nlmsghdr *nlh, char *why, size_t cap)
{
	if (why && cap)
		why[0] = 0;
	struct nl_sock_why w = { why, cap };
	return nl_sock_talk_why(bus, nlh, false, NULL, NULL, why && cap ? &w : NULL);
}

/* The CTRL_CMD_GETFAMILY answer: its CTRL_ATTR_FAMILY_ID, when it has a well-formed one. */
static int nl_sock_genl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			*(uint16_t *)data = mnl_attr_get_u16(a);
	}
	return MNL_CB_OK;
}

int nl_sock_genl_family(const char *name, uint16_t *id)
{
	if (!name || !*name || strlen(name) >= GENL_NAMSIZ)
		return -EINVAL;
	uint8_t buf[128] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_sock_put_request(buf, GENL_ID_CTRL, 0);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	uint16_t got = 0;
	int rc = nl_sock_ack_on(NETLINK_GENERIC, nlh, nl_sock_genl_family_cb, &got);
	if (rc)
		return rc == -EINVAL ? -ENOENT : rc;
	if (!got)
		return -ENOENT;
	*id = got;
	return 0;
}
