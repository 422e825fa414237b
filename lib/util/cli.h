/* Command-line options for every program of the project: long options (--name VALUE or
 * --name=VALUE) and, where declared, a one-letter short form (-w, -e VALUE), each declared once
 * with its type, so every user error gets the same clear
 * message ("nym-node debug keygen: unknown option --x") and exit status. */
#ifndef NYM_UTIL_CLI_H
#define NYM_UTIL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_type {
	CLI_STRING, /* const char **dest */
	CLI_U64,    /* uint64_t *dest, decimal */
	CLI_FLAG,   /* bool *dest, takes no value */
	CLI_LIST,   /* struct cli_list *dest, repeatable */
};

#define CLI_LIST_MAX 16

struct cli_list {
	const char *items[CLI_LIST_MAX];
	size_t count;
};

/* Tables written before short_name existed initialise the first five fields only; the rest
 * is zero as C guarantees, so that warning is off wherever this header is included. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct cli_option {
	const char *name; /* without the leading dashes */
	enum cli_type type;
	void *dest;
	bool required;
	const char *help; /* "FILE  route as a JSON array" */
	char short_name;  /* 'w' for -w (no bundling: -w -j, not -wj); 0 = none */
};

#define CLI_MAX_OPTIONS 64

/* Parses argv[0..argc) (the arguments after the command words). Positional arguments are
 * stored in positional[] (up to max_positional, count in *npositional; pass NULL/0 to allow
 * none). On error prints "<context>: <problem>" and the usage to stderr and returns -EINVAL.
 * --help prints the usage to stdout and returns 1. */
int cli_parse(const char *context, int argc, char **argv, struct cli_option *opts,
	      const char **positional, size_t max_positional, size_t *npositional);

void cli_usage(FILE *out, const char *context, const struct cli_option *opts);

/* A program's commands: one or two words ("run", "debug keygen"). run gets the arguments
 * after the command words and "<program> <words>" as context for its messages, and returns
 * the exit status. */
struct cli_command {
	const char *group; /* first word, or NULL for a one-word command */
	const char *name;
	int (*run)(const char *context, int argc, char **argv);
	const char *summary;
};

/* The whole of a program's main: --help, --version, dispatch, and an unknown command
 * reported with the list of commands (exit status 1). */
int cli_main(const char *program, const struct cli_command *commands, int argc, char **argv);

#endif
