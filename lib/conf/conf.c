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
	case CONF_CUSTOM:
	case CONF_CUSTOM_LIST:
	case CONF_ENTRIES:
	case CONF_SECTION:
		break;
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
	case CONF_CUSTOM: /* read by parse_mapping with its function */
	case CONF_CUSTOM_LIST:
	case CONF_ENTRIES:
	case CONF_SECTION:
		break;
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
		case CONF_CUSTOM:
		case CONF_CUSTOM_LIST:
		case CONF_ENTRIES:
		case CONF_SECTION:
			continue; /* their owner sets their defaults */
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
	const struct conf_key *schema;
	const struct conf_custom *custom;
	void *target;
	struct conf_error *e;
	char path[PATH_MAX_DEPTH][CONF_STR_MAX];
	int depth;
};

static const struct conf_custom *custom_of(const struct parse_state *st, const struct conf_key *k)
{
	static const struct conf_custom none = { 0 };
	for (const struct conf_custom *c = st->custom; c && c->path; c++)
		if (strcmp(c->path, k->path) == 0)
			return c;
	return &none;
}

static const char *expectation(const struct parse_state *st, const struct conf_key *k)
{
	const char *e = custom_of(st, k)->expect;
	return e ? e : type_expectation(k->type);
}

/* The function of a custom key; a schema without one is refused as the caller's mistake. */
static int call_custom(struct parse_state *st, const struct conf_key *k, const char *text, char msg[CONF_ERROR_MAX])
{
	conf_custom_fn fn = custom_of(st, k)->parse;
	if (!fn) {
		snprintf(msg, CONF_ERROR_MAX, "%s: the schema gives no reader for this key", k->path);
		return -EINVAL;
	}
	return fn(k, st->target, text, msg);
}

static int located(struct parse_state *st, const yaml_event_t *ev, const char *msg)
{
	st->e->line = (uint32_t)ev->start_mark.line + 1;
	st->e->column = (uint32_t)ev->start_mark.column + 1;
	snprintf(st->e->message, sizeof(st->e->message), "%s", msg);
	return -EINVAL;
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
	st->e->line = (uint32_t)p->problem_mark.line + 1;
	st->e->column = (uint32_t)p->problem_mark.column + 1;
	snprintf(st->e->message, sizeof(st->e->message), "YAML syntax error: %s", p->problem ? p->problem : "?");
	return -EINVAL;
}

/* Reads a list value (the SEQUENCE-START event already consumed). */
static int parse_list(yaml_parser_t *p, struct parse_state *st, const struct conf_key *k, const yaml_event_t *start)
{
	struct conf_list *l = (struct conf_list *)((char *)st->target + k->offset);
	char msg[CONF_ERROR_MAX];
	if (k->type == CONF_LIST)
		l->count = 0;
	else if (call_custom(st, k, NULL, msg))
		return located(st, start, msg);
	for (;;) {
		yaml_event_t ev;
		if (next_event(p, &ev, st))
			return -EINVAL;
		int rc = 0;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			snprintf(msg, sizeof(msg), "%s: expected a list of %s", k->path,
				 k->type == CONF_LIST ? "strings" : "single values");
			rc = located(st, &ev, msg);
		} else if (k->type == CONF_CUSTOM_LIST) {
			if (call_custom(st, k, (const char *)ev.data.scalar.value, msg))
				rc = located(st, &ev, msg);
		} else if (l->count == CONF_LIST_MAX || ev.data.scalar.length >= CONF_STR_MAX) {
			snprintf(msg, sizeof(msg), "%s: at most %d entries of under %d characters", k->path,
				 CONF_LIST_MAX, CONF_STR_MAX);
			rc = located(st, &ev, msg);
		} else {
			snprintf(l->item[l->count++], CONF_STR_MAX, "%s", (const char *)ev.data.scalar.value);
		}
		yaml_event_delete(&ev);
		if (rc)
			return rc;
	}
}

/* The names a mapping has had so far, to refuse one given twice. */
struct seen {
	char **names;
	size_t count;
};

static int seen_add(struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->names[i], name) == 0)
			return -EEXIST;
	char **more = realloc(s->names, (s->count + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	s->names = more;
	if (!(s->names[s->count] = strdup(name)))
		return -ENOMEM;
	s->count++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->names[i]);
	free(s->names);
}

