#!/bin/sh
# Checks the layering of lib/: every area lib/<area>/ lists in lib/<area>/.may_include the
# areas whose headers it may include (one name a line, '#' starts a comment). An area may
# always include its own headers and <system> headers. Fails on a quoted include of any
# other area, of a program folder or of anything outside lib/, on an area without a list,
# and on lists that name unknown areas or form a cycle (then they are no longer layers).
#
#   tests/lint/check_layers.sh [ROOT]           check ROOT/lib (ROOT defaults to the tree)
#   tests/lint/check_layers.sh --print [ROOT]   print the checked lists as a Markdown table
set -u
print=0
if [ "${1:-}" = "--print" ]; then
	print=1
	shift
fi
root=${1:-$(dirname "$0")/../..}
lib="$root/lib"
[ -d "$lib" ] || { echo "check_layers: no lib/ under $root" >&2; exit 2; }

areas=""
for d in "$lib"/*/; do
	areas="$areas $(basename "$d")"
done

# One awk pass over every list and every source file: lists first (marked by their file
# name), then the sources.
lists=""
for a in $areas; do
	[ -f "$lib/$a/.may_include" ] && lists="$lists $lib/$a/.may_include"
done
sources=$(find "$lib" -name '*.[ch]' | sort)

# shellcheck disable=SC2086
awk -v areas="$areas" -v print_table="$print" -v lib="$lib" '
function rel(path) { return substr(path, length(lib) - 2) }
function area_of(path,   p) { p = substr(path, length(lib) + 2); sub(/\/.*/, "", p); return p }
function visit(a, path,   i, n, dep) {
	if (state[a] == 1) { cycle = path " -> " a; return 1 }
	if (state[a] == 2) return 0
	state[a] = 1
	n = split(deps[a], dep, " ")
	for (i = 1; i <= n; i++)
		if (visit(dep[i], path " -> " a)) return 1
	state[a] = 2
	return 0
}
# The depth of an area: 0 for one that includes nothing, else one above its deepest list entry.
function depth(a,   i, n, dep, d, m) {
	if (a in depth_of) return depth_of[a]
	m = 0
	n = split(deps[a], dep, " ")
	for (i = 1; i <= n; i++) { d = depth(dep[i]) + 1; if (d > m) m = d }
	depth_of[a] = m
	return m
}
BEGIN {
	n = split(areas, list, " ")
	for (i = 1; i <= n; i++) { known[list[i]] = 1; order[i] = list[i] }
	nareas = n
	bad = 0
}
FILENAME ~ /\/\.may_include$/ {
	a = area_of(FILENAME)
	has_list[a] = 1
	line = $0
	if (!(a in about) && line ~ /^[ \t]*#/) { about[a] = line; sub(/^[ \t]*#[ \t]*/, "", about[a]) }
	sub(/#.*/, "", line)
	gsub(/[ \t\r]/, "", line)
	if (line == "") next
	if (!(line in known)) {
		printf "%s:%d: unknown area \"%s\"\n", rel(FILENAME), FNR, line
		bad = 1
		next
	}
	if (line == a) next
	allowed[a, line] = 1
	deps[a] = deps[a] " " line
	next
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
	a = area_of(FILENAME)
	if (!(a in has_list)) next              # reported once, at the end
	inc = $0
	sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", inc)
	sub(/".*/, "", inc)
	if (inc !~ /\//) next                   # a file beside this one: its own area
	target = inc
	sub(/\/.*/, "", target)
	if (inc ~ /(^|\/)\.\.(\/|$)/ || !(target in known)) {
		printf "%s:%d: includes \"%s\", which is not a lib/ area: lib/ may not include program folders or anything outside lib/\n", rel(FILENAME), FNR, inc
		bad = 1
	} else if (target != a && !((a, target) in allowed)) {
		printf "%s:%d: includes \"%s\": area %s may not include area %s (not in lib/%s/.may_include)\n", rel(FILENAME), FNR, inc, a, target, a
		bad = 1
	}
}
END {
	for (i = 1; i <= nareas; i++) {
		a = order[i]
		if (!(a in has_list)) {
			printf "lib/%s/: no .may_include (list the areas lib/%s may include, or leave it empty)\n", a, a
			bad = 1
		}
	}
	for (i = 1; i <= nareas && !bad; i++) {
		if (visit(order[i], "")) {
			printf "lib/*/.may_include: the lists form a cycle (%s); areas may only include downward\n", substr(cycle, 5)
			bad = 1
		}
	}
	if (print_table && !bad) {
		top = 0
		for (i = 1; i <= nareas; i++) if (depth(order[i]) > top) top = depth(order[i])
		print "| depth | area | what it is (first line of its list) | may include |"
		print "|---|---|---|---|"
		for (l = 0; l <= top; l++)
			for (i = 1; i <= nareas; i++) {
				a = order[i]
				if (depth(a) != l) continue
				s = ""
				for (j = 1; j <= nareas; j++)
					if ((a, order[j]) in allowed) s = s (s == "" ? "" : ", ") "`" order[j] "/`"
				printf "| %d | `%s/` | %s | %s |\n", l, a, about[a], s == "" ? "(nothing)" : s
			}
	}
	exit bad
}
' $lists $sources /dev/null
