#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "mixnode/delay_queue.h"
#include "mixnode/key_rotation.h"
#include "mixnode/replay_filter.h"
#include "mixnode/mix_forward.h"
#include "mix/mix_node_addr.h"
#include "sphinx/sphinx_packet.h"
#include "crypto/x25519.h"
#include "util/clock.h"
#include <arpa/inet.h>
#include <netinet/in.h>

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(mixnode, .init = setup);

Test(mixnode, delay_queue_orders_by_due_time_then_arrival)
{
	struct delay_queue q;
	cr_assert_eq(delay_queue_init(&q, 1000), 0);
	static uint64_t due[1000];
	for (int i = 0; i < 1000; i++) {
		due[i] = (uint64_t)((i * 7919) % 500); /* many equal due times */
		cr_assert_eq(delay_queue_push(&q, due[i], &due[i]), 0);
	}
	cr_assert_eq(delay_queue_push(&q, 1, NULL), -ENOSPC);
	cr_assert_eq(delay_queue_next_due(&q), 0);
	void *item;
	uint64_t *prev = NULL;
	size_t popped = 0;
	while (delay_queue_pop_due(&q, 499, &item)) {
		uint64_t *cur = item;
		if (prev)
			cr_assert(*cur > *prev || (*cur == *prev && cur > prev), "out of order");
		prev = cur;
		popped++;
	}
	cr_assert_eq(popped, 1000);
	cr_assert_eq(delay_queue_len(&q), 0);
	cr_assert_eq(delay_queue_next_due(&q), UINT64_MAX);
	delay_queue_fini(&q);
}

Test(mixnode, delay_queue_holds_until_due)
{
	struct delay_queue q;
	delay_queue_init(&q, 4);
	int a, b;
	delay_queue_push(&q, 100, &a);
	delay_queue_push(&q, 50, &b);
	void *item;
	cr_assert_not(delay_queue_pop_due(&q, 49, &item));
	cr_assert(delay_queue_pop_due(&q, 50, &item));
	cr_assert_eq(item, &b);
	cr_assert_not(delay_queue_pop_due(&q, 99, &item));
	cr_assert(delay_queue_pop_due(&q, 1000, &item));
	cr_assert_eq(item, &a);
	delay_queue_fini(&q);
}

Test(mixnode, replay_filter_detects_replays_with_low_false_positives)
{
	const uint64_t n = 200000;
	struct replay_filter *f = replay_filter_new(7, n, 1e-5);
	cr_assert_not_null(f);
	uint8_t tag[32];
	unsigned early_fp = 0;
	for (uint64_t i = 0; i < n; i++) {
		memset(tag, 0, sizeof(tag));
		memcpy(tag, &i, sizeof(i));
		early_fp += replay_filter_check_and_insert(f, tag);
	}
	cr_assert_lt(early_fp, 10, "fresh tags reported seen while filling: %u", early_fp);
	for (uint64_t i = 0; i < n; i += 97) {
		memset(tag, 0, sizeof(tag));
		memcpy(tag, &i, sizeof(i));
		cr_assert(replay_filter_check_and_insert(f, tag), "replay %llu missed", (unsigned long long)i);
	}
	replay_filter_free(f);
}

/* The sizing holds its promise: filled to capacity at a 1e-3 target (large enough to count),
 * fresh tags come back "seen" at about that rate. Checking inserts, so the window of fresh
 * tags is kept small against the capacity. */
Test(mixnode, replay_filter_false_positive_rate_matches_its_sizing)
{
	const uint64_t n = 400000, window = 40000;
	struct replay_filter *f = replay_filter_new(1, n, 1e-3);
	uint8_t tag[32];
	for (uint64_t i = 0; i < n - window; i++) {
		nym_random(tag, sizeof(tag));
		replay_filter_check_and_insert(f, tag);
	}
	unsigned fp = 0;
	for (uint64_t i = 0; i < window; i++) {
		nym_random(tag, sizeof(tag));
		fp += replay_filter_check_and_insert(f, tag);
	}
	/* expected at most 40 (1e-3 of the window at full load) */
	cr_assert_lt(fp, 60, "false positives %u of %llu", fp, (unsigned long long)window);
	replay_filter_free(f);
}

