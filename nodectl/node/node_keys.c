#include "nodectl/node/node_keys.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "util/base58.h"
#include "util/file.h"

#define KEY_TEXT_MAX 64

static int write_key(const char *dir, const char *name, const uint8_t key[32], mode_t mode)
{
	char path[4096], text[KEY_TEXT_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return -EEXIST;
	int n = nym_base58_encode(text, sizeof(text) - 1, key, 32);
	if (n < 0)
		return n;
	text[n++] = '\n';
	int rc = nym_file_write_atomic(path, text, (size_t)n, mode);
	nym_memzero(text, sizeof(text));
	return rc;
}

static int read_key(const char *dir, const char *name, uint8_t key[32], char *err, size_t err_len)
{
	char path[4096];
	uint8_t *data;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int rc = nym_file_read(path, KEY_TEXT_MAX, &data, &len);
	if (rc) {
		snprintf(err, err_len, "%s: %s", path, rc == -EFBIG ? "not a key file" : strerror(-rc));
		return rc;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	rc = nym_base58_decode_exact(key, 32, (const char *)data);
	if (rc)
		snprintf(err, err_len, "%s: expected a base58-encoded 32-byte key", path);
	nym_memzero(data, len);
	free(data);
	return rc;
}

static int write_pair(const char *dir, const char *name, const uint8_t secret[32], const uint8_t pub[32])
{
	char pub_name[256];
	snprintf(pub_name, sizeof(pub_name), "%s.pub", name);
	int rc = write_key(dir, name, secret, 0600);
	return rc ? rc : write_key(dir, pub_name, pub, 0644);
}

int node_sphinx_key_add(const char *data_dir, uint32_t rotation, struct nym_x25519_keypair *out)
{
	char name[64];
	snprintf(name, sizeof(name), "x25519_sphinx_%u", rotation);
	nym_x25519_generate(out);
	return write_pair(data_dir, name, out->secret, out->public_key);
}

int node_keys_create(const char *data_dir, uint32_t rotation)
{
	static const char *const names[] = { "ed25519_identity", "x25519_noise", "x25519_wireguard" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", data_dir, names[i]);
		if (access(path, F_OK) == 0)
			return -EEXIST;
	}
	struct nym_ed25519_keypair id;
	struct nym_x25519_keypair kp;
	nym_ed25519_generate(&id);
	int rc = write_pair(data_dir, "ed25519_identity", id.seed, id.public_key);
	nym_ed25519_keypair_clear(&id);
	if (rc)
		return rc;
	nym_x25519_generate(&kp);
	rc = write_pair(data_dir, "x25519_noise", kp.secret, kp.public_key);
	for (uint32_t r = rotation; rc == 0 && r <= rotation + 1; r++)
		rc = node_sphinx_key_add(data_dir, r, &kp);
	if (rc == 0) { /* as Nym's init: every node has one, used once wireguard.enabled */
		nym_x25519_generate(&kp);
		rc = write_pair(data_dir, "x25519_wireguard", kp.secret, kp.public_key);
	}
	nym_x25519_keypair_clear(&kp);
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Rotation ids of the Sphinx secret key files present, ascending; returns the count. */
static size_t list_sphinx(const char *data_dir, uint32_t *ids, size_t cap)
{
	DIR *d = opendir(data_dir);
	size_t n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		unsigned id;
		char tail;
		if (sscanf(e->d_name, "x25519_sphinx_%u%c", &id, &tail) == 1 && n < cap)
			ids[n++] = id;
	}
	closedir(d);
	qsort(ids, n, sizeof(*ids), cmp_u32);
	return n;
}

int node_keys_load(const char *data_dir, struct node_keys *keys, char *err, size_t err_len)
{
	uint8_t seed[32];
	memset(keys, 0, sizeof(*keys));
	int rc = read_key(data_dir, "ed25519_identity", seed, err, err_len);
	if (rc)
		return rc;
	nym_ed25519_from_seed(&keys->identity, seed);
	nym_memzero(seed, sizeof(seed));
	rc = read_key(data_dir, "x25519_noise", keys->noise.secret, err, err_len);
	if (rc)
		return rc;
	nym_x25519_public(keys->noise.public_key, keys->noise.secret);

	/* No Sphinx key is not an error: a running node creates the ones it needs. */
	uint32_t ids[16];
	size_t n = list_sphinx(data_dir, ids, 16);
	/* The newest ones; older files are pruned by the running node. */
	size_t first = n > NODE_SPHINX_KEYS_MAX ? n - NODE_SPHINX_KEYS_MAX : 0;
	for (size_t i = first; i < n; i++) {
		char name[64];
		struct node_sphinx_key *k = &keys->sphinx[keys->sphinx_count++];
		snprintf(name, sizeof(name), "x25519_sphinx_%u", ids[i]);
		k->rotation_id = ids[i];
		rc = read_key(data_dir, name, k->kp.secret, err, err_len);
		if (rc)
			return rc;
		nym_x25519_public(k->kp.public_key, k->kp.secret);
	}
	return 0;
}

int node_wireguard_key(const char *data_dir, struct nym_x25519_keypair *out, char *err, size_t err_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/x25519_wireguard", data_dir);
	if (access(path, F_OK) != 0) {
		nym_x25519_generate(out);
		int rc = write_pair(data_dir, "x25519_wireguard", out->secret, out->public_key);
		if (rc)
			snprintf(err, err_len, "%s: cannot write: %s", path, strerror(-rc));
		return rc;
	}
	int rc = read_key(data_dir, "x25519_wireguard", out->secret, err, err_len);
	if (!rc)
		nym_x25519_public(out->public_key, out->secret);
	return rc;
}

void node_sphinx_keys_prune(const char *data_dir, uint32_t first, uint32_t last)
{
	uint32_t ids[16];
	size_t n = list_sphinx(data_dir, ids, 16);
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= first && ids[i] <= last)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/x25519_sphinx_%u", data_dir, ids[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/x25519_sphinx_%u.pub", data_dir, ids[i]);
		unlink(path);
	}
}

void node_keys_clear(struct node_keys *keys)
{
	nym_memzero(keys, sizeof(*keys));
}
