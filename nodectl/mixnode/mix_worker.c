#include "nodectl/mixnode/mix_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"

#define RING_ENTRIES 1024
#define HOUSEKEEPING_NS (1000 * NYM_NS_PER_MS)
#define FREE_SLOTS_KEPT 4096
#define REGULAR_FRAME_LEN (MIX_FRAME_HEADER_LEN + MIX_REGULAR_PACKET_LEN)

struct packet_slot *mix_slot_alloc(struct mix_worker *w, size_t frame_len)
{
	size_t capacity = frame_len <= REGULAR_FRAME_LEN ? REGULAR_FRAME_LEN : frame_len;
	if (w->packet_memory + capacity > w->shared->packet_memory_max)
		return NULL;
	struct packet_slot *s;
	if (capacity == REGULAR_FRAME_LEN && w->free_slots) {
		s = w->free_slots;
		w->free_slots = s->next;
		w->free_slot_count--;
	} else {
		s = malloc(sizeof(*s) + capacity);
		if (!s)
			return NULL;
		s->capacity = (uint32_t)capacity;
	}
	w->packet_memory += capacity;
	s->next = NULL;
	s->peer = NULL;
	s->frame_len = (uint32_t)frame_len;
	return s;
}

void mix_slot_free(struct mix_worker *w, struct packet_slot *s)
{
	w->packet_memory -= s->capacity;
	if (s->capacity == REGULAR_FRAME_LEN && w->free_slot_count < FREE_SLOTS_KEPT) {
		s->next = w->free_slots;
		w->free_slots = s;
		w->free_slot_count++;
		return;
	}
	free(s);
}

static void arm_wake(struct mix_worker *w)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&w->loop, &w->wake_op);
	io_uring_prep_read(sqe, w->wake_fd, &w->wake_value, sizeof(w->wake_value), 0);
}

static void on_wake(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct mix_worker *w = container_of(op, struct mix_worker, wake_op);
	if (atomic_load(&w->shared->stopping))
		return;
	if (w->shared->gateway_drain)
		w->shared->gateway_drain(w->shared->gateway_ctx, w);
	arm_wake(w);
}

