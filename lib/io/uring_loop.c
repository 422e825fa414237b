#include "io/uring_loop.h"

#include "util/clock.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int uring_loop_init(struct uring_loop *loop, unsigned entries)
{
	memset(loop, 0, sizeof(*loop));
	struct io_uring_params p = { 0 };
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_CQSIZE |
		  IORING_SETUP_R_DISABLED;
	p.cq_entries = entries * 4;
	int rc = io_uring_queue_init_params(entries, &loop->ring, &p);
	if (rc == -EINVAL) {
		/* Kernels before 6.0 lack SINGLE_ISSUER: run without it. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_R_DISABLED;
		p.cq_entries = entries * 4;
		rc = io_uring_queue_init_params(entries, &loop->ring, &p);
	}
	return rc;
}

int uring_loop_enable(struct uring_loop *loop)
{
	/* liburing 2.3 (Debian 12) has no wrapper for this registration. */
	if (syscall(__NR_io_uring_register, loop->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		return -errno;
	return 0;
}

void uring_loop_fini(struct uring_loop *loop)
{
	io_uring_queue_exit(&loop->ring);
}

static struct io_uring_sqe *get_sqe(struct uring_loop *loop)
{
	struct io_uring_sqe *sqe;
	while (!(sqe = io_uring_get_sqe(&loop->ring))) {
		io_uring_submit(&loop->ring);
		loop->pending = 0;
	}
	loop->pending++;
	return sqe;
}

struct io_uring_sqe *uring_loop_sqe(struct uring_loop *loop, struct uring_loop_op *op)
{
	struct io_uring_sqe *sqe = get_sqe(loop);
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

struct io_uring_sqe *uring_loop_sqe_noop(struct uring_loop *loop)
{
	struct io_uring_sqe *sqe = get_sqe(loop);
	io_uring_sqe_set_data(sqe, NULL);
	return sqe;
}

int uring_loop_run_once(struct uring_loop *loop, uint64_t timeout_ns)
{
	struct io_uring_cqe *cqe;
	int rc;
	if (timeout_ns) {
		struct __kernel_timespec ts = { .tv_sec = (long long)(timeout_ns / 1000000000ull),
						.tv_nsec = (long long)(timeout_ns % 1000000000ull) };
		rc = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
	} else {
		rc = io_uring_submit_and_get_events(&loop->ring);
	}
	loop->pending = 0;
	loop->now_ns = nym_clock_now_ns();
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY)
		return rc;

	unsigned head, handled = 0;
	/* Callbacks may queue new SQEs; they are submitted on the next round. */
	io_uring_for_each_cqe(&loop->ring, head, cqe) {
		struct uring_loop_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		uint32_t flags = cqe->flags;
		io_uring_cqe_seen(&loop->ring, cqe);
		handled++;
		if (op)
			op->cb(op, res, flags);
	}
	return (int)handled;
}
