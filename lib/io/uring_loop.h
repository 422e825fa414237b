/* A thin event loop over one io_uring. Each submission carries a `struct uring_loop_op` whose
 * callback runs when it completes; the owner embeds the op in its own state and recovers it
 * with container_of. One loop per thread, never shared: the ring is created with
 * SINGLE_ISSUER and cooperative task running. */
#ifndef NYM_IO_URING_LOOP_H
#define NYM_IO_URING_LOOP_H

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct uring_loop_op;
typedef void (*uring_loop_cb)(struct uring_loop_op *op, int res, uint32_t cqe_flags);

struct uring_loop_op {
	uring_loop_cb cb;
};

struct uring_loop {
	struct io_uring ring;
	unsigned pending; /* SQEs prepared since the last submit */
	uint64_t now_ns;  /* monotonic time, refreshed after every wait, before callbacks run */
};

/* Creates the ring, disabled: only the thread that enables it may submit (SINGLE_ISSUER), so
 * a ring made by one thread for another is enabled by its owner with uring_loop_enable.
 * Returns 0 or a negative errno (io_uring unavailable, RLIMIT_MEMLOCK, ...). */
int uring_loop_init(struct uring_loop *loop, unsigned entries);
/* Called once by the owning thread before its first submission. */
int uring_loop_enable(struct uring_loop *loop);
void uring_loop_fini(struct uring_loop *loop);

/* A fresh SQE tied to op (submitting queued ones first if the ring is full). Never NULL. */
struct io_uring_sqe *uring_loop_sqe(struct uring_loop *loop, struct uring_loop_op *op);

/* A fresh SQE whose completion is ignored (for cancellations and linked timeouts). */
struct io_uring_sqe *uring_loop_sqe_noop(struct uring_loop *loop);

/* Submits what is queued, waits for at least one completion or until timeout_ns elapses
 * (0: do not wait, but still enter the kernel so that completions deferred to this task are
 * posted: with COOP_TASKRUN a loop that only peeks at the ring would never see them),
 * refreshes now_ns, then runs the callbacks of every completion available.
 * Returns the number of completions handled or a negative errno. */
int uring_loop_run_once(struct uring_loop *loop, uint64_t timeout_ns);

#endif
