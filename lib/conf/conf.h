/* Configuration files: YAML read against a schema.
 *
 * A schema is a table of dotted key paths ("mixnet.debug.connection_idle_timeout"), each with
 * a type, a place in the caller's struct, a documented default and a valid range. Loading
 * fills defaults first, then the file; an unknown key, a wrong type or a value out of range
 * stops with "FILE:LINE:COLUMN: KEY: what was expected". Writing emits every key with its
 * help text as a comment, so a fresh config documents itself. Keys of one section must be
 * listed together in the schema. */
#ifndef NYM_CONF_CONF_H
#define NYM_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_STR_MAX 256
#define CONF_LIST_MAX 8

enum conf_type {
	CONF_STRING,   /* char[CONF_STR_MAX] */
	CONF_BOOL,     /* bool */
	CONF_U64,      /* uint64_t */
	CONF_DOUBLE,   /* double */
	CONF_DURATION, /* uint64_t nanoseconds; written "500ms", "10s", "5m", "1h", "2d" */
	CONF_LIST,     /* struct conf_list: a sequence of strings */
};

struct conf_list {
	size_t count;
	char item[CONF_LIST_MAX][CONF_STR_MAX];
};

struct conf_key {
	const char *path;
	enum conf_type type;
	size_t offset;           /* offsetof() into the target struct */
	const char *default_text; /* parsed as if read from the file; NULL = empty/zero */
	const char *help;
	double min, max;         /* inclusive range for numbers and durations (in seconds);
				    min == max == 0 means unchecked */
};

#define CONF_ERROR_MAX 512

/* Sets every key to its default. Returns 0 or -EINVAL (a broken schema default). */
int conf_defaults(const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX]);

/* Applies the defaults, then the file. Returns 0, -ENOENT (no such file), -EIO, or -EINVAL
 * with err describing the first problem. */
int conf_load(const char *path, const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX]);

/* The same over text already in memory; `name` is used in error messages. */
int conf_parse(const char *name, const char *text, size_t len, const struct conf_key *schema,
	       void *target, char err[CONF_ERROR_MAX]);

/* Sets one key from text, as a command-line override would ("mixnet.bind_address", "[::]:1789").
 * Returns 0, -ENOENT (unknown key) or -EINVAL. */
int conf_set(const struct conf_key *schema, void *target, const char *path, const char *value,
	     char err[CONF_ERROR_MAX]);

/* Writes the configuration as commented YAML, atomically (temporary file and rename), with
 * the given file mode. Returns 0 or a negative errno. */
int conf_write(const char *path, const struct conf_key *schema, const void *target, int mode);

/* Parses a duration ("250ms", "10s", "5m", "1h", "2d", or plain seconds) into nanoseconds. */
int conf_parse_duration(const char *text, uint64_t *ns);

#endif
