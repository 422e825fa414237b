#include "conf/conf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "util/file.h"

#define PATH_MAX_DEPTH 8

static const struct conf_key *find_key(const struct conf_key *schema, const char *path)
{
	for (const struct conf_key *k = schema; k->path; k++)
		if (strcmp(k->path, path) == 0)
			return k;
	return NULL;
}

/* Whether `prefix` names a section of the schema (some key starts with "prefix."). */
static bool is_section(const struct conf_key *schema, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const struct conf_key *k = schema; k->path; k++)
		if (strncmp(k->path, prefix, n) == 0 && k->path[n] == '.')
			return true;
	return false;
}

int conf_parse_duration(const char *text, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end == text || errno || !isfinite(v) || v < 0)
		return -EINVAL;
	double scale;
	if (*end == '\0' || strcmp(end, "s") == 0)
		scale = 1e9;
	else if (strcmp(end, "ms") == 0)
		scale = 1e6;
	else if (strcmp(end, "us") == 0)
		scale = 1e3;
	else if (strcmp(end, "ns") == 0)
		scale = 1;
	else if (strcmp(end, "m") == 0)
		scale = 60e9;
	else if (strcmp(end, "h") == 0)
		scale = 3600e9;
	else if (strcmp(end, "d") == 0)
		scale = 86400e9;
	else
		return -EINVAL;
	if (v * scale > 1.8e19)
		return -EINVAL;
	*ns = (uint64_t)llround(v * scale);
	return 0;
}

static const char *type_expectation(enum conf_type t)
{
	switch (t) {
	case CONF_STRING:
		return "a string";
	case CONF_BOOL:
		return "true or false";
	case CONF_U64:
		return "a non-negative integer";
	case CONF_DOUBLE:
		return "a number";
	case CONF_DURATION:
		return "a duration like 500ms, 10s, 5m or 1h";
	case CONF_LIST:
		return "a list of strings";
	}
	return "a value";
}

static int range_check(const struct conf_key *k, double v, char err[CONF_ERROR_MAX])
{
	if ((k->min == 0 && k->max == 0) || (v >= k->min && v <= k->max))
		return 0;
	snprintf(err, CONF_ERROR_MAX, "%s: must be between %g and %g%s", k->path, k->min, k->max,
		 k->type == CONF_DURATION ? " seconds" : "");
	return -EINVAL;
}

/* Assigns a scalar to a key. err gets "<key>: ..." on failure. */
static int assign(const struct conf_key *k, void *target, const char *text, char err[CONF_ERROR_MAX])
{
	char *field = (char *)target + k->offset;
	char *end;
	switch (k->type) {
	case CONF_STRING:
		if (strlen(text) >= CONF_STR_MAX)
			goto bad;
		snprintf(field, CONF_STR_MAX, "%s", text);
		return 0;
	case CONF_BOOL:
		if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0)
			*(bool *)field = true;
		else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0)
			*(bool *)field = false;
		else
			goto bad;
		return 0;
	case CONF_U64: {
		errno = 0;
		unsigned long long v = strtoull(text, &end, 10);
		if (!*text || *end || errno || text[0] == '-')
			goto bad;
		*(uint64_t *)field = v;
		return range_check(k, (double)v, err);
	}
	case CONF_DOUBLE: {
		errno = 0;
		double v = strtod(text, &end);
		if (!*text || *end || errno || !isfinite(v))
			goto bad;
		*(double *)field = v;
		return range_check(k, v, err);
	}
	case CONF_DURATION: {
		uint64_t ns;
		if (conf_parse_duration(text, &ns))
			goto bad;
		*(uint64_t *)field = ns;
		return range_check(k, (double)ns / 1e9, err);
	}
	case CONF_LIST: {
		/* A scalar for a list: a comma-separated override from the command line. */
		struct conf_list *l = (struct conf_list *)field;
		l->count = 0;
		char buf[CONF_LIST_MAX * CONF_STR_MAX];
		snprintf(buf, sizeof(buf), "%s", text);
		for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (l->count == CONF_LIST_MAX || strlen(tok) >= CONF_STR_MAX)
				goto bad;
			snprintf(l->item[l->count++], CONF_STR_MAX, "%s", tok);
		}
		return 0;
	}
	}
