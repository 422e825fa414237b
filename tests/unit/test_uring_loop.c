#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "io/uring_loop.h"
#include "util/clock.h"

struct read_op {
	struct uring_loop_op op;
	int res;
	bool done;
};

static void on_read(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct read_op *r = (struct read_op *)op;
	r->res = res;
	r->done = true;
}

struct writer {
	int fd;
	atomic_bool written;
};

static void *write_later(void *arg)
{
	struct writer *w = arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	char c = 'x';
	if (write(w->fd, &c, 1) != 1)
		return (void *)1;
	atomic_store(&w->written, true);
	return NULL;
}

/* A busy-polling caller (timeout 0) must see at once a completion that another thread
 * caused. With COOP_TASKRUN the kernel defers it to this task until the task next enters the
 * kernel; a poll that only looked at the ring would see it a timer tick later at best. So
 * this thread makes no system call between the write and the poll. */
Test(uring_loop, polling_without_waiting_sees_completions_from_other_threads)
{
	struct uring_loop loop;
	cr_assert_eq(uring_loop_init(&loop, 8), 0);
	cr_assert_eq(uring_loop_enable(&loop), 0);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	char buf[4];
	struct read_op r = { .op.cb = on_read };
	io_uring_prep_read(uring_loop_sqe(&loop, &r.op), p[0], buf, sizeof(buf), 0);
	cr_assert_eq(uring_loop_run_once(&loop, 0), 0); /* submitted; the pipe is empty */
	struct writer w = { .fd = p[1] };
	pthread_t t;
	pthread_create(&t, NULL, write_later, &w);
	while (!atomic_load(&w.written))
		;
	cr_assert_eq(uring_loop_run_once(&loop, 0), 1);
	void *rc;
	pthread_join(t, &rc);
	cr_assert_null(rc);
	cr_assert(r.done);
	cr_assert_eq(r.res, 1);
	uring_loop_fini(&loop);
	close(p[0]);
	close(p[1]);
}

Test(uring_loop, waiting_times_out_without_completions)
{
	struct uring_loop loop;
	cr_assert_eq(uring_loop_init(&loop, 8), 0);
	cr_assert_eq(uring_loop_enable(&loop), 0);
	uint64_t start = nym_clock_now_ns();
	cr_assert_eq(uring_loop_run_once(&loop, 30 * NYM_NS_PER_MS), 0);
	cr_assert_geq(loop.now_ns - start, 30 * NYM_NS_PER_MS);
	uring_loop_fini(&loop);
}