Test(mixnode, replay_filter_survives_save_and_load)
{
	struct replay_filter *f = replay_filter_new(3, 1000, 1e-5), *g = NULL;
	uint8_t tag[32];
	nym_random(tag, sizeof(tag));
	cr_assert_not(replay_filter_check_and_insert(f, tag));
	char path[64];
	snprintf(path, sizeof(path), "/tmp/replay_%d", getpid());
	cr_assert_eq(replay_filter_save(f, path), 0);
	cr_assert_eq(replay_filter_load(path, &g), 0);
	cr_assert_eq(g->rotation_id, 3);
	cr_assert(replay_filter_check_and_insert(g, tag), "loaded filter forgot the tag");
	uint8_t other[32];
	nym_random(other, sizeof(other));
	cr_assert_not(replay_filter_check_and_insert(g, other));

	/* A truncated or foreign file is refused. */
	cr_assert_eq(truncate(path, 100), 0);
	struct replay_filter *h = NULL;
	cr_assert_eq(replay_filter_load(path, &h), -EINVAL);
	cr_assert_eq(replay_filter_load("/nonexistent", &h), -ENOENT);
	unlink(path);
	replay_filter_free(f);
	replay_filter_free(g);
}

Test(mixnode, rotation_schedule_and_key_selection)
{
	struct key_rotation_schedule s = { .genesis = 1000, .epoch_s = 10, .epochs_per_rotation = 3 };
	cr_assert_eq(key_rotation_id_at(&s, 999), 1);
	cr_assert_eq(key_rotation_id_at(&s, 1000), 1);
	cr_assert_eq(key_rotation_id_at(&s, 1029), 1);
	cr_assert_eq(key_rotation_id_at(&s, 1030), 2);
	cr_assert_eq(key_rotation_start(&s, 2), 1030);
	cr_assert_not(key_rotation_in_overlap(&s, 1005), "rotation 1 has no predecessor");
	cr_assert(key_rotation_in_overlap(&s, 1035));
	cr_assert_not(key_rotation_in_overlap(&s, 1040));
	/* Descriptions announce the keys of the epoch ahead: rotation 2 starts at 1030, so from
	 * 1020 (the last epoch of rotation 1) only its key; during the overlap (1030..1039)
	 * rotation 2's and the next. */
	cr_assert_eq(key_rotation_announced_from(&s, 1000), 1);
	cr_assert_eq(key_rotation_announced_from(&s, 1019), 1);
	cr_assert_eq(key_rotation_announced_from(&s, 1020), 2);
	cr_assert_eq(key_rotation_announced_from(&s, 1035), 2);
	cr_assert_eq(key_rotation_announced_from(&s, 1050), 3);

	struct mixnode_keyring kr = { .count = 2, .primary = 1 };
	kr.keys[0].rotation_id = 5;
	kr.keys[1].rotation_id = 6;
	cr_assert_eq(mixnode_keyring_select(&kr, 0), &kr.keys[1]);
	cr_assert_eq(mixnode_keyring_select(&kr, 1), &kr.keys[0]);
	cr_assert_eq(mixnode_keyring_select(&kr, 2), &kr.keys[1]);
	cr_assert_null(mixnode_keyring_select(&kr, 3));
	kr.count = 1;
	kr.primary = 0;
	cr_assert_null(mixnode_keyring_select(&kr, 2), "no even key is live");
}

