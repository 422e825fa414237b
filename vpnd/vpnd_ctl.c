/* The control socket (C5): a Unix stream socket, one JSON request per line, one reply line
 * each, in order; connections that sent "listen" also get event lines. Who may change
 * things is decided per connection from SO_PEERCRED: root, or a member (primary or
 * supplementary group) of the socket's group. A client that stops reading is dropped once
 * VPND_CTL_OUT_MAX bytes wait for it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"
#include "vpnd/vpnd.h"

#define VPND_CTL_CLIENTS_MAX 64
#define VPND_CTL_OUT_MAX (16u << 20)

struct vpnd_client {
	int fd;
	struct vpnd_ctl_peer peer;
	struct vpn_ctl_reader reader;
	char *out;
	size_t out_len, out_cap;
	bool listening;
	bool dead; /* to be dropped by the next dispatch */
	/* A request is answered later (a job): the replies stay in order, so the connection's
	 * next requests wait, unread or in backlog, until that reply is sent. */
	bool pending;
	char *backlog;
	size_t backlog_len;
};

struct vpnd_ctl {
	int fd;
	char path[108];
	vpnd_ctl_handler handler;
	void *ctx;
	bool have_group;
	gid_t group;
	struct vpnd_client *clients[VPND_CTL_CLIENTS_MAX];
	size_t n;
	uint64_t next_serial;
};

bool vpnd_ctl_peer_privileged(pid_t pid, uid_t uid, gid_t gid, bool have_group, gid_t group)
{
	if (uid == 0)
		return true;
	if (!have_group)
		return false;
	if (gid == group)
		return true;
	/* Supplementary groups of the peer process, as the kernel has them. */
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		char *save, *tok;
		for (tok = strtok_r(line + 7, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
			if ((gid_t)strtoul(tok, NULL, 10) == group)
				found = true;
		break;
	}
	fclose(f);
	return found;
}

int vpnd_ctl_open(const char *path, mode_t mode, const char *group, vpnd_ctl_handler h, void *ctx,
		  struct vpnd_ctl **out, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A socket file nobody answers on is a leftover of a crash: remove it. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "another nym-vpnd is running on %s", path);
			return -EADDRINUSE;
		}
		close(probe);
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path);
	}
	struct vpnd_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->handler = h;
	c->ctx = ctx;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		goto fail;
	/* Created with no access for others, then opened up to the configured mode. */
	mode_t old = umask(0177);
	int b = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (b != 0 || listen(c->fd, 16) != 0)
		goto fail;
	if (group && *group) {
		struct group *g = getgrnam(group);
		if (g) {
			c->have_group = true;
			c->group = g->gr_gid;
			if (chown(path, (uid_t)-1, g->gr_gid) != 0)
				log_warn("cannot give %s to group %s: %s", path, group, strerror(errno));
		} else {
			log_info("no group %s: only root may change settings through %s", group, path);
		}
	}
	if (chmod(path, mode) != 0)
		goto fail;
	*out = c;
	return 0;
fail:;
	int e = errno;
	snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return -e;
}

static void client_free(struct vpnd_client *cl)
{
	close(cl->fd);
	if (cl->backlog)
		explicit_bzero(cl->backlog, cl->backlog_len); /* may hold vouchers */
	free(cl->backlog);
	vpn_ctl_reader_free(&cl->reader);
	free(cl->out);
	free(cl);
}

void vpnd_ctl_close(struct vpnd_ctl *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		client_free(c->clients[i]);
	close(c->fd);
	unlink(c->path);
	free(c);
}

size_t vpnd_ctl_pollfds(struct vpnd_ctl *c, struct pollfd *fds, size_t cap)
{
	size_t n = 0;
	if (n < cap)
		fds[n++] = (struct pollfd){ .fd = c->fd, .events = c->n < VPND_CTL_CLIENTS_MAX ? POLLIN : 0 };
	for (size_t i = 0; i < c->n && n < cap; i++) {
		struct vpnd_client *cl = c->clients[i];
		fds[n++] = (struct pollfd){ .fd = cl->fd,
					    .events = (short)((cl->pending ? 0 : POLLIN) | (cl->out_len ? POLLOUT : 0)) };
	}
	return n;
}

