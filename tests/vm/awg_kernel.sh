#!/bin/sh
# Runs inside the VM of tests/vm/boot.sh (Debian's kernel): nym_awg.ko, AmneziaWG 1.0 over the
# stock wireguard.ko. Namespace c (client, INITIATOR with the "random" preset) and g (gateway,
# RESPONDER on its one port) carry ping through kernel WireGuard; namespace p, a plain
# WireGuard peer, reaches the same gateway port. A capture of the c-g hop is checked by
# tests/vm/awg_wire.py, which parses the wire itself. Random datagrams at both ports are
# dropped and counted without disturbing the tunnel; bad parameters are refused with the rule
# named (by lib/awg and, with --no-check, by the module); the module unloads while idle and
# under a ping flood, and dmesg shows no warning and no taint beyond an unsigned out-of-tree
# module's.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/netns.sh

B=$(pwd)/${NYM_BUILD:-build}
NODE=$B/bin/nym-node
KO=$B/kmod/nym_awg.ko
[ -x "$NODE" ] || die "build nym-node first"
[ -r "$KO" ] || die "build the module first (make kmod)"
T0=$(date +%s)
dmesg -C 2>/dev/null
netns_init awg
TMP=$NS_DIR
netns_add c
netns_add g
netns_add p
netns_veth c eth0 g eth0
netns_veth p eth0 g eth1
netns_exec c ip addr add 192.0.2.1/24 dev eth0
netns_exec g ip addr add 192.0.2.2/24 dev eth0
netns_exec p ip addr add 198.51.100.3/24 dev eth0
netns_exec g ip addr add 198.51.100.2/24 dev eth1

check "nym_awg.ko loads" insmod "$KO"
expect "its generic netlink family is there" "*nym_awg*" sh -c "genl ctrl list 2>/dev/null | grep -o 'nym_awg' | head -n 1 || echo none"

KC=$(wg genkey) KG=$(wg genkey) KP=$(wg genkey)
PC=$(echo "$KC" | wg pubkey) PG=$(echo "$KG" | wg pubkey) PP=$(echo "$KP" | wg pubkey)
# ping_ok HOST ARGS...: ping, its output kept for a failure only.
ping_ok() {
	h=$1
	shift
	netns_exec "$h" ping -q "$@" >"$TMP/ping.out" 2>&1 || { cat "$TMP/ping.out"; return 1; }
}
# wg_dev HOST IF PRIVATE PORT ADDR
wg_dev() {
	echo "$3" >"$TMP/$2.key"
	netns_exec "$1" ip link add "$2" type wireguard || die "$2: no kernel WireGuard"
	netns_exec "$1" wg set "$2" private-key "$TMP/$2.key" listen-port "$4"
	netns_exec "$1" ip addr add "$5" dev "$2"
	netns_exec "$1" ip link set "$2" up
}
wg_dev g wgg "$KG" 51820 10.9.0.1/24
wg_dev c wgc "$KC" 51821 10.9.0.2/24
wg_dev p wgp "$KP" 51822 10.9.0.3/24
netns_exec g wg set wgg peer "$PC" allowed-ips 10.9.0.2/32 peer "$PP" allowed-ips 10.9.0.3/32
netns_exec c wg set wgc peer "$PG" endpoint 192.0.2.2:51820 allowed-ips 10.9.0.0/24
netns_exec p wg set wgp peer "$PG" endpoint 198.51.100.2:51820 allowed-ips 10.9.0.0/24

# Bad input first: lib/awg names the rule, and so does the module itself.
refuses "S1 + 56 = S2 refused by lib/awg" "S1 + 56 must differ from S2" \
	netns_exec c "$NODE" debug awg-set wgc --port 51821 --mode initiator --params jc=3,jmin=10,jmax=20,s1=10,s2=66
refuses "S1 + 56 = S2 refused by the module" "wgc: S1 + 56 must differ from S2" \
	netns_exec c "$NODE" debug awg-set wgc --port 51821 --mode initiator --no-check --params s1=10,s2=66
refuses "Jc 200 refused by the module" "Jc must be at most 128" \
	netns_exec c "$NODE" debug awg-set wgc --port 51821 --mode initiator --no-check --params jc=200,jmin=1,jmax=2
refuses "equal headers refused by the module" "H1, H2, H3 and H4 must differ" \
	netns_exec c "$NODE" debug awg-set wgc --port 51821 --mode initiator --no-check --params h1=7,h2=7
