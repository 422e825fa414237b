#!/bin/sh
# scripts/sandbox.sh: `up` builds a network where every host answers on IPv4 and IPv6, the
# internet host's DNS (re-reading its hosts file), HTTP and iperf3 servers work from the
# client, the client's default route reaches the internet host directly through its provider;
# `exec`, `voucher` and `status` work from other processes; `down` leaves nothing behind.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
S=scripts/sandbox.sh
PY=/usr/bin/python3
P=sbt$$
RESOLV_BEFORE=$(sha256sum /etc/resolv.conf 2>/dev/null)

env=$($S up --prefix "$P") || die "sandbox up failed"
eval "$env"
# Only if a check below dies before `down` is tested.
trap '[ -d "$SANDBOX_DIR" ] && $S down --dir "$SANDBOX_DIR" >/dev/null 2>&1' EXIT

on() { $S exec "$@"; }

for v in SANDBOX_PREFIX SANDBOX_DIR AUTH_URL AUTH_KEY WWW_DIR DNS_HOSTS CLIENT_IP ENTRY_IP EXIT_IP INTERNET_IP \
	CLIENT_IP6 ENTRY_IP6 EXIT_IP6 INTERNET_IP6 RESOLVERS VPND_CONFIG VPND_SOCKET; do
	eval "val=\${$v:-}"
	# shellcheck disable=SC2154 # set by the eval
	check "up exports $v ($val)" [ -n "$val" ]
done
check "the prefix is the one asked for" [ "$SANDBOX_PREFIX" = "$P" ]

nodes=$(on client "$NODE" debug topology-fetch --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --json |
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); print(sum(len(l) for l in d["layers"]) + len(d["gateways"]))')
expect "the signed topology lists every node" 5 echo "$nodes"

pings() {
	from=$1
	shift
	for addr in "$@"; do check "$from pings $addr" on "$from" ping -c 1 -W 2 -q "$addr" >/dev/null; done
}
for h in mix1 mix2 mix3 entry exit client router; do pings "$h" "$AUTH_IP" "$AUTH_IP6"; done
pings auth "$CLIENT_IP" "$CLIENT_IP6" "$EXIT_IP6"
pings client "$INTERNET_IP" "$INTERNET_IP6"
pings internet "$CLIENT_IP" "$CLIENT_IP6" "$EXIT_UPLINK_IP" "$EXIT_UPLINK_IP6"
pings exit "$INTERNET_IP" "$INTERNET_IP6"

expect "the client's IPv4 default route is its provider" "*via $ROUTER_IP dev eth0*" on client ip -4 route get "$INTERNET_IP"
expect "the client's IPv6 default route is its provider" "*via $ROUTER_IP6 dev eth0*" on client ip -6 route get "$INTERNET_IP6"

# DNS: a name added after `up` resolves (the server re-read its hosts file), from the client,
# through the resolver configuration `ip netns exec` gives it.
name=n$$.test
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$name" "$INTERNET_IP6" "$name" >>"$DNS_HOSTS"
resolve() {
	on client "$PY" -c '
import socket, sys, time
fam = socket.AF_INET6 if sys.argv[2] == "6" else socket.AF_INET
for _ in range(30):
    try:
        print(socket.getaddrinfo(sys.argv[1], 80, fam, socket.SOCK_STREAM)[0][4][0])
        break
    except socket.gaierror:
        time.sleep(0.1)
else:
    print("unresolved")' "$@"
}
expect "the client resolves $name added after up (A)" "$INTERNET_IP" resolve "$name" 4
expect "the client resolves $name added after up (AAAA)" "$INTERNET_IP6" resolve "$name" 6
# NymVPN's default resolvers are the internet host too: reached from the exit gateway (the
# tunnel's way out) and from the client through its provider (where a leak would go).
for r in $RESOLVERS; do
	expect "the exit gateway resolves $name through $r" "$INTERNET_IP" on exit "$PY" tests/lib/dnsq.py "$r" "$name" A
	expect "the client resolves $name through $r directly" "$INTERNET_IP6" on client "$PY" tests/lib/dnsq.py "$r" "$name" AAAA