/* A big young filter saves as a sparse file and loads back with every tag. */
Test(mixnode, replay_filter_saves_sparse)
{
	struct replay_filter *f = replay_filter_new(9, 20000000, 1e-5), *g = NULL; /* ~90 MiB */
	cr_assert_not_null(f);
	uint8_t tags[50][32];
	for (int i = 0; i < 50; i++) {
		nym_random(tags[i], 32);
		cr_assert_not(replay_filter_check_and_insert(f, tags[i]));
	}
	char path[64];
	snprintf(path, sizeof(path), "/tmp/replay_sparse_%d", getpid());
	cr_assert_eq(replay_filter_save(f, path), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq((size_t)st.st_size, 64 + replay_filter_bytes(f), "the file has the filter's full length");
	cr_assert_lt((size_t)st.st_blocks * 512, 8u << 20, "but only the written pages take space");
	cr_assert_eq(replay_filter_load(path, &g), 0);
	for (int i = 0; i < 50; i++)
		cr_assert(replay_filter_check_and_insert(g, tags[i]), "tag %d lost", i);
	unlink(path);
	replay_filter_free(f);
	replay_filter_free(g);
}

/* A batch decides exactly what the same frames decided one by one would: valid packets,
 * a corrupted one, a duplicate later in the batch (the replay), a final hop, a wrong type
 * and an unknown rotation, in more frames than one batch holds. */
Test(mixnode, batch_decisions_match_single_ones)
{
	enum { N = 21, LEN = MIX_REGULAR_PACKET_LEN };
	struct nym_x25519_keypair node, last;
	nym_x25519_generate(&node);
	nym_x25519_generate(&last);
	struct sockaddr_in next = { .sin_family = AF_INET, .sin_port = htons(1789),
				    .sin_addr.s_addr = htonl(0xc6336401) };
	struct sphinx_hop route[2] = { { .delay_ns = 5000 }, { .delay_ns = 0 } };
	memcpy(route[0].public_key, node.public_key, 32);
	memcpy(route[1].public_key, last.public_key, 32);
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&next, sizeof(next), route[1].address), 0);
	static const uint8_t dest[32], id[16];
	static uint8_t built[N][LEN], single[N][LEN], batched[N][LEN];
	struct mix_frame f[N];
	for (int i = 0; i < N; i++) {
		struct sphinx_packet_params p = { route, i == 5 ? 1 : 2, dest, id, SPHINX_VERSION_DEFAULT, NULL };
		uint8_t msg[8] = { (uint8_t)i };
		cr_assert_eq(sphinx_packet_create(built[i], LEN, &p, msg, sizeof(msg)), 0);
		f[i] = (struct mix_frame){ .header = { .version = MIX_FRAME_VERSION, .size = MIX_PACKET_SIZE_REGULAR,
						       .type = MIX_PACKET_TYPE_MIX, .key_rotation = 1 },
					   .packet_len = LEN };
	}
	built[3][100] ^= 1;                        /* bad MAC */
	memcpy(built[12], built[2], LEN);           /* a replay of packet 2, in a later batch */
	memcpy(built[9], built[8], LEN);            /* and one inside the same batch */
	f[7].header.type = 0x7f;                    /* not a Sphinx packet */
	f[17].header.key_rotation = 2;              /* no even key is live */

	struct mix_forward one[N], many[N];
	struct mixnode_keyring kr = { .count = 1 };
	kr.keys[0].rotation_id = 1;
	memcpy(kr.keys[0].secret, node.secret, 32);
	kr.keys[0].replay = replay_filter_new(1, 100000, 1e-5);
	memcpy(single, built, sizeof(built));
	for (int i = 0; i < N; i++) {
		f[i].packet = single[i];
		mix_forward_decide(&kr, true, NYM_NS_PER_SEC, &f[i], single[i], &one[i]);
	}
	replay_filter_free(kr.keys[0].replay);
	kr.keys[0].replay = replay_filter_new(1, 100000, 1e-5);
	memcpy(batched, built, sizeof(built));
	const struct mix_frame *fp[N];
	uint8_t *pp[N];
	for (int i = 0; i < N; i++) {
		f[i].packet = batched[i];
		fp[i] = &f[i];
		pp[i] = batched[i];
	}
	mix_forward_decide_batch(&kr, true, NYM_NS_PER_SEC, fp, pp, many, N);
	replay_filter_free(kr.keys[0].replay);

	cr_assert_eq(one[0].verdict, MIX_FORWARD);
	cr_assert_eq(one[3].verdict, MIX_BAD_PACKET);
	cr_assert_eq(one[5].verdict, MIX_FINAL);
	cr_assert_eq(one[7].verdict, MIX_BAD_TYPE);
	cr_assert_eq(one[9].verdict, MIX_REPLAY);
	cr_assert_eq(one[12].verdict, MIX_REPLAY);
	cr_assert_eq(one[17].verdict, MIX_UNKNOWN_KEY);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(many[i].verdict, one[i].verdict, "frame %d", i);
		cr_assert_eq(many[i].delay_ns, one[i].delay_ns, "frame %d", i);
		if (one[i].verdict == MIX_FORWARD || one[i].verdict == MIX_FINAL)
			cr_assert(memcmp(batched[i], single[i], LEN) == 0, "frame %d peeled differently", i);
	}
	cr_assert_eq(many[0].delay_ns, 5000);
	cr_assert(memcmp(&many[0].next.ss, &next, sizeof(next)) == 0);
}

