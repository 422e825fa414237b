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
#include <stdbool.h>
#include <unistd.h>

#define BLOCK_BITS 512
#define WORDS_PER_BLOCK 8
#define MAGIC "NYMRPLY1"
#define HEADER_LEN 64
#define REGION (64 * 1024)

/* Blocked filters need some headroom over the textbook size to reach the same rate. */
#define BLOCKED_OVERHEAD 1.3
/* 32 + 9k hash bits must fit in 256 with a byte to spare. */
#define MAX_HASHES 23

static size_t regions(const struct replay_filter *f)
{
	return ((size_t)f->blocks * 64 + REGION - 1) / REGION;
}

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
	f->touched = calloc(regions(f), 1);
	if (!f->bits || !f->touched) {
		replay_filter_free(f);
		return NULL;
	}
	return f;
}

void replay_filter_free(struct replay_filter *f)
{
	if (!f)
		return;
	if (f->bits)
		munmap((void *)f->bits, replay_filter_bytes(f));
	free((void *)f->touched);
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
	if (!seen) {
		atomic_fetch_add_explicit(&f->inserted, 1, memory_order_relaxed);
		size_t region = (size_t)((uint8_t *)block - (uint8_t *)f->bits) / REGION;
		atomic_store_explicit(&f->touched[region], 1, memory_order_relaxed);
	}
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
 * little-endian, then the bit array. The array is written sparse: all-zero pages become
 * holes, so saving a young filter (or the next key's, still empty) costs next to nothing. */
#define PAGE 4096

static bool zero_page(const uint8_t *p, size_t len)
{
	static const uint8_t zeros[PAGE];
	return memcmp(p, zeros, len) == 0;
}

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
	int rc = nym_file_write_all(fd, hdr, sizeof(hdr));
	const uint8_t *bits = (const uint8_t *)f->bits;
	size_t len = replay_filter_bytes(f);
	for (size_t off = 0; rc == 0 && off < len; off += PAGE) {
		size_t n = len - off < PAGE ? len - off : PAGE;
		if (!atomic_load_explicit(&f->touched[off / REGION], memory_order_relaxed)) {
			off += REGION - PAGE - off % REGION; /* skip the rest of an untouched region */
			continue;
		}
		if (zero_page(bits + off, n))
			continue;
		if (lseek(fd, (off_t)(HEADER_LEN + off), SEEK_SET) < 0)
			rc = -errno;
		else
			rc = nym_file_write_all(fd, bits + off, n);
	}
	if (rc == 0 && ftruncate(fd, (off_t)(HEADER_LEN + len)) != 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Reads [from, to) of the file into the bits, page by page, leaving zero pages untouched so
 * they stay unallocated. */
static int read_range(int fd, uint8_t *bits, _Atomic uint8_t *touched, off_t from, off_t to)
{
	uint8_t page[PAGE];
	for (off_t off = from; off < to;) {
		size_t want = (size_t)(to - off) < PAGE ? (size_t)(to - off) : PAGE;
		ssize_t n = pread(fd, page, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EINVAL; /* truncated */
		if (!zero_page(page, (size_t)n)) {
			memcpy(bits + (off - HEADER_LEN), page, (size_t)n);
			atomic_store(&touched[(size_t)(off - HEADER_LEN) / REGION], 1);
		}
		off += n;
	}
	return 0;
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
	f->blocks = blocks;
	if (!(f->touched = calloc(regions(f), 1))) {
		rc = -ENOMEM;
		goto out;
	}
	f->rotation_id = (uint32_t)get_le(hdr + 8, 4);
	f->hashes = hashes;
	f->capacity = get_le(hdr + 24, 8);
	atomic_store(&f->inserted, get_le(hdr + 32, 8));
	memcpy(f->key, hdr + 40, 16);
	off_t end = (off_t)(HEADER_LEN + replay_filter_bytes(f));
	if (lseek(fd, 0, SEEK_END) != end)
		goto out; /* truncated or padded: not ours */
	/* Only the data regions of a sparse file; the holes are zeros already. */
	for (off_t pos = HEADER_LEN; pos < end;) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* nothing but holes to the end */
		if (data < 0) {
			data = pos; /* no SEEK_DATA on this filesystem: read it all */
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		if (read_range(fd, (uint8_t *)f->bits, f->touched, data, hole))
			goto out;
		pos = hole;
	}
	*out = f;
	f = NULL;
	rc = 0;
out:
	replay_filter_free(f);
	close(fd);
	return rc;
}
