/* How the daemons and long-running commands take signals: synchronously, in the thread that
 * owns the main loop, with sigtimedwait. */
#ifndef NYM_UTIL_SIGNALS_H
#define NYM_UTIL_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* Fills `set` with the stop signals (SIGINT, SIGTERM) and, with `reload`, SIGHUP, and blocks
 * them in the calling thread; threads started afterwards inherit the mask, so only a
 * sigtimedwait(set) delivers them. Also ignores SIGPIPE: a peer that closes its end turns
 * into EPIPE at the write instead of ending the process. Call before starting threads. */
void nym_signals_take(sigset_t *set, bool reload);

#endif
