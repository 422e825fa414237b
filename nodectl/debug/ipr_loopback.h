/* nym-node debug ipr --loopback: a client of the IP packet router inside the same process,
 * to check a router end to end without a mixnet. It stands in for the mixnet on both sides:
 * its requests are real Repliable messages sealed to the router's key and handed over with
 * gateway_ipr_deliver, as the gateway hands final hops over; the router's reply packets come
 * to its inject hook, built on its one-hop reply SURBs, and are opened as a client opens
 * them. It connects, then pings 10.0.0.1 and fc00::1 (the router's own addresses, which the
 * host's kernel answers) from its assigned pair through the TUN device, and reports what
 * came back: echo replies when the policy allows the router's network, ICMP
 * "administratively prohibited" when it does not (the default policy rejects private:*). */
#ifndef NYM_NODECTL_IPR_LOOPBACK_H
#define NYM_NODECTL_IPR_LOOPBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "ipr/ipr_addr.h"
#include "nodectl/gateway/gateway_ipr.h"

struct ipr_loopback;

/* A client for the router whose identity public key is given. Its inject hook goes into
 * the hooks gateway_ipr_start takes. Returns 0 or -ENOMEM. */
int ipr_loopback_new(const uint8_t router_identity[32], struct ipr_loopback **out);
void ipr_loopback_hooks(struct ipr_loopback *l, struct gateway_ipr_hooks *hooks);
void ipr_loopback_free(struct ipr_loopback *l);

enum ipr_loopback_answer {
	IPR_LOOPBACK_NONE = 0,	     /* nothing came back in time */
	IPR_LOOPBACK_ECHO_REPLY = 1, /* the kernel answered */
	IPR_LOOPBACK_PROHIBITED = 2, /* the router refused it (administratively prohibited) */
	IPR_LOOPBACK_OTHER = 3,	     /* another packet */
};

struct ipr_loopback_result {
	bool connected;
	struct ipr_addr_pair ips;
	enum ipr_loopback_answer ping4, ping6;
	double rtt4_ms, rtt6_ms;
	uint64_t reply_packets; /* reply Sphinx packets that reached the hook */
};

/* Runs the session against a started router: CONNECT, ping 10.0.0.1, ping fc00::1, each
 * waiting up to timeout_ms. Returns 0 (see the result) or -ETIMEDOUT (no CONNECT answer). */
int ipr_loopback_run(struct ipr_loopback *l, struct gateway_ipr *ipr, unsigned timeout_ms,
		     struct ipr_loopback_result *out);

#endif