refuses "Jmin above Jmax refused by the module" "Jmin must not exceed Jmax" \
	netns_exec c "$NODE" debug awg-set wgc --port 51821 --mode initiator --no-check --params jmin=9,jmax=8
refuses "a device that is not WireGuard is refused" "not a WireGuard device" \
	netns_exec c "$NODE" debug awg-set eth0 --port 51821 --mode initiator --preset base
refuses "an unknown device is refused" "no such device" \
	netns_exec c "$NODE" debug awg-set nope0 --port 51821 --mode initiator --preset base

check "gateway: RESPONDER with the random preset" \
	sh -c "ip netns exec ${NS_P}g $NODE debug awg-set wgg --port 51820 --mode responder --preset random >$TMP/g.set"
PARAMS=$(sed 's/.*"params":"\([^"]*\)".*/\1/' "$TMP/g.set")
check "client: INITIATOR with the gateway's parameters ($PARAMS)" \
	sh -c "ip netns exec ${NS_P}c $NODE debug awg-set wgc --port 51821 --mode initiator --params '$PARAMS' >/dev/null"
netns_exec c "$NODE" debug awg-show wgc >"$TMP/c.show" 2>&1
grep -q "\"params\":\"$PARAMS\"" "$TMP/c.show" && grep -q '"mode":"initiator"' "$TMP/c.show" &&
	pass "awg-show reads back the client's parameters and mode" || fail "awg-show: $(cat "$TMP/c.show")"

netns_bg c "$TMP/cap.log" tcpdump -i eth0 --immediate-mode -U -w "$TMP/hop.pcap" udp port 51821
CAP=$NS_LAST_PID
# tcpdump says when it listens; the first initiation must not go before.
i=0
while ! grep -q "listening on" "$TMP/cap.log" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
check "client -> gateway ping through AWG" ping_ok c -c 3 -i 0.3 -W 3 10.9.0.1
check "plain peer -> gateway ping on the same port" ping_ok p -c 3 -i 0.3 -W 3 10.9.0.1
check "client <-> plain peer through the gateway" sh -c "ip netns exec ${NS_P}g sysctl -qw net.ipv4.ip_forward=1 &&
	ip netns exec ${NS_P}c ping -q -c 2 -i 0.3 -W 3 10.9.0.3 >/dev/null"
# Two more handshakes: the peer goes and comes back on the client.
for i in 1 2; do
	netns_exec c wg set wgc peer "$PG" remove
	netns_exec c wg set wgc peer "$PG" endpoint 192.0.2.2:51820 allowed-ips 10.9.0.0/24
	ping_ok c -c 1 -W 3 10.9.0.1 >/dev/null || fail "ping after re-handshake $i"
done
# tcpdump (--immediate-mode: no packet waits in a half-filled ring block; -U: each written as
# it is read) can still lag behind the wire under emulation on a loaded host, and what it has
# not read when it is stopped is lost without being counted as dropped: stop it only once the
# capture has stopped growing (up to 15 s).
i=0
size=-1
while [ $i -lt 15 ]; do
	now=$(stat -c %s "$TMP/hop.pcap" 2>/dev/null || echo 0)
	[ "$now" = "$size" ] && break
	size=$now
	sleep 1
	i=$((i + 1))
done
kill "$CAP"
wait "$CAP" 2>/dev/null
if out=$("$PY" tests/vm/awg_wire.py "$TMP/hop.pcap" 51821 51820 "$PARAMS" 2>&1); then
	pass "the capture of the hop is AWG 1.0 throughout: $out"
else
	fail "capture: $out"
fi
init=$(echo "$out" | sed -n 's/.*init=\([0-9]*\).*/\1/p')
jc=$(echo "$PARAMS" | sed 's/^jc=\([0-9]*\),.*/\1/')
junk=$(netns_exec c "$NODE" debug awg-show wgc | sed 's/.*"tx_junk":\([0-9]*\).*/\1/')
# Three handshakes were made; the capture (tcpdump under emulation) may miss one of them.
[ "${init:-0}" -ge 2 ] && [ "$junk" -ge $((3 * jc)) ] &&
	pass "initiations: ${init} in the capture, each after its junk; the client's module sent $junk junk datagrams (3 x Jc = $((3 * jc)))" ||
	fail "initiations: ${init:-0} captured, $junk junk datagrams sent (want >= 2 and >= $((3 * jc)))"
grep -i "dropped by kernel" "$TMP/cap.log" | sed 's/^/    tcpdump: /'

