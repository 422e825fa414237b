#!/bin/sh
# nym-node probe, the smoke test: in the sandbox, the client host obtains a ticketbook with a
# voucher and probes the entry and exit gateways over 5 hops: ICMP echo to the internet host,
# a DNS name placed in DNS_HOSTS, an HTTP GET of a random file placed in WWW_DIR (its SHA-256
# must match). The JSON has the contract's members; the probe's rules, routes and TUN device
# are gone afterwards; user errors exit 1 with a clear message.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
S=scripts/sandbox.sh
PY=/usr/bin/python3
P=prb$$

env=$($S up --prefix "$P") || die "sandbox up failed"
eval "$env"
trap '$S down --dir "$SANDBOX_DIR" >/dev/null 2>&1' EXIT
on() { $S exec client "$@"; }

# User errors, before any network is involved.
refuses "probe without --ticketbook is refused" "ticketbook" "$NODE" probe --authority "$AUTH_URL" \
	--authority-key "$AUTH_KEY"
refuses "probe with a bad exit identity is refused" "exit-gateway" "$NODE" probe --authority "$AUTH_URL" \
	--authority-key "$AUTH_KEY" --ticketbook /nonexistent --exit-gateway 'not-a-key!'
refuses "--dns-name without --dns-server is refused" "dns-server" "$NODE" probe --authority "$AUTH_URL" \
	--authority-key "$AUTH_KEY" --ticketbook /nonexistent --dns-name x.test

voucher=$($S voucher 1) || die "no voucher"
BOOK=$SANDBOX_DIR/client-tickets.json
check "the client obtains a mixnet-entry ticketbook" on "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" \
	--authority-key "$AUTH_KEY" --voucher "$voucher" --type mixnet-entry --count 5 --out "$BOOK"

name=probe$$.test
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$name" "$INTERNET_IP6" "$name" >>"$DNS_HOSTS"
head -c 262144 /dev/urandom >"$WWW_DIR/p$$.bin"
sum=$(sha256sum <"$WWW_DIR/p$$.bin" | cut -d' ' -f1)

# The entry and the exit are different gateways: the whole 5-hop path.
ENTRY_ID=$(cat "$SANDBOX_DIR/entry/data/ed25519_identity.pub")
EXIT_ID=$(cat "$SANDBOX_DIR/exit/data/ed25519_identity.pub")
OUT=$SANDBOX_DIR/probe.json
on "$NODE" probe --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --ticketbook "$BOOK" \
	--entry-gateway "$ENTRY_ID" --exit-gateway "$EXIT_ID" \
	--ping "$INTERNET_IP" --ping6 "$INTERNET_IP6" --dns-server "$INTERNET_IP" --dns-name "$name" \
	--http-url "http://$name/p$$.bin" --per-hop-delay-ms 1 --timeout 60 --json \
	>"$OUT" 2>"$SANDBOX_DIR/probe.err"
rc=$?
check "probe exits 0 (every check passed)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || { echo "--- probe stderr"; tail -n 30 "$SANDBOX_DIR/probe.err"; cat "$OUT"; }
# clientio's events, in their order: the gateways before any connection attempt, the ticket
# (4 of the book's 5 left: low) spent during the link's set-up, the IPR after the link.
events=$(sed -n 's/.*probe: event \([a-z_]*\).*/\1/p' "$SANDBOX_DIR/probe.err" | tr '\n' ' ')
expect "clientio's events come in order" \
	"topology gateways link_connecting ticket_spent tickets_low link_up ipr_wait ipr_up *" echo "$events"
expect "the gateways event carries the entry's addresses" "gateways ([1-4] entry addresses)" \
	grep -o -m1 "gateways ([0-9]* entry addresses)" "$SANDBOX_DIR/probe.err"
expect "the ticket event counts what is left" "ticket_spent (4 tickets left)" \
	grep -o -m1 "ticket_spent ([0-9]* tickets left)" "$SANDBOX_DIR/probe.err"

# shellcheck disable=SC2317 # called through expect
field() { "$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d[int(k)] if isinstance(d,list) else d[k]
print(json.dumps(d) if isinstance(d,(bool,list,dict)) or d is None else d)' "$OUT" "$1" 2>&1; }

expect "entry is the entry gateway" "$ENTRY_ID" field entry
expect "exit is the exit gateway" "$EXIT_ID" field exit
expect "ipv4 is from the IPR's pool" "10.0.*" field ipv4
expect "ipv6 is from the IPR's pool" "fc00::*" field ipv6
expect "ping ok" true field ping.ok
expect "ping got replies" "[1-9]" field ping.received
expect "ping6 ok" true field ping6.ok
expect "dns ok" true field dns.ok
expect "dns answers the internet host" "*$INTERNET_IP*" field dns.answers
expect "http ok" true field http.ok
expect "http status 200" 200 field http.status
expect "http bytes" 262144 field http.bytes
expect "http sha256 matches the file" "$sum" field http.sha256
check "the internet host saw the exit gateway, not the client" sh -c \
	"grep 'GET /p$$.bin' '$SANDBOX_DIR/logs/http.log' | grep -qv '$CLIENT_IP'"
expect "the probe marked one ticket spent in the book" 1 sh -c "grep -c '\"spent\": *true' '$BOOK'"

# Nothing left behind on the client host.
expect "no ip rule left (v4)" "" sh -c "$S exec client ip -4 rule | grep nymprobe0"
expect "no ip rule left (v6)" "" sh -c "$S exec client ip -6 rule | grep nymprobe0"
expect "no TUN left" "" sh -c "$S exec client ip link show nymprobe0 2>/dev/null"
expect "the client's main table is untouched" "*via $ROUTER_IP dev eth0*" on ip -4 route get "$INTERNET_IP"

# SIGINT in the middle of a check: the probe still removes its rules and its device.
head -c 20971520 /dev/urandom >"$WWW_DIR/big$$.bin"
on sh -c "echo \$\$ >'$SANDBOX_DIR/probe.pid'; exec '$NODE' probe --authority '$AUTH_URL' --authority-key '$AUTH_KEY' \
	--ticketbook '$BOOK' --http-url 'http://$INTERNET_IP/big$$.bin' --timeout 120 --json" >"$OUT" 2>/dev/null &
bg=$!
up=""
for _ in $(seq 1 100); do
	if $S exec client ip -4 rule | grep -q nymprobe0; then up=1; break; fi
	sleep 0.2
done
check "the interrupted probe brought its tunnel up" [ -n "$up" ]
sleep 1
kill -INT "$(cat "$SANDBOX_DIR/probe.pid")"
wait "$bg"
rc=$?
check "an interrupted probe exits 1" [ "$rc" -eq 1 ]
expect "it says so in the JSON" "interrupted" field error
expect "no ip rule left after SIGINT" "" sh -c "$S exec client ip rule | grep nymprobe0"
expect "no TUN left after SIGINT" "" sh -c "$S exec client ip link show nymprobe0 2>/dev/null"

# A check that cannot pass: exit 1, the failure in the JSON.
on "$NODE" probe --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --ticketbook "$BOOK" \
	--dns-server "$INTERNET_IP" --dns-name "nothing$$.test" --per-hop-delay-ms 1 --timeout 20 --json \
	>"$OUT" 2>/dev/null
rc=$?
check "a failed check exits 1" [ "$rc" -eq 1 ]
expect "the failed check is in the JSON" false field dns.ok
finish