/* Writes what it can; returns -1 when the client is gone. */
static int flush(struct vpnd_client *cl)
{
	while (cl->out_len) {
		ssize_t w = send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		memmove(cl->out, cl->out + w, cl->out_len - (size_t)w);
		cl->out_len -= (size_t)w;
	}
	return 0;
}

static int enqueue(struct vpnd_client *cl, const char *line)
{
	size_t n = strlen(line);
	if (cl->out_len + n > VPND_CTL_OUT_MAX)
		return -1; /* a peer that does not read */
	if (cl->out_len + n > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		while (cap < cl->out_len + n)
			cap *= 2;
		char *p = realloc(cl->out, cap);
		if (!p)
			return -1;
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, line, n);
	cl->out_len += n;
	return flush(cl);
}

static int send_error(struct vpnd_client *cl, long long id, enum vpn_ctl_code code, const char *msg)
{
	struct vpn_ctl_error e = { .code = code };
	snprintf(e.message, sizeof(e.message), "%s", msg);
	char *line = NULL;
	if (vpn_ctl_reply_error(id, &e, &line) != 0)
		return -1;
	int rc = enqueue(cl, line);
	free(line);
	return rc;
}

static int handle_line(struct vpnd_ctl *c, struct vpnd_client *cl, const char *text, size_t len)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error e;
	memset(&req, 0, sizeof(req));
	memset(&e, 0, sizeof(e));
	char *line = NULL;
	int rc;
	if (vpn_ctl_request_decode(text, len, &req, &e) != 0) {
		rc = send_error(cl, req.id, e.code, e.message);
		vpn_ctl_request_clear(&req);
		return rc;
	}
	if (req.command->privileged && !cl->peer.privileged) {
		char msg[VPN_CTL_MESSAGE_MAX];
		snprintf(msg, sizeof(msg), "%s changes the VPN: run it as root or as a member of the daemon's socket group",
			 req.command->name);
		log_info("control: refused %s from uid %u (not privileged)", req.command->name, (unsigned)cl->peer.uid);
		rc = send_error(cl, req.id, VPN_CTL_PERMISSION_DENIED, msg);
		vpn_ctl_request_clear(&req);
		return rc;
	}
	json_t *result = NULL;
	bool listen = false;
	int h = c->handler(c->ctx, &cl->peer, &req, &result, &e, &listen);
	if (h == VPND_CTL_LATER) {
		cl->pending = true;
		vpn_ctl_request_clear(&req);
		return 0;
	}
	if (h == 0)
		rc = vpn_ctl_reply_ok(req.id, result, &line);
	else
		rc = vpn_ctl_reply_error(req.id, &e, &line);
	json_decref(result);
	if (rc == -EMSGSIZE) {
		rc = send_error(cl, req.id, VPN_CTL_INTERNAL, "the reply is too large");
	} else if (rc == 0) {
		rc = enqueue(cl, line);
		if (listen)
			cl->listening = true;
	}
	free(line);
	vpn_ctl_request_clear(&req);
	return rc;
}

/* Handles the lines in data; when a request goes pending, the bytes after it wait in the
 * backlog. Returns -1 when the client must be dropped. */
static int process_bytes(struct vpnd_ctl *c, struct vpnd_client *cl, const char *data, size_t n)
{
	while (n) {
		if (cl->pending) {
			char *b = realloc(cl->backlog, cl->backlog_len + n);
			if (!b)
				return -1;
			memcpy(b + cl->backlog_len, data, n);
			cl->backlog = b;
			cl->backlog_len += n;
			return 0;
		}
		const char *line;
		size_t len;
		int rc = vpn_ctl_reader_next(&cl->reader, &data, &n, &line, &len);
		if (rc == 0)
			break;
		if (rc == -EMSGSIZE) {
			if (send_error(cl, VPN_CTL_ID_NONE, VPN_CTL_BAD_REQUEST, "the request line is longer than 64 KiB"))
				return -1;
			continue;
		}
		if (rc < 0)
			return -1;
		if (handle_line(c, cl, line, len) != 0)
			return -1;
	}
	return 0;
}

