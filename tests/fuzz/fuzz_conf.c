/* The YAML configuration loader over arbitrary text, with a schema exercising every type. */
#include <stddef.h>

#include "conf/conf.h"
#include "fuzz.h"

struct cfg {
	char s[CONF_STR_MAX];
	bool b;
	uint64_t u, d;
	double f;
	struct conf_list l;
};

static const struct conf_key schema[] = {
	{ "s", CONF_STRING, offsetof(struct cfg, s), "x", NULL, 0, 0 },
	{ "a.b", CONF_BOOL, offsetof(struct cfg, b), "true", NULL, 0, 0 },
	{ "a.u", CONF_U64, offsetof(struct cfg, u), "1", NULL, 1, 65535 },
	{ "a.c.d", CONF_DURATION, offsetof(struct cfg, d), "1s", NULL, 0, 3600 },
	{ "a.c.f", CONF_DOUBLE, offsetof(struct cfg, f), "0.5", NULL, 0, 1 },
	{ "l", CONF_LIST, offsetof(struct cfg, l), NULL, NULL, 0, 0 },
	{ 0 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char err[CONF_ERROR_MAX];
	conf_parse("fuzz.yaml", (const char *)data, size, schema, &c, err);
	return 0;
}
