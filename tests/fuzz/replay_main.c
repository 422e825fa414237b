/* Stand-in for libFuzzer under `make check`: initialises the harness as libFuzzer does, then
 * feeds it every file of its seed corpus, mutations of those files and a fixed set of
 * pseudo-random inputs. Catches harnesses that no
 * longer build and regressions on inputs that once crashed; coverage-guided search is the job
 * of `make fuzz`. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (64 * 1024)
#define RANDOM_INPUTS 3000
#define MUTATIONS_PER_FILE 200

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned long inputs;

static void run(const uint8_t *data, size_t len)
{
	/* Hand the harness an exact-size heap copy so ASan sees any overread. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	inputs++;
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	static uint8_t buf[REPLAY_MAX_INPUT];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	run(buf, len);
	for (int m = 0; m < MUTATIONS_PER_FILE && len; m++) {
		static uint8_t mut[REPLAY_MAX_INPUT];
		memcpy(mut, buf, len);
		size_t mlen = len;
		int flips = 1 + (int)(next_random() % 4);
		for (int i = 0; i < flips; i++)
			mut[next_random() % mlen] ^= (uint8_t)(1u << (next_random() % 8));
		if (next_random() % 4 == 0)
			mlen = next_random() % (len + 1);
		run(mut, mlen);
	}
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		run_path(p);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	static uint8_t buf[8192];
	for (int i = 0; i < RANDOM_INPUTS; i++) {
		size_t len = next_random() % sizeof(buf);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)next_random();
		run(buf, len);
	}
	printf("replayed %lu inputs\n", inputs);
	return 0;
}
