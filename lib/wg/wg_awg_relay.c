/* The AmneziaWG relay between wireguard-go and the network (see wg_awg_relay.h). */
#include "wg/wg_awg_relay.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/uring_loop.h"
#include "util/log.h"

#define HEAD AWG_MAX_PREFIX	/* headroom in front of every received datagram */
#define DGRAM_MAX 65536
#define DRAIN 64		/* datagrams read without the ring after each completion */
#define TICK_NS 100000000ull	/* how often the thread looks at its stop flag */

enum { SIDE_WG, SIDE_NET };

struct side {
	struct uring_loop_op op;
	struct wg_awg_relay *r;
	int which, fd;
	bool armed;
	struct net_addr bound, peer;
	bool peer_fixed;
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_storage from;
	uint8_t *buf; /* HEAD + DGRAM_MAX */
};

struct wg_awg_relay {
	struct awg_params p;
	struct uring_loop loop;
	struct side side[2];
	uint8_t *junk; /* AWG_NYM_MAX_JC buffers of AWG_NYM_MAX_SIZE + 1 bytes */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	_Atomic uint64_t to_net, from_net, junk_sent, inits, resps, dropped_net, dropped_wg;
};

static void bump(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static int open_side(struct side *s, const struct net_addr *bind_to, int family, uint32_t mark)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)); /* best effort */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0)
		goto fail;
	if (bind_to->len && bind(fd, (const struct sockaddr *)&bind_to->ss, bind_to->len) != 0)
		goto fail;
	s->bound.len = sizeof(s->bound.ss);
	if (getsockname(fd, (struct sockaddr *)&s->bound.ss, &s->bound.len) != 0)
		goto fail;
	s->fd = fd;
	return 0;
fail:;
	int rc = -errno;
	close(fd);
	return rc;
}

static void send_to(struct side *s, const uint8_t *data, size_t len)
{
	if (sendto(s->fd, data, len, MSG_DONTWAIT, (const struct sockaddr *)&s->peer.ss, s->peer.len) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED)
		log_debug("awg relay: send: %s", strerror(errno));
}

/* Jc junk datagrams and then the encoded initiation, in one sendmmsg where it takes them. */
static void send_initiation(struct wg_awg_relay *r, struct side *net, uint8_t *msg, size_t len)
{
	struct mmsghdr mm[AWG_NYM_MAX_JC + 1];
	struct iovec iov[AWG_NYM_MAX_JC + 1];
	unsigned n = 0;
	for (; n < r->p.jc; n++) {
		size_t jl = awg_junk_size(&r->p, NULL);
		uint8_t *j = r->junk + (size_t)n * (AWG_NYM_MAX_SIZE + 1);
		awg_junk_fill(j, jl, NULL);
		iov[n] = (struct iovec){ j, jl };
	}
	iov[n++] = (struct iovec){ msg, len };
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &net->peer.ss, .msg_namelen = net->peer.len,
						       .msg_iov = &iov[i], .msg_iovlen = 1 } };
	unsigned done = 0;
	while (done < n) {
		int k = sendmmsg(net->fd, mm + done, n - done, MSG_DONTWAIT);
		if (k <= 0) {
			if (k < 0 && errno != EAGAIN)
				log_debug("awg relay: sendmmsg: %s", strerror(errno));
			break;
		}
		done += (unsigned)k;
	}
	for (unsigned i = 0; i < done && i + 1 < n; i++)
		bump(&r->junk_sent);
}

static void from_wg(struct wg_awg_relay *r, struct side *wg, size_t len)
{
	struct side *net = &r->side[SIDE_NET];
	uint8_t *msg = wg->buf + HEAD;
	unsigned type = awg_wg_type(msg, len);
	if (!wg->peer_fixed) {
		memcpy(&wg->peer.ss, &wg->from, wg->mh.msg_namelen);
		wg->peer.len = wg->mh.msg_namelen;
	}
	if (!type || !net->peer.len) {
		bump(&r->dropped_wg);
		return;
	}
	size_t pre = awg_prefix_len(&r->p, type);
	ssize_t n = awg_encode(&r->p, msg, len, msg - pre, len + pre, NULL);
	if (n < 0) {
		bump(&r->dropped_wg);
		return;
	}
	if (type == AWG_MSG_INIT) {
		bump(&r->inits);
		send_initiation(r, net, msg - pre, (size_t)n);
	} else {
		if (type == AWG_MSG_RESPONSE)
			bump(&r->resps);
		send_to(net, msg - pre, (size_t)n);
	}
	bump(&r->to_net);
}

static void from_net(struct wg_awg_relay *r, struct side *net, size_t len)
{
	struct side *wg = &r->side[SIDE_WG];
	size_t off;
	uint8_t *d = net->buf + HEAD;
	if (!awg_decode(&r->p, d, len, &off)) {
		bump(&r->dropped_net);
		return;
	}
	if (!net->peer_fixed) {
		memcpy(&net->peer.ss, &net->from, net->mh.msg_namelen);
		net->peer.len = net->mh.msg_namelen;
	}
	if (!wg->peer.len) {
		bump(&r->dropped_net);
		return;
	}
	send_to(wg, d + off, len - off);
	bump(&r->from_net);
}

static void handle(struct side *s, size_t len)
{
	if (s->which == SIDE_WG)
		from_wg(s->r, s, len);
	else
		from_net(s->r, s, len);
}

static void reset_msg(struct side *s)
{
	s->iov = (struct iovec){ s->buf + HEAD, DGRAM_MAX };
	s->mh = (struct msghdr){ .msg_name = &s->from, .msg_namelen = sizeof(s->from), .msg_iov = &s->iov,
				 .msg_iovlen = 1 };
}

