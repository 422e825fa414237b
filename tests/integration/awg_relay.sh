#!/bin/sh
# The userspace AmneziaWG relay (lib/wg/wg_awg_relay through `nym-node debug awg-relay`)
# between two wireguard-go peers in two namespaces joined by a veth pair:
#   a: wireguard-go -> relay (initiator, marked) == veth ==> b: relay (responder) -> wireguard-go
# 1. a `random` parameter set: the peers handshake and carry ping; a capture on a's eth0,
#    checked by tests/lib/awg_check.py (its own parser, not lib/awg), shows Jc junk in
#    [Jmin, Jmax) before every initiation, the initiation 148 + S1 with H1 at S1, the response
#    92 + S2 with H2 at S2, transport starting with H4, and no datagram a plain WireGuard
#    parser recognises; random datagrams thrown at b's relay are dropped (counted) and the
#    tunnel carries on; the relay's socket carries the fwmark asked for.
# 2. `base` (junk only) from a's relay straight to b's plain wireguard-go: it connects (what
#    NymVPN relies on), and the capture shows the junk; the random set's check refuses this
#    capture (the checker tells them apart).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/netns.sh
. tests/lib/wg.sh

NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
[ -x "$NODE" ] || die "build nym-node first"
command -v wireguard-go >/dev/null || die "wireguard-go missing"
command -v wg >/dev/null || die "wireguard-tools missing"
command -v tcpdump >/dev/null || die "tcpdump missing"
PY=/usr/bin/python3
netns_init awg
TMP=$NS_DIR
netns_add a
netns_add b
netns_veth a eth0 b eth0
netns_exec a ip addr add 192.0.2.1/24 dev eth0
netns_exec b ip addr add 192.0.2.2/24 dev eth0
netns_exec a ip link set lo up
netns_exec b ip link set lo up

KA=$(wg genkey)
KB=$(wg genkey)
PA=$(echo "$KA" | wg pubkey)
PB=$(echo "$KB" | wg pubkey)
PARAMS='jc=5,jmin=64,jmax=300,s1=37,s2=111,h1=1234567,h2=7654321,h3=99999,h4=2000000000'

relay() { # HOST NAME ARGS...: a relay in HOST, its first line in $TMP/NAME.out
	h=$1 n=$2
	shift 2
	netns_bg "$h" "$TMP/$n.out" "$NODE" debug awg-relay "$@"
	RELAY_PID=$NS_LAST_PID
	i=0
	until grep -q '^{"wg"' "$TMP/$n.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] && kill -0 "$RELAY_PID" 2>/dev/null || die "relay $n did not start: $(cat "$TMP/$n.out")"
		sleep 0.1
	done
}

capture() { # HOST FILE
	netns_bg "$1" "$2.log" tcpdump -i eth0 -s 0 -U -n -w "$2" udp
	CAP_PID=$NS_LAST_PID
	i=0
	until grep -q 'listening on' "$2.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || die "tcpdump did not start: $(cat "$2.log")"
		sleep 0.1
	done
}

stop() { # PID...: SIGTERM, then wait
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
}

addrs() { # HOST IF ADDR
	netns_exec "$1" ip addr add "$3" dev "$2"
	netns_exec "$1" ip link set "$2" up
}

# ---- 1. random parameters, a relay on both sides --------------------------------------
IFA=$(echo "awga$$" | cut -c1-15)
IFB=$(echo "awgb$$" | cut -c1-15)
relay a ra --params "$PARAMS" --wg-bind 127.0.0.1:51830 --net-peer 192.0.2.2:51900 --fwmark 333
RA=$RELAY_PID
relay b rb --params "$PARAMS" --wg-bind 127.0.0.1:51831 --wg-peer 127.0.0.1:51821 --net-bind 192.0.2.2:51900
RB=$RELAY_PID
capture a "$TMP/random.pcap"
wg_conf "$TMP/a.json" "$KA" 51820 333 "$PB" 127.0.0.1:51830 10.210.0.2/32
wg_conf "$TMP/b.json" "$KB" 51821 0 "$PA" 127.0.0.1:51831 10.210.0.1/32
wg_up a "$IFA" userspace "$TMP/a.json"
WA=$WG_PID
wg_up b "$IFB" userspace "$TMP/b.json"
WB=$WG_PID
addrs a "$IFA" 10.210.0.1/24
addrs b "$IFB" 10.210.0.2/24
t0=$(date +%s.%N)
check "random: ping through wireguard-go <-> relay <-> relay <-> wireguard-go" \
	netns_exec a ping -q -c 3 -i 0.2 -W 3 10.210.0.2
