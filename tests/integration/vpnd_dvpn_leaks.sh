#!/bin/sh
# nym-vpnd's kill switch in two-hop (dVPN) mode, judged from captures of the client's physical
# interface by tests/lib/leak_check.py: nothing may leave but UDP to the entry gateway's
# WireGuard port (51822), the marked registration link to the entry (TCP 9000), the
# authority's API (TCP 8080) and ARP/NDP/DHCP. One sandbox (--wireguard), one daemon,
# `tunnel set --two-hop on`, in turn:
#
#   connecting   connect --wait (registration with the entry, then with the exit through it)
#   connected    curl by name, the system resolver, DNS straight to another server, DNS and
#                TCP with the daemon's fwmark (a root program bypassing the tunnels: blocked)
#   killed       kill -9 of the daemon: the kill switch table stays; nothing leaves eth0
#                (the wireguard-go children outlive the daemon: traffic may still go through
#                the nested tunnels, but never around them)
#   restarted    the daemon started again comes back connected with one nym-wg-entry, one
#                nym-wg-exit, one wireguard-go per device (the previous run's ones replaced,
#                none left over), one rule pair per family, one kill switch table
#   ipv6-off     tunnel set --ipv6 off + reconnect: IPv6 fails and does not leave; IPv4 works
#
# Then disconnect restores the client's configuration (snapshot diff) and no wireguard-go is
# left running.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
vpnd_sandbox --wireguard

vpnd_start
codes=$($S voucher --dir "$SANDBOX_DIR" 2) || die "no vouchers from the authority"
vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$codes" | sed -n 1p)" --voucher "$(echo "$codes" | sed -n 2p)" \
	--type wg-entry --type wg-exit >"$WORK/obtain.out" 2>&1 || die "credentials obtain failed: $(cat "$WORK/obtain.out")"
vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null || die "gateway set failed"
vpnc tunnel set --two-hop on >/dev/null || die "tunnel set --two-hop on failed"
vpn_snapshot "$WORK/before.snap"
NAME=dvleak$$.test
FILE=l$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 65536 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
fetch() { on client curl -sS -m 60 "$@" "http://$NAME/$FILE" | sha256sum | cut -d' ' -f1; }
WG_ALLOW="--allow udp:$ENTRY_IP:51822 --allow udp:[$ENTRY_IP6]:51822"
cl() { sh -c "$S exec --dir '$SANDBOX_DIR' client sh -c '$1'"; }
# The wireguard-go processes serving device $1 on the client: matched by the device name on
# their command line, kept if they live in the client's network namespace (other sandboxes
# may run their own).
CLIENT_NETNS=$(on client readlink /proc/self/ns/net)
wggo_pids() {
	for p in $(pgrep -f "wireguard-go.* $1\$" 2>/dev/null); do
		[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$CLIENT_NETNS" ] && echo "$p"
	done | sort
}
wggo_count() { wggo_pids "$1" | wc -l; }

echo "# connecting"
vpn_capture_start connecting
on client timeout 90 "$VPNC" --socket "$VPND_SOCKET" connect --wait >"$WORK/connect.out" 2>&1
st=$?
vpn_capture_stop
check "connect --wait (two-hop) exits 0" [ $st -eq 0 ]
[ $st -eq 0 ] || { cat "$WORK/connect.out"; tail -n 40 "$VPND_LOG"; die "not connected"; }
# shellcheck disable=SC2086 # WG_ALLOW is a list of options
vpn_leaks connecting "no leak while connecting two-hop" --need 1 $WG_ALLOW
vpnd_status "$WORK/connected.json"
expect "status: mode wireguard" wireguard jget "$WORK/connected.json" mode
expect "one wireguard-go for nym-wg-entry" 1 wggo_count nym-wg-entry
expect "one wireguard-go for nym-wg-exit" 1 wggo_count nym-wg-exit
OLD_ENTRY_PID=$(wggo_pids nym-wg-entry)
OLD_EXIT_PID=$(wggo_pids nym-wg-exit)

echo "# connected"
vpn_capture_start connected
expect "curl by name through both tunnels" "$WANT" fetch
expect "the system resolver answers through the tunnels" "$INTERNET_IP*" on client getent ahostsv4 "$NAME"
expect "DNS straight to $INTERNET_IP goes through the tunnels" "$INTERNET_IP" \
	on client "$PY" tests/lib/dnsq.py "$INTERNET_IP" "$NAME" A --timeout 20
expect "DNS with the tunnel's fwmark (bypassing the tunnels) is blocked" "timeout*" \
	on client "$PY" tests/lib/dnsq.py "$INTERNET_IP" "$NAME" A --mark 0x14d --timeout 3
expect "TCP with the tunnel's fwmark (bypassing the tunnels) is blocked" blocked on client "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x14d)
s.settimeout(3)
try:
    s.connect((sys.argv[1], 80))
    print("connected")
except OSError:
    print("blocked")' "$INTERNET_IP"
# (ping -c 3, one answer enough: a lost datagram is not what this test is about)
expect "ping through the tunnels" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -c 3 -i 0.5 -W 10 '$INTERNET_IP' | grep transmitted"
expect "ping6 through the tunnels" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -6 -c 3 -i 0.5 -W 10 '$INTERNET_IP6' | grep transmitted"
vpn_capture_stop
# shellcheck disable=SC2086
vpn_leaks connected "no leak while connected two-hop (HTTP, DNS, ping, bypass attempts)" --need 1 $WG_ALLOW

echo "# kill -9 of the daemon"
vpn_capture_start killed
vpnd_kill9
check "after kill -9 the kill switch table is still there" quiet on client nft list table inet nym-vpn
# Whatever the surviving wireguard-go children still carry goes through the tunnels: the
# attempts below either fail or come back through them, and the capture judges the rest.
if on client curl -sS -m 3 -o /dev/null "http://$INTERNET_IP/" >/dev/null 2>&1; then
	echo "    (after kill -9, HTTP went through the surviving tunnels)"
else
	echo "    (after kill -9, HTTP failed)"
fi
on client ping -c 1 -W 2 -q "$INTERNET_IP" >/dev/null 2>&1
on client "$PY" tests/lib/dnsq.py 1.1.1.1 internet.test --timeout 2 >/dev/null 2>&1
expect "DNS with the tunnel's fwmark is still blocked after kill -9" "timeout*" \
	on client "$PY" tests/lib/dnsq.py "$INTERNET_IP" "$NAME" A --mark 0x14d --timeout 2
vpn_capture_stop
# shellcheck disable=SC2086
vpn_leaks killed "no leak after kill -9 of the daemon (two-hop)" $WG_ALLOW

echo "# the daemon restarted"
vpn_capture_start restarted
vpnd_start
t0=$(date +%s)
if vpnd_wait_state connected 60; then
	pass "the restarted daemon came back connected ($(($(date +%s) - t0)) s)"
else
	fail "the restarted daemon is $(vpnd_state) after 60 s, not connected"
fi
expect "one nym-wg-entry device" 1 cl "ip -o link show | grep -c \": nym-wg-entry:\""
expect "one nym-wg-exit device" 1 cl "ip -o link show | grep -c \": nym-wg-exit:\""
expect "no other tunnel device" 2 cl "ip -o link show | grep -c \": nym-\""
expect "one wireguard-go for nym-wg-entry" 1 wggo_count nym-wg-entry
expect "one wireguard-go for nym-wg-exit" 1 wggo_count nym-wg-exit
# Gone, or dead and waiting for whoever inherited it to reap it (a zombie, state Z).
ended() { st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null); [ -z "$st" ] || [ "$st" = Z ]; }
check "the previous run's wireguard-go (entry, $OLD_ENTRY_PID) ended" ended "$OLD_ENTRY_PID"
check "the previous run's wireguard-go (exit, $OLD_EXIT_PID) ended" ended "$OLD_EXIT_PID"
for fam in 4 6; do
	expect "one 'not fwmark' rule (IPv$fam)" 1 cl "ip -$fam rule | grep -c \"not from all fwmark 0x14d lookup 333\""
	expect "one suppress_prefixlength rule (IPv$fam)" 1 cl "ip -$fam rule | grep -c \"lookup main suppress_prefixlength 0\""
	expect "one default route in table 333 (IPv$fam)" 1 cl "ip -$fam route show table 333 | grep -c ^default"
