/* One WireGuard device, whichever backend runs it: the kernel's (wg_genl) or wireguard-go's
 * (wg_userspace). `auto` uses the kernel when it has WireGuard (probed once per process: the
 * generic-netlink family resolves, or creating a link of kind "wireguard" works, which loads
 * the module) and falls back to userspace; the choice is logged and reported by
 * wg_device_backend. Calls on one device are not thread-safe; different devices are
 * independent. */
#ifndef NYM_WG_WG_DEVICE_H
#define NYM_WG_WG_DEVICE_H

#include <stdbool.h>

#include "wg/wg_conf.h"
#include "wg/wg_userspace.h"

enum wg_backend {
	WG_BACKEND_AUTO = 0,
	WG_BACKEND_KERNEL,
	WG_BACKEND_USERSPACE,
};

/* "auto" | "kernel" | "userspace"; returns 0 or -EINVAL. */
int wg_backend_parse(const char *s, enum wg_backend *out);
const char *wg_backend_name(enum wg_backend b);

/* Whether this kernel has WireGuard: 1 / 0 (cached after the first answer), or -errno when
 * the question itself failed (no permission). */
int wg_device_kernel_available(void);

struct wg_device;

/* Creates ifname (in the caller's network namespace) with the backend asked for. uo (may be
 * NULL) tunes wireguard-go. Returns 0 and *out, or -errno: -EEXIST (the name is taken),
 * -EOPNOTSUPP (kernel asked for, none here), the userspace start's errors. */
int wg_device_create(const char *ifname, enum wg_backend want, const struct wg_userspace_opts *uo,
		     struct wg_device **out);

/* Takes an existing device that someone else runs (for inspection tools); auto: userspace
 * when its socket exists, else the kernel. -ENODEV: no such device (or, with auto, no
 * WireGuard to reach it through). wg_device_close leaves it running. */
int wg_device_open(const char *ifname, enum wg_backend want, const struct wg_userspace_opts *uo,
		   struct wg_device **out);

enum wg_backend wg_device_backend(const struct wg_device *d); /* KERNEL or USERSPACE */
const char *wg_device_ifname(const struct wg_device *d);

int wg_device_set(struct wg_device *d, const struct wg_conf *c);
/* st emptied first; free with wg_status_free. */
int wg_device_get(struct wg_device *d, struct wg_status *st);

/* 0 while the device exists and (userspace) its wireguard-go runs; -ECHILD when the child
 * has died, -ENODEV when the kernel link has gone. */
int wg_device_alive(struct wg_device *d);

/* A descriptor that becomes readable (POLLIN) when a userspace device's wireguard-go ends,
 * for event loops (then call wg_device_alive); -1 for kernel devices, devices not ours, or
 * kernels without pidfd_open. Owned by d. */
int wg_device_watch_fd(const struct wg_device *d);

/* Removes the device we created (kernel link deleted; wireguard-go stopped, its socket
 * removed) and frees d. Returns 0 or the first error (d is freed anyway). */
int wg_device_destroy(struct wg_device *d);
/* Frees d, leaving the device as it is. */
void wg_device_close(struct wg_device *d);

#endif
