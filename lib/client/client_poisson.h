/* The two Poisson streams that leave every Loopix / Nym client (nym-facts.md section 5,
 * sphinx.md section 2.8).
 *
 *  - The mixed stream fires at exponential intervals of mean message_sending_average_delay
 *    (20 ms by default). Each firing sends one queued real packet if the caller has one, else
 *    a cover packet, so an observer sees the same rate whether the client talks or not.
 *  - The loop cover stream fires at exponential intervals of mean
 *    loop_cover_traffic_average_delay (200 ms by default) and always sends a loop cover packet.
 *
 * This is a scheduler only: the caller owns the queue of real packets and tells the scheduler
 * how many wait; the caller passes the time (nanoseconds, any monotonic origin), so there is no
 * clock read here and tests step time. Randomness comes from the nym_rng given at init.
 *
 * Catch-up after a gap: when the caller polls late (it slept, the machine was suspended), each
 * stream fires at most once and its next wait is drawn from the time of that poll. Missed
 * events are not replayed as a burst: a burst would be a traffic signature of its own, and the
 * exponential law is memoryless, so restarting the wait from now keeps the stream Poisson. The
 * cost is that lateness lowers the rate slightly; a driver that arms its timer at the due time
 * keeps the lateness to its timer slack.
 *
 * Each Poisson stream fires at most once per distinct now_ns (waits are at least 1 ns), so
 * polling until CLIENT_POISSON_NONE always ends. With the main distribution disabled, every
 * queued real packet is due at once: the caller's queue drains in one round of polls.
 *
 * Not thread-safe: one instance per client. */
#ifndef NYM_CLIENT_CLIENT_POISSON_H
#define NYM_CLIENT_CLIENT_POISSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"

#define CLIENT_POISSON_DEFAULT_MESSAGE_SENDING_AVERAGE_DELAY_NS (20ull * 1000000ull)
#define CLIENT_POISSON_DEFAULT_LOOP_COVER_TRAFFIC_AVERAGE_DELAY_NS (200ull * 1000000ull)

struct client_poisson_config {
	/* Mean wait of the mixed stream. 0 lifts the rate: the stream fires once at every poll time
	 * (a real packet if one waits, else cover), as fast as the caller polls. */
	uint64_t message_sending_average_delay_ns;
	/* Mean wait of the loop cover stream; 0 is refused (a loop stream at every poll would
	 * only flood), switch the stream off instead. */
	uint64_t loop_cover_traffic_average_delay_ns;
	/* No Poisson timing and no cover on the mixed stream: real packets go as soon as queued. */
	bool disable_main_poisson_packet_distribution;
	bool disable_loop_cover_traffic_stream;
};

enum client_poisson_event {
	CLIENT_POISSON_NONE = 0,   /* nothing due now */
	CLIENT_POISSON_REAL,	   /* send the next queued real packet (mixed stream) */
	CLIENT_POISSON_COVER,	   /* send a cover packet in the mixed stream (queue empty) */
	CLIENT_POISSON_LOOP_COVER, /* send a loop cover packet (loop stream) */
};

struct client_poisson_stats {
	uint64_t real;
	uint64_t cover;
	uint64_t loop_cover;
	uint64_t late_ns_max; /* the largest lateness of a firing: how late the caller polled */
};

struct client_poisson {
	struct client_poisson_config cfg;
	struct nym_rng rng; /* fill NULL: system randomness */
	uint64_t mixed_due_ns;
	uint64_t loop_due_ns;
	struct client_poisson_stats stats;
};

/* Nym's defaults: 20 ms mixed, 200 ms loop, both streams on. */
void client_poisson_config_default(struct client_poisson_config *cfg);

/* Starts both streams at now_ns: the first event of each is one exponential wait away. rng
 * NULL means system randomness; its context must outlive p. Returns 0 or -EINVAL (loop mean 0
 * with the loop stream on). */
int client_poisson_init(struct client_poisson *p, const struct client_poisson_config *cfg,
			const struct nym_rng *rng, uint64_t now_ns);

/* When the next event is due, given `queued` real packets waiting: a time <= now_ns means at
 * once; UINT64_MAX means never until something is queued (both streams off or idle). */
uint64_t client_poisson_next_due(const struct client_poisson *p, uint64_t now_ns, size_t queued);

/* The one event due at now_ns, if any (the earlier-due stream first); the caller sends what it
 * names and polls again until CLIENT_POISSON_NONE. A stream that fires draws its next wait
 * from now_ns. */
enum client_poisson_event client_poisson_poll(struct client_poisson *p, uint64_t now_ns, size_t queued);

void client_poisson_get_stats(const struct client_poisson *p, struct client_poisson_stats *out);

#endif
