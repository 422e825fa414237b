/* The control protocol of nym-vpnd over arbitrary bytes: the input is a stream split into
 * lines by the bounded reader (a small limit, so too-long lines happen), each line decoded as
 * a request (the daemon's side) and as a reply or event (nym-vpnc's side). Whatever decodes
 * must re-encode: an accepted request's id and command go back into a reply. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vpn/vpn_ctl.h"

static void one_line(const char *line, size_t len)
{
	struct vpn_ctl_request req;
	struct vpn_ctl_error err;
	char *out = NULL;
	int rc = vpn_ctl_request_decode(line, len, &req, &err);
	if (rc == 0) {
		if (!req.command || req.id < 0 || req.id > VPN_CTL_ID_MAX)
			abort();
		json_t *res = json_pack("{s:s}", "cmd", req.command->name);
		if (vpn_ctl_reply_ok(req.id, res, &out) != 0)
			abort();
		json_decref(res);
	} else {
		if (rc != -EINVAL && rc != -ENOMEM)
			abort();
		if (!vpn_ctl_code_name(err.code) || strlen(err.message) >= VPN_CTL_MESSAGE_MAX)
			abort();
		for (const char *p = err.message; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		if (vpn_ctl_reply_error(req.id, &err, &out) != 0)
			abort();
		/* the daemon's own error line is readable by the client */
		struct vpn_ctl_message m;
		if (vpn_ctl_message_decode(out, strlen(out) - 1, &m, NULL) != 0 || m.ok ||
		    m.error.code != err.code)
			abort();
		vpn_ctl_message_clear(&m);
	}
	free(out);
	vpn_ctl_request_clear(&req);

	struct vpn_ctl_message m;
	if (vpn_ctl_message_decode(line, len, &m, &err) == 0) {
		if (!m.root)
			abort();
		if (m.kind == VPN_CTL_MSG_EVENT && m.event == VPN_CTL_EV_STATE && !json_is_object(m.state))
			abort();
		if (m.kind == VPN_CTL_MSG_EVENT && m.event != VPN_CTL_EV_STATE && !m.text)
			abort();
	}
	vpn_ctl_message_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpn_ctl_reader r;
	vpn_ctl_reader_init(&r, 4096);
	const char *p = (const char *)data;
	size_t n = size;
	for (;;) {
		const char *line;
		size_t len;
		int rc = vpn_ctl_reader_next(&r, &p, &n, &line, &len);
		if (rc == 0)
			break;
		if (rc == 1) {
			if (len == 0 || len > 4096 || memchr(line, '\n', len))
				abort();
			one_line(line, len);
		} else if (rc != -EMSGSIZE) {
			abort();
		}
	}
	if (n != 0)
		abort();
	vpn_ctl_reader_free(&r);
	return 0;
}
