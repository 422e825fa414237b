#!/bin/sh
# Self-test of check_names.sh on a small tree built here: names with the module's or the
# area's prefix (with or without nym_) pass; a function, a data object, a struct and a typedef
# without it fail, each named in the message.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/lib/widget" "$tmp/build/obj/lib/widget"
cat >"$tmp/lib/widget/gear.h" <<'H'
struct gear_state {
	int teeth;
};
struct nym_widget_spec {
	int n;
};
typedef int (*gear_fn)(int);
H
cat >"$tmp/lib/widget/gear.c" <<'C'
int gear_turn(int n);
int nym_gear_count(int n);
int widget_reset(void);
int gear(void);
static int helper(int n) { return n + 1; }
int gear_turn(int n) { return helper(n); }
int nym_gear_count(int n) { return n; }
int widget_reset(void) { return 0; }
int gear(void) { return 1; }
C
cc -c -o "$tmp/build/obj/lib/widget/gear.o" "$tmp/lib/widget/gear.c"

fails=0
if out=$(NYM_BUILD=build "$here/check_names.sh" "$tmp" 2>&1); then
	echo "ok: a module whose names all follow the rule passes"
else
	echo "FAIL: good names refused:"
	printf '%s\n' "$out" | sed 's/^/    /'
	fails=$((fails + 1))
fi

cat >>"$tmp/lib/widget/gear.h" <<'H'
struct cog {
	int n;
};
typedef unsigned sprocket_t;
H
cat >>"$tmp/lib/widget/gear.c" <<'C'
int rotate_gear(void);
int rotate_gear(void) { return 2; }
int spin_table[4];
C
cc -c -o "$tmp/build/obj/lib/widget/gear.o" "$tmp/lib/widget/gear.c"
out=$(NYM_BUILD=build "$here/check_names.sh" "$tmp" 2>&1) && {
	echo "FAIL: bad names passed"
	fails=$((fails + 1))
}
for want in "symbol rotate_gear" "symbol spin_table" "type cog" "type sprocket_t"; do
	if printf '%s\n' "$out" | grep -q "^lib/widget/gear.c: $want: public names of this module start with gear_ or widget_"; then
		echo "ok: refused $want"
	else
		echo "FAIL: $want not refused; output:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	fi
done
if printf '%s\n' "$out" | grep -qE 'gear_turn|nym_gear_count|widget_reset|gear_state|nym_widget_spec|gear_fn|helper'; then
	echo "FAIL: a good or static name was refused:"
	printf '%s\n' "$out" | sed 's/^/    /'
	fails=$((fails + 1))
fi
[ "$fails" -eq 0 ]
