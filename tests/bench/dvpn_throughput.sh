#!/bin/sh
# dVPN (two-hop WireGuard) throughput: iperf3 TCP goodput through the two nested tunnels
# NymVPN uses and through one plain tunnel, for each WireGuard backend available where it
# runs. Prints one JSON object on stdout (progress on stderr); a measurement, not a pass/fail
# test.
#
#   tests/bench/dvpn_throughput.sh [--vm] [--seconds S] [--rounds R] [--streams P]
#                                  [--backends "userspace kernel"] [--pin] [--gomaxprocs N]
#                                  [--link-mbps N]
#
# The data path, not the daemons: four namespaces joined by veth pairs,
#
#   client 192.0.2.1 -- 192.0.2.2 entry 198.51.100.1 -- 198.51.100.2/.3 exit 203.0.113.1 -- 203.0.113.2/.3 server
#
# and WireGuard devices made through lib/wg by `nym-node debug wg-run`:
#   nested: outer client<->entry tunnel (MTU 1420, UDP 51822 on the entry) whose AllowedIPs
#           on the client are the exit's address 198.51.100.2 (and the entry's tunnel
#           address); inner client<->exit tunnel (MTU 1340, UDP 51822 on the exit) whose
#           peer endpoint is 198.51.100.2, so its UDP travels inside the outer one. The
#           entry forwards the decrypted inner UDP to the exit, masquerading the client's
#           tunnel address as a gateway does; the exit forwards the inner tunnel's traffic to
#           the server, masquerading it. iperf3 runs to 203.0.113.2 (routed into the inner
#           tunnel).
#   single: one plain client<->exit tunnel (MTU 1420, UDP 51823 on the exit's 198.51.100.3),
#           its UDP routed through the entry namespace without a tunnel (plain forwarding,
#           so both cases cross the same hops); the exit masquerades to the server. iperf3
#           runs to 203.0.113.3 (routed into the single tunnel).
# Every device of a backend stays up during its measurements, so the two cases alternate in
# each round (nested first in odd rounds, single first in even ones: a drift of the
# machine's load hits both alike), and the medians over --rounds (default 3) are reported
# (per backend, "nesting_ratio_paired" is the median of the rounds' own ratios).
# iperf3: one TCP stream by default (--streams P for P parallel streams), --seconds (4) each,
# after a 1 s warm-up that is not counted (-O 1). The whole machine's CPU use during each run
# (/proc/stat, all cores) is reported too: on 2 cores the nested case runs twice the
# WireGuard work (4 wireguard-go processes with the userspace backend instead of 2), so a
# saturated CPU, not the protocol, sets its ceiling. --pin places each wireguard-go process
# on a core (the client's two devices on different cores, each gateway's device on the core
# its upstream peer does not use), as a separate experiment; --gomaxprocs N sets GOMAXPROCS
# for wireguard-go; --link-mbps N shapes the client's uplink (tbf on its eth0) to N Mbit/s,
# for the link-bound case (a client whose uplink, not its CPU, is the limit). The IP
# fragments counted in the four namespaces are reported (ip_fragments, 0 expected: the inner
# tunnel's 1340 + 60 bytes fit the outer's 1420).
#
# --vm runs the kernel backend (and the userspace one, so kernel_over_userspace compares two
# figures of the same run) in a VM booting Debian's kernel (tests/vm/boot.sh), after the
# userspace figures of this machine; the VM is emulated (TCG), so only its ratios mean
# something. Members: nested_userspace_mbps, single_userspace_mbps, nesting_ratio_userspace
# (this machine); with --vm also nested_kernel_mbps, single_kernel_mbps, nesting_ratio_kernel,
# vm_nested_userspace_mbps, vm_single_userspace_mbps, vm_nesting_ratio_userspace,
# kernel_over_userspace (nested, kernel / userspace, both in the VM); "runs" (every run's
# Mbit/s and CPU use), "targets" (each nesting ratio >= 0.75; kernel_over_userspace >= 1.5).
#
# AmneziaWG: where nym_awg.ko loads (the VM; `make kmod` builds it first), the kernel backend
# runs a third case, nested_awg: the nested path with AWG 1.0 on the entry hop (client
# INITIATOR, entry RESPONDER, one "random" set), switched on just for that run on the same
# devices (no new handshake: only the wire headers change) and off again. Its runs sit next to
# the plain nested ones in each round; "awg_ratio_paired" (per backend) and
# awg_over_plain_kernel (--vm) are the median of the rounds' nested_awg / nested ratios
# (target >= 0.95).
#
# Needs root, iperf3, nft, wg and wireguard-go; NYM_BUILD selects the build (default build/).
set -u
cd "$(dirname "$0")/../.." || exit 1
VM=0
SECS=4
ROUNDS=3
STREAMS=1
BACKENDS=userspace
PIN=0
RAW=0
LINK=0
while [ $# -gt 0 ]; do
	case "$1" in
	--vm) VM=1 ;;
	--seconds) SECS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--streams) STREAMS=$2; shift ;;
	--backends) BACKENDS=$2; shift ;;
	--pin) PIN=1 ;;
	--gomaxprocs) GOMAXPROCS=$2; export GOMAXPROCS; shift ;;
	--link-mbps) LINK=$2; shift ;;
	--raw) RAW=1 ;; # internal: per-backend figures only (what the VM run prints)
	*) echo "usage: $0 [--vm] [--seconds S] [--rounds R] [--streams P] [--backends \"userspace kernel\"] [--pin] [--gomaxprocs N] [--link-mbps N]" >&2; exit 2 ;;
	esac
	shift
