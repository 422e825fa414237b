#!/bin/sh
# The whole path end to end in the sandbox (scripts/sandbox.sh): `nym-node probe` on the
# client host reaches the internet host through entry gateway, three mix layers and the exit
# gateway's IP packet router, over IPv4 and IPv6, with Nym's default delays and cover traffic.
#
# Shows: ping, DNS (a name placed in $DNS_HOSTS) and an HTTP download of a random 1 MiB file
# placed in $WWW_DIR with a matching SHA-256, in each family; the internet host saw the
# exit's uplink address, never the client's; a port the default exit policy rejects (8081,
# with a server listening there) is refused at once with a TCP reset and nothing reaches the
# server; with a tiny per-ticket allowance the client spends a second ticket when the first
# runs out and the session goes on. From tcpdump on the gateways' node-segment interfaces
# during all of it (tests/lib/pcap_check.py explains the rules): nothing the entry gateway
# sends or receives carries an internet address, nothing the exit gateway exchanges with the
# mixnet carries the client's address, and every record on the client link and on the node
# links is of a fixed size class; and on the exit's uplink nothing carries the client's or a
# tunnel address (NAT).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/mixnet.sh
mixnet_require

# What one ticket buys: 2 MB of Sphinx bytes, so the first download needs a top-up or more.
TICKET_BYTES=2000000
mixnet_up --ticket-bytes "$TICKET_BYTES"
BOOK=$WORK/ticketbook.json
mixnet_ticketbook "$BOOK"
check "a ticketbook of unspent mixnet-entry tickets on the client host" [ "$(tickets_spent "$BOOK")" -eq 0 ]

# A random file and a name only this run knows.
FILE=r$$.bin
head -c 1048576 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
NAME=e2e$$.test
# NAME4 has an A record only, so the IPv4 run's download is IPv4 whatever family the probe
# prefers for a name.
NAME4=e2e$$-v4.test
printf '%s %s\n%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" "$INTERNET_IP" "$NAME4" >>"$DNS_HOSTS"
# A server on a port the default policy rejects: it must never see a connection.
bg_on internet "$WORK/denied.log" "$PY" -m http.server 8081 --bind :: --directory "$WWW_DIR"
DENIED_PID=$BG_PID
on internet "$PY" tests/lib/nymtest.py wait-port "$INTERNET_IP:8081" 10 || die "no server on 8081"

ENTRY_MAC=$(mac entry eth0)
EXIT_MAC=$(mac exit eth0)
UPLINK_MAC=$(mac exit up0)
capture_start entry eth0 "$WORK/entry.pcap"
capture_start exit eth0 "$WORK/exit.pcap"
capture_start exit up0 "$WORK/uplink.pcap"

echo "# IPv4: ping, DNS, HTTP by name (resolved through the tunnel)"
spent0=$(tickets_spent "$BOOK")
mixnet_probe "$WORK/p4.json" --ping "$INTERNET_IP" --dns-server "$INTERNET_IP" --dns-name "$NAME" \
	--http-url "http://$NAME4/$FILE" --timeout 90
st=$?
spent1=$(tickets_spent "$BOOK")
[ $st -eq 0 ] && pass "probe over IPv4 passed every check" || fail "probe over IPv4: exit $st: $(head -c 600 "$WORK/p4.json") $(tail -n 5 "$WORK/p4.json.err")"
expect "entry gateway" "$ENTRY_ID" jget "$WORK/p4.json" entry
expect "exit gateway" "$EXIT_ID" jget "$WORK/p4.json" exit
expect "an IPv4 tunnel address from 10.0.0.0/16" "10.0.*" jget "$WORK/p4.json" ipv4
expect "an IPv6 tunnel address from fc00::/112" "fc00::*" jget "$WORK/p4.json" ipv6
expect "ping ok" true jget "$WORK/p4.json" ping.ok
expect "ping: every echo answered" "$(jget "$WORK/p4.json" ping.sent)" jget "$WORK/p4.json" ping.received
expect "dns ok" true jget "$WORK/p4.json" dns.ok
expect "dns answers the name with the internet host" "*\"$INTERNET_IP\"*" jget "$WORK/p4.json" dns.answers
expect "http ok" true jget "$WORK/p4.json" http.ok
expect "http status 200" 200 jget "$WORK/p4.json" http.status
expect "http: 1 MiB" 1048576 jget "$WORK/p4.json" http.bytes
expect "http: the SHA-256 of the file" "$WANT" jget "$WORK/p4.json" http.sha256
echo "# tickets: $spent0 spent before, $spent1 after the IPv4 run; the probe says $(jget "$WORK/p4.json" stats.tickets_spent '?')"
check "a second ticket was spent when the first ran out, and the session went on ($((spent1 - spent0)) spent)" \
	[ $st -eq 0 -a $((spent1 - spent0)) -ge 2 ]