/* Records a key of the mapping at `where` (" in ports", or ""); refuses a repeated one. */
static int check_repeat(struct parse_state *st, struct seen *s, const yaml_event_t *key_ev, const char *where)
{
	char msg[CONF_ERROR_MAX];
	int rc = seen_add(s, (const char *)key_ev->data.scalar.value);
	if (rc == -EEXIST)
		snprintf(msg, sizeof(msg), "key '%.200s'%.200s given twice", (const char *)key_ev->data.scalar.value, where);
	else if (rc)
		snprintf(msg, sizeof(msg), "out of memory");
	return rc ? located(st, key_ev, msg) : 0;
}

/* "unknown key 'sctp' in ports (expected one of: tcp, udp)" for a declared section, else
 * "unknown key 'net.bogus'". */
static void unknown_key(const struct parse_state *st, const struct conf_key *section, const char *name,
			const char *full, char msg[CONF_ERROR_MAX])
{
	if (!section) {
		snprintf(msg, CONF_ERROR_MAX, "unknown key '%.400s'", full);
		return;
	}
	size_t n = strlen(section->path);
	int off = snprintf(msg, CONF_ERROR_MAX, "unknown key '%.100s' in %.100s (expected one of:", name, section->path);
	const char *sep = " ";
	for (const struct conf_key *k = st->schema; k->path && off > 0 && off < CONF_ERROR_MAX; k++) {
		if (k == section || strncmp(k->path, section->path, n) != 0 || k->path[n] != '.' ||
		    strchr(k->path + n + 1, '.'))
			continue;
		off += snprintf(msg + off, CONF_ERROR_MAX - (size_t)off, "%s%s", sep, k->path + n + 1);
		sep = ", ";
	}
	if (off > 0 && off < CONF_ERROR_MAX)
		snprintf(msg + off, CONF_ERROR_MAX - (size_t)off, ")");
}

/* Reads one named entry's fields (its MAPPING-START event is `map_ev`). */
static int parse_entry_fields(yaml_parser_t *p, struct parse_state *st, const struct conf_key *k, const char *name,
			      const yaml_event_t *map_ev)
{
	const struct conf_entries *ops = custom_of(st, k)->entries;
	char msg[CONF_ERROR_MAX], where[CONF_STR_MAX + 8];
	struct seen seen = { 0 };
	int rc = 0;
	snprintf(where, sizeof(where), " in %.120s.%.120s", k->path, name);
	while (rc == 0) {
		yaml_event_t f_ev, v_ev;
		if (next_event(p, &f_ev, st)) {
			rc = -EINVAL;
			break;
		}
		if (f_ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&f_ev);
			if (ops->entry_end && ops->entry_end(st->target, name, msg))
				rc = located(st, map_ev, msg);
			break;
		}
		if (f_ev.type != YAML_SCALAR_EVENT || (rc = check_repeat(st, &seen, &f_ev, where)) != 0) {
			rc = rc ? rc : located(st, &f_ev, "expected a key");
			yaml_event_delete(&f_ev);
			break;
		}
		if (next_event(p, &v_ev, st)) {
			yaml_event_delete(&f_ev);
			rc = -EINVAL;
			break;
		}
		const char *field = (const char *)f_ev.data.scalar.value;
		if (v_ev.type != YAML_SCALAR_EVENT) {
			snprintf(msg, sizeof(msg), "%.120s.%.120s.%.120s: expected a single value", k->path, name, field);
			rc = located(st, &v_ev, msg);
		} else {
			int frc = ops->field(st->target, name, field, (const char *)v_ev.data.scalar.value, msg);
			if (frc == -ENOENT) {
				snprintf(msg, sizeof(msg), "unknown key '%.100s'%.250s (expected one of: %.100s)", field, where,
					 ops->fields);
				rc = located(st, &f_ev, msg);
			} else if (frc) {
				rc = located(st, &v_ev, msg);
			}
		}
		yaml_event_delete(&f_ev);
		yaml_event_delete(&v_ev);
	}
	seen_free(&seen);
	return rc;
}

