#!/bin/sh
# scripts/musl_symbols.sh OBJ...: the link check `make check-musl` can make without the
# dependencies built for musl. Every symbol the objects (compiled by musl-gcc) use must be
# defined by the objects themselves, by musl's libc.a, by libgcc, or exported by one of the
# dependencies (their symbol names are the same whichever C library they are built for; the
# Debian shared objects are read). Prints the others and exits 1 if there are any.
set -eu
MA=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
MUSL_LIBC=${MUSL_LIBC:-/usr/lib/$(echo "$MA" | sed 's/-gnu$/-musl/')/libc.a}
[ -f "$MUSL_LIBC" ] || { echo "musl_symbols: no $MUSL_LIBC (musl-dev)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/nym-musl.XXXXXX")
trap 'rm -rf "$T"' EXIT
nm -u "$@" | awk 'NF == 2 { print $2 }' | sort -u >"$T/used"
nm --defined-only "$@" | awk 'NF == 3 { print $3 }' | sort -u >"$T/ours"
{
	nm --defined-only "$MUSL_LIBC" 2>/dev/null | awk 'NF == 3 { print $3 }'
	nm --defined-only "$(musl-gcc -print-libgcc-file-name)" 2>/dev/null | awk 'NF == 3 { print $3 }'
	echo _GLOBAL_OFFSET_TABLE_
	for l in sodium crypto uring mnl nftnl yaml-0 jansson sqlite3 microhttpd curl; do
		f=$(ls "/usr/lib/$MA/lib$l.so".* 2>/dev/null | head -n 1)
		[ -n "$f" ] || { echo "musl_symbols: no lib$l.so (scripts/deps.sh)" >&2; exit 1; }
		nm -D --defined-only "$f" | awk '{ print $3 }' | sed 's/@.*//'
	done
} | sort -u >"$T/known"
comm -23 "$T/used" "$T/ours" | comm -23 - "$T/known" >"$T/missing"
if [ -s "$T/missing" ]; then
	echo "musl_symbols: used but defined neither by musl, libgcc nor a dependency:" >&2
	sed 's/^/  /' "$T/missing" >&2
	exit 1
fi
echo "musl_symbols: all $(wc -l <"$T/used") symbols used resolve (musl $(basename "$(dirname "$MUSL_LIBC")"), libgcc, the dependencies)"
