/* nym-vpnc: the command line of nym-vpnd. What its commands share: the global options, the
 * connection to the daemon's control socket (docs/PROTOCOLS.md, "Control socket (nym-vpnd)")
 * and the output in both forms (human, --json). */
#ifndef NYM_VPNC_VPNC_H
#define NYM_VPNC_VPNC_H

#include <jansson.h>
#include <stdbool.h>

#include "util/cli.h"
#include "vpn/vpn_ctl.h"

#define VPNC_EXIT_OK 0
#define VPNC_EXIT_FAIL 1

/* Global options: before the command words (taken out by main) or after them (in every
 * command's table through VPNC_GLOBAL_OPTIONS). */
extern const char *vpnc_socket; /* NULL: $NYM_VPND_SOCKET, else VPN_CTL_DEFAULT_SOCKET */
extern bool vpnc_json;

#define VPNC_GLOBAL_OPTIONS                                                                         \
	{ "socket", CLI_STRING, &vpnc_socket, false,                                                \
	  "PATH  the daemon's control socket (default $NYM_VPND_SOCKET or /run/nym-vpnd.sock)" },   \
	{                                                                                           \
		"json", CLI_FLAG, &vpnc_json, false, "print one JSON object instead of text"        \
	}

/* The socket path in use. */
const char *vpnc_socket_path(void);

/* A command's help: the words after the options in its synopsis ("IP...", NULL for none) and
 * a description (paragraphs, each line ending in "\n"). */
struct vpnc_help {
	const char *synopsis;
	const char *description;
};

/* Parses a command's options (its table ends with VPNC_GLOBAL_OPTIONS and { 0 }). Returns -1
 * to go on, else the exit status to return (0 after --help, 1 after a usage error). */
int vpnc_parse(const char *context, const struct vpnc_help *help, int argc, char **argv,
	       struct cli_option *opts, const char **positional, size_t max_positional,
	       size_t *npositional);

/* ---- connection ---- */

struct vpnc_conn {
	int fd;
	long long next_id;
	struct vpn_ctl_reader reader;
	char buf[16384];
	const char *data; /* unread bytes in buf */
	size_t n;
};

/* Connects to the socket. On failure prints what to do (daemon not running, permission
 * denied, ...) in the current output form and returns -errno. */
int vpnc_open(struct vpnc_conn *c, const char *context);
void vpnc_close(struct vpnc_conn *c);

/* Sends a request (args borrowed, may be NULL); *id is its id. 0 or -errno (printed). */
int vpnc_send(struct vpnc_conn *c, const char *context, enum vpn_ctl_cmd cmd, const json_t *args,
	      long long *id);
/* The next message (reply or event). timeout_ms < 0: none. 0, or -ETIMEDOUT (not printed),
 * -ECONNRESET (the daemon closed), -EPROTO (a line that does not parse), printed. */
int vpnc_read(struct vpnc_conn *c, const char *context, struct vpn_ctl_message *m, int timeout_ms);
/* Sends and waits for the reply to it (events in between are dropped). 0 with *reply (ok or
 * not: check reply->ok), or -errno (printed). */
int vpnc_call(struct vpnc_conn *c, const char *context, enum vpn_ctl_cmd cmd, const json_t *args,
	      struct vpn_ctl_message *reply);

/* The whole of a simple command: validate args locally (the same checks as the daemon's),
 * connect, call, and on an error reply print it. Returns 0 with *reply ok, or the exit status
 * (1) after printing. */
int vpnc_request(const char *context, enum vpn_ctl_cmd cmd, const json_t *args,
		 struct vpn_ctl_message *reply);

/* ---- output ---- */

/* An error in the current output form: --json prints {"error": {"code", "message"}} on stdout;
 * text prints "<context>: <message>" on stderr. Returns VPNC_EXIT_FAIL. */
int vpnc_fail(const char *context, enum vpn_ctl_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A daemon's error reply: its message. */
int vpnc_fail_reply(const char *context, const struct vpn_ctl_message *reply);
/* --json: prints v (compact, one line) on stdout. */
void vpnc_print_json(const json_t *v);

/* Text forms of results. */
void vpnc_print_state(const json_t *state);		/* status */
void vpnc_print_state_line(const json_t *state);	/* one line, for listen */
void vpnc_print_info(const json_t *info);
void vpnc_print_gateways(const json_t *points);	/* gateway get/set */
void vpnc_print_gateway_list(const json_t *result);
void vpnc_print_tunnel(const json_t *tunnel);
void vpnc_print_dns(const json_t *dns);
void vpnc_print_credentials(const json_t *result);	/* credentials list */
void vpnc_print_books(const json_t *result);		/* credentials obtain */
void vpnc_print_network(const json_t *result);
/* "2026-12-04 23:10:00 UTC" for unix seconds. */
void vpnc_format_time(long long unix_s, char out[48]);
/* A string member or "" (never NULL). */
const char *vpnc_str(const json_t *obj, const char *key);
/* Writes s to f with control characters shown as '?' (text from the daemon). */
void vpnc_puts_safe(FILE *f, const char *s);

/* ---- commands ---- */

int vpnc_cmd_info(const char *context, int argc, char **argv);
int vpnc_cmd_status(const char *context, int argc, char **argv);
int vpnc_cmd_connect(const char *context, int argc, char **argv);
int vpnc_cmd_disconnect(const char *context, int argc, char **argv);
int vpnc_cmd_reconnect(const char *context, int argc, char **argv);
int vpnc_cmd_gateway_get(const char *context, int argc, char **argv);
int vpnc_cmd_gateway_set(const char *context, int argc, char **argv);
int vpnc_cmd_gateway_list(const char *context, int argc, char **argv);
int vpnc_cmd_tunnel_get(const char *context, int argc, char **argv);
int vpnc_cmd_tunnel_set(const char *context, int argc, char **argv);
int vpnc_cmd_dns_get(const char *context, int argc, char **argv);
int vpnc_cmd_dns_set(const char *context, int argc, char **argv);
int vpnc_cmd_dns_clear(const char *context, int argc, char **argv);
int vpnc_cmd_lan_get(const char *context, int argc, char **argv);
int vpnc_cmd_lan_set(const char *context, int argc, char **argv);
int vpnc_cmd_credentials_obtain(const char *context, int argc, char **argv);
int vpnc_cmd_credentials_list(const char *context, int argc, char **argv);
int vpnc_cmd_network_get(const char *context, int argc, char **argv);
int vpnc_cmd_network_set(const char *context, int argc, char **argv);

#endif