bad:
	snprintf(err, CONF_ERROR_MAX, "%s: expected %s, got \"%.60s\"", k->path, type_expectation(k->type), text);
	return -EINVAL;
}

int conf_defaults(const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX])
{
	for (const struct conf_key *k = schema; k->path; k++) {
		char *field = (char *)target + k->offset;
		switch (k->type) {
		case CONF_STRING:
			field[0] = '\0';
			break;
		case CONF_BOOL:
			*(bool *)field = false;
			break;
		case CONF_U64:
		case CONF_DURATION:
			*(uint64_t *)field = 0;
			break;
		case CONF_DOUBLE:
			*(double *)field = 0;
			break;
		case CONF_LIST:
			((struct conf_list *)field)->count = 0;
			break;
		}
		if (k->default_text && assign(k, target, k->default_text, err))
			return -EINVAL;
	}
	return 0;
}

int conf_set(const struct conf_key *schema, void *target, const char *path, const char *value,
	     char err[CONF_ERROR_MAX])
{
	const struct conf_key *k = find_key(schema, path);
	if (!k) {
		snprintf(err, CONF_ERROR_MAX, "unknown setting %s", path);
		return -ENOENT;
	}
	return assign(k, target, value, err);
}

struct parse_state {
	const char *file;
	const struct conf_key *schema;
	void *target;
	char *err;
	char path[PATH_MAX_DEPTH][CONF_STR_MAX];
	int depth;
};

static void located(struct parse_state *st, const yaml_event_t *ev, const char *msg)
{
	/* msg may be st->err itself; keep a copy, and let an overlong message be cut short. */
	char copy[CONF_ERROR_MAX];
	memcpy(copy, msg, strnlen(msg, CONF_ERROR_MAX - 1) + 1);
	copy[CONF_ERROR_MAX - 1] = '\0';
	int n = snprintf(st->err, CONF_ERROR_MAX, "%.200s:%zu:%zu: ", st->file, ev->start_mark.line + 1,
			 ev->start_mark.column + 1);
	if (n > 0 && n < CONF_ERROR_MAX) {
		size_t room = CONF_ERROR_MAX - (size_t)n - 1, len = strnlen(copy, room);
		memcpy(st->err + n, copy, len);
		st->err[(size_t)n + len] = '\0';
	}
}

static void join_path(const struct parse_state *st, const char *key, char out[CONF_STR_MAX])
{
	out[0] = '\0';
	for (int i = 0; i < st->depth; i++) {
		strncat(out, st->path[i], CONF_STR_MAX - strlen(out) - 1);
		strncat(out, ".", CONF_STR_MAX - strlen(out) - 1);
	}
	strncat(out, key, CONF_STR_MAX - strlen(out) - 1);
}

static int next_event(yaml_parser_t *p, yaml_event_t *ev, struct parse_state *st)
{
	if (yaml_parser_parse(p, ev))
		return 0;
	snprintf(st->err, CONF_ERROR_MAX, "%s:%zu:%zu: YAML syntax error: %s", st->file,
		 p->problem_mark.line + 1, p->problem_mark.column + 1, p->problem ? p->problem : "?");
	return -EINVAL;
}

/* Reads a list value (the SEQUENCE-START event already consumed). */
static int parse_list(yaml_parser_t *p, struct parse_state *st, const struct conf_key *k)
{
	struct conf_list *l = (struct conf_list *)((char *)st->target + k->offset);
	l->count = 0;
	for (;;) {
		yaml_event_t ev;
		if (next_event(p, &ev, st))
			return -EINVAL;
		int rc = 0;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		char msg[CONF_ERROR_MAX];
		if (ev.type != YAML_SCALAR_EVENT) {
			snprintf(msg, sizeof(msg), "%s: expected a list of strings", k->path);
			located(st, &ev, msg);
			rc = -EINVAL;
		} else if (l->count == CONF_LIST_MAX || ev.data.scalar.length >= CONF_STR_MAX) {
			snprintf(msg, sizeof(msg), "%s: at most %d entries of under %d characters", k->path,
				 CONF_LIST_MAX, CONF_STR_MAX);
			located(st, &ev, msg);
			rc = -EINVAL;
		} else {
			snprintf(l->item[l->count++], CONF_STR_MAX, "%s", (const char *)ev.data.scalar.value);
		}
		yaml_event_delete(&ev);
		if (rc)
			return rc;
	}
}

