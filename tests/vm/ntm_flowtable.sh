#!/bin/sh
# Runs inside the VM of tests/vm/boot.sh (Debian's kernel, which has nf_flow_table_inet):
# nym-ntm's exit-gateway table offloads established connections to its flowtable. Shows
# that apply installs the flowtable on the tunnels and the uplink, that status finds the
# table as apply would install it and --dry-run prints it, that an allowed TCP connection in each family is moved
# to the fast path ([OFFLOAD] in conntrack) and still works, and that new connections are
# still judged by the policy (a denied port is reset, a denied network refused).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/ntm.sh
command -v iperf3 >/dev/null || die "iperf3 missing"
ntm_topology
stop_servers() { # everything listening in the internet host, the probe server's workers too
	netns_kill "$INET"
	sleep 0.5
}

netns_exec "$GW" "$NTM" apply --config /dev/null --policy packaging/exit-policy.txt >"$TMP/apply.out" 2>&1 ||
	die "apply failed: $(cat "$TMP/apply.out")"
grep -q "flowtable on 1 device" "$TMP/apply.out" && pass "apply installs a flowtable" ||
	fail "apply output: $(cat "$TMP/apply.out")"
# The uplink only: the tunnels come and go with the node, and the table must not depend on it.
devs=$(netns_exec "$GW" nft list flowtable inet nym-ntm fastpath 2>&1 | sed -n 's/.*devices = { *\(.*\) *}.*/\1/p' |
	tr -d ' ' | tr ',' '\n' | sort | tr '\n' ' ')
[ "$devs" = "up0 " ] && pass "flowtable devices: $devs" || fail "flowtable devices: '$devs'"
netns_exec "$GW" "$NTM" status --config /dev/null --policy packaging/exit-policy.txt >"$TMP/status.out" 2>&1
grep -q "^flowtable fastpath: established connections offloaded on" "$TMP/status.out" &&
	pass "status shows the flowtable" || fail "status without the flowtable: $(head -n 3 "$TMP/status.out")"
grep -q "matches what nym-ntm apply would install: yes" "$TMP/status.out" && pass "status: installed table matches" ||
	fail "status: $(head -n 5 "$TMP/status.out")"

# --dry-run prints the flowtable as apply installs it: nft loads the printed table into
# the same place and lists it identically.
netns_exec "$GW" "$NTM" apply --config /dev/null --policy packaging/exit-policy.txt --dry-run >"$TMP/dry.nft" 2>&1
netns_exec "$GW" nft -s list table inet nym-ntm >"$TMP/applied.list"
netns_exec "$GW" nft delete table inet nym-ntm && netns_exec "$GW" nft -f "$TMP/dry.nft" || fail "nft -f of the dry-run output"
netns_exec "$GW" nft -s list table inet nym-ntm >"$TMP/dry.list"
grep -q "flow add @fastpath" "$TMP/dry.list" && cmp -s "$TMP/applied.list" "$TMP/dry.list" &&
	pass "the dry run lists as the installed table ($(wc -l <"$TMP/dry.list") lines)" ||
	fail "dry run and installed table differ: $(diff "$TMP/applied.list" "$TMP/dry.list" | head -n 10)"
netns_exec "$GW" "$NTM" apply --config /dev/null --policy packaging/exit-policy.txt >/dev/null 2>&1 || die "apply again"

# A bulk transfer to an allowed port (3333), in each family.
netns_exec "$INET" iperf3 -s -p 3333 -D -I "$TMP/iperf.pid" >/dev/null || die "iperf3 server"
sleep 0.5
for fam in 4 6; do
	dst=203.0.113.10
	[ $fam -eq 6 ] && dst=2001:db8:2::10
	netns_exec "$C1" iperf3 -c "$dst" -p 3333 -t 4 -J >"$TMP/iperf$fam.json" 2>&1 &
	client=$!
	sleep 2
	offloaded=$(netns_exec "$GW" cat /proc/net/nf_conntrack | grep "dport=3333" | grep -c "\[OFFLOAD\]")
	wait $client
	status=$?
	[ "$offloaded" -ge 1 ] && pass "IPv$fam: the connection is on the flowtable ($offloaded entries [OFFLOAD])" ||
		fail "IPv$fam: no offloaded connection: $(netns_exec "$GW" cat /proc/net/nf_conntrack | grep 3333)"
	bps=$(iperf_bps <"$TMP/iperf$fam.json")
	[ $status -eq 0 ] && [ "$bps" -gt 0 ] && pass "IPv$fam: offloaded transfer completes ($bps bit/s)" ||
		fail "IPv$fam: iperf3 exit $status: $(head -c 300 "$TMP/iperf$fam.json")"