static void arm_accept(struct mix_worker *w)
{
	struct io_uring_sqe *sqe = uring_loop_sqe(&w->loop, &w->accept_op);
	io_uring_prep_multishot_accept(sqe, w->shared->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* A connection on its way from the accepting worker to another, with its address slot. It
 * travels as the user data of a message to the target's ring, and belongs to the target
 * once delivered; the sender sees a completion only when the message failed (the send is
 * CQE_SKIP_SUCCESS), and then closes the connection itself. */
struct handoff {
	struct uring_loop_op delivered_op; /* completes on the target */
	struct uring_loop_op failed_op;    /* completes on the sender */
	struct mix_worker *target;
	int fd;
	uint32_t addr_slot;
};

static void on_handoff_delivered(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct handoff *h = container_of(op, struct handoff, delivered_op);
	mix_ingress_adopt(h->target, h->fd, h->addr_slot);
	free(h);
}

static void on_handoff_failed(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct handoff *h = container_of(op, struct handoff, failed_op);
	log_ratelimited(NYM_LOG_WARN, "mixnet: connection handoff failed: %s", strerror(-res));
	conn_limit_release(&h->target->shared->limits, h->addr_slot);
	close(h->fd);
	free(h);
}

/* Counts a new connection against its address's limit. Returns false if it must go. */
static bool admit(struct mix_worker *w, int fd, uint32_t *addr_slot)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
		return false; /* already reset by the peer */
	int rc = conn_limit_admit(&w->shared->limits, (const struct sockaddr *)&peer, w->loop.now_ns, addr_slot);
	if (rc == 0)
		return true;
	char text[NET_ADDR_STR_LEN];
	net_addr_format((const struct sockaddr *)&peer, text);
	if (rc == -EUSERS) {
		METRIC_INC(w->m, ingress_refused_address_limit);
		log_ratelimited(NYM_LOG_WARN, "mixnet: %s holds %u connections already, refusing another", text,
				w->shared->per_address_max);
	} else if (rc == -ENOSPC) {
		METRIC_INC(w->m, ingress_refused_address_table);
		log_ratelimited(NYM_LOG_WARN, "mixnet: no room to count connections from %s, refusing it", text);
	}
	return false;
}

static void on_accept(struct uring_loop_op *op, int res, uint32_t flags)
{
	struct mix_worker *w = container_of(op, struct mix_worker, accept_op);
	if (atomic_load(&w->shared->stopping)) {
		if (res >= 0)
			close(res);
		return;
	}
	if (!(flags & IORING_CQE_F_MORE))
		arm_accept(w);
	if (res < 0) {
		if (res != -ECANCELED)
			log_ratelimited(NYM_LOG_WARN, "mixnet: accept failed: %s", strerror(-res));
		return;
	}
	uint32_t addr_slot;
	if (!admit(w, res, &addr_slot)) {
		close(res);
		return;
	}
	struct mix_worker *target = &w->shared->workers[w->next_handoff++ % w->shared->nworkers];
	if (target == w) {
		mix_ingress_adopt(w, res, addr_slot);
		return;
	}
	struct handoff *h = malloc(sizeof(*h));
	if (!h) {
		conn_limit_release(&w->shared->limits, addr_slot);
		close(res);
		return;
	}
	*h = (struct handoff){ { on_handoff_delivered }, { on_handoff_failed }, target, res, addr_slot };
	struct io_uring_sqe *sqe = uring_loop_sqe(&w->loop, &h->failed_op);
	io_uring_prep_msg_ring(sqe, target->loop.ring.ring_fd, 0, (uint64_t)(uintptr_t)&h->delivered_op, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* Moves every packet that is due to its next hop. */
static void release_due(struct mix_worker *w)
{
	void *item;
	while (delay_queue_pop_due(&w->delays, w->loop.now_ns, &item))
		mix_egress_enqueue(w, item);
}

static void housekeeping(struct mix_worker *w)
{
	mix_ingress_housekeeping(w);
	mix_egress_housekeeping(w);
	METRIC_SET(w->m, being_delayed, delay_queue_len(&w->delays));
	METRIC_SET(w->m, pending_delivery, w->pending_delivery);
	w->next_housekeeping_ns = w->loop.now_ns + HOUSEKEEPING_NS;
}

static void *worker_main(void *arg)
{
	struct mix_worker *w = arg;
	char name[16];
	snprintf(name, sizeof(name), "mix-worker-%zu", w->index);
	pthread_setname_np(pthread_self(), name); /* what top -H and perf show */
	int rc = uring_loop_enable(&w->loop);
	if (rc)
		log_error("mixnet worker %zu: cannot enable its ring: %s", w->index, strerror(-rc));
	/* Connections are handed to every ring, so all must be live before the first accept. */
	pthread_barrier_wait(&w->shared->rings_ready);
	if (rc)
		return NULL;
	w->loop.now_ns = nym_clock_now_ns();
	w->next_housekeeping_ns = w->loop.now_ns + HOUSEKEEPING_NS;
	arm_wake(w);
	if (w->index == 0)
		arm_accept(w);
	while (!atomic_load(&w->shared->stopping)) {
		release_due(w);
		mix_egress_flush_dirty(w);
		if (w->loop.now_ns >= w->next_housekeeping_ns)
			housekeeping(w);
		uint64_t next = delay_queue_next_due(&w->delays);
		if (next > w->next_housekeeping_ns)
			next = w->next_housekeeping_ns;
		uint64_t timeout = next > w->loop.now_ns ? next - w->loop.now_ns : 1;
		/* Busy polling: a worker that just had work looks again at once instead of
		 * sleeping. Waking a sleeping CPU costs tens of microseconds on hardware and,
		 * on a virtual machine whose host gave the idle CPU to someone else,
		 * milliseconds; under steady traffic the next packet is usually that close. */
		if (w->loop.now_ns < w->busy_poll_until_ns)
			timeout = 0;
		rc = uring_loop_run_once(&w->loop, timeout);
		if (rc < 0) {
			log_error("mixnet worker %zu: io_uring failed: %s", w->index, strerror(-rc));
			break;
		}
		mix_ingress_flush(w);
		if (rc > 0 && w->shared->busy_poll_ns)
			w->busy_poll_until_ns = nym_clock_now_ns() + w->shared->busy_poll_ns;
	}
	return NULL;
}

static void worker_fini(struct mix_worker *w)
{
	/* Tear the ring down first: no callback runs after this. */
	uring_loop_fini(&w->loop);
	mix_ingress_close_all(w);
	mix_egress_close_all(w);
	/* Frames taken in a round the loop left on an io_uring error were never decided. */
	for (size_t i = 0; i < w->pending_count; i++)
		mix_slot_free(w, w->pending[i].slot);
	void *item;
	while (delay_queue_pop(&w->delays, &item))
		mix_slot_free(w, item);
	delay_queue_fini(&w->delays);
	while (w->free_slots) {
		struct packet_slot *s = w->free_slots;
		w->free_slots = s->next;
		free(s);
	}
	close(w->wake_fd);
}

int mix_workers_start(struct mix_shared *shared)
{
	int rc = conn_limit_init(&shared->limits, shared->nworkers * shared->ingress_max, shared->per_address_max,
				 shared->handshakes_per_second, shared->handshake_burst);
	if (rc) {
		log_error("mixnet: cannot size the address table for %zu connections: %s",
			  shared->nworkers * shared->ingress_max, strerror(-rc));
		return rc;
	}
	shared->ingress_timeouts = (struct conn_limit_timeouts){ shared->first_frame_ns, shared->idle_ns };
	shared->workers = calloc(shared->nworkers, sizeof(*shared->workers));
	if (!shared->workers)
		return -ENOMEM;
	for (size_t i = 0; i < shared->nworkers; i++) {
		struct mix_worker *w = &shared->workers[i];
		w->shared = shared;
		w->index = i;
		w->m = &shared->metrics->per_worker[i];
		w->wake_op.cb = on_wake;
		w->accept_op.cb = on_accept;
		w->wake_fd = eventfd(0, EFD_CLOEXEC);
		rc = w->wake_fd < 0 ? -errno : uring_loop_init(&w->loop, RING_ENTRIES);
		if (rc == 0)
			rc = delay_queue_init(&w->delays, shared->delayed_max);
		if (rc) {
			log_error("mixnet worker %zu: cannot start: %s", i, strerror(-rc));
			return rc;
		}
	}
	pthread_barrier_init(&shared->rings_ready, NULL, (unsigned)shared->nworkers);
	for (size_t i = 0; i < shared->nworkers; i++) {
		rc = pthread_create(&shared->workers[i].thread, NULL, worker_main, &shared->workers[i]);
		if (rc) {
			log_error("mixnet: cannot start worker thread: %s", strerror(rc));
			return -rc;
		}
	}
	return 0;
}

void mix_workers_stop(struct mix_shared *shared)
{
	atomic_store(&shared->stopping, true);
	for (size_t i = 0; i < shared->nworkers; i++) {
		uint64_t one = 1;
		if (write(shared->workers[i].wake_fd, &one, sizeof(one)) < 0)
			log_warn("mixnet: cannot wake worker %zu", i);
	}
	for (size_t i = 0; i < shared->nworkers; i++)
		pthread_join(shared->workers[i].thread, NULL);
	for (size_t i = 0; i < shared->nworkers; i++)
		worker_fini(&shared->workers[i]);
	pthread_barrier_destroy(&shared->rings_ready);
	free(shared->workers);
	shared->workers = NULL;
	conn_limit_fini(&shared->limits);
}
