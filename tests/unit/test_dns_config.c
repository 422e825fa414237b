/* lib/dns/dns_config on files of a scratch directory only: the static-file backend's apply
 * and byte-exact revert (also by a fresh call after a "crash", and after a second apply),
 * refused input, the backup's format, and AUTO's detection steps on fake paths. Never the
 * resolved or resolvconf backends against the host: they run against a fake resolvconf on
 * PATH and a fake resolve1 on a private dbus-daemon, in forked children. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "../support/tmpdir.h"
#include "dns/dns_config.h"
#include "util/file.h"

static char dir[256], resolv[512], bdir[512];

/* Arbitrary bytes, no final newline, a NUL and high bytes: must come back exactly. */
static const char original[] = "# host\nnameserver 192.0.2.53\nsearch example.test\n\x01\xff\x00tail";
#define ORIGINAL_LEN (sizeof(original) - 1)

static void setup(void)
{
	test_tmpdir(dir, sizeof(dir));
	test_path(resolv, sizeof(resolv), dir, "resolv.conf");
	test_path(bdir, sizeof(bdir), dir, "dns");
	cr_assert_eq(mkdir(bdir, 0700), 0);
	FILE *f = fopen(resolv, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(original, 1, ORIGINAL_LEN, f), ORIGINAL_LEN);
	fclose(f);
}

static void teardown(void)
{
	test_tmpdir_remove(dir);
}

TestSuite(dns_config, .init = setup, .fini = teardown);

static const char *const servers[] = { "10.64.0.1", "2001:db8::53" };

static void assert_original(void)
{
	uint8_t *d = NULL;
	size_t len = 0;
	cr_assert_eq(nym_file_read(resolv, 1 << 20, &d, &len), 0);
	cr_assert_eq(len, ORIGINAL_LEN);
	cr_assert_eq(memcmp(d, original, len), 0, "the original bytes are back");
	free(d);
}

static char *read_text(const char *path)
{
	uint8_t *d = NULL;
	size_t len = 0;
	cr_assert_eq(nym_file_read(path, 1 << 20, &d, &len), 0);
	return (char *)d;
}

static ino_t inode(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return st.st_ino;
}

Test(dns_config, backend_names)
{
	enum dns_config_backend b;
	const char *n[] = { "auto", "systemd-resolved", "resolvconf", "static-file" };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(dns_config_parse_backend(n[i], &b), 0);
		cr_assert_eq((int)b, i);
		cr_assert_str_eq(dns_config_backend_name(b), n[i]);
	}
	cr_assert_eq(dns_config_parse_backend("resolved", &b), -EINVAL);
	cr_assert_eq(dns_config_parse_backend("", &b), -EINVAL);
	cr_assert_eq(dns_config_parse_backend(NULL, &b), -EINVAL);
}

Test(dns_config, static_file_apply_and_revert_in_place)
{
	ino_t ino = inode(resolv);
	enum dns_config_backend used = DNS_CONFIG_AUTO;
	char err[256];
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", servers, 2, bdir, resolv, &used, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(used, DNS_CONFIG_STATIC_FILE);
	cr_assert(dns_config_backup_present(bdir));
	char *t = read_text(resolv);
	cr_assert(strncmp(t, "# written by nym-vpnd", 21) == 0, "%s", t);
	cr_assert_not_null(strstr(t, "\nnameserver 10.64.0.1\nnameserver 2001:db8::53\n"), "%s", t);
	free(t);
	cr_assert_eq(inode(resolv), ino, "rewritten in place, not renamed over");

	char bpath[600];
	snprintf(bpath, sizeof(bpath), "%s/%s", bdir, DNS_CONFIG_BACKUP_NAME);
	struct stat st;
	cr_assert_eq(stat(bpath, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert(test_file_contains(bpath, "backend static-file\nifname nym0\n", 32));

	cr_assert_eq(dns_config_revert(bdir, resolv, err, sizeof(err)), 0, "%s", err);
	assert_original();
	cr_assert_eq(inode(resolv), ino);
	cr_assert_not(dns_config_backup_present(bdir));
	/* Nothing to revert: fine. */
	cr_assert_eq(dns_config_revert(bdir, resolv, err, sizeof(err)), 0);
	assert_original();
}

Test(dns_config, crash_then_revert_by_a_fresh_call)
{
	char err[256];
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The "daemon": applies and dies without reverting. */
		int rc = dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", servers, 1, bdir, resolv, NULL, err,
					  sizeof(err));
		_exit(rc == 0 ? 9 : 1);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 9);
	char *t = read_text(resolv);
	cr_assert_not_null(strstr(t, "nameserver 10.64.0.1\n"));
	free(t);
	cr_assert_eq(dns_config_revert(bdir, resolv, err, sizeof(err)), 0, "%s", err);
	assert_original();
}

