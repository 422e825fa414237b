/* Whole-file reads with a size cap, and crash-safe replacement of a file. */
#ifndef NYM_UTIL_FILE_H
#define NYM_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the whole file into a malloc'd buffer with a NUL appended (not counted in *len).
 * Returns 0, -EFBIG when it holds more than `max` bytes, or the negative errno of the
 * failing call. */
int nym_file_read(const char *path, size_t max, uint8_t **data, size_t *len);

/* Writes all of buf, retrying short writes and EINTR. Returns 0 or a negative errno. */
int nym_file_write_all(int fd, const void *buf, size_t len);

/* Replaces `path` atomically: writes a temporary file in the same directory with `mode`,
 * fsyncs it, renames it over the target and fsyncs the directory. After a crash the file
 * holds either the old or the new content, never a mix. */
int nym_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
