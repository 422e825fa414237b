#ifndef NYM_UTIL_CLOCK_H
#define NYM_UTIL_CLOCK_H

#include <stdint.h>

#define NYM_NS_PER_SEC 1000000000ull
#define NYM_NS_PER_MS 1000000ull
#define NYM_NS_PER_US 1000ull

/* CLOCK_MONOTONIC in nanoseconds: for timers, delays and measurements. */
uint64_t nym_clock_now_ns(void);
/* Wall-clock seconds since the Unix epoch: for expiry dates and epochs. */
int64_t nym_clock_unix_now(void);
/* The same clock in milliseconds: for schedules finer than a second (epoch work, retries). */
int64_t nym_clock_unix_now_ms(void);

#endif
