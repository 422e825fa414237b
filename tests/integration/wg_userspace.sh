#!/bin/sh
# lib/wg's userspace backend (this machine's kernel has no WireGuard): two namespaces joined
# by a veth pair, a wireguard-go device in each made and configured by `nym-node debug
# wg-run` (backend auto, which must pick userspace here). The devices hold exactly what was
# written and agree with `wg show`; they handshake and carry ping over IPv4 and IPv6; the
# status then shows the handshake and the traffic; a reconfiguration (wg-set) replaces the
# allowed IPs; stopping wg-run removes the device and its socket; a wireguard-go that dies
# is noticed.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/netns.sh
. tests/lib/wg.sh

NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
[ -x "$NODE" ] || die "build nym-node first"
command -v wireguard-go >/dev/null || die "wireguard-go missing"
command -v wg >/dev/null || die "wireguard-tools missing"
netns_init wgu
TMP=$NS_DIR
netns_add a
netns_add b
netns_veth a eth0 b eth0
netns_exec a ip addr add 192.0.2.1/24 dev eth0
netns_exec b ip addr add 192.0.2.2/24 dev eth0
# wireguard-go's sockets share /var/run/wireguard across namespaces: names unique to the run.
IFA="wgua$$"
IFB="wgub$$"
IFA=$(echo "$IFA" | cut -c1-15)
IFB=$(echo "$IFB" | cut -c1-15)

KA=$(wg genkey)
KB=$(wg genkey)
PA=$(echo "$KA" | wg pubkey)
PB=$(echo "$KB" | wg pubkey)
wg_conf "$TMP/a.json" "$KA" 51820 333 "$PB" 192.0.2.2:51821 10.200.0.2/32 fd20::2/128 10.201.0.0/16
wg_conf "$TMP/b.json" "$KB" 51821 0 "$PA" 192.0.2.1:51820 10.200.0.1/32 fd20::1/128

wg_up a "$IFA" auto "$TMP/a.json"
PID_A=$WG_PID
grep -q '"backend":"userspace"' "$TMP/$IFA.run" && pass "auto picks userspace on this kernel" ||
	fail "auto: $(cat "$TMP/$IFA.run")"
grep -q "created with the userspace backend (auto: no WireGuard in this kernel)" "$TMP/$IFA.run" &&
	pass "the choice is logged" || fail "no log line naming the backend: $(cat "$TMP/$IFA.run")"
wg_up b "$IFB" userspace "$TMP/b.json"
PID_B=$WG_PID
[ -S "/var/run/wireguard/$IFA.sock" ] && pass "wireguard-go's socket is there" || fail "no /var/run/wireguard/$IFA.sock"

wg_verify a "$IFA" "$TMP/a.json" "configured"
wg_verify b "$IFB" "$TMP/b.json" "configured"

netns_exec a ip addr add 10.200.0.1/24 dev "$IFA"
netns_exec a ip addr add fd20::1/64 dev "$IFA" nodad
netns_exec a ip link set "$IFA" up
netns_exec b ip addr add 10.200.0.2/24 dev "$IFB"
netns_exec b ip addr add fd20::2/64 dev "$IFB" nodad
netns_exec b ip link set "$IFB" up

check "ping through the tunnel (IPv4)" netns_exec a ping -q -c 3 -i 0.2 -W 2 10.200.0.2
check "ping through the tunnel (IPv6)" netns_exec b ping -q -c 3 -i 0.2 -W 2 fd20::1

for h in a b; do
	ifn=$IFA
	[ $h = b ] && ifn=$IFB
	netns_exec $h "$NODE" debug wg-show "$ifn" --secrets >"$TMP/$ifn.show" 2>&1
	if out=$("$PY" tests/lib/wg_check.py traffic "$TMP/$ifn.show" 2>&1); then
		pass "$ifn: handshake time and rx/tx set ($(grep -o '"rx_bytes":[0-9]*' "$TMP/$ifn.show"))"
	else
		fail "$ifn: $out"
	fi
done
wg_verify a "$IFA" "$TMP/a.json" "after traffic"

# A second configuration: a keepalive, a preshared key, a new list of allowed IPs.
PSK=$(wg genpsk)
cat >"$TMP/a2.json" <<EOT
{"peers": [{"public_key": "$PB", "preshared_key": "$PSK", "persistent_keepalive": 7,
            "endpoint": "192.0.2.2:51821", "replace_allowed_ips": true,
            "allowed_ips": ["10.200.0.2/32", "fd20::2/128", "198.18.0.0/15"]}]}
EOT
check "wg-set applies a new configuration" netns_exec a "$NODE" debug wg-set "$IFA" --config "$TMP/a2.json"
"$PY" - "$TMP/a.json" "$TMP/a2.json" >"$TMP/a3.json" <<'EOT'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
a["peers"] = b["peers"]
print(json.dumps(a))
EOT
wg_verify a "$IFA" "$TMP/a3.json" "after wg-set"

# A bad configuration is refused by the daemon and reported.
cat >"$TMP/bad.json" <<EOT
{"peers": [{"public_key": "$PB", "allowed_ips": ["-10.200.0.2/32"]}]}
EOT
refuses "an entry removal wireguard-go does not know is refused" "cannot configure" \
	netns_exec a "$NODE" debug wg-set "$IFA" --config "$TMP/bad.json"

# Stopping wg-run removes the device and its socket.
kill "$PID_A"
wait "$PID_A" 2>/dev/null
sleep 0.3
netns_exec a ip link show "$IFA" >/dev/null 2>&1 && fail "$IFA still there" || pass "wg-run stopped: $IFA removed"
[ -e "/var/run/wireguard/$IFA.sock" ] && fail "socket left behind" || pass "its socket removed"

# wireguard-go dies: wg-run notices, says so and exits 1.
child=$(pgrep -P "$PID_B" -x wireguard-go 2>/dev/null || netns_exec b pgrep -x wireguard-go)
[ -n "$child" ] && kill -9 $child
i=0
while kill -0 "$PID_B" 2>/dev/null && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
wait "$PID_B"
rc=$?
[ $rc -eq 1 ] && grep -q "wireguard-go ended" "$TMP/$IFB.run" && pass "a dead wireguard-go is noticed (exit 1)" ||
	fail "after killing wireguard-go: exit $rc, $(tail -n 2 "$TMP/$IFB.run")"
[ -e "/var/run/wireguard/$IFB.sock" ] && fail "socket of the dead daemon left behind" || pass "the dead daemon's socket removed"
finish