done
. tests/lib/assert.sh
. tests/lib/netns.sh
say() { echo "dvpn_throughput: $*" >&2; }
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
[ -x "$NODE" ] || die "build nym-node first"
for t in iperf3 nft wg; do
	command -v $t >/dev/null || die "$t missing (scripts/deps.sh installs it)"
done
extra=""
[ $PIN -eq 1 ] && extra=--pin
[ -n "${GOMAXPROCS:-}" ] && extra="$extra --gomaxprocs $GOMAXPROCS"
[ "$LINK" != 0 ] && extra="$extra --link-mbps $LINK"

if [ $VM -eq 1 ]; then
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/nym-dvpn.XXXXXX")
	trap 'rm -rf "$OUT"' EXIT
	say "this machine: userspace backend"
	# shellcheck disable=SC2086 # $extra: options, split on purpose
	sh tests/bench/dvpn_throughput.sh --raw --backends userspace --seconds "$SECS" --rounds "$ROUNDS" --streams "$STREAMS" $extra \
		>"$OUT/host.json" || die "the measurement on this machine failed"
	make -s kmod O="${NYM_BUILD:-build}" >/dev/null 2>&1 || say "make kmod failed: no AmneziaWG runs"
	say "the VM (Debian's kernel, emulated): kernel (with AmneziaWG) and userspace backends"
	# The VM's console carries stdout and stderr alike: the JSON object is its one line
	# starting with '{', everything else is progress.
	# shellcheck disable=SC2086
	tests/vm/boot.sh --mem 2048 env NYM_BUILD="${NYM_BUILD:-build}" sh tests/bench/dvpn_throughput.sh --raw \
		--backends "kernel userspace" --seconds "$SECS" --rounds "$ROUNDS" --streams "$STREAMS" $extra |
		while IFS= read -r line; do
			case "$line" in
			'{'*) echo "$line" >"$OUT/vm.json" ;;
			*) echo "vm: $line" >&2 ;;
			esac
		done
	[ -s "$OUT/vm.json" ] || echo '{"error": "the VM printed no figures"}' >"$OUT/vm.json"
	"$PY" - "$OUT/host.json" "$OUT/vm.json" <<'EOF'
import json, sys
host, vm = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
out = {"test": "dvpn_throughput"}
for k in ("seconds", "rounds", "streams", "pinned", "cores", "link_mbps", "gomaxprocs", "loadavg_at_start"):
    if k in host:
        out[k] = host[k]
out["kernel"] = host.get("kernel")
out["vm_kernel"] = vm.get("kernel")
def ratio(a, b):
    return round(a / b, 3) if a and b else None
def get(d, b, case):
    return (d.get("backends", {}).get(b) or {}).get(case + "_mbps")
