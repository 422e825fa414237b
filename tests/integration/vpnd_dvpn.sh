#!/bin/sh
# nym-vpnd in two-hop (dVPN) mode: in the sandbox with WireGuard-enabled gateways
# (scripts/sandbox.sh up --wireguard), nym-vpnc obtains wg-entry and wg-exit credentials,
# turns two-hop on and connects (--wait, the registration steps shown); the daemon registers
# with the entry over a marked link, brings up nym-wg-entry (MTU 1420), registers with the exit
# through it and brings up nym-wg-exit (MTU 1340) inside. Then plain programs reach the
# internet host: ping, DNS and a 1 MiB download with matching SHA-256 over IPv4 and IPv6;
# (the ticket buys 4 MB: a third download takes both tunnels below half of it and the daemon
# tops each up through its in-tunnel metadata endpoint, without interruption);
# `nym-node probe --two-hop` runs its checks through the same two nested tunnels with the
# daemon's remaining books and leaves nothing behind;
# `status --json` shows mode wireguard, both gateways, both private address pairs, the backend
# and each tunnel's remaining bandwidth. The client's physical interface carries nothing but
# UDP to the entry's WireGuard port, the marked link to the entry and the authority; the
# entry's capture holds no internet address; the exit's no client address. `disconnect
# --wait` puts everything back exactly as it was.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
# One wg ticket buys 4 MB here: the downloads below take each tunnel under half of it, and the
# daemon tops both up through their metadata endpoints while the traffic goes on.
vpnd_sandbox --wireguard --wg-ticket-bytes 4000000

# The entry forwards its WireGuard clients only to other gateways' 51822/udp and 9000/tcp
# (nym-ntm in entry mode, applied by the sandbox with --wireguard).
check "the entry gateway forwards (nym-ntm entry mode)" [ "$(on entry sysctl -n net.ipv4.ip_forward)" = 1 ]

vpn_snapshot "$WORK/before-daemon.snap"
vpnd_start
check "nym-vpnd answers on its socket" vpnc status
codes=$($S voucher --dir "$SANDBOX_DIR" 2) || die "no vouchers from the authority"
A=$(echo "$codes" | sed -n 1p)
B=$(echo "$codes" | sed -n 2p)
vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$A" --voucher "$B" \
	--type wg-entry --type wg-exit >"$WORK/obtain.out" 2>&1
st=$?
check "credentials obtain: wg-entry and wg-exit ($(tr '\n' ' ' <"$WORK/obtain.out" | head -c 200))" [ $st -eq 0 ]
vpnc credentials list --json >"$WORK/creds.json" 2>&1
expect "credentials list: wg-entry tickets" "*wg-entry*" cat "$WORK/creds.json"
expect "credentials list: wg-exit tickets" "*wg-exit*" cat "$WORK/creds.json"
check "gateway set --entry-id --exit-id" vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID"
check "tunnel set --two-hop on" vpnc tunnel set --two-hop on
expect "tunnel get: two_hop true" true sh -c "'$S' exec --dir '$SANDBOX_DIR' client '$VPNC' --socket '$VPND_SOCKET' tunnel get --json | '$PY' -c 'import json,sys; print(str(json.load(sys.stdin)[\"two_hop\"]).lower())'"

vpn_snapshot "$WORK/before.snap"
vpn_capture_start client
bg_on entry "$WORK/entry.pcap.log" tcpdump -i nymwg -s 256 -U --immediate-mode -n -Z root -w "$WORK/entry.pcap"
ENTRY_CAP=$BG_PID
bg_on exit "$WORK/exit.pcap.log" tcpdump -i nymwg -s 256 -U --immediate-mode -n -Z root -w "$WORK/exit.pcap"
EXIT_CAP=$BG_PID
sleep 1

echo "# nym-vpnc connect --wait"
t0=$(date +%s)
on client timeout 120 "$VPNC" --socket "$VPND_SOCKET" connect --wait >"$WORK/connect.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/connect.out"
check "connect --wait exits 0 ($(($(date +%s) - t0)) s)" [ $st -eq 0 ]
[ $st -eq 0 ] || { tail -n 40 "$VPND_LOG"; die "not connected: nothing more to test"; }
for step in "registering with the entry" "registering with the exit" "configuring"; do
	check "connect --wait showed the step '$step'" grep -qiE "$step" "$WORK/connect.out"