# counter NS IF NAME: one counter (or "endpoints") of awg-show.
counter() {
	netns_exec "$1" "$NODE" debug awg-show "$2" | "$PY" -c "import json,sys; d=json.load(sys.stdin); print(d['counters'].get('$3', d.get('$3')))"
}
[ "$(counter g wgg endpoints)" = 1 ] && pass "the gateway learned one AWG endpoint (the plain peer stays plain)" ||
	fail "gateway endpoints: $(counter g wgg endpoints)"
[ "$(counter g wgg rx_plain)" -gt 0 ] && [ "$(counter g wgg tx_plain)" -gt 0 ] &&
	pass "the gateway passed plain datagrams both ways" || fail "gateway: $(netns_exec g "$NODE" debug awg-show wgg)"

# The hop over IPv6: a fresh handshake (junk, S1 prefix) and transport through the IPv6 hooks.
netns_exec c ip addr add fd00:a::1/64 dev eth0 nodad
netns_exec g ip addr add fd00:a::2/64 dev eth0 nodad
dec=$(counter g wgg rx_decoded)
netns_exec c wg set wgc peer "$PG" remove
netns_exec c wg set wgc peer "$PG" endpoint "[fd00:a::2]:51820" allowed-ips 10.9.0.0/24
check "client -> gateway ping with the hop over IPv6" ping_ok c -c 3 -i 0.3 -W 3 10.9.0.1
dec2=$(counter g wgg rx_decoded)
[ $((dec2 - dec)) -ge 4 ] && [ "$(counter g wgg endpoints)" = 2 ] &&
	pass "IPv6: the gateway decoded +$((dec2 - dec)) and learned the IPv6 endpoint" ||
	fail "IPv6: decoded +$((dec2 - dec)), endpoints $(counter g wgg endpoints)"
netns_exec c wg set wgc peer "$PG" endpoint 192.0.2.2:51820

# NymVPN's "base" (junk only) against the AWG gateway: the junk is dropped, the rest is plain.
check "plain peer switches to the base preset" sh -c "ip netns exec ${NS_P}p $NODE debug awg-set wgp --port 51822 --mode initiator --preset base >/dev/null"
gd=$(counter g wgg rx_dropped)
netns_exec p wg set wgp peer "$PG" remove
netns_exec p wg set wgp peer "$PG" endpoint 198.51.100.2:51820 allowed-ips 10.9.0.0/24
check "base peer -> gateway ping after a new handshake" ping_ok p -c 2 -i 0.3 -W 3 10.9.0.1
gd2=$(counter g wgg rx_dropped)
[ $((gd2 - gd)) -ge 4 ] && [ "$(counter p wgp tx_junk)" -ge 4 ] &&
	pass "the base peer's junk was sent ($(counter p wgp tx_junk)) and dropped at the gateway (+$((gd2 - gd)))" ||
	fail "base junk: sent $(counter p wgp tx_junk), gateway dropped +$((gd2 - gd))"

# Random datagrams at both ports, from new endpoints: dropped, counted, the tunnel unharmed.
gd=$(counter g wgg rx_dropped)
cd0=$(counter c wgc rx_dropped)
"$PY" - "$NS_P" <<'EOT'
import os, socket, subprocess, sys
for ns, dst in (("c", ("192.0.2.2", 51820)), ("g", ("192.0.2.1", 51821))):
    code = ("import os,socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for n in range(200): s.sendto(os.urandom(1 + (n * 7) % 1400), " + repr(dst) + ")\n")
    subprocess.run(["ip", "netns", "exec", sys.argv[1] + ns, sys.executable, "-c", code], check=True)
EOT
sleep 0.5
gd2=$(counter g wgg rx_dropped)
cd2=$(counter c wgc rx_dropped)
[ $((gd2 - gd)) -ge 195 ] && [ $((cd2 - cd0)) -ge 195 ] &&
	pass "random datagrams dropped and counted (gateway +$((gd2 - gd)), client +$((cd2 - cd0)))" ||
	fail "random datagrams: gateway +$((gd2 - gd)), client +$((cd2 - cd0))"
check "the tunnel still carries ping after the random datagrams" ping_ok c -c 3 -i 0.2 -W 3 10.9.0.1
[ "$(counter g wgg endpoints)" -le 2 ] && pass "random datagrams taught the gateway no endpoint" ||
	fail "endpoints after random datagrams: $(counter g wgg endpoints)"

