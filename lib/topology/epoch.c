#include "topology/epoch.h"

uint64_t nym_epoch_at(const struct nym_epoch_clock *c, int64_t t)
{
	if (t < c->genesis || c->duration_s <= 0)
		return 1;
	return (uint64_t)((t - c->genesis) / c->duration_s) + 1;
}

int64_t nym_epoch_start(const struct nym_epoch_clock *c, uint64_t epoch)
{
	return c->genesis + (int64_t)(epoch - 1) * c->duration_s;
}

int64_t nym_epoch_vote_ms(const struct nym_epoch_clock *c, uint64_t epoch)
{
	return nym_epoch_start(c, epoch) * 1000 - c->duration_s * 500;
}

int64_t nym_epoch_build_ms(const struct nym_epoch_clock *c, uint64_t epoch)
{
	return nym_epoch_start(c, epoch) * 1000 - c->duration_s * 250;
}
