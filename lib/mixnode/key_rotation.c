#include "mixnode/key_rotation.h"

uint32_t key_rotation_id_at(const struct key_rotation_schedule *s, int64_t now)
{
	if (now < s->genesis)
		return 1;
	uint64_t period = s->epoch_s * s->epochs_per_rotation;
	return (uint32_t)((uint64_t)(now - s->genesis) / period + 1);
}

int64_t key_rotation_start(const struct key_rotation_schedule *s, uint32_t rotation_id)
{
	uint64_t period = s->epoch_s * s->epochs_per_rotation;
	return s->genesis + (int64_t)((uint64_t)(rotation_id - 1) * period);
}

bool key_rotation_in_overlap(const struct key_rotation_schedule *s, int64_t now)
{
	uint32_t id = key_rotation_id_at(s, now);
	return id > 1 && now < key_rotation_start(s, id) + (int64_t)s->epoch_s;
}

uint32_t key_rotation_secondary_at(const struct key_rotation_schedule *s, int64_t now)
{
	uint32_t id = key_rotation_id_at(s, now);
	return key_rotation_in_overlap(s, now) ? id - 1 : id + 1;
}

uint32_t key_rotation_announced_from(const struct key_rotation_schedule *s, int64_t now)
{
	return key_rotation_id_at(s, now + (int64_t)s->epoch_s);
}

int64_t key_rotation_next_change(const struct key_rotation_schedule *s, int64_t now)
{
	uint32_t id = key_rotation_id_at(s, now);
	int64_t start = key_rotation_start(s, id), overlap_end = start + (int64_t)s->epoch_s;
	if (now < s->genesis)
		return s->genesis;
	return now < overlap_end ? overlap_end : key_rotation_start(s, id + 1);
}

const struct mixnode_key *mixnode_keyring_select(const struct mixnode_keyring *kr, uint8_t rotation_byte)
{
	if (rotation_byte == 0)
		return &kr->keys[kr->primary];
	if (rotation_byte > 2)
		return NULL;
	uint32_t parity = rotation_byte == 1 ? 1 : 0;
	for (size_t i = 0; i < kr->count; i++)
		if (kr->keys[i].rotation_id % 2 == parity)
			return &kr->keys[i];
	return NULL;
}
