/* A packet sink: the "next hop" at the end of a test or benchmark route. It accepts any
 * number of plain connections, decodes v8 frames and hands each to a callback with its
 * arrival time. Blocking sockets and poll(): simple, and far faster than what it measures.
 * Either a thread serves it (mix_sink_run) or its owner steps it (mix_sink_poll), which
 * lets a load generator send and receive from one thread that never sleeps. */
#ifndef NYM_NODECTL_MIX_SINK_H
#define NYM_NODECTL_MIX_SINK_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/net_addr.h"
#include "mix/mix_frame.h"

#define MIX_SINK_MAX_CONNS 64

struct mix_sink;
typedef void (*mix_sink_cb)(void *ctx, const struct mix_frame *f, uint64_t arrival_ns);

struct mix_sink_conn {
	int fd;
	struct mix_frame_decoder dec;
};

struct mix_sink {
	int listen_fd;
	mix_sink_cb cb;
	void *ctx;
	struct mix_sink_conn *conns[MIX_SINK_MAX_CONNS];
	_Atomic bool stop;
	_Atomic uint64_t frames, bad_streams;
	_Atomic uint64_t last_arrival_ns;
};

/* Binds the listener. Returns 0 or a negative errno. */
int mix_sink_open(struct mix_sink *s, const struct net_addr *addr, mix_sink_cb cb, void *ctx);
/* Accepts and reads whatever is ready, waiting up to timeout_ns for something to be (0: not
 * at all). Only one thread may step a sink at a time. */
void mix_sink_poll(struct mix_sink *s, uint64_t timeout_ns);
/* Steps the sink until s->stop is set (checked every 100 ms). Thread entry point. */
void *mix_sink_run(void *s);

/* When a served sink stops: after `count` frames, `idle_ns` without one once the first has
 * come, `timeout_ns` in any case (each 0: never), or when one of `signals` (blocked by the
 * caller) arrives. */
struct mix_sink_limits {
	uint64_t count, idle_ns, timeout_ns;
	const sigset_t *signals;
};
/* Serves the sink from a thread of its own until a limit is reached; the sink stays open.
 * Returns 0 or a negative errno when the thread cannot start. */
int mix_sink_serve(struct mix_sink *s, const struct mix_sink_limits *limits);
/* Closes the listener and every connection. */
void mix_sink_close(struct mix_sink *s);

#endif
