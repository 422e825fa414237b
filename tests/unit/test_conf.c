#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

struct cfg {
	char name[CONF_STR_MAX];
	bool enabled;
	uint64_t port;
	uint64_t timeout_ns;
	double rate;
	struct conf_list ips;
	uint64_t workers;
};

static const struct conf_key schema[] = {
	{ "name", CONF_STRING, offsetof(struct cfg, name), "node", "the name", 0, 0 },
	{ "net.enabled", CONF_BOOL, offsetof(struct cfg, enabled), "true", "on or off", 0, 0 },
	{ "net.port", CONF_U64, offsetof(struct cfg, port), "1789", "TCP port", 1, 65535 },
	{ "net.debug.timeout", CONF_DURATION, offsetof(struct cfg, timeout_ns), "500ms", "write timeout", 0, 60 },
	{ "net.debug.rate", CONF_DOUBLE, offsetof(struct cfg, rate), "1e-5", "false positives", 0, 1 },
	{ "net.ips", CONF_LIST, offsetof(struct cfg, ips), NULL, "addresses", 0, 0 },
	{ "workers", CONF_U64, offsetof(struct cfg, workers), "0", "threads", 0, 0 },
	{ 0 },
};

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/test_conf_%d.yaml", getpid());
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void cleanup(void)
{
	unlink(path);
}

TestSuite(conf, .fini = cleanup);

Test(conf, defaults_then_file)
{
	struct cfg c;
	char err[CONF_ERROR_MAX];
	write_file("name: mix1\nnet:\n  port: 2000\n  ips: [1.2.3.4, \"::1\"]\n  debug:\n    timeout: 2s\n");
	cr_assert_eq(conf_load(path, schema, &c, err), 0, "%s", err);
	cr_assert_str_eq(c.name, "mix1");
	cr_assert(c.enabled);
	cr_assert_eq(c.port, 2000);
	cr_assert_eq(c.timeout_ns, 2000000000ull);
	cr_assert_float_eq(c.rate, 1e-5, 1e-12);
	cr_assert_eq(c.ips.count, 2);
	cr_assert_str_eq(c.ips.item[1], "::1");
}

