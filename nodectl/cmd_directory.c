/* The directory and credentials by hand, over HTTP against running authorities: vouchers for
 * an authority's operator, fetching and checking the signed topology, obtaining a ticketbook
 * with a voucher, and spending a ticket the way a gateway does (verify, record, report,
 * refresh the merged spent filter). JSON on stdout with --json; errors on stderr, exit 1. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client/client_route.h"
#include "cmd_util.h"
#include "commands.h"
#include "credstore/issuer.h"
#include "cred/issuer_keyset.h"
#include "credstore/ticket_store.h"
#include "cred/ticketbook.h"
#include "crypto/secret.h"
#include "dirclient/dir_client.h"
#include "gateway/gateway_outbox.h"
#include "gateway/gateway_tickets.h"
#include "http/http_client.h"
#include "net/net_addr.h"
#include "nodectl/debug/mix_send.h"
#include "nodectl/debug/ticket_spend.h"
#include "nodectl/gateway/gateway_authorities.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_keys.h"
#include "topology/canonical.h"
#include "util/base58.h"
#include "util/cli.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

#define TIMEOUT_MS 5000

static json_t *b58(const uint8_t *key)
{
	return nym_canonical_b58(key, 32);
}

static int trust_from(const char *context, const struct cli_list *keys, uint64_t threshold, struct nym_dir_client_trust *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < keys->count; i++)
		if (nym_dir_client_trust_add(t, keys->items[i])) {
			fprintf(stderr, "%s: --authority-key expects a base58 Ed25519 key, got '%s'\n", context,
				keys->items[i]);
			return -EINVAL;
		}
	if (threshold > t->count) {
		fprintf(stderr, "%s: --threshold %llu but only %zu --authority-key given\n", context,
			(unsigned long long)threshold, t->count);
		return -EINVAL;
	}
	t->threshold = threshold ? (size_t)threshold : t->count / 2 + 1;
	return 0;
}

static int check_urls(const char *context, const struct cli_list *urls)
{
	for (size_t i = 0; i < urls->count; i++)
		if (!node_config_url_ok(urls->items[i])) {
			fprintf(stderr, "%s: --authority expects http://HOST:PORT, got '%s'\n", context, urls->items[i]);
			return -EINVAL;
		}
	return 0;
}

/* --- authority voucher create --------------------------------------------------------- */

static int voucher_create(const char *context, int argc, char **argv)
{
	const char *id = NULL, *data_dir = NULL;
	uint64_t books = 0;
	bool as_json = false;
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &id, false, "ID    the authority node" },
		{ "data-dir", CLI_STRING, &data_dir, false, "DIR   its directory (instead of --id)" },
		{ "books", CLI_U64, &books, true, "N     vouchers to create, each good for one ticketbook (1..10000)" },
		{ "json", CLI_FLAG, &as_json, false, "      print {\"vouchers\": [...]}" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (books < 1 || books > NYM_VOUCHERS_PER_CALL_MAX) {
		fprintf(stderr, "%s: --books expects 1..%d, got %llu\n", context, NYM_VOUCHERS_PER_CALL_MAX,
			(unsigned long long)books);
		return EXIT_FAIL;
	}
	struct node_config cfg;
	char dir[NODE_DIR_MAX], path[NODE_PATH_MAX];
	if (node_config_open(context, id, data_dir, &cfg, dir, sizeof(dir)))
		return EXIT_FAIL;
	if (strcmp(cfg.mode, "authority") != 0) {
		fprintf(stderr, "%s: %s is not an authority (mode %s)\n", context, dir, cfg.mode);
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/data/issuer.db", dir);
	struct nym_issuer *iss = NULL;
	char(*codes)[NYM_VOUCHER_MAX + 1] = calloc(books, sizeof(*codes));
	int status = EXIT_FAIL;
	enum nym_log_level level = nym_log_get_level();
	nym_log_set_level(NYM_LOG_WARN);
	if (!codes)
		goto out;
	if ((rc = nym_issuer_open(&iss, path, NULL)) != 0) {
		fprintf(stderr, "%s: %s: cannot open the issuer database: %s\n", context, path, strerror(-rc));
		goto out;
	}
	if ((rc = nym_issuer_voucher_create(iss, books, nym_clock_unix_now(), codes)) != 0) {
		fprintf(stderr, "%s: %s: cannot create vouchers: %s\n", context, path, strerror(-rc));
		goto out;
	}
	if (as_json) {
		json_t *list = json_array();
		for (size_t i = 0; list && i < books; i++)
			json_array_append_new(list, json_string(codes[i]));
		status = cmd_print_json(list ? json_pack("{s:o}", "vouchers", list) : NULL);
	} else {
		for (size_t i = 0; i < books; i++)
			printf("%s\n", codes[i]);
		status = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
out:
	nym_log_set_level(level);
	if (codes)
		nym_memzero(codes, books * sizeof(*codes));
	free(codes);
	nym_issuer_close(iss);
	return status;
}

/* The command table has two words; the third ("create") is read here. */
int cmd_authority_voucher(const char *context, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "create") == 0) {
		char sub[128];
		snprintf(sub, sizeof(sub), "%s create", context);
		return voucher_create(sub, argc - 1, argv + 1);
	}
	if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		printf("usage: %s create --id ID --books N [--json]\n", context);
		return EXIT_OK;
	}
	fprintf(stderr, "%s: expected 'create', as in: %s create --id ID --books N\n", context, context);
	return EXIT_FAIL;
}

