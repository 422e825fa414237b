#!/bin/sh
# make demo: the sandbox network of DESIGN.md, on this machine, in network namespaces this
# run creates and removes. One directory authority, three mixnodes, an entry and an exit
# gateway on 198.51.100.0/24, an "internet" host on 203.0.113.0/24 behind the exit gateway,
# and a client. It shows, with the real programs: nodes registering and the signed topology
# of each epoch; the exit gateway's networking and exit policy applied by nym-ntm; anonymous
# bandwidth tickets obtained and spent (and a double spend refused); Sphinx packets crossing
# the three mix layers to the exit gateway. Nothing leaves the machine.
set -eu
cd "$(dirname "$0")/.."
. tests/lib/netns.sh
B=${NYM_BUILD:-build}
NODE="$(pwd)/$B/bin/nym-node"
NTM="$(pwd)/$B/bin/nym-ntm"
netns_init demo
T=$NS_DIR

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Shows a command run in a host and its output (temporary paths as $DEMO), and keeps its exit
# status.
in_host() {
	host=$1
	shift
	printf '[%s] $ %s\n' "$host" "$*" | sed "s|$(pwd)/||g; s|$T|\$DEMO|g"
	rc=0
	netns_exec "$host" "$@" >"$T/out" 2>&1 || rc=$?
	sed "s|$T|\$DEMO|g" "$T/out"
	return $rc
}

say "1. The sandbox: eight hosts in network namespaces (prefix ${NS_P})"
netns_host auth 198.51.100.2/24
netns_host mix1 198.51.100.11/24
netns_host mix2 198.51.100.12/24
netns_host mix3 198.51.100.13/24
netns_host entry 198.51.100.21/24
netns_host exit 198.51.100.22/24
netns_host client 198.51.100.30/24
netns_bridge inet0
netns_attach exit inet0 up0 203.0.113.1/24
netns_host_on inet0 internet 203.0.113.10/24
ip -n "${NS_P}exit" route add default via 203.0.113.10
echo "authority 198.51.100.2, mixnodes .11 .12 .13, entry gateway .21, exit gateway .22 (uplink 203.0.113.1),"
echo "internet host 203.0.113.10, client 198.51.100.30"

# Short epochs so the demo sees the topology come together; real networks use 1 h.
GENESIS=$(($(date +%s) - 1))
short() {
	sed -i -e "s/^  epoch_duration: .*/  epoch_duration: 4s/" -e "s/^  epochs_per_rotation: .*/  epochs_per_rotation: 15/" \
		-e "s/^  genesis: .*/  genesis: $GENESIS/" -e "s/expected_packets_per_second: .*/expected_packets_per_second: 100/" \
		-e "s/probe_interval: .*/probe_interval: 1s/" -e "s/probe_timeout: .*/probe_timeout: 1s/" \
		-e "s/reachable_window: .*/reachable_window: 4s/" -e "s/issuer_key_bits: .*/issuer_key_bits: 2048/" \
		"$1/config/config.yaml"
}
"$NODE" init --id auth --mode authority --public-ip 198.51.100.2 --data-dir "$T/auth" >/dev/null
short "$T/auth"
for i in 1 2 3; do
	"$NODE" init --id "mix$i" --mode mixnode --public-ip "198.51.100.1$i" --location DE --data-dir "$T/mix$i" >/dev/null
	short "$T/mix$i"
done
"$NODE" init --id entry --mode entry-gateway --public-ip 198.51.100.21 --location NL --data-dir "$T/entry" >/dev/null
"$NODE" init --id exit --mode exit-gateway --public-ip 198.51.100.22 --location CH --data-dir "$T/exit" >/dev/null
short "$T/entry"
short "$T/exit"
AUTH_URL=http://198.51.100.2:8080
AUTH_KEY=$(cat "$T/auth/data/ed25519_identity.pub")
DIR="--authority $AUTH_URL --authority-key $AUTH_KEY"

