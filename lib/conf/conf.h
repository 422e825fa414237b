/* Configuration files: YAML read against a schema.
 *
 * A schema is a table of dotted key paths ("mixnet.debug.connection_idle_timeout"), each with
 * a type, a place in the caller's struct, a documented default and a valid range. Loading
 * fills defaults first, then the file; an unknown key, a wrong type or a value out of range
 * stops with "FILE:LINE:COLUMN: KEY: what was expected". Writing emits every key with its
 * help text as a comment, so a fresh config documents itself. Keys of one section must be
 * listed together in the schema. A key given twice in one mapping is an error, except a
 * section the schema does not declare (it may be written in parts).
 *
 * Beyond plain values a schema can hold what a richer file needs (nym-ntm's host
 * configuration): values checked by the caller's function (CONF_CUSTOM), lists whose items it
 * checks one by one (CONF_CUSTOM_LIST), mappings of entries named by the user, each a mapping
 * of fields (CONF_ENTRIES), and declared sections (CONF_SECTION), whose unknown keys are
 * reported with the keys the section has. The functions of the custom types come in a table
 * of struct conf_custom given to conf_parse_over. */
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
	CONF_CUSTOM,	  /* a scalar handed to key->custom */
	CONF_CUSTOM_LIST, /* key->custom gets NULL when the list starts, then each item */
	CONF_ENTRIES,	  /* a mapping of named mappings, handed to key->entries */
	CONF_SECTION,	  /* no value: declares the section "path" (its keys follow it) */
};

#define CONF_ERROR_MAX 512

struct conf_key;

/* Checks and stores one scalar of a custom key into target (the whole struct, so one key may
 * set several fields). Returns 0, or -EINVAL with msg saying what was expected. */
typedef int (*conf_custom_fn)(const struct conf_key *k, void *target, const char *text, char msg[CONF_ERROR_MAX]);

/* A mapping of entries the user names ("nymwg: {ipv4: ..., ipv6: ...}"). Each returns 0 or
 * -EINVAL with msg; the error is placed at what was being read (the mapping, the name, the
 * value, the entry). field returns -ENOENT for a field it does not know. */
struct conf_entries {
	const char *fields; /* "ipv4, ipv6": listed when a field is unknown */
	int (*begin)(void *target, char msg[CONF_ERROR_MAX]);
	int (*entry)(void *target, const char *name, char msg[CONF_ERROR_MAX]);
	int (*field)(void *target, const char *name, const char *field, const char *text, char msg[CONF_ERROR_MAX]);
	int (*entry_end)(void *target, const char *name, char msg[CONF_ERROR_MAX]);
	int (*end)(void *target, char msg[CONF_ERROR_MAX]);
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

/* How the keys of the custom types are read, found by their path. */
struct conf_custom {
	const char *path;
	const char *expect;		    /* what a value should be, for errors */
	conf_custom_fn parse;		    /* CONF_CUSTOM, CONF_CUSTOM_LIST */
	const struct conf_entries *entries; /* CONF_ENTRIES */
};

/* Where a file went wrong: 1-based line and column, and what was expected. */
struct conf_error {
	uint32_t line, column;
	char message[CONF_ERROR_MAX];
};

/* Sets every key to its default. Returns 0 or -EINVAL (a broken schema default). */
int conf_defaults(const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX]);

/* Applies the defaults, then the file. Returns 0, -ENOENT (no such file), -EIO, or -EINVAL
 * with err describing the first problem. */
int conf_load(const char *path, const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX]);

/* Checks that need several keys, or more than a type and a range, after a file was read:
 * returns 0, or -EINVAL with msg (without the key) and *key the dotted path at fault. */
typedef int (*conf_check_fn)(const void *target, char msg[CONF_ERROR_MAX], const char **key);

/* conf_load, then check: a value check refuses is reported at its place in the file,
 * "FILE:LINE:COLUMN: KEY: msg", or "FILE: KEY: msg" when the file does not hold the key (its
 * default was refused). Returns what conf_load or check return. */
int conf_load_checked(const char *path, const struct conf_key *schema, void *target, conf_check_fn check,
		      char err[CONF_ERROR_MAX]);

/* The same over text already in memory; `name` is used in error messages. */
int conf_parse(const char *name, const char *text, size_t len, const struct conf_key *schema,
	       void *target, char err[CONF_ERROR_MAX]);

/* Reads text over what target holds (no defaults applied); `custom` (NULL-terminated, or NULL)
 * serves the schema's custom keys. Returns 0, -ENOMEM, or -EINVAL with the position and message
 * in *e; target may be partly written then. */
int conf_parse_over(const char *text, size_t len, const struct conf_key *schema, const struct conf_custom *custom,
		    void *target, struct conf_error *e);

/* Sets one key from text, as a command-line override would ("mixnet.bind_address", "[::]:1789").
 * Returns 0, -ENOENT (unknown key) or -EINVAL. */
int conf_set(const struct conf_key *schema, void *target, const char *path, const char *value,
	     char err[CONF_ERROR_MAX]);

/* Writes the plain keys (not the custom types) of the configuration as commented YAML, atomically (temporary file and rename), with
 * the given file mode. Returns 0 or a negative errno. */
int conf_write(const char *path, const struct conf_key *schema, const void *target, int mode);

/* Parses a duration ("250ms", "10s", "5m", "1h", "2d", or plain seconds) into nanoseconds. */
int conf_parse_duration(const char *text, uint64_t *ns);

#endif
