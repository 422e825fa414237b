/* nym-node debug sphinx-create | sphinx-process: build and peel Sphinx packets by hand, the
 * interface interoperability tests drive. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/secret.h"
#include "sphinx/sphinx_packet.h"
#include "util/cli.h"
#include "util/hex.h"

/* Reads the route file: a JSON array of {"address": hex(32), "public_key": hex(32),
 * "delay_ns": N}. Prints what is wrong and returns -EINVAL on bad input. */
static int load_route(const char *context, const char *path, struct sphinx_hop *route, size_t *hops)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	int rc = -EINVAL;
	if (!root) {
		fprintf(stderr, "%s: %s:%d:%d: %s\n", context, path, err.line, err.column, err.text);
		return rc;
	}
	if (!json_is_array(root) || json_array_size(root) < 1 || json_array_size(root) > SPHINX_MAX_HOPS) {
		fprintf(stderr, "%s: %s: expected a JSON array of 1 to %d hops\n", context, path,
			SPHINX_MAX_HOPS);
		goto out;
	}
	size_t i;
	json_t *hop;
	json_array_foreach(root, i, hop) {
		json_t *addr = json_object_get(hop, "address"), *pk = json_object_get(hop, "public_key"),
		       *delay = json_object_get(hop, "delay_ns");
		const char *problem = NULL;
		if (!json_is_object(hop))
			problem = "not an object";
		else if (!json_is_string(addr) || nym_hex_decode_exact(route[i].address, 32, json_string_value(addr)))
			problem = "\"address\" must be 64 hex digits";
		else if (!json_is_string(pk) || nym_hex_decode_exact(route[i].public_key, 32, json_string_value(pk)))
			problem = "\"public_key\" must be 64 hex digits";
		else if (!json_is_integer(delay) || json_integer_value(delay) < 0)
			problem = "\"delay_ns\" must be a non-negative integer";
		if (problem) {
			fprintf(stderr, "%s: %s: hop %zu: %s\n", context, path, i, problem);
			goto out;
		}
		route[i].delay_ns = (uint64_t)json_integer_value(delay);
	}
	*hops = json_array_size(root);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int cmd_debug_sphinx_create(const char *context, int argc, char **argv)
{
	const char *route_file = NULL, *dest_hex = NULL, *id_hex = NULL, *msg_hex = NULL, *seed_hex = NULL;
	uint64_t version = SPHINX_VERSION_DEFAULT, payload_size = 2065;
	struct cli_option opts[] = {
		{ "route", CLI_STRING, &route_file, true, "FILE  JSON array of {address, public_key, delay_ns}" },
		{ "destination", CLI_STRING, &dest_hex, true, "HEX   32-byte destination address" },
		{ "identifier", CLI_STRING, &id_hex, true, "HEX   16-byte SURB identifier" },
		{ "message", CLI_STRING, &msg_hex, true, "HEX   the plaintext (or - to read hex from stdin)" },
		{ "version", CLI_U64, &version, false, "N     Sphinx version, 258 or 259 (default 259)" },
		{ "payload-size", CLI_U64, &payload_size, false, "N     Sphinx payload bytes (default 2065)" },
		{ "seed", CLI_STRING, &seed_hex, false, "HEX   32-byte seed for reproducible packets" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct sphinx_hop route[SPHINX_MAX_HOPS];
	uint8_t destination[32], identifier[16], seed[32];
	struct nym_seeded_rng seeded;
	struct nym_rng rng;
	struct bytes msg = { 0 };
	uint8_t *packet = NULL;
	int status = EXIT_FAIL;
	size_t hops;

	if (load_route(context, route_file, route, &hops))
		goto out;
	if (nym_hex_decode_exact(destination, 32, dest_hex)) {
		fprintf(stderr, "%s: --destination must be 64 hex digits\n", context);
		goto out;
	}
	if (nym_hex_decode_exact(identifier, 16, id_hex)) {
		fprintf(stderr, "%s: --identifier must be 32 hex digits\n", context);
		goto out;
	}
	if (version != SPHINX_VERSION_258 && version != SPHINX_VERSION_259) {
		fprintf(stderr, "%s: --version must be 258 or 259\n", context);
		goto out;
	}
	if (payload_size < SPHINX_PAYLOAD_MIN || payload_size > 1 << 20) {
		fprintf(stderr, "%s: --payload-size must be between %d and %d\n", context,
			SPHINX_PAYLOAD_MIN, 1 << 20);
		goto out;
	}
	if (seed_hex && nym_hex_decode_exact(seed, 32, seed_hex)) {
		fprintf(stderr, "%s: --seed must be 64 hex digits\n", context);
		goto out;
	}
	if (cmd_read_hex_arg(context, "--message", msg_hex, &msg))
		goto out;

	size_t len = SPHINX_HEADER_LEN + payload_size;
	packet = malloc(len);
	if (!packet)
		goto out;
	if (seed_hex)
		rng = nym_seeded_rng_init(&seeded, seed);
	struct sphinx_packet_params p = { .route = route,
					  .hops = hops,
					  .destination = destination,
					  .identifier = identifier,
					  .version = (uint16_t)version,
					  .rng = seed_hex ? &rng : NULL };
	rc = sphinx_packet_create(packet, len, &p, msg.data, msg.len);
	if (rc == -EMSGSIZE) {
		fprintf(stderr, "%s: the message (%zu bytes) exceeds the payload capacity (%zu bytes)\n",
			context, msg.len, (size_t)payload_size - SPHINX_PAYLOAD_OVERHEAD);
		goto out;
	}
	if (rc) {
		fprintf(stderr, "%s: cannot build the packet: %s\n", context,
			rc == -EINVAL ? "a route public key is not a usable X25519 key" : strerror(-rc));
		goto out;
	}
	status = cmd_print_json(json_pack("{s:o}", "packet", cmd_json_hex(packet, len)));
out:
	free(packet);
	free(msg.data);
	return status;
}

int cmd_debug_sphinx_process(const char *context, int argc, char **argv)
{
	const char *sk_hex = NULL, *packet_hex = NULL;
	struct cli_option opts[] = {
		{ "secret-key", CLI_STRING, &sk_hex, true, "HEX  the node's 32-byte X25519 secret" },
		{ "packet", CLI_STRING, &packet_hex, true, "HEX  header and payload (or - for stdin)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	uint8_t secret[32];
	struct bytes packet = { 0 };
	int status = EXIT_FAIL;
	if (nym_hex_decode_exact(secret, 32, sk_hex)) {
		fprintf(stderr, "%s: --secret-key must be 64 hex digits\n", context);
		goto out;
	}
	if (cmd_read_hex_arg(context, "--packet", packet_hex, &packet))
		goto out;

	struct sphinx_processed res;
	rc = sphinx_packet_process(packet.data, packet.len, secret, &res);
	if (rc) {
		const char *why = rc == -EMSGSIZE	 ? "the packet is too short"
				  : rc == -EBADMSG	 ? "header MAC mismatch (wrong key or tampered packet)"
				  : rc == -EPROTONOSUPPORT ? "unsupported Sphinx version"
							   : "malformed packet";
		fprintf(stderr, "%s: %s\n", context, why);
		goto out;
	}
	json_t *out;
	if (res.kind == SPHINX_HOP_FORWARD) {
		out = json_pack("{s:s, s:o, s:I, s:o, s:o}", "kind", "forward", "next_address",
				cmd_json_hex(res.address, 32), "delay_ns", (json_int_t)res.delay_ns,
				"replay_tag", cmd_json_hex(res.replay_tag, 32), "packet",
				cmd_json_hex(packet.data, packet.len));
	} else {
		const uint8_t *msg;
		size_t msg_len;
		if (sphinx_packet_message(packet.data, packet.len, &msg, &msg_len)) {
			fprintf(stderr, "%s: final hop reached but the payload does not decode "
					"(tampered payload or wrong route)\n",
				context);
			goto out;
		}
		out = json_pack("{s:s, s:o, s:o, s:o, s:o}", "kind", "final", "destination",
				cmd_json_hex(res.address, 32), "identifier", cmd_json_hex(res.identifier, 16),
				"replay_tag", cmd_json_hex(res.replay_tag, 32), "message",
				cmd_json_hex(msg, msg_len));
	}
	status = cmd_print_json(out);
out:
	nym_memzero(secret, sizeof(secret));
	free(packet.data);
	return status;
}
