#!/bin/sh
# The gateway's WireGuard service in the sandbox (`up --wireguard`, a tiny wg allowance): a
# hand-made client registers with the entry over the client link (`nym-node debug
# wg-register`, a wg-entry ticket), then a plain wireguard-go peer configured with wg(8) and
# the returned address pair joins the entry and pings 10.1.0.1; the metadata endpoint answers
# inside the tunnel on 10.1.0.1 and [fc01::1] (a top-up with a ticket included) and refuses
# from outside; a bad MAC, a
# reused ticket and a mixnet-entry ticket are refused and counted, a second registration of
# the same key is idempotent; nym-ntm on the entry lets tunnel clients reach only the exit's
# WireGuard and client ports; the peer is removed once it has used its allowance;
# a one-hop peer of the exit reaches the internet host through nymwg (nym-ntm exit table);
# wireguard-stats shows its traffic.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
S=scripts/sandbox.sh
PY=/usr/bin/python3
P=wgg$$
WGIF=wgt$$
WGX=wgx$$
ALLOWANCE=200000

{ command -v wireguard-go && command -v wg; } >/dev/null || die "wireguard-go and wg are needed"
env=$($S up --prefix "$P" --wg-ticket-bytes "$ALLOWANCE") || die "sandbox up failed"
eval "$env"
cleanup() {
	$S exec client ip link del "$WGIF" >/dev/null 2>&1
	$S exec client ip link del "$WGX" >/dev/null 2>&1
	rm -f "/run/wireguard/$WGIF.sock" "/run/wireguard/$WGX.sock"
	$S down --dir "$SANDBOX_DIR" >/dev/null 2>&1
}
trap cleanup EXIT

