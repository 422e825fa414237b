#!/bin/sh
# nym-vpnd in mixnet mode, the whole machine through the tunnel: in the sandbox the daemon runs
# on the client host, nym-vpnc obtains credentials with a voucher and connects (--wait, the
# progress steps shown); then plain programs of the host, knowing nothing of the VPN, reach the
# internet host: curl downloads a random 256 KiB file by a .test name resolved by the system
# resolver (the tunnel's DNS servers, NymVPN's defaults 1.1.1.1 etc., which the sandbox's
# internet host answers behind the exit gateway) and its SHA-256 matches; ping over IPv4 and
# IPv6; getent. `status --json` says connected, mixnet, with the gateways and the IPR's
# addresses; the web server and the DNS server saw the exit gateway, never the client; and
# `disconnect --wait` puts back the client's rules, routes, nftables, resolv.conf and sysctls
# exactly as they were before (diff of two snapshots).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
vpnd_sandbox

vpn_snapshot "$WORK/before-daemon.snap"
vpnd_start
check "nym-vpnd answers on its socket ($VPND_SOCKET)" sh -c "$S exec --dir '$SANDBOX_DIR' client '$VPNC' --socket '$VPND_SOCKET' status >/dev/null"
expect "a fresh daemon is disconnected" disconnected vpnd_state
check "nym-vpnc info works" vpnc info
vpnd_credentials
st=$?
check "credentials obtain with a voucher: $(tr '\n' ' ' <"$WORK/obtain.out" | head -c 200)" [ $st -eq 0 ]
vpnc credentials list --json >"$WORK/creds.json" 2>&1
expect "credentials list: mixnet-entry tickets" "*mixnet-entry*" cat "$WORK/creds.json"
# The sandbox has one entry and one exit gateway: pin them (random could pick either as entry).
check "gateway set --entry-id --exit-id" vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID"

vpn_snapshot "$WORK/before.snap"
check "a running, disconnected daemon changed nothing on the host" diff -u "$WORK/before-daemon.snap" "$WORK/before.snap"

echo "# nym-vpnc connect --wait"
t0=$(date +%s)
vpnc connect --wait >"$WORK/connect.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/connect.out"
check "connect --wait exits 0 ($(($(date +%s) - t0)) s)" [ $st -eq 0 ]
[ $st -eq 0 ] || { tail -n 40 "$VPND_LOG"; die "not connected: nothing more to test"; }
for step in topology gateway ticket entry "ipr|packet router"; do
	check "connect --wait showed the step '$step'" grep -qiE "$step" "$WORK/connect.out"
done

vpnd_status "$WORK/status.json"
sed 's/^/    /' "$WORK/status.json"
expect "status: connected" connected jget "$WORK/status.json" state
expect "status: mode mixnet" mixnet jget "$WORK/status.json" mode
expect "status: the entry gateway" "$ENTRY_ID" jget "$WORK/status.json" connection.entry.id
expect "status: the exit gateway" "$EXIT_ID" jget "$WORK/status.json" connection.exit.id
expect "status: an IPv4 address from the IPR (10.0.0.0/16)" "10.0.*" jget "$WORK/status.json" connection.ipv4
expect "status: an IPv6 address from the IPR (fc00::/112)" "fc00::*" jget "$WORK/status.json" connection.ipv6
expect "status: the TUN device" nym0 jget "$WORK/status.json" connection.tun
expect "the TUN device's MTU is 1500" "*mtu 1500*" on client ip link show nym0
expect "the client's resolv.conf names the tunnel's resolvers" "nameserver 1.1.1.1" on client sh -c "grep nameserver /etc/resolv.conf"
check "the kill switch table inet nym-vpn is in place" sh -c "$S exec --dir '$SANDBOX_DIR' client nft list table inet nym-vpn >/dev/null"
vpnc status >"$WORK/status.txt" 2>&1
sed 's/^/    /' "$WORK/status.txt"

echo "# plain programs, through the tunnel"
NAME=vpn$$.test
FILE=v$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 262144 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
expect "getent hosts $NAME (the system resolver, through the tunnel)" "$INTERNET_IP*$NAME*" \
	on client getent ahostsv4 "$NAME"
expect "getent hosts $NAME answers IPv6 too" "$INTERNET_IP6*$NAME*" on client getent hosts "$NAME"
t0=$(date +%s)
expect "curl http://$NAME/$FILE: 256 KiB with the file's SHA-256" "$WANT" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client curl -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
echo "# (download: $(($(date +%s) - t0)) s)"
expect "python urllib by name over IPv4: the same bytes" "$WANT" on client "$PY" -c '
import hashlib, socket, sys, urllib.request
orig = socket.getaddrinfo
socket.getaddrinfo = lambda *a, **k: [x for x in orig(*a, **k) if x[0] == socket.AF_INET]
print(hashlib.sha256(urllib.request.urlopen(sys.argv[1], timeout=90).read()).hexdigest())' "http://$NAME/$FILE"
expect "ping -c 3 the internet host (IPv4)" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -c 3 -W 15 '$INTERNET_IP' | grep transmitted"
expect "ping -6 -c 3 the internet host (IPv6)" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -6 -c 3 -W 15 '$INTERNET_IP6' | grep transmitted"

echo "# what the internet host saw"
check "the web server saw the exit gateway's uplink address" \
	grep -E -q "^(::ffff:)?($EXIT_UPLINK_IP|$EXIT_UPLINK_IP6) .*GET /$FILE" "$SANDBOX_DIR/logs/http.log"
check "the web server never saw the client's addresses" \
	sh -c "! grep -E -q '^(::ffff:)?($CLIENT_IP|$CLIENT_IP6) ' '$SANDBOX_DIR/logs/http.log'"
check "the DNS server got the queries for $NAME from the exit gateway" \
	grep -E -q "query\\[A+\\] $NAME from ($EXIT_UPLINK_IP|$EXIT_UPLINK_IP6)\$" "$SANDBOX_DIR/logs/dnsmasq.log"
check "no DNS query for $NAME from the client" \
	sh -c "! grep -E -q '$NAME from ($CLIENT_IP|$CLIENT_IP6)\$' '$SANDBOX_DIR/logs/dnsmasq.log'"

echo "# nym-vpnc disconnect --wait"
vpnc disconnect --wait >"$WORK/disconnect.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/disconnect.out"
check "disconnect --wait exits 0" [ $st -eq 0 ]
expect "status: disconnected" disconnected vpnd_state
vpn_snapshot "$WORK/after.snap"
if diff -u "$WORK/before.snap" "$WORK/after.snap" >"$WORK/snap.diff"; then
	pass "after disconnect: rules, routes, links, addresses, nftables, resolv.conf, sysctls exactly as before"
else
	sed 's/^/    /' "$WORK/snap.diff"
	fail "after disconnect the client's network configuration differs from before"
fi
expect "the client reaches the internet host directly again (its own address)" "*via $ROUTER_IP dev eth0*" \
	on client ip -4 route get "$INTERNET_IP"

vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
vpn_snapshot "$WORK/after-daemon.snap"
check "the stopped daemon left nothing behind" diff -u "$WORK/before-daemon.snap" "$WORK/after-daemon.snap"
finish
