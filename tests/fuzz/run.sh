#!/bin/sh
# make fuzz: run each libFuzzer target for FUZZ_SECONDS, starting from its seed corpus.
# Usage: tests/fuzz/run.sh FUZZ_BUILD_DIR NAME...
set -u
FO=$1
shift
secs=${FUZZ_SECONDS:-60}
status=0
for name in "$@"; do
	corpus="$FO/corpus/$name"
	mkdir -p "$corpus" "$FO/artifacts/$name"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
	echo "fuzz: $name for ${secs}s"
	if ! "$FO/bin/$name" -max_total_time="$secs" -print_final_stats=0 -rss_limit_mb=2048 \
		-artifact_prefix="$FO/artifacts/$name/" "$corpus" >"$FO/$name.log" 2>&1; then
		echo "fuzz: $name FAILED, see $FO/$name.log and $FO/artifacts/$name/"
		tail -n 40 "$FO/$name.log"
		status=1
	else
		grep -E '^#[0-9]+.*(DONE|pulse)' "$FO/$name.log" | tail -n 1
	fi
done
exit $status
