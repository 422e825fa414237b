#!/bin/sh
# nym-vpnd two-hop with AmneziaWG on the entry hop, userspace backend (the relay
# lib/wg/wg_awg_relay between wireguard-go and the entry), against the sandbox's plain
# WireGuard gateways (none announces AWG parameters):
#   - `tunnel set --amnezia random` with no entry announcing "amnezia": connect fails with a
#     reason naming the missing announcement and the way out (`--amnezia base`);
#   - `--amnezia base` (NymVPN's junk-only preset): connects two-hop and carries ping and a
#     download; `status` (text and --json) shows the preset, the parameters and "relay"; the
#     client's eth0 capture, checked by tests/lib/awg_check.py (its own parser), shows 4 junk
#     datagrams of 40..69 bytes before every initiation to the entry's WireGuard port, and
#     nothing leaves but what the plain two-hop test allows (the relay's marked socket goes
#     through the kill switch); disconnect puts everything back.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
vpnd_sandbox --wireguard

vpnd_start
codes=$($S voucher --dir "$SANDBOX_DIR" 2) || die "no vouchers from the authority"
A=$(echo "$codes" | sed -n 1p)
B=$(echo "$codes" | sed -n 2p)
vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$A" --voucher "$B" \
	--type wg-entry --type wg-exit >"$WORK/obtain.out" 2>&1 || die "credentials obtain: $(cat "$WORK/obtain.out")"
check "gateway set --entry-id --exit-id" vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID"
refuses "tunnel set --amnezia strong is refused" "off, base or random" vpnc tunnel set --amnezia strong
check "tunnel set --two-hop on --amnezia random" vpnc tunnel set --two-hop on --amnezia random
vpnc tunnel get >"$WORK/tunnel.txt" 2>&1
expect "tunnel get shows amnezia random" "amnezia (two-hop entry):*random" grep amnezia "$WORK/tunnel.txt"

echo "# --amnezia random, no gateway announcing AmneziaWG"
on client timeout 60 "$VPNC" --socket "$VPND_SOCKET" connect --wait >"$WORK/random.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/random.out"
check "connect --wait fails (exit $st)" [ $st -ne 0 ]
vpnd_status "$WORK/random.json"
expect "status: error" error jget "$WORK/random.json" state
expect "the reason names the missing announcement and --amnezia base" \
	"*announces AmneziaWG parameters*--amnezia base*" jget "$WORK/random.json" message
vpnc disconnect --wait >/dev/null 2>&1

echo "# --amnezia base against the plain gateways"
check "tunnel set --amnezia base" vpnc tunnel set --amnezia base
vpn_snapshot "$WORK/before.snap"
vpn_capture_start client
t0=$(date +%s)
on client timeout 120 "$VPNC" --socket "$VPND_SOCKET" connect --wait >"$WORK/connect.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/connect.out"
check "connect --wait exits 0 ($(($(date +%s) - t0)) s)" [ $st -eq 0 ]
[ $st -eq 0 ] || { tail -n 40 "$VPND_LOG"; die "not connected: nothing more to test"; }
vpnd_status "$WORK/status.json"
sed 's/^/    /' "$WORK/status.json"
expect "status --json: mode wireguard" wireguard jget "$WORK/status.json" mode
expect "status --json: amnezia preset base" base jget "$WORK/status.json" connection.wireguard.amnezia.preset
expect "status --json: applied by the relay" relay jget "$WORK/status.json" connection.wireguard.amnezia.applied
expect "status --json: the parameters" "jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4" \
	jget "$WORK/status.json" connection.wireguard.amnezia.params
vpnc status >"$WORK/status.txt" 2>&1
expect "status (text) shows AmneziaWG" "*AmneziaWG*base (relay): jc=4,jmin=40,jmax=70*" grep AmneziaWG "$WORK/status.txt"
expect "ping -c 3 the internet host through both tunnels" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -c 3 -W 10 '$INTERNET_IP' | grep transmitted"
FILE=a$$.bin
head -c 1048576 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
t0=$(date +%s.%N)
expect "curl -4: 1 MiB with the file's SHA-256" "$WANT" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client curl -4 -sS -m 90 'http://$INTERNET_IP/$FILE' | sha256sum | cut -d' ' -f1"
echo "    (1 MiB in $(echo "$(date +%s.%N) - $t0" | bc) s)"
vpnc disconnect --wait >"$WORK/disconnect.out" 2>&1
check "disconnect --wait exits 0" [ $? -eq 0 ]
vpn_capture_stop
out=$("$PY" tests/lib/awg_check.py "$WORK/client.pcap" --port 51822 \
	--params 'jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4' 2>&1)
[ $? -eq 0 ] && pass "the entry hop on the wire: 4 junk datagrams of 40..69 B before every initiation ($out)" ||
	fail "the entry hop on the wire: $out"
"$PY" tests/lib/leak_check.py "$WORK/client.pcap" --mac "$CLIENT_MAC" --label client \
	--allow "udp:$ENTRY_IP:51822" --allow "tcp:$ENTRY_IP:9000" --allow "tcp:$AUTH_IP:8080" >"$WORK/client.leaks" 2>&1
st=$?
sed 's/^/    /' "$WORK/client.leaks"
check "the client's interface: only UDP to entry:51822, the link to entry:9000, the authority" [ $st -eq 0 ]
vpn_snapshot "$WORK/after.snap"
if diff -u "$WORK/before.snap" "$WORK/after.snap" >"$WORK/snap.diff"; then
	pass "after disconnect: the client's network configuration exactly as before"
else
	sed 's/^/    /' "$WORK/snap.diff"
	fail "after disconnect the client's network configuration differs from before"
fi
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
finish
