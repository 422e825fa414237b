#include "wg/wg_device.h"

#include "netlink/nl_sock.h"
#include "util/log.h"
#include "wg/wg_genl.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wg_device {
	enum wg_backend backend;
	bool owned;
	uint16_t family;
	char ifname[IF_NAMESIZE];
	struct wg_userspace us;
};

int wg_backend_parse(const char *s, enum wg_backend *out)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "auto"))
		*out = WG_BACKEND_AUTO;
	else if (!strcmp(s, "kernel"))
		*out = WG_BACKEND_KERNEL;
	else if (!strcmp(s, "userspace"))
		*out = WG_BACKEND_USERSPACE;
	else
		return -EINVAL;
	return 0;
}

const char *wg_backend_name(enum wg_backend b)
{
	switch (b) {
	case WG_BACKEND_AUTO:
		return "auto";
	case WG_BACKEND_KERNEL:
		return "kernel";
	case WG_BACKEND_USERSPACE:
		return "userspace";
	}
	return "?";
}

/* 0 unknown, 1 yes, -1 the family is unknown (a link may still load the module), -2 no; the
 * family id once known. Races only repeat the probe. */
static _Atomic int wg_device_kernel;
static _Atomic uint16_t wg_device_family;

static int wg_device_resolve(void)
{
	uint16_t id;
	int rc = nl_sock_genl_family(WG_GENL_NAME, &id); /* -ENOENT: no WireGuard in this kernel */
	if (rc == 0) {
		wg_device_family = id;
		wg_device_kernel = 1;
		return 1;
	}
	if (rc == -ENOENT) {
		if (wg_device_kernel == 0)
			wg_device_kernel = -1;
		return 0;
	}
	return rc;
}

int wg_device_kernel_available(void)
{
	int k = wg_device_kernel;
	if (k)
		return k > 0;
	return wg_device_resolve();
}

static int wg_device_new(const char *ifname, enum wg_backend b, bool owned, struct wg_device **out)
{
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	struct wg_device *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->backend = b;
	d->owned = owned;
	d->family = wg_device_family;
	d->us.pidfd = -1;
	strcpy(d->ifname, ifname);
	*out = d;
	return 0;
}

/* Kernel link creation; with `probing`, a kernel without WireGuard is remembered. */
static int wg_device_kernel_create(const char *ifname, bool probing)
{
	int rc = wg_genl_link_add(ifname);
	if (rc == -EOPNOTSUPP && probing)
		wg_device_kernel = -2;
	if (rc)
		return rc;
	if (wg_device_kernel != 1 && wg_device_resolve() != 1) {
		/* The link exists but its configuration family does not: unusable. */
		wg_genl_link_del(ifname);
		return -EOPNOTSUPP;
	}
	return 0;
}

int wg_device_create(const char *ifname, enum wg_backend want, const struct wg_userspace_opts *uo,
		     struct wg_device **out)
{
	enum wg_backend b = want;
	const char *why = "asked for";
	int rc;
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	if (want == WG_BACKEND_AUTO) {
		rc = wg_device_kernel_available();
		if (rc < 0)
			return rc;
		if (rc == 1) {
			b = WG_BACKEND_KERNEL;
			why = "auto: the kernel has WireGuard";
		} else if (wg_device_kernel == -1 && (rc = wg_device_kernel_create(ifname, true)) == 0) {
			/* The family was unknown until the link loaded the module. */
			b = WG_BACKEND_KERNEL;
			why = "auto: the kernel has WireGuard (module loaded)";
			goto made;
		} else if (wg_device_kernel == -1 || (rc && rc != -EOPNOTSUPP)) {
			return rc ? rc : -EIO;
		} else {
			b = WG_BACKEND_USERSPACE;
			why = "auto: no WireGuard in this kernel";
		}
	}
	if (b == WG_BACKEND_KERNEL) {
		rc = wg_device_kernel_create(ifname, false);
		if (rc)
			return rc;
	}
made:;
	struct wg_device *d;
	rc = wg_device_new(ifname, b, true, &d);
	if (rc) {
		if (b == WG_BACKEND_KERNEL)
			wg_genl_link_del(ifname);
		return rc;
	}
	if (b == WG_BACKEND_USERSPACE) {
		if (if_nametoindex(ifname)) {
			free(d);
			return -EEXIST;
		}
		rc = wg_userspace_start(&d->us, ifname, uo);
		if (rc) {
			free(d);
			return rc;
		}
	}
	log_info("wg: %s created with the %s backend (%s)", ifname, wg_backend_name(b), why);
	*out = d;
	return 0;
}

int wg_device_open(const char *ifname, enum wg_backend want, const struct wg_userspace_opts *uo,
		   struct wg_device **out)
{
	struct wg_device *d;
	int rc = wg_device_new(ifname, want, false, &d);
	if (rc)
		return rc;
	rc = wg_userspace_sock_path(d->us.sock_path, uo && uo->sock_dir ? uo->sock_dir : WG_USERSPACE_SOCK_DIR,
				    ifname);
	if (rc)
		goto fail;
	strcpy(d->us.ifname, ifname);
	if (want == WG_BACKEND_AUTO)
		d->backend = access(d->us.sock_path, F_OK) == 0 ? WG_BACKEND_USERSPACE : WG_BACKEND_KERNEL;
	if (d->backend == WG_BACKEND_KERNEL) {
		if (!if_nametoindex(ifname)) {
			rc = -ENODEV;
			goto fail;
		}
		rc = wg_device_kernel_available();
		if (rc == 0) /* a device, but not a WireGuard one we can reach */
			rc = want == WG_BACKEND_AUTO ? -ENODEV : -EOPNOTSUPP;
		if (rc < 0)
			goto fail;
		d->family = wg_device_family;
	}
	*out = d;
	return 0;
fail:
	free(d);
	return rc;
}

enum wg_backend wg_device_backend(const struct wg_device *d)
{
	return d->backend;
}

const char *wg_device_ifname(const struct wg_device *d)
{
	return d->ifname;
}

int wg_device_set(struct wg_device *d, const struct wg_conf *c)
{
	if (d->backend == WG_BACKEND_KERNEL)
		return wg_genl_set(d->family, d->ifname, c);
	return wg_userspace_set(d->us.sock_path, c);
}

int wg_device_get(struct wg_device *d, struct wg_status *st)
{
	if (d->backend == WG_BACKEND_KERNEL)
		return wg_genl_get(d->family, d->ifname, st);
	return wg_userspace_get(d->us.sock_path, st);
}

int wg_device_alive(struct wg_device *d)
{
	if (d->backend == WG_BACKEND_USERSPACE && d->owned) {
		int rc = wg_userspace_alive(&d->us);
		if (rc)
			return rc;
	}
	return if_nametoindex(d->ifname) ? 0 : -ENODEV;
}

int wg_device_watch_fd(const struct wg_device *d)
{
	return d->backend == WG_BACKEND_USERSPACE && d->owned ? d->us.pidfd : -1;
}

int wg_device_destroy(struct wg_device *d)
{
	if (!d)
		return 0;
	int rc = 0;
	if (d->backend == WG_BACKEND_KERNEL) {
		rc = wg_genl_link_del(d->ifname);
	} else if (d->owned) {
		rc = wg_userspace_stop(&d->us);
	} else {
		/* Not our child: deleting the socket is wireguard-go's documented way to end it. */
		if (unlink(d->us.sock_path) < 0)
			rc = -errno;
	}
	log_info("wg: %s removed (%s backend)", d->ifname, wg_backend_name(d->backend));
	free(d);
	return rc;
}

void wg_device_close(struct wg_device *d)
{
	free(d);
}
