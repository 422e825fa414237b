#include "cmd_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util/hex.h"

int cmd_print_json(json_t *value)
{
	if (!value)
		return EXIT_FAIL;
	int ok = json_dumpf(value, stdout, JSON_COMPACT) == 0 && fputc('\n', stdout) != EOF;
	json_decref(value);
	return ok && fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

json_t *cmd_json_hex(const uint8_t *data, size_t len)
{
	char *hex = malloc(2 * len + 1);
	if (!hex)
		return NULL;
	nym_hex_encode(hex, data, len);
	json_t *s = json_stringn_nocheck(hex, 2 * len);
	free(hex);
	return s;
}

static char *read_stdin(void)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (size_t n; buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0;) {
		len += n;
		if (len + 1 == cap) {
			char *bigger = realloc(buf, cap *= 2);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
	}
	if (buf) {
		while (len && isspace((unsigned char)buf[len - 1]))
			len--;
		buf[len] = '\0';
	}
	return buf;
}

int cmd_read_hex_arg(const char *context, const char *option, const char *arg, struct bytes *out)
{
	char *owned = NULL;
	if (strcmp(arg, "-") == 0) {
		arg = owned = read_stdin();
		if (!arg) {
			fprintf(stderr, "%s: cannot read %s from stdin\n", context, option);
			return -EINVAL;
		}
	}
	size_t cap = strlen(arg) / 2 + 1;
	out->data = malloc(cap);
	int rc = out->data ? nym_hex_decode(out->data, cap, &out->len, arg) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "%s: %s must be an even number of hex digits\n", context, option);
		free(out->data);
		out->data = NULL;
		rc = -EINVAL;
	}
	free(owned);
	return rc;
}