/* Reads a CONF_ENTRIES value (its MAPPING-START event is `map_ev`). */
static int parse_entries(yaml_parser_t *p, struct parse_state *st, const struct conf_key *k, const yaml_event_t *map_ev)
{
	const struct conf_entries *ops = custom_of(st, k)->entries;
	char msg[CONF_ERROR_MAX];
	if (!ops) {
		snprintf(msg, sizeof(msg), "%s: the schema gives no reader for this key", k->path);
		return located(st, map_ev, msg);
	}
	if (ops->begin && ops->begin(st->target, msg))
		return located(st, map_ev, msg);
	int rc = 0;
	while (rc == 0) {
		yaml_event_t name_ev, val_ev;
		if (next_event(p, &name_ev, st))
			return -EINVAL;
		if (name_ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&name_ev);
			if (ops->end && ops->end(st->target, msg))
				rc = located(st, map_ev, msg);
			return rc;
		}
		char name[CONF_STR_MAX];
		if (name_ev.type != YAML_SCALAR_EVENT)
			rc = located(st, &name_ev, "expected a key");
		else if (snprintf(name, sizeof(name), "%s", (const char *)name_ev.data.scalar.value),
			 ops->entry(st->target, name, msg))
			rc = located(st, &name_ev, msg);
		else if (next_event(p, &val_ev, st))
			rc = -EINVAL;
		else {
			if (val_ev.type != YAML_MAPPING_START_EVENT) {
				snprintf(msg, sizeof(msg), "%.120s.%.120s: expected a mapping of %.120s", k->path, name,
					 ops->fields);
				rc = located(st, &val_ev, msg);
			} else {
				rc = parse_entry_fields(p, st, k, name, &val_ev);
			}
			yaml_event_delete(&val_ev);
		}
		yaml_event_delete(&name_ev);
	}
	return rc;
}

static int parse_mapping(yaml_parser_t *p, struct parse_state *st, const struct conf_key *section);

/* Reads the value of key `name` (path `full`, schema key k or NULL) in a mapping. */
static int read_value(yaml_parser_t *p, struct parse_state *st, const struct conf_key *section, const struct conf_key *k,
		      const char *name, const char *full, const yaml_event_t *key_ev, const yaml_event_t *val_ev)
{
	char msg[CONF_ERROR_MAX];
	int rc = 0;
	if (val_ev->type == YAML_MAPPING_START_EVENT) {
		if (k && k->type == CONF_ENTRIES) {
			rc = parse_entries(p, st, k, val_ev);
		} else if (!is_section(st->schema, full) || st->depth == PATH_MAX_DEPTH) {
			snprintf(msg, sizeof(msg), "unknown section '%s'", full);
			rc = located(st, key_ev, msg);
		} else {
			snprintf(st->path[st->depth++], CONF_STR_MAX, "%s", name);
			rc = parse_mapping(p, st, k && k->type == CONF_SECTION ? k : NULL);
			st->depth--;
		}
	} else if (!k || k->type == CONF_SECTION) {
		if (is_section(st->schema, full))
			snprintf(msg, sizeof(msg), "'%s' is a section: expected a mapping", full);
		else
			unknown_key(st, section, name, full, msg);
		rc = located(st, key_ev, msg);
	} else if (val_ev->type == YAML_SEQUENCE_START_EVENT) {
		if (k->type != CONF_LIST && k->type != CONF_CUSTOM_LIST) {
			snprintf(msg, sizeof(msg), "%s: expected %s, got a list", k->path, expectation(st, k));
			rc = located(st, val_ev, msg);
		} else {
			rc = parse_list(p, st, k, val_ev);
		}
	} else if (val_ev->type == YAML_SCALAR_EVENT) {
		const char *text = (const char *)val_ev->data.scalar.value;
		bool list = k->type == CONF_LIST || k->type == CONF_CUSTOM_LIST;
		/* An empty plain scalar (`key:`) means the empty string or an empty list. */
		if (list && text[0] == '\0') {
			if (k->type == CONF_LIST)
				((struct conf_list *)((char *)st->target + k->offset))->count = 0;
			else if (call_custom(st, k, NULL, msg))
				rc = located(st, val_ev, msg);
		} else if (k->type == CONF_CUSTOM_LIST || k->type == CONF_ENTRIES) {
			snprintf(msg, sizeof(msg), "%s: expected %s", k->path, expectation(st, k));
			rc = located(st, val_ev, msg);
		} else if (k->type == CONF_CUSTOM ? call_custom(st, k, text, msg) : assign(k, st->target, text, msg)) {
			rc = located(st, val_ev, msg);
		}
	} else {
		rc = located(st, val_ev, "unsupported YAML construct (anchors and aliases are not allowed)");
	}
	return rc;
}

