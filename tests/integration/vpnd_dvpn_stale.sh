#!/bin/sh
# Stale WireGuard tunnels, both sides, in the sandbox (--wireguard) with short limits:
# the gateways remove peers without a handshake and with nothing received from them for 20 s
# (wireguard.stale_peer_after, `--wg-stale-peer-after 20s`; 3 days by default), nym-vpnd
# reconnects when a gateway has not answered through its tunnel for 15 s
# (wireguard.stale_after; 180 s by default).
#
#   idle        connected two-hop for 25 s: the daemon's own balance requests (every 5 s) keep
#               both tunnels alive on both sides (no reconnect, no removal), while a key
#               registered by hand and never used is removed by the entry after 20 s; it
#               registers again without a ticket, on the balance the entry kept
#   blocked     the entry's UDP 51822 dropped (nft in the entry's namespace): the daemon
#               leaves Connected ("no answer from the entry gateway"), the entry
#               removes the daemon's silent peer too
#   unblocked   the daemon comes back Connected by itself (registering again), HTTP works
#
# One capture of the client's eth0 across blocked and unblocked leaks nothing.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
command -v wg >/dev/null || die "wg (wireguard-tools) is needed"
vpnd_sandbox --wireguard --wg-stale-peer-after 20s
printf 'wireguard:\n  stale_after: 15s\n' >>"$VPND_CONFIG"

metric() {
	on "$1" curl -s -m 5 "http://$2:8080/api/v1/metrics/prometheus" | awk -v n="$3" '$1 == n { print $2 }'
}
entry_removed() { v=$(metric entry "$ENTRY_IP" nym_node_wireguard_peers_removed_stale); echo "${v:-0}"; }
exit_removed() { v=$(metric exit "$EXIT_IP" nym_node_wireguard_peers_removed_stale); echo "${v:-0}"; }
# wait_for SECONDS CMD...: polls CMD (every 0.5 s) until it succeeds.
wait_for() {
	n=$(($1 * 2))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.5
		n=$((n - 1))
	done
	return 1
}
entry_removed_at_least() { [ "$(entry_removed)" -ge "$1" ]; }
not_connected() { [ "$(vpnd_state)" != connected ]; }
json() { printf '%s' "$2" | "$PY" -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

vpnd_start
codes=$($S voucher --dir "$SANDBOX_DIR" 3) || die "no vouchers from the authority"
vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$codes" | sed -n 1p)" --voucher "$(echo "$codes" | sed -n 2p)" \
	--type wg-entry --type wg-exit >"$WORK/obtain.out" 2>&1 || die "credentials obtain failed: $(cat "$WORK/obtain.out")"
on router "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$codes" | sed -n 3p)" --type wg-entry --count 2 --out "$WORK/hand.json" >/dev/null ||
	die "no wg-entry ticketbook for the hand-made key"
vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null || die "gateway set failed"
vpnc tunnel set --two-hop on >/dev/null || die "tunnel set --two-hop on failed"
NAME=dvstale$$.test
FILE=s$$.bin
printf '%s %s\n' "$INTERNET_IP" "$NAME" >>"$DNS_HOSTS"
head -c 65536 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
fetch() { on client curl -sS -m 20 "http://$NAME/$FILE" | sha256sum | cut -d' ' -f1; }
WG_ALLOW="--allow udp:$ENTRY_IP:51822 --allow udp:[$ENTRY_IP6]:51822"

on client timeout 90 "$VPNC" --socket "$VPND_SOCKET" connect --wait >"$WORK/connect.out" 2>&1
st=$?
check "connect --wait (two-hop) exits 0" [ $st -eq 0 ]
[ $st -eq 0 ] || { cat "$WORK/connect.out"; die "not connected"; }
vpnd_status "$WORK/connected.json"
SINCE=$(jget "$WORK/connected.json" connection.since 0)

echo "# idle"
# A key registered by hand with a ticket, never used on the device.
GWKEY=$(cat "$SANDBOX_DIR/entry/data/x25519_noise.pub")
KEY=$(wg genkey)
hand() { on router "$NODE" debug wg-register --gateway "$ENTRY_IP:9000" --gateway-noise-key "$GWKEY" --private-key "$KEY" "$@"; }
i=0
until out=$(hand --ticketbook "$WORK/hand.json" --ticket 0 --query) && [ "$(json 'j["registered"]' "$out")" = True ]; do
	i=$((i + 1))
	[ $i -lt 20 ] || die "the hand-made key never registered: $out"
	sleep 0.5
done
BAL=$(json 'j["balance"]' "$out")
pass "a hand-made key registered with a ticket (balance $BAL)"
t0=$(date +%s)
check "the entry removes the unused hand-made key within 35 s" wait_for 35 entry_removed_at_least 1
took=$(($(date +%s) - t0))
echo "    (removed after $took s)"
[ "$took" -ge 25 ] || sleep $((25 - took))
vpnd_status "$WORK/idle.json"
expect "after 25 s idle the daemon is still connected" connected jget "$WORK/idle.json" state
expect "... on the same connection (no reconnect)" "$SINCE" jget "$WORK/idle.json" connection.since 0
expect "the entry removed only the hand-made key" 1 entry_removed
expect "the exit removed nothing" 0 exit_removed
out=$(hand --query)
expect "the hand-made key registers again without a ticket" True json 'j["registered"]' "$out"
expect "... on the balance the entry kept" "$BAL" json 'j["balance"]' "$out"
expect "... spending nothing" False json 'j["ticket_used"]' "$out"

echo "# blocked"
vpn_capture_start stale
on entry nft -f - <<EOF || die "cannot block the entry's WireGuard port"
table inet dvstale {
	chain in {
		type filter hook input priority -300; policy accept;
		udp dport 51822 drop
	}
}
EOF
t0=$(date +%s)
if wait_for 50 not_connected; then
	pass "with the entry's WireGuard port blocked the daemon leaves Connected ($(($(date +%s) - t0)) s)"
else
	fail "the daemon is still connected 50 s after the entry's WireGuard port was blocked"
fi
expect "it says why" "*no answer from the entry gateway*" grep -m1 "no answer from the" "$VPND_LOG"
# (the hand-made key, registered again at the end of "idle" and unused since, goes as well)
check "the entry removes the daemon's silent peer too (within 50 s of the block)" \
	wait_for $((50 - ($(date +%s) - t0))) entry_removed_at_least 3
echo "    (state $(vpnd_state), $(($(date +%s) - t0)) s after the block)"
check "HTTP does not get around the blocked tunnel" sh -c "! $S exec --dir '$SANDBOX_DIR' client curl -sS -m 3 -o /dev/null http://$INTERNET_IP/ 2>/dev/null"

echo "# unblocked"
on entry nft delete table inet dvstale || fail "cannot unblock"
t0=$(date +%s)
if vpnd_wait_state connected 60; then
	pass "unblocked, the daemon comes back connected by itself ($(($(date +%s) - t0)) s)"
else
	fail "the daemon is $(vpnd_state) 60 s after the unblock, not connected"
fi
expect "curl by name through both tunnels again" "$WANT" fetch
vpn_capture_stop
# shellcheck disable=SC2086 # WG_ALLOW is a list of options
vpn_leaks stale "no leak while the tunnel goes stale, reconnects and comes back" $WG_ALLOW

check "disconnect --wait" quiet vpnc disconnect --wait
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
finish
