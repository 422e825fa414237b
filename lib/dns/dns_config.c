#include "dns/dns_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifndef NYM_NO_SYSTEMD
#include <systemd/sd-bus.h>
#endif
#include <unistd.h>

#include "util/file.h"

extern char **environ;

#define RESOLVED_DIR "/run/systemd/resolve/"
#define RESOLVCONF_RUN "/run/resolvconf"
#define BUS_NAME "org.freedesktop.resolve1"
#define BUS_PATH "/org/freedesktop/resolve1"
#define BUS_IFACE "org.freedesktop.resolve1.Manager"
#define BUS_TIMEOUT_US (5 * 1000000ull)
#define BACKUP_MAGIC "nym-dns-backup 1\n"

static const char *const names[] = {
	[DNS_CONFIG_AUTO] = "auto",
	[DNS_CONFIG_RESOLVED] = "systemd-resolved",
	[DNS_CONFIG_RESOLVCONF] = "resolvconf",
	[DNS_CONFIG_STATIC_FILE] = "static-file",
};

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int dns_config_parse_backend(const char *s, enum dns_config_backend *out)
{
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum dns_config_backend)i;
			return 0;
		}
	return -EINVAL;
}

const char *dns_config_backend_name(enum dns_config_backend b)
{
	return (unsigned)b < sizeof(names) / sizeof(names[0]) ? names[b] : "?";
}

/* ---- detection ---- */

bool dns_config_resolv_is_resolved(const char *resolv_path)
{
	struct stat st;
	if (lstat(resolv_path, &st) != 0 || !S_ISLNK(st.st_mode))
		return false;
	char t[PATH_MAX];
	ssize_t n = readlink(resolv_path, t, sizeof(t) - 1);
	if (n <= 0)
		return false;
	t[n] = 0;
	const char *p = t;
	if (*p != '/') {
		while (strncmp(p, "../", 3) == 0)
			p += 3;
		if (strncmp(p, &RESOLVED_DIR[1], sizeof(RESOLVED_DIR) - 2) != 0)
			return false;
		return p[sizeof(RESOLVED_DIR) - 2] != 0;
	}
	return strncmp(p, RESOLVED_DIR, sizeof(RESOLVED_DIR) - 1) == 0 && p[sizeof(RESOLVED_DIR) - 1] != 0;
}

int dns_config_which(const char *name, const char *path_env, char *out, size_t cap)
{
	if (!name || !*name || strchr(name, '/') || !path_env)
		return -ENOENT;
	const char *p = path_env;
	while (*p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len) {
			char cand[PATH_MAX];
			int k = snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p, name);
			struct stat st;
			if (k > 0 && (size_t)k < sizeof(cand) && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(cand, X_OK) == 0) {
				if ((size_t)k >= cap)
					return -ENAMETOOLONG;
				memcpy(out, cand, (size_t)k + 1);
				return 0;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return -ENOENT;
}

#ifndef NYM_NO_SYSTEMD
static bool resolved_answers(void)
{
	sd_bus *bus = NULL;
	if (sd_bus_open_system(&bus) < 0)
		return false;
	sd_bus_set_method_call_timeout(bus, 2 * 1000000ull);
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, "org.freedesktop.DBus.Peer", "Ping", &e, NULL, "");
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return r >= 0;
}

#else
/* Built without libsystemd (NYM_NO_SYSTEMD: OpenWrt, musl): no systemd-resolved backend. */
static bool resolved_answers(void)
{
	return false;
}
#endif

static enum dns_config_backend detect(const char *resolv_path)
{
	if (dns_config_resolv_is_resolved(resolv_path) && resolved_answers())
		return DNS_CONFIG_RESOLVED;
	char prog[PATH_MAX];
	struct stat st;
	const char *path = getenv("PATH");
	if (dns_config_which("resolvconf", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin", prog, sizeof(prog)) == 0 &&
	    stat(RESOLVCONF_RUN, &st) == 0 && S_ISDIR(st.st_mode))
		return DNS_CONFIG_RESOLVCONF;
	return DNS_CONFIG_STATIC_FILE;
}

/* ---- servers ---- */

struct server {
	int family;
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];
};

