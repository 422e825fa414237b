#!/bin/sh
# make demo: the sandbox network of DESIGN.md, on this machine, in network namespaces this
# run creates and removes (scripts/sandbox.sh). One directory authority, three mixnodes, an
# entry and an exit gateway on 198.51.100.0/24, an "internet" host on 203.0.113.0/24 behind the
# exit gateway, a client and its provider's router. It shows, with the real programs: nodes
# registering and the signed topology of each epoch; the exit gateway's networking and exit
# policy applied by nym-ntm; anonymous bandwidth tickets obtained and spent (and a double
# spend refused); Sphinx packets crossing the three mix layers to the exit gateway; and a
# client's IP traffic (ping, DNS, an HTTP download) over all five hops through the exit's IP
# packet router with `nym-node probe`; and the client host's whole networking through the
# mixnet with the client daemon, nym-vpnd, driven by nym-vpnc: credentials from a voucher,
# connect, a download by name with curl and a name lookup with the system's own tools, the
# status, disconnect. Nothing leaves the machine.
set -eu
cd "$(dirname "$0")/.."
. tests/lib/netns.sh
B=${NYM_BUILD:-build}
NODE="$(pwd)/$B/bin/nym-node"
NTM="$(pwd)/$B/bin/nym-ntm"

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

say "1-2. The sandbox: ten hosts in network namespaces; the authority and five nodes start and announce themselves"
echo "\$ scripts/sandbox.sh up --prefix demo$$"
env=$(scripts/sandbox.sh up --prefix "demo$$")
eval "$env"
# shellcheck disable=SC2154 # set by the trap itself
trap 'status=$?; scripts/sandbox.sh down --dir "$SANDBOX_DIR"; exit $status' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
netns_load "$SANDBOX_DIR"
T=$SANDBOX_DIR
DIR="--authority $AUTH_URL --authority-key $AUTH_KEY"
# shellcheck disable=SC2086
in_host client "$NODE" debug topology-fetch $DIR

say "3. The exit gateway's networking: forwarding, NAT and Nym's exit policy, one nftables transaction"
echo "[exit] \$ nym-ntm apply --mode exit-gateway --policy packaging/exit-policy.txt --uplink-v4 up0 --uplink-v6 up0   (run by sandbox.sh up)"
sed "s|$(pwd)/||g" "$T/logs/ntm-apply.log"
in_host exit "$NTM" check 203.0.113.10 443 tcp || true
in_host exit "$NTM" check 203.0.113.10 25 tcp || true
in_host exit "$NTM" check 10.0.0.5 443 tcp || true

say "4. Anonymous bandwidth: a voucher, a blind-signed ticketbook, a ticket spent, a double spend refused"
CODE=$("$NODE" authority voucher create --data-dir "$T/auth" --books 1 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0])')
echo "voucher: $CODE"
in_host client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$CODE" --type wg-exit --count 10 --out "$T/book.json"
in_host exit "$NODE" debug ticket-spend --data-dir "$T/exit" --book "$T/book.json" --index 0 $DIR
printf '(again) '
in_host exit "$NODE" debug ticket-spend --data-dir "$T/exit" --book "$T/book.json" --index 0 $DIR || echo "refused, as it must be"

say "5. Sphinx packets through the three mix layers to the exit gateway"
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
echo "exit gateway as final hops."

say "6. IP over the mixnet: ping, DNS and an HTTP download through all five hops (nym-node probe)"
head -c 262144 /dev/urandom >"$WWW_DIR/demo.bin"
echo "$INTERNET_IP shop.test" >>"$DNS_HOSTS"
sleep 1
CODE=$("$NODE" authority voucher create --data-dir "$T/auth" --books 1 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0])')
in_host client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$CODE" --type mixnet-entry --count 5 --out "$T/mixnet-book.json"
# shellcheck disable=SC2086
in_host client "$NODE" probe $DIR --ticketbook "$T/mixnet-book.json" --ping "$INTERNET_IP" \
	--dns-server "$INTERNET_IP" --dns-name shop.test --http-url http://shop.test/demo.bin --json || {
	echo "the probe failed: its output is above"
	exit 1
}
/usr/bin/python3 - "$T/out" "$WWW_DIR/demo.bin" <<'PY'
import hashlib, json, sys
r = json.loads([l for l in open(sys.argv[1]).read().splitlines() if l.startswith("{")][-1])
want = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
print("client address in the tunnel: %s / %s" % (r["ipv4"], r["ipv6"]))
print("ping: %d of %d answered, RTTs %s ms" % (r["ping"]["received"], r["ping"]["sent"],
      " ".join("%.1f" % x for x in r["ping"]["rtt_ms"])))
