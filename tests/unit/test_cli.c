/* lib/util/cli: long options, short names, and tables that declare none. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>

#include "util/cli.h"

Test(cli, short_names)
{
	bool wait = false, json = false;
	const char *entry = NULL;
	struct cli_list vouchers = { 0 };
	struct cli_option opts[] = {
		{ "wait", CLI_FLAG, &wait, false, "wait", 'w' },
		{ "json", CLI_FLAG, &json, false, "json" },
		{ "entry", CLI_STRING, &entry, false, "ID", 'e' },
		{ "voucher", CLI_LIST, &vouchers, false, "CODE", 'v' },
		{ 0 },
	};
	char *argv[] = { "-w", "-e", "abc", "-v", "1", "--voucher=2", "--json", "pos" };
	const char *pos[2];
	size_t npos;
	cr_assert_eq(cli_parse("t", 8, argv, opts, pos, 2, &npos), 0);
	cr_assert(wait && json);
	cr_assert_str_eq(entry, "abc");
	cr_assert_eq(vouchers.count, 2);
	cr_assert_eq(npos, 1);
	cr_assert_str_eq(pos[0], "pos");
}

Test(cli, short_errors, .init = cr_redirect_stderr)
{
	bool wait = false;
	struct cli_option opts[] = {
		{ "wait", CLI_FLAG, &wait, false, "wait", 'w' },
		{ 0 },
	};
	char *a1[] = { "-x" };
	cr_assert_eq(cli_parse("t", 1, a1, opts, NULL, 0, NULL), -EINVAL);
	char *a2[] = { "-wj" };
	cr_assert_eq(cli_parse("t", 1, a2, opts, NULL, 0, NULL), -EINVAL);
	char *a3[] = { "-w", "--wait" };
	cr_assert_eq(cli_parse("t", 2, a3, opts, NULL, 0, NULL), -EINVAL);
	char *a4[] = { "-" };
	const char *pos[1];
	size_t npos;
	cr_assert_eq(cli_parse("t", 1, a4, opts, pos, 1, &npos), 0);
	cr_assert_str_eq(pos[0], "-");
}

Test(cli, tables_without_short_names_keep_dash_positionals)
{
	const char *v = NULL;
	struct cli_option opts[] = {
		{ "value", CLI_STRING, &v, false, "V" },
		{ 0 },
	};
	char *argv[] = { "-5", "--value", "-x" };
	const char *pos[1];
	size_t npos;
	cr_assert_eq(cli_parse("t", 3, argv, opts, pos, 1, &npos), 0);
	cr_assert_str_eq(pos[0], "-5");
	cr_assert_str_eq(v, "-x");
}

Test(cli, usage_shows_short_names, .init = cr_redirect_stdout)
{
	bool wait = false;
	struct cli_option opts[] = {
		{ "wait", CLI_FLAG, &wait, false, "wait until connected", 'w' },
		{ 0 },
	};
	cli_usage(stdout, "nym-vpnc connect", opts);
	fflush(stdout);
	cr_assert_stdout_eq_str("usage: nym-vpnc connect [--wait]\n"
				"  -w, --wait             wait until connected\n");
}
