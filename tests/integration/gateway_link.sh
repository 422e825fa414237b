#!/bin/sh
# The client link of an entry gateway under bad input (issue 11, "Bad input"): garbage before
# the handshake, a garbage and an oversized frame after it, a client that sends without
# authenticating, a bad AUTH signature, a replayed and a forged ticket: each is refused, the
# link closed where the protocol says so, and counted in the gateway's metrics; the gateway
# keeps serving a good client afterwards, which spends, sends and is metered; its balance
# survives a restart of the gateway. Final hops: a packet for the client while it is away
# goes to its inbox (its SURB-ACK sent back into the mixnet) and is delivered when it
# reconnects. An authority and one gateway in namespaces, 4-second
# epochs and a 3 MB allowance per ticket by configuration.
set -eu
. tests/lib/netns.sh
. tests/lib/node.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init gl
T=$NS_DIR

netns_host auth 198.51.100.2/24
netns_host gw 198.51.100.21/24 2001:db8:1::21/64
netns_host client 198.51.100.30/24 2001:db8:1::30/64

GENESIS=$(($(date +%s) - 1))
ALLOWANCE=3000000
"$NODE" init --id auth --mode authority --public-ip 198.51.100.2 --data-dir "$T/auth" >/dev/null
node_short_epochs "$T/auth"
"$NODE" init --id gw --mode entry-gateway --public-ip 198.51.100.21 --data-dir "$T/gw" >/dev/null
node_short_epochs "$T/gw"
sed -i -e "s/^  bandwidth_per_ticket: .*/  bandwidth_per_ticket: $ALLOWANCE/" \
	-e "s/^  link_first_frame_timeout: .*/  link_first_frame_timeout: 2s/" "$T/gw/config/config.yaml"
grep -q "bandwidth_per_ticket: $ALLOWANCE" "$T/gw/config/config.yaml" || { echo "FAIL config key not written"; exit 1; }
URL=http://198.51.100.2:8080
KEY=$(cat "$T/auth/data/ed25519_identity.pub")
GWKEY=$(cat "$T/gw/data/x25519_noise.pub")
"$NODE" authority admit --data-dir "$T/auth" "$(cat "$T/gw/data/ed25519_identity.pub")" >/dev/null

netns_bg auth "$T/auth.log" "$NODE" run --data-dir "$T/auth"
netns_wait_port client 198.51.100.2:8080 20
start_gateway() {
	netns_bg gw "$T/gw.log" "$NODE" run --data-dir "$T/gw" --workers 1 --authority "$URL" --authority-key "$KEY"
	GW_PID=$NS_LAST_PID
	netns_wait_port client 198.51.100.21:9000 20
	netns_wait_port client 198.51.100.21:8080 20
}
start_gateway

stop_gateway() {
	netns_kill gw TERM
	i=0
	while kill -0 "$GW_PID" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "the gateway did not stop"
		sleep 0.2
	done
}
fail() {
	echo "FAIL $*"
	for f in auth gw; do [ -f "$T/$f.log" ] && { echo "--- $f log"; tail -n 25 "$T/$f.log"; }; done
	exit 1
}
# json EXPR JSON: evaluates a Python expression over the object j.
json() { /usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$2"; }
metric() {
	netns_exec client /usr/bin/python3 -c '
import sys, urllib.request
text = urllib.request.urlopen("http://198.51.100.21:8080/api/v1/metrics/prometheus", timeout=5).read().decode()
v = [l.split()[1] for l in text.splitlines() if l.startswith(sys.argv[1] + " ")]
print(v[0] if v else "missing")' "$1"
}
# expect_metric NAME MIN: waits (metrics are published every second) for NAME >= MIN.
expect_metric() {
	i=0
	while :; do
		v=$(metric "$1")
		[ "$v" != missing ] && [ "$v" -ge "$2" ] && return 0
		i=$((i + 1))
		[ $i -lt 30 ] || fail "metric $1 = $v, want >= $2"
		sleep 0.2
	done
}
GWADDR=198.51.100.21:9000
lc() { netns_exec client "$NODE" debug link-client --gateway "$GWADDR" --gateway-noise-key "$GWKEY" "$@"; }

CODE=$("$NODE" authority voucher create --data-dir "$T/auth" --books 1 --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0])')
netns_exec client "$NODE" debug ticketbook-obtain --authority "$URL" --authority-key "$KEY" --voucher "$CODE" \
	--type mixnet-entry --count 5 --out "$T/book.json" >/dev/null
