/* nym_awg.ko's GET answer (awg_genl_parse): any attribute stream after the generic-netlink
 * header is parsed or refused; a parsed one has a usable interface name and a mode byte. */
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>

#include "awg/awg_genl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t head = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr));
	if (size > 65536)
		return 0;
	uint8_t *buf = aligned_alloc(8, (head + size + 7) & ~(size_t)7);
	if (!buf)
		abort();
	memset(buf, 0, head);
	memcpy(buf + head, data, size);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)(head + size);
	char ifname[IF_NAMESIZE];
	struct awg_params p;
	struct awg_genl_counters c;
	int mode;
	if (awg_genl_parse(nlh, ifname, &p, &mode, &c) == 0) {
		size_t n = strnlen(ifname, sizeof(ifname));
		if (n == 0 || n >= sizeof(ifname) || mode < 0 || mode > 255)
			abort();
	}
	free(buf);
	return 0;
}