Test(dns_config, second_apply_keeps_the_original_backup)
{
	char err[256];
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", servers, 2, bdir, resolv, NULL, err, sizeof(err)),
		     0, "%s", err);
	const char *other[] = { "9.9.9.9" };
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", other, 1, bdir, resolv, NULL, err, sizeof(err)), 0,
		     "%s", err);
	char *t = read_text(resolv);
	cr_assert_not_null(strstr(t, "nameserver 9.9.9.9\n"));
	cr_assert_null(strstr(t, "10.64.0.1"));
	free(t);
	cr_assert_eq(dns_config_revert(bdir, resolv, err, sizeof(err)), 0, "%s", err);
	assert_original();
}

Test(dns_config, absent_resolv_conf_is_removed_again)
{
	cr_assert_eq(unlink(resolv), 0);
	char err[256];
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", servers, 1, bdir, resolv, NULL, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(access(resolv, F_OK), 0);
	cr_assert_eq(dns_config_revert(bdir, resolv, err, sizeof(err)), 0, "%s", err);
	cr_assert_neq(access(resolv, F_OK), 0);
}

Test(dns_config, bad_input_is_refused_before_anything_changes)
{
	char err[256];
	const char *bad[][2] = { { "10.64.0.1", "not-an-ip" }, { "10.64.0.256", NULL }, { "1.1.1.1 ", NULL },
				 { "", NULL }, { "fe80::1%eth0", NULL }, { "1.1.1.1\nnameserver 6.6.6.6", NULL },
				 { "example.com", NULL } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = bad[i][1] ? 2 : 1;
		err[0] = 0;
		cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", bad[i], n, bdir, resolv, NULL, err,
					      sizeof(err)),
			     -EINVAL, "%s", bad[i][0]);
		cr_assert_neq(err[0], 0);
	}
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "nym0", servers, 0, bdir, resolv, NULL, err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "", servers, 1, bdir, resolv, NULL, err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "a/b", servers, 1, bdir, resolv, NULL, err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(dns_config_apply(DNS_CONFIG_STATIC_FILE, "averyveryverylongname", servers, 1, bdir, resolv, NULL,
				      err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(dns_config_apply((enum dns_config_backend)7, "nym0", servers, 1, bdir, resolv, NULL, err,
				      sizeof(err)),
		     -EINVAL);
	cr_assert_not(dns_config_backup_present(bdir));
	assert_original();
}

Test(dns_config, corrupt_backup_is_reported_and_kept)
{
	char bpath[600], err[256];
	snprintf(bpath, sizeof(bpath), "%s/%s", bdir, DNS_CONFIG_BACKUP_NAME);
	const char *cases[] = { "garbage", "nym-dns-backup 1\nbackend static-file\nifname nym0\nresolv 99\nshort",
				"nym-dns-backup 1\nbackend auto\nifname nym0\nresolv absent\n",
				"nym-dns-backup 1\nbackend static-file\nifname a/b\nresolv absent\n" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(nym_file_write_atomic(bpath, cases[i], strlen(cases[i]), 0600), 0);
		cr_assert_eq(dns_config_revert(bdir, resolv, err, sizeof(err)), -EBADMSG, "%s", cases[i]);
		cr_assert_neq(err[0], 0);
		cr_assert(dns_config_backup_present(bdir));
		assert_original();
	}
}

Test(dns_config, detection_on_fake_paths)
{
	char link1[600], link2[600], link3[600], plain[600];
	snprintf(link1, sizeof(link1), "%s/abs", dir);
	snprintf(link2, sizeof(link2), "%s/rel", dir);
	snprintf(link3, sizeof(link3), "%s/other", dir);
	snprintf(plain, sizeof(plain), "%s/resolv.conf", dir);
	cr_assert_eq(symlink("/run/systemd/resolve/stub-resolv.conf", link1), 0);
	cr_assert_eq(symlink("../run/systemd/resolve/resolv.conf", link2), 0);
	cr_assert_eq(symlink("/run/resolvconf/resolv.conf", link3), 0);
	cr_assert(dns_config_resolv_is_resolved(link1));
	cr_assert(dns_config_resolv_is_resolved(link2));
	cr_assert_not(dns_config_resolv_is_resolved(link3));
	cr_assert_not(dns_config_resolv_is_resolved(plain));
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	cr_assert_not(dns_config_resolv_is_resolved(missing));

	/* PATH search: only executable regular files count. */
	char bin1[600], bin2[600], path_env[1300], found[600], want[700];
	snprintf(bin1, sizeof(bin1), "%s/bin1", dir);
	snprintf(bin2, sizeof(bin2), "%s/bin2", dir);
	cr_assert_eq(mkdir(bin1, 0755), 0);
	cr_assert_eq(mkdir(bin2, 0755), 0);
	snprintf(want, sizeof(want), "%s/resolvconf", bin1);
	cr_assert_eq(nym_file_write_atomic(want, "#!/bin/sh\n", 10, 0644), 0); /* not executable */
	snprintf(want, sizeof(want), "%s/resolvconf", bin2);
	cr_assert_eq(nym_file_write_atomic(want, "#!/bin/sh\n", 10, 0755), 0);
	snprintf(path_env, sizeof(path_env), "::%s:%s", bin1, bin2);
	cr_assert_eq(dns_config_which("resolvconf", path_env, found, sizeof(found)), 0);
	cr_assert_str_eq(found, want);
	snprintf(path_env, sizeof(path_env), "%s", bin1);
	cr_assert_eq(dns_config_which("resolvconf", path_env, found, sizeof(found)), -ENOENT);
	cr_assert_eq(dns_config_which("bin2/resolvconf", dir, found, sizeof(found)), -ENOENT);
}

/* The resolvconf backend against a fake `resolvconf` of ours (PATH is only the scratch
 * directory, in a forked child: never the host's program): the arguments, the lines on
 * its stdin, and -d on revert; a failing program is an error. */
static int resolvconf_child(const char *bin, bool fail)
{
	char script[2048], prog[700];
	snprintf(prog, sizeof(prog), "%s/resolvconf", bin);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\necho \"$*\" >> '%s/args'\n[ \"$1\" = -a ] && /bin/cat > '%s/stdin'\nexit %d\n", dir, dir,
		 fail ? 3 : 0);
	if (nym_file_write_atomic(prog, script, strlen(script), 0755))
		return 10;
	if (setenv("PATH", bin, 1))
		return 11;
	char err[256];
	enum dns_config_backend used;
	int rc = dns_config_apply(DNS_CONFIG_RESOLVCONF, "nym0", servers, 2, bdir, resolv, &used, err, sizeof(err));
	if (fail)
		return rc == -EIO && strstr(err, "resolvconf") ? 0 : 1;
	if (rc || used != DNS_CONFIG_RESOLVCONF)
		return 2;
	if (dns_config_revert(bdir, resolv, err, sizeof(err)))
		return 3;
	return dns_config_backup_present(bdir) ? 4 : 0;
}

