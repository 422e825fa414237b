#!/bin/sh
# nym-ntm's life cycle on a gateway host that already has other nftables tables:
# --dry-run prints exactly what apply installs; apply is one transaction touching only its
# own table; applying twice leaves the identical ruleset; a policy or configuration error
# changes nothing and names the line; remove restores the host exactly (ruleset and
# forwarding switches, whatever they were); mixnode mode forwards nothing.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/ntm.sh

ntm_topology
SCRATCH=scratch
netns_add "$SCRATCH" || die "netns $SCRATCH"
POLICY=packaging/exit-policy.txt
CFG=$TMP/ntm.yaml
printf 'uplink_v4: up0\nuplink_v6: up0\nssh_port: 2222\n' >"$CFG"

# Tables that are not ours, including one with our table's name in another family.
netns_exec "$GW" nft -f - <<'EOF' || die "foreign tables"
table ip host_filter {
	set blocked { type ipv4_addr; elements = { 192.0.2.66 } }
	chain filter_fwd {
		type filter hook forward priority 10; policy accept;
		ip daddr @blocked counter drop
	}
}
table ip nym-ntm {
	chain c {
		counter
	}
}
table inet nym {
	chain output {
		type filter hook output priority 0; policy accept;
	}
}
EOF
snapshot "$GW" >"$TMP/before"
n=0
for t in "ip host_filter" "ip nym-ntm" "inet nym"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	netns_exec "$GW" nft -s list table $t >"$TMP/table$n.before"
done

# apply_refused WHAT PATTERN ARGS...: `nym-ntm apply ARGS` must exit 1 naming PATTERN and leave
# the host as it was.
apply_refused() {
	what=$1
	pattern=$2
	shift 2
	netns_exec "$GW" "$NTM" apply "$@" >"$TMP/refused.out" 2>&1
	status=$?
	snapshot "$GW" >"$TMP/now"
	if [ $status -eq 1 ] && grep -q "$pattern" "$TMP/refused.out" && cmp -s "$TMP/before" "$TMP/now"; then
		pass "$what: exit 1, '$(head -n 1 "$TMP/refused.out")', nothing changed"
	else
		fail "$what: exit $status, '$(cat "$TMP/refused.out")'"
	fi
}

echo "# --dry-run changes nothing and prints valid nft syntax"
netns_exec "$GW" "$NTM" apply --config "$CFG" --policy "$POLICY" --dry-run >"$TMP/dry.nft" 2>"$TMP/dry.err" ||
	die "dry run failed: $(cat "$TMP/dry.err")"
snapshot "$GW" >"$TMP/now"
cmp -s "$TMP/before" "$TMP/now" && pass "dry run left the host alone" || fail "dry run changed the host"
netns_exec "$SCRATCH" nft -c -f "$TMP/dry.nft" && pass "dry-run output passes nft -c" || fail "nft -c rejects the dry-run output"

echo "# a policy with a syntax error changes nothing and names the line"
{
	echo "ExitPolicy accept *:80"
	echo "# a comment"
	echo "ExitPolicy accept *:443,reject 10.0.0.0/33:*"
} >"$TMP/bad.txt"
apply_refused "syntax error" "bad.txt:3:41: expected a mask length 0-32" --config "$CFG" --policy "$TMP/bad.txt"

echo "# a configuration error changes nothing and names the line"
printf 'mode: exit-gateway\nuplnk: up0\n' >"$TMP/bad.yaml"
apply_refused "config error" "bad.yaml:2:1: unknown key 'uplnk'" --config "$TMP/bad.yaml" --policy "$POLICY"
printf 'ssh_port: 70000\n' >"$TMP/bad.yaml"
expect "config value error" "*bad.yaml:1:11: ssh_port: expected a port number 1-65535, got '70000'" \
	netns_exec "$GW" "$NTM" apply --config "$TMP/bad.yaml" --policy "$POLICY"

