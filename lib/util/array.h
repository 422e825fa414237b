/* Growable arrays: the one place that doubles a capacity. */
#ifndef NYM_UTIL_ARRAY_H
#define NYM_UTIL_ARRAY_H

#include <stddef.h>

/* Makes *arr (elements of `elem` bytes, *cap of them allocated) hold at least `need`,
 * doubling from 32. Returns 0 or -ENOMEM (also when the size would overflow). */
int nym_array_grow(void **arr, size_t *cap, size_t need, size_t elem);

#endif
