/* The userspace backend: `wireguard-go` as a supervised child and its UAPI socket. The child
 * runs in the foreground (-f), started with posix_spawn in the caller's network namespace,
 * with WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 (Debian's wireguard-go refuses to run
 * on Linux otherwise); its log goes to our stderr. wireguard-go creates the TUN device and
 * the socket <dir>/<if>.sock; it removes both when it ends (SIGTERM, the socket deleted, the
 * TUN removed). Its socket directory is fixed at /var/run/wireguard, shared by every network
 * namespace of the host: two devices of one name in two namespaces would collide.
 *
 * The child is reaped with waitpid on its own pid; a process that reaps every child itself
 * (waitpid(-1)) must leave this one alone. */
#ifndef NYM_WG_WG_USERSPACE_H
#define NYM_WG_WG_USERSPACE_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "wg/wg_conf.h"

#define WG_USERSPACE_SOCK_DIR "/var/run/wireguard"
#define WG_USERSPACE_PROGRAM "wireguard-go"

struct wg_userspace_opts {
	const char *program;   /* NULL: $NYM_WIREGUARD_GO, else "wireguard-go" from PATH */
	const char *sock_dir;  /* NULL: WG_USERSPACE_SOCK_DIR (where wireguard-go puts it) */
	const char *log_level; /* wireguard-go's LOG_LEVEL: NULL = "error"; "verbose", "silent" */
	unsigned timeout_ms;   /* for the socket to appear; 0 = 5000 */
};

struct wg_userspace {
	pid_t pid; /* 0 once it has ended and been reaped */
	int status; /* its wait status, once reaped */
	int pidfd;  /* readable once the child has ended (pidfd_open); -1 where unsupported */
	char ifname[IF_NAMESIZE];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* <dir>/<ifname>.sock; -ENAMETOOLONG when it does not fit a sockaddr_un. */
int wg_userspace_sock_path(char out[sizeof(((struct sockaddr_un *)0)->sun_path)], const char *dir,
			   const char *ifname);

/* Starts wireguard-go for ifname and waits until its socket answers. Returns 0; -EEXIST when
 * a daemon already answers on that socket; -ENOENT when the program is missing; -ECHILD when
 * it ended before its socket answered; -ETIMEDOUT (it is then stopped). */
int wg_userspace_start(struct wg_userspace *u, const char *ifname, const struct wg_userspace_opts *o);

/* 0 while the child runs; -ECHILD once it has ended (reaped here; u->status says how).
 * An event loop may poll u->pidfd (POLLIN: the child has ended) and then call this. */
int wg_userspace_alive(struct wg_userspace *u);

/* Ends the child (SIGTERM, SIGKILL after 2 s), reaps it, removes its socket, closes the
 * pidfd. Returns 0 or -ECHILD when it had already died on its own. */
int wg_userspace_stop(struct wg_userspace *u);

/* One UAPI conversation with the daemon on sock_path (any daemon speaking the protocol, ours
 * or not). Return 0 or -errno: the daemon's error, -ECONNREFUSED / -ENOENT (no daemon),
 * -EBADMSG (a malformed reply), -ETIMEDOUT (no answer in 5 s). */
int wg_userspace_set(const char *sock_path, const struct wg_conf *c);
int wg_userspace_get(const char *sock_path, struct wg_status *st);

#endif