print("dns: shop.test -> %s" % ", ".join(r["dns"]["answers"]))
print("http: status %d, %d bytes in %.2f s, SHA-256 %s" % (r["http"]["status"], r["http"]["bytes"],
      r["http"]["seconds"], "matches the file" if r["http"]["sha256"] == want else "DOES NOT MATCH"))
sys.exit(0 if r["http"]["sha256"] == want else 1)
PY
echo "What the internet host's web server logged for that download (the client is $CLIENT_IP):"
grep demo.bin "$T/logs/http.log" | tail -1

say "7. nym-vpnd and nym-vpnc: the whole machine through the mixnet"
# nym-vpnc on the client host, shown as typed (the sandbox's socket path left out), its output
# as it comes (connect --wait prints each step when it happens).
vpnc() {
	echo "[client] \$ nym-vpnc $*"
	{
		rc=0
		netns_exec client "$VPNC" --socket "$VPND_SOCKET" "$@" 2>&1 || rc=$?
		echo $rc >"$T/vpnc.rc"
	} | sed "s|$T|\$DEMO|g"
	return "$(cat "$T/vpnc.rc")"
}
if [ ! -x "$VPND" ] || [ ! -x "$VPNC" ]; then
	echo "(nym-vpnd or nym-vpnc is not built: skipped)"
else
	echo "The client host runs the client daemon, as root, with the sandbox's configuration:"
	echo "[client] \$ nym-vpnd --config \$DEMO/vpnd/nym-vpnd.yaml &"
	grep -v '^#' "$VPND_CONFIG" | sed "s|$T|\$DEMO|g; s/^/    /"
	# Not through a function: $! must be the daemon itself.
	ip netns exec "${NS_P}client" "$VPND" --config "$VPND_CONFIG" >"$T/logs/vpnd.log" 2>&1 &
	VPND_PID=$!
	i=0
	until netns_exec client "$VPNC" --socket "$VPND_SOCKET" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] && kill -0 "$VPND_PID" 2>/dev/null || { tail -n 20 "$T/logs/vpnd.log"; exit 1; }
		sleep 0.2
	done
	CODE=$("$NODE" authority voucher create --data-dir "$T/auth" --books 1 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0])')
	vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$CODE"
	vpnc credentials list
	# The sandbox has one entry and one exit gateway (random choice could take either as entry).
	vpnc gateway set --entry-id "$(cat "$T/entry/data/ed25519_identity.pub")" \
		--exit-id "$(cat "$T/exit/data/ed25519_identity.pub")" >/dev/null
	vpnc connect --wait || { echo "not connected: the daemon's log follows"; tail -n 30 "$T/logs/vpnd.log"; exit 1; }
	vpnc status
	echo
	echo "Now any program on the client host goes through the mixnet, knowing nothing of it:"
	in_host client getent hosts shop.test
	t0=$(date +%s.%N)
	in_host client curl -sS -o "$T/vpn-demo.bin" http://shop.test/demo.bin
	if [ "$(sha256sum <"$T/vpn-demo.bin")" = "$(sha256sum <"$WWW_DIR/demo.bin")" ]; then
		printf '%d bytes in %.1f s, SHA-256 %s...: matches the file on the internet host\n' \
			"$(stat -c %s "$T/vpn-demo.bin")" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$(sha256sum <"$T/vpn-demo.bin" | cut -c1-16)"
	else
		echo "the download DOES NOT MATCH the file"
		exit 1
	fi
	echo "The web server saw the exit gateway ($EXIT_UPLINK_IP), not the client ($CLIENT_IP):"
	grep "GET /demo.bin" "$T/logs/http.log" | tail -1
	in_host client grep nameserver /etc/resolv.conf
	vpnc disconnect --wait
	echo "Disconnected: the client's resolv.conf is back as it was (its rules, routes and firewall too):"
	in_host client grep nameserver /etc/resolv.conf
	kill -TERM "$VPND_PID"
	wait "$VPND_PID" || true
fi
say "Done: every process and namespace of this run is being removed"
