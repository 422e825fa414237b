/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * nym_awg: the AmneziaWG 1.0 wire transform (spec wireguard.md section 1.1) applied by a
 * kernel module to the UDP datagrams of the stock wireguard.ko. Generic netlink family
 * "nym_awg", version 1. Shared by kmod/ and lib/awg/awg_genl.c.
 *
 * Every command acts in the network namespace of the requesting socket, which must be the
 * one holding the WireGuard device's UDP socket (the namespace it was created in).
 *
 * NYM_AWG_CMD_SET: NYM_AWG_A_IFINDEX or NYM_AWG_A_IFNAME (a "wireguard" link), NYM_AWG_A_PORT
 *   (the UDP port the device listens on), NYM_AWG_A_MODE, and the nine parameters (absent =
 *   0). Creates or replaces the device's configuration (counters and learned endpoints
 *   start again). -EINVAL with an extended-ack message naming the broken rule.
 * NYM_AWG_CMD_DEL: NYM_AWG_A_IFINDEX or NYM_AWG_A_IFNAME. -ENOENT when not configured.
 * NYM_AWG_CMD_GET: dump; one message per configured device with every attribute above,
 *   NYM_AWG_A_ENDPOINTS and NYM_AWG_A_COUNTERS (nested, u64 each).
 * A configuration goes away by itself when its device is unregistered.
 */
#ifndef _UAPI_NYM_AWG_H
#define _UAPI_NYM_AWG_H

#define NYM_AWG_GENL_NAME "nym_awg"
#define NYM_AWG_GENL_VERSION 1

enum nym_awg_cmd {
	NYM_AWG_CMD_UNSPEC,
	NYM_AWG_CMD_SET,
	NYM_AWG_CMD_DEL,
	NYM_AWG_CMD_GET,
	__NYM_AWG_CMD_MAX
};

#define NYM_AWG_CMD_MAX (__NYM_AWG_CMD_MAX - 1)

/*
 * INITIATOR (client): every datagram sent from the port is encoded, every datagram
 * arriving at it must decode (else it is dropped and counted).
 * RESPONDER (gateway): one port serves AWG and plain peers. A remote endpoint (address,
 * port) whose datagram classifies as AWG is learned and what goes back to it is encoded;
 * plain WireGuard datagrams pass untouched (a plain initiation makes the endpoint plain
 * again); a datagram that is neither is dropped and counted.
 */
enum nym_awg_mode {
	NYM_AWG_MODE_INITIATOR = 1,
	NYM_AWG_MODE_RESPONDER = 2,
};

enum nym_awg_attr {
	NYM_AWG_A_UNSPEC,
	NYM_AWG_A_IFINDEX,	/* u32 */
	NYM_AWG_A_IFNAME,	/* NUL-terminated string, < IFNAMSIZ */
	NYM_AWG_A_PORT,		/* u16, host order, non-zero */
	NYM_AWG_A_MODE,		/* u8, enum nym_awg_mode */
	NYM_AWG_A_JC,		/* u16 */
	NYM_AWG_A_JMIN,		/* u16 */
	NYM_AWG_A_JMAX,		/* u16 */
	NYM_AWG_A_S1,		/* u16 */
	NYM_AWG_A_S2,		/* u16 */
	NYM_AWG_A_H1,		/* u32; <= 4 keeps the WireGuard type */
	NYM_AWG_A_H2,		/* u32 */
	NYM_AWG_A_H3,		/* u32 */
	NYM_AWG_A_H4,		/* u32 */
	NYM_AWG_A_ENDPOINTS,	/* u32, GET only: endpoints learned (RESPONDER) */
	NYM_AWG_A_COUNTERS,	/* nested enum nym_awg_counter, GET only */
	__NYM_AWG_A_MAX
};

#define NYM_AWG_A_MAX (__NYM_AWG_A_MAX - 1)

/* Datagrams unless named otherwise; every value is a u64. */
enum nym_awg_counter {
	NYM_AWG_C_UNSPEC,
	NYM_AWG_C_PAD,
	NYM_AWG_C_TX_ENCODED,	/* sent, transformed */
	NYM_AWG_C_TX_PLAIN,	/* sent untouched (RESPONDER, endpoint not AWG) */
	NYM_AWG_C_TX_JUNK,	/* junk datagrams sent before initiations */
	NYM_AWG_C_TX_DROPPED,	/* sent from the port but not WireGuard, dropped */
	NYM_AWG_C_RX_DECODED,	/* received, classified as AWG, restored */
	NYM_AWG_C_RX_PLAIN,	/* received plain WireGuard (RESPONDER) */
	NYM_AWG_C_RX_DROPPED,	/* received, classified as neither, dropped */
	NYM_AWG_C_RX_CSUM,	/* received with a bad UDP checksum, dropped */
	NYM_AWG_C_LEARN_FULL,	/* endpoint not learned: table full */
	NYM_AWG_C_NOMEM,	/* an allocation failed (junk, endpoint, reallocation) */
	__NYM_AWG_C_MAX
};

#define NYM_AWG_C_MAX (__NYM_AWG_C_MAX - 1)

#endif /* _UAPI_NYM_AWG_H */
