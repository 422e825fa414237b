#!/bin/sh
# The benchmarks still measure what they say: a short `bench sphinx` and `bench mixnet` run,
# in a namespace of their own (the mixnet bench talks to its node over that loopback), and a
# one-second-per-case tests/bench/dvpn_throughput.sh (userspace WireGuard). The
# figures themselves depend on the machine and are not judged here; what is checked holds on
# any machine: every packet of the flood arrives, the latency phase measured its packets, the
# ceiling is the formula over process_forward_us, and bad options are refused.
set -eu
. tests/lib/netns.sh
. tests/lib/assert.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init bs
T=$NS_DIR
netns_host bench 198.51.100.60/24

netns_exec bench "$NODE" bench sphinx --seconds 1 --json >"$T/sphinx.json"
check "bench sphinx: a forward hop costs more than one x25519 and less than create" /usr/bin/python3 -c "
import json; d = json.load(open('$T/sphinx.json'))
assert d['x25519_us'] < d['process_forward_us'] < d['create_us'], d
assert d['host_speed_spread_pct'] >= 0 and d['host_steal_pct'] >= 0, d"

netns_exec bench "$NODE" bench mixnet --seconds 1 --json >"$T/mixnet.json" 2>"$T/mixnet.err" || cat "$T/mixnet.err"
check "bench mixnet: every flooded packet arrives, and the latency phase measured its packets" /usr/bin/python3 -c "
import json; d = json.load(open('$T/mixnet.json'))
assert d['sent'] > 0 and d['delivered'] == d['sent'] and d['lost'] == 0, d
assert d['latency_packets'] >= 100 and 0 < d['p50_us'] <= d['p99_us'], d
assert abs(d['ceiling_pps'] - d['workers'] * 1e6 / d['process_forward_us']) < 1e-6 * d['ceiling_pps'], d
assert d['latency_rate_pps'] <= 0.8 * min(d['delivered_pps'], d['ceiling_pps']) * 1.0001, d
assert d['node_rss_after_kib'] > 0, d"

# dvpn_throughput: one round of 1 s per case (userspace backend), in namespaces of its own.
if command -v wireguard-go >/dev/null && command -v iperf3 >/dev/null; then
	sh tests/bench/dvpn_throughput.sh --seconds 1 --rounds 1 >"$T/dvpn.json" 2>"$T/dvpn.err" || cat "$T/dvpn.err" >&2
	check "bench dvpn_throughput: goodput through the nested and the single tunnel, and their ratio" /usr/bin/python3 -c "
import json; d = json.load(open('$T/dvpn.json'))
assert d['nested_userspace_mbps'] > 0 and d['single_userspace_mbps'] > 0, d
assert abs(d['nesting_ratio_userspace'] - d['nested_userspace_mbps'] / d['single_userspace_mbps']) < 0.01, d
assert 'nesting_ratio_userspace_at_least_0.75' in d['targets'], d"
fi

if netns_exec bench "$NODE" bench mixnet --seconds 0 >"$T/out" 2>"$T/err"; then
	fail "bench mixnet --seconds 0 was accepted"
else
	check "bench mixnet --seconds 0 is refused with a reason" grep -q "must be 1..120" "$T/err"
fi
finish
