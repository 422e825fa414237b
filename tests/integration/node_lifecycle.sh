#!/bin/sh
# nym-node as an operator meets it: init and its refusals, configuration errors that name
# file, line and expectation, keys show, the HTTP API, SIGHUP reloading the description and
# log level, and a clean stop on SIGTERM. Runs in a namespace of its own.
set -eu
. scripts/lib/netns.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
T=$(mktemp -d)
netns_init lc
trap 'status=$?; netns_cleanup; rm -rf "$T"; exit $status' EXIT
netns_host node 198.51.100.40/24
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
refuses() { # refuses DESCRIPTION PATTERN COMMAND...: must exit 1 and print PATTERN on stderr
	what=$1
	pattern=$2
	shift 2
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	if [ "$rc" -eq 1 ] && grep -q -- "$pattern" "$T/err"; then
		echo "ok   $what"
	else
		echo "FAIL $what (exit $rc): $(head -c 300 "$T/err")"
		fail=1
	fi
}

D="$T/node"
check "init creates a node" "$NODE" init --id lc1 --mode mixnode --public-ip 198.51.100.40 --location NL --data-dir "$D"
check "private keys are mode 0600" test "$(stat -c %a "$D/data/ed25519_identity")" = 600
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
api() { netns_exec node /usr/bin/python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://198.51.100.40:8080/api/v1/'+sys.argv[1],timeout=5).read().decode())" "$1"; }
check "health answers" sh -c "$(printf '%s' "ip netns exec ${NS_P}node /usr/bin/python3 -c \"import urllib.request; assert b'up' in urllib.request.urlopen('http://198.51.100.40:8080/api/v1/health').read()\"")"
check "the description is served" sh -c "test \"\$(ip netns exec ${NS_P}node /usr/bin/python3 -c \"import urllib.request,json; print(json.load(urllib.request.urlopen('http://198.51.100.40:8080/api/v1/description'))['moniker'])\")\" = first"
check "roles say mixnode" sh -c "ip netns exec ${NS_P}node /usr/bin/python3 -c \"import urllib.request,json; assert json.load(urllib.request.urlopen('http://198.51.100.40:8080/api/v1/roles'))['mixnode_enabled']\""
check "host information is signed by the identity" sh -c "ip netns exec ${NS_P}node /usr/bin/python3 - <<'PY'
import json, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def b58(s):
    n = 0
    for c in s: n = n * 58 + A.index(c)
    return n.to_bytes(64 if len(s) > 50 else 32, 'big')
h = json.load(urllib.request.urlopen('http://198.51.100.40:8080/api/v1/host-information'))
data = json.dumps(h['data'], separators=(',', ':'), sort_keys=True).encode()
Ed25519PublicKey.from_public_bytes(b58(h['data']['keys']['ed25519_identity'])).verify(b58(h['signature']), data)
PY"

# SIGHUP: a new description and a new log level, without a restart.
printf 'moniker: second\n' >"$D/data/description.yaml"
sed -i 's/^  level: .*/  level: debug/' "$D/config/config.yaml"
kill -HUP "$PID"
sleep 1.5
check "SIGHUP reloads the description" sh -c "test \"\$(ip netns exec ${NS_P}node /usr/bin/python3 -c \"import urllib.request,json; print(json.load(urllib.request.urlopen('http://198.51.100.40:8080/api/v1/description'))['moniker'])\")\" = second"
check "SIGHUP reloads the log level" grep -q "SIGHUP: log level debug" "$T/node.log"
check "the node is still the same process" kill -0 "$PID"

kill -TERM "$PID"
for i in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops it" sh -c "! kill -0 $PID 2>/dev/null"
check "it logs a clean stop" grep -q "stopped" "$T/node.log"
check "its replay filter was saved" sh -c "ls '$D'/data/replay_*.bloom >/dev/null"
exit $fail