/* Reads a mapping's entries until its end (the MAPPING-START event already consumed). */
static int parse_mapping(yaml_parser_t *p, struct parse_state *st)
{
	for (;;) {
		yaml_event_t key_ev, val_ev;
		char full[CONF_STR_MAX], msg[CONF_ERROR_MAX];
		int rc = 0;
		if (next_event(p, &key_ev, st))
			return -EINVAL;
		if (key_ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key_ev);
			return 0;
		}
		if (key_ev.type != YAML_SCALAR_EVENT) {
			located(st, &key_ev, "expected a key");
			yaml_event_delete(&key_ev);
			return -EINVAL;
		}
		join_path(st, (const char *)key_ev.data.scalar.value, full);
		if (next_event(p, &val_ev, st)) {
			yaml_event_delete(&key_ev);
			return -EINVAL;
		}
		const struct conf_key *k = find_key(st->schema, full);
		if (val_ev.type == YAML_MAPPING_START_EVENT) {
			if (!is_section(st->schema, full) || st->depth == PATH_MAX_DEPTH) {
				snprintf(msg, sizeof(msg), "unknown section '%s'", full);
				located(st, &key_ev, msg);
				rc = -EINVAL;
			} else {
				snprintf(st->path[st->depth++], CONF_STR_MAX, "%s",
					 (const char *)key_ev.data.scalar.value);
				rc = parse_mapping(p, st);
				st->depth--;
			}
		} else if (!k) {
			snprintf(msg, sizeof(msg), is_section(st->schema, full) ? "'%s' is a section: expected a mapping"
										 : "unknown key '%s'",
				 full);
			located(st, &key_ev, msg);
			rc = -EINVAL;
		} else if (val_ev.type == YAML_SEQUENCE_START_EVENT) {
			if (k->type != CONF_LIST) {
				snprintf(msg, sizeof(msg), "%s: expected %s, got a list", k->path,
					 type_expectation(k->type));
				located(st, &val_ev, msg);
				rc = -EINVAL;
			} else {
				rc = parse_list(p, st, k);
			}
		} else if (val_ev.type == YAML_SCALAR_EVENT) {
			const char *text = (const char *)val_ev.data.scalar.value;
			/* An empty plain scalar (`key:`) means the empty string or an empty list. */
			if (k->type == CONF_LIST && text[0] == '\0') {
				((struct conf_list *)((char *)st->target + k->offset))->count = 0;
			} else if (assign(k, st->target, text, msg)) {
				located(st, &val_ev, msg);
				rc = -EINVAL;
			}
		} else {
			located(st, &val_ev, "unsupported YAML construct (anchors and aliases are not allowed)");
			rc = -EINVAL;
		}
		yaml_event_delete(&key_ev);
		yaml_event_delete(&val_ev);
		if (rc)
			return rc;
	}
}

int conf_parse(const char *name, const char *text, size_t len, const struct conf_key *schema,
	       void *target, char err[CONF_ERROR_MAX])
{
	if (conf_defaults(schema, target, err))
		return -EINVAL;
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	struct parse_state st = { .file = name, .schema = schema, .target = target, .err = err };
	int rc = 0;
	bool done = false;
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (next_event(&p, &ev, &st)) {
			rc = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_MAPPING_START_EVENT:
			rc = parse_mapping(&p, &st);
			break;
		case YAML_SCALAR_EVENT:
			/* An empty document is a valid, all-defaults configuration. */
			if (ev.data.scalar.length) {
				located(&st, &ev, "expected a mapping of settings at the top level");
				rc = -EINVAL;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			located(&st, &ev, "expected a mapping of settings at the top level");
			rc = -EINVAL;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

int conf_load(const char *path, const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX])
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, CONF_ERROR_MAX, "%s: %s", path, strerror(e));
		return e == ENOENT ? -ENOENT : -EIO;
	}
	/* Configuration files are small; anything past 1 MiB is a mistake. */
	enum { MAX_CONFIG = 1 << 20 };
	char *buf = malloc(MAX_CONFIG);
	size_t len = buf ? fread(buf, 1, MAX_CONFIG, f) : 0;
	int rc;
	if (!buf || ferror(f)) {
		snprintf(err, CONF_ERROR_MAX, "%s: cannot read", path);
		rc = -EIO;
	} else if (len == MAX_CONFIG) {
		snprintf(err, CONF_ERROR_MAX, "%s: larger than 1 MiB", path);
		rc = -EINVAL;
	} else {
		rc = conf_parse(path, buf, len, schema, target, err);
	}
	free(buf);
	fclose(f);
	return rc;
}