# The gateway counts a ticket once its spend is settled, which may trail the probe's exit.
i=0
while accepted=$(metric entry gateway_tickets_accepted) && [ "${accepted:-0}" -lt $((spent1 - spent0)) ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
metered=$(metric entry gateway_bytes_metered)
echo "# entry gateway: $metered Sphinx bytes metered, $(metric entry gateway_send_packets) packets forwarded, $(metric entry gateway_send_no_bandwidth) refused without bandwidth, $(metric entry gateway_low_balance_sent) low-balance warnings, $(metric entry gateway_bandwidth_exhausted_sent) exhausted errors"
check "the entry gateway accepted them ($accepted)" [ "$accepted" -ge $((spent1 - spent0)) ]
check "the run used more than one ticket buys ($metered > $TICKET_BYTES bytes metered)" [ "$metered" -gt "$TICKET_BYTES" ]
ran_low=$(($(metric entry gateway_low_balance_sent) + $(metric entry gateway_bandwidth_exhausted_sent)))
check "the gateway told the client its balance ran low or out ($ran_low times)" [ "$ran_low" -ge 1 ]

echo "# IPv6: ping, DNS, HTTP to the literal address"
mixnet_probe "$WORK/p6.json" --ping "$INTERNET_IP6" --dns-server "$INTERNET_IP6" --dns-name "$NAME" \
	--http-url "http://[$INTERNET_IP6]/$FILE" --timeout 90
st=$?
[ $st -eq 0 ] && pass "probe over IPv6 passed every check" || fail "probe over IPv6: exit $st: $(head -c 600 "$WORK/p6.json") $(tail -n 5 "$WORK/p6.json.err")"
expect "ping6 ok" true jget "$WORK/p6.json" ping.ok
expect "dns over IPv6 answers" "*\"$INTERNET_IP6\"*" jget "$WORK/p6.json" dns.answers
expect "http over IPv6: the SHA-256 of the file" "$WANT" jget "$WORK/p6.json" http.sha256

echo "# a port the default policy rejects: refused at once by the exit"
t0=$(date +%s)
mixnet_probe "$WORK/deny.json" --http-url "http://$INTERNET_IP:8081/$FILE" --timeout 30
st=$?
t1=$(date +%s)
check "the probe fails (exit $st)" [ $st -ne 0 ]
expect "the session came up (it is the check that failed)" "10.0.*" jget "$WORK/deny.json" ipv4
expect "http to 8081 failed" false jget "$WORK/deny.json" http.ok
err=$(jget "$WORK/deny.json" http.error)
case "$err" in
*[Tt]imeout* | *"timed out"*) fail "8081: a timeout, not a refusal: $err" ;;
*"refused"* | *"reset"* | *"Couldn't connect"*) pass "8081: refused ($err, $((t1 - t0)) s for the whole probe)" ;;
*) fail "8081: unexpected error: '$err'" ;;
esac
check "nothing reached the server on 8081" sh -c "! grep -q 'GET' '$WORK/denied.log'"
kill "$DENIED_PID" 2>/dev/null

echo "# the internet host saw the exit gateway, never the client"
check "HTTP over IPv4 came from the exit's uplink address" grep -q "^\\(::ffff:\\)\\{0,1\\}$EXIT_UPLINK_IP .*GET /$FILE" "$SANDBOX_DIR/logs/http.log"
check "HTTP over IPv6 came from the exit's uplink address" grep -q "^$EXIT_UPLINK_IP6 .*GET /$FILE" "$SANDBOX_DIR/logs/http.log"
check "no HTTP request from the client's addresses" sh -c "! grep -E -q '^(::ffff:)?($CLIENT_IP|$CLIENT_IP6) ' '$SANDBOX_DIR/logs/http.log'"
check "the DNS queries for $NAME came from the exit" grep -q "query\\[A*\\] $NAME from $EXIT_UPLINK_IP" "$SANDBOX_DIR/logs/dnsmasq.log"
check "the name in the IPv4 URL was resolved through the exit" grep -q "query\\[A\\] $NAME4 from $EXIT_UPLINK_IP" "$SANDBOX_DIR/logs/dnsmasq.log"
check "no DNS query for these names from the client" sh -c "! grep -E -q '($NAME|$NAME4) from ($CLIENT_IP|$CLIENT_IP6)\$' '$SANDBOX_DIR/logs/dnsmasq.log'"

capture_stop
echo "# captures: entry $(du -h "$WORK/entry.pcap" | cut -f1), exit $(du -h "$WORK/exit.pcap" | cut -f1)"
grep -h "dropped by kernel" "$WORK/entry.pcap.log" "$WORK/exit.pcap.log" | sed 's/^/# /'
"$PY" tests/lib/pcap_check.py addrs "$WORK/entry.pcap" --mac "$ENTRY_MAC" --forbid 203.0.113.0/24 \
	--forbid 2001:db8:113::/64 >"$WORK/entry-addrs.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/entry-addrs.out"
check "nothing the entry gateway sends or receives carries an internet address" [ $st -eq 0 ]
"$PY" tests/lib/pcap_check.py addrs "$WORK/exit.pcap" --mac "$EXIT_MAC" --forbid "$CLIENT_IP/32" \
	--forbid "$CLIENT_IP6/128" >"$WORK/exit-addrs.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/exit-addrs.out"
check "nothing the exit gateway exchanges with the mixnet carries the client's address" [ $st -eq 0 ]
# The internet side of the exit: its own uplink address only, neither the client's nor the
# tunnel addresses (nym-ntm masquerades nymtun0's subnets behind up0).
"$PY" tests/lib/pcap_check.py addrs "$WORK/uplink.pcap" --mac "$UPLINK_MAC" --forbid "$CLIENT_IP/32" \
	--forbid "$CLIENT_IP6/128" --forbid 10.0.0.0/16 --forbid fc00::/112 >"$WORK/uplink-addrs.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/uplink-addrs.out"
check "nothing on the exit's uplink carries the client's or a tunnel address" [ $st -eq 0 ]
"$PY" tests/lib/pcap_check.py sizes "$WORK/entry.pcap" --mac "$ENTRY_MAC" --need link,mix >"$WORK/entry-sizes.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/entry-sizes.out"
check "the entry gateway's client link and node links: one size class per record" [ $st -eq 0 ]
"$PY" tests/lib/pcap_check.py sizes "$WORK/exit.pcap" --mac "$EXIT_MAC" --need mix >"$WORK/exit-sizes.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/exit-sizes.out"
check "the exit gateway's node links: one size class per record" [ $st -eq 0 ]
finish