done

vpnd_status "$WORK/status.json"
sed 's/^/    /' "$WORK/status.json"
expect "status: connected" connected jget "$WORK/status.json" state
expect "status: mode wireguard" wireguard jget "$WORK/status.json" mode
expect "status: the entry gateway" "$ENTRY_ID" jget "$WORK/status.json" connection.entry.id
expect "status: the exit gateway" "$EXIT_ID" jget "$WORK/status.json" connection.exit.id
expect "status: the backend" userspace jget "$WORK/status.json" connection.wireguard.backend
expect "status: the entry tunnel's IPv4 (10.1.0.0/16)" "10.1.*" jget "$WORK/status.json" connection.wireguard.entry.ipv4
expect "status: the entry tunnel's IPv6 (fc01::/112)" "fc01::*" jget "$WORK/status.json" connection.wireguard.entry.ipv6
expect "status: the exit tunnel's IPv4 (10.1.0.0/16)" "10.1.*" jget "$WORK/status.json" connection.wireguard.exit.ipv4
expect "status: the exit tunnel's IPv6 (fc01::/112)" "fc01::*" jget "$WORK/status.json" connection.wireguard.exit.ipv6
expect "status: the entry's remaining bandwidth" "[1-9]*" jget "$WORK/status.json" connection.wireguard.entry.bandwidth
expect "status: the exit's remaining bandwidth" "[1-9]*" jget "$WORK/status.json" connection.wireguard.exit.bandwidth
expect "status: the tunnel is the exit device" nym-wg-exit jget "$WORK/status.json" connection.tun
expect "the entry device's MTU is 1420" "*mtu 1420*" on client ip link show nym-wg-entry
expect "the exit device's MTU is 1340" "*mtu 1340*" on client ip link show nym-wg-exit
expect "the client's resolv.conf names the tunnel's resolvers" "nameserver 1.1.1.1" on client sh -c "grep nameserver /etc/resolv.conf"

echo "# plain programs, through both tunnels"
NAME=dvpn$$.test
FILE=d$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 1048576 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
expect "getent ahostsv4 $NAME (the system resolver, through the tunnel)" "$INTERNET_IP*$NAME*" on client getent ahostsv4 "$NAME"
expect "getent hosts $NAME answers IPv6 too" "$INTERNET_IP6*$NAME*" on client getent hosts "$NAME"
expect "curl -4 http://$NAME/$FILE: 1 MiB with the file's SHA-256" "$WANT" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client curl -4 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
expect "curl -6 http://$NAME/$FILE: the same bytes over IPv6" "$WANT" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client curl -6 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
expect "ping -c 3 the internet host (IPv4)" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -c 3 -W 10 '$INTERNET_IP' | grep transmitted"
expect "ping -6 -c 3 the internet host (IPv6)" "*3 packets transmitted, [1-3] received*" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client ping -6 -c 3 -W 10 '$INTERNET_IP6' | grep transmitted"
echo "# automatic top-up through the metadata endpoints (4 MB per ticket)"
expect "a third download (IPv4): the same bytes" "$WANT" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client curl -4 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
i=0
until grep -q "topped up nym-wg-entry" "$VPND_LOG" && grep -q "topped up nym-wg-exit" "$VPND_LOG"; do
	i=$((i + 1))
	[ $i -lt 40 ] || break
	sleep 1
done
grep -E "topping up|topped up" "$VPND_LOG" | sed 's/^/    /'
check "the daemon topped up the entry tunnel (a wg-entry ticket through 10.1.0.1:51830)" grep -q "topped up nym-wg-entry" "$VPND_LOG"
check "the daemon topped up the exit tunnel (a wg-exit ticket through the nested tunnel)" grep -q "topped up nym-wg-exit" "$VPND_LOG"
sleep 6
vpnd_status "$WORK/status2.json"
expect "still connected after the top-ups" connected jget "$WORK/status2.json" state
expect "no reconnection on the way" 0 jget "$WORK/status2.json" retry_attempt
check "status: the entry's balance above half a ticket again" \
	[ "$(jget "$WORK/status2.json" connection.wireguard.entry.bandwidth)" -gt 2000000 ]
check "status: the exit's balance above half a ticket again" \
	[ "$(jget "$WORK/status2.json" connection.wireguard.exit.bandwidth)" -gt 2000000 ]
