#!/bin/sh
# The packaged systemd units (packaging/systemd/): systemd-analyze verify finds nothing wrong
# (their programs pointed at this build), and systemd-analyze security scores each in the
# OK band or better. make check-packages repeats verify on the installed package.
set -eu
. tests/lib/assert.sh
B="$(pwd)/${NYM_BUILD:-build}/bin"
T=$(mktemp -d "${TMPDIR:-/tmp}/nym-units.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
for u in nym-node@.service nym-ntm.service nym-vpnd.service; do
	sed -e "s|/usr/bin/nym-node|$B/nym-node|g; s|/usr/sbin/nym-ntm|$B/nym-ntm|g; s|/usr/sbin/nym-vpnd|$B/nym-vpnd|g" \
		"packaging/systemd/$u" >"$T/$u"
done
mv "$T/nym-node@.service" "$T/nym-node@test.service"
for u in nym-node@test.service nym-ntm.service nym-vpnd.service; do
	out=$(cd "$T" && systemd-analyze verify --man=no "$u" 2>&1 | grep -v 'Unit sysinit.target not found' || true)
	check "verify $u${out:+: $out}" test -z "$out"
	line=$(cd "$T" && systemd-analyze security --offline=yes --no-pager "$u" 2>&1 | tail -n 1)
	case "$line" in
	*" OK "* | *" SAFE "* | *" PERFECT "*) pass "security: $(echo "$line" | sed 's/.*for //')" ;;
	*) fail "security $u: $line" ;;
	esac
done
finish
