#include "gateway/gateway_outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"

int gateway_outbox_init(struct gateway_outbox *o, const struct gateway_tickets_authorities *a,
			uint64_t initial_backoff_ms, uint64_t max_backoff_ms)
{
	memset(o, 0, sizeof(*o));
	if (a->count == 0 || a->count > GATEWAY_OUTBOX_AUTHORITIES_MAX)
		return -EINVAL;
	o->a = a;
	o->initial_backoff_ms = initial_backoff_ms ? initial_backoff_ms : 500;
	o->max_backoff_ms = max_backoff_ms ? max_backoff_ms : 60000;
	if (o->max_backoff_ms < o->initial_backoff_ms)
		o->max_backoff_ms = o->initial_backoff_ms;
	return 0;
}

static void back_off(struct gateway_outbox *o, size_t i, uint64_t now_ms)
{
	uint64_t b = o->backoff_ms[i] ? o->backoff_ms[i] * 2 : o->initial_backoff_ms;
	o->backoff_ms[i] = b < o->max_backoff_ms ? b : o->max_backoff_ms;
	o->next_ms[i] = now_ms + o->backoff_ms[i];
}

int gateway_outbox_flush(struct gateway_outbox *o, struct nym_ticket_store *st, const struct nym_ed25519_keypair *id,
			 int64_t now, uint64_t now_ms, uint64_t *next_ms)
{
	uint8_t *buf;
	size_t len;
	uint64_t last;
	int rc = gateway_tickets_build_report(st, id, now, &buf, &len, &last);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (last != o->last_seq) { /* a report with other serials: every authority needs it */
		o->last_seq = last;
		memset(o->taken, 0, sizeof(o->taken));
	}
	size_t taken = 0;
	uint64_t soonest = UINT64_MAX;
	for (size_t i = 0; i < o->a->count; i++) {
		if (!o->taken[i] && now_ms >= o->next_ms[i]) {
			char err[GATEWAY_TICKETS_ERR_MAX] = "", msg[GATEWAY_TICKETS_ERR_MAX + 96];
			o->counters.attempts++;
			int prc = o->a->post_report(o->a->ctx, i, buf, len, err, sizeof(err));
			if (prc == 0) {
				o->counters.delivered++;
				o->taken[i] = true;
				o->backoff_ms[i] = 0;
			} else {
				if (prc == -EACCES)
					o->counters.refused++;
				else
					o->counters.failed++;
				back_off(o, i, now_ms);
				snprintf(msg, sizeof(msg), "spent report %s (%s); next try in %llu ms",
					 prc == -EACCES ? "refused" : "not delivered", err,
					 (unsigned long long)o->backoff_ms[i]);
				if (o->a->complain)
					o->a->complain(o->a->ctx, msg);
			}
		}
		if (o->taken[i])
			taken++;
		else if (o->next_ms[i] < soonest)
			soonest = o->next_ms[i];
	}
	free(buf);
	if (taken < o->a->count) {
		*next_ms = soonest;
		return -EAGAIN;
	}
	/* Every authority holds these serials: the next report starts after them. */
	if ((rc = nym_ticket_store_report_done(st, last)) != 0)
		return rc;
	memset(o->taken, 0, sizeof(o->taken));
	*next_ms = now_ms;
	return -EAGAIN; /* more may wait beyond one report's worth; the next pass tells */
}

static uint64_t mono_ms(void)
{
	return nym_clock_now_ns() / NYM_NS_PER_MS;
}

int gateway_outbox_deliver(struct gateway_outbox *o, struct nym_ticket_store *st, const struct nym_ed25519_keypair *id,
			   uint64_t wait_ms, size_t *delivered)
{
	uint64_t pending_before = 0, pending_after = 0;
	int rc = nym_ticket_store_pending_reports(st, &pending_before);
	if (rc)
		return rc;
	uint64_t end = mono_ms() + wait_ms;
	for (;;) {
		uint64_t next;
		rc = gateway_outbox_flush(o, st, id, nym_clock_unix_now(), mono_ms(), &next);
		if (rc != -EAGAIN)
			break;
		uint64_t now = mono_ms();
		if (next > now && (next >= end || now >= end)) {
			rc = -ETIMEDOUT;
			break;
		}
		if (next > now) {
			struct timespec pause = { (time_t)((next - now) / 1000), (long)((next - now) % 1000) * 1000000L };
			nanosleep(&pause, NULL);
		}
	}
	nym_ticket_store_pending_reports(st, &pending_after);
	*delivered = pending_before > pending_after ? (size_t)(pending_before - pending_after) : 0;
	return rc;
}