out["nested_userspace_mbps"] = get(host, "userspace", "nested")
out["single_userspace_mbps"] = get(host, "userspace", "single")
out["nesting_ratio_userspace"] = ratio(out["nested_userspace_mbps"], out["single_userspace_mbps"])
out["nested_kernel_mbps"] = get(vm, "kernel", "nested")
out["single_kernel_mbps"] = get(vm, "kernel", "single")
out["nesting_ratio_kernel"] = ratio(out["nested_kernel_mbps"], out["single_kernel_mbps"])
out["vm_nested_userspace_mbps"] = get(vm, "userspace", "nested")
out["vm_single_userspace_mbps"] = get(vm, "userspace", "single")
out["vm_nesting_ratio_userspace"] = ratio(out["vm_nested_userspace_mbps"], out["vm_single_userspace_mbps"])
out["kernel_over_userspace"] = ratio(out["nested_kernel_mbps"], out["vm_nested_userspace_mbps"])
kv = vm.get("backends", {}).get("kernel") or {}
out["nested_kernel_awg_mbps"] = kv.get("nested_awg_mbps")
out["awg_over_plain_kernel"] = kv.get("awg_ratio_paired")
t = {}
if out["awg_over_plain_kernel"] is not None:
    t["awg_over_plain_kernel_at_least_0.95"] = out["awg_over_plain_kernel"] >= 0.95
for k in ("nesting_ratio_userspace", "nesting_ratio_kernel", "vm_nesting_ratio_userspace"):
    if out[k] is not None:
        t[k + "_at_least_0.75"] = out[k] >= 0.75
if out["kernel_over_userspace"] is not None:
    t["kernel_over_userspace_at_least_1.5"] = out["kernel_over_userspace"] >= 1.5
out["targets"] = t
out["runs"] = {"host": host.get("backends"), "vm": vm.get("backends")}
errors = [e for e in (host.get("error"), vm.get("error")) if e]
if errors:
    out["errors"] = errors
print(json.dumps(out))
EOF
	exit 0
fi

[ "$(id -u)" = 0 ] || die "needs root"
case " $BACKENDS " in *" userspace "*) command -v wireguard-go >/dev/null || die "wireguard-go missing" ;; esac
# In the VM, wireguard-go needs /dev/net/tun, which devtmpfs has only once tun is loaded.
modprobe tun 2>/dev/null
[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
netns_init dv
TMP=$NS_DIR
for h in client entry exit server; do
	netns_add $h
done
netns_veth client eth0 entry eth0
netns_veth entry eth1 exit eth0
netns_veth exit eth1 server eth0
netns_exec client ip addr add 192.0.2.1/24 dev eth0
netns_exec entry ip addr add 192.0.2.2/24 dev eth0
netns_exec entry ip addr add 198.51.100.1/24 dev eth1
netns_exec exit ip addr add 198.51.100.2/24 dev eth0
netns_exec exit ip addr add 198.51.100.3/24 dev eth0
netns_exec exit ip addr add 203.0.113.1/24 dev eth1
netns_exec server ip addr add 203.0.113.2/24 dev eth0
netns_exec server ip addr add 203.0.113.3/24 dev eth0
netns_exec entry sysctl -qw net.ipv4.ip_forward=1
netns_exec exit sysctl -qw net.ipv4.ip_forward=1
# --link-mbps: the client's uplink (its eth0, towards the entry) shaped to that rate.
if [ "$LINK" != 0 ]; then
	netns_exec client tc qdisc add dev eth0 root tbf rate "${LINK}mbit" burst 256kb latency 50ms ||
		die "tc tbf on the client's uplink"
fi
# The single tunnel's UDP crosses the entry by plain routing.
netns_exec client ip route add 198.51.100.0/24 via 192.0.2.2
netns_exec exit ip route add 192.0.2.0/24 via 198.51.100.1
# Gateways masquerade their tunnel clients (10.0.0.0/8) on the way out.
for h in entry exit; do
	netns_exec $h nft -f - <<'EOT' || die "nft in $h"
table ip dvpn_bench {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" ip saddr 10.0.0.0/8 masquerade
	}
}
EOT
done
netns_exec server iperf3 -s -D -I "$TMP/iperf.pid" >/dev/null || die "iperf3 server"

