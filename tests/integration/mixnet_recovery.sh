#!/bin/sh
# Loss and recovery on the whole path, in the sandbox with six mixnodes (two per layer when
# the authority spreads them evenly), Nym's per-hop delays (15 ms mean) and cover traffic,
# the mixed stream's rate lifted (--poisson-ms 0) so that the downloads take seconds, not
# minutes, while acknowledgements and retransmissions run on their real timers.
#
# Shows: a mixnode killed (SIGKILL, no goodbye) in the middle of a 4 MiB HTTP download
# through `nym-node probe` does not break it: packets lost on routes through the dead node
# are sent again when their acknowledgements do not come (and TCP inside the tunnel resends
# what the IPR's replies lost), the next signed topology leaves the node out so routes avoid
# it, and the file arrives intact (SHA-256). Then a client that goes away in the middle of a
# download (its link to the entry gateway reset under it) finds what arrived meanwhile in
# its inbox when it reconnects: the entry gateway stores and then delivers, and the download
# completes intact.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/mixnet.sh
mixnet_require

mixnet_up --mixnodes 6
BOOK=$WORK/ticketbook.json
mixnet_ticketbook "$BOOK"

# layers FILE: "layer host identity" per mixnode of a topology-fetch --json answer.
layers() {
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for l, layer in enumerate(d["layers"]):
    for n in layer:
        ip = n["mix_address"].rsplit(":", 1)[0].strip("[]")
        print(l + 1, "mix" + ip.rsplit(".", 1)[1][1:], n["identity"])' "$1"
}
topology() {
	on client "$NODE" debug topology-fetch --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --json >"$1" 2>&1
}
topology "$WORK/topo0.json" || die "topology-fetch: $(cat "$WORK/topo0.json")"
layers "$WORK/topo0.json" >"$WORK/layers0"
echo "# layers: $(awk '{ printf "%s:%s ", $1, $2 }' "$WORK/layers0")"
# The victim: a node of the fullest layer, so the layer keeps a node.
victim_layer=$(cut -d' ' -f1 "$WORK/layers0" | sort | uniq -c | sort -rn | awk 'NR == 1 { print ($1 >= 2 ? $2 : "") }')
[ -n "$victim_layer" ] || die "no layer has two mixnodes: $(cat "$WORK/layers0")"
VICTIM=$(awk -v l="$victim_layer" '$1 == l { print $2; exit }' "$WORK/layers0")
VICTIM_ID=$(awk -v l="$victim_layer" '$1 == l { print $3; exit }' "$WORK/layers0")
echo "# the victim: $VICTIM in layer $victim_layer"

BIG=big$$.bin
head -c 4194304 /dev/urandom >"$WWW_DIR/$BIG"
WANT=$(sha256sum <"$WWW_DIR/$BIG" | cut -d' ' -f1)

# wait_get FILE SECONDS: until the internet host has started answering GET /FILE.
wait_get() {
	i=0
	until grep -q "GET /$1 " "$SANDBOX_DIR/logs/http.log"; do
		i=$((i + 1))
		[ $i -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

echo "# a mixnode killed in the middle of a 4 MiB download"
mixnet_probe "$WORK/kill.json" --poisson-ms 0 --http-url "http://$INTERNET_IP/$BIG" --timeout 150 &
probe=$!
if wait_get "$BIG" 90; then
	sleep 1
	victim_pids=$(ip netns pids "$SANDBOX_PREFIX$VICTIM")
	# shellcheck disable=SC2086
	kill -KILL $victim_pids 2>/dev/null
	pass "killed $VICTIM (pids $(echo $victim_pids)) during the download"
else
	fail "the download did not start within 90 s"
fi
killed_at=$(date +%s)
# Routes avoid the dead node once a signed topology leaves it out (epochs of 4 s here).
gone=""
while [ $(($(date +%s) - killed_at)) -lt 40 ]; do
	if topology "$WORK/topo1.json" && ! grep -q "$VICTIM_ID" "$WORK/topo1.json"; then
		gone=$(($(date +%s) - killed_at))
		break
	fi
	sleep 1
done
check "the signed topology leaves $VICTIM out ${gone:+$gone s after the kill}" [ -n "$gone" ]
check "every layer still has a node" [ "$(layers "$WORK/topo1.json" | cut -d' ' -f1 | sort -u | wc -l)" -eq 3 ]
check "the download was still running then" kill -0 $probe
wait $probe
st=$?
[ $st -eq 0 ] && pass "the download completed ($(jget "$WORK/kill.json" http.seconds) s)" ||
	fail "probe: exit $st: $(head -c 600 "$WORK/kill.json") $(tail -n 5 "$WORK/kill.json.err")"
expect "http ok" true jget "$WORK/kill.json" http.ok
expect "4 MiB" 4194304 jget "$WORK/kill.json" http.bytes
expect "the SHA-256 of the file" "$WANT" jget "$WORK/kill.json" http.sha256
echo "# client: $(jget "$WORK/kill.json" stats '{}')"


echo "# a client away in the middle of a download finds its inbox when it reconnects"
stored0=$(metric entry gateway_inbox_stored)
delivered0=$(metric entry gateway_inbox_delivered)
MID=mid$$.bin
head -c 2097152 /dev/urandom >"$WWW_DIR/$MID"
WANT2=$(sha256sum <"$WWW_DIR/$MID" | cut -d' ' -f1)
mixnet_probe "$WORK/away.json" --poisson-ms 0 --http-url "http://$INTERNET_IP/$MID" --timeout 150 &
probe=$!
if wait_get "$MID" 90; then
	sleep 0.5
	# The client's link is reset under it: the gateway sees the client go while the replies
	# of the download are in the mixnet; they go to the inbox.
	on client ss -K dst "$ENTRY_IP" dport = 9000 >/dev/null 2>&1
		on client ss -K dst "$ENTRY_IP6" dport = 9000 >/dev/null 2>&1
	pass "the client's link to the entry gateway was reset during the download"
else
	fail "the download did not start within 90 s"
fi
wait $probe
st=$?
[ $st -eq 0 ] && pass "the download completed after the reconnection ($(jget "$WORK/away.json" http.seconds) s)" ||
	fail "probe: exit $st: $(head -c 600 "$WORK/away.json") $(tail -n 5 "$WORK/away.json.err")"
expect "the SHA-256 of the file" "$WANT2" jget "$WORK/away.json" http.sha256
stored=$(($(metric entry gateway_inbox_stored) - stored0))
delivered=$(($(metric entry gateway_inbox_delivered) - delivered0))
echo "# entry gateway: $stored messages stored in the inbox, $delivered delivered from it"
check "the entry gateway kept messages for the absent client ($stored)" [ "$stored" -ge 1 ]
check "and delivered them when it came back ($delivered)" [ "$delivered" -ge 1 ]
check "the client noticed the lost link and reconnected ($(jget "$WORK/away.json" stats.link_failures '?') link failures)" \
	[ "$(jget "$WORK/away.json" stats.link_failures 0)" -ge 1 ]
finish
