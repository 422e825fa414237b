/* nym-vpnd's internals shared by its modules (docs/ARCHITECTURE.md, "nym-vpnd").
 *
 *   vpnd_main.c      arguments, configuration, state directory, restart safety, the main
 *                    loop (poll over the control socket, its clients, the tunnel's eventfd
 *                    and timers), signals, sd_notify
 *   vpnd_ctl.c       the control socket: accept, SO_PEERCRED privilege, line framing,
 *                    replies, listeners
 *   vpnd_requests.c  what each control command does
 *   vpnd_tunnel.c    the mixnet tunnel in a thread of its own: kill switch, TUN, clientio,
 *                    addresses, policy routing, DNS; events back through a queue + eventfd
 *   vpnd_firewall.c  the kill switch's current policy, applied under a lock from both threads
 *   vpnd_creds.c     credentials obtain / list in <state>/tickets/
 *   vpnd_jobs.c      slow requests (credentials obtain, gateway list) in a thread of their own
 *   vpnd_notify.c    sd_notify
 *
 * The control loop is single-threaded and owns struct vpnd; the tunnel thread only touches
 * its own struct vpnd_tunnel, the firewall (locked) and the event queue (locked). */
#ifndef NYM_VPND_VPND_H
#define NYM_VPND_VPND_H

#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "dirclient/dir_client.h"
#include "dns/dns_config.h"
#include "nft/nft_killswitch.h"
#include "vpn/vpn_config.h"
#include "vpn/vpn_ctl.h"
#include "vpn/vpn_settings.h"
#include "vpn/vpn_state.h"

#define VPND_TABLE "nym-vpn"
#define VPND_AUTHORITIES_MAX 8
#define VPND_ENDPOINTS_MAX 32
#define VPND_HTTP_TIMEOUT_MS 10000
#define VPND_DIR_MAX 3072 /* the state directory; file paths in it fit PATH_MAX */

/* ---- firewall (vpnd_firewall.c) ---- */

struct vpnd_fw {
	pthread_mutex_t mu;
	uint32_t fwmark;
	struct nft_killswitch_endpoint authority[VPND_ENDPOINTS_MAX];
	size_t n_authority;
	struct nft_killswitch_endpoint entry[VPND_ENDPOINTS_MAX];
	size_t n_entry;
	char tunnel[16]; /* "" while no device */
	char outer[16];	 /* two-hop: the entry device carrying the tunnel; "" otherwise */
	bool allow_lan, allow_ipv6;
	bool active; /* installed by us in this process */
	/* Router mode (router.lan_interfaces; fixed for the daemon's life) and the tunnel's DNS
	 * servers the LAN's DNS goes to (set with the tunnel, cleared by vpnd_fw_block). */
	char router_lan[CONF_LIST_MAX][16];
	size_t n_router_lan;
	struct nft_killswitch_net router_dns[4];
	size_t n_router_dns;
};

void vpnd_fw_init(struct vpnd_fw *fw, uint32_t fwmark);
/* Router mode: the LAN interfaces (before anything is applied). */
void vpnd_fw_set_router(struct vpnd_fw *fw, const struct conf_list *lan_interfaces);
/* The tunnel's DNS servers for the LAN (IP address texts); applied with the next change. */
void vpnd_fw_set_router_dns(struct vpnd_fw *fw, const char *const *servers, size_t n);
/* Resolves the authorities' host:port (TCP) into fw->authority. 0 or -errno. */
int vpnd_fw_set_authorities(struct vpnd_fw *fw, const char *const *urls, size_t n);
/* Each changes the policy and applies it (when `apply`) atomically. 0 or -errno with err. */
int vpnd_fw_block(struct vpnd_fw *fw, bool allow_lan, bool allow_ipv6, char *err, size_t errlen);
int vpnd_fw_set_entry(struct vpnd_fw *fw, const struct sockaddr_storage *addrs, size_t n, char *err, size_t errlen);
int vpnd_fw_set_tunnel(struct vpnd_fw *fw, const char *tunnel, char *err, size_t errlen);
/* Two-hop: appends one endpoint (proto IPPROTO_TCP / IPPROTO_UDP; marked traffic only);
 * the tunnel device and the outer device that carries it. */
int vpnd_fw_add_entry(struct vpnd_fw *fw, const struct sockaddr *addr, uint8_t proto, char *err, size_t errlen);
int vpnd_fw_set_tunnels(struct vpnd_fw *fw, const char *tunnel, const char *outer, char *err, size_t errlen);
int vpnd_fw_set_lan(struct vpnd_fw *fw, bool allow_lan, char *err, size_t errlen); /* re-applies when active */
int vpnd_fw_remove(struct vpnd_fw *fw, char *err, size_t errlen);

