#include "mix_sink.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"

#define MAX_CONNS 64

struct sink_conn {
	int fd;
	struct mix_frame_decoder dec;
};

int mix_sink_open(struct mix_sink *s, const struct sock_addr *addr, mix_sink_cb cb, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->cb = cb;
	s->ctx = ctx;
	s->listen_fd = sock_tcp_listen(addr, false, 128);
	return s->listen_fd < 0 ? s->listen_fd : 0;
}

void *mix_sink_run(void *arg)
{
	struct mix_sink *s = arg;
	struct sink_conn *conns[MAX_CONNS] = { 0 };
	struct pollfd pfd[MAX_CONNS + 1];
	static __thread uint8_t buf[1 << 16];
	while (!atomic_load(&s->stop)) {
		size_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < MAX_CONNS; i++)
			if (conns[i])
				pfd[n++] = (struct pollfd){ .fd = conns[i]->fd, .events = POLLIN };
		if (poll(pfd, n, 100) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			for (size_t i = 0; fd >= 0 && i < MAX_CONNS; i++) {
				if (!conns[i]) {
					conns[i] = malloc(sizeof(*conns[i]));
					conns[i]->fd = fd;
					mix_frame_decoder_init(&conns[i]->dec);
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (size_t i = 0; i < MAX_CONNS; i++) {
			struct sink_conn *c = conns[i];
			bool ready = false;
			for (size_t j = 1; c && j < n; j++)
				ready |= pfd[j].fd == c->fd && pfd[j].revents;
			if (!ready)
				continue;
			ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
			uint64_t now = nym_now_ns();
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
				close(c->fd);
				free(c);
				conns[i] = NULL;
			}
		}
	}
	for (size_t i = 0; i < MAX_CONNS; i++) {
		if (conns[i]) {
			close(conns[i]->fd);
			free(conns[i]);
		}
	}
	return NULL;
}

void mix_sink_close(struct mix_sink *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}
