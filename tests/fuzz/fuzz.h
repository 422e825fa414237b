/* The libFuzzer entry points of the fuzz targets. Every fuzz_*.c defines
 * LLVMFuzzerTestOneInput; the same harness links against libFuzzer (make fuzz) or against
 * replay_main.c (make check), and both call LLVMFuzzerInitialize (harness.c) once before the
 * first input. */
#ifndef NYM_TESTS_FUZZ_H
#define NYM_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/x25519.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target's own set-up (fixed keys, key lists), run by LLVMFuzzerInitialize once the library
 * is initialised; targets without any leave it out. Failures abort. */
void fuzz_setup(void);

/* The Sphinx key of the node the Sphinx and ingress targets stand for: their seed corpora
 * hold packets made for it. */
extern const uint8_t fuzz_node_sphinx_secret[NYM_X25519_LEN];

/* A key pair with a fixed secret. */
void fuzz_x25519_keypair(struct nym_x25519_keypair *kp, const uint8_t secret[NYM_X25519_LEN]);

#endif
