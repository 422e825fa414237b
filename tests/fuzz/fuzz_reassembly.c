/* Reassembly under hostile fragment streams. The input is a list of operations:
 *
 *   0x00 len(1) bytes   raw fragment bytes as they would come out of a packet
 *   0x01 7 bytes        a well-formed fragment built from small fields (set id 1..8,
 *                       total, position, links, data length), so that sets complete and
 *                       chains form without the fuzzer having to find flag bits first
 *   0x02 1 byte         advance the clock by that many milliseconds and expire
 *
 * Tight caps make eviction and expiry happen often. Checked: caps are never exceeded, a
 * completed message has the length its fragments add up to, nothing leaks (ASan). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mix/mix_reassembly.h"

#define MAX_SETS 6
#define MAX_BYTES 20000

/* Written so the reads above cannot be optimised away. */
uint8_t fuzz_sink;

static void check(struct mix_reassembly *r, struct mix_reassembly_message *m)
{
	struct mix_reassembly_stats st;
	mix_reassembly_get_stats(r, &st);
	if (st.sets > MAX_SETS || st.bytes > MAX_BYTES)
		abort();
	if (m->data) {
		/* Touch every byte so ASan checks the allocation covers the length. */
		for (size_t i = 0; i < m->len; i++)
			fuzz_sink ^= m->data[i];
		if (m->sets == 0 || m->first_set_id <= 0)
			abort();
		free(m->data);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mix_reassembly_config cfg = {
		.max_sets = MAX_SETS,
		.max_bytes = MAX_BYTES,
		.timeout_ns = 50 * 1000000ull,
		.recent_ids = 4,
	};
	struct mix_reassembly *r;
	static uint8_t payload[600];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	if (mix_reassembly_new(&cfg, &r) != 0)
		abort();
	uint64_t now = 1;
	size_t pos = 0;
	while (pos < size) {
		uint8_t op = data[pos++] % 3;
		struct mix_reassembly_message m = { 0 };
		if (op == 0) {
			if (pos >= size)
				break;
			size_t n = data[pos++];
			if (n > size - pos)
				n = size - pos;
			mix_reassembly_add_bytes(r, data + pos, n, now, &m);
			pos += n;
		} else if (op == 1) {
			if (size - pos < 7)
				break;
			const uint8_t *p = data + pos;
			uint8_t total = p[1] % 4 ? p[1] % 4 : 255;
			struct mix_fragment f = {
				.set_id = 1 + p[0] % 8,
				.total = total,
				.position = (uint8_t)(1 + p[2] % total),
				.prev_set_id = p[3] & 0x80 ? 1 + p[3] % 8 : 0,
				.next_set_id = p[4] & 0x80 ? 1 + p[4] % 8 : 0,
				.data = payload,
				.data_len = (size_t)(p[5] | p[6] << 8) % sizeof(payload),
			};
			/* Only what the decoder could produce: links where the format allows. */
			if (f.position != 1 || f.prev_set_id == f.set_id)
				f.prev_set_id = 0;
			if (f.position != 255 || f.next_set_id == f.set_id)
				f.next_set_id = 0;
			mix_reassembly_add(r, &f, now, &m);
			pos += 7;
		} else {
			if (pos >= size)
				break;
			now += (uint64_t)data[pos++] * 1000000ull;
			mix_reassembly_expire(r, now);
		}
		check(r, &m);
	}
	mix_reassembly_free(r);
	return 0;
}
