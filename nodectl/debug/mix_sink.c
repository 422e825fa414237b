#include "nodectl/debug/mix_sink.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/sock.h"
#include "util/clock.h"

int mix_sink_open(struct mix_sink *s, const struct net_addr *addr, mix_sink_cb cb, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->cb = cb;
	s->ctx = ctx;
	s->listen_fd = sock_tcp_listen(addr, false, 128);
	return s->listen_fd < 0 ? s->listen_fd : 0;
}

static void accept_one(struct mix_sink *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < MIX_SINK_MAX_CONNS; i++) {
		if (!s->conns[i]) {
			s->conns[i] = malloc(sizeof(*s->conns[i]));
			if (!s->conns[i])
				break;
			s->conns[i]->fd = fd;
			mix_frame_decoder_init(&s->conns[i]->dec);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
}

static void drop_conn(struct mix_sink *s, size_t i)
{
	close(s->conns[i]->fd);
	free(s->conns[i]);
	s->conns[i] = NULL;
}

/* Reads what one connection has and hands every complete frame on. */
static void read_conn(struct mix_sink *s, size_t i)
{
	static __thread uint8_t buf[1 << 16];
	struct mix_sink_conn *c = s->conns[i];
	ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
	uint64_t now = nym_clock_now_ns();
	struct mix_frame f;
	int rc = got > 0 ? mix_frame_decoder_feed(&c->dec, buf, (size_t)got) : -EPIPE;
	while (rc == 0 && (rc = mix_frame_decoder_next(&c->dec, &f)) == 0) {
		atomic_fetch_add(&s->frames, 1);
		atomic_store(&s->last_arrival_ns, now);
		if (s->cb)
			s->cb(s->ctx, &f, now);
	}
	if (rc != -EAGAIN) {
		if (got > 0)
			atomic_fetch_add(&s->bad_streams, 1);
		drop_conn(s, i);
	}
}

void mix_sink_poll(struct mix_sink *s, uint64_t timeout_ns)
{
	struct pollfd pfd[MIX_SINK_MAX_CONNS + 1];
	size_t slot[MIX_SINK_MAX_CONNS + 1];
	size_t n = 0;
	pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (size_t i = 0; i < MIX_SINK_MAX_CONNS; i++) {
		if (s->conns[i]) {
			slot[n] = i;
			pfd[n++] = (struct pollfd){ .fd = s->conns[i]->fd, .events = POLLIN };
		}
	}
	struct timespec ts = { (time_t)(timeout_ns / NYM_NS_PER_SEC), (long)(timeout_ns % NYM_NS_PER_SEC) };
	if (ppoll(pfd, n, &ts, NULL) <= 0)
		return;
	for (size_t j = 1; j < n; j++)
		if (pfd[j].revents)
			read_conn(s, slot[j]);
	if (pfd[0].revents & POLLIN)
		accept_one(s);
}

void *mix_sink_run(void *arg)
{
	struct mix_sink *s = arg;
	while (!atomic_load(&s->stop))
		mix_sink_poll(s, 100 * NYM_NS_PER_MS);
	return NULL;
}

int mix_sink_serve(struct mix_sink *s, const struct mix_sink_limits *limits)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, mix_sink_run, s);
	if (rc)
		return -rc;
	uint64_t start = nym_clock_now_ns();
	for (;;) {
		struct timespec tick = { 0, 50 * 1000 * 1000 };
		if (sigtimedwait(limits->signals, NULL, &tick) > 0)
			break;
		uint64_t now = nym_clock_now_ns(), frames = atomic_load(&s->frames), last = atomic_load(&s->last_arrival_ns);
		if (limits->count && frames >= limits->count)
			break;
		if (limits->idle_ns && frames && now - last > limits->idle_ns)
			break;
		if (limits->timeout_ns && now - start > limits->timeout_ns)
			break;
	}
	atomic_store(&s->stop, true);
	pthread_join(t, NULL);
	return 0;
}

void mix_sink_close(struct mix_sink *s)
{
	for (size_t i = 0; i < MIX_SINK_MAX_CONNS; i++)
		if (s->conns[i])
			drop_conn(s, i);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}