say "2. The operator admits the five nodes to the directory (authority.admission: allowlist)"
for n in mix1 mix2 mix3 entry exit; do
	in_host auth "$NODE" authority admit --data-dir "$T/auth" "$(cat "$T/$n/data/ed25519_identity.pub")"
done

say "3. The authority and five nodes start; the nodes announce themselves"
netns_bg auth "$T/auth.log" "$NODE" run --data-dir "$T/auth"
netns_wait_port client 198.51.100.2:8080 20
for n in mix1 mix2 mix3 entry exit; do
	# shellcheck disable=SC2086
	netns_bg "$n" "$T/$n.log" "$NODE" run --data-dir "$T/$n" --workers 1 $DIR
done
echo "waiting for an epoch whose signed topology lists every node..."
for i in $(seq 1 60); do
	# shellcheck disable=SC2086
	if netns_exec client "$NODE" debug topology-fetch $DIR --json >"$T/topo.json" 2>/dev/null &&
		/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=sum(len(l) for l in d["layers"]); sys.exit(0 if n==3 and len(d["gateways"])==2 else 1)' "$T/topo.json" 2>/dev/null; then
		break
	fi
	sleep 1
done
# shellcheck disable=SC2086
in_host client "$NODE" debug topology-fetch $DIR

say "4. The exit gateway's networking: forwarding, NAT and Nym's exit policy, one nftables transaction"
in_host exit "$NTM" apply --mode exit-gateway --policy packaging/exit-policy.txt --uplink-v4 up0 --uplink-v6 none
in_host exit "$NTM" check 203.0.113.10 443 tcp || true
in_host exit "$NTM" check 203.0.113.10 25 tcp || true
in_host exit "$NTM" check 10.0.0.5 443 tcp || true

say "5. Anonymous bandwidth: a voucher, a blind-signed ticketbook, a ticket spent, a double spend refused"
CODE=$("$NODE" authority voucher create --data-dir "$T/auth" --books 1 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0])')
echo "voucher: $CODE"
in_host client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$CODE" --type wg-exit --count 10 --out "$T/book.json"
in_host exit "$NODE" debug ticket-spend --data-dir "$T/exit" --book "$T/book.json" --index 0 $DIR
printf '(again) '
in_host exit "$NODE" debug ticket-spend --data-dir "$T/exit" --book "$T/book.json" --index 0 $DIR || echo "refused, as it must be"

say "6. Sphinx packets through the three mix layers to the exit gateway"
# shellcheck disable=SC2086
in_host client "$NODE" debug mix-send $DIR --count 200 --rate 200 --mean-delay-ms 20
sleep 2
printf '%-8s %10s %10s %10s\n' node forwarded final-hop replays
: >"$T/counts"
for n in mix1 mix2 mix3 entry exit; do
	ip=$(sed -n 's/^  public_ips: \["\(.*\)"\]/\1/p' "$T/$n/config/config.yaml")
	netns_exec client "$PY" -c '
import sys
sys.path.insert(0, "tests/lib")
from nymtest import http_json
s = http_json("http://%s:8080/api/v1/metrics/packets-stats" % sys.argv[2])["ingress_mixing"]
print("%-8s %10d %10d %10d" % (sys.argv[1], s["forward_hop_packets_received"], s["final_hop_packets_received"], s["replayed_packets"]))' "$n" "$ip" | tee -a "$T/counts"
done
finals=$(awk '$1 == "exit" { print $3 }' "$T/counts")
if [ "$finals" != 200 ]; then
	echo "the exit gateway saw $finals of 200 packets: something is wrong (logs in the node output above)"
	exit 1
fi
echo
echo "All 200 packets crossed the three mix layers, each held for its random delay, and reached the"
echo "exit gateway as final hops (delivery onward through the IP packet router is later work)."
say "Done: every process and namespace of this run is being removed"