echo "# apply: one transaction, only our table"
netns_exec "$GW" nft monitor >"$TMP/monitor" 2>&1 &
MON=$!
sleep 0.3
netns_exec "$GW" "$NTM" apply --config "$CFG" --policy "$POLICY" >"$TMP/apply.out" 2>&1 || die "apply: $(cat "$TMP/apply.out")"
sleep 0.3
kill $MON
wait $MON 2>/dev/null
gens=$(grep -c '^# new generation' "$TMP/monitor")
[ "$gens" -eq 1 ] && pass "apply committed one transaction" || fail "apply made $gens generations"
others=$(grep -v '^# new generation' "$TMP/monitor" | grep -v -c ' inet nym-ntm\( \|$\)')
[ "$others" -eq 0 ] && pass "every change was to table inet nym-ntm ($(grep -c . "$TMP/monitor") events)" ||
	fail "$others events outside inet nym-ntm"
n=0
for t in "ip host_filter" "ip nym-ntm" "inet nym"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	netns_exec "$GW" nft -s list table $t >"$TMP/table$n.after"
	cmp -s "$TMP/table$n.before" "$TMP/table$n.after" && pass "table $t untouched" || fail "table $t changed"
done
expect "ssh port from the configuration is open" "*2222*" netns_exec "$GW" sh -c "nft list set inet nym-ntm tcp_ports | grep elements"

echo "# the dry run described exactly what was installed"
netns_exec "$SCRATCH" nft -f "$TMP/dry.nft" || fail "nft -f of the dry-run output"
netns_exec "$SCRATCH" nft -s list table inet nym-ntm >"$TMP/scratch.list"
netns_exec "$GW" nft -s list table inet nym-ntm >"$TMP/gw.list"
if cmp -s "$TMP/scratch.list" "$TMP/gw.list" && [ -s "$TMP/gw.list" ]; then
	pass "nft lists the dry run and the installed table identically ($(wc -l <"$TMP/gw.list") lines)"
else
	fail "dry run and installed table differ: $(diff "$TMP/scratch.list" "$TMP/gw.list" | head -n 10)"
fi

echo "# applying twice leaves the identical ruleset"
netns_exec "$GW" nft -s list ruleset >"$TMP/after1"
netns_exec "$GW" "$NTM" apply --config "$CFG" --policy "$POLICY" >/dev/null 2>&1 || fail "second apply"
netns_exec "$GW" nft -s list ruleset >"$TMP/after2"
cmp -s "$TMP/after1" "$TMP/after2" && pass "second apply: identical ruleset" || fail "second apply changed the ruleset"
expect "the table remembers forwarding from before the first apply" \
	"*saved ip_forward=0 ipv6_forwarding=0*" netns_exec "$GW" sh -c "nft list table inet nym-ntm | grep comment | head -n 1"
netns_exec "$GW" "$NTM" status --config "$CFG" --policy "$POLICY" >"$TMP/status" 2>&1 &&
	grep -q "apply would install: yes" "$TMP/status" && pass "status: matches" || fail "status: $(head -n 5 "$TMP/status")"

echo "# a bad policy on top of an installed one changes nothing"
netns_exec "$GW" "$NTM" apply --config "$CFG" --policy "$TMP/bad.txt" >/dev/null 2>&1 && fail "bad policy accepted"
netns_exec "$GW" nft -s list ruleset >"$TMP/after3"
cmp -s "$TMP/after1" "$TMP/after3" && pass "installed ruleset kept" || fail "bad policy changed the ruleset"

echo "# remove restores the host exactly"
netns_exec "$GW" "$NTM" remove >"$TMP/remove.out" 2>&1 || fail "remove: $(cat "$TMP/remove.out")"
snapshot "$GW" >"$TMP/now"
if cmp -s "$TMP/before" "$TMP/now"; then
	pass "ruleset and forwarding as before apply"
else
	fail "remove left differences: $(diff "$TMP/before" "$TMP/now" | head -n 20)"
fi
expect "remove is idempotent" "*is not installed; nothing to do" netns_exec "$GW" "$NTM" remove
expect "status without a table" "*not installed*" netns_exec "$GW" "$NTM" status --config "$CFG" --policy "$POLICY"