# wg_dev HOST IF BACKEND MTU ADDR/PREFIX PRIVATE PORT PEER_PUB ENDPOINT|- ALLOWED...
wg_dev() {
	host=$1 ifn=$2 backend=$3 mtu=$4 addr=$5 priv=$6 port=$7 peer=$8 ep=$9
	shift 9
	ips=$(printf '"%s",' "$@")
	epj=""
	[ "$ep" = - ] || epj="\"endpoint\": \"$ep\","
	cat >"$TMP/$ifn.json" <<EOT
{"private_key": "$priv", "listen_port": $port, "replace_peers": true,
 "peers": [{"public_key": "$peer", $epj "replace_allowed_ips": true, "allowed_ips": [${ips%,}]}]}
EOT
	netns_bg "$host" "$TMP/$ifn.run" "$NODE" debug wg-run "$ifn" --backend "$backend" --config "$TMP/$ifn.json"
	echo "$NS_LAST_PID" >>"$TMP/wgrun.pids"
	i=0
	while ! grep -q '^{"ifname"' "$TMP/$ifn.run" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$TMP/$ifn.run" >&2; die "$ifn did not come up"; }
		sleep 0.1
	done
	grep -q "\"backend\":\"$backend\"" "$TMP/$ifn.run" || die "$ifn: not $backend: $(cat "$TMP/$ifn.run")"
	netns_exec "$host" ip link set "$ifn" mtu "$mtu"
	netns_exec "$host" ip addr add "$addr" dev "$ifn"
	netns_exec "$host" ip link set "$ifn" up
}

# pin_wg IF CPU: the wireguard-go process serving IF (userspace backend) on one core.
pin_wg() {
	pid=$(pgrep -f "^wireguard-go.* $1\$" | head -n 1)
	[ -z "$pid" ] && pid=$(pgrep -f "wireguard-go.*$1" | head -n 1)
	[ -n "$pid" ] && taskset -a -p -c "$2" "$pid" >/dev/null 2>&1
}

# AmneziaWG on the entry hop of the nested path (kernel backend, nym_awg.ko): awg_on / awg_off.
KO="$(pwd)/${NYM_BUILD:-build}/kmod/nym_awg.ko"
AWGP=""
awg_on() {
	if [ -z "$AWGP" ]; then
		AWGP=$(netns_exec entry "$NODE" debug awg-set "$EO" --port 51822 --mode responder --preset random |
			sed 's/.*"params":"\([^"]*\)".*/\1/')
	else
		netns_exec entry "$NODE" debug awg-set "$EO" --port 51822 --mode responder --params "$AWGP" >/dev/null
	fi
	netns_exec client "$NODE" debug awg-set "$CO" --port 51820 --mode initiator --params "$AWGP" >/dev/null
}
awg_off() {
	netns_exec client "$NODE" debug awg-show "$CO" >"$TMP/awg.show" 2>&1
	netns_exec client "$NODE" debug awg-del "$CO"
	netns_exec entry "$NODE" debug awg-del "$EO"
}

# cpu_sample: "busy total" jiffies of the whole machine.
cpu_sample() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# wggo_ticks: CPU time (user + system, clock ticks) of the wireguard-go processes so far.
wggo_ticks() {
	t=0
	for p in $WGGO; do
		# comm is "wireguard-go" (no spaces): utime and stime are fields 14 and 15.
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo $t
}

# run DST: "Mbit/s machine_busy_pct wireguard_go_pct" of one iperf3 run from the client to
# DST. The machine's share includes whatever else runs on it; wireguard-go's is in % of
# one core, over the whole run (its 1 s warm-up included).
run() {
	s0=$(cpu_sample)
	w0=$(wggo_ticks)
	n0=$(date +%s%N)
	netns_exec client iperf3 -c "$1" -t "$SECS" -O 1 -P "$STREAMS" -J >"$TMP/iperf.json" 2>&1
	n1=$(date +%s%N)
	w1=$(wggo_ticks)
	s1=$(cpu_sample)
	"$PY" - "$TMP/iperf.json" "$s0" "$s1" "$((w1 - w0))" "$((n1 - n0))" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
try:
    mbps = json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6
except Exception:
    mbps = 0.0
b0, t0 = map(int, sys.argv[2].split())
b1, t1 = map(int, sys.argv[3].split())
wg = 100.0 * int(sys.argv[4]) / int(sys.argv[6]) / (int(sys.argv[5]) / 1e9)
print("%.1f %.1f %.1f" % (mbps, 100.0 * (b1 - b0) / max(1, t1 - t0), wg))
EOF
}

