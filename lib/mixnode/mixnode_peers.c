#include "mixnode/mixnode_peers.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base58.h"

static int key_field(json_t *entry, const char *name, uint8_t out[32], bool *present)
{
	json_t *v = json_object_get(entry, name);
	*present = v != NULL;
	if (!v)
		return 0;
	return json_is_string(v) ? nym_base58_decode_exact(out, 32, json_string_value(v)) : -EINVAL;
}

int mixnode_peers_load(const char *path, struct mixnode_peers **out, char *err, size_t err_len)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		snprintf(err, err_len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	int rc = -EINVAL;
	struct mixnode_peers *t = NULL;
	if (!json_is_array(root)) {
		snprintf(err, err_len, "%s: expected a JSON array of nodes", path);
		goto out;
	}
	t = calloc(1, sizeof(*t) + json_array_size(root) * sizeof(t->nodes[0]));
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	size_t i;
	json_t *e;
	json_array_foreach(root, i, e) {
		struct mixnode_peer *n = &t->nodes[i];
		json_t *addr = json_object_get(e, "mix_address");
		bool present;
		const char *problem = NULL;
		if (!json_is_object(e))
			problem = "not an object";
		else if (!json_is_string(addr) || net_addr_parse(&n->mix_address, json_string_value(addr), -1))
			problem = "\"mix_address\" must be IP:PORT or [IPv6]:PORT";
		else if (key_field(e, "noise_key", n->noise_key, &n->has_noise_key))
			problem = "\"noise_key\" must be a base58 32-byte key";
		else if (key_field(e, "sphinx_key", n->sphinx_key, &present))
			problem = "\"sphinx_key\" must be a base58 32-byte key";
		else if (key_field(e, "identity", n->identity, &present))
			problem = "\"identity\" must be a base58 32-byte key";
		if (problem) {
			snprintf(err, err_len, "%s: node %zu: %s", path, i, problem);
			goto out;
		}
	}
	t->count = json_array_size(root);
	*out = t;
	t = NULL;
	rc = 0;
out:
	free(t);
	json_decref(root);
	return rc;
}

static void add_node(struct mixnode_peers *t, const struct nym_descriptor *d, uint32_t rotation)
{
	for (size_t a = 0; a < d->address_count; a++) {
		struct mixnode_peer *n = &t->nodes[t->count];
		char text[NET_ADDR_STR_LEN];
		nym_descriptor_mix_address(d, a, text, sizeof(text));
		if (net_addr_parse(&n->mix_address, text, -1))
			continue;
		n->has_noise_key = true;
		memcpy(n->noise_key, d->noise_key, 32);
		memcpy(n->identity, d->identity, 32);
		memcpy(n->sphinx_key, d->sphinx[0].key, 32);
		for (size_t k = 0; k < d->sphinx_count; k++)
			if (d->sphinx[k].rotation == rotation)
				memcpy(n->sphinx_key, d->sphinx[k].key, 32);
		t->count++;
	}
}

int mixnode_peers_from_document(const struct nym_epoch_doc *doc, uint32_t rotation, struct mixnode_peers **out)
{
	size_t n = 0;
	for (int l = 0; l < NYM_LAYERS; l++)
		for (size_t i = 0; i < doc->layer_count[l]; i++)
			n += doc->layers[l][i].d.address_count;
	for (size_t i = 0; i < doc->gateway_count; i++)
		n += doc->gateways[i].d.address_count;
	struct mixnode_peers *t = calloc(1, sizeof(*t) + n * sizeof(t->nodes[0]));
	if (!t)
		return -ENOMEM;
	for (int l = 0; l < NYM_LAYERS; l++)
		for (size_t i = 0; i < doc->layer_count[l]; i++)
			add_node(t, &doc->layers[l][i].d, rotation);
	for (size_t i = 0; i < doc->gateway_count; i++)
		add_node(t, &doc->gateways[i].d, rotation);
	*out = t;
	return 0;
}

const struct mixnode_peer *mixnode_peers_find(const struct mixnode_peers *t, const struct sockaddr *addr)
{
	for (size_t i = 0; t && i < t->count; i++)
		if (net_addr_equal((const struct sockaddr *)&t->nodes[i].mix_address.ss, addr))
			return &t->nodes[i];
	return NULL;
}
