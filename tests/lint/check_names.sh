#!/bin/sh
# Checks the naming rule of lib/ (docs/ARCHITECTURE.md): every public name of
# lib/<area>/<module>.c starts with <module>_ or <area>_ (or is the module's or area's own
# name), optionally preceded by the project prefix nym_. Functions and data are read from the
# built objects (nm), so only what really is exported counts; types (struct, union, enum
# tags and typedefs) are read from the module's header.
#
#   NYM_BUILD=build tests/lint/check_names.sh [ROOT]
# ROOT (default: this tree) holds lib/; the objects are in $NYM_BUILD/obj/lib (relative to
# ROOT unless absolute).
set -u
root=${1:-$(dirname "$0")/../..}
B=${NYM_BUILD:-build}
case "$B" in /*) obj="$B/obj/lib" ;; *) obj="$root/$B/obj/lib" ;; esac
[ -d "$root/lib" ] || { echo "check_names: no lib/ under $root" >&2; exit 2; }
[ -d "$obj" ] || { echo "check_names: no objects in $obj: build first (make)" >&2; exit 2; }

# Exceptions: "area/module name reason"; a name also covers the names that start with it and _.
# Keep this short.
exceptions='
crypto/sha256 nym_hmac_sha256 HMAC and HKDF keep the names of their standards (RFC 2104, RFC 5869)
crypto/sha256 nym_hkdf_sha256 HMAC and HKDF keep the names of their standards (RFC 2104, RFC 5869)
crypto/secret nym_memzero hygiene every area calls, named for what it replaces (sodium_memzero)
crypto/secret nym_ct_equal hygiene every area calls, named for what it replaces (CRYPTO_memcmp)
crypto/secret nym_random randomness every area calls, named for what it replaces (randombytes_buf)
crypto/secret nym_rng the random-source handle every sampler in every area takes
crypto/secret nym_seeded_rng the seeded random source the tests and vectors use
'

list=$(mktemp)
trap 'rm -f "$list"' EXIT INT TERM
missing=0
objects=""
for c in "$root"/lib/*/*.c; do
	area=$(basename "$(dirname "$c")")
	module=$(basename "$c" .c)
	o="$obj/$area/$module.o"
	if [ -f "$o" ]; then
		objects="$objects $o"
	else
		echo "lib/$area/$module.c: no object $o: rebuild (make)"
		missing=1
	fi
done
{
	# shellcheck disable=SC2086
	[ -z "$objects" ] || nm -A -g --defined-only $objects |
		awk '{ split($1, p, ":"); n = split(p[1], d, "/"); m = d[n]; sub(/\.o$/, "", m)
		       # AddressSanitizer adds __odr_asan.NAME beside each public variable NAME.
		       s = $NF; sub(/^__odr_asan[.]/, "", s)
		       print d[n - 1] "/" m, "symbol", s }'
	# Tags defined in the headers ("struct x {", "enum x {") and typedef names.
	for h in "$root"/lib/*/*.h; do
		where="$(basename "$(dirname "$h")")/$(basename "$h" .h)"
		sed -n -e 's/^[ \t]*\(typedef[ \t]\+\)\?\(struct\|union\|enum\)[ \t]\+\([A-Za-z_][A-Za-z0-9_]*\)[ \t]*{.*/\3/p' \
			-e 's/^}[ \t]*\([A-Za-z_][A-Za-z0-9_]*\)[ \t]*;.*/\1/p' \
			-e 's/^typedef[^(]*(\*[ \t]*\([A-Za-z_][A-Za-z0-9_]*\)).*/\1/p' \
			-e 's/^typedef[^(;{]*[ \t*]\([A-Za-z_][A-Za-z0-9_]*\)[ \t]*;.*/\1/p' "$h" |
			sed "s,^,$where type ,"
	done
} >"$list"

printf '%s\n' "$exceptions" | awk -v list="$list" -v bad_objects="$missing" '
NF >= 2 { exc[$1, $2] = 1; next }
END {
	bad = bad_objects
	while ((getline line < list) > 0) {
		split(line, f, " ")
		where = f[1]; kind = f[2]; name = f[3]
		split(where, p, "/"); area = p[1]; module = p[2]
		bare = name
		sub(/^nym_/, "", bare)
		if (bare == module || bare == area || index(bare, module "_") == 1 || index(bare, area "_") == 1)
			continue
		if ((where, name) in exc) continue
		ok = 0
		for (k in exc) {
			split(k, e, SUBSEP)
			if (e[1] == where && index(name, e[2] "_") == 1) { ok = 1; break }
		}
		if (ok) continue
		printf "lib/%s.c: %s %s: public names of this module start with %s_ or %s_ (optionally after nym_)\n", where, kind, name, module, area
		bad = 1
	}
	exit bad
}'
