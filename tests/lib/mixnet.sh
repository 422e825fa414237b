# The mixnet end-to-end tests' and the path benchmark's helpers (sourced from the top of the
# tree after tests/lib/assert.sh, not run): a sandbox (scripts/sandbox.sh) for the run,
# tickets on the client host, `nym-node probe` runs, JSON fields, node metrics and packet
# captures.
#
#   mixnet_require                     # the build and the tools the tests need, or die
#   mixnet_up [sandbox up options]     # the sandbox, its exports loaded, removed at exit
#   on HOST CMD...                     # run on a sandbox host
#   mixnet_ticketbook FILE             # a voucher from the authority, a ticketbook on the client
#   mixnet_probe OUT.json [options]    # nym-node probe --json from the client host; $?: its status
#   jget FILE PATH [DEFAULT]           # a JSON member, e.g. jget out.json http.sha256
#   metric HOST NAME                   # a node's Prometheus counter (sum over labels; 0 if absent)
#   bg_on HOST LOG CMD...              # CMD in the background on a host ($BG_PID)
#   capture_start HOST IF FILE         # tcpdump of every full frame on an interface
#   capture_stop                       # stops every capture of this run, flushed

S=scripts/sandbox.sh
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CAPTURE_PIDS=""

# The build must have the client side (nym-node probe) and the gateway side (client links,
# the IPR): say which part is missing rather than fail obscurely.
mixnet_require() {
	node=${NYM_BUILD:-build}/bin/nym-node
	[ -x "$node" ] || die "no $node: build first (make)"
	"$node" probe --help >/dev/null 2>&1 || die "this nym-node has no 'probe' command (issue 11, the client side)"
	for tool in tcpdump curl dnsmasq ss; do command -v $tool >/dev/null || die "$tool is missing (scripts/deps.sh)"; done
}

mixnet_up() {
	env=$($S up --prefix "mx$$" "$@") || die "scripts/sandbox.sh up $* failed"
	eval "$env"
	# shellcheck disable=SC2154 # SANDBOX_DIR comes from the eval
	trap 'st=$?; capture_stop; $S down --dir "$SANDBOX_DIR" >/dev/null 2>&1; exit $st' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ENTRY_ID=$(cat "$SANDBOX_DIR/entry/data/ed25519_identity.pub")
	EXIT_ID=$(cat "$SANDBOX_DIR/exit/data/ed25519_identity.pub")
	WORK=$SANDBOX_DIR/test
	mkdir -p "$WORK"
}

on() { $S exec --dir "$SANDBOX_DIR" "$@"; }

mixnet_ticketbook() {
	code=$($S voucher --dir "$SANDBOX_DIR" 1) || die "no voucher from the authority"
	on client "$NODE" debug ticketbook-obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
		--voucher "$code" --type mixnet-entry --out "$1" --json >"$1.obtain" 2>&1 ||
		die "ticketbook-obtain failed: $(cat "$1.obtain")"
}

# The number of spent tickets in a ticketbook file.
tickets_spent() {
	"$PY" -c 'import json,sys; print(sum(1 for t in json.load(open(sys.argv[1]))["tickets"] if t.get("spent")))' "$1"
}

# mixnet_probe OUT [OPTIONS...]: the probe between the sandbox's entry and exit gateways with
# the run's ticketbook ($BOOK); its JSON in OUT, its stderr in OUT.err.
mixnet_probe() {
	out=$1
	shift
	on client "$NODE" probe --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --entry-gateway "$ENTRY_ID" \
		--exit-gateway "$EXIT_ID" --ticketbook "$BOOK" --json "$@" >"$out" 2>"$out.err"
}

jget() {
	"$PY" - "$@" <<'EOF'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
except Exception:
    v = sys.argv[3] if len(sys.argv) > 3 else ""
print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)
EOF
}

# metric HOST NAME: the node's Prometheus counter NAME from its HTTP API (the name without the
# nym_node_ prefix; summed over labels; 0 when absent).
metric() {
	ip=$(sed -n "s/^export $(echo "$1" | tr a-z A-Z)_IP=//p" "$SANDBOX_DIR/sandbox.env")
	on client curl -sS -m 5 "http://$ip:8080/api/v1/metrics/prometheus" 2>/dev/null |
		awk -v n="$2" '$1 ~ "(^|_)" n "($|\\{)" { s += $2 } END { printf "%.0f\n", s }'
}

# A background job of the shell itself (not of a function, whose subshell would ignore the
# signals), so that $! is the process that runs the command.
bg_on() {
	host=$1
	log=$2
	shift 2
	ip netns exec "$SANDBOX_PREFIX$host" "$@" >"$log" 2>&1 &
	BG_PID=$!
}

capture_start() {
	bg_on "$1" "$3.log" tcpdump -i "$2" -s 0 -U --immediate-mode -n -Z root -w "$3"
	CAPTURE_PIDS="$CAPTURE_PIDS $BG_PID"
	i=0
	until grep -q "listening on" "$3.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "tcpdump on $1 $2 did not start: $(cat "$3.log")"
		sleep 0.05
	done
}

capture_stop() {
	for pid in $CAPTURE_PIDS; do kill -TERM "$pid" 2>/dev/null; done
	for pid in $CAPTURE_PIDS; do wait "$pid" 2>/dev/null; done
	CAPTURE_PIDS=""
}

# mac HOST IF: the interface's MAC address.
mac() { on "$1" cat "/sys/class/net/$2/address"; }