done
check "up wrote the client's nym-vpnd configuration" grep -q "socket: \"$VPND_SOCKET\"" "$VPND_CONFIG"
check "... naming this authority" grep -q "authorities: \[\"$AUTH_URL\"\]" "$VPND_CONFIG"
check "the answer came from the sandbox's DNS server" grep -q "query\[A\] $name from $CLIENT_IP" "$SANDBOX_DIR/logs/dnsmasq.log"
expect "the client's resolver is the internet host" "nameserver $INTERNET_IP" on client cat /etc/resolv.conf
expect "an unknown .test name is not answered" unresolved resolve "nothing$$.test" 4

# HTTP: a random file placed in WWW_DIR comes back intact, by name, over both families, from
# the client's own address (so through the provider, not the exit gateway's NAT).
head -c 1048576 /dev/urandom >"$WWW_DIR/r$$.bin"
want=$(sha256sum <"$WWW_DIR/r$$.bin")
expect "HTTP GET of a random 1 MiB file over IPv4 matches its SHA-256" "$want" \
	sh -c "$S exec client curl -4 -sS -m 10 http://$name/r$$.bin | sha256sum"
expect "HTTP GET of a random 1 MiB file over IPv6 matches its SHA-256" "$want" \
	sh -c "$S exec client curl -6 -sS -m 10 http://$name/r$$.bin | sha256sum"
check "the internet host saw the client's IPv4 address" grep -q "^\\(::ffff:\\)\\{0,1\\}$CLIENT_IP .*GET /r$$.bin" "$SANDBOX_DIR/logs/http.log"
check "the internet host saw the client's IPv6 address" grep -q "^$CLIENT_IP6 .*GET /r$$.bin" "$SANDBOX_DIR/logs/http.log"

for addr in "$INTERNET_IP" "$INTERNET_IP6"; do
	if out=$(on client timeout 20 iperf3 -c "$addr" -n 8M -J 2>&1); then
		mbps=$(printf '%s' "$out" | "$PY" -c 'import json,sys; print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))')
		pass "iperf3 from the client to $addr: $mbps Mbit/s"
	else
		fail "iperf3 from the client to $addr: $(printf '%s' "$out" | tail -n 3)"
	fi
done

expect "exec runs on the named host" "*inet $CLIENT_IP/24*" on client ip -4 -o addr show dev eth0
on client sh -c 'exit 7'
expect "exec keeps the command's exit status" 7 echo $?
refuses "exec refuses an unknown host" "no host 'nohost'" $S exec nohost true
expect "exec finds the sandbox by --prefix alone" "*inet $EXIT_UPLINK_IP/24*" \
	env -u SANDBOX_DIR $S exec --prefix "$P" exit ip -4 -o addr show dev up0
expect "voucher 3 prints three different codes" 3 sh -c "$S voucher 3 | sort -u | grep -c ."
# Vouchers made one after the other by separate `voucher` runs, each redeemed before the next
# is made, all work with the running authority (its database connections once lost their
# lock, and a voucher made after the first issuance was "unknown").
for i in 1 2 3; do
	code=$($S voucher 1)
	expect "ticketbook $i from a voucher made after the previous issuance" "*10 wg-exit tickets*" \
		on client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
		--voucher "$code" --type wg-exit --count 10 --out "$SANDBOX_DIR/book$i.json"
done
expect "status shows the internet host's servers" "*dnsmasq iperf3 python3*" sh -c "$S status | grep ' internet '"

pids=$(for ns in $(ip netns list | awk -v p="$P" 'index($1, p) == 1 { print $1 }'); do ip netns pids "$ns"; done)
check "the sandbox runs processes (nodes and servers: $(echo "$pids" | wc -w))" [ "$(echo "$pids" | wc -w)" -ge 9 ]
check "down succeeds" $S down --prefix "$P"
expect "down leaves no namespace" "" sh -c "ip netns list | grep '^$P'"
expect "down leaves no /etc/netns entry" "" sh -c "ls -d /etc/netns/$P* 2>/dev/null"
check "down removes the state directory" [ ! -e "$SANDBOX_DIR" ]
# Killed processes may linger a moment as zombies until their new parent reaps them.
running() {
	for pid in $pids; do
		st=$(ps -o stat= -p "$pid" 2>/dev/null) || continue
		case "$st" in Z*) ;; *) echo "$pid" ;; esac
	done
}
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(running)" ] && break; sleep 0.5; done
expect "down leaves no process" "" running
expect "this machine's /etc/resolv.conf is untouched" "$RESOLV_BEFORE" sha256sum /etc/resolv.conf
refuses "exec after down says so" "no sandbox" $S exec --prefix "$P" client true
finish
