#!/bin/sh
# Runs inside the VM of tests/vm/boot.sh (Debian's kernel, which has wireguard.ko): lib/wg's
# kernel backend. `nym-node debug wg-run --backend auto` picks the kernel, creates the link
# over rtnetlink and writes keys, port, fwmark, a peer with a preshared key, endpoint,
# keepalive and allowed IPs over generic netlink; wg-show reads back exactly that and agrees
# with `wg show IF dump`. A configuration too large for one netlink message (a peer with
# 2000 allowed IPs among 150 peers) is split on the way in and merged on the way out. Then
# interop: the kernel device and a wireguard-go device (userspace backend) in two namespaces
# handshake and carry ping over IPv4 and IPv6. Stopping wg-run deletes the kernel link.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/netns.sh
. tests/lib/wg.sh

NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
[ -x "$NODE" ] || die "build nym-node first"
# wireguard-go needs /dev/net/tun, which the VM's devtmpfs has only once tun is loaded.
modprobe tun 2>/dev/null
[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
netns_init wgk
T0=$(date +%s)
TMP=$NS_DIR
netns_add a
netns_add b
netns_veth a eth0 b eth0
netns_exec a ip addr add 192.0.2.1/24 dev eth0
netns_exec b ip addr add 192.0.2.2/24 dev eth0

KA=$(wg genkey)
KB=$(wg genkey)
PA=$(echo "$KA" | wg pubkey)
PB=$(echo "$KB" | wg pubkey)
PSK=$(wg genpsk)
cat >"$TMP/a.json" <<EOT
{"private_key": "$KA", "listen_port": 51820, "fwmark": 333, "replace_peers": true,
 "peers": [{"public_key": "$PB", "preshared_key": "$PSK", "endpoint": "192.0.2.2:51821",
            "persistent_keepalive": 15, "replace_allowed_ips": true,
            "allowed_ips": ["10.200.0.2/32", "fd20::2/128", "10.201.0.0/16", "2001:db8:77::/48"]}]}
EOT
cat >"$TMP/b.json" <<EOT
{"private_key": "$KB", "listen_port": 51821, "replace_peers": true,
 "peers": [{"public_key": "$PA", "preshared_key": "$PSK", "endpoint": "192.0.2.1:51820",
            "allowed_ips": ["10.200.0.1/32", "fd20::1/128"]}]}
EOT

wg_up a wgk0 auto "$TMP/a.json"
PID_A=$WG_PID
grep -q '"backend":"kernel"' "$TMP/wgk0.run" && pass "auto picks the kernel here" ||
	fail "auto: $(cat "$TMP/wgk0.run")"
netns_exec a ip -d link show wgk0 | grep -q "wireguard" && pass "wgk0 is a kernel wireguard link" ||
	fail "wgk0: $(netns_exec a ip -d link show wgk0 2>&1)"
wg_verify a wgk0 "$TMP/a.json" "kernel"

# Larger than one netlink message: written in several, dumped in several.
"$PY" - "$KA" "$PB" >"$TMP/big.json" <<'EOT'
import base64, json, os, sys
peers = [{"public_key": sys.argv[2], "replace_allowed_ips": True,
          "allowed_ips": [f"10.{100 + i // 250}.{i % 250}.1/32" for i in range(2000)]}]
# Public keys need not be valid points for the device to hold them.
keys = [base64.b64encode(os.urandom(32)).decode() for _ in range(150)]
for i, k in enumerate(keys):
    peers.append({"public_key": k, "endpoint": f"198.18.{i // 250}.{i % 250 + 1}:{1000 + i}",
                  "allowed_ips": [f"172.16.{i // 250}.{i % 250}/32", f"fd99::{i + 1:x}/128"]})
print(json.dumps({"private_key": sys.argv[1], "listen_port": 51820, "fwmark": 333,
                  "replace_peers": True, "peers": peers}))
EOT
check "a 151-peer configuration of 2300 allowed IPs is written" netns_exec a "$NODE" debug wg-set wgk0 --config "$TMP/big.json"
wg_verify a wgk0 "$TMP/big.json" "split configuration"

# Back to the one peer, and the interop with wireguard-go.
check "replace_peers brings back the one peer" netns_exec a "$NODE" debug wg-set wgk0 --config "$TMP/a.json"
wg_verify a wgk0 "$TMP/a.json" "after replace_peers"
wg_up b wgu0 userspace "$TMP/b.json"
PID_B=$WG_PID
grep -q '"backend":"userspace"' "$TMP/wgu0.run" && pass "wgu0 runs on wireguard-go" || fail "wgu0: $(cat "$TMP/wgu0.run")"
netns_exec a ip addr add 10.200.0.1/24 dev wgk0
netns_exec a ip addr add fd20::1/64 dev wgk0 nodad
netns_exec a ip link set wgk0 up
netns_exec b ip addr add 10.200.0.2/24 dev wgu0
netns_exec b ip addr add fd20::2/64 dev wgu0 nodad
netns_exec b ip link set wgu0 up
check "kernel -> wireguard-go ping (IPv4)" netns_exec a ping -q -c 3 -i 0.3 -W 3 10.200.0.2
check "wireguard-go -> kernel ping (IPv6)" netns_exec b ping -q -c 3 -i 0.3 -W 3 fd20::1
for h in a b; do
	ifn=wgk0
	[ $h = b ] && ifn=wgu0
	netns_exec $h "$NODE" debug wg-show "$ifn" --secrets >"$TMP/$ifn.show" 2>&1
	if out=$("$PY" tests/lib/wg_check.py traffic "$TMP/$ifn.show" 2>&1); then
		pass "$ifn: handshake and rx/tx seen ($(grep -o '"rx_bytes":[0-9]*' "$TMP/$ifn.show"))"
	else
		fail "$ifn: $out"
	fi
done
wg_verify a wgk0 "$TMP/a.json" "kernel after traffic"
wg_verify b wgu0 "$TMP/b.json" "userspace after traffic"

kill "$PID_A" "$PID_B"
wait "$PID_A" "$PID_B" 2>/dev/null
netns_exec a ip link show wgk0 >/dev/null 2>&1 && fail "wgk0 still there" || pass "wg-run stopped: the kernel link is deleted"
netns_exec b ip link show wgu0 >/dev/null 2>&1 && fail "wgu0 still there" || pass "wg-run stopped: wireguard-go's device is gone"
echo "($(($(date +%s) - T0)) s in the VM after boot)"
finish
