#include "mix/mix_packet_size.h"

#include <errno.h>
#include <string.h>

struct size_class {
	const char *name;
	size_t len;
	size_t header_len;
	size_t payload_overhead;
};

/* Indexed by tag; entry 0 is unused so a lookup needs no subtraction. */
static const struct size_class classes[MIX_PACKET_SIZE_MAX_TAG + 1] = {
	[MIX_PACKET_SIZE_REGULAR] = { "regular", MIX_REGULAR_PACKET_LEN, MIX_SPHINX_HEADER_LEN,
				      MIX_SPHINX_PAYLOAD_OVERHEAD },
	[MIX_PACKET_SIZE_ACK] = { "ack", MIX_ACK_PACKET_LEN, MIX_SPHINX_HEADER_LEN,
				  MIX_SPHINX_PAYLOAD_OVERHEAD },
	[MIX_PACKET_SIZE_EXTENDED32] = { "extended32", MIX_EXTENDED32_PACKET_LEN,
					 MIX_SPHINX_HEADER_LEN, MIX_SPHINX_PAYLOAD_OVERHEAD },
	[MIX_PACKET_SIZE_EXTENDED8] = { "extended8", MIX_EXTENDED8_PACKET_LEN,
					MIX_SPHINX_HEADER_LEN, MIX_SPHINX_PAYLOAD_OVERHEAD },
	[MIX_PACKET_SIZE_EXTENDED16] = { "extended16", MIX_EXTENDED16_PACKET_LEN,
					 MIX_SPHINX_HEADER_LEN, MIX_SPHINX_PAYLOAD_OVERHEAD },
	/* Nym counts the Outfox parameters as the header and the rest of the overhead as
	 * payload overhead, so plaintext = len - overhead as for Sphinx. */
	[MIX_PACKET_SIZE_OUTFOX_REGULAR] = { "outfox_regular", MIX_OUTFOX_REGULAR_PACKET_LEN,
					     MIX_OUTFOX_PARAMS_LEN,
					     MIX_OUTFOX_PACKET_OVERHEAD - MIX_OUTFOX_PARAMS_LEN },
	[MIX_PACKET_SIZE_OUTFOX_ACK] = { "outfox_ack", MIX_OUTFOX_ACK_PACKET_LEN,
					 MIX_OUTFOX_PARAMS_LEN,
					 MIX_OUTFOX_PACKET_OVERHEAD - MIX_OUTFOX_PARAMS_LEN },
};

_Static_assert(MIX_REGULAR_PACKET_LEN == 2413, "regular packet");
_Static_assert(MIX_ACK_PACKET_LEN == 386, "ack packet");
_Static_assert(MIX_EXTENDED32_PACKET_LEN == 33133, "extended32 packet");
_Static_assert(MIX_OUTFOX_PACKET_OVERHEAD == 329, "outfox overhead");
_Static_assert(MIX_OUTFOX_REGULAR_PACKET_LEN == 2377, "outfox regular packet");
_Static_assert(MIX_OUTFOX_ACK_PACKET_LEN == 377, "outfox ack packet");

bool mix_packet_size_valid(unsigned tag)
{
	return tag >= MIX_PACKET_SIZE_MIN_TAG && tag <= MIX_PACKET_SIZE_MAX_TAG;
}

bool mix_packet_size_is_outfox(enum mix_packet_size size)
{
	return size == MIX_PACKET_SIZE_OUTFOX_REGULAR || size == MIX_PACKET_SIZE_OUTFOX_ACK;
}

size_t mix_packet_size_len(enum mix_packet_size size)
{
	return mix_packet_size_valid(size) ? classes[size].len : 0;
}

size_t mix_packet_size_payload_len(enum mix_packet_size size)
{
	if (!mix_packet_size_valid(size))
		return 0;
	return classes[size].len - classes[size].header_len;
}

size_t mix_packet_size_plaintext_len(enum mix_packet_size size)
{
	if (!mix_packet_size_valid(size))
		return 0;
	return classes[size].len - classes[size].header_len - classes[size].payload_overhead;
}

int mix_packet_size_from_len(size_t len, enum mix_packet_size *out)
{
	/* Nym's get_type checks in this order; the order only matters for the Outfox quirk. */
	static const enum mix_packet_size order[] = {
		MIX_PACKET_SIZE_REGULAR,	MIX_PACKET_SIZE_ACK,
		MIX_PACKET_SIZE_EXTENDED8,	MIX_PACKET_SIZE_EXTENDED16,
		MIX_PACKET_SIZE_EXTENDED32,	MIX_PACKET_SIZE_OUTFOX_REGULAR,
		MIX_PACKET_SIZE_OUTFOX_ACK,
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		size_t want = classes[order[i]].len;
		if (len == want ||
		    (order[i] == MIX_PACKET_SIZE_OUTFOX_REGULAR && len + MIX_OUTFOX_PARAMS_LEN == want)) {
			*out = order[i];
			return 0;
		}
	}
	return -EINVAL;
}

const char *mix_packet_size_name(enum mix_packet_size size)
{
	return mix_packet_size_valid(size) ? classes[size].name : NULL;
}

int mix_packet_size_from_name(const char *name, enum mix_packet_size *out)
{
	for (unsigned tag = MIX_PACKET_SIZE_MIN_TAG; tag <= MIX_PACKET_SIZE_MAX_TAG; tag++) {
		if (strcmp(name, classes[tag].name) == 0) {
			*out = (enum mix_packet_size)tag;
			return 0;
		}
	}
	return -EINVAL;
}