/* --- debug topology-fetch ------------------------------------------------------------- */

static json_t *node_summary(const struct nym_descriptor *d)
{
	char addr[80];
	json_t *roles = json_array();
	for (unsigned b = 1; b <= NYM_ROLE_WIREGUARD; b <<= 1)
		if (d->roles & b)
			json_array_append_new(roles, json_string(nym_descriptor_role_name(b)));
	nym_descriptor_mix_address(d, 0, addr, sizeof(addr));
	return json_pack("{s:o, s:s, s:o, s:s, s:I}", "identity", b58(d->identity), "mix_address", addr, "roles", roles,
			 "country", d->country, "published", (json_int_t)d->published);
}

int cmd_debug_topology_fetch(const char *context, int argc, char **argv)
{
	struct cli_list urls = { 0 }, keys = { 0 };
	uint64_t threshold = 0, epoch = 0;
	const char *gw_id = NULL, *gw_role = NULL, *gw_country = NULL;
	bool as_json = false;
	struct cli_option opts[] = {
		{ "authority", CLI_LIST, &urls, true, "URL   an authority; the newest accepted document wins" },
		{ "authority-key", CLI_LIST, &keys, false, "B58   a trusted authority key; without any, nothing is verified" },
		{ "threshold", CLI_U64, &threshold, false, "K     signatures required (default: a majority of the keys)" },
		{ "epoch", CLI_U64, &epoch, false, "E     that epoch's document instead of the current one" },
		{ "gateway-id", CLI_STRING, &gw_id, false, "B58   pick this gateway" },
		{ "gateway-role", CLI_STRING, &gw_role, false, "ROLE  pick a gateway at random with this role: entry, exit or wg" },
		{ "gateway-country", CLI_STRING, &gw_country, false, "CC    ... in this country" },
		{ "json", CLI_FLAG, &as_json, false, "      print one JSON object" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct nym_dir_client_trust trust;
	struct nym_epoch_doc_gateway_query q = { 0 };
	uint8_t want[32];
	bool pick = gw_id || gw_role || gw_country;
	if (check_urls(context, &urls) || trust_from(context, &keys, threshold, &trust))
		return EXIT_FAIL;
	if (gw_id && nym_base58_decode_exact(want, 32, gw_id)) {
		fprintf(stderr, "%s: --gateway-id expects a base58 identity key, got '%s'\n", context, gw_id);
		return EXIT_FAIL;
	}
	if (gw_role && (nym_descriptor_role_parse(gw_role, &q.roles) || q.roles == NYM_ROLE_MIXNODE)) {
		fprintf(stderr, "%s: --gateway-role expects entry, exit or wg, got '%s'\n", context, gw_role);
		return EXIT_FAIL;
	}
	if (gw_country) {
		if (strlen(gw_country) != 2 || gw_country[0] < 'A' || gw_country[0] > 'Z' || gw_country[1] < 'A' ||
		    gw_country[1] > 'Z') {
			fprintf(stderr, "%s: --gateway-country expects a two-letter code such as DE, got '%s'\n", context,
				gw_country);
			return EXIT_FAIL;
		}
		memcpy(q.country, gw_country, 3);
	}
	struct nym_dir_client_topology t;
	char err[NYM_DIR_ERR_MAX];
	if (trust.count)
		rc = nym_dir_client_fetch_topology((const char *const *)urls.items, urls.count, &trust, epoch, TIMEOUT_MS, &t, err,
					    sizeof(err));
	else
		rc = nym_dir_client_fetch_topology((const char *const *)urls.items, urls.count, NULL, epoch, TIMEOUT_MS, &t, err,
						   sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	const struct nym_descriptor_signed *picked = NULL;
	if (pick && nym_dir_client_pick_gateway(&t.doc, gw_id ? want : NULL, &q, &picked)) {
		fprintf(stderr, "%s: no gateway in epoch %" PRIu64 " matches%s%s%s%s\n", context, t.doc.epoch,
			gw_id ? " the identity" : "", gw_role ? " the role" : "", gw_country ? " in " : "",
			gw_country ? gw_country : "");
		nym_dir_client_topology_free(&t);
		return EXIT_FAIL;
	}
	char digest[65];
	nym_hex_encode(digest, t.digest, 32);
	int status;
	if (as_json) {
		json_t *layers = json_array(), *gateways = json_array(), *signers = json_array();
		for (int l = 0; l < NYM_LAYERS; l++) {
			json_t *layer = json_array();
			for (size_t i = 0; i < t.doc.layer_count[l]; i++)
				json_array_append_new(layer, node_summary(&t.doc.layers[l][i].d));
			json_array_append_new(layers, layer);
		}
		for (size_t i = 0; i < t.doc.gateway_count; i++)
			json_array_append_new(gateways, node_summary(&t.doc.gateways[i].d));
		for (size_t i = 0; i < t.sigs.count; i++)
			json_array_append_new(signers, b58(t.sigs.sigs[i].authority));
		json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:s, s:b, s:I, s:I, s:I, s:o, s:o, s:o}", "epoch",
				      (json_int_t)t.doc.epoch, "valid_from", (json_int_t)t.doc.valid_from, "valid_until",
				      (json_int_t)t.doc.valid_until, "digest", digest, "source", t.source, "verified",
				      trust.count > 0, "signatures", (json_int_t)(trust.count ? t.valid : t.sigs.count),
				      "required", (json_int_t)(trust.count ? trust.threshold : 0), "voters",
				      (json_int_t)t.doc.voter_count, "signers", signers, "layers", layers, "gateways",
				      gateways);
		if (o && picked)
			json_object_set_new(o, "picked", node_summary(&picked->d));
		status = cmd_print_json(o);
	} else {
		printf("epoch %" PRIu64 " (%" PRId64 "..%" PRId64 ") from %s\n", t.doc.epoch, t.doc.valid_from,
		       t.doc.valid_until, t.source);
		if (trust.count)
			printf("  %zu valid signatures of %zu trusted keys (%zu required)\n", t.valid, trust.count,
			       trust.threshold);
		else
			printf("  %zu signatures, NOT verified (no --authority-key)\n", t.sigs.count);
		printf("  digest %s\n  layers %zu/%zu/%zu, %zu gateways\n", digest, t.doc.layer_count[0],
		       t.doc.layer_count[1], t.doc.layer_count[2], t.doc.gateway_count);
		if (picked) {
			char id[64], addr[80];
			nym_base58_encode(id, sizeof(id), picked->d.identity, 32);
			nym_descriptor_mix_address(&picked->d, 0, addr, sizeof(addr));
			printf("  picked gateway %s at %s (%s)\n", id, addr, picked->d.country[0] ? picked->d.country : "--");
		}
		status = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	nym_dir_client_topology_free(&t);
	return status;
}

/* --- debug ticketbook-obtain ---------------------------------------------------------- */

int cmd_debug_ticketbook_obtain(const char *context, int argc, char **argv)
{
	const char *url = NULL, *voucher = NULL, *type_name = NULL, *out = NULL;
	struct cli_list keys = { 0 };
	uint64_t count = NYM_TICKETBOOK_SIZE;
	bool as_json = false;
	struct cli_option opts[] = {
		{ "authority", CLI_STRING, &url, true, "URL   the authority that made the voucher" },
		{ "voucher", CLI_STRING, &voucher, true, "CODE  a single-use voucher" },
		{ "type", CLI_STRING, &type_name, true, "T     mixnet-entry | wg-entry | wg-exit" },
		{ "out", CLI_STRING, &out, true, "FILE  the ticketbook to write (a pending one is retried)" },
		{ "authority-key", CLI_LIST, &keys, false, "B58   require the issuer key list signed by this key" },
		{ "count", CLI_U64, &count, false, "N     tickets (1..50, default 50)" },
		{ "json", CLI_FLAG, &as_json, false, "      print one JSON object" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	enum nym_ticket_type type;
	struct nym_dir_client_trust trust;
	struct cli_list one = { { url }, 1 };
	if (check_urls(context, &one) || trust_from(context, &keys, 0, &trust))
		return EXIT_FAIL;
	if (nym_ticket_type_parse(type_name, &type)) {
		fprintf(stderr, "%s: --type expects mixnet-entry, wg-entry or wg-exit, got '%s'\n", context, type_name);
		return EXIT_FAIL;
	}
	if (!nym_issue_voucher_valid(voucher)) {
		fprintf(stderr, "%s: --voucher expects 1..64 letters and digits\n", context);
		return EXIT_FAIL;
	}
	if (count < 1 || count > NYM_TICKETBOOK_SIZE) {
		fprintf(stderr, "%s: --count expects 1..%d\n", context, NYM_TICKETBOOK_SIZE);
		return EXIT_FAIL;
	}
	struct nym_ticketbook *book;
	char err[NYM_DIR_ERR_MAX];
	rc = nym_dir_client_obtain_ticketbook(url, trust.count ? &trust : NULL, voucher, type, (size_t)count, out, nym_clock_unix_now(),
				       TIMEOUT_MS * 2, &book, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	int status;
	if (as_json)
		status = cmd_print_json(json_pack("{s:s, s:s, s:I, s:I, s:i, s:b}", "book", out, "type",
						  nym_ticket_type_name(type), "expires", (json_int_t)book->expiry,
						  "tickets", (json_int_t)book->count, "bits",
						  (int)nym_blind_rsa_public_key_bits(book->key), "issuer_keys_verified",
						  trust.count > 0));
	else
		status = printf("%s: %zu %s tickets, expiring %" PRId64 "\n", out, book->count, nym_ticket_type_name(type),
				book->expiry) > 0 ? EXIT_OK : EXIT_FAIL;
	nym_ticketbook_free(book);
	return status;
}

/* --- debug ticket-spend --------------------------------------------------------------- */

static void print_warning(void *context, const char *line)
{
	fprintf(stderr, "%s: %s\n", (const char *)context, line);
}

int cmd_debug_ticket_spend(const char *context, int argc, char **argv)
{
	const char *id = NULL, *data_dir = NULL, *store_path = NULL, *book_path = NULL, *report_out = NULL;
	const char *retry_text = "0";
	struct cli_list urls = { 0 }, keys = { 0 };
	uint64_t index = 0, retry_ns = 0;
	bool as_json = false, no_refresh = false, no_report = false;
	struct cli_option opts[] = {
		{ "id", CLI_STRING, &id, false, "ID    the gateway node whose identity signs the reports" },
		{ "data-dir", CLI_STRING, &data_dir, false, "DIR   its directory (instead of --id)" },
		{ "store", CLI_STRING, &store_path, false, "DB    the gateway's ticket store (default DIR/data/tickets.db)" },
		{ "book", CLI_STRING, &book_path, true, "FILE  the ticketbook holding the ticket" },
		{ "index", CLI_U64, &index, true, "N     the ticket (0-based)" },
		{ "authority", CLI_LIST, &urls, true, "URL   authorities for issuer keys, reports and the spent filter" },
		{ "authority-key", CLI_LIST, &keys, false, "B58   require their lists and filters signed by these keys" },
		{ "no-refresh", CLI_FLAG, &no_refresh, false, "      spend against the filter the store already holds" },
		{ "no-report", CLI_FLAG, &no_report, false, "      keep the serial in the store's queue (no report, no refresh after)" },
		{ "report-out", CLI_STRING, &report_out, false, "FILE  also write the signed report that was posted" },
		{ "report-retry", CLI_STRING, &retry_text, false,
		  "TIME  retry refused or failed reports with backoff this long (\"30s\"; default 0: one try)" },
		{ "json", CLI_FLAG, &as_json, false, "      print one JSON object (also when refused)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct nym_dir_client_trust trust;
	if (check_urls(context, &urls) || trust_from(context, &keys, 0, &trust))
		return EXIT_FAIL;
	if (conf_parse_duration(retry_text, &retry_ns) || retry_ns > 3600 * NYM_NS_PER_SEC) {
		fprintf(stderr, "%s: --report-retry: expected a duration up to 1h such as 30s, got \"%s\"\n", context,
			retry_text);
		return EXIT_FAIL;
	}
	if (urls.count > GATEWAY_OUTBOX_AUTHORITIES_MAX) {
		fprintf(stderr, "%s: at most %d authorities\n", context, GATEWAY_OUTBOX_AUTHORITIES_MAX);
		return EXIT_FAIL;
	}
	struct node_config cfg;
	struct node_keys nk;
	char dir[NODE_DIR_MAX], data[NODE_PATH_MAX], path[NODE_PATH_MAX + 32], err[512];
	if (node_config_open(context, id, data_dir, &cfg, dir, sizeof(dir)))
		return EXIT_FAIL;
	if (strcmp(cfg.mode, "entry-gateway") != 0 && strcmp(cfg.mode, "exit-gateway") != 0) {
		fprintf(stderr, "%s: %s is not a gateway (mode %s); tickets are spent at gateways\n", context, dir,
			cfg.mode);
		return EXIT_FAIL;
	}
	snprintf(data, sizeof(data), "%s/data", dir);
	if (node_keys_load(data, &nk, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	if (!store_path) {
		snprintf(path, sizeof(path), "%s/tickets.db", data);
		store_path = path;
	}
	enum nym_log_level level = nym_log_get_level();
	nym_log_set_level(NYM_LOG_WARN);
	struct gateway_authorities ga = { context, urls.items, urls.count, &trust, TIMEOUT_MS };
	struct gateway_tickets_authorities auth;
	gateway_authorities_bind(&ga, &auth);
	struct ticket_spend_options o = { .book_path = book_path,
					  .store_path = store_path,
					  .index = (size_t)index,
					  .authorities = &auth,
					  .identity = &nk.identity,
					  .refresh = !no_refresh,
					  .report = !no_report,
					  .report_out = report_out,
					  .report_retry_ms = retry_ns / NYM_NS_PER_MS,
					  .on_warning = print_warning,
					  .ctx = (void *)context };
	struct ticket_spend_result r;
	char error[TICKET_SPEND_ERROR_MAX];
	rc = ticket_spend_run(&o, &r, error, sizeof(error));
	nym_log_set_level(level);
	node_keys_clear(&nk);
	if (rc) {
		fprintf(stderr, "%s: %s\n", context, error);
		return EXIT_FAIL;
	}
	if (as_json)
		cmd_print_json(json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "accepted", r.refusal == 0,
					 "reason", r.refusal ? nym_ticket_store_refusal_text(r.refusal) : "", "refused_by",
					 r.refused_by, "serial", r.serial, "store", store_path, "reported",
					 (json_int_t)r.reported, "spent_filter_created", (json_int_t)r.spent_filter_created,
					 "reports_pending", (json_int_t)r.reports_pending, "report_attempts",
					 (json_int_t)r.reports.attempts, "report_refusals", (json_int_t)r.reports.refused,
					 "report_failures", (json_int_t)r.reports.failed));
	else if (r.refusal == 0)
		printf("ticket %llu accepted (serial %.16s...), %zu serials reported\n", (unsigned long long)index, r.serial,
		       r.reported);
	if (r.refusal)
		fprintf(stderr, "%s: ticket %llu refused: %s\n", context, (unsigned long long)index,
			nym_ticket_store_refusal_text(r.refusal));
	return r.refusal == 0 ? EXIT_OK : EXIT_FAIL;
}

/* --- debug mix-send --------------------------------------------------------------------- */

int cmd_debug_mix_send(const char *context, int argc, char **argv)
{
	struct cli_list urls = { 0 }, keys = { 0 };
	uint64_t threshold = 0, count = 10, rate = 100, mean_ms = 20;
	const char *exit_id = NULL;
	bool as_json = false;
	struct cli_option opts[] = {
		{ "authority", CLI_LIST, &urls, true, "URL   an authority" },
		{ "authority-key", CLI_LIST, &keys, false, "B58   a trusted authority key; without any, nothing is verified" },
		{ "threshold", CLI_U64, &threshold, false, "K     signatures required (default: a majority of the keys)" },
		{ "count", CLI_U64, &count, false, "N     packets to send (default 10)" },
		{ "rate", CLI_U64, &rate, false, "PPS   sending rate (default 100)" },
		{ "mean-delay-ms", CLI_U64, &mean_ms, false, "MS    mean of each mix hop's exponential delay (default 20)" },
		{ "exit", CLI_STRING, &exit_id, false, "B58   the exit gateway (default: one at random)" },
		{ "json", CLI_FLAG, &as_json, false, "      print one JSON object" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	struct nym_dir_client_trust trust;
	uint8_t want[32];
	if (check_urls(context, &urls) || trust_from(context, &keys, threshold, &trust))
		return EXIT_FAIL;
	if (exit_id && nym_base58_decode_exact(want, 32, exit_id)) {
		fprintf(stderr, "%s: --exit expects a base58 identity key, got '%s'\n", context, exit_id);
		return EXIT_FAIL;
	}
	if (count == 0 || count > 1000000 || rate == 0 || rate > 1000000) {
		fprintf(stderr, "%s: --count and --rate must be between 1 and 1000000\n", context);
		return EXIT_FAIL;
	}
	struct nym_dir_client_topology t;
	char err[NYM_DIR_ERR_MAX];
	rc = trust.count ? nym_dir_client_fetch_topology((const char *const *)urls.items, urls.count, &trust, 0, TIMEOUT_MS, &t,
						  err, sizeof(err))
			 : nym_dir_client_fetch_topology((const char *const *)urls.items, urls.count, NULL, 0, TIMEOUT_MS, &t, err,
						   sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	int status = EXIT_FAIL;
	/* Route: one mixnode of each layer, then the exit gateway, as a Nym client routes. */
	const struct nym_descriptor_signed *exit_gw;
	struct nym_epoch_doc_gateway_query q = { .roles = NYM_ROLE_EXIT };
	struct client_route route;
	int missing = 0;
	json_t *jroute = NULL;
	if (nym_dir_client_pick_gateway(&t.doc, exit_id ? want : NULL, &q, &exit_gw))
		exit_gw = NULL;
	rc = client_route_pick(&t.doc, exit_gw, &route, &missing);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: epoch %" PRIu64 " has no %s\n", context, t.doc.epoch,
			missing < NYM_LAYERS ? "node in every layer" : "matching exit gateway");
		goto out;
	}
	if (rc) {
		fprintf(stderr, "%s: a node of the topology has no usable address\n", context);
		goto out;
	}
	jroute = json_array();
	for (int i = 0; i < CLIENT_ROUTE_HOPS; i++) {
		const struct nym_descriptor *d = &route.nodes[i]->d;
		char text[NET_ADDR_STR_LEN];
		net_addr_format((const struct sockaddr *)&route.addresses[i].ss, text);
		json_array_append_new(jroute, json_pack("{s:o, s:s, s:s}", "identity", b58(d->identity), "address", text,
							"role", i < NYM_LAYERS ? "mixnode" : "exit-gateway"));
	}
	char error[MIX_SEND_ERROR_MAX];
	struct mix_send_options o = { count, rate, mean_ms * NYM_NS_PER_MS };
	if (mix_send_run(&route, &o, error, sizeof(error))) {
		fprintf(stderr, "%s: %s\n", context, error);
		goto out;
	}
	if (as_json) {
		status = cmd_print_json(json_pack("{s:I, s:O, s:I, s:b}", "epoch", (json_int_t)t.doc.epoch, "route", jroute,
						  "sent", (json_int_t)count, "verified", trust.count > 0));
	} else {
		printf("epoch %" PRIu64 " (%s): sent %" PRIu64 " packets along\n", t.doc.epoch,
		       trust.count ? "verified" : "UNVERIFIED", count);
		size_t i;
		json_t *hop;
		json_array_foreach(jroute, i, hop)
			printf("  %zu. %-12s %-22s %s\n", i + 1, json_string_value(json_object_get(hop, "role")),
			       json_string_value(json_object_get(hop, "address")),
			       json_string_value(json_object_get(hop, "identity")));
		status = EXIT_OK;
	}
out:
	json_decref(jroute);
	nym_dir_client_topology_free(&t);
	return status;
}
