#!/bin/sh
# nym-node as an operator meets it: init and its refusals, configuration errors that name
# file, line and expectation, keys show, the HTTP API, SIGHUP reloading the description and
# log level, and a clean stop on SIGTERM. Runs in a namespace of its own.
set -eu
. tests/lib/netns.sh
. tests/lib/assert.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init lc
T=$NS_DIR
netns_host node 198.51.100.40/24

D="$T/node"
check "init creates a node" "$NODE" init --id lc1 --mode mixnode --public-ip 198.51.100.40 --location NL --data-dir "$D"
check "private keys are mode 0600" test "$(stat -c %a "$D/data/ed25519_identity")" = 600
# Every node gets its WireGuard key at init (as Nym's), not at the first run with wireguard.enabled.
check "init creates the WireGuard key (data/x25519_wireguard, 0600, and .pub)" \
	sh -c "test \"\$(stat -c %a '$D/data/x25519_wireguard')\" = 600 && test -s '$D/data/x25519_wireguard.pub'"
refuses "init refuses to overwrite keys" "refusing to overwrite" \
	"$NODE" init --id lc1 --mode mixnode --public-ip 198.51.100.40 --data-dir "$D"
refuses "a bad public IP is named" "host.public_ips" \
	"$NODE" init --id x --mode mixnode --public-ip 300.1.1.1 --data-dir "$T/x"
refuses "a bad mode is named" "mode: expected" \
	"$NODE" init --id x --mode teapot --public-ip 198.51.100.1 --data-dir "$T/x"
refuses "a bad country code is named" "two-letter country code" \
	"$NODE" init --id x --mode mixnode --public-ip 198.51.100.1 --location Narnia --data-dir "$T/x"
refuses "a missing option is named" "missing required option --mode" \
	"$NODE" init --id x --public-ip 198.51.100.1 --data-dir "$T/x"
refuses "run without a node says so" "run \`nym-node init\` first" "$NODE" run --data-dir "$T/nothing"

# Configuration errors stop the node with file, line and what was expected.
cp "$D/config/config.yaml" "$T/good.yaml"
printf 'mixnet:\n  bogus_key: 1\n' >>"$D/config/config.yaml"
refuses "an unknown key stops run with file and line" "config.yaml:[0-9]*:[0-9]*: unknown" "$NODE" run --data-dir "$D"
cp "$T/good.yaml" "$D/config/config.yaml"
sed -i 's/connection_idle_timeout: .*/connection_idle_timeout: soon/' "$D/config/config.yaml"
refuses "a bad duration stops run" "expected a duration" "$NODE" run --data-dir "$D"
cp "$T/good.yaml" "$D/config/config.yaml"
sed -i 's/announce_port: .*/announce_port: 70000/' "$D/config/config.yaml"
refuses "an out-of-range port stops run" "between 0 and 65535" "$NODE" run --data-dir "$D"
cp "$T/good.yaml" "$D/config/config.yaml"
sed -i 's/busy_poll: .*/busy_poll: 50ms/' "$D/config/config.yaml"
refuses "a busy-poll budget over 10 ms stops run" "busy_poll: must be between 0 and 0.01 seconds" "$NODE" run --data-dir "$D"
cp "$T/good.yaml" "$D/config/config.yaml"

check "keys show --json has the four keys" sh -c "'$NODE' keys show --data-dir '$D' --json | /usr/bin/python3 -c 'import json,sys; k=json.load(sys.stdin); assert set(k)=={\"identity\",\"sphinx\",\"sphinx_rotation\",\"noise\"}'"

printf 'moniker: first\nwebsite: https://example.org\n' >"$D/data/description.yaml"
netns_bg node "$T/node.log" "$NODE" run --data-dir "$D" --workers 1
PID=$NS_LAST_PID
netns_wait_port node 198.51.100.40:8080
# api PATH [FIELD]: the node's /api/v1/PATH, or one field of its JSON answer.
api() {
	netns_exec node "$PY" -c 'import sys; sys.path.insert(0, "tests/lib"); import nymtest
url = "http://198.51.100.40:8080/api/v1/" + sys.argv[1]
print(nymtest.http_json(url)[sys.argv[2]] if len(sys.argv) > 2 else nymtest.http_get(url)[1].decode())' "$@"
}
check "health answers" test -n "$(api health | grep up)"
check "the description is served" test "$(api description moniker)" = first
check "roles say mixnode" test "$(api roles mixnode_enabled)" = True
check "host information is signed by the identity" netns_exec node "$PY" - <<'PY'
import json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
sys.path.insert(0, "tests/lib")
from nymtest import b58decode, http_json
def b58(s):
    return b58decode(s, 64 if len(s) > 50 else 32)
h = http_json('http://198.51.100.40:8080/api/v1/host-information')
data = json.dumps(h['data'], separators=(',', ':'), sort_keys=True).encode()
Ed25519PublicKey.from_public_bytes(b58(h['data']['keys']['ed25519_identity'])).verify(b58(h['signature']), data)
PY

# SIGHUP: a new description and a new log level, without a restart.
printf 'moniker: second\n' >"$D/data/description.yaml"
sed -i 's/^  level: .*/  level: debug/' "$D/config/config.yaml"
kill -HUP "$PID"
sleep 1.5
check "SIGHUP reloads the description" test "$(api description moniker)" = second
check "SIGHUP reloads the log level" grep -q "SIGHUP: log level debug" "$T/node.log"
check "the node is still the same process" kill -0 "$PID"

kill -TERM "$PID"
for i in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops it" sh -c "! kill -0 $PID 2>/dev/null"
check "it logs a clean stop" grep -q "stopped" "$T/node.log"
check "its replay filter was saved" sh -c "ls '$D'/data/replay_*.bloom >/dev/null"
finish
