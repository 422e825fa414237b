#include "netlink/nl_sock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static int nl_sock_talk(int bus, struct nlmsghdr *nlh, bool dump, mnl_cb_t cb, void *data)
{
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
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
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
