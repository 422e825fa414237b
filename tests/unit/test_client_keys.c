#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_keys.h"
#include "crypto/secret.h"
#include "mix/mix_recipient.h"
#include "../support/tmpdir.h"

static char dir[256];

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
	test_tmpdir(dir, sizeof(dir));
}

static void teardown(void)
{
	test_tmpdir_remove(dir);
}

TestSuite(client_keys, .init = setup, .fini = teardown);

static void path(char *out, const char *name)
{
	snprintf(out, 512, "%s/keys/%s", dir, name);
}

static void keys_dir(char *out)
{
	snprintf(out, 512, "%s/keys", dir);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[512];
	path(p, name);
	unlink(p);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

Test(client_keys, save_and_load_round_trip)
{
	char d[512];
	keys_dir(d);
	struct client_keys k, l;
	cr_assert_eq(client_keys_create(d, &k), 0);
	struct stat st;
	cr_assert_eq(stat(d, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	char p[512];
	path(p, "ed25519_identity");
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	path(p, "x25519_encryption");
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(client_keys_load(d, &l), 0);
	cr_assert_eq(memcmp(&k, &l, sizeof(k)), 0);
	cr_assert_eq(client_keys_create(d, &l), -EEXIST, "never overwritten");
	bool created = true;
	cr_assert_eq(client_keys_load_or_create(d, &l, &created), 0);
	cr_assert_not(created);
	cr_assert_eq(memcmp(&k, &l, sizeof(k)), 0);

	uint8_t gw[32];
	nym_random(gw, sizeof(gw));
	char text[MIX_RECIPIENT_TEXT_MAX];
	int n = client_keys_address_text(&k, gw, text, sizeof(text));
	cr_assert_gt(n, 0);
	struct mix_recipient r;
	cr_assert_eq(mix_recipient_parse(text, &r), 0);
	cr_assert_arr_eq(r.identity, k.identity.public_key, 32);
	cr_assert_arr_eq(r.encryption_key, k.encryption.public_key, 32);
	cr_assert_arr_eq(r.gateway, gw, 32);
	cr_assert_neq(strchr(text, '.'), NULL);
	cr_assert_neq(strchr(text, '@'), NULL);

	client_keys_clear(&l);
	static const uint8_t zero[sizeof(l)];
	cr_assert_eq(memcmp(&l, zero, sizeof(l)), 0, "secrets zeroed");
}

Test(client_keys, load_or_create_makes_them_once)
{
	char d[512];
	keys_dir(d);
	struct client_keys k, l;
	bool created = false;
	cr_assert_eq(client_keys_load_or_create(d, &k, &created), 0);
	cr_assert(created);
	cr_assert_eq(client_keys_load_or_create(d, &l, &created), 0);
	cr_assert_not(created);
	cr_assert_eq(memcmp(&k, &l, sizeof(k)), 0);
}

Test(client_keys, refuses_open_permissions)
{
	char d[512], p[512];
	keys_dir(d);
	struct client_keys k;
	cr_assert_eq(client_keys_create(d, &k), 0);
	path(p, "x25519_encryption");
	cr_assert_eq(chmod(p, 0644), 0);
	cr_assert_eq(client_keys_load(d, &k), -EPERM);
	static const uint8_t zero[sizeof(k)];
	cr_assert_eq(memcmp(&k, zero, sizeof(k)), 0, "nothing left behind on error");
	cr_assert_eq(chmod(p, 0600), 0);
	path(p, "ed25519_identity");
	cr_assert_eq(chmod(p, 0640), 0);
	cr_assert_eq(client_keys_load(d, &k), -EPERM);
	cr_assert_eq(chmod(p, 0400), 0);
	cr_assert_eq(client_keys_load(d, &k), 0, "read-only for the owner is fine");
	/* A symlink in place of a secret is refused too. */
	char target[512];
	path(target, "elsewhere");
	cr_assert_eq(rename(p, target), 0);
	cr_assert_eq(symlink(target, p), 0);
	cr_assert_eq(client_keys_load(d, &k), -EPERM);
	cr_assert_not_null(client_keys_strerror(-EPERM));
}

Test(client_keys, refuses_corrupt_and_missing_files)
{
	char d[512], p[512];
	keys_dir(d);
	struct client_keys k;
	cr_assert_eq(client_keys_create(d, &k), 0);
	write_file("x25519_encryption", "not base58 0OIl\n", 0600);
	cr_assert_eq(client_keys_load(d, &k), -EINVAL);
	write_file("x25519_encryption", "3yZe7d\n", 0600); /* too short a key */
	cr_assert_eq(client_keys_load(d, &k), -EINVAL);
	char big[200];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file("x25519_encryption", big, 0600);
	cr_assert_eq(client_keys_load(d, &k), -EINVAL);
	write_file("x25519_encryption", "", 0600);
	cr_assert_eq(client_keys_load(d, &k), -EINVAL);

	/* A public file that does not belong to its secret. */
	char d2[300];
	snprintf(d2, sizeof(d2), "%.250s/other", dir);
	struct client_keys o;
	cr_assert_eq(client_keys_create(d2, &o), 0);
	char src[512];
	snprintf(src, sizeof(src), "%s/x25519_encryption.pub", d2);
	path(p, "x25519_encryption.pub");
	cr_assert_eq(rename(src, p), 0);
	snprintf(src, sizeof(src), "%s/x25519_encryption", d2);
	path(p, "x25519_encryption");
	cr_assert_eq(rename(src, p), 0);
	cr_assert_eq(client_keys_load(d, &k), 0, "a matching pair again");
	snprintf(src, sizeof(src), "%s/ed25519_identity.pub", d2);
	path(p, "ed25519_identity.pub");
	cr_assert_eq(rename(src, p), 0);
	cr_assert_eq(client_keys_load(d, &k), -EINVAL);

	unlink(p);
	cr_assert_eq(client_keys_load(d, &k), -ENOENT);
	bool created;
	cr_assert_eq(client_keys_load_or_create(d, &k, &created), -ENOENT, "a partial directory is not replaced");
}