static void run_resolvconf(bool fail)
{
	char bin[600];
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	cr_assert_eq(mkdir(bin, 0755), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(resolvconf_child(bin, fail));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "step %d", WEXITSTATUS(st));
}

Test(dns_config, resolvconf_backend_with_a_fake_program)
{
	run_resolvconf(false);
	char p[600];
	snprintf(p, sizeof(p), "%s/args", dir);
	char *t = read_text(p);
	cr_assert_str_eq(t, "-a nym0\n-d nym0\n");
	free(t);
	snprintf(p, sizeof(p), "%s/stdin", dir);
	t = read_text(p);
	cr_assert_str_eq(t, "nameserver 10.64.0.1\nnameserver 2001:db8::53\n");
	free(t);
	assert_original(); /* resolv.conf itself untouched */
}

Test(dns_config, resolvconf_failure_is_an_error)
{
	run_resolvconf(true);
}

/* ---- the systemd-resolved backend against a fake resolve1 on a private bus ----
 * A dbus-daemon of our own (session policy) at a socket in the scratch directory, named as
 * the system bus through DBUS_SYSTEM_BUS_ADDRESS in a forked child, and a thread that owns
 * org.freedesktop.resolve1 and records the calls: never the host's bus. */
extern char **environ;

static char calls[4096];
static volatile int fake_stop;

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	size_t l = strlen(calls);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(calls + l, sizeof(calls) - l, fmt, ap);
	va_end(ap);
}

static int m_dns(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)ud, (void)e;
	int32_t idx;
	if (sd_bus_message_read(m, "i", &idx) < 0 || sd_bus_message_enter_container(m, 'a', "(iay)") < 0)
		return -EINVAL;
	record("SetLinkDNS %d", idx);
	while (sd_bus_message_enter_container(m, 'r', "iay") > 0) {
		int32_t fam;
		const void *p;
		size_t n;
		sd_bus_message_read(m, "i", &fam);
		sd_bus_message_read_array(m, 'y', &p, &n);
		char t[64];
		inet_ntop(fam, p, t, sizeof(t));
		record(" %d:%zu:%s", fam, n, t);
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
	record("\n");
	return sd_bus_reply_method_return(m, "");
}

static int m_domains(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)ud, (void)e;
	int32_t idx;
	if (sd_bus_message_read(m, "i", &idx) < 0 || sd_bus_message_enter_container(m, 'a', "(sb)") < 0)
		return -EINVAL;
	record("SetLinkDomains %d", idx);
	const char *d;
	int route;
	while (sd_bus_message_read(m, "(sb)", &d, &route) > 0)
		record(" %s:%d", d, route);
	sd_bus_message_exit_container(m);
	record("\n");
	return sd_bus_reply_method_return(m, "");
}