static int parse_servers(const char *const *servers, size_t n, struct server *out, char *err, size_t errlen)
{
	if (n == 0 || n > DNS_CONFIG_SERVERS_MAX) {
		say(err, errlen, "between 1 and %d DNS servers are needed", DNS_CONFIG_SERVERS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = servers[i];
		if (s && inet_pton(AF_INET, s, out[i].addr) == 1)
			out[i].family = AF_INET;
		else if (s && inet_pton(AF_INET6, s, out[i].addr) == 1)
			out[i].family = AF_INET6;
		else {
			say(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", s ? s : "(null)");
			return -EINVAL;
		}
		inet_ntop(out[i].family, out[i].addr, out[i].text, sizeof(out[i].text));
	}
	return 0;
}

static bool ifname_ok(const char *ifname)
{
	size_t l = ifname ? strlen(ifname) : 0;
	if (l == 0 || l >= IFNAMSIZ)
		return false;
	for (size_t i = 0; i < l; i++)
		if (ifname[i] == '/' || ifname[i] <= ' ' || ifname[i] == 0x7f || ifname[i] == ':')
			return false;
	return true;
}

/* ---- the backup ---- */

struct backup {
	enum dns_config_backend backend;
	char ifname[IFNAMSIZ];
	bool resolv_absent;
	uint8_t *resolv;
	size_t resolv_len;
	uint8_t *raw;
};

static void backup_free(struct backup *b)
{
	free(b->raw);
	memset(b, 0, sizeof(*b));
}

static int backup_path(const char *dir, char *out, size_t cap)
{
	int k = snprintf(out, cap, "%s/%s", dir, DNS_CONFIG_BACKUP_NAME);
	return k < 0 || (size_t)k >= cap ? -ENAMETOOLONG : 0;
}

bool dns_config_backup_present(const char *backup_dir)
{
	char p[PATH_MAX];
	return backup_path(backup_dir, p, sizeof(p)) == 0 && access(p, F_OK) == 0;
}

/* One "key value\n" line at *pos; value into val. */
static int take_line(const uint8_t *d, size_t len, size_t *pos, const char *key, char *val, size_t cap)
{
	size_t kl = strlen(key);
	if (len - *pos < kl + 1 || memcmp(d + *pos, key, kl) != 0 || d[*pos + kl] != ' ')
		return -EBADMSG;
	size_t s = *pos + kl + 1, e = s;
	while (e < len && d[e] != '\n')
		e++;
	if (e == len || e - s >= cap || e == s)
		return -EBADMSG;
	memcpy(val, d + s, e - s);
	val[e - s] = 0;
	*pos = e + 1;
	return 0;
}

/* Returns 0, -ENOENT (no backup) or -EBADMSG. */
static int backup_read(const char *dir, struct backup *b)
{
	memset(b, 0, sizeof(*b));
	char p[PATH_MAX];
	int rc = backup_path(dir, p, sizeof(p));
	if (rc)
		return rc;
	size_t len = 0;
	rc = nym_file_read(p, DNS_CONFIG_RESOLV_MAX + 4096, &b->raw, &len);
	if (rc)
		return rc;
	const uint8_t *d = b->raw;
	size_t pos = sizeof(BACKUP_MAGIC) - 1;
	char val[64];
	if (len < pos || memcmp(d, BACKUP_MAGIC, pos) != 0)
		goto bad;
	if (take_line(d, len, &pos, "backend", val, sizeof(val)) || dns_config_parse_backend(val, &b->backend) ||
	    b->backend == DNS_CONFIG_AUTO)
		goto bad;
	if (take_line(d, len, &pos, "ifname", b->ifname, sizeof(b->ifname)) || !ifname_ok(b->ifname))
		goto bad;
	if (take_line(d, len, &pos, "resolv", val, sizeof(val)))
		goto bad;
	if (strcmp(val, "absent") == 0) {
		b->resolv_absent = true;
		if (pos != len)
			goto bad;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long n = strtoull(val, &end, 10);
	if (errno || *end || val[0] < '0' || val[0] > '9' || n != len - pos)
		goto bad;
	b->resolv = b->raw + pos;
	b->resolv_len = (size_t)n;
	return 0;
bad:
	backup_free(b);
	return -EBADMSG;
}

/* Reads resolv_path's bytes and records them with the backend and device. */
static int backup_write(const char *dir, enum dns_config_backend backend, const char *ifname, const char *resolv_path,
			char *err, size_t errlen)
{
	uint8_t *orig = NULL;
	size_t olen = 0;
	int rc = nym_file_read(resolv_path, DNS_CONFIG_RESOLV_MAX, &orig, &olen);
	bool absent = rc == -ENOENT;
	if (rc && !absent) {
		say(err, errlen, "cannot read %s: %s", resolv_path, strerror(-rc));
		return rc;
	}
	char head[256];
	int hl = absent ? snprintf(head, sizeof(head), BACKUP_MAGIC "backend %s\nifname %s\nresolv absent\n",
				   dns_config_backend_name(backend), ifname)
			: snprintf(head, sizeof(head), BACKUP_MAGIC "backend %s\nifname %s\nresolv %zu\n",
				   dns_config_backend_name(backend), ifname, olen);
	uint8_t *buf = malloc((size_t)hl + olen + 1);
	if (!buf) {
		free(orig);
		say(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(buf, head, (size_t)hl);
	if (olen)
		memcpy(buf + hl, orig, olen);
	free(orig);
	char p[PATH_MAX];
	rc = backup_path(dir, p, sizeof(p));
	if (rc == 0)
		rc = nym_file_write_atomic(p, buf, (size_t)hl + olen, 0600);
	free(buf);
	if (rc)
		say(err, errlen, "cannot write the DNS backup in %s: %s", dir, strerror(-rc));
	return rc;
}

static int backup_remove(const char *dir)
{
	char p[PATH_MAX];
	int rc = backup_path(dir, p, sizeof(p));
	if (rc)
		return rc;
	if (unlink(p) != 0 && errno != ENOENT)
		return -errno;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* ---- static-file ---- */

/* Writes bytes into path in place (the inode stays: bind mounts, symlinks followed). */
static int write_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = nym_file_write_all(fd, data, len);
	if (rc == 0 && fsync(fd) != 0 && errno != EINVAL)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int static_apply(const char *ifname, const struct server *sv, size_t n, const char *resolv_path, char *err,
			size_t errlen)
{
	char text[128 + DNS_CONFIG_SERVERS_MAX * (INET6_ADDRSTRLEN + 16)];
	size_t off = (size_t)snprintf(text, sizeof(text),
				      "# written by nym-vpnd for %s; the original comes back on disconnect\n", ifname);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "nameserver %s\n", sv[i].text);
	int rc = write_in_place(resolv_path, text, off);
	if (rc)
		say(err, errlen, "cannot write %s: %s", resolv_path, strerror(-rc));
	return rc;
}

static int static_revert(const struct backup *b, const char *resolv_path, char *err, size_t errlen)
{
	int rc;
	if (b->resolv_absent) {
		rc = unlink(resolv_path) == 0 || errno == ENOENT ? 0 : -errno;
	} else {
		rc = write_in_place(resolv_path, b->resolv, b->resolv_len);
	}
	if (rc)
		say(err, errlen, "cannot restore %s: %s", resolv_path, strerror(-rc));
	return rc;
}

/* ---- resolvconf ---- */

/* Runs resolvconf with args, stdin fed with input (may be NULL). Returns 0 or -errno. */
static int run_resolvconf(const char *const *args, const char *input, char *err, size_t errlen)
{
	char prog[PATH_MAX];
	const char *path = getenv("PATH");
	if (dns_config_which("resolvconf", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin", prog, sizeof(prog)) != 0) {
		say(err, errlen, "resolvconf is not on PATH");
		return -ENOENT;
	}
	/* A socket pair rather than a pipe: written with MSG_NOSIGNAL, a program that exits
	 * without reading costs an EPIPE, not a SIGPIPE to the daemon. */
	int pfd[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pfd) != 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	char *argv[8];
	size_t ac = 0;
	argv[ac++] = (char *)"resolvconf";
	for (size_t i = 0; args[i] && ac < 7; i++)
		argv[ac++] = (char *)args[i];
	argv[ac] = NULL;
	pid_t pid;
	int rc = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (rc != 0) {
		close(pfd[1]);
		say(err, errlen, "cannot run %s: %s", prog, strerror(rc));
		return -rc;
	}
	int wrc = 0;
	for (size_t off = 0, len = input ? strlen(input) : 0; off < len;) {
		ssize_t w = send(pfd[1], input + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			wrc = -errno;
			break;
		}
		off += (size_t)w;
	}
	close(pfd[1]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			say(err, errlen, "waitpid: %s", strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say(err, errlen, "resolvconf %s %s failed (status %d)", args[0], args[1] ? args[1] : "",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	if (wrc) {
		say(err, errlen, "cannot feed resolvconf: %s", strerror(-wrc));
		return wrc;
	}
	return 0;
}

static int resolvconf_apply(const char *ifname, const struct server *sv, size_t n, char *err, size_t errlen)
{
	char text[DNS_CONFIG_SERVERS_MAX * (INET6_ADDRSTRLEN + 16)];
	size_t off = 0;
	text[0] = 0;
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "nameserver %s\n", sv[i].text);
	const char *args[] = { "-a", ifname, NULL };
	return run_resolvconf(args, text, err, errlen);
}

static int resolvconf_revert(const char *ifname, char *err, size_t errlen)
{
	const char *args[] = { "-d", ifname, NULL };
	return run_resolvconf(args, NULL, err, errlen);
}

#ifndef NYM_NO_SYSTEMD
/* ---- systemd-resolved ---- */

static int bus_open(sd_bus **bus, char *err, size_t errlen)
{
	int r = sd_bus_open_system(bus);
	if (r < 0) {
		say(err, errlen, "cannot reach the system bus: %s", strerror(-r));
		return r;
	}
	sd_bus_set_method_call_timeout(*bus, BUS_TIMEOUT_US);
	return 0;
}

static int bus_fail(int r, sd_bus_error *e, const char *what, char *err, size_t errlen)
{
	say(err, errlen, "systemd-resolved %s: %s", what, e->message ? e->message : strerror(-r));
	sd_bus_error_free(e);
	return r < 0 ? r : -EIO;
}

static int resolved_apply(const char *ifname, const struct server *sv, size_t n, char *err, size_t errlen)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx) {
		say(err, errlen, "no device %s", ifname);
		return -ENODEV;
	}
	sd_bus *bus = NULL;
	int r = bus_open(&bus, err, errlen);
	if (r)
		return r;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, BUS_IFACE, "SetLinkDNS");
	if (r >= 0)
		r = sd_bus_message_append(m, "i", (int32_t)idx);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(iay)");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = sd_bus_message_open_container(m, 'r', "iay");
		if (r >= 0)
			r = sd_bus_message_append(m, "i", (int32_t)sv[i].family);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', sv[i].addr, sv[i].family == AF_INET ? 4 : 16);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		say(err, errlen, "cannot build SetLinkDNS: %s", strerror(-r));
		goto out;
	}
	r = sd_bus_call(bus, m, 0, &e, NULL);
	if (r < 0) {
		r = bus_fail(r, &e, "SetLinkDNS", err, errlen);
		goto out;
	}
	r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, BUS_IFACE, "SetLinkDomains", &e, NULL, "ia(sb)", (int32_t)idx,
			       1, "~.", 1);
	if (r < 0) {
		r = bus_fail(r, &e, "SetLinkDomains", err, errlen);
		goto out;
	}
	r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, BUS_IFACE, "SetLinkDefaultRoute", &e, NULL, "ib", (int32_t)idx,
			       1);
	if (r < 0) {
		r = bus_fail(r, &e, "SetLinkDefaultRoute", err, errlen);
		goto out;
	}
	r = 0;
out:
	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	return r;
}

static int resolved_revert(const char *ifname, char *err, size_t errlen)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return 0; /* the device is gone and resolved with it */
	sd_bus *bus = NULL;
	int r = bus_open(&bus, err, errlen);
	if (r)
		return r;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, BUS_IFACE, "RevertLink", &e, NULL, "i", (int32_t)idx);
	if (r < 0)
		r = bus_fail(r, &e, "RevertLink", err, errlen);
	else
		r = 0;
	sd_bus_flush_close_unref(bus);
	return r;
}

