#!/bin/sh
# nym-vpnd's kill switch, judged from captures of the client's physical interface (eth0) by
# tests/lib/leak_check.py: nothing may leave but the entry gateway's client link (TCP 9000),
# the authority's API (TCP 8080: the daemon fetches the topology while connecting and
# connected), ARP/NDP/DHCP, and the LAN when allowed. One sandbox, one daemon, in turn:
#
#   connecting   connect --wait
#   connected    curl by name, the system resolver, DNS sent straight to another server (it
#                goes into the tunnel, never out of eth0), DNS with the daemon's own fwmark
#                (a root program trying to bypass the tunnel: blocked), ping over both families
#   killed       kill -9 of the daemon: the kill switch stays, HTTP/ping/DNS attempts fail
#   restarted    the daemon started again comes back connected with one TUN, one pair of
#                rules per family, one table, one kill switch
#   ipv6-off     tunnel set --ipv6 off + reconnect: IPv6 to the internet host fails and does
#                not leave; IPv4 works
#   lan-allow    lan set allow: the router (LAN) answers ping; DNS to a LAN address still
#                never leaves
#   lan-block    lan set block: the router does not answer, nothing leaves
#
# Then disconnect restores the client's configuration (snapshot diff).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
vpnd_sandbox

vpnd_start
vpnd_credentials || die "credentials obtain failed: $(cat "$WORK/obtain.out")"
vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null || die "gateway set failed"
vpn_snapshot "$WORK/before.snap"
NAME=leak$$.test
FILE=l$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 65536 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
# fetch [curl options]: the file by name through whatever the host's routing says.
fetch() { on client curl -sS -m 60 "$@" "http://$NAME/$FILE" | sha256sum | cut -d' ' -f1; }

echo "# connecting"
vpn_capture_start connecting
vpnc connect --wait >"$WORK/connect.out" 2>&1
st=$?
vpn_capture_stop
check "connect --wait exits 0" [ $st -eq 0 ]
[ $st -eq 0 ] || { cat "$WORK/connect.out"; tail -n 40 "$VPND_LOG"; die "not connected"; }
vpn_leaks connecting "no leak while connecting" --need 1

echo "# connected"
vpn_capture_start connected
expect "curl by name through the tunnel" "$WANT" fetch
expect "the system resolver answers through the tunnel" "$INTERNET_IP*" on client getent ahostsv4 "$NAME"
expect "python's resolver too" "$INTERNET_IP6" on client "$PY" -c \
	'import socket,sys; print(socket.getaddrinfo(sys.argv[1], 80, socket.AF_INET6)[0][4][0])' "$NAME"
# A query sent straight to a server other than the tunnel's: the routes take it into the
# tunnel (the exit asks on the client's behalf), never out of eth0.
expect "DNS straight to $INTERNET_IP goes through the tunnel" "$INTERNET_IP" \
	on client "$PY" tests/lib/dnsq.py "$INTERNET_IP" "$NAME" A --timeout 20
check "... and reached the DNS server from the exit gateway" \
	grep -E -q "query\\[A\\] $NAME from ($EXIT_UPLINK_IP|$EXIT_UPLINK_IP6)\$" "$SANDBOX_DIR/logs/dnsmasq.log"
# A root program marking its socket like the daemon's gateway link (fwmark 0x14d): policy
# routing sends it out of eth0, where only the gateway endpoints may go.
expect "DNS with the tunnel's fwmark (bypassing the tunnel) is blocked" "timeout*" \
	on client "$PY" tests/lib/dnsq.py "$INTERNET_IP" "$NAME" A --mark 0x14d --timeout 3
expect "TCP with the tunnel's fwmark (bypassing the tunnel) is blocked" blocked on client "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x14d)
s.settimeout(3)
try:
    s.connect((sys.argv[1], 80))
    print("connected")
except OSError:
    print("blocked")' "$INTERNET_IP"
check "ping6 through the tunnel" quiet on client ping -6 -c 1 -W 15 -q "$INTERNET_IP6"
vpn_capture_stop
vpn_leaks connected "no leak while connected (HTTP, DNS, ping, bypass attempts)" --need 1

echo "# kill -9 of the daemon"
vpn_capture_start killed
vpnd_kill9
check "after kill -9 the kill switch table is still there" quiet on client nft list table inet nym-vpn
expect "the TUN device went with the process" "" sh -c "$S exec --dir '$SANDBOX_DIR' client ip -o link show type tun"
vpn_try_traffic "after kill -9"
vpn_capture_stop
vpn_leaks killed "no leak after kill -9 of the daemon"

echo "# the daemon restarted"
vpn_capture_start restarted
vpnd_start
t0=$(date +%s)
if vpnd_wait_state connected 90; then
	pass "the restarted daemon came back connected ($(($(date +%s) - t0)) s)"
