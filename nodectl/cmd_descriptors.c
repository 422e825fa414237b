/* nym-node debug descriptors: signed self-descriptions of throwaway identities, one envelope
 * per line. The registration-flood test posts them to an authority as an attacker would;
 * each is valid (fresh keys, its own signature), so only the authority's limits stop them. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "commands.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "topology/canonical.h"
#include "topology/descriptor.h"
#include "util/cli.h"
#include "util/clock.h"

/* The i-th address after base (IPv4), so a flood can spread over many addresses. */
static int nth_address(const char *base, uint64_t i, uint64_t spread, char out[NYM_DESCRIPTOR_ADDR_LEN])
{
	struct in_addr a;
	if (inet_pton(AF_INET, base, &a) != 1)
		return -EINVAL;
	a.s_addr = htonl(ntohl(a.s_addr) + (uint32_t)(spread ? i % spread : 0));
	return inet_ntop(AF_INET, &a, out, NYM_DESCRIPTOR_ADDR_LEN) ? 0 : -EINVAL;
}

int cmd_debug_descriptors(const char *context, int argc, char **argv)
{
	const char *address = NULL;
	uint64_t count = 1, spread = 1, mix_port = 1789, http_port = 8080, rotation = 1;
	struct cli_option opts[] = {
		{ "count", CLI_U64, &count, false, "N     descriptions to print (default 1)" },
		{ "address", CLI_STRING, &address, true, "IPV4  the first announced address" },
		{ "spread", CLI_U64, &spread, false, "N     cycle through N consecutive addresses (default 1)" },
		{ "mix-port", CLI_U64, &mix_port, false, "PORT  announced mixnet port (default 1789)" },
		{ "http-port", CLI_U64, &http_port, false, "PORT  announced HTTP port (default 8080)" },
		{ "rotation", CLI_U64, &rotation, false, "R     Sphinx key rotation announced (default 1)" },
		{ 0 },
	};
	int rc = cli_parse(context, argc, argv, opts, NULL, 0, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (count == 0 || count > 10000000 || mix_port == 0 || mix_port > 65535 || http_port == 0 ||
	    http_port > 65535 || rotation == 0 || rotation > UINT32_MAX) {
		fprintf(stderr, "%s: --count must be 1..10000000, ports 1..65535, --rotation from 1\n", context);
		return EXIT_FAIL;
	}
	struct nym_descriptor d = { 0 };
	d.mix_port = (uint16_t)mix_port;
	d.http_port = (uint16_t)http_port;
	d.roles = NYM_ROLE_MIXNODE;
	d.address_count = 1;
	d.sphinx_count = 1;
	d.sphinx[0].rotation = (uint32_t)rotation;
	snprintf(d.version, sizeof(d.version), "%s", NYM_VERSION);
	d.published = nym_clock_unix_now();
	for (uint64_t i = 0; i < count; i++) {
		struct nym_ed25519_keypair kp;
		struct nym_descriptor_signed sd;
		char *text = NULL;
		size_t len;
		if (nth_address(address, i, spread, d.addresses[0])) {
			fprintf(stderr, "%s: --address: expected an IPv4 address, got \"%s\"\n", context, address);
			return EXIT_FAIL;
		}
		nym_ed25519_generate(&kp);
		memcpy(d.identity, kp.public_key, 32);
		nym_random(d.noise_key, 32);
		nym_random(d.sphinx[0].key, 32);
		rc = nym_descriptor_sign(&d, &kp, &sd);
		nym_ed25519_keypair_clear(&kp);
		json_t *j = rc ? NULL : nym_descriptor_signed_to_json(&sd);
		rc = j ? nym_canonical_encode(j, &text, &len) : -EINVAL;
		json_decref(j);
		if (rc) {
			fprintf(stderr, "%s: cannot build a description: %s\n", context, strerror(-rc));
			return EXIT_FAIL;
		}
		fwrite(text, 1, len, stdout);
		fputc('\n', stdout);
		free(text);
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
