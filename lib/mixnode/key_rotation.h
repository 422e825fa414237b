/* Sphinx key rotation: a node accepts two X25519 Sphinx keys of opposite parity: the current
 * rotation's, and as secondary the previous one during the first epoch of a rotation (so
 * packets built just before the change still get through) or the pre-announced next one
 * for the rest of it (so clients whose clocks run ahead are not refused). A rotation lasts `epochs_per_rotation` epochs
 * (Nym: 24 epochs of 1 hour); rotation ids count from `genesis` and start at 1, because Nym
 * reserves 0 (and UINT32_MAX) for "unknown". Frames name a key by parity: 1 odd, 2 even,
 * 0 "unknown" (mix_forward tries the primary, then in the overlap the previous key if the MAC
 * fails). */
#ifndef NYM_MIXNODE_KEY_ROTATION_H
#define NYM_MIXNODE_KEY_ROTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mixnode/replay_filter.h"

struct key_rotation_schedule {
	int64_t genesis;             /* Unix time of rotation 1's start */
	uint64_t epoch_s;            /* epoch length in seconds (> 0) */
	uint32_t epochs_per_rotation; /* > 0 */
};

uint32_t key_rotation_id_at(const struct key_rotation_schedule *s, int64_t now);
int64_t key_rotation_start(const struct key_rotation_schedule *s, uint32_t rotation_id);
/* Whether the previous rotation's key is still accepted at `now` (the first epoch of a
 * rotation). */
bool key_rotation_in_overlap(const struct key_rotation_schedule *s, int64_t now);
/* The rotation whose key is secondary at `now`: the previous one in the overlap, else the
 * next one (rotation 1 has no predecessor, so the next one throughout). */
uint32_t key_rotation_secondary_at(const struct key_rotation_schedule *s, int64_t now);
/* The oldest rotation whose key a node announces in its description at `now`: the rotation
 * of the epoch ahead. The authorities build epoch E's document during E - 1, and clients
 * take the first key a description lists, so in the last epoch of a rotation a node
 * announces only the next rotation's key: primary during E, whereas its current key is only
 * the previous one then and gone at E + 1, while clients still hold E's document. */
uint32_t key_rotation_announced_from(const struct key_rotation_schedule *s, int64_t now);
/* The next time the accepted key set changes (rotation start or overlap end), after now. */
int64_t key_rotation_next_change(const struct key_rotation_schedule *s, int64_t now);

struct mixnode_key {
	uint32_t rotation_id;
	uint8_t secret[32];
	uint8_t public_key[32];
	struct replay_filter *replay;
};

/* An immutable snapshot of the live keys, published to workers by pointer. */
struct mixnode_keyring {
	size_t count;   /* 1 or 2 */
	size_t primary; /* index of the current key */
	struct mixnode_key keys[2];
};

/* The key a frame's rotation byte names (0: the primary, tried first; 1/2: the live key of
 * that parity), or NULL if none is live. */
const struct mixnode_key *mixnode_keyring_select(const struct mixnode_keyring *kr, uint8_t rotation_byte);

#endif
