/* The libFuzzer entry point every fuzz_*.c defines. The same harness links against libFuzzer
 * (make fuzz) or against replay_main.c (make check). */
#ifndef NYM_TESTS_FUZZ_H
#define NYM_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
