#!/bin/sh
# Runs every test of one build tree: the lint checks of the source tree, the Criterion unit
# suites, the fuzz harnesses over their seed corpora, and the integration tests (network
# namespaces; they need root).
#
#   NYM_BUILD=build tests/run.sh            everything
#   TESTS=sphinx tests/run.sh               only tests whose name contains "sphinx"
set -u
cd "$(dirname "$0")/.."
B=${NYM_BUILD:-build}
export NYM_BUILD="$B"
LOGS="$B/test-logs"
mkdir -p "$LOGS"
pass=0
fail=0
failed=""

selected() {
	[ -z "${TESTS:-}" ] && return 0
	case "$1" in *"$TESTS"*) return 0 ;; esac
	return 1
}

run_one() {
	name=$1
	shift
	selected "$name" || return 0
	log="$LOGS/$(echo "$name" | tr '/ ' '__').log"
	t0=$(date +%s)
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		printf 'PASS %-40s %3ss\n' "$name" $(($(date +%s) - t0))
	else
		fail=$((fail + 1))
		failed="$failed $name"
		printf 'FAIL %-40s %3ss (log: %s)\n' "$name" $(($(date +%s) - t0)) "$log"
		tail -n 60 "$log" | sed 's/^/    | /'
	fi
}

# Static checks of the tree (layering, names) and their self-tests.
for t in tests/lint/*.sh; do
	[ -f "$t" ] || continue
	run_one "lint/$(basename "$t" .sh)" sh "$t"
done

for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t" --jobs 2 --short-filename
done

for t in "$B"/tests/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	run_one "fuzz-replay/$n" "$t" "tests/fuzz/corpus/$n"
done

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	run_one "integration/$(basename "$t" .sh)" sh "$t"
done

echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
