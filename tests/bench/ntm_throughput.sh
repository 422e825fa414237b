#!/bin/sh
# Forwarding throughput of the gateway namespace with and without nym-ntm's full default
# policy: one iperf3 TCP stream from a client behind nymwg to the internet host, alternating
# between no ruleset (plain forwarding, routes back to the client instead of NAT) and the
# installed table (conntrack, masquerade, exit policy). Prints the medians and their ratio;
# a measurement, not a pass/fail test.
#
#   tests/bench/ntm_throughput.sh [--json] [--rounds N] [--seconds S]
#
# Needs root; NYM_BUILD selects the build (default build/).
set -u
cd "$(dirname "$0")/../.."
JSON=0
ROUNDS=5
SECONDS_PER_RUN=3
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--seconds) SECONDS_PER_RUN=$2; shift ;;
	*) echo "usage: $0 [--json] [--rounds N] [--seconds S]" >&2; exit 1 ;;
	esac
	shift
done
. tests/integration/lib/ntm_env.sh
trap ntm_cleanup EXIT INT TERM
[ -x "$NTM" ] || die "$NTM not built"
command -v iperf3 >/dev/null || die "iperf3 missing (scripts/deps.sh installs it)"

ntm_topology
# 443 is in Nym's allowlist, so the policy lets the stream through.
in_ns "$INET" iperf3 -s -p 443 -D -I "$TMP/iperf.pid" >/dev/null || die "iperf3 server"
sleep 0.3

run() { # prints bits per second received
	in_ns "$C1" iperf3 -c 203.0.113.10 -p 443 -t "$SECONDS_PER_RUN" -J 2>/dev/null |
		"$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))'
}

plain=""
policy=""
for r in $(seq 1 "$ROUNDS"); do
	in_ns "$GW" "$NTM" remove >/dev/null 2>&1
	in_ns "$GW" sysctl -qw net.ipv4.ip_forward=1
	plain="$plain $(run)"
	in_ns "$GW" "$NTM" apply --config /dev/null --policy packaging/exit-policy.txt >/dev/null 2>&1 || die "apply"
	policy="$policy $(run)"
done
in_ns "$GW" "$NTM" remove >/dev/null 2>&1

median() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mp=$(median $plain)
mq=$(median $policy)
ratio=$(awk -v a="$mq" -v b="$mp" 'BEGIN { printf "%.3f", a / b }')
if [ $JSON -eq 1 ]; then
	printf '{"test":"ntm_forwarding_tcp","rounds":%s,"seconds":%s,"no_ruleset_bps":%s,"default_policy_bps":%s,"ratio":%s,"no_ruleset_runs_bps":[%s],"default_policy_runs_bps":[%s]}\n' \
		"$ROUNDS" "$SECONDS_PER_RUN" "$mp" "$mq" "$ratio" "$(echo $plain | tr ' ' ',')" "$(echo $policy | tr ' ' ',')"
else
	echo "TCP forwarding, client (nymwg) -> gateway -> internet host, iperf3 1 stream, $ROUNDS x ${SECONDS_PER_RUN}s each, median"
	awk -v a="$mp" -v b="$mq" -v r="$ratio" -v pa="$plain" -v pb="$policy" 'BEGIN {
		printf "  no ruleset:           %8.2f Gbit/s   (runs:%s)\n", a / 1e9, pa
		printf "  full default policy:  %8.2f Gbit/s   (runs:%s)\n", b / 1e9, pb
		printf "  ratio:                %8s\n", r
	}'
fi