echo "     (first ping answered within $(echo "$(date +%s.%N) - $t0" | bc) s of starting)"
# The relay's network socket is marked: its flows show mark 333 (0x14d) in ss.
netns_exec a ss -u -a -n -e -p 2>/dev/null | grep -q 'fwmark:0x14d' &&
	pass "the relay's network socket carries fwmark 0x14d" ||
	fail "no socket with fwmark 0x14d: $(netns_exec a ss -u -a -n -e)"
# Random datagrams at b's relay: dropped, counted, the tunnel unharmed.
netns_exec a "$PY" - <<'EOT'
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 40000))
for n in [0, 1, 4, 31, 32, 64, 92, 148, 148 + 37, 92 + 111, 500, 1400] * 20:
    s.sendto(os.urandom(n), ("192.0.2.2", 51900))
for t in (1, 2, 3, 4):
    s.sendto(bytes([t, 0, 0, 0]) + os.urandom({1: 144, 2: 88, 3: 60, 4: 60}[t]), ("192.0.2.2", 51900))
EOT
check "random: the tunnel carries on after 244 hostile datagrams" netns_exec a ping -q -c 3 -i 0.2 -W 3 10.210.0.2
# Another handshake (a restarted peer) for a second initiation in the capture.
stop "$WA"
rm -f "$TMP/$IFA.run"
wg_up a "$IFA" userspace "$TMP/a.json"
WA=$WG_PID
addrs a "$IFA" 10.210.0.1/24
check "random: a restarted peer handshakes again" netns_exec a ping -q -c 2 -i 0.2 -W 3 10.210.0.2
sleep 0.3
stop "$CAP_PID" "$RA" "$RB"
stb=$(tail -n 1 "$TMP/rb.out")
case "$stb" in
*'"dropped_net":0,'*) fail "b's relay counted no dropped datagram: $stb" ;;
*'"dropped_net":'*) pass "b's relay dropped the hostile datagrams ($stb)" ;;
*) fail "b's relay printed no counters: $(cat "$TMP/rb.out")" ;;
esac
# The hostile datagrams came from port 40000: the check leaves them out.
out=$("$PY" tests/lib/awg_check.py "$TMP/random.pcap" --port 51900 --exclude-port 40000 --params "$PARAMS" \
	--no-plain --min-init 2 2>&1)
[ $? -eq 0 ] && pass "random: the capture holds the AWG wire format ($out)" || fail "random: $out"
stop "$WA" "$WB"

# ---- 2. base, against a plain wireguard-go ------------------------------------------
IFA=$(echo "awgc$$" | cut -c1-15)
IFB=$(echo "awgd$$" | cut -c1-15)
relay a rc --params base --wg-bind 127.0.0.1:51832 --net-peer 192.0.2.2:51823 --fwmark 333
RC=$RELAY_PID
capture a "$TMP/base.pcap"
wg_conf "$TMP/c.json" "$KA" 51822 333 "$PB" 127.0.0.1:51832 10.211.0.2/32
wg_conf "$TMP/d.json" "$KB" 51823 0 "$PA" 192.0.2.1:51999 10.211.0.1/32
wg_up a "$IFA" userspace "$TMP/c.json"
WA=$WG_PID
wg_up b "$IFB" userspace "$TMP/d.json"
WB=$WG_PID
addrs a "$IFA" 10.211.0.1/24
addrs b "$IFB" 10.211.0.2/24
check "base: ping through the relay to a plain wireguard-go" netns_exec a ping -q -c 3 -i 0.2 -W 3 10.211.0.2
sleep 0.3
stop "$CAP_PID" "$RC" "$WA" "$WB"
out=$("$PY" tests/lib/awg_check.py "$TMP/base.pcap" --port 51823 --params 'jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4' 2>&1)
[ $? -eq 0 ] && pass "base: 4 junk datagrams of 40..69 B before the plain initiation ($out)" || fail "base: $out"
out=$("$PY" tests/lib/awg_check.py "$TMP/base.pcap" --port 51823 --params "$PARAMS" 2>&1)
[ $? -eq 1 ] && pass "the checker refuses the base capture against the random set" ||
	fail "the checker accepted the base capture against the random set: $out"
out=$("$PY" tests/lib/awg_check.py "$TMP/base.pcap" --port 51823 --params 'jc=4,jmin=40,jmax=70' --no-plain 2>&1)
[ $? -eq 1 ] && pass "--no-plain recognises plain WireGuard in the base capture" ||
	fail "--no-plain missed plain WireGuard: $out"
finish