/* Reads a mapping's entries until its end (the MAPPING-START event already consumed);
 * `section` is the mapping's declaration when the schema has one. */
static int parse_mapping(yaml_parser_t *p, struct parse_state *st, const struct conf_key *section)
{
	struct seen seen = { 0 };
	char where[CONF_STR_MAX + 4] = "";
	if (section)
		snprintf(where, sizeof(where), " in %s", section->path);
	int rc = 0;
	while (rc == 0) {
		yaml_event_t key_ev, val_ev;
		char full[CONF_STR_MAX];
		if (next_event(p, &key_ev, st)) {
			rc = -EINVAL;
			break;
		}
		if (key_ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key_ev);
			break;
		}
		if (key_ev.type != YAML_SCALAR_EVENT) {
			rc = located(st, &key_ev, "expected a key");
			yaml_event_delete(&key_ev);
			break;
		}
		const char *name = (const char *)key_ev.data.scalar.value;
		join_path(st, name, full);
		if (next_event(p, &val_ev, st)) {
			yaml_event_delete(&key_ev);
			rc = -EINVAL;
			break;
		}
		const struct conf_key *k = find_key(st->schema, full);
		/* A section the schema does not declare may be written in several parts, as it
		 * always could; anything else given twice is a mistake the file would hide. */
		bool merges = val_ev.type == YAML_MAPPING_START_EVENT &&
			      !(k && (k->type == CONF_ENTRIES || k->type == CONF_SECTION));
		if (!merges)
			rc = check_repeat(st, &seen, &key_ev, where);
		if (rc == 0)
			rc = read_value(p, st, section, k, name, full, &key_ev, &val_ev);
		yaml_event_delete(&key_ev);
		yaml_event_delete(&val_ev);
	}
	seen_free(&seen);
	return rc;
}

/* A first pass over the whole text, so a broken file is reported as broken where it breaks
 * rather than by the first value it makes look wrong. */
static int check_syntax(const char *text, size_t len, struct parse_state *st)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int rc = 0;
	for (bool done = false; !done;) {
		yaml_event_t ev;
		if ((rc = next_event(&p, &ev, st)) != 0)
			break;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

int conf_parse_over(const char *text, size_t len, const struct conf_key *schema, const struct conf_custom *custom,
		    void *target, struct conf_error *e)
{
	memset(e, 0, sizeof(*e));
	struct parse_state st = { .schema = schema, .custom = custom, .target = target, .e = e };
	int src = check_syntax(text, len, &st);
	if (src)
		return src;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
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
			rc = parse_mapping(&p, &st, NULL);
			break;
		case YAML_SCALAR_EVENT:
			/* An empty document is a valid, all-defaults configuration. */
			if (ev.data.scalar.length)
				rc = located(&st, &ev, "expected a mapping of settings at the top level");
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = located(&st, &ev, "expected a mapping of settings at the top level");
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

int conf_parse(const char *name, const char *text, size_t len, const struct conf_key *schema,
	       void *target, char err[CONF_ERROR_MAX])
{
	if (conf_defaults(schema, target, err))
		return -EINVAL;
	struct conf_error e;
	int rc = conf_parse_over(text, len, schema, NULL, target, &e);
	if (rc == -EINVAL)
		snprintf(err, CONF_ERROR_MAX, "%.200s:%u:%u: %.280s", name, e.line, e.column, e.message);
	else if (rc)
		snprintf(err, CONF_ERROR_MAX, "%.200s: %s", name, strerror(-rc));
	return rc;
}

/* Reads a whole configuration file into *buf (malloc'd, not terminated). */
static int read_file(const char *path, char **buf, size_t *len, char err[CONF_ERROR_MAX])
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, CONF_ERROR_MAX, "%s: %s", path, strerror(e));
		return e == ENOENT ? -ENOENT : -EIO;
	}
	/* Configuration files are small; anything past 1 MiB is a mistake. */
	enum { MAX_CONFIG = 1 << 20 };
	*buf = malloc(MAX_CONFIG);
	*len = *buf ? fread(*buf, 1, MAX_CONFIG, f) : 0;
	int rc = 0;
	if (!*buf || ferror(f)) {
		snprintf(err, CONF_ERROR_MAX, "%s: cannot read", path);
		rc = -EIO;
	} else if (*len == MAX_CONFIG) {
		snprintf(err, CONF_ERROR_MAX, "%s: larger than 1 MiB", path);
		rc = -EINVAL;
	}
	fclose(f);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

