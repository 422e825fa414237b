/* nym-node probe: a gateway probe over the mixnet (issue 11). It connects to an entry
 * gateway, spends a ticket, opens an IP packet router session with an exit gateway over 5
 * hops (lib/clientio), brings up a TUN device of its own with the assigned addresses, and
 * runs the requested checks through it with sockets bound to that device:
 *
 *   ping   ICMP echo (raw sockets, IPv4 and/or IPv6): sent, received, RTTs
 *   dns    a UDP query for A and AAAA to a DNS server: the answers
 *   http   a GET with libcurl bound to the device: status, bytes, SHA-256, seconds
 *
 * Nothing else on the host is touched: the device's sockets find their routes in a routing
 * table of their own through "ip rule oif DEV lookup TABLE" (both removed at the end, also
 * after a failure or SIGINT), and the device disappears with the process's file. */
#ifndef NYM_NODECTL_PROBE_PROBE_H
#define NYM_NODECTL_PROBE_PROBE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clientio/clientio.h"

#define PROBE_PING_MAX 32
#define PROBE_DNS_ANSWERS_MAX 16
#define PROBE_TEXT_MAX 256
#define PROBE_DEFAULT_TUN "nymprobe0"
#define PROBE_DEFAULT_TABLE 0x6e70 /* "np" */
#define PROBE_DEFAULT_RULE_PRIORITY 1000

struct probe_options {
	const char *const *authorities;
	size_t authority_count;
	struct nym_dir_client_trust trust;
	const uint8_t *entry; /* NULL: at random */
	const uint8_t *exit;  /* NULL: at random */
	const char *ticketbook;
	const char *keys_dir; /* NULL: fresh keys for this run */
	const char *ping;     /* IPv4 or IPv6 address */
	const char *ping6;    /* a second (IPv6) target */
	unsigned ping_count;  /* default 3 */
	const char *dns_server, *dns_name;
	const char *http_url;
	const char *tun_name;
	uint32_t table, rule_priority;
	uint64_t per_hop_delay_ms; /* UINT64_MAX: Nym's default (15 ms) */
	uint64_t poisson_ms;	   /* UINT64_MAX: default (20 ms); 0: the mixed stream's rate lifted */
	bool no_cover;
	uint64_t ipr_buffer_ms; /* asked of the IPR; UINT64_MAX: its own, or 0 with poisson_ms 0 */
	uint64_t timeout_s; /* for the IPR session to come up, and each check (default 60) */
	uint64_t duration_s; /* keep the tunnel up this long after the checks (SIGINT ends it early) */
	/* --two-hop (probe_wg.c): nested WireGuard instead of the mixnet; wg-entry and wg-exit
	 * tickets from the books in ticket_dir; tun_name is the inner (exit) device. */
	bool two_hop;
	const char *ticket_dir;
	const char *tun_entry_name;
};

struct probe_ping {
	bool requested, ok;
	char target[64];
	unsigned sent, received;
	double rtt_ms[PROBE_PING_MAX];
	char error[PROBE_TEXT_MAX];
};

struct probe_dns {
	bool requested, ok;
	size_t count;
	char answers[PROBE_DNS_ANSWERS_MAX][48];
	char error[PROBE_TEXT_MAX];
};

struct probe_http {
	bool requested, ok;
	long status;
	uint64_t bytes;
	char sha256[65];
	double seconds;
	char error[PROBE_TEXT_MAX];
};

struct probe_result {
	bool connected; /* the IPR session came up */
	uint8_t entry[32], exit[32];
	bool have_gateways;
	char ipv4[48], ipv6[48];
	struct probe_ping ping, ping6;
	struct probe_dns dns;
	struct probe_http http;
	struct clientio_stats stats;
	char backend[16];		/* two-hop: "kernel" | "userspace" */
	char entry_ipv4[48], entry_ipv6[48]; /* two-hop: the entry tunnel's pair */
	char error[CLIENTIO_ERR_MAX + 64]; /* why the probe could not run its checks */
	char notice[CLIENTIO_ERR_MAX];	   /* the last link or IPR message (e.g. an exit policy INFO) */
};

void probe_options_default(struct probe_options *o);

/* Runs the probe. Returns 0 when every requested check passed, -EAGAIN when a check failed,
 * another negative errno when the probe could not run them (reason in r->error). */
int probe_run(const struct probe_options *o, struct probe_result *r);
/* The same through two nested WireGuard tunnels (o->two_hop; nodectl/probe/probe_wg.c). */
int probe_run_two_hop(const struct probe_options *o, struct probe_result *r);

/* The checks, on sockets bound to ifname (nodectl/probe/probe_checks.c). Each honours
 * timeout_s and stops early on SIGINT/SIGTERM (probe_interrupted). */
void probe_check_ping(const char *ifname, const char *target, unsigned count, unsigned timeout_s,
		      struct probe_ping *out);
void probe_check_dns(const char *ifname, const char *server, const char *name, unsigned timeout_s,
		     struct probe_dns *out);
void probe_check_http(const char *ifname, const char *url, const char *dns_server, unsigned timeout_s,
		      struct probe_http *out);

/* Whether SIGINT or SIGTERM is pending (they are blocked in every thread of the probe). */
bool probe_interrupted(void);

#endif