echo "# forwarding that was already on stays on after remove"
netns_exec "$GW" sysctl -qw net.ipv4.ip_forward=1
snapshot "$GW" >"$TMP/before2"
netns_exec "$GW" "$NTM" apply --config "$CFG" --policy "$POLICY" >/dev/null 2>&1 || fail "apply"
netns_exec "$GW" "$NTM" remove >/dev/null 2>&1 || fail "remove"
snapshot "$GW" >"$TMP/now"
cmp -s "$TMP/before2" "$TMP/now" && pass "ip_forward=1 kept, ipv6 forwarding back to 0" ||
	fail "forwarding not restored: $(diff "$TMP/before2" "$TMP/now")"
netns_exec "$GW" sysctl -qw net.ipv4.ip_forward=0

echo "# a large policy is installed completely (set elements span many netlink messages)"
"$PY" - "$TMP/big.txt" <<'EOF'
import random, sys
random.seed(4)
with open(sys.argv[1], "w") as f:
    for i in range(6000):
        f.write("ExitPolicy reject %d.%d.%d.0/24:*\n" % (random.randint(1, 222), random.randint(0, 255), random.randint(0, 255)))
    f.write(open("packaging/exit-policy.txt").read())
EOF
netns_exec "$GW" "$NTM" apply --config "$CFG" --policy "$TMP/big.txt" >"$TMP/big.out" 2>&1 || fail "apply big policy: $(cat "$TMP/big.out")"
netns_exec "$GW" "$NTM" status --config "$CFG" --policy "$TMP/big.txt" >"$TMP/big.status" 2>&1 &&
	grep -q "apply would install: yes" "$TMP/big.status" && pass "large policy: status matches element by element" ||
	fail "large policy: $(head -n 8 "$TMP/big.status")"
bad=0
for a in 1.0.0.1 8.8.8.8 100.64.1.1 203.0.113.10 $(awk 'NR % 997 == 0 { sub(/\.0\/24:\*/, ".7", $3); print $3 }' "$TMP/big.txt"); do
	want=$("$NTM" check --policy "$TMP/big.txt" "$a" 443)
	got=$(netns_exec "$GW" "$NTM" check "$a" 443)
	want_line=$(echo "$want" | sed -n '2s/^[^:]*:\([0-9]*\): .*/\1/p')
	got_line=$(echo "$got" | sed -n '2s/^installed policy, line \([0-9]*\): .*/\1/p')
	if [ "$(echo "$want" | head -n 1)" != "$(echo "$got" | head -n 1)" ] || [ -z "$want_line" ] ||
		[ "$want_line" != "$got_line" ]; then
		echo "  $a: file says '$want', kernel says '$got'"
		bad=$((bad + 1))
	fi
done
[ $bad -eq 0 ] && pass "large policy: check agrees with the file" || fail "large policy: $bad check answers differ"
netns_exec "$GW" "$NTM" remove >/dev/null 2>&1 || fail "remove"

echo "# mixnode mode: node ports only, nothing forwarded"
netns_exec "$GW" "$NTM" apply --config "$CFG" --mode mixnode >/dev/null 2>&1 || fail "apply --mode mixnode"
chains=$(netns_exec "$GW" nft list table inet nym-ntm | grep -c '^	chain ')
[ "$chains" -eq 1 ] && pass "mixnode: input chain only" || fail "mixnode: $chains chains"
expect "mixnode: forwarding left off" "net.ipv4.ip_forward = 0" netns_exec "$GW" sysctl net.ipv4.ip_forward
expect "mixnode: check has no policy (status 2)" "2" netns_exec "$GW" sh -c "$NTM check 203.0.113.10 80 >/dev/null 2>&1; echo \$?"
netns_exec "$GW" "$NTM" remove >/dev/null 2>&1 || fail "remove"
snapshot "$GW" >"$TMP/now"
cmp -s "$TMP/before" "$TMP/now" && pass "host restored after mixnode" || fail "mixnode remove left differences"

finish