SEED=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# 0. A good client spends ticket 0 (the gateway may need a moment for the issuer keys).
i=0
while :; do
	out=$(lc --identity-seed "$SEED" --ticketbook "$T/book.json" --ticket 0) || fail "link-client failed: $out"
	[ "$(json 'j["spends"][0]["ok"]' "$out")" = True ] && break
	i=$((i + 1))
	[ $i -lt 20 ] || fail "ticket 0 never accepted: $out"
	sleep 0.5
done
[ "$(json 'j["auth"]' "$out")" = ok ] && [ "$(json 'j["spends"][0]["balance"]' "$out")" = $ALLOWANCE ] ||
	fail "good client: $out"
echo "ok   a good client authenticates and spends a ticket: $ALLOWANCE bytes"

# 1. Garbage instead of a handshake.
out=$(lc --send-garbage) || fail "$out"
[ "$(json 'j["closed_by_gateway"]' "$out")" = True ] || fail "garbage: $out"
expect_metric nym_node_gateway_link_noise_failures 1
echo "ok   garbage before the handshake: closed, counted"

# 2. An oversized frame and a frame of an unknown type after the handshake.
out=$(lc --oversize) || fail "$out"
[ "$(json 'j["closed_by_gateway"]' "$out")" = True ] && [ "$(json '"protocol" in j["errors"]' "$out")" = True ] ||
	fail "oversize: $out"
out=$(lc --garbage-frame) || fail "$out"
[ "$(json 'j["closed_by_gateway"]' "$out")" = True ] && [ "$(json '"protocol" in j["errors"]' "$out")" = True ] ||
	fail "garbage frame: $out"
expect_metric nym_node_gateway_link_protocol_errors 2
echo "ok   oversized and garbage frames: ERROR protocol, closed, counted"

# 3. SEND without AUTH; a bad signature; a timestamp far off.
out=$(lc --no-auth) || fail "$out"
[ "$(json 'j["closed_by_gateway"]' "$out")" = True ] && [ "$(json '"protocol" in j["errors"]' "$out")" = True ] ||
	fail "unauthenticated: $out"
expect_metric nym_node_gateway_link_unauthenticated 1
out=$(lc --bad-signature) || fail "$out"
[ "$(json 'j["auth"]' "$out")" = auth ] || fail "bad signature: $out"
expect_metric nym_node_gateway_link_auth_failed 1
out=$(lc --skew 1000) || fail "$out"
[ "$(json 'j["auth"]' "$out")" = clock_skew ] || fail "skew: $out"
expect_metric nym_node_gateway_link_clock_skew 1
echo "ok   unauthenticated SEND, bad signature, clock skew: refused, counted"

# 4. The ticket spent in 0, replayed on a new link and on the same link; a forged ticket.
out=$(lc --ticketbook "$T/book.json" --ticket 0) || fail "$out"
[ "$(json 'j["spends"][0]["answer"]' "$out")" = ticket_spent ] || fail "replay: $out"
out=$(lc --ticketbook "$T/book.json" --ticket 1 --replay-ticket) || fail "$out"
[ "$(json 'j["spends"][0]["ok"]' "$out")" = True ] && [ "$(json 'j["spends"][1]["answer"]' "$out")" = ticket_spent ] ||
	fail "replay on the same link: $out"
