/* The cross-platform userspace API of WireGuard (wireguard.com/xplatform), the text protocol
 * wireguard-go speaks on /var/run/wireguard/<if>.sock: a set request built from a wg_conf,
 * a get reply read into a wg_status. Pure: no I/O (wg_userspace talks to the socket).
 *
 * Requests: "get=1\n\n", or "set=1\n" then key=value lines and an empty line. Replies end
 * with "errno=N\n\n" (0 = success; wireguard-go writes negative numbers, older daemons
 * positive ones: either sign is an error). Keys are lowercase hex. */
#ifndef NYM_WG_WG_UAPI_H
#define NYM_WG_WG_UAPI_H

#include <stddef.h>

#include "wg/wg_conf.h"

#define WG_UAPI_GET_REQUEST "get=1\n\n"
/* The longest reply we read (a device with tens of thousands of peers fits). */
#define WG_UAPI_REPLY_MAX (64u << 20)

/* Builds the set request for c into a new NUL-terminated buffer (*out, *out_len bytes
 * without the NUL). It holds the private key: release it with wg_uapi_free. Returns 0,
 * -EINVAL (an allowed IP or endpoint of an unknown family, a prefix too long) or -ENOMEM. */
int wg_uapi_encode_set(const struct wg_conf *c, char **out, size_t *out_len);
void wg_uapi_free(char *buf, size_t len);

/* The length of the first complete reply in buf (through the empty line that ends it), or 0
 * while the reply is still incomplete. */
size_t wg_uapi_reply_len(const char *buf, size_t len);

/* Parses a get reply into st (emptied first). Returns 0; the daemon's error as -errno
 * (errno=N, either sign; st then stays empty); or -EBADMSG when the text is not a well-formed
 * reply (a malformed line or value, a peer key before any public_key, no errno line, text after
 * it). Unknown keys are skipped (daemons add their own, e.g. AmneziaWG's). On error st is
 * empty. */
int wg_uapi_parse_get(const char *text, size_t len, struct wg_status *st);

/* Parses a set reply: 0, the daemon's -errno, or -EBADMSG. */
int wg_uapi_parse_set_reply(const char *text, size_t len);

#endif
