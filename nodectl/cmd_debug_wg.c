/* nym-node debug wg-run / wg-set / wg-show: a WireGuard device through lib/wg, for operators
 * and for the tests of both backends.
 *
 *   wg-run IF [--backend B] [--config FILE]   create IF, configure it, keep it until SIGTERM
 *                                              (one JSON line on stdout once it is up)
 *   wg-set IF --config FILE [--backend B]     configure an existing device
 *   wg-show IF [--backend B] [--secrets]      its status as JSON (keys in base64)
 *
 * The configuration is JSON: {"private_key": B64, "listen_port": N, "fwmark": N,
 * "replace_peers": BOOL, "peers": [{"public_key": B64, "preshared_key": B64, "endpoint":
 * "IP:PORT", "persistent_keepalive": N, "allowed_ips": ["CIDR", ...], "replace_allowed_ips":
 * BOOL, "remove": BOOL, "update_only": BOOL}]}. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/secret.h"
#include "net/net_addr.h"
#include "util/cli.h"
#include "util/signals.h"
#include "awg/awg.h"
#include "wg/wg_awg_relay.h"
#include "wg/wg_device.h"

struct wg_json_conf {
	struct wg_conf conf;
	struct wg_peer_conf *peers;
	struct wg_allowed_ip *aips;
};

static void wg_json_conf_free(struct wg_json_conf *j)
{
	if (j->peers)
		nym_memzero(j->peers, j->conf.n_peers * sizeof(*j->peers));
	free(j->peers);
	free(j->aips);
	wg_conf_clear(&j->conf);
}

static int wg_json_key(const char *ctx, json_t *o, const char *name, uint8_t key[WG_KEY_LEN], bool *present)
{
	json_t *v = json_object_get(o, name);
	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || wg_key_from_base64(key, json_string_value(v))) {
		fprintf(stderr, "%s: \"%s\" must be a base64 WireGuard key\n", ctx, name);
		return -EINVAL;
	}
	return 0;
}

static int wg_json_uint(const char *ctx, json_t *o, const char *name, json_int_t max, uint32_t *out, bool *present)
{
	json_t *v = json_object_get(o, name);
	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		fprintf(stderr, "%s: \"%s\" must be an integer 0..%lld\n", ctx, name, (long long)max);
		return -EINVAL;
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int wg_json_peer(const char *ctx, json_t *jp, struct wg_peer_conf *p, struct wg_allowed_ip **aip)
{
	bool have;
	uint32_t u;
	if (!json_is_object(jp) || wg_json_key(ctx, jp, "public_key", p->public_key, &have))
		return -EINVAL;
	if (!have) {
		fprintf(stderr, "%s: a peer without \"public_key\"\n", ctx);
		return -EINVAL;
	}
	if (wg_json_key(ctx, jp, "preshared_key", p->preshared_key, &have))
		return -EINVAL;
	if (have)
		p->flags |= WG_PEER_PRESHARED_KEY;
	if (wg_json_uint(ctx, jp, "persistent_keepalive", 65535, &u, &have))
		return -EINVAL;
	if (have) {
		p->flags |= WG_PEER_KEEPALIVE;
		p->keepalive = (uint16_t)u;
	}
	json_t *ep = json_object_get(jp, "endpoint");
	if (ep) {
		struct net_addr a;
		if (!json_is_string(ep) || net_addr_parse(&a, json_string_value(ep), -1)) {
			fprintf(stderr, "%s: \"endpoint\" must be IP:PORT or [IPv6]:PORT\n", ctx);
			return -EINVAL;
		}
		memcpy(&p->endpoint, &a.ss, a.len);
	}
	if (json_is_true(json_object_get(jp, "replace_allowed_ips")))
		p->flags |= WG_PEER_REPLACE_ALLOWED_IPS;
	if (json_is_true(json_object_get(jp, "remove")))
		p->flags |= WG_PEER_REMOVE;
	if (json_is_true(json_object_get(jp, "update_only")))
		p->flags |= WG_PEER_UPDATE_ONLY;
	json_t *ips = json_object_get(jp, "allowed_ips");
	p->allowed_ips = *aip;
	size_t i;
	json_t *v;
	json_array_foreach(ips, i, v) {
		const char *s = json_string_value(v);
		bool remove = s && s[0] == '-';
		if (!s || wg_allowed_ip_parse(*aip, s + remove)) {
			fprintf(stderr, "%s: bad allowed IP \"%s\"\n", ctx, s ? s : "?");
			return -EINVAL;
		}
		(*aip)->remove = remove;
		(*aip)++;
		p->n_allowed_ips++;
	}
	return 0;
}

static int wg_json_load(const char *ctx, const char *path, struct wg_json_conf *j)
{
	memset(j, 0, sizeof(*j));
	json_error_t err;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!root || !json_is_object(root)) {
		fprintf(stderr, "%s: %s:%d: %s\n", ctx, path, err.line, root ? "not an object" : err.text);
		json_decref(root);
		return -EINVAL;
	}
	int rc = -EINVAL;
	bool have;
	uint32_t u;
	struct wg_conf *c = &j->conf;
	if (wg_json_key(ctx, root, "private_key", c->private_key, &have))
		goto out;
	c->flags |= have ? WG_CONF_PRIVATE_KEY : 0;
	if (wg_json_uint(ctx, root, "listen_port", 65535, &u, &have))
		goto out;
	if (have) {
		c->flags |= WG_CONF_LISTEN_PORT;
		c->listen_port = (uint16_t)u;
	}
	if (wg_json_uint(ctx, root, "fwmark", UINT32_MAX, &c->fwmark, &have))
		goto out;
	c->flags |= have ? WG_CONF_FWMARK : 0;
	if (json_is_true(json_object_get(root, "replace_peers")))
		c->flags |= WG_CONF_REPLACE_PEERS;
	json_t *peers = json_object_get(root, "peers");
	size_t n = json_array_size(peers), naip = 0, i;
	json_t *p;
	json_array_foreach(peers, i, p) naip += json_array_size(json_object_get(p, "allowed_ips"));
	j->peers = calloc(n ? n : 1, sizeof(*j->peers));
	j->aips = calloc(naip ? naip : 1, sizeof(*j->aips));
	if (!j->peers || !j->aips) {
		rc = -ENOMEM;
		goto out;
	}
	struct wg_allowed_ip *aip = j->aips;
	json_array_foreach(peers, i, p) {
		if (wg_json_peer(ctx, p, &j->peers[i], &aip))
			goto out;
		c->n_peers++;
	}
	c->peers = j->peers;
	rc = 0;
out:
	json_decref(root);
	if (rc)
		wg_json_conf_free(j);
	return rc;
}

static json_t *wg_json_b64(const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN];
	wg_key_to_base64(b64, key);
	json_t *s = json_string(b64);
	nym_memzero(b64, sizeof(b64));
	return s;
}

static json_t *wg_json_status(const struct wg_device *d, const struct wg_status *st, bool secrets)
{
	json_t *o = json_object();
	json_object_set_new(o, "ifname", json_string(wg_device_ifname(d)));
	json_object_set_new(o, "backend", json_string(wg_backend_name(wg_device_backend(d))));
	if (st->has_public_key)
		json_object_set_new(o, "public_key", wg_json_b64(st->public_key));
	if (secrets && st->has_private_key)
		json_object_set_new(o, "private_key", wg_json_b64(st->private_key));
	json_object_set_new(o, "listen_port", json_integer(st->listen_port));
	json_object_set_new(o, "fwmark", json_integer(st->fwmark));
	json_t *peers = json_array();
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct wg_peer_status *p = &st->peers[i];
		json_t *jp = json_object();
		json_object_set_new(jp, "public_key", wg_json_b64(p->public_key));
		if (secrets && p->has_preshared_key)
			json_object_set_new(jp, "preshared_key", wg_json_b64(p->preshared_key));
		if (p->endpoint.sa.sa_family) {
			char ep[NET_ADDR_STR_LEN];
			net_addr_format(&p->endpoint.sa, ep);
			json_object_set_new(jp, "endpoint", json_string(ep));
		}
		json_object_set_new(jp, "persistent_keepalive", json_integer(p->keepalive));
		json_object_set_new(jp, "last_handshake_sec", json_integer(p->last_handshake_sec));
		json_object_set_new(jp, "last_handshake_nsec", json_integer(p->last_handshake_nsec));
		json_object_set_new(jp, "rx_bytes", json_integer((json_int_t)p->rx_bytes));
		json_object_set_new(jp, "tx_bytes", json_integer((json_int_t)p->tx_bytes));
		json_t *ips = json_array();
		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			char t[WG_ALLOWED_IP_STR_LEN];
			wg_allowed_ip_format(t, &p->allowed_ips[k]);
			json_array_append_new(ips, json_string(t));
		}
		json_object_set_new(jp, "allowed_ips", ips);
		json_array_append_new(peers, jp);
	}
	json_object_set_new(o, "peers", peers);
	return o;
}

static int wg_backend_arg(const char *ctx, const char *s, enum wg_backend *b)
{
	*b = WG_BACKEND_AUTO;
	if (s && wg_backend_parse(s, b)) {
		fprintf(stderr, "%s: --backend must be auto, kernel or userspace\n", ctx);
		return -EINVAL;
	}
	return 0;
}

int cmd_debug_wg_run(const char *context, int argc, char **argv)
{
	const char *backend = NULL, *config = NULL, *pos[1];
	size_t npos = 0;
	struct cli_option opts[] = {
		{ "backend", CLI_STRING, &backend, false, "B  auto (default), kernel or userspace" },
		{ "config", CLI_STRING, &config, false, "FILE  the device configuration (JSON)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	enum wg_backend b;
	struct wg_json_conf j = { 0 };
	if (npos != 1) {
		fprintf(stderr, "%s: the interface name is missing\n", context);
		return EXIT_FAIL;
	}
	if (wg_backend_arg(context, backend, &b) || (config && wg_json_load(context, config, &j)))
		return EXIT_FAIL;
	sigset_t set;
	nym_signals_take(&set, false);
	struct wg_device *d;
	rc = wg_device_create(pos[0], b, NULL, &d);
	if (rc) {
		fprintf(stderr, "%s: cannot create %s: %s\n", context, pos[0],
			rc == -ECHILD	     ? "wireguard-go ended before its socket answered"
			: rc == -EOPNOTSUPP ? "no WireGuard in this kernel"
					     : strerror(-rc));
		wg_json_conf_free(&j);
		return EXIT_FAIL;
	}
	if (config && (rc = wg_device_set(d, &j.conf))) {
		fprintf(stderr, "%s: cannot configure %s: %s\n", context, pos[0], strerror(-rc));
		wg_json_conf_free(&j);
		wg_device_destroy(d);
		return EXIT_FAIL;
	}
	wg_json_conf_free(&j);
	json_t *out = json_pack("{s:s, s:s}", "ifname", pos[0], "backend", wg_backend_name(wg_device_backend(d)));
	cmd_print_json(out);
	fflush(stdout);
	int status = EXIT_OK;
	for (;;) {
		/* Woken at once when wireguard-go ends (its pidfd), else every 200 ms. */
		struct pollfd pfd = { .fd = wg_device_watch_fd(d), .events = POLLIN };
		if (pfd.fd >= 0)
			poll(&pfd, 1, 200);
		struct timespec t = { 0, pfd.fd >= 0 ? 0 : 200 * 1000 * 1000 };
		int sig = sigtimedwait(&set, NULL, &t);
		if (sig > 0)
			break;
		if ((rc = wg_device_alive(d))) {
			fprintf(stderr, "%s: %s is gone: %s\n", context, pos[0],
				rc == -ECHILD ? "wireguard-go ended" : strerror(-rc));
			status = EXIT_FAIL;
			break;
		}
	}
	wg_device_destroy(d);
	return status;
}