expect_metric nym_node_gateway_tickets_reused 2
out=$(lc --ticketbook "$T/book.json" --ticket 2 --forge-ticket) || fail "$out"
[ "$(json 'j["spends"][0]["answer"]' "$out")" = ticket_rejected ] || fail "forged: $out"
expect_metric nym_node_gateway_tickets_rejected 1
echo "ok   replayed tickets (ticket_spent) and a forged one (ticket_rejected): refused, counted"

# 5. The good client is still served (over IPv6 this time): its balance, metering of what it sends.
GWADDR='[2001:db8:1::21]:9000'
out=$(lc --identity-seed "$SEED" --send 10 --wait-ms 300) || fail "$out"
GWADDR=198.51.100.21:9000
[ "$(json 'j["auth"]' "$out")" = ok ] && [ "$(json 'j["balance_at_auth"]' "$out")" = $ALLOWANCE ] || fail "after abuse: $out"
expect_metric nym_node_gateway_send_packets 10
expect_metric nym_node_gateway_bytes_metered $((10 * 2413))
echo "ok   the gateway keeps serving the good client (IPv6); 10 packets sent and metered"

# 6. A top-up on the open link, and the balance across a restart.
out=$(lc --identity-seed "$SEED" --ticketbook "$T/book.json" --ticket 3) || fail "$out"
WANT=$((2 * ALLOWANCE - 10 * 2413))
[ "$(json 'j["spends"][0]["balance"]' "$out")" = $WANT ] || fail "top-up: $out (want $WANT)"
# The serials the gateway accepted (tickets 0, 1 and 3) reach the authority through the outbox.
i=0
until netns_exec client /usr/bin/python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1] + "/api/v1/metrics/prometheus", timeout=5).read().decode()
spent = [l for l in text.splitlines() if l.startswith("nym_authority_spent_serials ")]
sys.exit(0 if spent and int(spent[0].split()[1]) == 3 else 1)' "$URL"; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "the authority does not hold the 3 spent serials"
	sleep 0.2
done
echo "ok   the 3 accepted serials were reported to the authority"
stop_gateway
! grep -q "Sanitizer" "$T/gw.log" || fail "the sanitizers complained"
start_gateway
out=$(lc --identity-seed "$SEED") || fail "$out"
[ "$(json 'j["balance_at_auth"]' "$out")" = $WANT ] || fail "after restart: $out (want $WANT)"
echo "ok   balance $WANT survives a gateway restart"

