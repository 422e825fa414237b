/* The connection to nym-vpnd's control socket, option parsing and error output shared by every
 * command. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vpnc/vpnc.h"

#define REPLY_TIMEOUT_MS 120000 /* credentials_obtain talks to an authority */

const char *vpnc_socket_path(void)
{
	if (vpnc_socket)
		return vpnc_socket;
	const char *env = getenv(VPN_CTL_SOCKET_ENV);
	return env && *env ? env : VPN_CTL_DEFAULT_SOCKET;
}

int vpnc_parse(const char *context, const struct vpnc_help *help, int argc, char **argv,
	       struct cli_option *opts, const char **positional, size_t max_positional,
	       size_t *npositional)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			char synopsis[160];
			snprintf(synopsis, sizeof(synopsis), "%s%s%s", context, help->synopsis ? " " : "",
				 help->synopsis ? help->synopsis : "");
			cli_usage(stdout, synopsis, opts);
			printf("\n%s", help->description);
			return VPNC_EXIT_OK;
		}
	}
	size_t dummy;
	int rc = cli_parse(context, argc, argv, opts, positional, max_positional,
			   npositional ? npositional : &dummy);
	if (rc < 0)
		return VPNC_EXIT_FAIL;
	if (rc > 0)
		return VPNC_EXIT_OK;
	return -1;
}

void vpnc_puts_safe(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f ? '?' : *s, f);
}

void vpnc_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
	fflush(stdout);
}

static int fail_text(const char *context, enum vpn_ctl_code code, const char *message)
{
	if (vpnc_json) {
		json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", vpn_ctl_code_name(code), "message",
				      message);
		if (o)
			vpnc_print_json(o);
		json_decref(o);
	} else {
		fprintf(stderr, "%s: ", context);
		vpnc_puts_safe(stderr, message);
		fputc('\n', stderr);
	}
	return VPNC_EXIT_FAIL;
}

int vpnc_fail(const char *context, enum vpn_ctl_code code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail_text(context, code, msg);
}

int vpnc_fail_reply(const char *context, const struct vpn_ctl_message *reply)
{
	/* the daemon's message says what to do (permission_denied: root or the socket group) */
	return fail_text(context, reply->error.code, reply->error.message);
}

int vpnc_open(struct vpnc_conn *c, const char *context)
{
	const char *path = vpnc_socket_path();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->next_id = 1;
	vpn_ctl_reader_init(&c->reader, VPN_CTL_REPLY_MAX);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vpnc_fail(context, VPN_CTL_UNAVAILABLE, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		vpnc_fail(context, VPN_CTL_INTERNAL, "socket: %s", strerror(e));
		return -e;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			vpnc_fail("nym-vpnc", VPN_CTL_UNAVAILABLE,
				  "the daemon is not running: start it with `systemctl start nym-vpnd`");
		else if (e == EACCES || e == EPERM)
			vpnc_fail("nym-vpnc", VPN_CTL_PERMISSION_DENIED,
				  "permission denied on %s: run as root or join the group nym-vpn", path);
		else
			vpnc_fail("nym-vpnc", VPN_CTL_UNAVAILABLE, "cannot connect to %s: %s", path,
				  strerror(e));
		return -e;
	}
	c->fd = fd;
	return 0;
}

void vpnc_close(struct vpnc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	vpn_ctl_reader_free(&c->reader);
}