static int m_default(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)ud, (void)e;
	int32_t idx;
	int b;
	if (sd_bus_message_read(m, "ib", &idx, &b) < 0)
		return -EINVAL;
	record("SetLinkDefaultRoute %d %d\n", idx, b);
	return sd_bus_reply_method_return(m, "");
}

static int m_revert(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)ud, (void)e;
	int32_t idx;
	if (sd_bus_message_read(m, "i", &idx) < 0)
		return -EINVAL;
	record("RevertLink %d\n", idx);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable fake_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("SetLinkDNS", "ia(iay)", "", m_dns, 0),
	SD_BUS_METHOD("SetLinkDomains", "ia(sb)", "", m_domains, 0),
	SD_BUS_METHOD("SetLinkDefaultRoute", "ib", "", m_default, 0),
	SD_BUS_METHOD("RevertLink", "i", "", m_revert, 0),
	SD_BUS_VTABLE_END,
};

static sd_bus *fake_bus;

static void *fake_main(void *arg)
{
	(void)arg;
	while (!fake_stop) {
		int r = sd_bus_process(fake_bus, NULL);
		if (r < 0)
			break;
		if (r == 0)
			sd_bus_wait(fake_bus, 50000);
	}
	return NULL;
}

static int resolved_child(const char *busdir)
{
	char sock[700], addr[800];
	snprintf(sock, sizeof(sock), "%s/bus", busdir);
	snprintf(addr, sizeof(addr), "unix:path=%s", sock);
	char listen_arg[820];
	snprintf(listen_arg, sizeof(listen_arg), "--address=%s", addr);
	char *argv[] = { (char *)"dbus-daemon", (char *)"--session", (char *)"--nofork", (char *)"--nopidfile",
			 listen_arg, NULL };
	pid_t d;
	if (posix_spawn(&d, "/usr/bin/dbus-daemon", NULL, NULL, argv, environ) != 0)
		return 20;
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	int ret = 21;
	if (setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1) || strcmp(getenv("DBUS_SYSTEM_BUS_ADDRESS"), addr) != 0)
		goto out;
	ret = 22;
	if (sd_bus_open_system(&fake_bus) < 0 ||
	    sd_bus_add_object_vtable(fake_bus, NULL, "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
				     fake_vtable, NULL) < 0 ||
	    sd_bus_request_name(fake_bus, "org.freedesktop.resolve1", 0) < 0)
		goto out;
	pthread_t th;
	if (pthread_create(&th, NULL, fake_main, NULL))
		goto out;

	/* AUTO: resolv.conf links into /run/systemd/resolve/ and resolve1 answers. */
	char link[700], err[256];
	snprintf(link, sizeof(link), "%s/resolv-link", busdir);
	ret = 23;
	if (symlink("/run/systemd/resolve/stub-resolv.conf", link))
		goto stop;
	enum dns_config_backend used = DNS_CONFIG_STATIC_FILE;
	ret = 24;
	if (dns_config_apply(DNS_CONFIG_AUTO, "lo", servers, 2, bdir, link, &used, err, sizeof(err)) != 0 ||
	    used != DNS_CONFIG_RESOLVED) {
		fprintf(stderr, "apply: %s\n", err);
		goto stop;
	}
	ret = 25;
	if (dns_config_revert(bdir, link, err, sizeof(err)) != 0 || dns_config_backup_present(bdir)) {
		fprintf(stderr, "revert: %s\n", err);
		goto stop;
	}
	ret = 0;
stop:
	fake_stop = 1;
	pthread_join(th, NULL);
out:
	kill(d, SIGTERM);
	waitpid(d, NULL, 0);
	if (ret == 0) {
		char expect[512];
		snprintf(expect, sizeof(expect),
			 "SetLinkDNS %u %d:4:10.64.0.1 %d:16:2001:db8::53\nSetLinkDomains %u ~.:1\n"
			 "SetLinkDefaultRoute %u 1\nRevertLink %u\n",
			 if_nametoindex("lo"), AF_INET, AF_INET6, if_nametoindex("lo"), if_nametoindex("lo"),
			 if_nametoindex("lo"));
		if (strcmp(calls, expect) != 0) {
			fprintf(stderr, "calls:\n%s\nwant:\n%s", calls, expect);
			ret = 26;
		}
	}
	return ret;
}

Test(dns_config, resolved_backend_against_a_fake_resolve1)
{
	if (access("/usr/bin/dbus-daemon", X_OK) != 0)
		cr_skip_test("no dbus-daemon");
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(resolved_child(dir));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "step %d", WEXITSTATUS(st));
}
