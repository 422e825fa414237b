#include "directory/spent_outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cred/spent_report.h"
#include "directory/dir_client.h"
#include "http/http_client.h"
#include "util/clock.h"
#include "util/log.h"

int nym_spent_outbox_init(struct nym_spent_outbox *o, const char *const *urls, size_t n, uint64_t initial_backoff_ms,
			  uint64_t max_backoff_ms, long timeout_ms)
{
	memset(o, 0, sizeof(*o));
	if (n == 0 || n > NYM_SPENT_OUTBOX_AUTHORITIES_MAX)
		return -EINVAL;
	o->urls = urls;
	o->n = n;
	o->initial_backoff_ms = initial_backoff_ms ? initial_backoff_ms : 500;
	o->max_backoff_ms = max_backoff_ms ? max_backoff_ms : 60000;
	if (o->max_backoff_ms < o->initial_backoff_ms)
		o->max_backoff_ms = o->initial_backoff_ms;
	o->timeout_ms = timeout_ms;
	return 0;
}

static void back_off(struct nym_spent_outbox *o, size_t i, uint64_t now_ms)
{
	uint64_t b = o->backoff_ms[i] ? o->backoff_ms[i] * 2 : o->initial_backoff_ms;
	o->backoff_ms[i] = b < o->max_backoff_ms ? b : o->max_backoff_ms;
	o->next_ms[i] = now_ms + o->backoff_ms[i];
}

int nym_spent_outbox_flush(struct nym_spent_outbox *o, struct nym_ticket_store *st,
			   const struct nym_ed25519_keypair *id, int64_t now, uint64_t now_ms, uint64_t *next_ms)
{
	uint8_t *buf = malloc(NYM_SPENT_REPORT_MAX_LEN);
	size_t len;
	uint64_t last;
	if (!buf)
		return -ENOMEM;
	int rc = nym_ticket_store_report(st, id, now, buf, NYM_SPENT_REPORT_MAX_LEN, &len, &last);
	if (rc) {
		free(buf);
		return rc == -ENOENT ? 0 : rc;
	}
	if (last != o->last_seq) { /* a report with other serials: every authority needs it */
		o->last_seq = last;
		memset(o->taken, 0, sizeof(o->taken));
	}
	size_t taken = 0;
	uint64_t soonest = UINT64_MAX;
	for (size_t i = 0; i < o->n; i++) {
		if (!o->taken[i] && now_ms >= o->next_ms[i]) {
			char url[512], err[NYM_DIR_ERR_MAX] = "", *answer = NULL;
			int status = 0;
			o->counters.attempts++;
			nym_http_url(url, sizeof(url), o->urls[i], "/v1/spent");
			if (nym_dir_post(url, "application/octet-stream", buf, len, o->timeout_ms, &status, &answer, err,
					 sizeof(err))) {
				o->counters.failed++;
				back_off(o, i, now_ms);
				log_warn("spent report to %s failed (%s); next try in %llu ms", o->urls[i], err,
					 (unsigned long long)o->backoff_ms[i]);
			} else if (status != 200) {
				o->counters.refused++;
				back_off(o, i, now_ms);
				log_warn("spent report refused by %s: HTTP %d %.200s; next try in %llu ms", o->urls[i],
					 status, answer ? answer : "", (unsigned long long)o->backoff_ms[i]);
			} else {
				o->counters.delivered++;
				o->taken[i] = true;
				o->backoff_ms[i] = 0;
			}
			free(answer);
		}
		if (o->taken[i])
			taken++;
		else if (o->next_ms[i] < soonest)
			soonest = o->next_ms[i];
	}
	free(buf);
	if (taken < o->n) {
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
	return nym_now_ns() / NYM_NS_PER_MS;
}

int nym_spent_outbox_deliver(struct nym_spent_outbox *o, struct nym_ticket_store *st,
			     const struct nym_ed25519_keypair *id, uint64_t wait_ms, size_t *delivered)
{
	uint64_t pending_before = 0, pending_after = 0;
	int rc = nym_ticket_store_pending_reports(st, &pending_before);
	if (rc)
		return rc;
	uint64_t end = mono_ms() + wait_ms;
	for (;;) {
		uint64_t next;
		rc = nym_spent_outbox_flush(o, st, id, nym_unix_now(), mono_ms(), &next);
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
