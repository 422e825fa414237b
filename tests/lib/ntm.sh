# The gateway host of the nym-ntm tests and benchmark (sourced from the top of the tree, not
# run; it sources netns.sh and assert.sh). In namespaces of one run (prefix "ntm<pid>"), a
# gateway host between tunnel clients and an "internet" host:
#
#   c1 (10.1.0.2, .3; fc01::2, ::3) --eth0==nymwg--+
#                                                  gw --up0==eth0-- inet (198.51.100.1,
#   c2 (10.0.0.2; fc00::2) ------------eth0==nymtun0-+    (198.51.100.2,    203.0.113.x,
#                                                          2001:db8:1::2)    2001:db8:2::x)
#
# The tunnel-side interfaces are veth pairs named as Nym names its tunnels, so the gateway's
# ruleset sees the same interface names it sees on a real node. No traffic leaves the host.
# $TMP is the run's directory; GW, C1, C2 and INET name the hosts for netns_exec and probe.

. tests/lib/netns.sh
. tests/lib/assert.sh

NTM=${NYM_BUILD:-build}/bin/nym-ntm
PROBE=tests/lib/ntm_probe.py
GW=gw
C1=c1
C2=c2
INET=inet
netns_init ntm
TMP=$NS_DIR

# probe HOST ARGS...: ntm_probe.py in a host; prints how the attempt ended.
probe() {
	host=$1
	shift
	netns_exec "$host" "$PY" "$PROBE" "$@"
}

# iperf_bps < iperf3 -J output: the bits per second the server received (0 if none).
iperf_bps() {
	"$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' \
		2>/dev/null || echo 0
}

ntm_topology() {
	for host in $GW $C1 $C2 $INET; do
		netns_add "$host" || die "netns $host"
		netns_exec "$host" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	netns_exec "$GW" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	netns_veth "$C1" eth0 "$GW" nymwg || die "veth nymwg"
	netns_veth "$GW" up0 "$INET" eth0 || die "veth up0"
	gw=$NS_P$GW
	c1=$NS_P$C1
	c2=$NS_P$C2
	inet=$NS_P$INET
	[ "${NTM_LATE_NYMTUN0:-0}" = 1 ] || ntm_nymtun0

	ip -n "$gw" addr add 10.1.0.1/16 dev nymwg
	ip -n "$gw" addr add fc01::1/112 dev nymwg nodad
	ip -n "$gw" addr add 198.51.100.2/24 dev up0
	ip -n "$gw" addr add 2001:db8:1::2/64 dev up0 nodad
	ip -n "$gw" route add default via 198.51.100.1
	ip -n "$gw" -6 route add default via 2001:db8:1::1

	ip -n "$c1" addr add 10.1.0.2/16 dev eth0
	ip -n "$c1" addr add 10.1.0.3/16 dev eth0
	ip -n "$c1" addr add fc01::2/112 dev eth0 nodad
	ip -n "$c1" addr add fc01::3/112 dev eth0 nodad
	ip -n "$c1" route add default via 10.1.0.1
	ip -n "$c1" -6 route add default via fc01::1

	for a in 198.51.100.1/24 203.0.113.10/24 203.0.113.20/24 203.0.113.200/24 169.254.169.254/16; do
		ip -n "$inet" addr add "$a" dev eth0
	done
	for a in 2001:db8:1::1/64 2001:db8:2::10/64 2001:db8:2::20/64 2001:db8:bad::10/64; do
		ip -n "$inet" addr add "$a" dev eth0 nodad
	done
	# Routes back to the clients, used only when nothing masquerades (the throughput baseline).
	ip -n "$inet" route add 10.0.0.0/15 via 198.51.100.2
	ip -n "$inet" -6 route add fc00::/15 via 2001:db8:1::2
}

# nymtun0 and client c2 behind it. ntm_topology calls it unless NTM_LATE_NYMTUN0=1: then
# the test creates it later, after apply, as the node creates its TUN device.
ntm_nymtun0() {
	netns_veth "$C2" eth0 "$GW" nymtun0 || die "veth nymtun0"
	ip -n "$NS_P$GW" addr add 10.0.0.1/16 dev nymtun0
	ip -n "$NS_P$GW" addr add fc00::1/112 dev nymtun0 nodad
	ip -n "$NS_P$C2" addr add 10.0.0.2/16 dev eth0
	ip -n "$NS_P$C2" addr add fc00::2/112 dev eth0 nodad
	ip -n "$NS_P$C2" route add default via 10.0.0.1
	ip -n "$NS_P$C2" -6 route add default via fc00::1
}

# The internet host's TCP, UDP and DNS servers (ntm_probe.py serve), up when this returns.
ntm_servers() {
	rm -f "$TMP/ready"
	netns_bg "$INET" "$TMP/server.log" "$PY" "$PROBE" serve --tcp 22,25,53,80,443,465,3333,6012,8081,41264 \
		--udp 25,53,123,443,465,6012,8081,51822 --ready "$TMP/ready" \
		--addrs 203.0.113.10,203.0.113.20,203.0.113.200,2001:db8:2::10,2001:db8:2::20,2001:db8:bad::10
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
	netns_exec "$1" nft -s list ruleset
	netns_exec "$1" sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
}
