#include "nodectl/debug/mix_send.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net_addr.h"
#include "util/clock.h"
#include "util/file.h"

int mix_send_run(struct client_route *route, const struct mix_send_options *options, char *error, size_t error_len)
{
	char first[NET_ADDR_STR_LEN];
	const struct net_addr *to = &route->addresses[0];
	net_addr_format((const struct sockaddr *)&to->ss, first);
	uint8_t *frame = malloc(CLIENT_ROUTE_FRAME_LEN);
	int rc = 0;
	int fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&to->ss, to->len) != 0) {
		rc = -errno;
		snprintf(error, error_len, "cannot connect to the first mix layer at %s: %s", first, strerror(errno));
		goto out;
	}
	uint64_t gap_ns = NYM_NS_PER_SEC / options->rate, start = nym_clock_now_ns();
	for (uint64_t n = 0; n < options->count; n++) {
		client_route_sample_delays(route, options->mean_delay_ns);
		char msg[64];
		int len = snprintf(msg, sizeof(msg), "nym-c mix-send packet %" PRIu64, n);
		if (!frame || client_route_frame(route, (const uint8_t *)msg, (size_t)len, frame) ||
		    nym_file_write_all(fd, frame, CLIENT_ROUTE_FRAME_LEN)) {
			rc = -EIO;
			snprintf(error, error_len, "sending packet %" PRIu64 " failed", n);
			goto out;
		}
		uint64_t next = start + (n + 1) * gap_ns, now = nym_clock_now_ns();
		if (next > now) {
			struct timespec ts = { (time_t)((next - now) / NYM_NS_PER_SEC), (long)((next - now) % NYM_NS_PER_SEC) };
			nanosleep(&ts, NULL);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(frame);
	return rc;
}
