#include "client/client_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "util/base58.h"
#include "util/file.h"

#define KEY_TEXT_MAX 64 /* base58 of 32 bytes is at most 44 characters */
#define PATH_MAX_LEN 4096

static const char *const names[] = { "ed25519_identity", "ed25519_identity.pub", "x25519_encryption",
				     "x25519_encryption.pub" };
enum { NAMES = 4 };

static int path_of(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX_LEN, "%s/%s", dir, name);
	return n < 0 || n >= PATH_MAX_LEN ? -ENAMETOOLONG : 0;
}

static int write_key(const char *dir, const char *name, const uint8_t key[32], mode_t mode)
{
	char path[PATH_MAX_LEN], text[KEY_TEXT_MAX];
	int rc = path_of(path, dir, name);
	if (rc)
		return rc;
	int n = nym_base58_encode(text, sizeof(text) - 1, key, 32);
	if (n < 0)
		return n;
	text[n++] = '\n';
	rc = nym_file_write_atomic(path, text, (size_t)n, mode);
	nym_memzero(text, sizeof(text));
	return rc;
}

/* Reads one key file; secret files must be regular and closed to group and others. */
static int read_key(const char *dir, const char *name, bool secret, uint8_t key[32])
{
	char path[PATH_MAX_LEN];
	char text[KEY_TEXT_MAX + 2];
	int rc = path_of(path, dir, name);
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || (secret && (st.st_mode & 077))) {
		close(fd);
		return -EPERM;
	}
	size_t len = 0;
	for (;;) {
		ssize_t got = read(fd, text + len, sizeof(text) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len == sizeof(text) - 1) {
			rc = -EINVAL; /* longer than any key file */
			break;
		}
	}
	close(fd);
	if (rc == 0) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
			len--;
		text[len] = '\0';
		rc = nym_base58_decode_exact(key, 32, text) ? -EINVAL : 0;
	}
	nym_memzero(text, sizeof(text));
	return rc;
}

int client_keys_create(const char *dir, struct client_keys *out)
{
	memset(out, 0, sizeof(*out));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	for (int i = 0; i < NAMES; i++) {
		char path[PATH_MAX_LEN];
		int rc = path_of(path, dir, names[i]);
		if (rc)
			return rc;
		if (access(path, F_OK) == 0)
			return -EEXIST;
	}
	nym_ed25519_generate(&out->identity);
	nym_x25519_generate(&out->encryption);
	int rc = write_key(dir, names[0], out->identity.seed, 0600);
	if (!rc)
		rc = write_key(dir, names[1], out->identity.public_key, 0644);
	if (!rc)
		rc = write_key(dir, names[2], out->encryption.secret, 0600);
	if (!rc)
		rc = write_key(dir, names[3], out->encryption.public_key, 0644);
	if (rc)
		client_keys_clear(out);
	return rc;
}

int client_keys_load(const char *dir, struct client_keys *out)
{
	uint8_t seed[32], pub[32];
	memset(out, 0, sizeof(*out));
	int rc = read_key(dir, names[0], true, seed);
	if (!rc) {
		nym_ed25519_from_seed(&out->identity, seed);
		rc = read_key(dir, names[1], false, pub);
		if (!rc && !nym_ct_equal(pub, out->identity.public_key, 32))
			rc = -EINVAL;
	}
	if (!rc)
		rc = read_key(dir, names[2], true, out->encryption.secret);
	if (!rc) {
		nym_x25519_public(out->encryption.public_key, out->encryption.secret);
		rc = read_key(dir, names[3], false, pub);
		if (!rc && !nym_ct_equal(pub, out->encryption.public_key, 32))
			rc = -EINVAL;
	}
	nym_memzero(seed, sizeof(seed));
	if (rc)
		client_keys_clear(out);
	return rc;
}

int client_keys_load_or_create(const char *dir, struct client_keys *out, bool *created)
{
	*created = false;
	for (int i = 0; i < NAMES; i++) {
		char path[PATH_MAX_LEN];
		int rc = path_of(path, dir, names[i]);
		if (rc)
			return rc;
		if (access(path, F_OK) == 0 || errno != ENOENT)
			return client_keys_load(dir, out);
	}
	int rc = client_keys_create(dir, out);
	*created = rc == 0;
	return rc;
}

void client_keys_address(const struct client_keys *k, const uint8_t gateway_identity[32],
			 struct mix_recipient *out)
{
	memcpy(out->identity, k->identity.public_key, 32);
	memcpy(out->encryption_key, k->encryption.public_key, 32);
	memcpy(out->gateway, gateway_identity, 32);
}

int client_keys_address_text(const struct client_keys *k, const uint8_t gateway_identity[32], char *out,
			     size_t cap)
{
	struct mix_recipient r;
	client_keys_address(k, gateway_identity, &r);
	return mix_recipient_format(&r, out, cap);
}

const char *client_keys_strerror(int rc)
{
	switch (rc) {
	case -ENOENT:
		return "a key file is missing";
	case -EPERM:
		return "a secret key file is open to group or others, or not a regular file (chmod 600)";
	case -EINVAL:
		return "a key file is not a base58 32-byte key, or a public key does not match its secret";
	case -EEXIST:
		return "key files exist already";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}

void client_keys_clear(struct client_keys *k)
{
	nym_memzero(k, sizeof(*k));
}