else
	fail "the restarted daemon is $(vpnd_state) after 90 s, not connected"
fi
expect "one TUN device" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -o link show type tun | wc -l"
for fam in 4 6; do
	expect "one 'not fwmark' rule (IPv$fam)" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -$fam rule | grep -c 'not from all fwmark 0x14d lookup 333'"
	expect "one suppress_prefixlength rule (IPv$fam)" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -$fam rule | grep -c 'lookup main suppress_prefixlength 0'"
	expect "one default route in table 333 (IPv$fam)" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -$fam route show table 333 | grep -c '^default'"
done
expect "one kill switch table" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client nft list tables | grep -c 'inet nym-vpn'"
expect "one nameserver block in resolv.conf" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client grep -c 'nameserver 1.1.1.1' /etc/resolv.conf"
expect "curl by name after the restart" "$WANT" fetch
vpn_capture_stop
vpn_leaks restarted "no leak while the daemon restarts and reconnects"

echo "# IPv6 off"
vpn_capture_start ipv6-off
check "tunnel set --ipv6 off" quiet vpnc tunnel set --ipv6 off
if vpnd_reconnect 90; then
	pass "reconnected with IPv6 off"
else
	fail "no new connection 90 s after reconnect: $(cat "$WORK/post-reconnect.json")"
fi
vpnd_status "$WORK/ipv6-off.json"
expect "status: no IPv6 address in the tunnel with --ipv6 off" "" jget "$WORK/ipv6-off.json" connection.ipv6
expect "status: still an IPv4 address" "10.0.*" jget "$WORK/ipv6-off.json" connection.ipv4
expect "no IPv6 default route in table 333" 0 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -6 route show table 333 | grep -c default"
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
vpn_capture_stop
vpn_leaks ipv6-off "no leak with IPv6 off (IPv6 neither tunnelled nor leaked)"
check "tunnel set --ipv6 on" quiet vpnc tunnel set --ipv6 on

echo "# LAN allowed, then blocked"
LAN="--lan-allowed --lan-net 198.51.100.0/24 --lan-net 2001:db8:100::/64 --lan-net fe80::/10"
vpn_capture_start lan-allow
check "lan set allow" quiet vpnc lan set allow
expect "lan get" "*allow*" vpnc lan get
check "the router (LAN) answers ping with lan allow" quiet on client ping -c 1 -W 3 -q "$ROUTER_IP"
expect "DNS to a LAN address never leaves, even with lan allow" "timeout*" \
	on client "$PY" tests/lib/dnsq.py "$ROUTER_IP" "$NAME" A --timeout 2
vpn_capture_stop
# shellcheck disable=SC2086 # LAN is a list of options
vpn_leaks lan-allow "no leak with lan allow (LAN traffic allowed)" $LAN
expect "no DNS packet on eth0 with lan allow" 0 sh -c "tcpdump -r '$WORK/lan-allow.pcap' -n 'port 53' 2>/dev/null | wc -l"
vpn_capture_start lan-block
check "lan set block" quiet vpnc lan set block
if on client ping -c 1 -W 2 -q "$ROUTER_IP" >/dev/null 2>&1; then
	fail "the router answers ping with lan block"
else
	pass "the router does not answer with lan block"
fi
vpn_capture_stop
vpn_leaks lan-block "no leak with lan block"

echo "# disconnect"
check "disconnect --wait" quiet vpnc disconnect --wait
expect "no kill switch left" "" sh -c "$S exec --dir '$SANDBOX_DIR' client nft list tables | grep nym-vpn"
vpn_snapshot "$WORK/after.snap"
if diff -u "$WORK/before.snap" "$WORK/after.snap" >"$WORK/snap.diff"; then
	pass "after all of it, disconnect restores the client's configuration exactly"
else
	sed 's/^/    /' "$WORK/snap.diff"
	fail "after disconnect the client's configuration differs from before"
fi

# The control: disconnected, no kill switch; a direct download must show as a leak, so the
# captures and the judge above could have seen one.
vpn_capture_start control
on client curl -sS -m 5 -o /dev/null "http://$INTERNET_IP/$FILE"
vpn_capture_stop
"$PY" tests/lib/leak_check.py "$WORK/control.pcap" --mac "$CLIENT_MAC" --label control \
	--allow "tcp:$ENTRY_IP:9000" --allow "tcp:$AUTH_IP:8080" --max-print 3 >"$WORK/control.leaks" 2>&1
st=$?
sed 's/^/    /' "$WORK/control.leaks"
check "control: disconnected, a direct download is reported as leaks" [ $st -eq 1 ]
vpnd_stop
finish