expect "and the traffic goes on (IPv6 download)" "$WANT" \
	sh -c "$S exec --dir '$SANDBOX_DIR' client curl -6 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
check "the web server never saw the client's addresses" \
	sh -c "! grep -E -q '^(::ffff:)?($CLIENT_IP|$CLIENT_IP6) ' '$SANDBOX_DIR/logs/http.log'"

echo "# captures"
vpn_capture_stop
kill -TERM "$ENTRY_CAP" "$EXIT_CAP" 2>/dev/null
wait "$ENTRY_CAP" "$EXIT_CAP" 2>/dev/null
"$PY" tests/lib/leak_check.py "$WORK/client.pcap" --mac "$CLIENT_MAC" --label client \
	--allow "udp:$ENTRY_IP:51822" --allow "tcp:$ENTRY_IP:9000" --allow "tcp:$AUTH_IP:8080" >"$WORK/client.leaks" 2>&1
st=$?
sed 's/^/    /' "$WORK/client.leaks"
check "the client's interface: only UDP to entry:51822, the link to entry:9000, the authority" [ $st -eq 0 ]
check "the entry's nymwg capture holds no internet address" \
	sh -c "! tcpdump -n -r '$WORK/entry.pcap' 2>/dev/null | grep -E -q '($INTERNET_IP|$INTERNET_IP6)[. ]'"
check "the entry's nymwg capture shows the nested tunnel (UDP to the exit)" \
	sh -c "tcpdump -n -r '$WORK/entry.pcap' 2>/dev/null | grep -q '\\.51822: UDP'"
check "the exit's nymwg capture holds no client address" \
	sh -c "! tcpdump -n -r '$WORK/exit.pcap' 2>/dev/null | grep -E -q '($CLIENT_IP|$CLIENT_IP6)[. ]'"
check "the exit's nymwg capture shows the internet host" \
	sh -c "tcpdump -n -r '$WORK/exit.pcap' 2>/dev/null | grep -E -q '($INTERNET_IP|$INTERNET_IP6)[. ]'"

echo "# nym-vpnc disconnect --wait"
vpnc disconnect --wait >"$WORK/disconnect.out" 2>&1
st=$?
check "disconnect --wait exits 0" [ $st -eq 0 ]
expect "status: disconnected" disconnected vpnd_state
vpn_snapshot "$WORK/after.snap"
if diff -u "$WORK/before.snap" "$WORK/after.snap" >"$WORK/snap.diff"; then
	pass "after disconnect: rules, routes, links, addresses, nftables, resolv.conf, sysctls exactly as before"
else
	sed 's/^/    /' "$WORK/snap.diff"
	fail "after disconnect the client's network configuration differs from before"
fi
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]

echo "# nym-node probe --two-hop (the daemon's remaining wg books)"
TDIR=$(dirname "$(find "$VPND_DATA" -name 'wg-entry-*.json' | head -n 1)")
on client sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' "$SANDBOX_DIR/client-wireguard" timeout 120 "$NODE" probe --two-hop --ticket-dir "$TDIR" --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--entry-gateway "$ENTRY_ID" --exit-gateway "$EXIT_ID" --ping "$INTERNET_IP" --ping6 "$INTERNET_IP6" \
	--dns-server 1.1.1.1 --dns-name "$NAME" --http-url "http://$NAME/$FILE" --timeout 30 --json \
	>"$WORK/probe.json" 2>"$WORK/probe.err"
st=$?
sed 's/^/    /' "$WORK/probe.json" "$WORK/probe.err"
check "probe --two-hop exits 0" [ $st -eq 0 ]
expect "probe: mode two-hop" two-hop jget "$WORK/probe.json" mode
expect "probe: the backend" userspace jget "$WORK/probe.json" backend
expect "probe: ping through both tunnels" true jget "$WORK/probe.json" ping.ok
expect "probe: ping6 through both tunnels" true jget "$WORK/probe.json" ping6.ok
expect "probe: DNS through both tunnels" true jget "$WORK/probe.json" dns.ok
expect "probe: the download's SHA-256" "$WANT" jget "$WORK/probe.json" http.sha256
vpn_snapshot "$WORK/after-probe.snap"
check "the probe left nothing behind" diff -u "$WORK/after.snap" "$WORK/after-probe.snap"
finish