# The gateway's own wiring (wireguard.amnezia): an entry gateway with wireguard.amnezia random creates nymwg,
# puts it under the module as RESPONDER with the set it drew and kept in DATA_DIR/amnezia, and
# announces exactly that set in its descriptor (caught by a stand-in authority).
netns_add n
GD=$TMP/gw
"$NODE" init --id awggw --mode entry-gateway --public-ip 127.0.0.1 --data-dir "$GD" >/dev/null || die "init"
sed -i '/^wireguard:/,/^[a-z]/ { s/^  enabled: .*/  enabled: true/; s/^  backend: .*/  backend: "kernel"/
	s/^  amnezia: .*/  amnezia: "random"/ }' "$GD/config/config.yaml"
sed -i 's/^  bind_address: "\[::\]:8080"/  bind_address: "127.0.0.1:8080"/' "$GD/config/config.yaml"
netns_bg n "$TMP/auth.log" "$PY" -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open(sys.argv[1], "wb").write(body)
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 8999), H).serve_forever()' "$TMP/desc.json"
netns_bg n "$TMP/gw.log" "$NODE" run --data-dir "$GD" --workers 1 --authority http://127.0.0.1:8999
GW=$NS_LAST_PID
i=0
while [ ! -s "$TMP/desc.json" ] && [ $i -lt 150 ] && kill -0 "$GW" 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
netns_exec n "$NODE" debug awg-show nymwg >"$TMP/gw.show" 2>&1
GP=$(cat "$GD/data/amnezia" 2>/dev/null)
grep -q '"mode":"responder"' "$TMP/gw.show" && grep -q "\"params\":\"$GP\"" "$TMP/gw.show" &&
	pass "the gateway put nymwg under nym_awg as RESPONDER with its drawn set ($GP)" ||
	fail "gateway: $(cat "$TMP/gw.show"); log: $(tail -n 5 "$TMP/gw.log")"
if out=$("$PY" - "$TMP/desc.json" "$GP" <<'EOT' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("description", d)
a = d.get("amnezia")
want = dict(kv.split("=") for kv in sys.argv[2].split(","))
assert a is not None, "no amnezia member in " + json.dumps(d)[:300]
assert {k: str(v) for k, v in a.items()} == want, f"announced {a}, applied {want}"
print("announced", a)
EOT
); then pass "the descriptor announces the set the module applies"; else fail "descriptor: $out"; fi
kill "$GW"
wait "$GW" 2>/dev/null
refuses "once the gateway stopped, nymwg is no longer configured" "not configured" netns_exec n "$NODE" debug awg-show nymwg

# Unloading: idle (configured devices), then under a ping flood.
check "rmmod while idle" rmmod nym_awg
check "insmod again" insmod "$KO"
netns_exec g "$NODE" debug awg-set wgg --port 51820 --mode responder --params "$PARAMS" >/dev/null
netns_exec c "$NODE" debug awg-set wgc --port 51821 --mode initiator --params "$PARAMS" >/dev/null
netns_exec c wg set wgc peer "$PG" remove
netns_exec c wg set wgc peer "$PG" endpoint 192.0.2.2:51820 allowed-ips 10.9.0.0/24
check "AWG again after the reload" ping_ok c -c 2 -i 0.3 -W 3 10.9.0.1
netns_bg c "$TMP/flood.log" ping -q -f -w 6 10.9.0.1
FLOOD=$NS_LAST_PID
netns_bg p "$TMP/flood2.log" ping -q -f -w 6 10.9.0.1
FLOOD2=$NS_LAST_PID
sleep 2
tx=$(counter c wgc tx_encoded)
check "rmmod under a ping flood (client had encoded $tx datagrams)" rmmod nym_awg
wait "$FLOOD" "$FLOOD2" 2>/dev/null
grep -q "packets transmitted" "$TMP/flood.log" && pass "the flood ran: $(grep transmitted "$TMP/flood.log")" ||
	fail "flood: $(cat "$TMP/flood.log")"
lsmod | grep -q '^nym_awg' && fail "nym_awg still loaded" || pass "nym_awg is gone"

dmesg >"$TMP/dmesg"
if grep -E "WARNING|BUG|Oops|cut here|general protection|refcount|leak" "$TMP/dmesg" >"$TMP/bad"; then
	fail "dmesg: $(head -n 5 "$TMP/bad")"
else
	pass "dmesg: no warning, bug or oops"
fi
taint=$(cat /proc/sys/kernel/tainted)
[ $((taint & ~(4096 | 8192))) -eq 0 ] && pass "taint $taint: out-of-tree/unsigned module only" || fail "kernel tainted: $taint"
echo "($(($(date +%s) - T0)) s in the VM after boot)"
finish
