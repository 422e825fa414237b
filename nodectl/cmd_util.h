/* Helpers shared by nym-node's commands: JSON output and hex arguments. */
#ifndef NYM_NODECTL_CMD_UTIL_H
#define NYM_NODECTL_CMD_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bytes {
	uint8_t *data;
	size_t len;
};

/* Prints a JSON value on one line to stdout and releases it; returns the exit status. */
int cmd_print_json(json_t *value);

/* A JSON string holding the lowercase hex of the bytes. */
json_t *cmd_json_hex(const uint8_t *data, size_t len);

/* Decodes a hex argument ("-" reads the hex from stdin) into a fresh buffer. Prints an error
 * naming the option and returns -EINVAL on bad input. */
int cmd_read_hex_arg(const char *context, const char *option, const char *arg, struct bytes *out);

#endif