static void write_scalar(FILE *f, const struct conf_key *k, const void *target)
{
	const char *field = (const char *)target + k->offset;
	switch (k->type) {
	case CONF_STRING: {
		fputc('"', f);
		for (const char *c = field; *c; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', f);
			fputc(*c, f);
		}
		fputc('"', f);
		break;
	}
	case CONF_BOOL:
		fputs(*(const bool *)field ? "true" : "false", f);
		break;
	case CONF_U64:
		fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case CONF_DOUBLE:
		fprintf(f, "%.15g", *(const double *)field);
		break;
	case CONF_DURATION: {
		uint64_t ns = *(const uint64_t *)field;
		if (ns % 3600000000000ull == 0 && ns)
			fprintf(f, "%lluh", (unsigned long long)(ns / 3600000000000ull));
		else if (ns % 60000000000ull == 0 && ns)
			fprintf(f, "%llum", (unsigned long long)(ns / 60000000000ull));
		else if (ns % 1000000000ull == 0)
			fprintf(f, "%llus", (unsigned long long)(ns / 1000000000ull));
		else if (ns % 1000000ull == 0)
			fprintf(f, "%llums", (unsigned long long)(ns / 1000000ull));
		else if (ns % 1000ull == 0)
			fprintf(f, "%lluus", (unsigned long long)(ns / 1000ull));
		else
			fprintf(f, "%lluns", (unsigned long long)ns);
		break;
	}
	case CONF_LIST: {
		const struct conf_list *l = (const struct conf_list *)field;
		fputc('[', f);
		for (size_t i = 0; i < l->count; i++)
			fprintf(f, "%s\"%s\"", i ? ", " : "", l->item[i]);
		fputc(']', f);
		break;
	}
	}
}

/* Number of leading path components two dotted paths share. */
static int common_sections(const char *a, const char *b)
{
	int n = 0;
	for (;;) {
		const char *da = strchr(a, '.'), *db = strchr(b, '.');
		if (!da || !db || da - a != db - b || strncmp(a, b, (size_t)(da - a)) != 0)
			return n;
		n++;
		a = da + 1;
		b = db + 1;
	}
}

int conf_write(const char *path, const struct conf_key *schema, const void *target, int mode)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -errno;
	fputs("# Generated by nym-c; every setting is listed with its meaning.\n", f);
	const char *prev = "";
	for (const struct conf_key *k = schema; k->path; k++) {
		int shared = common_sections(prev, k->path), depth = 0;
		const char *seg = k->path;
		/* Open the sections this key enters that the previous key was not in. */
		for (const char *dot; (dot = strchr(seg, '.')); seg = dot + 1, depth++)
			if (depth >= shared)
				fprintf(f, "%s%*s%.*s:\n", depth == 0 ? "\n" : "", depth * 2, "",
					(int)(dot - seg), seg);
		if (k->help)
			fprintf(f, "%*s# %s\n", depth * 2, "", k->help);
		fprintf(f, "%*s%s: ", depth * 2, "", seg);
		write_scalar(f, k, target);
		fputc('\n', f);
		prev = k->path;
	}
	int rc = fclose(f) == 0 ? nym_file_write_atomic(path, text, len, (mode_t)mode) : -ENOMEM;
	free(text);
	return rc;
}
