#!/bin/sh
# Forwarding throughput of the gateway namespace with and without nym-ntm's full default
# policy: one iperf3 TCP stream from a client behind nymwg to the internet host. Each round
# runs three set-ups back to back: no ruleset (plain forwarding; the internet host routes
# back to the client), NAT only (a minimal table with conntrack and masquerade, the price
# any NAT gateway pays, loaded here with nft(8) as a reference), and nym-ntm's table with
# the full default policy. Prints the medians, the ratios of medians, and the median of the
# per-round ratios (a burst of load from elsewhere on the machine hits a whole round); a
# measurement, not a pass/fail test.
#
# The policy run offloads established connections to a flowtable when the kernel has
# nf_flow_table_inet (flowtable: yes in the output). --vm runs the whole measurement in a VM
# booting Debian's kernel (tests/vm/boot.sh), for a host kernel without it; figures from
# the VM are emulated and only their ratios mean something.
#
#   tests/bench/ntm_throughput.sh [--json] [--rounds N] [--seconds S] [--vm]
#
# Needs root; NYM_BUILD selects the build (default build/).
set -u
cd "$(dirname "$0")/../.."
JSON=0
VM=0
ROUNDS=9
SECONDS_PER_RUN=2
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--seconds) SECONDS_PER_RUN=$2; shift ;;
	--vm) VM=1 ;;
	*) echo "usage: $0 [--json] [--rounds N] [--seconds S] [--vm]" >&2; exit 1 ;;
	esac
	shift
done
if [ $VM -eq 1 ]; then
	json=""
	[ $JSON -eq 1 ] && json=--json
	exec tests/vm/boot.sh --mem 2048 env NYM_BUILD="${NYM_BUILD:-build}" \
		sh tests/bench/ntm_throughput.sh $json --rounds "$ROUNDS" --seconds "$SECONDS_PER_RUN"
fi
. tests/lib/ntm.sh
[ -x "$NTM" ] || die "$NTM not built"
command -v iperf3 >/dev/null || die "iperf3 missing (scripts/deps.sh installs it)"

ntm_topology
# 443 is in Nym's allowlist, so the policy lets the stream through.
netns_exec "$INET" iperf3 -s -p 443 -D -I "$TMP/iperf.pid" >/dev/null || die "iperf3 server"
sleep 0.3

run() { # prints bits per second received
	netns_exec "$C1" iperf3 -c 203.0.113.10 -p 443 -t "$SECONDS_PER_RUN" -J 2>/dev/null | iperf_bps
}

plain=""
nat=""
policy=""
for r in $(seq 1 "$ROUNDS"); do
	netns_exec "$GW" "$NTM" remove >/dev/null 2>&1
	netns_exec "$GW" sysctl -qw net.ipv4.ip_forward=1
	plain="$plain $(run)"
	netns_exec "$GW" nft -f - <<'EOF' || die "NAT-only reference table"
table inet bench_nat {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "up0" ip saddr 10.0.0.0/15 masquerade
	}
}
EOF
	nat="$nat $(run)"
	netns_exec "$GW" nft delete table inet bench_nat
	netns_exec "$GW" "$NTM" apply --config /dev/null --policy packaging/exit-policy.txt >"$TMP/apply.out" 2>&1 ||
		die "apply: $(cat "$TMP/apply.out")"
	policy="$policy $(run)"
done
netns_exec "$GW" "$NTM" remove >/dev/null 2>&1

flowtable=no
grep -q "flowtable on" "$TMP/apply.out" && flowtable=yes
median() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pairs() { awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " "); for (i = 1; i <= n; i++) printf "%.4f ", y[i] / x[i] }'; }
mp=$(median $plain)
mn=$(median $nat)
mq=$(median $policy)
ratio=$(awk -v a="$mq" -v b="$mp" 'BEGIN { printf "%.3f", a / b }')
ratio_nat=$(awk -v a="$mq" -v b="$mn" 'BEGIN { printf "%.3f", a / b }')
paired=$(median $(pairs "$plain" "$policy"))
paired_nat=$(median $(pairs "$nat" "$policy"))
if [ $JSON -eq 1 ]; then
	printf '{"test":"ntm_forwarding_tcp","kernel":"%s","flowtable":%s,"rounds":%s,"seconds":%s,"no_ruleset_bps":%s,"nat_only_bps":%s,"default_policy_bps":%s,' \
		"$(uname -r)" "$([ $flowtable = yes ] && echo true || echo false)" "$ROUNDS" "$SECONDS_PER_RUN" "$mp" "$mn" "$mq"
	printf '"ratio":%s,"paired_ratio":%s,"ratio_to_nat_only":%s,"paired_ratio_to_nat_only":%s,' \
		"$ratio" "$paired" "$ratio_nat" "$paired_nat"
	printf '"no_ruleset_runs_bps":[%s],"nat_only_runs_bps":[%s],"default_policy_runs_bps":[%s]}\n' \
		"$(echo $plain | tr ' ' ',')" "$(echo $nat | tr ' ' ',')" "$(echo $policy | tr ' ' ',')"
else
	echo "TCP forwarding, client (nymwg) -> gateway -> internet host, iperf3 1 stream, $ROUNDS rounds x ${SECONDS_PER_RUN}s, medians"
	echo "  kernel $(uname -r), flowtable: $flowtable"
	line() {
		awk -v l="$1" -v m="$2" -v runs="$3" 'BEGIN {
			n = split(runs, x, " ")
			printf "  %-22s %7.2f Gbit/s   (runs:", l, m / 1e9
			for (i = 1; i <= n; i++) printf " %.2f", x[i] / 1e9
			printf ")\n"
		}'
	}
	line "no ruleset:" "$mp" "$plain"
	line "NAT only (reference):" "$mn" "$nat"
	line "full default policy:" "$mq" "$policy"
	echo "  policy / no ruleset:   $ratio (median of per-round ratios $(printf %.3f "$paired"))"
	echo "  policy / NAT only:     $ratio_nat (median of per-round ratios $(printf %.3f "$paired_nat"))"
fi