: >"$TMP/results"
: >"$TMP/frags"
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
for backend in $BACKENDS; do
	say "$backend backend: devices"
	AWG=0
	if [ "$backend" = kernel ] && [ -r "$KO" ]; then
		{ [ -d /sys/module/nym_awg ] || insmod "$KO" 2>/dev/null; } && AWG=1
	fi
	: >"$TMP/wgrun.pids"
	b=$(echo "$backend" | cut -c1)
	# wireguard-go's sockets share /var/run/wireguard across namespaces: names unique to the run.
	tag="d$$$b"
	tag=$(echo "$tag" | cut -c1-12)
	CO=${tag}co CI=${tag}ci CS=${tag}cs EO=${tag}eo XI=${tag}xi XS=${tag}xs
	for k in co ci cs eo xi xs; do
		eval "K_$k=\$(wg genkey)"
		eval "P_$k=\$(echo \"\$K_$k\" | wg pubkey)"
	done
	# shellcheck disable=SC2154 # K_* and P_* set by the eval above
	{
		wg_dev entry "$EO" "$backend" 1420 10.1.0.1/24 "$K_eo" 51822 "$P_co" - 10.1.0.2/32
		wg_dev client "$CO" "$backend" 1420 10.1.0.2/24 "$K_co" 51820 "$P_eo" 192.0.2.2:51822 198.51.100.2/32 10.1.0.1/32
		wg_dev exit "$XI" "$backend" 1420 10.2.0.1/24 "$K_xi" 51822 "$P_ci" - 10.2.0.2/32
		wg_dev client "$CI" "$backend" 1340 10.2.0.2/24 "$K_ci" 51821 "$P_xi" 198.51.100.2:51822 0.0.0.0/0
		wg_dev exit "$XS" "$backend" 1420 10.3.0.1/24 "$K_xs" 51823 "$P_cs" - 10.3.0.2/32
		wg_dev client "$CS" "$backend" 1420 10.3.0.2/24 "$K_cs" 51824 "$P_xs" 198.51.100.3:51823 0.0.0.0/0
	}
	# The inner tunnel's UDP to the exit goes into the outer tunnel; the server's two
	# addresses select the case.
	netns_exec client ip route add 198.51.100.2/32 dev "$CO"
	netns_exec client ip route add 203.0.113.2/32 dev "$CI"
	netns_exec client ip route add 203.0.113.3/32 dev "$CS"
	if [ $PIN -eq 1 ] && [ "$backend" = userspace ]; then
		pin_wg "$CI" 0
		pin_wg "$CO" 1
		pin_wg "$EO" 0
		pin_wg "$XI" 1
		pin_wg "$CS" 0
		pin_wg "$XS" 1
	fi
	WGGO=""
	while read -r pid; do
		WGGO="$WGGO $(pgrep -P "$pid" -x wireguard-go)"
	done <"$TMP/wgrun.pids"
	netns_exec client ping -q -c 2 -i 0.2 -W 3 203.0.113.2 >/dev/null ||
		die "$backend: no ping through the nested tunnels"
	netns_exec client ping -q -c 2 -i 0.2 -W 3 203.0.113.3 >/dev/null ||
		die "$backend: no ping through the single tunnel"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		order="nested single"
		[ $((r % 2)) -eq 0 ] && order="single nested"
		if [ $AWG -eq 1 ]; then
			order="nested nested_awg single"
			[ $((r % 2)) -eq 0 ] && order="single nested_awg nested"
		fi
		for c in $order; do
			dst=203.0.113.2
			[ "$c" = single ] && dst=203.0.113.3
			[ "$c" = nested_awg ] && awg_on
			res=$(run $dst)
			if [ "$c" = nested_awg ]; then
				awg_off
				say "AmneziaWG on the entry hop ($AWGP): client $(grep -o '"tx_encoded":[0-9]*' "$TMP/awg.show")"
			fi
			# shellcheck disable=SC2086 # three numbers
			set -- $res
			if [ "$backend" = userspace ]; then
				say "$backend $c round $r: $1 Mbit/s; machine CPU $2% busy, wireguard-go $3% of a core"
			else
				say "$backend $c round $r: $1 Mbit/s; machine CPU $2% busy"
			fi
			echo "$backend $c $res" >>"$TMP/results"
		done
		r=$((r + 1))
	done
	# Fragments would mean a tunnel's packets do not fit the MTU of the device under it.
	frags=0
	for h in client entry exit server; do
		# shellcheck disable=SC2016 # an awk program
		f=$(netns_exec $h awk '/^Ip:/ { if (!hd) { for (i = 1; i <= NF; i++) n[$i] = i; hd = 1 }
			else print $n["FragCreates"] + $n["ReasmReqds"] }' /proc/net/snmp)
		frags=$((frags + f))
	done
	echo "$backend $frags" >>"$TMP/frags"
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$TMP/wgrun.pids"
	while read -r pid; do
		wait "$pid" 2>/dev/null
	done <"$TMP/wgrun.pids"