/* Rotation byte 0 ("unknown": reply SURBs and SURB-ACKs a gateway injects) is tried with the
 * primary key and, when that fails, with the live secondary one: a packet built with the
 * previous rotation's key still crosses the node during the overlap. Its replay tag goes to
 * the secondary key's filter; garbage is still refused; rotation bytes 1/2 stay strict; the
 * batch path decides as the single one does. */
Test(mixnode, rotation_zero_falls_back_to_the_secondary_key)
{
	enum { N = 7, LEN = MIX_REGULAR_PACKET_LEN };
	struct nym_x25519_keypair old_key, new_key, last;
	nym_x25519_generate(&old_key);
	nym_x25519_generate(&new_key);
	nym_x25519_generate(&last);
	struct sockaddr_in next = { .sin_family = AF_INET, .sin_port = htons(1789),
				    .sin_addr.s_addr = htonl(0xc6336401) };
	static const uint8_t dest[32], id[16];
	static uint8_t built[N][LEN], single[N][LEN], batched[N][LEN];
	struct mix_frame f[N];
	/* 0: old key, byte 0; 1: new key, byte 0; 2: garbage, byte 0; 3: old key, byte 2 (the
	 * new key's parity); 4: replay of 0; 5: old key, byte 1 (its own parity); 6: old key final. */
	for (int i = 0; i < N; i++) {
		struct sphinx_hop route[2] = { { .delay_ns = 7000 }, { .delay_ns = 0 } };
		memcpy(route[0].public_key, i == 1 ? new_key.public_key : old_key.public_key, 32);
		memcpy(route[1].public_key, last.public_key, 32);
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&next, sizeof(next), route[1].address), 0);
		struct sphinx_packet_params p = { route, i == 6 ? 1 : 2, dest, id, SPHINX_VERSION_DEFAULT, NULL };
		uint8_t msg[8] = { (uint8_t)i };
		cr_assert_eq(sphinx_packet_create(built[i], LEN, &p, msg, sizeof(msg)), 0);
		f[i] = (struct mix_frame){ .header = { .version = MIX_FRAME_VERSION, .size = MIX_PACKET_SIZE_REGULAR,
						       .type = MIX_PACKET_TYPE_MIX, .key_rotation = 0 },
					   .packet_len = LEN };
	}
	nym_random(built[2] + 32, LEN - 32);       /* a valid point, garbage after it */
	f[3].header.key_rotation = 2;
	memcpy(built[4], built[0], LEN);
	f[5].header.key_rotation = 1;

	/* Rotation 6 current (primary, even), rotation 5 the overlap's secondary (odd). */
	struct mixnode_keyring kr = { .count = 2, .primary = 1 };
	kr.keys[0].rotation_id = 5;
	memcpy(kr.keys[0].secret, old_key.secret, 32);
	kr.keys[1].rotation_id = 6;
	memcpy(kr.keys[1].secret, new_key.secret, 32);
	struct mix_forward one[N], many[N];
	for (int pass = 0; pass < 2; pass++) {
		kr.keys[0].replay = replay_filter_new(5, 10000, 1e-5);
		kr.keys[1].replay = replay_filter_new(6, 10000, 1e-5);
		uint8_t (*buf)[LEN] = pass ? batched : single;
		memcpy(buf, built, sizeof(built));
		const struct mix_frame *fp[N];
		uint8_t *pp[N];
		for (int i = 0; i < N; i++) {
			f[i].packet = buf[i];
			fp[i] = &f[i];
			pp[i] = buf[i];
		}
		if (pass)
			mix_forward_decide_batch(&kr, true, NYM_NS_PER_SEC, fp, pp, many, N);
		else
			for (int i = 0; i < N; i++)
				mix_forward_decide(&kr, true, NYM_NS_PER_SEC, &f[i], single[i], &one[i]);
		/* The tag of packet 0 sits in the old key's filter, not the new one's. */
		uint8_t tag[32];
		struct sphinx_hop_keys hk;
		cr_assert_eq(sphinx_packet_open(&hk, old_key.secret, built[0], LEN), 0);
		memcpy(tag, hk.replay_tag, sizeof(tag));
		sphinx_hop_keys_clear(&hk);
		cr_assert(replay_filter_check_and_insert(kr.keys[0].replay, tag), "pass %d", pass);
		cr_assert_not(replay_filter_check_and_insert(kr.keys[1].replay, tag), "pass %d", pass);
		replay_filter_free(kr.keys[0].replay);
		replay_filter_free(kr.keys[1].replay);
	}
	cr_assert_eq(one[0].verdict, MIX_FORWARD);
	cr_assert(one[0].secondary_key);
	cr_assert_eq(one[0].delay_ns, 7000);
	cr_assert_eq(one[0].out_header.key_rotation, 0, "the byte travels on unchanged");
	cr_assert_eq(one[1].verdict, MIX_FORWARD);
	cr_assert_not(one[1].secondary_key, "the primary key is tried first");
	cr_assert_eq(one[2].verdict, MIX_BAD_PACKET);
	cr_assert_not(one[2].secondary_key);
	cr_assert_eq(one[3].verdict, MIX_BAD_PACKET, "rotation bytes 1/2 stay strict");
	cr_assert_eq(one[4].verdict, MIX_REPLAY);
	cr_assert_eq(one[5].verdict, MIX_FORWARD);
	cr_assert_not(one[5].secondary_key, "byte 1 named the old key directly");
	cr_assert_eq(one[6].verdict, MIX_FINAL);
	cr_assert(one[6].secondary_key);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(many[i].verdict, one[i].verdict, "frame %d", i);
		cr_assert_eq(many[i].secondary_key, one[i].secondary_key, "frame %d", i);
		cr_assert_eq(many[i].delay_ns, one[i].delay_ns, "frame %d", i);
		if (one[i].verdict == MIX_FORWARD || one[i].verdict == MIX_FINAL)
			cr_assert(memcmp(batched[i], single[i], LEN) == 0, "frame %d peeled differently", i);
	}

	/* Outside the overlap the secondary key is the pre-announced next one: not tried for 0. */
	struct mixnode_keyring ahead = { .count = 2, .primary = 0 };
	ahead.keys[0].rotation_id = 5;
	memcpy(ahead.keys[0].secret, old_key.secret, 32);
	ahead.keys[1].rotation_id = 6;
	memcpy(ahead.keys[1].secret, new_key.secret, 32);
	memcpy(single[1], built[1], LEN);
	f[1].packet = single[1];
	struct mix_forward a;
	mix_forward_decide(&ahead, false, NYM_NS_PER_SEC, &f[1], single[1], &a);
	cr_assert_eq(a.verdict, MIX_BAD_PACKET, "the next key is not tried for rotation 0");
	nym_memzero(&ahead, sizeof(ahead));

	/* Without a live secondary key (a single-key ring), the old packet is refused. */
	struct mixnode_keyring one_key = { .count = 1 };
	one_key.keys[0].rotation_id = 6;
	memcpy(one_key.keys[0].secret, new_key.secret, 32);
	memcpy(single[0], built[0], LEN);
	f[0].packet = single[0];
	struct mix_forward d;
	mix_forward_decide(&one_key, false, NYM_NS_PER_SEC, &f[0], single[0], &d);
	cr_assert_eq(d.verdict, MIX_BAD_PACKET);
	nym_memzero(&kr, sizeof(kr));
	nym_memzero(&one_key, sizeof(one_key));
}
