/* The client-side parsers of the packet layer: recipient addresses (text), SURB-ACK first
 * hops, acknowledgement plaintexts, RECEIVE items' layouts and envelope bodies. */
#include <string.h>

#include "fuzz.h"
#include "mix/mix_cover.h"
#include "mix/mix_envelope.h"
#include "mix/mix_recipient.h"
#include "mix/mix_surb_ack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	struct mix_recipient r;
	if (mix_recipient_parse(text, &r) == 0) {
		char again[MIX_RECIPIENT_TEXT_MAX];
		if (mix_recipient_format(&r, again, sizeof(again)) < 0)
			__builtin_trap();
	}
	static const uint8_t key[MIX_ACK_KEY_LEN] = { 1 };
	struct mix_fragment_id id;
	mix_surb_ack_recognise(data, size, key, &id);
	if (size >= MIX_SURB_ACK_LEN) {
		struct sockaddr_storage ss;
		socklen_t len;
		const uint8_t *packet;
		mix_surb_ack_split(data, &ss, &len, &packet);
	}
	static uint8_t buf[4096];
	static const uint8_t secret[32] = { 3 };
	if (size <= sizeof(buf)) {
		memcpy(buf, data, size);
		uint8_t *body, *keyed;
		size_t body_len, keyed_len;
		if (mix_envelope_open(buf, size, secret, &body, &body_len) == 0)
			mix_cover_is_loop(body, body_len);
		memcpy(buf, data, size);
		if (mix_envelope_item_split(buf, size, &keyed, &keyed_len) == 0) {
			if (keyed < buf || keyed_len + (size_t)(keyed - buf) != size)
				__builtin_trap();
			if (mix_envelope_open(keyed, keyed_len, secret, &body, &body_len) == 0)
				mix_cover_is_loop(body, body_len);
		}
	}
	return 0;
}
