# Shared by the tests/integration/ntm_*.sh tests (sourced, not run). Builds, in network
# namespaces named with a per-run prefix, a gateway host between tunnel clients and an
# "internet" host:
#
#   c1 (10.1.0.2, .3; fc01::2, ::3) --eth0==nymwg--+
#                                                  gw --up0==eth0-- inet (198.51.100.1,
#   c2 (10.0.0.2; fc00::2) ------------eth0==nymtun0-+    (198.51.100.2,    203.0.113.x,
#                                                          2001:db8:1::2)    2001:db8:2::x)
#
# The tunnel-side interfaces are veth pairs named as Nym names its tunnels, so the gateway's
# ruleset sees the same interface names it sees on a real node. No traffic leaves the host.

NTM=${NYM_BUILD:-build}/bin/nym-ntm
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PROBE=tests/integration/lib/ntm_probe.py
P="ntm$$-"
GW=${P}gw
C1=${P}c1
C2=${P}c2
INET=${P}inet
TMP=$(mktemp -d /tmp/ntm-test.XXXXXX)
SERVER_PID=
FAILS=0

ntm_cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns"
	done
	rm -rf "$TMP"
}

die() {
	echo "FATAL: $*" >&2
	exit 1
}

pass() { echo "ok: $*"; }

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# expect NAME WANT COMMAND...: runs COMMAND, compares its first output line with WANT (a
# shell pattern).
expect() {
	name=$1
	want=$2
	shift 2
	got=$("$@" 2>&1 | head -n 1)
	case "$got" in
	$want) pass "$name: $got" ;;
	*) fail "$name: got '$got', want '$want'" ;;
	esac
}

in_ns() {
	ns=$1
	shift
	ip netns exec "$ns" "$@"
}

probe() {
	ns=$1
	shift
	ip netns exec "$ns" "$PY" "$PROBE" "$@"
}

# iperf_bps < iperf3 -J output: the bits per second the server received (0 if none).
iperf_bps() {
	"$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' \
		2>/dev/null || echo 0
}

veth() { # veth NS_A IF_A NS_B IF_B
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || die "veth $2"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

ntm_topology() {
	for ns in $GW $C1 $C2 $INET; do
		ip netns add "$ns" || die "netns $ns"
		ip -n "$ns" link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	in_ns "$GW" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	veth "$C1" eth0 "$GW" nymwg
	veth "$C2" eth0 "$GW" nymtun0
	veth "$GW" up0 "$INET" eth0

	ip -n "$GW" addr add 10.1.0.1/16 dev nymwg
	ip -n "$GW" addr add fc01::1/112 dev nymwg nodad
	ip -n "$GW" addr add 10.0.0.1/16 dev nymtun0
	ip -n "$GW" addr add fc00::1/112 dev nymtun0 nodad
	ip -n "$GW" addr add 198.51.100.2/24 dev up0
	ip -n "$GW" addr add 2001:db8:1::2/64 dev up0 nodad
	ip -n "$GW" route add default via 198.51.100.1
	ip -n "$GW" -6 route add default via 2001:db8:1::1

	ip -n "$C1" addr add 10.1.0.2/16 dev eth0
	ip -n "$C1" addr add 10.1.0.3/16 dev eth0
	ip -n "$C1" addr add fc01::2/112 dev eth0 nodad
	ip -n "$C1" addr add fc01::3/112 dev eth0 nodad
	ip -n "$C1" route add default via 10.1.0.1
	ip -n "$C1" -6 route add default via fc01::1
	ip -n "$C2" addr add 10.0.0.2/16 dev eth0
	ip -n "$C2" addr add fc00::2/112 dev eth0 nodad
	ip -n "$C2" route add default via 10.0.0.1
	ip -n "$C2" -6 route add default via fc00::1

	for a in 198.51.100.1/24 203.0.113.10/24 203.0.113.20/24 203.0.113.200/24 169.254.169.254/16; do
		ip -n "$INET" addr add "$a" dev eth0
	done
	for a in 2001:db8:1::1/64 2001:db8:2::10/64 2001:db8:2::20/64 2001:db8:bad::10/64; do
		ip -n "$INET" addr add "$a" dev eth0 nodad
	done
	# Routes back to the clients, used only when nothing masquerades (the throughput baseline).
	ip -n "$INET" route add 10.0.0.0/15 via 198.51.100.2
	ip -n "$INET" -6 route add fc00::/15 via 2001:db8:1::2
}

ntm_servers() {
	in_ns "$INET" "$PY" "$PROBE" serve --tcp 22,25,53,80,443,465,3333,6012,8081,41264 \
		--udp 25,53,123,443,465,6012,8081,51822 --ready "$TMP/ready" \
		--addrs 203.0.113.10,203.0.113.20,203.0.113.200,2001:db8:2::10,2001:db8:2::20,2001:db8:bad::10 \
		>"$TMP/server.log" 2>&1 &
	SERVER_PID=$!
	i=0
	while [ ! -s "$TMP/ready" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && die "servers did not start: $(cat "$TMP/server.log")"
		sleep 0.05
	done
}

# Canonical snapshots for "nothing changed" comparisons: the ruleset without counters and
# the forwarding switches.
snapshot() {
	in_ns "$1" nft -s list ruleset
	in_ns "$1" sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
}
