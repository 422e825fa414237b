/* Epoch numbering, shared by authorities and nodes (the same clock as Sphinx key rotation:
 * sphinx.genesis and sphinx.epoch_duration). Epoch 1 starts at genesis; before genesis it is
 * epoch 1 too. The authorities prepare epoch E's document during epoch E - 1: they vote at
 * its middle and build at three quarters (docs/PROTOCOLS.md §7.4). */
#ifndef NYM_TOPOLOGY_EPOCH_H
#define NYM_TOPOLOGY_EPOCH_H

#include <stdint.h>

struct nym_epoch_clock {
	int64_t genesis;    /* Unix seconds */
	int64_t duration_s; /* > 0 */
};

uint64_t nym_epoch_at(const struct nym_epoch_clock *c, int64_t t);
int64_t nym_epoch_start(const struct nym_epoch_clock *c, uint64_t epoch);
/* In milliseconds since the Unix epoch: when authorities vote for and build `epoch`. */
int64_t nym_epoch_vote_ms(const struct nym_epoch_clock *c, uint64_t epoch);
int64_t nym_epoch_build_ms(const struct nym_epoch_clock *c, uint64_t epoch);

#endif