static void arm(struct side *s);

static void on_recv(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct side *s = container_of(op, struct side, op);
	s->armed = false;
	if (atomic_load(&s->r->stop))
		return;
	if (res >= 0 && !(s->mh.msg_flags & MSG_TRUNC))
		handle(s, (size_t)res);
	/* Whatever else is queued, without a trip through the ring. */
	for (int i = 0; i < DRAIN; i++) {
		reset_msg(s);
		ssize_t n = recvmsg(s->fd, &s->mh, MSG_DONTWAIT);
		if (n < 0)
			break;
		if (!(s->mh.msg_flags & MSG_TRUNC))
			handle(s, (size_t)n);
	}
	arm(s);
}

static void arm(struct side *s)
{
	reset_msg(s);
	s->op.cb = on_recv;
	struct io_uring_sqe *sqe = uring_loop_sqe(&s->r->loop, &s->op);
	io_uring_prep_recvmsg(sqe, s->fd, &s->mh, 0);
	s->armed = true;
}

static void *run(void *arg)
{
	struct wg_awg_relay *r = arg;
	int rc = uring_loop_enable(&r->loop);
	if (rc) {
		log_error("awg relay: cannot enable its io_uring: %s", strerror(-rc));
		return NULL;
	}
	arm(&r->side[SIDE_WG]);
	arm(&r->side[SIDE_NET]);
	while (!atomic_load(&r->stop)) {
		rc = uring_loop_run_once(&r->loop, TICK_NS);
		if (rc < 0 && rc != -EINTR && rc != -ETIME) {
			log_error("awg relay: io_uring: %s", strerror(-rc));
			break;
		}
	}
	/* Cancel the receives still armed and wait for their completions: the kernel must be done
	 * with the buffers before they are freed. */
	for (int i = 0; i < 2; i++)
		if (r->side[i].armed)
			io_uring_prep_cancel(uring_loop_sqe_noop(&r->loop), &r->side[i].op, 0);
	for (int n = 0; n < 50 && (r->side[0].armed || r->side[1].armed); n++)
		uring_loop_run_once(&r->loop, TICK_NS);
	return NULL;
}

static void release(struct wg_awg_relay *r)
{
	for (int i = 0; i < 2; i++) {
		if (r->side[i].fd >= 0)
			close(r->side[i].fd);
		free(r->side[i].buf);
	}
	free(r->junk);
	free(r);
}

int wg_awg_relay_start(const struct wg_awg_relay_config *c, struct wg_awg_relay **out)
{
	*out = NULL;
	if (awg_params_validate(&c->params, NULL) != 0 || !c->wg_bind.len || (!c->net_bind.len && !c->net_peer.len))
		return -EINVAL;
	struct wg_awg_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = c->params;
	r->side[0].fd = r->side[1].fd = -1;
	int rc = -ENOMEM;
	r->junk = malloc((size_t)AWG_NYM_MAX_JC * (AWG_NYM_MAX_SIZE + 1));
	if (!r->junk)
		goto fail;
	for (int i = 0; i < 2; i++) {
		struct side *s = &r->side[i];
		s->r = r;
		s->which = i;
		if (!(s->buf = malloc(HEAD + DGRAM_MAX)))
			goto fail;
	}
	struct side *wg = &r->side[SIDE_WG], *net = &r->side[SIDE_NET];
	if ((rc = open_side(wg, &c->wg_bind, c->wg_bind.ss.ss_family, 0)) != 0)
		goto fail;
	int nfam = c->net_bind.len ? c->net_bind.ss.ss_family : c->net_peer.ss.ss_family;
	if ((rc = open_side(net, &c->net_bind, nfam, c->fwmark)) != 0)
		goto fail;
	wg->peer = c->wg_peer;
	wg->peer_fixed = c->wg_peer.len != 0;
	net->peer = c->net_peer;
	net->peer_fixed = c->net_peer.len != 0;
	if ((rc = uring_loop_init(&r->loop, 64)) != 0)
		goto fail;
	if ((rc = pthread_create(&r->thread, NULL, run, r)) != 0) {
		uring_loop_fini(&r->loop);
		rc = -rc;
		goto fail;
	}
	r->started = true;
	*out = r;
	return 0;
fail:
	release(r);
	return rc;
}

void wg_awg_relay_wg_addr(const struct wg_awg_relay *r, struct net_addr *out)
{
	*out = r->side[SIDE_WG].bound;
}

void wg_awg_relay_net_addr(const struct wg_awg_relay *r, struct net_addr *out)
{
	*out = r->side[SIDE_NET].bound;
}

void wg_awg_relay_stats(const struct wg_awg_relay *r, struct wg_awg_relay_stats *o)
{
	o->to_net = atomic_load_explicit(&r->to_net, memory_order_relaxed);
	o->from_net = atomic_load_explicit(&r->from_net, memory_order_relaxed);
	o->junk = atomic_load_explicit(&r->junk_sent, memory_order_relaxed);
	o->initiations = atomic_load_explicit(&r->inits, memory_order_relaxed);
	o->responses = atomic_load_explicit(&r->resps, memory_order_relaxed);
	o->dropped_net = atomic_load_explicit(&r->dropped_net, memory_order_relaxed);
	o->dropped_wg = atomic_load_explicit(&r->dropped_wg, memory_order_relaxed);
}

void wg_awg_relay_stop(struct wg_awg_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	if (r->started) {
		pthread_join(r->thread, NULL);
		/* The ring goes first: a receive still armed points into the buffers freed below. */
		uring_loop_fini(&r->loop);
	}
	release(r);
}
