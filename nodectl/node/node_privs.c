#include "nodectl/node/node_privs.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

uint64_t node_privs_needed(enum node_mode mode)
{
	uint64_t caps = 1ull << CAP_NET_BIND_SERVICE;
	if (mode == NODE_MODE_ENTRY || mode == NODE_MODE_EXIT)
		caps |= 1ull << CAP_NET_ADMIN;
	return caps;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, chown_uid, chown_gid) ? -1 : 0;
}

static int set_caps(uint64_t caps)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		uint32_t word = (uint32_t)(caps >> (32 * i));
		d[i].effective = d[i].permitted = d[i].inheritable = word;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	/* Ambient: kept across execve of a program without file capabilities (wireguard-go). */
	for (int c = 0; c < 64; c++)
		if ((caps >> c) & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0))
			return -errno;
	return 0;
}

int node_privs_drop(const char *context, const char *user, enum node_mode mode, const char *dir)
{
	if (!user || !*user)
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "%s: user: no such user \"%s\"%s%s\n", context, user, errno ? ": " : "",
			errno ? strerror(errno) : "");
		return -ENOENT;
	}
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid)
			log_warn("not started as root: staying uid %u instead of switching to %s", (unsigned)geteuid(), user);
		return 0;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (uid == 0)
		return 0;

	struct stat st;
	if (stat(dir, &st) == 0 && (st.st_uid != uid || st.st_gid != gid)) {
		chown_uid = uid;
		chown_gid = gid;
		if (nftw(dir, chown_one, 16, FTW_PHYS | FTW_MOUNT)) {
			int e = errno;
			fprintf(stderr, "%s: cannot hand %s to user %s: %s\n", context, dir, user, strerror(e));
			return -e;
		}
		log_info("%s now belongs to %s", dir, user);
	}

	uint64_t keep = node_privs_needed(mode);
	int rc = 0;
	const char *step = "bounding set";
	for (int c = 0; c < 64; c++) {
		if ((keep >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			rc = -errno;
			goto fail;
		}
	}
	step = "keepcaps";
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
		rc = -errno;
		goto fail;
	}
	step = "setgroups";
	if (setgroups(1, &gid)) {
		rc = -errno;
		goto fail;
	}
	step = "setgid";
	if (setresgid(gid, gid, gid)) {
		rc = -errno;
		goto fail;
	}
	step = "setuid";
	if (setresuid(uid, uid, uid)) {
		rc = -errno;
		goto fail;
	}
	step = "capabilities";
	if ((rc = set_caps(keep)) != 0)
		goto fail;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		rc = -errno;
		goto fail;
	}
	if (access(dir, R_OK | W_OK | X_OK)) {
		fprintf(stderr, "%s: user %s cannot use %s (%s): put the node where that user can reach it, e.g. /var/lib/nym-node/ID\n",
			context, user, dir, strerror(errno));
		return -EACCES;
	}
	log_info("running as %s (uid %u) with capabilities 0x%llx", user, (unsigned)uid, (unsigned long long)keep);
	return 0;
fail:
	fprintf(stderr, "%s: cannot switch to user %s (%s): %s\n", context, user, step, strerror(-rc));
	return rc;
}