#else
static int resolved_apply(const char *ifname, const struct server *sv, size_t n, char *err, size_t errlen)
{
	(void)ifname;
	(void)sv;
	(void)n;
	say(err, errlen, "this nym-vpnd was built without systemd-resolved support (NYM_NO_SYSTEMD): use another dns.backend");
	return -ENOTSUP;
}

static int resolved_revert(const char *ifname, char *err, size_t errlen)
{
	(void)ifname;
	say(err, errlen, "this nym-vpnd was built without systemd-resolved support (NYM_NO_SYSTEMD)");
	return -ENOTSUP;
}
#endif

/* ---- public ---- */

static int revert_backup(const struct backup *b, const char *resolv_path, char *err, size_t errlen)
{
	switch (b->backend) {
	case DNS_CONFIG_STATIC_FILE:
		return static_revert(b, resolv_path, err, errlen);
	case DNS_CONFIG_RESOLVCONF:
		return resolvconf_revert(b->ifname, err, errlen);
	case DNS_CONFIG_RESOLVED:
		return resolved_revert(b->ifname, err, errlen);
	default:
		return -EBADMSG;
	}
}

int dns_config_revert(const char *backup_dir, const char *resolv_path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	struct backup b;
	int rc = backup_read(backup_dir, &b);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		say(err, errlen, "the DNS backup in %s is unreadable (%s); fix %s by hand and remove it", backup_dir,
		    strerror(-rc), resolv_path);
		return rc;
	}
	rc = revert_backup(&b, resolv_path, err, errlen);
	backup_free(&b);
	if (rc)
		return rc;
	rc = backup_remove(backup_dir);
	if (rc)
		say(err, errlen, "cannot remove the DNS backup in %s: %s", backup_dir, strerror(-rc));
	return rc;
}

