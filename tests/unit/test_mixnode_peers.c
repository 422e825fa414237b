/* The forwarding engine's peer table: from a topology file (with its errors) and from the
 * epoch document, and the lookup of a next hop by address. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/tmpdir.h"
#include "mixnode/mixnode_peers.h"
#include "util/base58.h"

TestSuite(mixnode_peers);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static const struct mixnode_peer *find(const struct mixnode_peers *t, const char *text)
{
	struct net_addr a;
	cr_assert_eq(net_addr_parse(&a, text, -1), 0, "%s", text);
	return mixnode_peers_find(t, (const struct sockaddr *)&a.ss);
}

Test(mixnode_peers, loads_a_file_and_finds_by_address)
{
	char dir[256], path[300], json[600], noise[64];
	uint8_t key[32];
	memset(key, 7, sizeof(key));
	nym_base58_encode(noise, sizeof(noise), key, 32);
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "topology.json");
	snprintf(json, sizeof(json),
		 "[{\"mix_address\": \"10.0.0.1:1789\", \"noise_key\": \"%s\"},"
		 " {\"mix_address\": \"[2001:db8::2]:1789\"}]",
		 noise);
	write_file(path, json);
	struct mixnode_peers *t = NULL;
	char err[256];
	cr_assert_eq(mixnode_peers_load(path, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t->count, 2);
	const struct mixnode_peer *p = find(t, "10.0.0.1:1789");
	cr_assert_not_null(p);
	cr_assert(p->has_noise_key);
	cr_assert_eq(memcmp(p->noise_key, key, 32), 0);
	p = find(t, "[2001:db8::2]:1789");
	cr_assert_not_null(p);
	cr_assert_not(p->has_noise_key);
	cr_assert_null(find(t, "10.0.0.1:1790"), "the port is part of the address");
	cr_assert_null(mixnode_peers_find(NULL, (const struct sockaddr *)&t->nodes[0].mix_address.ss));
	free(t);
	test_tmpdir_remove(dir);
}

Test(mixnode_peers, file_errors_name_the_node_and_field)
{
	char dir[256], path[300], err[256];
	struct mixnode_peers *t = NULL;
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "topology.json");
	write_file(path, "[{\"mix_address\": \"10.0.0.1:1789\"}, {\"mix_address\": \"nowhere\"}]");
	cr_assert_eq(mixnode_peers_load(path, &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "node 1: \"mix_address\""), "%s", err);
	write_file(path, "[{\"mix_address\": \"10.0.0.1:1789\", \"noise_key\": \"xyz\"}]");
	cr_assert_eq(mixnode_peers_load(path, &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "node 0: \"noise_key\""), "%s", err);
	write_file(path, "{}");
	cr_assert_eq(mixnode_peers_load(path, &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "expected a JSON array"), "%s", err);
	write_file(path, "[{\"mix_address\": ");
	cr_assert_eq(mixnode_peers_load(path, &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "topology.json:1:"), "%s", err);
	cr_assert_null(t);
	test_tmpdir_remove(dir);
}

/* Every address of every node, with the Sphinx key of the rotation asked for. */
Test(mixnode_peers, from_the_epoch_document)
{
	static struct nym_descriptor_signed mix, gw;
	memset(&mix, 0, sizeof(mix));
	memset(&gw, 0, sizeof(gw));
	snprintf(mix.d.addresses[0], sizeof(mix.d.addresses[0]), "10.0.0.1");
	snprintf(mix.d.addresses[1], sizeof(mix.d.addresses[1]), "2001:db8::1");
	mix.d.address_count = 2;
	mix.d.mix_port = 1789;
	memset(mix.d.noise_key, 1, 32);
	mix.d.sphinx_count = 2;
	mix.d.sphinx[0] = (struct nym_descriptor_sphinx){ .rotation = 4 };
	memset(mix.d.sphinx[0].key, 4, 32);
	mix.d.sphinx[1] = (struct nym_descriptor_sphinx){ .rotation = 5 };
	memset(mix.d.sphinx[1].key, 5, 32);
	snprintf(gw.d.addresses[0], sizeof(gw.d.addresses[0]), "10.0.0.9");
	gw.d.address_count = 1;
	gw.d.mix_port = 1789;
	gw.d.sphinx_count = 1;
	gw.d.sphinx[0].rotation = 4;
	struct nym_epoch_doc doc = { 0 };
	doc.layers[1] = &mix;
	doc.layer_count[1] = 1;
	doc.gateways = &gw;
	doc.gateway_count = 1;
	struct mixnode_peers *t;
	cr_assert_eq(mixnode_peers_from_document(&doc, 5, &t), 0);
	cr_assert_eq(t->count, 3);
	const struct mixnode_peer *p = find(t, "[2001:db8::1]:1789");
	cr_assert_not_null(p);
	cr_assert(p->has_noise_key);
	cr_assert_eq(p->sphinx_key[0], 5);
	cr_assert_not_null(find(t, "10.0.0.1:1789"));
	cr_assert_not_null(find(t, "10.0.0.9:1789"));
	cr_assert_null(find(t, "10.0.0.2:1789"));
	free(t);
}
