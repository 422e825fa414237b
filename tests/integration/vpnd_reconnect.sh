#!/bin/sh
# nym-vpnd when the entry gateway dies: connected in the sandbox, the entry gateway's node is
# killed (SIGKILL); the daemon leaves Connected and retries with backoff, the kill switch
# holding everything back meanwhile (HTTP, ping and DNS attempts fail); the entry node is
# started again on its data directory, the daemon reconnects by itself, and traffic flows.
# A capture of the client's eth0 across all of it holds nothing but the entry gateway's
# client link, the authority's API and ARP/NDP/DHCP (tests/lib/leak_check.py); afterwards one
# TUN, one pair of rules per family, one kill switch table. Then the network goes away (the
# client's default routes deleted): Offline, blocked; back: connected again. Then SIGTERM
# while connected: the daemon exits 0 leaving the kill switch (the target is still
# "connected"), and the next start restores the tunnel with nothing doubled.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
vpnd_sandbox

vpnd_start
vpnd_credentials || die "credentials obtain failed: $(cat "$WORK/obtain.out")"
vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null || die "gateway set failed"
vpn_snapshot "$WORK/before.snap"
vpn_capture_start all
vpnc connect --wait >"$WORK/connect.out" 2>&1 || { cat "$WORK/connect.out"; tail -n 40 "$VPND_LOG"; die "not connected"; }
pass "connected"
check "ping through the tunnel" quiet on client ping -c 1 -W 15 -q "$INTERNET_IP"
# A listener sees the states the daemon goes through.
vpnc status --listen --json >"$WORK/listen.out" 2>&1 &
LISTEN_PID=$!
i=0
until grep -q '"state"' "$WORK/listen.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "status --listen printed nothing in 10 s: $(cat "$WORK/listen.out")"
	sleep 0.1
done

echo "# the entry gateway dies"
ip netns pids "${SANDBOX_PREFIX}entry" | xargs -r kill -KILL
t0=$(date +%s)
left=""
i=0
while [ $i -lt 240 ]; do
	s=$(vpnd_state)
	[ "$s" != connected ] && { left=$s; break; }
	sleep 0.25
	i=$((i + 1))
done
if [ -n "$left" ]; then
	pass "the daemon noticed: $left after $(($(date +%s) - t0)) s"
else
	fail "the daemon still says connected 60 s after the entry gateway died"
fi
vpnd_status "$WORK/down.json"
echo "    $(cat "$WORK/down.json")"
check "the kill switch stays while the entry is away" quiet on client nft list table inet nym-vpn
vpn_try_traffic "entry gateway down"
# It retries against the dead entry (the capture judges every attempt): retry_attempt counts.
i=0
retries=0
while [ $i -lt 120 ]; do
	vpnd_status "$WORK/retry.json"
	retries=$(jget "$WORK/retry.json" retry_attempt 0)
	[ "${retries:-0}" -ge 2 ] 2>/dev/null && break
	sleep 0.25
	i=$((i + 1))
done
check "the daemon retries (retry_attempt $retries after $(($(date +%s) - t0)) s)" [ "${retries:-0}" -ge 1 ]

echo "# the entry gateway comes back"
bg_on entry "$SANDBOX_DIR/logs/entry.2.log" "$NODE" run --data-dir "$SANDBOX_DIR/entry" --workers 1 \
	--authority "$AUTH_URL" --authority-key "$AUTH_KEY"
t0=$(date +%s)
if vpnd_wait_state connected 120; then
	pass "reconnected by itself $(($(date +%s) - t0)) s after the entry came back"
else
	fail "not connected 120 s after the entry came back: $(vpnd_state)"
	tail -n 30 "$VPND_LOG"
fi
check "ping through the tunnel again" quiet on client ping -c 1 -W 15 -q "$INTERNET_IP"
expect "one TUN device" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -o link show type tun | wc -l"
for fam in 4 6; do
	expect "one 'not fwmark' rule (IPv$fam)" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -$fam rule | grep -c 'not from all fwmark 0x14d lookup 333'"
done
expect "one kill switch table" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client nft list tables | grep -c 'inet nym-vpn'"
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null
states=$(grep -o '"state": *"[a-z]*"' "$WORK/listen.out" | sed 's/.*"\([a-z]*\)"$/\1/' | uniq | tr '\n' ' ')
echo "# states seen by status --listen: $states"
case "$states" in
*connecting*connected*) pass "status --listen saw the daemon reconnect" ;;
*) fail "status --listen did not show connecting then connected: $states" ;;
esac

echo "# the network goes away: no default route"
on client ip -4 route del default
on client ip -6 route del default
t0=$(date +%s)
if vpnd_wait_state offline 30; then
	pass "offline $(($(date +%s) - t0)) s after the default routes went"
else
	fail "not offline 30 s after the default routes went: $(vpnd_state)"
fi
check "the kill switch stays while offline" quiet on client nft list table inet nym-vpn
vpn_try_traffic "offline"
on client ip -4 route add default via "$ROUTER_IP"
on client ip -6 route add default via "$ROUTER_IP6"
t0=$(date +%s)
if vpnd_wait_state connected 90; then
	pass "connected again $(($(date +%s) - t0)) s after the default routes came back"
else
	fail "not connected 90 s after the default routes came back: $(vpnd_state)"
fi
check "ping through the tunnel after the network came back" quiet on client ping -c 1 -W 15 -q "$INTERNET_IP"

echo "# SIGTERM while connected, then a new start"
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
check "stopped while connected: the kill switch stays (the target is still connected)" \
	quiet on client nft list table inet nym-vpn
vpn_try_traffic "stopped while connected"
vpnd_start
t0=$(date +%s)
if vpnd_wait_state connected 90; then
	pass "the new daemon restored the connection ($(($(date +%s) - t0)) s)"
else
	fail "the new daemon is $(vpnd_state) after 90 s, not connected"
fi
expect "one TUN device after the restart" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -o link show type tun | wc -l"
for fam in 4 6; do
	expect "one 'not fwmark' rule (IPv$fam) after the restart" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -$fam rule | grep -c 'not from all fwmark 0x14d lookup 333'"
	expect "one suppress_prefixlength rule (IPv$fam) after the restart" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client ip -$fam rule | grep -c 'suppress_prefixlength 0'"
done
expect "one kill switch table after the restart" 1 sh -c "$S exec --dir '$SANDBOX_DIR' client nft list tables | grep -c 'inet nym-vpn'"
check "ping through the tunnel after the restart" quiet on client ping -c 1 -W 15 -q "$INTERNET_IP"

check "disconnect --wait" quiet vpnc disconnect --wait
vpn_capture_stop
vpn_leaks all "no leak across connect, the entry's death, the retries, the reconnect, offline, a stop and a start" --need 1
vpn_snapshot "$WORK/after.snap"
check "disconnect restores the client's configuration" diff -u "$WORK/before.snap" "$WORK/after.snap"
vpnd_stop
finish
