/* Networks a policy rejects whole (policy_match.h, docs/PROTOCOLS.md §4.1): which destinations a policy rejects
 * by network, so that DNS and ICMP echo reach every other one whatever its port list. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_match.h"

static struct policy source; /* of the compiled policy under test */

/* The compiled answer, checked against the linear reference on the source policy. */
static bool rejected_by_network(const struct policy_compiled *view, const char *addr)
{
	struct policy_addr a;
	cr_assert_eq(policy_addr_parse(addr, &a), 0, "%s", addr);
	bool compiled = policy_compiled_network_rejected(view, &a);
	cr_assert_eq(compiled, policy_network_rejected(&source, &a), "%s", addr);
	return compiled;
}

static void compile_text(const char *text, struct policy *p, struct policy_compiled *view)
{
	struct policy_error err;
	cr_assert_eq(policy_parse(text, strlen(text), p, &err), 0, "%u:%u: %s", err.line, err.column, err.message);
	cr_assert_eq(policy_compile(p, view), 0);
	source = *p;
}

Test(policy_network_view, definition)
{
	struct policy p;
	struct policy_compiled view;
	compile_text("reject *:25\n"			  /* a port reject: not a network reject */
		     "accept 192.0.2.0/24:443 tcp\n"	  /* any accept opens its block */
		     "reject 198.51.100.0/24:* udp\n"	  /* a protocol word: left out */
		     "accept 198.51.100.128/25:80\n"	  /* ... so this accept comes first for .128/25 */
		     "reject 198.51.100.0/24:*\n"	  /* a network reject */
		     "accept 198.51.100.7:80\n"		  /* shadowed by the reject above */
		     "reject6 [2001:db8::]/32:*\n"
		     "accept *:80\n"
		     "reject *:*\n",
		     &p, &view);
	cr_assert_not(rejected_by_network(&view, "192.0.2.1"));
	cr_assert_not(rejected_by_network(&view, "198.51.100.200"));
	cr_assert(rejected_by_network(&view, "198.51.100.1"));
	cr_assert(rejected_by_network(&view, "198.51.100.7"));
	cr_assert(rejected_by_network(&view, "2001:db8::1"));
	/* The open internet: accept *:80 comes before the final reject *:*. */
	cr_assert_not(rejected_by_network(&view, "203.0.113.9"));
	cr_assert_not(rejected_by_network(&view, "2001:db9::1"));
	policy_compiled_free(&view);
	policy_free(&p);

	/* 1-65535 is every port too (PROTOCOLS.md 4.1): a network reject, as nym-ntm has it. */
	compile_text("reject 198.51.100.0/24:1-65535\naccept *:443\nreject *:*\n", &p, &view);
	cr_assert(rejected_by_network(&view, "198.51.100.1"));
	cr_assert_not(rejected_by_network(&view, "203.0.113.9"));
	policy_compiled_free(&view);
	policy_free(&p);

	/* A policy that accepts nothing rejects everything by network; an empty one too. */
	compile_text("reject *:*\n", &p, &view);
	cr_assert(rejected_by_network(&view, "203.0.113.9"));
	policy_compiled_free(&view);
	policy_free(&p);
	compile_text("# nothing\n", &p, &view);
	cr_assert(rejected_by_network(&view, "203.0.113.9"));
	policy_compiled_free(&view);
	policy_free(&p);
}

Test(policy_network_view, default_policy)
{
	FILE *f = fopen("packaging/exit-policy.txt", "rb");
	cr_assert_not_null(f, "run from the top of the tree");
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	struct policy p;
	struct policy_compiled view;
	compile_text(text, &p, &view);
	cr_assert_not(rejected_by_network(&view, "8.8.8.8"));
	cr_assert_not(rejected_by_network(&view, "2001:4860:4860::8888"));
	cr_assert(rejected_by_network(&view, "5.188.10.1"));
	cr_assert(rejected_by_network(&view, "10.0.0.1"));
	cr_assert(rejected_by_network(&view, "169.254.169.254"));
	cr_assert(rejected_by_network(&view, "127.0.0.1"));
	cr_assert(rejected_by_network(&view, "fc00::5"));
	policy_compiled_free(&view);
	policy_free(&p);
}
