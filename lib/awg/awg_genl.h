/* The nym_awg.ko client (generic netlink family "nym_awg", kmod/uapi/nym_awg.h) over libmnl:
 * applies the AWG 1.0 transform to a kernel WireGuard device's UDP port, removes it, reads it
 * back with the module's counters. Every call acts in the caller's network namespace, which
 * must hold the device's UDP socket (where the device was created). Returns 0 or -errno:
 * -ENOENT when the module is not loaded (family unknown) or the device is not configured,
 * -ENODEV no such device, -EOPNOTSUPP not a WireGuard device, -EINVAL parameters broken. */
#ifndef NYM_AWG_AWG_GENL_H
#define NYM_AWG_AWG_GENL_H

#include <stddef.h>
#include <net/if.h>
#include <stdint.h>

#include "awg/awg.h"

#define AWG_GENL_MODE_INITIATOR 1 /* NYM_AWG_MODE_INITIATOR: client, everything encoded */
#define AWG_GENL_MODE_RESPONDER 2 /* NYM_AWG_MODE_RESPONDER: gateway, AWG and plain peers */

struct awg_genl_counters {
	uint64_t tx_encoded, tx_plain, tx_junk, tx_dropped;
	uint64_t rx_decoded, rx_plain, rx_dropped, rx_csum;
	uint64_t learn_full, nomem;
	uint32_t endpoints; /* AWG endpoints a RESPONDER knows now */
	uint16_t port;
};

int awg_genl_set(const char *ifname, uint16_t port, int mode, const struct awg_params *p);
/* The same; on an error why (capacity cap) gets the module's message, e.g. the rule broken. */
int awg_genl_set_why(const char *ifname, uint16_t port, int mode, const struct awg_params *p, char *why,
		     size_t cap);
int awg_genl_del(const char *ifname);
/* p, mode, c may each be NULL. */
int awg_genl_get(const char *ifname, struct awg_params *p, int *mode, struct awg_genl_counters *c);

/* 1 when the family resolves (after trying `modprobe nym_awg` once), else 0. */
int awg_genl_available(void);

/* The messages themselves (tests, fuzzing). build_set writes a NYM_AWG_CMD_SET request for
 * family id `family` into buf (size >= AWG_GENL_MSG_SIZE, zeroed, aligned); parse reads one
 * NYM_AWG_CMD_GET answer: -EBADMSG unless every attribute is there with its type. */
#define AWG_GENL_MSG_SIZE 1024
struct nlmsghdr;
int awg_genl_build_set(void *buf, size_t size, uint16_t family, const char *ifname, uint16_t port, int mode,
		       const struct awg_params *p);
int awg_genl_parse(const struct nlmsghdr *nlh, char ifname[IF_NAMESIZE], struct awg_params *p, int *mode,
		   struct awg_genl_counters *c);

/* "initiator" / "responder" and back; parse returns -EINVAL for another word. */
const char *awg_genl_mode_name(int mode);
int awg_genl_mode_parse(const char *s, int *mode);

#endif