int vpnc_send(struct vpnc_conn *c, const char *context, enum vpn_ctl_cmd cmd, const json_t *args,
	      long long *id)
{
	char *line;
	int rc = vpn_ctl_request_encode(c->next_id, cmd, args, &line);
	if (rc) {
		vpnc_fail(context, VPN_CTL_INVALID_ARGUMENT, "cannot encode the request: %s",
			  rc == -EMSGSIZE ? "longer than 64 KiB" : strerror(-rc));
		return rc;
	}
	*id = c->next_id++;
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t w = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			vpnc_fail(context, VPN_CTL_UNAVAILABLE, "the daemon closed the connection (%s)",
				  strerror(-rc));
			break;
		}
		off += (size_t)w;
	}
	explicit_bzero(line, len); /* a voucher may be in it */
	free(line);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vpnc_read(struct vpnc_conn *c, const char *context, struct vpn_ctl_message *m, int timeout_ms)
{
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	for (;;) {
		const char *line;
		size_t len;
		int rc = vpn_ctl_reader_next(&c->reader, &c->data, &c->n, &line, &len);
		if (rc == 1) {
			struct vpn_ctl_error err;
			if (vpn_ctl_message_decode(line, len, m, &err) != 0) {
				vpnc_fail(context, VPN_CTL_INTERNAL,
					  "the daemon sent something this nym-vpnc does not understand (%s): "
					  "are both from the same version?",
					  err.message);
				return -EPROTO;
			}
			return 0;
		}
		if (rc == -EMSGSIZE) {
			vpnc_fail(context, VPN_CTL_INTERNAL, "the daemon sent a line longer than %d bytes",
				  VPN_CTL_REPLY_MAX);
			return -EPROTO;
		}
		if (rc < 0) {
			vpnc_fail(context, VPN_CTL_INTERNAL, "%s", strerror(-rc));
			return rc;
		}
		int wait = -1;
		if (deadline >= 0) {
			long long left = deadline - now_ms();
			if (left <= 0)
				return -ETIMEDOUT; /* the caller says what it was waiting for */
			wait = (int)left;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int pr = poll(&p, 1, wait);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			int e = errno;
			vpnc_fail(context, VPN_CTL_INTERNAL, "poll: %s", strerror(e));
			return -e;
		}
		if (pr == 0)
			continue;
		ssize_t got = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			vpnc_fail(context, VPN_CTL_UNAVAILABLE,
				  "the daemon closed the connection%s%s: see `journalctl -u nym-vpnd`",
				  got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
			return -ECONNRESET;
		}
		c->data = c->buf;
		c->n = (size_t)got;
	}
}

int vpnc_call(struct vpnc_conn *c, const char *context, enum vpn_ctl_cmd cmd, const json_t *args,
	      struct vpn_ctl_message *reply)
{
	long long id;
	int rc = vpnc_send(c, context, cmd, args, &id);
	if (rc)
		return rc;
	for (;;) {
		rc = vpnc_read(c, context, reply, REPLY_TIMEOUT_MS);
		if (rc == -ETIMEDOUT)
			vpnc_fail(context, VPN_CTL_UNAVAILABLE,
				  "the daemon did not answer within %d s: see `journalctl -u nym-vpnd`",
				  REPLY_TIMEOUT_MS / 1000);
		if (rc)
			return rc;
		if (reply->kind == VPN_CTL_MSG_REPLY && (reply->id == id || reply->id == VPN_CTL_ID_NONE))
			return 0;
		vpn_ctl_message_clear(reply);
	}
}

int vpnc_request(const char *context, enum vpn_ctl_cmd cmd, const json_t *args,
		 struct vpn_ctl_message *reply)
{
	struct vpn_ctl_args parsed;
	struct vpn_ctl_error err;
	memset(reply, 0, sizeof(*reply));
	if (vpn_ctl_args_parse(cmd, args, &parsed, &err) != 0)
		return vpnc_fail(context, err.code, "%s", err.message);
	vpn_ctl_args_clear(&parsed);
	struct vpnc_conn c;
	if (vpnc_open(&c, context) != 0) {
		vpnc_close(&c);
		return VPNC_EXIT_FAIL;
	}
	int rc = vpnc_call(&c, context, cmd, args, reply);
	vpnc_close(&c);
	if (rc)
		return VPNC_EXIT_FAIL;
	if (!reply->ok) {
		vpnc_fail_reply(context, reply);
		vpn_ctl_message_clear(reply);
		return VPNC_EXIT_FAIL;
	}
	return 0;
}