Test(conf, errors_name_file_line_and_expectation)
{
	struct cfg c;
	char err[CONF_ERROR_MAX];
	write_file("name: a\nnet:\n  port: 70000\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, ":3:") && strstr(err, "net.port") && strstr(err, "between 1 and 65535"), "%s", err);

	write_file("net:\n  bogus: 1\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, ":2:3: unknown key 'net.bogus'"), "%s", err);

	write_file("net:\n  enabled: maybe\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, "true or false"), "%s", err);

	write_file("net:\n  debug:\n    timeout: soon\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, "a duration"), "%s", err);

	write_file("net: 5\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, "is a section"), "%s", err);

	write_file("name: [a, b]\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, "got a list"), "%s", err);

	write_file("net: {port: 1\n");
	cr_assert_eq(conf_load(path, schema, &c, err), -EINVAL);
	cr_assert(strstr(err, "YAML syntax error"), "%s", err);

	cr_assert_eq(conf_load("/nonexistent/x.yaml", schema, &c, err), -ENOENT);
}

Test(conf, write_then_read_back)
{
	struct cfg a, b;
	char err[CONF_ERROR_MAX];
	conf_defaults(schema, &a, err);
	snprintf(a.name, sizeof(a.name), "quote\"d");
	a.port = 4242;
	a.timeout_ns = 1500000000ull;
	a.ips.count = 1;
	snprintf(a.ips.item[0], CONF_STR_MAX, "198.51.100.1");
	snprintf(path, sizeof(path), "/tmp/test_conf_w_%d.yaml", getpid());
	cr_assert_eq(conf_write(path, schema, &a, 0600), 0);
	cr_assert_eq(conf_load(path, schema, &b, err), 0, "%s", err);
	cr_assert_str_eq(b.name, a.name);
	cr_assert_eq(b.port, 4242);
	cr_assert_eq(b.timeout_ns, 1500000000ull);
	cr_assert_eq(b.ips.count, 1);
	cr_assert_str_eq(b.ips.item[0], "198.51.100.1");
	cr_assert_eq(conf_set(schema, &b, "net.port", "99", err), 0);
	cr_assert_eq(b.port, 99);
	cr_assert_eq(conf_set(schema, &b, "net.nope", "1", err), -ENOENT);
	cr_assert_eq(conf_set(schema, &b, "net.ips", "a,b,c", err), 0);
	cr_assert_eq(b.ips.count, 3);
}

Test(conf, durations)
{
	uint64_t ns;
	cr_assert_eq(conf_parse_duration("250ms", &ns), 0);
	cr_assert_eq(ns, 250000000ull);
	cr_assert_eq(conf_parse_duration("5m", &ns), 0);
	cr_assert_eq(ns, 300000000000ull);
	cr_assert_eq(conf_parse_duration("1.5", &ns), 0);
	cr_assert_eq(ns, 1500000000ull);
	cr_assert_eq(conf_parse_duration("-1s", &ns), -EINVAL);
	cr_assert_eq(conf_parse_duration("3 parsecs", &ns), -EINVAL);
}

Test(conf, microsecond_durations_are_written_as_such)
{
	struct cfg a, b;
	char err[CONF_ERROR_MAX], line[128];
	conf_defaults(schema, &a, err);
	a.timeout_ns = 200000; /* 200us: "200000ns" would read back too, but nobody writes that */
	snprintf(path, sizeof(path), "/tmp/test_conf_us_%d.yaml", getpid());
	cr_assert_eq(conf_write(path, schema, &a, 0600), 0);
	FILE *f = fopen(path, "r");
	bool found = false;
	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, "timeout: 200us") != NULL;
	if (f)
		fclose(f);
	cr_assert(found, "the file should say 200us");
	cr_assert_eq(conf_load(path, schema, &b, err), 0, "%s", err);
	cr_assert_eq(b.timeout_ns, 200000);
}

/* A value given twice is refused where it stands again; a section the schema does not
 * declare may come in parts, and both parts count. */
Test(conf, a_key_given_twice)
{
	struct cfg c;
	char err[CONF_ERROR_MAX];
	const char *twice = "name: a\nworkers: 2\nname: b\n";
	cr_assert_eq(conf_parse("t.yaml", twice, strlen(twice), schema, &c, err), -EINVAL);
	cr_assert(strstr(err, "t.yaml:3:1: key 'name' given twice"), "%s", err);
	const char *parts = "net:\n  port: 80\nname: x\nnet:\n  enabled: false\n";
	cr_assert_eq(conf_parse("t.yaml", parts, strlen(parts), schema, &c, err), 0, "%s", err);
	cr_assert_eq(c.port, 80);
	cr_assert_not(c.enabled);
	const char *inner = "net:\n  port: 80\n  port: 81\n";
	cr_assert_eq(conf_parse("t.yaml", inner, strlen(inner), schema, &c, err), -EINVAL);
	cr_assert(strstr(err, ":3:3: key 'port' given twice"), "%s", err);
}

/* conf_parse_over keeps what the target holds and gives the position apart from the text. */
Test(conf, parse_over_keeps_the_target)
{
	struct cfg c;
	char err[CONF_ERROR_MAX];
	struct conf_error e;
	cr_assert_eq(conf_defaults(schema, &c, err), 0);
	c.workers = 9;
	const char *text = "net:\n  port: 443\n";
	cr_assert_eq(conf_parse_over(text, strlen(text), schema, NULL, &c, &e), 0, "%s", e.message);
	cr_assert_eq(c.port, 443);
	cr_assert_eq(c.workers, 9);
	const char *bad = "net:\n  port: 0\n";
	cr_assert_eq(conf_parse_over(bad, strlen(bad), schema, NULL, &c, &e), -EINVAL);
	cr_assert_eq(e.line, 2);
	cr_assert_eq(e.column, 9);
	cr_assert(strstr(e.message, "net.port: must be between 1 and 65535"), "%s", e.message);
}
