#include "util/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void cli_usage(FILE *out, const char *context, const struct cli_option *opts)
{
	fprintf(out, "usage: %s", context);
	for (const struct cli_option *o = opts; o && o->name; o++)
		fprintf(out, o->required ? " --%s" : " [--%s]", o->name);
	fputc('\n', out);
	for (const struct cli_option *o = opts; o && o->name; o++) {
		char flag[80];
		if (o->short_name)
			snprintf(flag, sizeof(flag), "-%c, --%s", o->short_name, o->name);
		else
			snprintf(flag, sizeof(flag), "--%s", o->name);
		const char *help = o->help ? o->help : "";
		const char *repeat = o->type == CLI_LIST ? " (repeatable)" : "";
		/* a name too long for the column gets its help on the next line */
		if (strlen(flag) > 22)
			fprintf(out, "  %s\n  %-22s %s%s\n", flag, "", help, repeat);
		else
			fprintf(out, "  %-22s %s%s\n", flag, help, repeat);
	}
}

static int fail(const char *context, const struct cli_option *opts, const char *what,
		const char *arg)
{
	fprintf(stderr, "%s: %s%s\n", context, what, arg ? arg : "");
	cli_usage(stderr, context, opts);
	return -EINVAL;
}

static int store(const char *context, struct cli_option *opts, struct cli_option *o,
		 const char *value)
{
	char msg[160];
	switch (o->type) {
	case CLI_STRING:
		*(const char **)o->dest = value;
		return 0;
	case CLI_U64: {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(value, &end, 10);
		if (!*value || *end || errno || value[0] == '-') {
			snprintf(msg, sizeof(msg), "--%s expects a non-negative integer, got ", o->name);
			return fail(context, opts, msg, value);
		}
		*(uint64_t *)o->dest = v;
		return 0;
	}
	case CLI_LIST: {
		struct cli_list *l = o->dest;
		if (l->count == CLI_LIST_MAX) {
			snprintf(msg, sizeof(msg), "--%s given more than %d times", o->name, CLI_LIST_MAX);
			return fail(context, opts, msg, NULL);
		}
		l->items[l->count++] = value;
		return 0;
	}
	case CLI_FLAG:
		break;
	}
	return -EINVAL;
}

int cli_parse(const char *context, int argc, char **argv, struct cli_option *opts,
	      const char **positional, size_t max_positional, size_t *npositional)
{
	size_t npos = 0, nopts = 0;
	bool seen[CLI_MAX_OPTIONS] = { false };
	bool has_short = false;
	while (opts[nopts].name)
		has_short |= opts[nopts++].short_name != 0;
	if (nopts > CLI_MAX_OPTIONS)
		return fail(context, opts, "internal error: too many options", NULL);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			cli_usage(stdout, context, opts);
			return 1;
		}
		/* "-x" is an option only in tables that declare short names: elsewhere it stays
		 * what it always was (a positional argument, such as a negative number) */
		bool is_short = has_short && arg[0] == '-' && arg[1] && arg[1] != '-';
		if (strncmp(arg, "--", 2) != 0 && !is_short) {
			if (npos >= max_positional)
				return fail(context, opts, "unexpected argument ", arg);
			positional[npos++] = arg;
			continue;
		}
		const char *name = arg + (is_short ? 1 : 2);
		const char *eq = is_short ? NULL : strchr(name, '=');
		size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
		struct cli_option *o = opts;
		if (is_short) {
			for (; o->name && name_len == 1; o++)
				if (o->short_name && o->short_name == name[0])
					break;
			if (!o->name || name_len != 1)
				return fail(context, opts, "unknown option ", arg);
		}
		for (; !is_short && o->name; o++)
			if (strlen(o->name) == name_len && strncmp(o->name, name, name_len) == 0)
				break;
		if (!o->name)
			return fail(context, opts, "unknown option ", arg);
		if (seen[o - opts] && o->type != CLI_LIST)
			return fail(context, opts, "option given twice: ", arg);
		seen[o - opts] = true;
		if (o->type == CLI_FLAG) {
			if (eq)
				return fail(context, opts, "option takes no value: ", arg);
			*(bool *)o->dest = true;
			continue;
		}
		const char *value = eq ? eq + 1 : NULL;
		if (!value) {
			if (i + 1 >= argc)
				return fail(context, opts, "missing value for ", arg);
			value = argv[++i];
		}
		int rc = store(context, opts, o, value);
		if (rc)
			return rc;
	}
	for (struct cli_option *o = opts; o->name; o++) {
		if (o->required && !seen[o - opts]) {
			char msg[96];
			snprintf(msg, sizeof(msg), "missing required option --%s", o->name);
			return fail(context, opts, msg, NULL);
		}
	}
	if (npositional)
		*npositional = npos;
	return 0;
}

static void commands_usage(FILE *out, const char *program, const struct cli_command *commands)
{
	fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", program);
	for (const struct cli_command *c = commands; c->name; c++) {
		char words[64];
		snprintf(words, sizeof(words), "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
		fprintf(out, "  %-28s %s\n", words, c->summary);
	}
	fprintf(out, "\n%s <command> --help shows the options of a command.\n", program);
}

int cli_main(const char *program, const struct cli_command *commands, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		commands_usage(argc < 2 ? stderr : stdout, program, commands);
		return argc < 2 ? 1 : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("%s %s (%s)\n", program, NYM_VERSION, NYM_COMMIT);
		return 0;
	}
	for (const struct cli_command *c = commands; c->name; c++) {
		int words = c->group ? 2 : 1;
		if (argc <= words)
			continue;
		if (c->group ? strcmp(argv[1], c->group) != 0 || strcmp(argv[2], c->name) != 0
			     : strcmp(argv[1], c->name) != 0)
			continue;
		char context[96];
		snprintf(context, sizeof(context), "%s %s%s%s", program, c->group ? c->group : "",
			 c->group ? " " : "", c->name);
		return c->run(context, argc - 1 - words, argv + 1 + words);
	}
	fprintf(stderr, "%s: unknown command '%s%s%s'\n", program, argv[1], argc > 2 ? " " : "",
		argc > 2 ? argv[2] : "");
	commands_usage(stderr, program, commands);
	return 1;
}
