/* One line per event on stderr, with a level. Daemons run under systemd or procd, which
 * timestamp lines themselves; when stderr goes to the journal we emit the syslog "<N>" prefix
 * instead of a timestamp so the level survives. */
#ifndef NYM_UTIL_LOG_H
#define NYM_UTIL_LOG_H

#include <stdatomic.h>
#include <stdint.h>

enum nym_log_level {
	NYM_LOG_ERROR = 0,
	NYM_LOG_WARN = 1,
	NYM_LOG_INFO = 2,
	NYM_LOG_DEBUG = 3,
};

void nym_log_set_level(enum nym_log_level level);
enum nym_log_level nym_log_get_level(void);
/* Accepts error|warn|info|debug; returns 0 or -EINVAL. */
int nym_log_parse_level(const char *name, enum nym_log_level *out);
/* Program name shown in each line ("nym-node"). */
void nym_log_set_ident(const char *ident);

void nym_log(enum nym_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) nym_log(NYM_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) nym_log(NYM_LOG_WARN, __VA_ARGS__)
#define log_info(...) nym_log(NYM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) nym_log(NYM_LOG_DEBUG, __VA_ARGS__)

/* Rate limit for events triggered by the network: at most NYM_RATELIMIT_BURST lines per
 * NYM_RATELIMIT_WINDOW_S seconds per call site; the next allowed line reports how many were
 * suppressed. Safe to share between threads. */
#define NYM_RATELIMIT_BURST 10
#define NYM_RATELIMIT_WINDOW_S 10

struct nym_log_ratelimit {
	_Atomic uint64_t window_start_s;
	_Atomic uint32_t count;
	_Atomic uint32_t suppressed;
};

/* Returns the number of suppressed lines to report (>= 0) when a line may be printed, or -1. */
int64_t nym_log_ratelimit_take(struct nym_log_ratelimit *rl);

#define log_ratelimited(level, fmt, ...)                                                         \
	do {                                                                                     \
		static struct nym_log_ratelimit nym_rl_;                                             \
		int64_t nym_rl_suppressed_ = nym_log_ratelimit_take(&nym_rl_);                      \
		if (nym_rl_suppressed_ > 0)                                                      \
			nym_log(level, fmt " (%lld similar suppressed)", ##__VA_ARGS__,         \
				(long long)nym_rl_suppressed_);                                  \
		else if (nym_rl_suppressed_ == 0)                                                \
			nym_log(level, fmt, ##__VA_ARGS__);                                      \
	} while (0)

#endif
