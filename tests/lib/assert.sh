# Assertions for the shell tests (sourced, not run). Each prints "ok   WHAT" or "FAIL WHAT"
# and counts failures; `finish` ends the test with the verdict.
#
#   check WHAT CMD...              CMD must succeed
#   refuses WHAT PATTERN CMD...    CMD must exit 1 with PATTERN (grep) in its stderr
#   expect WHAT WANT CMD...        the first line CMD prints (stdout and stderr) must match the
#                                  shell pattern WANT
#   pass WHAT / fail WHAT          a verdict reached by other means
#   die WHAT                       the test cannot go on: exit 1 now
#   finish                         exit 1 if anything failed, 0 otherwise

ASSERT_FAILS=0

pass() { echo "ok   $*"; }

fail() {
	echo "FAIL $*"
	ASSERT_FAILS=$((ASSERT_FAILS + 1))
}

die() {
	echo "FATAL: $*" >&2
	exit 1
}

check() {
	what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

refuses() {
	what=$1
	pattern=$2
	shift 2
	if err=$("$@" 2>&1 >/dev/null); then rc=0; else rc=$?; fi
	if [ "$rc" -eq 1 ] && printf '%s\n' "$err" | grep -q -- "$pattern"; then
		pass "$what"
	else
		fail "$what (exit $rc): $(printf '%s' "$err" | head -c 300)"
	fi
}

expect() {
	what=$1
	want=$2
	shift 2
	got=$("$@" 2>&1 | head -n 1)
	# shellcheck disable=SC2254 # WANT is a pattern on purpose
	case "$got" in
	$want) pass "$what: $got" ;;
	*) fail "$what: got '$got', want '$want'" ;;
	esac
}

finish() {
	if [ "$ASSERT_FAILS" -ne 0 ]; then
		echo "$ASSERT_FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