on() { $S exec "$@"; }
# wg(8) on the entry's device: inside the node's mount namespace (its private /run/wireguard).
entry_wg() {
	pid=$(ip netns pids "${P}entry" | head -n 1)
	nsenter -t "$pid" -m -n wg "$@"
}
json() { printf '%s' "$2" | "$PY" -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
GWKEY=$(cat "$SANDBOX_DIR/entry/data/x25519_noise.pub")
reg() { on client "$NODE" debug wg-register --gateway "$ENTRY_IP:9000" --gateway-noise-key "$GWKEY" "$@"; }
metric() {
	on entry curl -s "http://$ENTRY_IP:8080/api/v1/metrics/prometheus" | awk -v n="$1" '$1 == n { print $2 }'
}
# Waits until metric $1 >= $2 (the gateway publishes once a second).
metric_at_least() {
	i=0
	while :; do
		v=$(metric "$1")
		[ "${v:-0}" -ge "$2" ] && return 0
		i=$((i + 1))
		[ $i -lt 30 ] || return 1
		sleep 0.2
	done
}

V=$($S voucher 3)
on client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$V" | sed -n 1p)" --type wg-entry --count 5 --out "$SANDBOX_DIR/wg.json" >/dev/null ||
	die "no wg-entry ticketbook"
on client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$V" | sed -n 2p)" --type mixnet-entry --count 2 --out "$SANDBOX_DIR/mix.json" >/dev/null ||
	die "no mixnet-entry ticketbook"
on client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$V" | sed -n 3p)" --type wg-exit --count 2 --out "$SANDBOX_DIR/wgx.json" >/dev/null ||
	die "no wg-exit ticketbook"
check "the entry's nymwg has 10.1.0.1/16 and fc01::1/112" sh -c \
	"$S exec entry ip -br addr show nymwg | grep -q '10.1.0.1/16.*fc01::1/112'"
check "the exit runs its own nymwg" sh -c "$S exec exit ip link show nymwg >/dev/null"

# 1. Registration with ticket 0 (the entry may need a moment for the issuer keys).
KEY=$(wg genkey)
i=0
while :; do
	out=$(reg --private-key "$KEY" --ticketbook "$SANDBOX_DIR/wg.json" --ticket 0 --query) || die "wg-register: $out"
	[ "$(json 'j["registered"]' "$out")" = True ] && break
	i=$((i + 1))
	[ $i -lt 20 ] || die "never registered: $out"
	sleep 0.5
done
pass "registered with a wg-entry ticket: $out"
IP4=$(json 'j["ipv4"]' "$out")
IP6=$(json 'j["ipv6"]' "$out")
GWWG=$(json 'j["gateway_key"]' "$out")
expect "the port is 51822" 51822 json 'j["port"]' "$out"
expect "the balance is one ticket's allowance" "$ALLOWANCE" json 'j["balance"]' "$out"
expect "WG_QUERY says the same" "$ALLOWANCE" json 'j["queried_balance"]' "$out"
expect "the gateway key is the device's" "$GWWG" entry_wg show nymwg public-key

# 2. The same key again with the same ticket: idempotent, nothing spent.
out2=$(reg --private-key "$KEY" --ticketbook "$SANDBOX_DIR/wg.json" --ticket 0)
expect "a second registration answers registered" True json 'j["registered"]' "$out2"
expect "... with the same IPv4 address" "$IP4" json 'j["ipv4"]' "$out2"
expect "... spending no ticket" False json 'j["ticket_used"]' "$out2"

# 3. Refusals: a bad MAC, the reused ticket 0 for another key, a mixnet-entry ticket.
refused0=$(metric nym_node_wireguard_registrations_refused)
out=$(reg --ticketbook "$SANDBOX_DIR/wg.json" --ticket 1 --bad-mac)
expect "a bad MAC is refused" False json 'j["registered"]' "$out"
out=$(reg --ticketbook "$SANDBOX_DIR/wg.json" --ticket 0)
expect "a reused ticket is refused" False json 'j["registered"]' "$out"
out=$(reg --ticketbook "$SANDBOX_DIR/mix.json" --ticket 0)
expect "a mixnet-entry ticket is refused" False json 'j["registered"]' "$out"
check "the three refusals are counted" metric_at_least nym_node_wireguard_registrations_refused $((${refused0:-0} + 3))
out=$(reg --ticketbook "$SANDBOX_DIR/wg.json" --ticket 1)
expect "ticket 1 (untouched by the bad MAC) still registers a key" True json 'j["registered"]' "$out"

# 4. A plain wireguard-go peer with the pair. The client's wireguard-go uses the machine's
# /run/wireguard under a name of its own; the gateways have private ones.
printf '%s\n' "$KEY" >"$SANDBOX_DIR/wg.key"
chmod 600 "$SANDBOX_DIR/wg.key"
# In the foreground (a daemonised wireguard-go does not outlive `ip netns exec` here).
on client wireguard-go -f "$WGIF" >"$SANDBOX_DIR/logs/$WGIF.log" 2>&1 &
i=0
until on client wg show "$WGIF" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || die "wireguard-go's socket did not appear"
	sleep 0.1
done
on client wg set "$WGIF" private-key "$SANDBOX_DIR/wg.key" peer "$GWWG" endpoint "$ENTRY_IP:51822" \
	allowed-ips "10.1.0.1/32,fc01::1/128,$EXIT_IP/32,$AUTH_IP/32" || die "wg set failed"
on client ip addr add "$IP4/32" dev "$WGIF"
on client ip -6 addr add "$IP6/128" dev "$WGIF" nodad 2>/dev/null
on client ip link set "$WGIF" up mtu 1420
on client ip route add 10.1.0.1/32 dev "$WGIF" src "$IP4"
on client ip -6 route add fc01::1/128 dev "$WGIF" src "$IP6" 2>/dev/null
on client ip route add "$EXIT_IP/32" dev "$WGIF" src "$IP4"
on client ip route add "$AUTH_IP/32" dev "$WGIF" src "$IP4"
check "the peer pings 10.1.0.1 through the tunnel" sh -c "$S exec client ping -c 2 -W 3 -q 10.1.0.1 >/dev/null"
check "the peer pings fc01::1 through the tunnel" sh -c "$S exec client ping -6 -c 1 -W 3 -q fc01::1 >/dev/null"
expect "the metadata endpoint answers inside the tunnel" '*"available_bandwidth":*' \
	on client curl -s -m 5 http://10.1.0.1:51830/v1/bandwidth/available
expect "the metadata version" '{"version":1}' on client curl -s -m 5 http://10.1.0.1:51830/v1/bandwidth/version
expect "the metadata endpoint answers on [fc01::1] too (the peer by its IPv6 address)" '*"available_bandwidth":*' \
	on client curl -6 -s -m 5 'http://[fc01::1]:51830/v1/bandwidth/available'
# A top-up through the metadata endpoint, without leaving the tunnel (ticket 2).
reg --ticketbook "$SANDBOX_DIR/wg.json" --ticket 2 --print-ticket >"$SANDBOX_DIR/topup.json"
before=$(on client curl -s -m 5 http://10.1.0.1:51830/v1/bandwidth/available)
after=$(on client curl -s -m 5 -H 'Content-Type: application/json' --data-binary "@$SANDBOX_DIR/topup.json" \
	http://10.1.0.1:51830/v1/bandwidth/topup)
expect "a top-up inside the tunnel adds one ticket's allowance" True \
	json "json.loads('$after')['available_bandwidth'] - j['available_bandwidth'] >= $ALLOWANCE - 20000" "$before"
expect "the same ticket again: 409" 409 on client curl -s -o /dev/null -w '%{http_code}' -m 5 \
	--data-binary "@$SANDBOX_DIR/topup.json" http://10.1.0.1:51830/v1/bandwidth/topup
outside0=$(metric nym_node_wireguard_metadata_refused_outside)
expect "the metadata endpoint refuses from outside the tunnel" 403 \
	on entry curl -s -o /dev/null -w '%{http_code}' -m 5 http://10.1.0.1:51830/v1/bandwidth/available
check "... and counts it" metric_at_least nym_node_wireguard_metadata_refused_outside $((${outside0:-0} + 1))
expect "the metadata endpoint refuses from outside the tunnel on IPv6 too" 403 \
	on entry curl -6 -s -o /dev/null -w '%{http_code}' -m 5 'http://[fc01::1]:51830/v1/bandwidth/available'

# nym-ntm on the entry (entry-gateway mode, covering nymwg): tunnel clients reach the exit's
# client link, nothing else.
tcp_to() {
	on client "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3); print("open")' "$1" "$2" 2>/dev/null || echo closed
}
expect "through the entry, the exit's client link (9000/tcp) is reachable" open tcp_to "$EXIT_IP" 9000
expect "through the entry, the authority's API is not" closed tcp_to "$AUTH_IP" 8080

# 5. wireguard-stats shows the traffic (metered every 5 s).
i=0
while :; do
	st=$(on entry curl -s "http://$ENTRY_IP:8080/api/v1/metrics/wireguard-stats")
	[ "$(json 'j["bytes_rx"] > 0 and j["total_peers"] >= 2' "$st")" = True ] && break
	i=$((i + 1))
	[ $i -lt 30 ] || break
	sleep 0.5
done
expect "wireguard-stats shows the peers and their traffic" True json 'j["bytes_rx"] > 0 and j["total_peers"] >= 2' "$st"

# 6. One hop to the exit: a wg-exit ticket, and nym-ntm's exit table forwards and masquerades
# nymwg's traffic under the exit policy (HTTP to the internet host).
XGWKEY=$(cat "$SANDBOX_DIR/exit/data/x25519_noise.pub")
XKEY=$(wg genkey)
out=$(on client "$NODE" debug wg-register --gateway "$EXIT_IP:9000" --gateway-noise-key "$XGWKEY" \
	--private-key "$XKEY" --ticketbook "$SANDBOX_DIR/wgx.json" --ticket 0)
expect "registered with the exit with a wg-exit ticket" True json 'j["registered"]' "$out"
XIP4=$(json 'j.get("ipv4", "")' "$out")
printf '%s\n' "$XKEY" >"$SANDBOX_DIR/wgx.key"
chmod 600 "$SANDBOX_DIR/wgx.key"
on client wireguard-go -f "$WGX" >"$SANDBOX_DIR/logs/$WGX.log" 2>&1 &
i=0
until on client wg show "$WGX" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || die "wireguard-go's socket did not appear"
	sleep 0.1
done
on client wg set "$WGX" private-key "$SANDBOX_DIR/wgx.key" peer "$(json 'j["gateway_key"]' "$out")" \
	endpoint "$EXIT_IP:51822" allowed-ips "$INTERNET_IP/32"
on client ip addr add "$XIP4/32" dev "$WGX"
on client ip link set "$WGX" up mtu 1420
on client ip route add "$INTERNET_IP/32" dev "$WGX" src "$XIP4"
expect "HTTP to the internet host through the exit's nymwg" '[0-9][0-9][0-9]' \
	on client curl -s -o /dev/null -w '%{http_code}' -m 5 "http://$INTERNET_IP/"
on client ip link del "$WGX"

# 7. The allowance used up: the peer is removed (within a metering interval or two).
on client ping -c 500 -i 0.004 -s 1300 -W 1 -q 10.1.0.1 >/dev/null 2>&1
check "the peer out of bandwidth is removed" metric_at_least nym_node_wireguard_peers_removed_no_bandwidth 1 ||
	sleep 6
i=0
while entry_wg show nymwg peers 2>/dev/null | grep -q "$(echo "$KEY" | wg pubkey)"; do
	i=$((i + 1))
	[ $i -lt 30 ] || break
	sleep 0.5
done
PUB=$(echo "$KEY" | wg pubkey)
if entry_wg show nymwg peers | grep -q "$PUB"; then fail "the device no longer has the peer"; else pass "the device no longer has the peer"; fi
check "the peer's pings no longer pass" sh -c "! $S exec client ping -c 1 -W 2 -q 10.1.0.1 >/dev/null 2>&1"
finish
