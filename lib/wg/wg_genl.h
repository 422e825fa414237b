/* The kernel's WireGuard over the `wireguard` generic-netlink family (include/uapi/linux/
 * wireguard.h, version 1) and rtnetlink (links of kind "wireguard"), with libmnl. Message
 * building and reading are pure and exposed for the tests; the rest is one netlink
 * conversation per call (netlink/nl_sock).
 *
 * A configuration larger than one message is split across several SET_DEVICE messages, as
 * wg(8) does: a peer whose allowed IPs do not fit continues in the next message with only its
 * public key (and UPDATE_ONLY when it has it), and REPLACE_PEERS / REPLACE_ALLOWEDIPS go only
 * with the first part. Dump replies
 * may repeat a peer (its public key and more allowed IPs): the reader merges them.
 * Per-entry allowed-IP removal (wg_allowed_ip.remove) is refused with -EOPNOTSUPP: kernels
 * before 2025 ignore the attribute, which would turn a removal into an addition. */
#ifndef NYM_WG_WG_GENL_H
#define NYM_WG_WG_GENL_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/wg_conf.h"

#define WG_GENL_NAME "wireguard"
#define WG_GENL_VERSION 1
#define WG_GENL_LINK_KIND "wireguard"

/* Where wg_genl_build_set resumes: zero it before the first message. */
struct wg_genl_cursor {
	size_t peer;       /* next peer to place */
	size_t allowed_ip; /* next allowed IP of that peer */
	bool started;      /* the device part has been sent */
	bool peer_started; /* the peer's own attributes have been sent */
	bool done;
};

/* Builds the next SET_DEVICE message for `ifname` into buf (size bytes, aligned for
 * nlmsghdr, at most 64 KiB); returns 0 and advances cur (cur->done when everything is in),
 * -EMSGSIZE when buf cannot hold even one peer, -EINVAL for a bad name, allowed IP or
 * endpoint, -EOPNOTSUPP for an allowed-IP removal. The header's sequence number and
 * NLM_F_REQUEST / NLM_F_ACK are left to the sender. */
int wg_genl_build_set(void *buf, size_t size, uint16_t family, const char *ifname, const struct wg_conf *c,
		      struct wg_genl_cursor *cur);

/* Builds the GET_DEVICE dump request for ifname into buf (at least 64 bytes). */
int wg_genl_build_get(void *buf, size_t size, uint16_t family, const char *ifname);

/* Adds one GET_DEVICE reply (or, for the tests, a SET_DEVICE message) to st: device fields,
 * peers, allowed IPs; a peer repeating the last one's public key continues it. Returns 0,
 * -EBADMSG (bad lengths or nesting) or -ENOMEM. */
int wg_genl_parse_device(const struct nlmsghdr *nlh, struct wg_status *st);

/* The whole configuration, in as many messages as it takes. */
int wg_genl_set(uint16_t family, const char *ifname, const struct wg_conf *c);
/* The device's status (st emptied first; empty again on error; -ENODEV: no such device). */
int wg_genl_get(uint16_t family, const char *ifname, struct wg_status *st);

/* Creates / deletes the link (RTM_NEWLINK kind "wireguard", RTM_DELLINK). Create fails with
 * -EEXIST when the name is taken and -EOPNOTSUPP when the kernel has no WireGuard. */
int wg_genl_link_add(const char *ifname);
int wg_genl_link_del(const char *ifname);

#endif