# send_final ID [ack]: a final hop for identity ID, built for each of the gateway's live
# Sphinx keys (the rotation byte names the key by parity), framed by hand and sent to its
# mixnet port; its SURB-ACK's first hop is the gateway itself. With "ack": an ack-class
# packet (21 bytes of plaintext, no SURB-ACK of its own) instead.
send_final() {
	class=1
	size=2065
	[ "${2:-}" != ack ] || { class=2; size=38; }
	for pub in "$T"/gw/data/x25519_sphinx_*.pub; do
		rot=${pub##*_}
		rot=${rot%.pub}
		/usr/bin/python3 - "$pub" "$T/route_$rot.json" "$T/msg_$rot.hex" <<'PY'
import json, os, sys
A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
n = 0
for ch in open(sys.argv[1]).read().strip():
    n = n * 58 + A.index(ch)
key = n.to_bytes(32, "big")
json.dump([{"address": "00" * 32, "public_key": key.hex(), "delay_ns": 0}], open(sys.argv[2], "w"))
# SURB-ACK: first hop 198.51.100.21:1789 (unpadded IPv4, zero padded to 19), a 386-byte packet
ack = bytes([4, 0x06, 0xfd, 198, 51, 100, 21]) + bytes(12) + os.urandom(386)
open(sys.argv[3], "w").write((ack + b"inbox-check" + bytes(1643 - 11)).hex())
open(sys.argv[3] + ".ack", "w").write(os.urandom(21).hex())
PY
		msg=$(cat "$T/msg_$rot.hex")
		[ "$class" = 1 ] || msg=$(cat "$T/msg_$rot.hex.ack")
		pkt=$("$NODE" debug sphinx-create --route "$T/route_$rot.json" --destination "$1" \
			--identifier 00000000000000000000000000000000 --payload-size "$size" --message "$msg" |
			/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["packet"])')
		netns_exec client /usr/bin/python3 -c '
import socket, sys
rot = 1 if int(sys.argv[2]) % 2 else 2
s = socket.create_connection(("198.51.100.21", 1789), 5)
s.sendall(bytes([8, int(sys.argv[3]), 0, rot]) + bytes.fromhex(sys.argv[1]))
s.close()' "$pkt" "$rot" "$class"
	done
}

# 7. A final hop for the client while it is away: SURB-ACK sent, message to the inbox, and
# delivered when the client comes back.
ID=$(json 'j["identity"]' "$out")
send_final "$ID"
expect_metric nym_node_gateway_inbox_stored 1
expect_metric nym_node_gateway_surb_acks_sent 1
out=$(lc --identity-seed "$SEED" --wait-ms 1000) || fail "$out"
[ "$(json 'j["received"]' "$out")" -ge 1 ] || fail "the stored message was not delivered: $out"
expect_metric nym_node_gateway_inbox_delivered 1
echo "ok   a final hop for an absent client: SURB-ACK sent, stored, delivered on reconnect"

# 8. ... and while it is connected: straight onto its link.
AUTHS=$(metric nym_node_gateway_link_auth_ok)
lc --identity-seed "$SEED" --wait-ms 4000 >"$T/connected.out" &
LC=$!
i=0
until [ "$(metric nym_node_gateway_link_auth_ok)" -gt "$AUTHS" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "the client did not connect"
	sleep 0.1
done
ACKS=$(metric nym_node_gateway_surb_acks_sent)
send_final "$ID"
send_final "$ID" ack
wait "$LC" || fail "link-client: $(cat "$T/connected.out")"
out=$(cat "$T/connected.out")
[ "$(json 'j["received"] - j["received_acks"]' "$out")" -ge 1 ] && [ "$(json 'j["received_acks"]' "$out")" -ge 1 ] ||
	fail "not delivered to the connected client: $out"
expect_metric nym_node_gateway_delivered_to_clients 2
[ "$(metric nym_node_gateway_surb_acks_sent)" -gt "$ACKS" ] || fail "no SURB-ACK sent for the message"
echo "ok   a final hop and an ack for a connected client arrive on its link"

# 9. A second link of the same identity takes over: the first is closed by the gateway.
lc --identity-seed "$SEED" --wait-ms 5000 >"$T/first.out" &
LC=$!
sleep 1
out=$(lc --identity-seed "$SEED") || fail "$out"
[ "$(json 'j["auth"]' "$out")" = ok ] || fail "second link: $out"
wait "$LC" || fail "link-client: $(cat "$T/first.out")"
[ "$(json 'j["closed_by_gateway"]' "$(cat "$T/first.out")")" = True ] || fail "the first link stayed open: $(cat "$T/first.out")"
echo "ok   a second link of one identity takes over, the first is closed"

# 10. One address holds at most gateway.max_clients_per_address (16) links.
netns_exec client /usr/bin/python3 -c '
import socket, time
s = [socket.create_connection(("198.51.100.21", 9000), 5) for _ in range(20)]
time.sleep(0.5)
for x in s: x.close()'
expect_metric nym_node_gateway_client_links_refused 4
echo "ok   links over the per-address limit are refused and counted"

# 11. A connection that never completes a handshake is closed at the first-frame deadline.
netns_exec client /usr/bin/python3 -c '
import socket, time
s = socket.create_connection(("198.51.100.21", 9000), 5)
s.settimeout(6)
t = time.time()
assert s.recv(1) == b"", "expected the gateway to close"
assert 1.5 < time.time() - t < 5, time.time() - t'
expect_metric nym_node_gateway_link_first_frame_timeouts 1
echo "ok   a silent connection is closed at gateway.link_first_frame_timeout and counted"
stop_gateway
! grep -q "Sanitizer" "$T/gw.log" || fail "the sanitizers complained"