/* ---- tunnel (vpnd_tunnel.c) ---- */

enum vpnd_tev_kind {
	VPND_TEV_PROGRESS,
	VPND_TEV_UP,
	VPND_TEV_LINK_DOWN,
	VPND_TEV_LINK_UP,
	VPND_TEV_FAILED,
	VPND_TEV_TICKETS,
	VPND_TEV_TORN_DOWN,
};

struct vpnd_tev {
	enum vpnd_tev_kind kind;
	enum vpn_ctl_step progress;
	enum vpn_state_reason reason;
	bool fatal, low;
	long tickets_left;
	char message[VPN_STATE_MESSAGE_MAX];
	struct vpn_state_connection connection;
};

#define VPND_TEV_QUEUE 64

/* What a tunnel needs, copied at its start. */
struct vpnd_tunnel_params {
	const struct vpn_config *cfg;
	struct vpn_settings settings;
	const char *const *authority_urls;
	size_t n_authorities;
	const struct nym_dir_client_trust *trust;
	char keys_dir[PATH_MAX], tickets_dir[PATH_MAX], dns_dir[PATH_MAX], state_dir[VPND_DIR_MAX];
	enum dns_config_backend dns_backend;
	struct vpnd_fw *fw;
	int event_fd; /* written (eventfd) when an event is queued */
};

struct vpnd_tunnel;

/* Starts the connect pipeline in a thread. 0 or -errno. */
int vpnd_tunnel_start(const struct vpnd_tunnel_params *p, struct vpnd_tunnel **out);
/* Asks the thread to tear down (it posts TORN_DOWN when done). */
void vpnd_tunnel_stop(struct vpnd_tunnel *t);
/* Joins and frees a tunnel that posted TORN_DOWN (or was stopped). */
void vpnd_tunnel_free(struct vpnd_tunnel *t);
/* Takes the next queued event: 1, or 0 when none. */
int vpnd_tunnel_next_event(struct vpnd_tunnel *t, struct vpnd_tev *out);

/* Undoes what a previous process may have left (DNS backup, policy rules, src_valid_mark):
 * at start, before anything else. Logs what it did. */
void vpnd_tunnel_cleanup_leftovers(const struct vpn_config *cfg, const char *state_dir, const char *dns_dir);

/* ---- two-hop WireGuard (vpnd_wg_tunnel.c), run by the tunnel thread ---- */

struct vpnd_wg;
struct vpnd_wg_hooks {
	void *ctx;
	void (*progress)(void *ctx, enum vpn_ctl_step step);
	void (*failed)(void *ctx, enum vpn_state_reason reason, bool fatal, const char *message);
	bool (*stopping)(void *ctx);
};
/* Both tunnels up, the exit's addresses routed through the entry, addresses set; conn
 * filled (tun = the exit device), *ipv6 whether the inner tunnel has IPv6. 0, or -errno after
 * hooks->failed. *out is set whenever it returns (vpnd_wg_down it in any case). */
int vpnd_wg_up(const struct vpnd_tunnel_params *p, const struct vpnd_wg_hooks *h, struct vpn_state_connection *conn,
	       bool *ipv6, struct vpnd_wg **out);
/* The entry device's name (the kill switch's outer tunnel). */
const char *vpnd_wg_outer_ifname(void);
/* While up (every 5 s): 0, or -ESTALE with a message (a device gone, a handshake older than
 * 180 s). Reads each tunnel's balance from its metadata endpoint (10.1.0.1:51830 through that
 * device) and tops it up with a ticket when it is below half of what the registration's
 * ticket bought; *changed when a balance changed (new values in *entry_left / *exit_left). */
int vpnd_wg_watch(struct vpnd_wg *w, bool *changed, int64_t *entry_left, int64_t *exit_left, char *msg, size_t cap);
/* Removes both devices (and so their routes) and frees w. */
void vpnd_wg_down(struct vpnd_wg *w);

/* ---- credentials (vpnd_creds.c) ---- */

int vpnd_creds_obtain(const char *tickets_dir, const struct vpn_ctl_args *a, const struct nym_dir_client_trust *trust,
		      json_t **result, struct vpn_ctl_error *err);
int vpnd_creds_list(const char *tickets_dir, json_t **result, struct vpn_ctl_error *err);

/* ---- slow requests (vpnd_jobs.c) ---- */

/* Requests that wait on the network (credentials obtain, gateway list) run in a thread of
 * their own (obtains one at a time), so the control loop keeps answering; the reply is sent
 * when the loop collects the finished job (the eventfd is written). The connection that
 * asked waits for it before its next requests are read (replies stay in order). */