int conf_load(const char *path, const struct conf_key *schema, void *target, char err[CONF_ERROR_MAX])
{
	char *buf;
	size_t len;
	int rc = read_file(path, &buf, &len, err);
	if (rc)
		return rc;
	rc = conf_parse(path, buf, len, schema, target, err);
	free(buf);
	return rc;
}

/* Skips the rest of the node whose start event was just read (depth counts open
 * collections). 0, or -EINVAL on a parse error. */
static int skip_node(yaml_parser_t *p, const yaml_event_t *start)
{
	int depth = start->type == YAML_MAPPING_START_EVENT || start->type == YAML_SEQUENCE_START_EVENT;
	while (depth > 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(p, &ev))
			return -EINVAL;
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
	}
	return 0;
}

/* Finds the key at dotted `want` under the mapping just opened (whose own path is prefix):
 * 1 with its value's 1-based line and column, 0 when absent, -EINVAL on a parse error. */
static int locate_in(yaml_parser_t *p, const char *prefix, const char *want, uint32_t *line, uint32_t *column)
{
	for (;;) {
		yaml_event_t key, value;
		if (!yaml_parser_parse(p, &key))
			return -EINVAL;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return 0;
		}
		char path[CONF_STR_MAX] = "";
		bool scalar = key.type == YAML_SCALAR_EVENT;
		if (scalar)
			snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", (const char *)key.data.scalar.value);
		if (scalar && strcmp(path, want) == 0) {
			/* At the value, as the reader's own errors are. */
			yaml_event_delete(&key);
			if (!yaml_parser_parse(p, &value))
				return -EINVAL;
			*line = (uint32_t)value.start_mark.line + 1;
			*column = (uint32_t)value.start_mark.column + 1;
			yaml_event_delete(&value);
			return 1;
		}
		int rc = scalar ? 0 : skip_node(p, &key);
		yaml_event_delete(&key);
		if (rc)
			return rc;
		if (!yaml_parser_parse(p, &value))
			return -EINVAL;
		size_t n = strlen(path);
		if (value.type == YAML_MAPPING_START_EVENT && n && strncmp(want, path, n) == 0 && want[n] == '.')
			rc = locate_in(p, path, want, line, column);
		else
			rc = skip_node(p, &value);
		yaml_event_delete(&value);
		if (rc)
			return rc;
	}
}

/* Where the key at dotted `want` is in text: 1 (line and column set) or 0. */
static int locate(const char *text, size_t len, const char *want, uint32_t *line, uint32_t *column)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return 0;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int found = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev))
			break;
		yaml_event_type_t t = ev.type;
		yaml_event_delete(&ev);
		if (t == YAML_MAPPING_START_EVENT) {
			found = locate_in(&p, "", want, line, column) == 1;
			break;
		}
		if (t == YAML_STREAM_END_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_SCALAR_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return found;
}

int conf_load_checked(const char *path, const struct conf_key *schema, void *target, conf_check_fn check,
		      char err[CONF_ERROR_MAX])
{
	char *buf;
	size_t len;
	int rc = read_file(path, &buf, &len, err);
	if (rc)
		return rc;
	rc = conf_parse(path, buf, len, schema, target, err);
	if (!rc) {
		char msg[CONF_ERROR_MAX];
		const char *key = "";
		rc = check(target, msg, &key);
		uint32_t line, column;
		if (rc && locate(buf, len, key, &line, &column))
			snprintf(err, CONF_ERROR_MAX, "%.200s:%u:%u: %s: %.250s", path, line, column, key, msg);
		else if (rc)
			snprintf(err, CONF_ERROR_MAX, "%.200s: %s: %.250s", path, key, msg);
	}
	free(buf);
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
	case CONF_CUSTOM:
	case CONF_CUSTOM_LIST:
	case CONF_ENTRIES:
	case CONF_SECTION:
		break;
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
		if (k->type >= CONF_CUSTOM)
			continue; /* only their owner knows how to write them */
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
