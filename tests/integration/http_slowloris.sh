#!/bin/sh
# An authority's HTTP API under hostile load: 300 connections that never finish their request
# (one header line every 5 s, from 30 addresses), eight clients fetching /v1/nodes back to back
# (a registry of 5,000 entries), and connections beyond the per-address limit, while a
# well-behaved client's requests must each answer within 1 s. The connection cap is set below
# the attack's size, so the oldest unfinished requests have to make room. The checks are in
# http_slowloris.py, which runs on the client host. About 45 s.
#
# MEASURE_ONLY=1 NODE=path/to/nym-node sh tests/integration/http_slowloris.sh measures any
# build (even one without the limits) without asserting.
set -eu
. tests/lib/netns.sh
NODE=${NODE:-"$(pwd)/${NYM_BUILD:-build}/bin/nym-node"}
netns_init hs
T=$NS_DIR

SERVER=198.51.100.1
GOOD_ADDR=198.51.100.50
ATTACK_ADDRS=""
for i in $(seq 100 129); do ATTACK_ADDRS="$ATTACK_ADDRS 198.51.100.$i"; done
FETCH_ADDRS=""
for i in $(seq 60 67); do FETCH_ADDRS="$FETCH_ADDRS 198.51.100.$i"; done
netns_host auth "$SERVER/24"
# shellcheck disable=SC2046 # one argument per address
netns_host client "$GOOD_ADDR/24" $(for a in $ATTACK_ADDRS $FETCH_ADDRS; do echo "$a/24"; done)
PER_ADDRESS=16
DEADLINE=10
export SERVER GOOD_ADDR ATTACK_ADDRS FETCH_ADDRS PER_ADDRESS DEADLINE

D="$T/auth"
"$NODE" init --id hs --mode authority --public-ip "$SERVER" --data-dir "$D" >/dev/null
# The largest page of /v1/nodes (4096 nodes, over 2 MB here) is what the fetchers ask for.
sed -i -e "s/issuer_key_bits: .*/issuer_key_bits: 2048/" -e "s/^  nodes_page_size: .*/  nodes_page_size: 4096/" \
	"$D/config/config.yaml"
if [ "${MEASURE_ONLY:-0}" != 1 ]; then
	sed -i -e "s/^  max_connections: .*/  max_connections: 256/" \
		-e "s/^  max_connections_per_address: .*/  max_connections_per_address: $PER_ADDRESS/" \
		-e "s/^  request_deadline: .*/  request_deadline: ${DEADLINE}s/" "$D/config/config.yaml"
	grep -q "^  max_connections: 256" "$D/config/config.yaml"
fi

# A first start creates the databases; the registry then gets 5,000 entries of the size of a
# real description (they fail to parse, so nothing but /v1/nodes ever shows them).
netns_bg auth "$T/auth0.log" "$NODE" run --data-dir "$D"
netns_wait_port client "$SERVER:8080" 60
kill "$NS_LAST_PID"
wait "$NS_LAST_PID" || true
python3 - "$D/data/registry.db" <<'EOF'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
rows = [(os.urandom(32), now, 1, '{"filler":"%s"}' % os.urandom(250).hex(), now, now) for _ in range(5000)]
db.executemany("INSERT INTO nodes (identity, published, roles, description, first_seen, last_announced) "
               "VALUES (?, ?, ?, ?, ?, ?)", rows)
db.commit()
EOF

netns_bg auth "$T/auth.log" "$NODE" run --data-dir "$D"
AUTH_PID=$NS_LAST_PID
netns_wait_port client "$SERVER:8080" 30
# The attack shares this machine's CPUs with the authority: niced, it stands for machines of
# its own (the good client, in http_slowloris.py, runs at normal priority).
if ! netns_exec client timeout 180 nice -n 10 /usr/bin/python3 tests/integration/http_slowloris.py; then
	echo "--- authority log"
	tail -n 30 "$T/auth.log"
	exit 1
fi
# A clean stop, with nothing for the sanitizers to report (under make SANITIZE=1).
kill "$AUTH_PID"
wait "$AUTH_PID"
if grep -E "Sanitizer|runtime error" "$T/auth.log"; then
	exit 1
fi