done
expect "one kill switch table" 1 cl "nft list tables | grep -c \"inet nym-vpn\""
if [ "$(cl "ip route show table 333 | grep -c ^default")" != 1 ]; then
	# (seen once in ~20 runs, not understood yet: show what there is for the next one)
	grep -v -e 'debug: control' -e '^[^0-9]' "$VPND_LOG" | sed 's/^/    /'
	cl "ip -o link show; ip route show table 333; ip -6 route show table 333" 2>&1 | sed 's/^/    /'
fi
expect "one nameserver block in resolv.conf" 1 cl "grep -c \"nameserver 1.1.1.1\" /etc/resolv.conf"
expect "curl by name after the restart" "$WANT" fetch
vpn_capture_stop
# shellcheck disable=SC2086
vpn_leaks restarted "no leak while the daemon restarts and reconnects two-hop" $WG_ALLOW

echo "# IPv6 off"
vpn_capture_start ipv6-off
check "tunnel set --ipv6 off" quiet vpnc tunnel set --ipv6 off
if vpnd_reconnect 60; then
	pass "reconnected two-hop with IPv6 off"
else
	fail "no new connection 60 s after reconnect: $(cat "$WORK/post-reconnect.json")"
fi
expect "no IPv6 default route in table 333" 0 cl "ip -6 route show table 333 | grep -c default"
check "IPv4 still works" quiet on client ping -c 1 -W 15 -q "$INTERNET_IP"
if on client ping -6 -c 2 -W 3 -q "$INTERNET_IP6" >/dev/null 2>&1; then
	fail "IPv6 to the internet host works with --ipv6 off"
else
	pass "IPv6 to the internet host fails with --ipv6 off"
fi
if on client curl -6 -sS -m 5 -o /dev/null "http://[$INTERNET_IP6]/$FILE" 2>/dev/null; then
	fail "HTTP over IPv6 works with --ipv6 off"
else
	pass "HTTP over IPv6 fails with --ipv6 off"
fi
expect "still one wireguard-go per device after the reconnect" "1 1" echo "$(wggo_count nym-wg-entry) $(wggo_count nym-wg-exit)"
vpn_capture_stop
# shellcheck disable=SC2086
vpn_leaks ipv6-off "no leak with IPv6 off two-hop (IPv6 neither tunnelled nor leaked)" $WG_ALLOW
check "tunnel set --ipv6 on" quiet vpnc tunnel set --ipv6 on

echo "# disconnect"
check "disconnect --wait" quiet vpnc disconnect --wait
expect "no kill switch left" "" cl "nft list tables | grep nym-vpn"
i=0
while [ "$(wggo_count nym-wg-entry)$(wggo_count nym-wg-exit)" != 00 ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
expect "no wireguard-go left after disconnect" "0 0" echo "$(wggo_count nym-wg-entry) $(wggo_count nym-wg-exit)"
vpn_snapshot "$WORK/after.snap"
if diff -u "$WORK/before.snap" "$WORK/after.snap" >"$WORK/snap.diff"; then
	pass "after all of it, disconnect restores the client's configuration exactly"
else
	sed 's/^/    /' "$WORK/snap.diff"
	fail "after disconnect the client's configuration differs from before"
fi
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
finish
