#!/bin/sh
# Self-test of check_layers.sh: on a copy of lib/ it passes, and an upward include, an include
# of a program folder, a cyclic list or a missing list each make it fail with a message that
# names the file, the line and the forbidden area.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

fresh_copy() {
	rm -rf "$tmp/lib"
	cp -R "$src/lib" "$tmp/lib"
}

# expect_fail DESCRIPTION PATTERN: the checker fails and prints a line matching PATTERN.
expect_fail() {
	if out=$("$here/check_layers.sh" "$tmp" 2>&1); then
		echo "FAIL: $1: the checker passed"
		fails=$((fails + 1))
	elif ! printf '%s\n' "$out" | grep -q -- "$2"; then
		echo "FAIL: $1: no line matching '$2' in:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	else
		echo "ok: $1: $(printf '%s\n' "$out" | grep -- "$2" | head -n 1)"
	fi
}

fresh_copy
if out=$("$here/check_layers.sh" "$tmp" 2>&1); then
	echo "ok: the clean copy passes"
else
	echo "FAIL: the clean copy fails:"
	printf '%s\n' "$out" | sed 's/^/    /'
	fails=$((fails + 1))
fi

# An upward include, inserted as line 3 of a pure format.
f=lib/sphinx/sphinx_packet.c
sed -i '3i #include "io/uring_loop.h"' "$tmp/$f"
expect_fail "upward include" "^$f:3: includes \"io/uring_loop.h\": area sphinx may not include area io"

fresh_copy
sed -i '2i #include "nodectl/node_config.h"' "$tmp/lib/mixnode/replay_filter.c"
expect_fail "program folder" '^lib/mixnode/replay_filter.c:2: includes "nodectl/node_config.h", which is not a lib/ area'

fresh_copy
sed -i '2i #  include "../nodectl/node_config.h"' "$tmp/lib/util/log.h"
expect_fail "path out of lib/" '^lib/util/log.h:2: includes "../nodectl/node_config.h", which is not a lib/ area'

fresh_copy
echo mixnode >> "$tmp/lib/mix/.may_include"
expect_fail "cyclic lists" 'cycle (.*mix -> mixnode -> mix'

fresh_copy
echo notanarea >> "$tmp/lib/util/.may_include"
expect_fail "unknown area in a list" '^lib/util/.may_include:[0-9]*: unknown area "notanarea"'

fresh_copy
rm "$tmp/lib/net/.may_include"
expect_fail "missing list" '^lib/net/: no .may_include'

fresh_copy
if "$here/check_layers.sh" --print "$tmp" | grep -q '^| 0 | `util/` |'; then
	echo "ok: --print starts with util/ at depth 0"
else
	echo "FAIL: --print has no depth-0 util/ row"
	fails=$((fails + 1))
fi

[ "$fails" -eq 0 ]