int cmd_debug_wg_set(const char *context, int argc, char **argv)
{
	const char *backend = NULL, *config = NULL, *pos[1];
	size_t npos = 0;
	struct cli_option opts[] = {
		{ "backend", CLI_STRING, &backend, false, "B  auto (default), kernel or userspace" },
		{ "config", CLI_STRING, &config, true, "FILE  the device configuration (JSON)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	enum wg_backend b;
	struct wg_json_conf j;
	if (npos != 1) {
		fprintf(stderr, "%s: the interface name is missing\n", context);
		return EXIT_FAIL;
	}
	if (wg_backend_arg(context, backend, &b) || wg_json_load(context, config, &j))
		return EXIT_FAIL;
	struct wg_device *d;
	rc = wg_device_open(pos[0], b, NULL, &d);
	if (rc == 0) {
		rc = wg_device_set(d, &j.conf);
		wg_device_close(d);
	}
	wg_json_conf_free(&j);
	if (rc) {
		fprintf(stderr, "%s: cannot configure %s: %s\n", context, pos[0], strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_debug_wg_show(const char *context, int argc, char **argv)
{
	const char *backend = NULL, *pos[1];
	bool secrets = false;
	size_t npos = 0;
	struct cli_option opts[] = {
		{ "backend", CLI_STRING, &backend, false, "B  auto (default), kernel or userspace" },
		{ "secrets", CLI_FLAG, &secrets, false, "also print the private and preshared keys" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	enum wg_backend b;
	if (npos != 1) {
		fprintf(stderr, "%s: the interface name is missing\n", context);
		return EXIT_FAIL;
	}
	if (wg_backend_arg(context, backend, &b))
		return EXIT_FAIL;
	struct wg_device *d;
	struct wg_status st = { 0 };
	rc = wg_device_open(pos[0], b, NULL, &d);
	if (rc == 0) {
		rc = wg_device_get(d, &st);
		if (rc)
			wg_device_close(d);
	}
	if (rc) {
		fprintf(stderr, "%s: cannot read %s: %s\n", context, pos[0],
			rc == -ENODEV ? "no such WireGuard device" : strerror(-rc));
		return EXIT_FAIL;
	}
	json_t *out = wg_json_status(d, &st, secrets);
	wg_status_free(&st);
	wg_device_close(d);
	return cmd_print_json(out);
}

static int addr_arg(const char *context, const char *what, const char *text, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!text)
		return 0;
	if (net_addr_parse(out, text, -1) != 0) {
		fprintf(stderr, "%s: --%s: not an address with a port: %s\n", context, what, text);
		return -1;
	}
	return 0;
}

int cmd_debug_awg_relay(const char *context, int argc, char **argv)
{
	const char *params = NULL, *wg_bind = "127.0.0.1:0", *wg_peer = NULL, *net_bind = NULL, *net_peer = NULL;
	uint64_t mark = 0;
	struct cli_option opts[] = {
		{ "params", CLI_STRING, &params, true, "P  off, base, random or jc=..,jmin=..,...,h4=.." },
		{ "wg-bind", CLI_STRING, &wg_bind, false, "ADDR  where wireguard-go sends (default 127.0.0.1:0)" },
		{ "wg-peer", CLI_STRING, &wg_peer, false, "ADDR  wireguard-go's own address (default: learned)" },
		{ "net-bind", CLI_STRING, &net_bind, false, "ADDR  the network side's address (default: any)" },
		{ "net-peer", CLI_STRING, &net_peer, false, "ADDR  the remote (default: learned from AWG datagrams)" },
		{ "fwmark", CLI_U64, &mark, false, "N  SO_MARK of the network side's socket" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct wg_awg_relay_config c;
	memset(&c, 0, sizeof(c));
	const char *why = NULL;
	if (awg_params_from_spec(params, &c.params, &why) != 0) {
		fprintf(stderr, "%s: --params: %s\n", context, why);
		return EXIT_FAIL;
	}
	if (mark > UINT32_MAX) {
		fprintf(stderr, "%s: --fwmark: at most 32 bits\n", context);
		return EXIT_FAIL;
	}
	c.fwmark = (uint32_t)mark;
	if (addr_arg(context, "wg-bind", wg_bind, &c.wg_bind) || addr_arg(context, "wg-peer", wg_peer, &c.wg_peer) ||
	    addr_arg(context, "net-bind", net_bind, &c.net_bind) || addr_arg(context, "net-peer", net_peer, &c.net_peer))
		return EXIT_FAIL;
	if (!net_bind && !net_peer) {
		fprintf(stderr, "%s: give --net-peer (initiator) or --net-bind (responder)\n", context);
		return EXIT_FAIL;
	}
	sigset_t set;
	nym_signals_take(&set, false);
	struct wg_awg_relay *r;
	if ((rc = wg_awg_relay_start(&c, &r)) != 0) {
		fprintf(stderr, "%s: cannot start the relay: %s\n", context, strerror(-rc));
		return EXIT_FAIL;
	}
	struct net_addr a, b;
	char wa[NET_ADDR_STR_LEN], na[NET_ADDR_STR_LEN], text[AWG_PARAMS_TEXT_MAX];
	wg_awg_relay_wg_addr(r, &a);
	wg_awg_relay_net_addr(r, &b);
	net_addr_format((const struct sockaddr *)&a.ss, wa);
	net_addr_format((const struct sockaddr *)&b.ss, na);
	awg_params_format(&c.params, text, sizeof(text));
	cmd_print_json(json_pack("{s:s, s:s, s:s}", "wg", wa, "net", na, "params", text));
	fflush(stdout);
	while (sigwaitinfo(&set, NULL) < 0)
		;
	struct wg_awg_relay_stats st;
	wg_awg_relay_stats(r, &st);
	wg_awg_relay_stop(r);
	cmd_print_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "to_net", (json_int_t)st.to_net, "from_net",
				 (json_int_t)st.from_net, "junk", (json_int_t)st.junk, "initiations",
				 (json_int_t)st.initiations, "responses", (json_int_t)st.responses, "dropped_net",
				 (json_int_t)st.dropped_net, "dropped_wg", (json_int_t)st.dropped_wg));
	return EXIT_OK;
}
