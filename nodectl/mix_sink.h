/* A packet sink: the "next hop" at the end of a test or benchmark route. It accepts any
 * number of plain connections, decodes v8 frames and hands each to a callback with its
 * arrival time. Blocking sockets and poll(): simple, and far faster than what it measures. */
#ifndef NYM_NODECTL_MIX_SINK_H
#define NYM_NODECTL_MIX_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/sock.h"
#include "mix/mix_frame.h"

struct mix_sink;
typedef void (*mix_sink_cb)(void *ctx, const struct mix_frame *f, uint64_t arrival_ns);

struct mix_sink {
	int listen_fd;
	mix_sink_cb cb;
	void *ctx;
	_Atomic bool stop;
	_Atomic uint64_t frames, bad_streams;
	_Atomic uint64_t last_arrival_ns;
};

/* Binds the listener. Returns 0 or a negative errno. */
int mix_sink_open(struct mix_sink *s, const struct sock_addr *addr, mix_sink_cb cb, void *ctx);
/* Serves until s->stop is set (checked every 100 ms). Thread entry point. */
void *mix_sink_run(void *s);
void mix_sink_close(struct mix_sink *s);

#endif
