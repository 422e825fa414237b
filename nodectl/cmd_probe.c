/* nym-node probe: parses, calls nodectl/probe, prints (text or one JSON object). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cmd_util.h"
#include "commands.h"
#include "cred/ticketbook.h"
#include "http/http_client.h"
#include "nodectl/node/node_config.h"
#include "nodectl/probe/probe.h"
#include "util/base58.h"
#include "util/cli.h"
#include "util/signals.h"

static int key_arg(const char *context, const char *option, const char *text, uint8_t out[32])
{
	if (nym_base58_decode_exact(out, 32, text) != 0) {
		fprintf(stderr, "%s: %s expects a base58 identity key, got '%s'\n", context, option, text);
		return -EINVAL;
	}
	return 0;
}

static void b58(const uint8_t key[32], char out[64])
{
	if (nym_base58_encode(out, 64, key, 32) < 0)
		out[0] = 0;
}

static json_t *ping_json(const struct probe_ping *p)
{
	json_t *rtts = json_array();
	for (unsigned i = 0; i < p->received; i++)
		json_array_append_new(rtts, json_real(p->rtt_ms[i]));
	json_t *o = json_pack("{s:b, s:s, s:i, s:i, s:o}", "ok", p->ok, "target", p->target, "sent", (int)p->sent,
			      "received", (int)p->received, "rtt_ms", rtts);
	if (!p->ok)
		json_object_set_new(o, "error", json_string(p->error));
	return o;
}

static json_t *result_json(const struct probe_result *r)
{
	char entry[64] = "", exit_[64] = "";
	if (r->have_gateways) {
		b58(r->entry, entry);
		b58(r->exit, exit_);
	}
	json_t *o = json_object();
	json_object_set_new(o, "entry", r->have_gateways ? json_string(entry) : json_null());
	json_object_set_new(o, "exit", r->have_gateways ? json_string(exit_) : json_null());
	json_object_set_new(o, "mode", json_string(r->backend[0] ? "two-hop" : "mixnet"));
	if (r->backend[0]) {
		json_object_set_new(o, "backend", json_string(r->backend));
		json_object_set_new(o, "entry_ipv4", json_string(r->entry_ipv4));
		json_object_set_new(o, "entry_ipv6", json_string(r->entry_ipv6));
	}
	json_object_set_new(o, "ipv4", r->connected ? json_string(r->ipv4) : json_null());
	json_object_set_new(o, "ipv6", r->connected ? json_string(r->ipv6) : json_null());
	if (r->ping.requested)
		json_object_set_new(o, "ping", ping_json(&r->ping));
	if (r->ping6.requested)
		json_object_set_new(o, "ping6", ping_json(&r->ping6));
	if (r->dns.requested) {
		json_t *answers = json_array();
		for (size_t i = 0; i < r->dns.count; i++)
			json_array_append_new(answers, json_string(r->dns.answers[i]));
		json_t *d = json_pack("{s:b, s:o}", "ok", r->dns.ok, "answers", answers);
		if (!r->dns.ok)
			json_object_set_new(d, "error", json_string(r->dns.error));
		json_object_set_new(o, "dns", d);
	}
	if (r->http.requested) {
		json_t *h = json_pack("{s:b, s:I, s:I, s:s, s:f}", "ok", r->http.ok, "status", (json_int_t)r->http.status,
				      "bytes", (json_int_t)r->http.bytes, "sha256", r->http.sha256, "seconds",
				      r->http.seconds);
		if (!r->http.ok)
			json_object_set_new(h, "error", json_string(r->http.error));
		json_object_set_new(o, "http", h);
	}
	if (r->error[0])
		json_object_set_new(o, "error", json_string(r->error));
	if (r->notice[0] && !strstr(r->error, r->notice))
		json_object_set_new(o, "notice", json_string(r->notice));
	const struct clientio_stats *s = &r->stats;
	json_t *st = json_object();
	json_object_set_new(st, "epoch", json_integer((json_int_t)s->epoch));
	json_object_set_new(st, "balance", json_integer((json_int_t)s->balance));
	json_object_set_new(st, "tickets_spent", json_integer((json_int_t)s->tickets_spent));
	json_object_set_new(st, "link_failures", json_integer((json_int_t)s->link_failures));
	json_object_set_new(st, "real_sent", json_integer((json_int_t)s->engine.real_sent));
	json_object_set_new(st, "unacked_sent", json_integer((json_int_t)s->engine.unacked_sent));
	json_object_set_new(st, "cover_sent", json_integer((json_int_t)s->engine.cover_sent));
	json_object_set_new(st, "loop_cover_sent", json_integer((json_int_t)s->engine.loop_cover_sent));
	json_object_set_new(st, "retransmitted", json_integer((json_int_t)s->engine.retransmitted));
	json_object_set_new(st, "acks_received", json_integer((json_int_t)s->engine.acks_received));
	json_object_set_new(st, "fragments_received", json_integer((json_int_t)s->engine.fragments_received));
	json_object_set_new(st, "replies_received", json_integer((json_int_t)s->engine.replies_received));
	json_object_set_new(st, "garbage_received", json_integer((json_int_t)s->engine.garbage_received));
	json_object_set_new(st, "surbs_sent", json_integer((json_int_t)s->ipr.surbs_sent));
	json_object_set_new(st, "surb_requests", json_integer((json_int_t)s->ipr.surb_requests));
	json_object_set_new(st, "unacked_requests", json_integer((json_int_t)s->ipr.unacked_requests));
	json_object_set_new(st, "surb_starvations", json_integer((json_int_t)s->ipr.starvations));
	json_object_set_new(st, "key_rotations", json_integer((json_int_t)s->ipr.keys_rotations));
	json_object_set_new(st, "ipr_packets_sent", json_integer((json_int_t)s->ipr.packets_sent));
	json_object_set_new(st, "ipr_packets_received", json_integer((json_int_t)s->ipr.packets_received));
	json_object_set_new(st, "frames_received", json_integer((json_int_t)s->frames_received));
	json_object_set_new(o, "stats", st);
	return o;
}

static void print_ping(const char *name, const struct probe_ping *p)
{
	printf("%-5s %s  %s: %u sent, %u received", name, p->ok ? "ok  " : "FAIL", p->target, p->sent, p->received);
	for (unsigned i = 0; i < p->received; i++)
		printf("%s%.1f", i ? " " : ", rtt ms ", p->rtt_ms[i]);
	if (!p->ok)
		printf(" (%s)", p->error);
	printf("\n");
}

static void print_text(const struct probe_result *r)
{
	char entry[64], exit_[64];
	if (r->have_gateways) {
		b58(r->entry, entry);
		b58(r->exit, exit_);
		printf("entry %s\nexit  %s\n", entry, exit_);
	}
	if (r->connected)
		printf("ipv4  %s\nipv6  %s\n", r->ipv4, r->ipv6);
	if (r->ping.requested)
		print_ping("ping", &r->ping);
	if (r->ping6.requested)
		print_ping("ping6", &r->ping6);
	if (r->dns.requested) {
		printf("dns   %s ", r->dns.ok ? "ok  " : "FAIL");
		for (size_t i = 0; i < r->dns.count; i++)
			printf("%s%s", i ? ", " : "", r->dns.answers[i]);
		if (!r->dns.ok)
			printf("(%s)", r->dns.error);
		printf("\n");
	}
	if (r->http.requested) {
		printf("http  %s status %ld, %" PRIu64 " bytes, sha256 %s, %.3f s", r->http.ok ? "ok  " : "FAIL",
		       r->http.status, r->http.bytes, r->http.sha256, r->http.seconds);
		if (!r->http.ok)
			printf(" (%s)", r->http.error);
		printf("\n");
	}
}

int cmd_probe(const char *context, int argc, char **argv)
{
	struct cli_list urls = { 0 }, keys = { 0 };
	uint64_t threshold = 0, ping_count = 3, timeout = 60, duration = 0, per_hop = UINT64_MAX, poisson = UINT64_MAX,
		 ipr_buffer = UINT64_MAX, table = PROBE_DEFAULT_TABLE, priority = PROBE_DEFAULT_RULE_PRIORITY;
	const char *entry = NULL, *exit_ = NULL, *ticketbook = NULL, *ping = NULL, *ping6 = NULL, *dns_server = NULL,
		   *dns_name = NULL, *http_url = NULL, *tun = PROBE_DEFAULT_TUN, *keys_dir = NULL, *ticket_dir = NULL,
		   *tun_entry = "nymprobe-entry";
	bool as_json = false, no_cover = false, two_hop = false;
	struct cli_option opts[] = {
		{ "authority", CLI_LIST, &urls, true, "URL   an authority (repeat for several)" },
		{ "authority-key", CLI_LIST, &keys, true, "B58   a trusted authority key (repeat; k of n must sign)" },
		{ "threshold", CLI_U64, &threshold, false, "K     signatures required (default: a majority of the keys)" },
		{ "entry-gateway", CLI_STRING, &entry, false, "ID    the entry gateway (default: one at random)" },
		{ "exit-gateway", CLI_STRING, &exit_, false, "ID    the exit gateway (default: one at random)" },
		{ "ticketbook", CLI_STRING, &ticketbook, false, "FILE  mixnet-entry tickets (spent ones are marked in it; mixnet mode)" },
		{ "two-hop", CLI_FLAG, &two_hop, false, "      through two nested WireGuard tunnels instead of the mixnet" },
		{ "ticket-dir", CLI_STRING, &ticket_dir, false, "DIR   --two-hop: ticketbooks with wg-entry and wg-exit tickets" },
		{ "tun-entry", CLI_STRING, &tun_entry, false, "NAME  --two-hop: the entry (outer) device (default nymprobe-entry)" },
		{ "ping", CLI_STRING, &ping, false, "ADDR  ICMP echo to this IPv4 or IPv6 address" },
		{ "ping6", CLI_STRING, &ping6, false, "ADDR  a second ICMP echo target (IPv6)" },
		{ "ping-count", CLI_U64, &ping_count, false, "N     echo requests per target (default 3, at most 32)" },
		{ "dns-server", CLI_STRING, &dns_server, false, "ADDR  DNS server to query through the tunnel" },
		{ "dns-name", CLI_STRING, &dns_name, false, "NAME  name to resolve (A and AAAA)" },
		{ "http-url", CLI_STRING, &http_url, false, "URL   GET this through the tunnel" },
		{ "json", CLI_FLAG, &as_json, false, "      print one JSON object" },
		{ "tun", CLI_STRING, &tun, false, "NAME  the probe's TUN device (default nymprobe0)" },
		{ "table", CLI_U64, &table, false, "N     routing table for the TUN's sockets (default 28272)" },
		{ "rule-priority", CLI_U64, &priority, false, "N     priority of the 'oif TUN lookup TABLE' rules (1000)" },
		{ "keys-dir", CLI_STRING, &keys_dir, false, "DIR   the client's keys (created if empty; default: fresh keys)" },
		{ "per-hop-delay-ms", CLI_U64, &per_hop, false, "MS    mean Sphinx delay per hop (default 15)" },
		{ "poisson-ms", CLI_U64, &poisson, false, "MS    mean wait of the sending stream (default 20; 0 lifts the rate)" },
		{ "no-cover", CLI_FLAG, &no_cover, false, "      no cover traffic (real packets leave at once)" },
		{ "ipr-buffer-ms", CLI_U64, &ipr_buffer, false,
		  "MS    bundle timeout asked of the exit's IPR (default: its own; 0 with --poisson-ms 0 or --no-cover)" },
		{ "timeout", CLI_U64, &timeout, false, "S     for the session to come up and for each check (default 60)" },
		{ "duration", CLI_U64, &duration, false,
		  "S     keep the tunnel up this long after the checks, for other programs (SIGINT ends it)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct probe_options o;
	probe_options_default(&o);
	uint8_t entry_id[32], exit_id[32];
	for (size_t i = 0; i < urls.count; i++)
		if (!node_config_url_ok(urls.items[i])) {
			fprintf(stderr, "%s: --authority expects http://HOST:PORT, got '%s'\n", context, urls.items[i]);
			return EXIT_FAIL;
		}
	for (size_t i = 0; i < keys.count; i++)
		if (nym_dir_client_trust_add(&o.trust, keys.items[i])) {
			fprintf(stderr, "%s: --authority-key expects a base58 Ed25519 key, got '%s'\n", context,
				keys.items[i]);
			return EXIT_FAIL;
		}
	if (threshold > o.trust.count) {
		fprintf(stderr, "%s: --threshold %" PRIu64 " but only %zu --authority-key given\n", context, threshold,
			o.trust.count);
		return EXIT_FAIL;
	}
	o.trust.threshold = threshold ? (size_t)threshold : o.trust.count / 2 + 1;
	if ((entry && key_arg(context, "--entry-gateway", entry, entry_id)) ||
	    (exit_ && key_arg(context, "--exit-gateway", exit_, exit_id)))
		return EXIT_FAIL;
	if ((dns_name && !dns_server) || (dns_server && !dns_name && !http_url)) {
		fprintf(stderr, "%s: --dns-name needs --dns-server (which alone only resolves --http-url's host)\n",
			context);
		return EXIT_FAIL;
	}
	if (ping_count < 1 || ping_count > PROBE_PING_MAX) {
		fprintf(stderr, "%s: --ping-count expects 1..%d\n", context, PROBE_PING_MAX);
		return EXIT_FAIL;
	}
	if (timeout < 1 || timeout > 3600 || table < 1 || table > 0xfffffffe || priority < 1 || priority > 32765) {
		fprintf(stderr, "%s: --timeout expects 1..3600, --table 1..4294967294, --rule-priority 1..32765\n",
			context);
		return EXIT_FAIL;
	}
	if (strlen(tun) < 1 || strlen(tun) >= IF_NAMESIZE) {
		fprintf(stderr, "%s: --tun expects a device name of 1..15 characters, got '%s'\n", context, tun);
		return EXIT_FAIL;
	}
	if (!ping && !ping6 && !dns_name && !http_url && !duration)
		fprintf(stderr, "%s: no check requested (--ping, --dns-name, --http-url): only the session is tried\n",
			context);
	o.authorities = (const char *const *)urls.items;
	o.authority_count = urls.count;
	o.entry = entry ? entry_id : NULL;
	o.exit = exit_ ? exit_id : NULL;
	o.ticketbook = ticketbook;
	o.keys_dir = keys_dir;
	o.ping = ping;
	o.ping6 = ping6;
	o.ping_count = (unsigned)ping_count;
	o.dns_server = dns_server;
	o.dns_name = dns_name;
	o.http_url = http_url;
	o.tun_name = tun;
	o.table = (uint32_t)table;
	o.rule_priority = (uint32_t)priority;
	o.per_hop_delay_ms = per_hop;
	o.poisson_ms = poisson;
	o.no_cover = no_cover;
	if (ipr_buffer != UINT64_MAX && ipr_buffer > 1000) {
		fprintf(stderr, "%s: --ipr-buffer-ms expects 0..1000\n", context);
		return EXIT_FAIL;
	}
	o.ipr_buffer_ms = ipr_buffer;
	o.timeout_s = timeout;
	o.duration_s = duration;
	if (two_hop) {
		if (!strcmp(tun, PROBE_DEFAULT_TUN))
			tun = "nymprobe-exit";
		if (!ticket_dir || strlen(tun_entry) < 1 || strlen(tun_entry) >= IF_NAMESIZE) {
			fprintf(stderr, "%s: --two-hop needs --ticket-dir DIR (and --tun-entry of 1..15 characters)\n",
				context);
			return EXIT_FAIL;
		}
		o.two_hop = true;
		o.ticket_dir = ticket_dir;
		o.tun_entry_name = tun_entry;
		o.tun_name = tun;
		if (nym_http_init() != 0) {
			fprintf(stderr, "%s: cannot initialise libcurl\n", context);
			return EXIT_FAIL;
		}
		struct probe_result r2;
		sigset_t stop;
		nym_signals_take(&stop, false);
		rc = probe_run_two_hop(&o, &r2);
		if (as_json)
			cmd_print_json(result_json(&r2));
		else
			print_text(&r2);
		if (r2.error[0])
			fprintf(stderr, "%s: %s\n", context, r2.error);
		return rc == 0 ? EXIT_OK : EXIT_FAIL;
	}
	if (!ticketbook) {
		fprintf(stderr, "%s: --ticketbook FILE is required (mixnet mode)\n", context);
		return EXIT_FAIL;
	}
	struct nym_ticketbook *book = NULL;
	rc = nym_ticketbook_load(&book, ticketbook);
	if (rc) {
		fprintf(stderr, "%s: cannot read the ticketbook %s: %s\n", context, ticketbook,
			rc == -ENOENT ? "no such file" : "not a ticketbook file");
		return EXIT_FAIL;
	}
	bool usable = book->state == NYM_TICKETBOOK_READY && book->type == NYM_TICKET_MIXNET_ENTRY;
	size_t unspent = usable ? nym_ticketbook_unspent(book) : 0;
	nym_ticketbook_free(book);
	if (!usable || !unspent) {
		fprintf(stderr, "%s: the ticketbook %s holds no unspent mixnet-entry ticket%s\n", context, ticketbook,
			usable ? " (all spent)" : " (wrong type, or not finalized)");
		return EXIT_FAIL;
	}
	if (nym_http_init() != 0) {
		fprintf(stderr, "%s: cannot initialise libcurl\n", context);
		return EXIT_FAIL;
	}

	struct probe_result r;
	rc = probe_run(&o, &r);
	if (as_json)
		cmd_print_json(result_json(&r));
	else
		print_text(&r);
	if (r.error[0])
		fprintf(stderr, "%s: %s\n", context, r.error);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
