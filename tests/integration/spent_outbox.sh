#!/bin/sh
# Spent reports that an authority refuses are kept and retried (issue 10): gateway g1 spends
# tickets while the authority does not know it (403 to its reports). A first spend with no
# retry leaves its serial in the store's durable outbox; a second spend retries with backoff,
# and once the operator admits g1 and g1 registers, both serials reach the authority. Then
# gateway g2, which takes the authority's spent filter, refuses the first ticket. 4-second
# epochs by configuration.
set -eu
. tests/lib/netns.sh
. tests/lib/node.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init so
T=$NS_DIR

netns_host auth 198.51.100.2/24
netns_host g1 198.51.100.21/24
netns_host g2 198.51.100.22/24
netns_host client 198.51.100.30/24

GENESIS=$(($(date +%s) - 1))
"$NODE" init --id auth --mode authority --public-ip 198.51.100.2 --data-dir "$T/auth" >/dev/null
node_short_epochs "$T/auth"
for i in 1 2; do
	"$NODE" init --id "g$i" --mode entry-gateway --public-ip "198.51.100.2$i" --data-dir "$T/g$i" >/dev/null
	node_short_epochs "$T/g$i"
done
URL=http://198.51.100.2:8080
KEY=$(cat "$T/auth/data/ed25519_identity.pub")
G1=$(cat "$T/g1/data/ed25519_identity.pub")
"$NODE" authority admit --data-dir "$T/auth" "$(cat "$T/g2/data/ed25519_identity.pub")" >/dev/null

netns_bg auth "$T/auth.log" "$NODE" run --data-dir "$T/auth"
netns_wait_port client 198.51.100.2:8080 20
netns_bg g2 "$T/g2.log" "$NODE" run --data-dir "$T/g2" --workers 1 --authority "$URL" --authority-key "$KEY"

fail() {
	echo "FAIL $*"
	for f in auth g1 g2; do [ -f "$T/$f.log" ] && { echo "--- $f log"; tail -n 15 "$T/$f.log"; }; done
	exit 1
}
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

CODE=$("$NODE" authority voucher create --data-dir "$T/auth" --books 1 --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0])')
netns_exec client "$NODE" debug ticketbook-obtain --authority "$URL" --authority-key "$KEY" --voucher "$CODE" \
	--type mixnet-entry --count 4 --out "$T/book.json" >/dev/null
cp "$T/book.json" "$T/copy.json" # the cheat keeps a copy to spend again elsewhere

# 1. Refused (g1 is no registered gateway) and not retried: the serial stays pending.
out=$(netns_exec g1 "$NODE" debug ticket-spend --data-dir "$T/g1" --book "$T/book.json" --index 0 \
	--authority "$URL" --authority-key "$KEY" --json 2>"$T/spend1.err") || fail "g1 did not accept ticket 0: $out"
[ "$(field "$out" accepted)" = True ] || fail "ticket 0 not accepted: $out"
[ "$(field "$out" report_refusals)" = 1 ] && [ "$(field "$out" reports_pending)" = 1 ] ||
	fail "the refused report should be counted and kept: $out"
grep -q "spent report refused (report to $URL: .*403" "$T/spend1.err" || fail "the refusal is not in the log: $(cat "$T/spend1.err")"
echo "ok   a refused report is logged, counted and kept: $out"

# 2. Retried with backoff: admitted and registered meanwhile, g1 delivers both serials.
netns_exec g1 "$NODE" debug ticket-spend --data-dir "$T/g1" --book "$T/book.json" --index 1 \
	--authority "$URL" --authority-key "$KEY" --report-retry 40s --json >"$T/spend2.out" 2>"$T/spend2.err" &
SPEND=$!
sleep 3
"$NODE" authority admit --data-dir "$T/auth" "$G1" >/dev/null
netns_bg g1 "$T/g1.log" "$NODE" run --data-dir "$T/g1" --workers 1 --authority "$URL" --authority-key "$KEY"
wait "$SPEND" || fail "g1 did not accept ticket 1: $(cat "$T/spend2.out" "$T/spend2.err")"
out=$(cat "$T/spend2.out")
[ "$(field "$out" reported)" = 2 ] && [ "$(field "$out" reports_pending)" = 0 ] ||
	fail "both serials should have been delivered: $out"
[ "$(field "$out" report_refusals)" -ge 1 ] || fail "the retry should have met a refusal first: $out"
echo "ok   retried with backoff until the authority took both serials: $out"
netns_exec client /usr/bin/python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1] + "/api/v1/metrics/prometheus", timeout=5).read().decode()
spent = [l for l in text.splitlines() if l.startswith("nym_authority_spent_serials ")]
assert spent and int(spent[0].split()[1]) == 2, spent
' "$URL" || fail "the authority does not hold 2 spent serials"
echo "ok   the authority holds both serials"

# 3. The first ticket, spent again at g2 with the copied book: refused by the merged filter.
if out=$(netns_exec g2 "$NODE" debug ticket-spend --data-dir "$T/g2" --book "$T/copy.json" --index 0 \
	--authority "$URL" --authority-key "$KEY" --json 2>/dev/null); then
	fail "g2 accepted a ticket g1 had spent: $out"
fi
[ "$(field "$out" refused_by)" = "spent filter" ] || fail "g2 refused for another reason: $out"
echo "ok   g2 refuses the ticket g1 spent (spent filter)"
