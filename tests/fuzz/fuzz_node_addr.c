/* Node routing addresses as they come out of a Sphinx header (32 bytes) or a MixPacket
 * (unpadded). Whatever decodes must re-encode to the same leading bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mix/mix_node_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t used;
	char text[MIX_NODE_ADDR_STR_LEN];
	if (mix_node_addr_decode(data, size, &ss, &sl, &used) != 0) {
		if (mix_node_addr_format(data, size, text) == 0)
			abort();
		return 0;
	}
	if (used > size || (used != MIX_NODE_ADDR_V4_LEN && used != MIX_NODE_ADDR_V6_LEN))
		abort();
	uint8_t padded[MIX_NODE_ADDR_LEN], unpadded[MIX_NODE_ADDR_MAX_UNPADDED_LEN];
	size_t n;
	if (mix_node_addr_encode((struct sockaddr *)&ss, sl, padded) != 0 ||
	    mix_node_addr_encode_unpadded((struct sockaddr *)&ss, sl, unpadded, &n) != 0)
		abort();
	if (n != used || memcmp(padded, data, used) != 0 || memcmp(unpadded, data, used) != 0)
		abort();
	for (size_t i = used; i < MIX_NODE_ADDR_LEN; i++)
		if (padded[i] != 0)
			abort();
	if (mix_node_addr_format(data, size, text) != 0 || strlen(text) >= sizeof(text))
		abort();
	return 0;
}