struct vpnd_jobs;
struct vpnd_jobs *vpnd_jobs_new(int event_fd);
/* Starts a job for request req of connection client. 0 or -errno. */
int vpnd_jobs_start(struct vpnd_jobs *j, uint64_t client, const struct vpn_ctl_request *req, const char *tickets_dir,
		    const char *const *urls, size_t n_urls, const struct nym_dir_client_trust *trust);
/* Takes a finished job: 1 with its reply (result or err, *obtained true for credentials
 * obtain), 0 when none. *result is the caller's. */
int vpnd_jobs_next(struct vpnd_jobs *j, uint64_t *client, long long *id, json_t **result, struct vpn_ctl_error *err,
		   bool *ok, bool *obtained);
/* Waits up to timeout_ms for running jobs to end. */
void vpnd_jobs_drain(struct vpnd_jobs *j, long timeout_ms);

/* ---- sd_notify (vpnd_notify.c) ---- */

/* Sends state ("READY=1") to $NOTIFY_SOCKET when set. 0, or -errno. */
int vpnd_notify(const char *state);

/* ---- control socket (vpnd_ctl.c) ---- */

struct vpnd_client;
struct vpnd_ctl;

struct vpnd_ctl_peer {
	uint64_t client; /* this connection's serial number, for replies given later */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool privileged;
};

/* Called for each request line: fills *result (ok) or err and returns 0 / -1, or returns
 * VPND_CTL_LATER when the reply comes later through vpnd_ctl_reply. *listen set to true
 * turns the connection into a listener after the reply. */
#define VPND_CTL_LATER 1
typedef int (*vpnd_ctl_handler)(void *ctx, const struct vpnd_ctl_peer *peer, const struct vpn_ctl_request *req,
				json_t **result, struct vpn_ctl_error *err, bool *listen);

/* Creates the listening socket (a stale one is removed; one a live daemon answers on is
 * -EADDRINUSE), mode and group as given (group "" or unknown: none). */
int vpnd_ctl_open(const char *path, mode_t mode, const char *group, vpnd_ctl_handler h, void *ctx,
		  struct vpnd_ctl **out, char *err, size_t errlen);
void vpnd_ctl_close(struct vpnd_ctl *c); /* closes every client and removes the socket file */
/* pollfds: fills up to cap entries, returns how many. */
size_t vpnd_ctl_pollfds(struct vpnd_ctl *c, struct pollfd *fds, size_t cap);
/* Handles the revents of those entries. */
void vpnd_ctl_dispatch(struct vpnd_ctl *c, const struct pollfd *fds, size_t n);
/* The reply to request `id` of connection `client` (result when err is NULL); dropped when
 * the connection is gone. */
void vpnd_ctl_reply(struct vpnd_ctl *c, uint64_t client, long long id, const json_t *result,
		    const struct vpn_ctl_error *err);
/* Sends a line to every listener. */
void vpnd_ctl_broadcast(struct vpnd_ctl *c, const char *line);

/* Whether peer is root or in group gid (primary or supplementary, from /proc/<pid>/status). */
bool vpnd_ctl_peer_privileged(pid_t pid, uid_t uid, gid_t gid, bool have_group, gid_t group);

/* ---- the daemon (vpnd_main.c, vpnd_requests.c) ---- */

struct vpnd {
	struct vpn_config cfg;
	char config_path[PATH_MAX];
	bool config_found;
	char state_dir[VPND_DIR_MAX], keys_dir[PATH_MAX], tickets_dir[PATH_MAX], dns_dir[PATH_MAX];
	char settings_path[PATH_MAX], target_path[PATH_MAX];
	const char *authority_urls[VPND_AUTHORITIES_MAX];
	size_t n_authorities;
	struct nym_dir_client_trust trust;
	enum dns_config_backend dns_backend;
	struct vpn_settings settings;
	struct vpn_state st;
	struct vpnd_fw fw;
	struct vpnd_ctl *ctl;
	struct vpnd_tunnel *tunnel;
	struct vpnd_jobs *jobs;
	int event_fd;
	uint64_t retry_at_ns; /* 0: no retry armed */
	bool publish_pending;
};

/* Feeds an event to the state machine and carries out its actions. */
void vpnd_handle(struct vpnd *d, const struct vpn_state_event *ev);
/* The control socket's handler (vpnd_ctl_handler). */
int vpnd_request(void *ctx, const struct vpnd_ctl_peer *peer, const struct vpn_ctl_request *req, json_t **result,
		 struct vpn_ctl_error *err, bool *listen);
/* tickets_left of the state from the mixnet-entry books in <state>/tickets/. */
void vpnd_refresh_tickets(struct vpnd *d);
/* Persists the settings; logs a failure. */
int vpnd_save_settings(struct vpnd *d);

#endif