/* Returns -1 when the client must be dropped. */
static int client_read(struct vpnd_ctl *c, struct vpnd_client *cl)
{
	char buf[16384];
	ssize_t r = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r == 0)
		return -1;
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	return process_bytes(c, cl, buf, (size_t)r);
}

static void accept_clients(struct vpnd_ctl *c)
{
	while (c->n < VPND_CTL_CLIENTS_MAX) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cr;
		socklen_t len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
			close(fd);
			continue;
		}
		struct vpnd_client *cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			return;
		}
		cl->fd = fd;
		cl->peer.client = ++c->next_serial;
		cl->peer.pid = cr.pid;
		cl->peer.uid = cr.uid;
		cl->peer.gid = cr.gid;
		cl->peer.privileged = vpnd_ctl_peer_privileged(cr.pid, cr.uid, cr.gid, c->have_group, c->group);
		vpn_ctl_reader_init(&cl->reader, VPN_CTL_REQUEST_MAX);
		c->clients[c->n++] = cl;
		log_debug("control: client pid %d uid %u%s", (int)cr.pid, (unsigned)cr.uid,
			  cl->peer.privileged ? " (privileged)" : "");
	}
}

static void drop(struct vpnd_ctl *c, size_t i)
{
	client_free(c->clients[i]);
	c->clients[i] = c->clients[--c->n];
	c->clients[c->n] = NULL;
}

void vpnd_ctl_dispatch(struct vpnd_ctl *c, const struct pollfd *fds, size_t n)
{
	/* Clients first (their entries follow the listener's, in order), then new ones. */
	struct vpnd_client *seen[VPND_CTL_CLIENTS_MAX];
	short rev[VPND_CTL_CLIENTS_MAX];
	size_t ns = 0;
	for (size_t i = 1; i < n && i - 1 < c->n; i++) {
		seen[ns] = c->clients[i - 1];
		rev[ns++] = fds[i].revents;
	}
	for (size_t k = 0; k < ns; k++) {
		size_t i;
		for (i = 0; i < c->n && c->clients[i] != seen[k]; i++)
			;
		if (i == c->n || seen[k]->dead)
			continue;
		struct vpnd_client *cl = seen[k];
		bool bad = false;
		if (rev[k] & POLLIN)
			bad = client_read(c, cl) != 0;
		else if (rev[k] & (POLLHUP | POLLERR))
			bad = true;
		if (!bad && (rev[k] & POLLOUT))
			bad = flush(cl) != 0;
		if (bad)
			cl->dead = true;
	}
	for (size_t i = 0; i < c->n;) {
		if (c->clients[i]->dead)
			drop(c, i);
		else
			i++;
	}
	if (n && (fds[0].revents & POLLIN))
		accept_clients(c);
}

void vpnd_ctl_reply(struct vpnd_ctl *c, uint64_t client, long long id, const json_t *result,
		    const struct vpn_ctl_error *err)
{
	for (size_t i = 0; i < c->n; i++) {
		struct vpnd_client *cl = c->clients[i];
		if (cl->peer.client != client || cl->dead)
			continue;
		char *line = NULL;
		int rc = err ? vpn_ctl_reply_error(id, err, &line) : vpn_ctl_reply_ok(id, result, &line);
		if (rc == -EMSGSIZE)
			rc = send_error(cl, id, VPN_CTL_INTERNAL, "the reply is too large");
		else if (rc == 0)
			rc = enqueue(cl, line);
		free(line);
		cl->pending = false;
		if (rc) {
			cl->dead = true;
			return;
		}
		/* The requests that waited behind it. */
		char *b = cl->backlog;
		size_t n = cl->backlog_len;
		cl->backlog = NULL;
		cl->backlog_len = 0;
		if (b && process_bytes(c, cl, b, n) != 0)
			cl->dead = true;
		if (b)
			explicit_bzero(b, n);
		free(b);
		return;
	}
}

void vpnd_ctl_broadcast(struct vpnd_ctl *c, const char *line)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->clients[i]->listening && !c->clients[i]->dead && enqueue(c->clients[i], line) != 0)
			c->clients[i]->dead = true;
}