done

# New connections still meet the policy first.
stop_servers
ntm_servers
expect "a denied port is still reset" "reset" probe "$C1" tcp 203.0.113.10 25
expect "an allowed port still connects" "ok hello 198.51.100.2" probe "$C1" tcp 203.0.113.10 443

# The node restarts: nymtun0 goes away and comes back. The installed table still is what
# apply would install, and the new device's traffic is policed and offloaded.
ip -n "$NS_P$GW" link del nymtun0
ntm_nymtun0
netns_exec "$GW" "$NTM" status --config /dev/null --policy packaging/exit-policy.txt >"$TMP/status2.out" 2>&1
grep -q "matches what nym-ntm apply would install: yes" "$TMP/status2.out" &&
	pass "status after nymtun0 came back: installed table matches" || fail "status: $(head -n 5 "$TMP/status2.out")"
expect "new nymtun0: a denied port is reset" "reset" probe "$C2" tcp 203.0.113.10 25
expect "new nymtun0: an allowed port connects" "ok hello 198.51.100.2" probe "$C2" tcp 203.0.113.10 443
stop_servers
netns_exec "$INET" iperf3 -s -p 3333 -D -I "$TMP/iperf.pid" >/dev/null || die "iperf3 server"
sleep 0.5
netns_exec "$C2" iperf3 -R -c 203.0.113.10 -p 3333 -t 3 -J >"$TMP/iperf-tun.json" 2>&1 &
client=$!
sleep 1.5
n=$(netns_exec "$GW" cat /proc/net/nf_conntrack | grep "src=10.0.0.2" | grep "dport=3333" | grep -c "\[OFFLOAD\]")
wait $client
status=$?
bps=$(iperf_bps <"$TMP/iperf-tun.json")
[ $status -eq 0 ] && [ "$n" -ge 1 ] && [ "$bps" -gt 0 ] &&
	pass "new nymtun0: a download is offloaded ($n entries) and completes ($bps bit/s)" ||
	fail "new nymtun0: iperf3 exit $status, $n offloaded, $bps bit/s"
stop_servers
ntm_servers

# flow_offload: false takes the flowtable out again, and nothing is offloaded any more.
echo "flow_offload: false" >"$TMP/ntm.yaml"
netns_exec "$GW" "$NTM" apply --config "$TMP/ntm.yaml" --policy packaging/exit-policy.txt >"$TMP/apply2.out" 2>&1 ||
	fail "apply with flow_offload false: $(cat "$TMP/apply2.out")"
netns_exec "$GW" nft list flowtables 2>&1 | grep -q fastpath && fail "flowtable still there" ||
	pass "flow_offload: false leaves the flowtable out"
stop_servers
netns_exec "$INET" iperf3 -s -p 3333 -D -I "$TMP/iperf.pid" >/dev/null || die "iperf3 server"
sleep 0.5
netns_exec "$C1" iperf3 -c 203.0.113.10 -p 3333 -t 3 >"$TMP/iperf-plain.out" 2>&1 &
client=$!
sleep 1.5
n=$(netns_exec "$GW" cat /proc/net/nf_conntrack | grep "dport=3333" | grep -c "\[OFFLOAD\]")
wait $client
status=$?
[ $status -eq 0 ] && [ "$n" -eq 0 ] && pass "without the flowtable the transfer works and nothing is offloaded" ||
	fail "without a flowtable: iperf3 exit $status ($(tail -n 2 "$TMP/iperf-plain.out")), $n offloaded"
finish