done

"$PY" - "$TMP/results" "$RAW" "$SECS" "$ROUNDS" "$STREAMS" "$PIN" "$(uname -r)" "$(nproc)" "$LINK" "${GOMAXPROCS:-}" "$LOAD0" <<'EOF'
import json, statistics, sys
raw = sys.argv[2] == "1"
res = {}
for line in open(sys.argv[1]):
    b, c, mbps, cpu, wg = line.split()
    res.setdefault(b, {}).setdefault(c, []).append((float(mbps), float(cpu), float(wg)))
out = {"test": "dvpn_throughput", "seconds": int(sys.argv[3]), "rounds": int(sys.argv[4]),
       "streams": int(sys.argv[5]), "pinned": sys.argv[6] == "1", "kernel": sys.argv[7],
       "cores": int(sys.argv[8]), "loadavg_at_start": float(sys.argv[11])}
if sys.argv[9] != "0":
    out["link_mbps"] = float(sys.argv[9])
if sys.argv[10]:
    out["gomaxprocs"] = int(sys.argv[10])
backends = {}
for b, cases in res.items():
    d = {}
    for c, runs in cases.items():
        d[c + "_mbps"] = round(statistics.median(r[0] for r in runs), 1)
        d[c + "_runs_mbps"] = [r[0] for r in runs]
        d[c + "_machine_cpu_busy_pct"] = round(statistics.median(r[1] for r in runs), 1)
        if b == "userspace":
            d[c + "_wireguard_go_cpu_pct"] = round(statistics.median(r[2] for r in runs), 1)
    if d.get("nested_awg_mbps") and d.get("nested_mbps"):
        d["awg_ratio"] = round(d["nested_awg_mbps"] / d["nested_mbps"], 3)
        pairs = [a / n for a, n in zip(d["nested_awg_runs_mbps"], d["nested_runs_mbps"]) if n]
        if pairs:
            d["awg_ratio_paired"] = round(statistics.median(pairs), 3)
    if d.get("nested_mbps") and d.get("single_mbps"):
        d["nesting_ratio"] = round(d["nested_mbps"] / d["single_mbps"], 3)
        # The two runs of a round are back to back: a burst of load from elsewhere hits both.
        pairs = [n / x for n, x in zip(d["nested_runs_mbps"], d["single_runs_mbps"]) if x]
        if pairs:
            d["nesting_ratio_paired"] = round(statistics.median(pairs), 3)
    backends[b] = d
for line in open(sys.argv[1].replace("results", "frags")):
    b, n = line.split()
    backends[b]["ip_fragments"] = int(n)
out["backends"] = backends
if not raw:
    t = {}
    for b, d in backends.items():
        out["nested_%s_mbps" % b] = d.get("nested_mbps")
        out["single_%s_mbps" % b] = d.get("single_mbps")
        out["nesting_ratio_%s" % b] = d.get("nesting_ratio")
        if d.get("nesting_ratio") is not None:
            t["nesting_ratio_%s_at_least_0.75" % b] = d["nesting_ratio"] >= 0.75
    k, u = backends.get("kernel", {}), backends.get("userspace", {})
    if k.get("nested_mbps") and u.get("nested_mbps"):
        out["kernel_over_userspace"] = round(k["nested_mbps"] / u["nested_mbps"], 3)
        t["kernel_over_userspace_at_least_1.5"] = out["kernel_over_userspace"] >= 1.5
    out["targets"] = t
print(json.dumps(out))
EOF
