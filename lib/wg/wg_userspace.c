#include "wg/wg_userspace.h"

#include "crypto/secret.h"
#include "util/log.h"
#include "wg/wg_uapi.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WG_USERSPACE_IO_MS 5000

int wg_userspace_sock_path(char out[sizeof(((struct sockaddr_un *)0)->sun_path)], const char *dir,
			   const char *ifname)
{
	size_t cap = sizeof(((struct sockaddr_un *)0)->sun_path);
	int n = snprintf(out, cap, "%s/%s.sock", dir, ifname);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int wg_userspace_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int64_t wg_userspace_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends the request, reads one whole reply into *out (caller zeroes and frees). */
static int wg_userspace_talk(const char *path, const char *req, size_t req_len, char **out, size_t *out_len,
			     size_t *out_cap)
{
	int fd = wg_userspace_connect(path);
	if (fd < 0)
		return fd;
	int rc = 0;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int64_t deadline = wg_userspace_now_ms() + WG_USERSPACE_IO_MS;
	for (size_t off = 0; off < req_len;) {
		ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	for (;;) {
		if (len > 0 && wg_uapi_reply_len(buf, len))
			break;
		if (len + 4096 > cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			if (ncap > WG_UAPI_REPLY_MAX) {
				rc = -EMSGSIZE;
				goto out;
			}
			char *nb = malloc(ncap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			if (buf) {
				memcpy(nb, buf, len);
				wg_uapi_free(buf, cap);
			}
			buf = nb;
			cap = ncap;
		}
		int64_t left = deadline - wg_userspace_now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			rc = -errno;
			goto out;
		}
		if (pr == 0) {
			rc = -ETIMEDOUT;
			goto out;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0) {
			rc = -EBADMSG; /* closed before a whole reply */
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = 0;
	*out = buf;
	*out_len = len;
	*out_cap = cap;
	buf = NULL;
out:
	wg_uapi_free(buf, cap);
	close(fd);
	return rc;
}

int wg_userspace_set(const char *sock_path, const struct wg_conf *c)
{
	char *req = NULL, *reply = NULL;
	size_t req_len = 0, reply_len = 0, reply_cap = 0;
	int rc = wg_uapi_encode_set(c, &req, &req_len);
	if (rc)
		return rc;
	rc = wg_userspace_talk(sock_path, req, req_len, &reply, &reply_len, &reply_cap);
	wg_uapi_free(req, req_len);
	if (rc)
		return rc;
	rc = wg_uapi_parse_set_reply(reply, wg_uapi_reply_len(reply, reply_len));
	wg_uapi_free(reply, reply_cap);
	return rc;
}

int wg_userspace_get(const char *sock_path, struct wg_status *st)
{
	memset(st, 0, sizeof(*st));
	char *reply = NULL;
	size_t reply_len = 0, reply_cap = 0;
	int rc = wg_userspace_talk(sock_path, WG_UAPI_GET_REQUEST, strlen(WG_UAPI_GET_REQUEST), &reply, &reply_len,
				   &reply_cap);
	if (rc)
		return rc;
	rc = wg_uapi_parse_get(reply, wg_uapi_reply_len(reply, reply_len), st);
	wg_uapi_free(reply, reply_cap);
	return rc;
}

static void wg_userspace_reaped(struct wg_userspace *u, int status)
{
	u->pid = 0;
	u->status = status;
	if (WIFEXITED(status))
		log_warn("wg: wireguard-go for %s exited with status %d", u->ifname, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("wg: wireguard-go for %s ended by signal %d", u->ifname, WTERMSIG(status));
}

int wg_userspace_alive(struct wg_userspace *u)
{
	if (u->pid <= 0)
		return -ECHILD;
	int status;
	pid_t r = waitpid(u->pid, &status, WNOHANG);
	if (r == 0)
		return 0;
	if (r == u->pid)
		wg_userspace_reaped(u, status);
	else
		u->pid = 0; /* someone else reaped it */
	return -ECHILD;
}

static int wg_userspace_spawn(struct wg_userspace *u, const char *program, const char *log_level)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **envp = calloc(n + 3, sizeof(*envp));
	char level[64];
	if (!envp)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LOG_LEVEL=", 10) && strncmp(environ[i], "WG_PROCESS_FOREGROUND=", 22))
			envp[k++] = environ[i];
	envp[k++] = "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1";
	snprintf(level, sizeof(level), "LOG_LEVEL=%s", log_level);
	envp[k++] = level;
	envp[k] = NULL;
	char *argv[] = { (char *)program, "-f", u->ifname, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* stdin from /dev/null, its log (stdout) to our stderr; signals back to defaults. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int e = strchr(program, '/') ? posix_spawn(&pid, program, &fa, &attr, argv, envp)
				     : posix_spawnp(&pid, program, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(envp);
	if (e)
		return -e;
	u->pid = pid;
#ifdef SYS_pidfd_open
	u->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	return 0;
}

int wg_userspace_start(struct wg_userspace *u, const char *ifname, const struct wg_userspace_opts *o)
{
	static const struct wg_userspace_opts defaults;
	if (!o)
		o = &defaults;
	memset(u, 0, sizeof(*u));
	u->pidfd = -1;
	if (!ifname || !*ifname || strlen(ifname) >= sizeof(u->ifname))
		return -EINVAL;
	strcpy(u->ifname, ifname);
	int rc = wg_userspace_sock_path(u->sock_path, o->sock_dir ? o->sock_dir : WG_USERSPACE_SOCK_DIR, ifname);
	if (rc)
		return rc;
	int fd = wg_userspace_connect(u->sock_path);
	if (fd >= 0) {
		close(fd);
		return -EEXIST;
	}
	const char *program = o->program ? o->program : getenv("NYM_WIREGUARD_GO");
	if (!program || !*program)
		program = WG_USERSPACE_PROGRAM;
	rc = wg_userspace_spawn(u, program, o->log_level ? o->log_level : "error");
	if (rc)
		return rc;
	int64_t deadline = wg_userspace_now_ms() + (o->timeout_ms ? o->timeout_ms : 5000);
	for (;;) {
		fd = wg_userspace_connect(u->sock_path);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (wg_userspace_alive(u)) {
			if (u->pidfd >= 0)
				close(u->pidfd);
			u->pidfd = -1;
			return -ECHILD;
		}
		if (wg_userspace_now_ms() > deadline) {
			wg_userspace_stop(u);
			return -ETIMEDOUT;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

int wg_userspace_stop(struct wg_userspace *u)
{
	int rc = 0;
	if (u->pid > 0 && wg_userspace_alive(u) == 0) {
		kill(u->pid, SIGTERM);
		int64_t deadline = wg_userspace_now_ms() + 2000;
		while (u->pid > 0 && waitpid(u->pid, &u->status, WNOHANG) == 0) {
			if (wg_userspace_now_ms() > deadline) {
				kill(u->pid, SIGKILL);
				waitpid(u->pid, &u->status, 0);
				break;
			}
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		u->pid = 0;
	} else {
		rc = -ECHILD;
	}
	if (u->sock_path[0])
		unlink(u->sock_path);
	if (u->pidfd >= 0)
		close(u->pidfd);
	u->pidfd = -1;
	return rc;
}