int dns_config_apply(enum dns_config_backend b, const char *ifname, const char *const *servers, size_t n,
		     const char *backup_dir, const char *resolv_path, enum dns_config_backend *used, char *err,
		     size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	struct server sv[DNS_CONFIG_SERVERS_MAX];
	if (!ifname_ok(ifname)) {
		say(err, errlen, "bad device name");
		return -EINVAL;
	}
	if ((unsigned)b > DNS_CONFIG_STATIC_FILE || !backup_dir || !resolv_path) {
		say(err, errlen, "bad DNS backend or paths");
		return -EINVAL;
	}
	int rc = parse_servers(servers, n, sv, err, errlen);
	if (rc)
		return rc;
	if (b == DNS_CONFIG_AUTO)
		b = detect(resolv_path);
	if (used)
		*used = b;

	/* A backup of an earlier apply (this process or a crashed one): kept when it is of the
	 * same backend and device (it holds the original), reverted first otherwise. */
	struct backup old;
	rc = backup_read(backup_dir, &old);
	if (rc == 0) {
		bool same = old.backend == b && strcmp(old.ifname, ifname) == 0;
		if (!same) {
			rc = revert_backup(&old, resolv_path, err, errlen);
			if (rc == 0)
				rc = backup_remove(backup_dir);
		}
		backup_free(&old);
		if (rc)
			return rc;
		if (same)
			goto change;
	} else if (rc != -ENOENT) {
		say(err, errlen, "the DNS backup in %s is unreadable (%s); remove it after checking %s", backup_dir,
		    strerror(-rc), resolv_path);
		return rc;
	}
	rc = backup_write(backup_dir, b, ifname, resolv_path, err, errlen);
	if (rc)
		return rc;
change:
	switch (b) {
	case DNS_CONFIG_STATIC_FILE:
		rc = static_apply(ifname, sv, n, resolv_path, err, errlen);
		break;
	case DNS_CONFIG_RESOLVCONF:
		rc = resolvconf_apply(ifname, sv, n, err, errlen);
		break;
	case DNS_CONFIG_RESOLVED:
		rc = resolved_apply(ifname, sv, n, err, errlen);
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}
