#include "mixnode/replay_filter.h"

#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK_BITS 512
#define WORDS_PER_BLOCK 8
#define MAGIC "NYMRPLY1"
#define HEADER_LEN 64

/* Blocked filters need some headroom over the textbook size to reach the same rate. */
#define BLOCKED_OVERHEAD 1.3
/* 32 + 9k hash bits must fit in 256 with a byte to spare. */
#define MAX_HASHES 23

static _Atomic uint64_t *alloc_bits(uint64_t blocks)
{
	size_t len = (size_t)blocks * 64;
	/* Zero pages on demand: an idle node does not pay for a filter sized for a busy one. */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

struct replay_filter *replay_filter_new(uint32_t rotation_id, uint64_t capacity, double fp)
{
	if (capacity == 0 || !(fp > 0 && fp < 1))
		return NULL;
	double bits = -(double)capacity * log(fp) / (M_LN2 * M_LN2) * BLOCKED_OVERHEAD;
	uint64_t blocks = (uint64_t)ceil(bits / BLOCK_BITS);
	if (blocks == 0)
		blocks = 1;
	if (blocks > ((uint64_t)1 << 32)) /* 256 GiB: a configuration error */
		return NULL;
	struct replay_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->rotation_id = rotation_id;
	f->hashes = (uint32_t)ceil(-log2(fp));
	if (f->hashes > MAX_HASHES)
		f->hashes = MAX_HASHES;
	f->blocks = blocks;
	f->capacity = capacity;
	randombytes_buf(f->key, sizeof(f->key));
	f->bits = alloc_bits(blocks);
	if (!f->bits) {
		free(f);
		return NULL;
	}
	return f;
}

void replay_filter_free(struct replay_filter *f)
{
	if (!f)
		return;
	munmap((void *)f->bits, replay_filter_bytes(f));
	free(f);
}

size_t replay_filter_bytes(const struct replay_filter *f)
{
	return (size_t)f->blocks * 64;
}

bool replay_filter_check_and_insert(struct replay_filter *f, const uint8_t tag[REPLAY_TAG_LEN])
{
	/* 256 hash bits: 32 pick the block, then 9 per bit position. Independent positions
	 * matter: double hashing inside a 512-bit block measured 40x the intended rate. */
	uint8_t in[REPLAY_TAG_LEN + 1], h[32];
	memcpy(in, tag, REPLAY_TAG_LEN);
	in[REPLAY_TAG_LEN] = 0;
	crypto_shorthash_siphashx24(h, in, sizeof(in), f->key);
	in[REPLAY_TAG_LEN] = 1;
	crypto_shorthash_siphashx24(h + 16, in, sizeof(in), f->key);
	uint32_t block_hash;
	memcpy(&block_hash, h, 4);
	_Atomic uint64_t *block = f->bits + (uint64_t)(((uint64_t)block_hash * f->blocks) >> 32) * WORDS_PER_BLOCK;
	uint64_t masks[WORDS_PER_BLOCK] = { 0 };
	for (uint32_t i = 0; i < f->hashes; i++) {
		unsigned bit = 32 + 9 * i; /* position of this draw in h, in bits */
		unsigned v = (unsigned)(h[bit / 8] | h[bit / 8 + 1] << 8) >> (bit % 8);
		unsigned pos = v & (BLOCK_BITS - 1);
		masks[pos / 64] |= 1ull << (pos % 64);
	}
	bool seen = true;
	for (int w = 0; w < WORDS_PER_BLOCK; w++) {
		if (!masks[w])
			continue;
		uint64_t old = atomic_fetch_or_explicit(&block[w], masks[w], memory_order_relaxed);
		if ((old & masks[w]) != masks[w])
			seen = false;
	}
	if (!seen)
		atomic_fetch_add_explicit(&f->inserted, 1, memory_order_relaxed);
	return seen;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* File: magic(8) rotation(4) hashes(4) blocks(8) capacity(8) inserted(8) key(16) pad(8),
 * little-endian, then the bit array. */
int replay_filter_save(const struct replay_filter *f, const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	uint8_t hdr[HEADER_LEN] = { 0 };
	memcpy(hdr, MAGIC, 8);
	put_le(hdr + 8, f->rotation_id, 4);
	put_le(hdr + 12, f->hashes, 4);
	put_le(hdr + 16, f->blocks, 8);
	put_le(hdr + 24, f->capacity, 8);
	put_le(hdr + 32, atomic_load(&f->inserted), 8);
	memcpy(hdr + 40, f->key, 16);
	int rc = nym_write_all(fd, hdr, sizeof(hdr));
	if (rc == 0)
		rc = nym_write_all(fd, (const void *)f->bits, replay_filter_bytes(f));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int replay_filter_load(const char *path, struct replay_filter **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EIO;
	uint8_t hdr[HEADER_LEN];
	struct replay_filter *f = NULL;
	int rc = -EINVAL;
	if (read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || memcmp(hdr, MAGIC, 8) != 0)
		goto out;
	uint64_t blocks = get_le(hdr + 16, 8);
	uint32_t hashes = (uint32_t)get_le(hdr + 12, 4);
	if (blocks == 0 || blocks > ((uint64_t)1 << 32) || hashes == 0 || hashes > MAX_HASHES)
		goto out;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->bits = alloc_bits(blocks))) {
		rc = -ENOMEM;
		goto out;
	}
	f->rotation_id = (uint32_t)get_le(hdr + 8, 4);
	f->hashes = hashes;
	f->blocks = blocks;
	f->capacity = get_le(hdr + 24, 8);
	atomic_store(&f->inserted, get_le(hdr + 32, 8));
	memcpy(f->key, hdr + 40, 16);
	size_t len = replay_filter_bytes(f), done = 0;
	uint8_t *dst = (uint8_t *)f->bits;
	while (done < len) {
		ssize_t n = read(fd, dst + done, len - done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			goto out; /* truncated */
		}
		done += (size_t)n;
	}
	*out = f;
	f = NULL;
	rc = 0;
out:
	if (f) {
		if (f->bits)
			munmap((void *)f->bits, (size_t)f->blocks * 64);
		free(f);
	}
	close(fd);
	return rc;
}
