#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = NYM_LOG_INFO;
static const char *ident = "nym";

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities: err, warning, info, debug */
static const int level_syslog[] = { 3, 4, 6, 7 };

void nym_log_set_level(enum nym_log_level level)
{
	atomic_store(&current_level, (int)level);
}

enum nym_log_level nym_log_get_level(void)
{
	return (enum nym_log_level)atomic_load(&current_level);
}

int nym_log_parse_level(const char *name, enum nym_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum nym_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void nym_log_set_ident(const char *name)
{
	ident = name;
}

static int to_journal(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = getenv("JOURNAL_STREAM") != NULL && !isatty(STDERR_FILENO);
	return cached;
}

void nym_log(enum nym_log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&current_level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Never let a message split the one-line-per-event rule. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	if (to_journal()) {
		fprintf(stderr, "<%d>%s\n", level_syslog[level], msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		ident, level_names[level], msg);
}

int64_t nym_log_ratelimit_take(struct nym_log_ratelimit *rl)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec;
	uint64_t start = atomic_load(&rl->window_start_s);
	if (now - start >= NYM_RATELIMIT_WINDOW_S &&
	    atomic_compare_exchange_strong(&rl->window_start_s, &start, now)) {
		atomic_store(&rl->count, 0);
		uint32_t suppressed = atomic_exchange(&rl->suppressed, 0);
		atomic_fetch_add(&rl->count, 1);
		return suppressed;
	}
	if (atomic_fetch_add(&rl->count, 1) < NYM_RATELIMIT_BURST)
		return 0;
	atomic_fetch_add(&rl->suppressed, 1);
	return -1;
}
