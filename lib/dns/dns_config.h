/* The host's resolver configuration for a tunnel: the tunnel's DNS servers set through
 * systemd-resolved (D-Bus, sd-bus of libsystemd), resolvconf, or by rewriting resolv.conf in
 * place, and undone byte-exact afterwards, also by the next process after a crash.
 *
 *   resolved     org.freedesktop.resolve1.Manager on the system bus: SetLinkDNS(ia(iay)),
 *                SetLinkDomains(a(sb)) with ("~.", true) (the link takes every lookup),
 *                SetLinkDefaultRoute(ib) true; revert: RevertLink(i) (nothing when the
 *                device is gone: resolved forgets a vanished link by itself)
 *   resolvconf   "nameserver X" lines fed to `resolvconf -a IFNAME` on stdin (posix_spawn, no
 *                shell); revert: `resolvconf -d IFNAME`
 *   static-file  resolv_path rewritten IN PLACE (open O_WRONLY|O_TRUNC, write: it may be a
 *                bind mount, as `ip netns exec` makes), never renamed over; revert writes the
 *                original bytes back the same way (or removes the file if there was none)
 *   auto         resolved when resolv_path is a symlink into /run/systemd/resolve/ and the
 *                bus name org.freedesktop.resolve1 answers; else resolvconf when it is on
 *                PATH and /run/resolvconf exists; else static-file
 *
 * The backup (DNS_CONFIG_BACKUP_NAME in backup_dir, 0600, written atomically) records the
 * backend, the device and resolv_path's original bytes; it is written BEFORE anything
 * changes and removed by a successful revert. An apply while a backup exists keeps that
 * backup (the original file, never our own) when the backend is the same, and reverts it
 * first when it is not.
 *
 * File format (text header, raw bytes):
 *   "nym-dns-backup 1\nbackend NAME\nifname IF\nresolv LEN\n" LEN bytes   (or "resolv absent\n") */
#ifndef NYM_DNS_DNS_CONFIG_H
#define NYM_DNS_DNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_CONFIG_BACKUP_NAME "resolv-backup"
#define DNS_CONFIG_SERVERS_MAX 16
#define DNS_CONFIG_RESOLV_MAX (1u << 20)

enum dns_config_backend { DNS_CONFIG_AUTO, DNS_CONFIG_RESOLVED, DNS_CONFIG_RESOLVCONF, DNS_CONFIG_STATIC_FILE };

/* "auto", "systemd-resolved", "resolvconf", "static-file". Returns 0 or -EINVAL. */
int dns_config_parse_backend(const char *s, enum dns_config_backend *out);
const char *dns_config_backend_name(enum dns_config_backend b);

/* Sets `servers` (text IPv4/IPv6 addresses, 1..DNS_CONFIG_SERVERS_MAX) for the tunnel device
 * ifname. *used (may be NULL) gets the backend AUTO chose. Returns 0, -EINVAL (a bad server,
 * ifname or backend), or the failing step's -errno with a sentence in err. */
int dns_config_apply(enum dns_config_backend b, const char *ifname, const char *const *servers, size_t n,
		     const char *backup_dir, const char *resolv_path, enum dns_config_backend *used, char *err,
		     size_t errlen);

/* Undoes what the backup in backup_dir records (byte-exact resolv.conf restore); no backup = 0.
 * A backup that does not parse: -EBADMSG (left in place). */
int dns_config_revert(const char *backup_dir, const char *resolv_path, char *err, size_t errlen);

/* Whether a backup exists in backup_dir. */
bool dns_config_backup_present(const char *backup_dir);

/* The detection steps of AUTO, for tests on fake paths:
 *   whether resolv_path is a symlink whose target lies in /run/systemd/resolve/
 *   (absolute, or relative with leading "../" components) */
bool dns_config_resolv_is_resolved(const char *resolv_path);
/*   the first executable `name` in the directories of path_env (a PATH value) into out:
 *   0 or -ENOENT */
int dns_config_which(const char *name, const char *path_env, char *out, size_t cap);

#endif
