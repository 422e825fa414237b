#!/bin/sh
# nym-vpnd's router mode (router.lan_interfaces): the sandbox's client is a home router with a
# LAN behind it (scripts/sandbox.sh up --lan: host lan on the client's lan0). The LAN host
# reaches the internet host through the tunnel in both modes, its DNS (asked of the router,
# or of any server) is answered through the tunnel, and captures of the router's WAN side
# (its eth0), judged by tests/lib/leak_check.py, hold nothing but the gateway links and the
# authority while the LAN host keeps trying to get out:
#
#   mixnet   connecting; connected (HTTP by name, DNS to the router and straight to a server,
#            ping6, the web server sees the exit, never the LAN); kill -9 of the daemon (the
#            table stays, nothing of the LAN gets out)
#   two-hop  the restarted daemon, switched to two-hop: connecting; connected (the same
#            checks); IPv6 off (the LAN's IPv6 fails and does not leave); the entry gateway
#            dies (every process of its host killed)
#
# Then disconnect puts forwarding back off and removes the table. Before the first connect
# the LAN reaches nothing (forwarding off), and the configuration is checked with
# nym-vpnd --check-config (router mode, and refusals of bad --lan values).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
t_start=$(date +%s)
vpnd_sandbox --wireguard --lan
printf 'router:\n  lan_interfaces: ["%s"]\n' "$LAN_IF" >>"$VPND_CONFIG"
expect "nym-vpnd --check-config: valid, router mode" "*valid (router mode)" "$VPND" --check-config --config "$VPND_CONFIG"
refuses "nym-vpnd --check-config --lan nym0 (the tunnel) is refused" "router.lan_interfaces" \
	"$VPND" --check-config --config "$VPND_CONFIG" --lan nym0
refuses "nym-vpnd --check-config --lan with a bad name is refused" "router.lan_interfaces" \
	"$VPND" --check-config --config "$VPND_CONFIG" --lan "a/b"

vpnd_start
vpnd_credentials || die "credentials obtain failed: $(cat "$WORK/obtain.out")"
codes=$($S voucher --dir "$SANDBOX_DIR" 2) || die "no vouchers from the authority"
vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$(echo "$codes" | sed -n 1p)" \
	--voucher "$(echo "$codes" | sed -n 2p)" --type wg-entry --type wg-exit >"$WORK/obtain-wg.out" 2>&1 ||
	die "wg credentials obtain failed: $(cat "$WORK/obtain-wg.out")"
vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null || die "gateway set failed"
NAME=router$$.test
FILE=r$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 262144 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
# LAN traffic by name, through the LAN host's resolver (the router).
lan_fetch() { on lan curl "$@" -sS -m 30 "http://$NAME/$FILE" | sha256sum | cut -d' ' -f1; }
# A LAN host that keeps trying to get out while the tunnel comes and goes.
NOISE_PID=""
noise_start() {
	bg_on lan "$WORK/noise.log" sh -c 'while :; do
		curl -sS -m 1 -o /dev/null "http://$1/" 2>/dev/null; ping -c 1 -W 1 -q "$1" >/dev/null 2>&1
		ping -6 -c 1 -W 1 -q "$2" >/dev/null 2>&1; "$3" tests/lib/dnsq.py "$1" "$4" --timeout 1 >/dev/null 2>&1
		"$3" tests/lib/dnsq.py 1.1.1.1 "$4" --timeout 1 >/dev/null 2>&1; sleep 0.2; done' sh \
		"$INTERNET_IP" "$INTERNET_IP6" "$PY" "$NAME"
	NOISE_PID=$BG_PID
}
noise_stop() {
	[ -n "$NOISE_PID" ] || return 0
	kill -TERM "$NOISE_PID" 2>/dev/null
	wait "$NOISE_PID" 2>/dev/null
	NOISE_PID=""
}
# Each attempt from the LAN must fail.
lan_blocked() {
	if on lan curl -sS -m 3 -o /dev/null "http://$INTERNET_IP/" 2>/dev/null; then
		fail "$1: HTTP from the LAN got through"
	else
		pass "$1: HTTP from the LAN fails"
	fi
	if on lan ping -c 1 -W 2 -q "$INTERNET_IP" >/dev/null 2>&1 || on lan ping -6 -c 1 -W 2 -q "$INTERNET_IP6" >/dev/null 2>&1; then
		fail "$1: ping from the LAN got through"
	else
		pass "$1: ping (IPv4, IPv6) from the LAN fails"
	fi
	if on lan "$PY" tests/lib/dnsq.py "$LAN_ROUTER_IP" "$NAME" --timeout 2 >/dev/null 2>&1 ||
		on lan "$PY" tests/lib/dnsq.py 1.1.1.1 "$NAME" --timeout 2 >/dev/null 2>&1; then
		fail "$1: DNS from the LAN got an answer"
	else
		pass "$1: DNS from the LAN (to the router, to 1.1.1.1) gets no answer"
	fi
}
# The LAN's traffic through the tunnel: by name, DNS asked of the router and of a server
# straight, IPv6; the web server and the DNS server see the exit gateway.
lan_through() {
	mode=$1
	: >"$SANDBOX_DIR/logs/dnsmasq.log"
	expect "$mode: the LAN host downloads by name through the tunnel" "$WANT" lan_fetch -4
	expect "$mode: the same over IPv6 (NAT66 to the tunnel's address)" "$WANT" lan_fetch -6
	expect "$mode: the LAN's resolver (the router) answers through the tunnel" "$INTERNET_IP*" on lan getent ahostsv4 "$NAME"
	check "$mode: ... the query reached the DNS server from the exit gateway" \
		grep -E -q "query\\[A\\] $NAME from ($EXIT_UPLINK_IP|$EXIT_UPLINK_IP6)\$" "$SANDBOX_DIR/logs/dnsmasq.log"
	: >"$SANDBOX_DIR/logs/dnsmasq.log"
	expect "$mode: DNS from the LAN straight to $INTERNET_IP: answered through the tunnel" "$INTERNET_IP" \
		on lan "$PY" tests/lib/dnsq.py "$INTERNET_IP" "$NAME" A --timeout 15
	check "$mode: ... from the exit gateway" \
		grep -E -q "query\\[A\\] $NAME from ($EXIT_UPLINK_IP|$EXIT_UPLINK_IP6)\$" "$SANDBOX_DIR/logs/dnsmasq.log"
	check "$mode: ping6 from the LAN through the tunnel" quiet on lan ping -6 -c 1 -W 15 -q "$INTERNET_IP6"
	check "$mode: the web server never saw the LAN's or the router's addresses" \
		sh -c "! grep -E -q '^(::ffff:)?($LAN_HOST_IP|$LAN_HOST_IP6|$CLIENT_IP|$CLIENT_IP6) ' '$SANDBOX_DIR/logs/http.log'"
}
sysctl_of() { on client sysctl -n "$1"; }
WG_ALLOW="--allow udp:$ENTRY_IP:51822"

echo "# disconnected: forwarding off"
expect "ip_forward is off before the first connect" 0 sysctl_of net.ipv4.ip_forward
check "the LAN host reaches the router" quiet on lan ping -c 1 -W 2 -q "$LAN_ROUTER_IP"
if on lan curl -sS -m 2 -o /dev/null "http://$INTERNET_IP/" 2>/dev/null; then
	fail "disconnected: HTTP from the LAN got through"
else
	pass "disconnected: HTTP from the LAN fails (the router does not forward)"
fi

echo "# mixnet: connecting"
vpn_capture_start m-connecting
noise_start
vpnc connect --wait >"$WORK/connect.out" 2>&1
st=$?
noise_stop
vpn_capture_stop
check "connect --wait exits 0" [ $st -eq 0 ]
[ $st -eq 0 ] || { cat "$WORK/connect.out"; tail -n 40 "$VPND_LOG"; die "not connected"; }
vpn_leaks m-connecting "mixnet: nothing of the LAN outside the tunnel while connecting" --need 1

echo "# mixnet: connected"
vpn_capture_start m-connected
expect "ip_forward is on while connected in router mode" 1 sysctl_of net.ipv4.ip_forward
expect "IPv6 forwarding too" 1 sysctl_of net.ipv6.conf.all.forwarding
check "the log says router mode" grep -q "router mode: the LAN forwarded through it" "$VPND_LOG"
on client nft list table inet nym-vpn >"$WORK/m-table.nft" 2>&1
check "the kill switch masquerades the LAN to nym0" grep -q "iifname @router_lan oifname \"nym0\" masquerade" "$WORK/m-table.nft"
check "the kill switch sends the LAN's DNS to the tunnel's resolver" grep -q "udp dport 53 dnat ip to 1.1.1.1" "$WORK/m-table.nft"
lan_through mixnet
vpn_capture_stop
vpn_leaks m-connected "mixnet: nothing of the LAN outside the tunnel while connected" --need 1

