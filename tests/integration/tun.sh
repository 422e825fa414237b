#!/bin/sh
# The exit gateway's TUN device, in a namespace of its own: `nym-node debug ipr` (the IP
# packet router without a mixnet) creates nymtun0 with 10.0.0.1/16 and fc00::1/112, up, with
# the configured MTU (1420); both router addresses answer ping; a packet the kernel routes to a
# client address nobody holds reaches the router and is counted as for no client; stopping
# the router removes the device.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/netns.sh

NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
[ -x "$NODE" ] || die "build nym-node first"
netns_init tun
netns_add exit
TMP=$NS_DIR

netns_bg exit "$TMP/ipr.out" "$NODE" debug ipr --policy packaging/exit-policy.txt --tun nymtun0
IPR=$NS_LAST_PID
i=0
while ! grep -q '^ready' "$TMP/ipr.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$TMP/ipr.out" >&2; die "the router did not start"; }
	kill -0 "$IPR" 2>/dev/null || { cat "$TMP/ipr.out" >&2; die "the router exited"; }
	sleep 0.1
done
pass "nym-node debug ipr started"

link=$(ip -n "${NS_P}exit" -o link show nymtun0 2>/dev/null)
case "$link" in
*"<POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP>"*"mtu 1420"*) pass "nymtun0 is up with MTU 1420" ;;
*) fail "nymtun0: '$link'" ;;
esac
addrs=$(ip -n "${NS_P}exit" -o addr show dev nymtun0)
case "$addrs" in *"inet 10.0.0.1/16"*) pass "nymtun0 holds 10.0.0.1/16" ;; *) fail "no 10.0.0.1/16: $addrs" ;; esac
case "$addrs" in *"inet6 fc00::1/112"*) pass "nymtun0 holds fc00::1/112" ;; *) fail "no fc00::1/112: $addrs" ;; esac
ping_ok() { netns_exec exit ping "$@" >/dev/null 2>&1; }
check "ping 10.0.0.1" ping_ok -c 1 -W 2 10.0.0.1
check "ping fc00::1" ping_ok -6 -c 1 -W 2 fc00::1

# Addresses of the client pool are routed into the device; nobody holds these.
if ping_ok -c 2 -i 0.2 -W 1 10.0.0.5; then
	fail "a ping to a free client address was answered"
else
	pass "a ping to a free client address goes unanswered"
fi
netns_exec exit ping -6 -c 1 -W 1 fc00::5 >/dev/null 2>&1

kill -TERM "$IPR"
wait "$IPR" 2>/dev/null
stats=$(grep '^{' "$TMP/ipr.out" | tr -d ' \n')
case "$stats" in
*'"tun_unknown":0'*|'') fail "the router saw no packet for a free address: $(cat "$TMP/ipr.out")" ;;
*'"tun_unknown":'*) pass "the packets for free addresses reached the router and were counted: $stats" ;;
esac
case "$stats" in *'"tun_malformed":0'*) pass "nothing malformed from the kernel" ;; *) fail "malformed: $stats" ;; esac
if ip -n "${NS_P}exit" link show nymtun0 >/dev/null 2>&1; then
	fail "nymtun0 outlives the router"
else
	pass "nymtun0 is gone with the router"
fi

printf 'accept *:*\n' >"$TMP/accept-all.txt"
for run in "packaging/exit-policy.txt prohibited" "$TMP/accept-all.txt echo-reply"; do
	# shellcheck disable=SC2086 # two words on purpose
	set -- $run
	out=$(netns_exec exit "$NODE" debug ipr --policy "$1" --loopback 2>"$TMP/loopback.err" | tr -d ' \n')
	case "$out" in
	*'"connected":true'*'"ipv4":"10.0.'*'"ipv6":"fc00::'*) pass "loopback client connected ($1): $out" ;;
	*) fail "loopback client did not connect ($1): $out $(cat "$TMP/loopback.err")" ;;
	esac
	case "$out" in
	*"\"ping4\":\"$2\""*"\"ping6\":\"$2\""*) pass "pings to 10.0.0.1 and fc00::1 through the router: $2" ;;
	*) fail "pings through the router ($1): want $2, got $out" ;;
	esac
done
finish