echo "# mixnet: kill -9 of the daemon"
vpn_capture_start m-killed
vpnd_kill9
check "after kill -9 the kill switch table is still there" quiet on client nft list table inet nym-vpn
lan_blocked "after kill -9"
vpn_capture_stop
vpn_leaks m-killed "after kill -9: nothing of the LAN leaves"

echo "# two-hop: the daemon restarted, then switched to two-hop"
vpnd_start
vpnd_wait_state connected 90 || fail "the restarted daemon is $(vpnd_state) after 90 s, not connected"
vpn_capture_start w-connecting
noise_start
check "tunnel set --two-hop on" quiet vpnc tunnel set --two-hop on
if vpnd_reconnect 120; then
	pass "reconnected in two-hop mode"
else
	fail "no two-hop connection 120 s after reconnect: $(cat "$WORK/post-reconnect.json")"
fi
noise_stop
vpn_capture_stop
# shellcheck disable=SC2086 # WG_ALLOW is a list of options
vpn_leaks w-connecting "two-hop: nothing of the LAN outside the tunnels while connecting" --need 1 $WG_ALLOW
vpnd_status "$WORK/w-status.json"
expect "status: mode wireguard" wireguard jget "$WORK/w-status.json" mode

echo "# two-hop: connected"
vpn_capture_start w-connected
on client nft list table inet nym-vpn >"$WORK/w-table.nft" 2>&1
check "the kill switch masquerades the LAN to nym-wg-exit" \
	grep -q "iifname @router_lan oifname \"nym-wg-exit\" masquerade" "$WORK/w-table.nft"
lan_through two-hop
vpn_capture_stop
# shellcheck disable=SC2086
vpn_leaks w-connected "two-hop: nothing of the LAN outside the tunnels while connected" --need 1 $WG_ALLOW

echo "# two-hop with IPv6 off: the LAN's IPv6 neither tunnelled nor leaked"
vpn_capture_start w-ipv6-off
check "tunnel set --ipv6 off" quiet vpnc tunnel set --ipv6 off
vpnd_reconnect 120 || fail "no new connection with IPv6 off: $(cat "$WORK/post-reconnect.json")"
expect "IPv6 forwarding off with IPv6 off" 0 sysctl_of net.ipv6.conf.all.forwarding
check "IPv4 from the LAN still works" quiet on lan ping -c 1 -W 15 -q "$INTERNET_IP"
if on lan ping -6 -c 2 -W 3 -q "$INTERNET_IP6" >/dev/null 2>&1 || on lan curl -6 -sS -m 4 -o /dev/null "http://[$INTERNET_IP6]/" 2>/dev/null; then
	fail "IPv6 from the LAN works with --ipv6 off"
else
	pass "IPv6 from the LAN (ping, HTTP) fails with --ipv6 off"
fi
vpn_capture_stop
# shellcheck disable=SC2086
vpn_leaks w-ipv6-off "IPv6 off: nothing of the LAN leaves" --need 1 $WG_ALLOW

echo "# two-hop: the entry gateway dies"
vpn_capture_start w-gateway-dead
# shellcheck disable=SC2046 # a list of pids
kill -KILL $(ip netns pids "${SANDBOX_PREFIX}entry") 2>/dev/null
sleep 1
lan_blocked "the entry gateway dead"
vpn_capture_stop
# What the router sends is judged: the dead entry's host answers the WireGuard datagrams
# with ICMP port unreachable, an incoming reply to allowed traffic.
# shellcheck disable=SC2086
vpn_leaks w-gateway-dead "the entry gateway dead: nothing of the LAN leaves" $WG_ALLOW --outgoing-only

echo "# disconnect"
check "disconnect --wait" quiet vpnc disconnect --wait
expect "ip_forward back off" 0 sysctl_of net.ipv4.ip_forward
expect "IPv6 forwarding back off" 0 sysctl_of net.ipv6.conf.all.forwarding
expect "no kill switch left" "" sh -c "$S exec --dir '$SANDBOX_DIR' client nft list tables | grep nym-vpn"
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
echo "# $(($(date +%s) - t_start)) s"
finish
