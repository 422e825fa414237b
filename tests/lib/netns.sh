# Network namespaces for the integration tests, the benchmarks and the demo (sourced from the
# top of the tree, not run). Every namespace a run makes is named with the run's prefix, so
# runs never collide, and is recorded in the run's directory, so cleanup removes exactly what
# the run made, even from another shell (a sandbox that outlives the shell that built it).
#
#   netns_init mx                     # a run: prefix "mx<pid>", directory $NS_DIR (a new
#                                     # temporary one), everything removed when the shell exits
#   netns_host mix1 198.51.100.11/24  # namespace mx<pid>mix1, eth0 on bridge br0 of the switch
#   netns_bridge inet0                # a second segment on the switch
#   netns_host_on inet0 web 203.0.113.10/24      # a host on it
#   netns_attach mix1 inet0 up0 203.0.113.1/24   # another interface of a host, on a bridge
#   netns_add gw                      # a bare namespace (lo up), for links of its own:
#   netns_veth c1 eth0 gw nymwg       # a veth pair between two hosts, no switch
#   netns_exec mix1 CMD...            # run in a host
#   netns_bg mix1 LOG CMD...          # run in the background, output to LOG ($NS_LAST_PID)
#   netns_wait_port client 198.51.100.11:8080 [SECONDS]
#   netns_kill mix1 [SIGNAL]          # signal every process in a host
#
# Hosts are named by their short names; the namespace itself is "$NS_P<name>" (for `ip -n`).
# The switch namespace is "sw". A run that must outlive its shell starts with
# `netns_new PREFIX DIR` instead of netns_init (no exit trap); another shell takes it up with
# `netns_load DIR` and ends it with netns_cleanup.

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# netns_new PREFIX DIR: a run recorded in DIR (created; it holds the run's files too).
netns_new() {
	NS_P="$1$$"
	NS_DIR=$2
	mkdir -p "$NS_DIR/.netns"
	echo "$NS_P" >"$NS_DIR/.netns/prefix"
	: >"$NS_DIR/.netns/namespaces"
	: >"$NS_DIR/.netns/links"
}

# netns_load DIR: continue a run recorded by netns_new.
netns_load() {
	NS_DIR=$1
	NS_P=$(cat "$NS_DIR/.netns/prefix")
}

# netns_init PREFIX: a run in a new temporary directory, removed with its namespaces when the
# shell exits (the exit status is kept).
netns_init() {
	netns_new "$1" "$(mktemp -d "${TMPDIR:-/tmp}/nym-$1.XXXXXX")"
	# shellcheck disable=SC2154 # set by the trap itself
	trap 'netns_status=$?; netns_cleanup; exit $netns_status' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# netns_add NAME: an empty namespace with loopback up.
netns_add() {
	echo "${NS_P}$1" >>"$NS_DIR/.netns/namespaces"
	ip netns add "${NS_P}$1"
	ip -n "${NS_P}$1" link set lo up
}

# netns_veth HOST_A IF_A HOST_B IF_B: a veth pair made directly inside the two namespaces,
# both ends up.
netns_veth() {
	ip link add "$2" netns "${NS_P}$1" type veth peer name "$4" netns "${NS_P}$3"
	ip -n "${NS_P}$1" link set "$2" up
	ip -n "${NS_P}$3" link set "$4" up
}

# netns_bridge NAME: a bridge in the switch namespace (made on first use).
netns_bridge() {
	grep -qx "${NS_P}sw" "$NS_DIR/.netns/namespaces" || netns_add sw
	ip -n "${NS_P}sw" link add "$1" type bridge
	ip -n "${NS_P}sw" link set "$1" up
}

# netns_attach HOST BRIDGE IFNAME ADDR...: an interface of a host on a bridge of the switch.
netns_attach() {
	host=$1
	bridge=$2
	ifname=$3
	shift 3
	echo "$host $ifname" >>"$NS_DIR/.netns/links"
	port="p$(wc -l <"$NS_DIR/.netns/links")"
	netns_veth "$host" "$ifname" sw "$port"
	ip -n "${NS_P}sw" link set "$port" master "$bridge"
	for addr in "$@"; do
		ip -n "${NS_P}$host" addr add "$addr" dev "$ifname" nodad 2>/dev/null ||
			ip -n "${NS_P}$host" addr add "$addr" dev "$ifname"
	done
}

# netns_host NAME ADDR...: a host with eth0 on br0 (netns_host_on BRIDGE NAME ADDR... for another).
netns_host() {
	netns_host_on br0 "$@"
}

netns_host_on() {
	bridge=$1
	name=$2
	shift 2
	ip -n "${NS_P}sw" link show "$bridge" >/dev/null 2>&1 || netns_bridge "$bridge"
	netns_add "$name"
	netns_attach "$name" "$bridge" eth0 "$@"
}

netns_exec() {
	ns="${NS_P}$1"
	shift
	ip netns exec "$ns" "$@"
}

netns_bg() {
	ns="${NS_P}$1"
	log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	NS_LAST_PID=$!
}

netns_kill() {
	ip netns pids "${NS_P}$1" 2>/dev/null | xargs -r kill "-${2:-TERM}" 2>/dev/null
}

# Ends the run: every process in its namespaces is stopped, the namespaces and the run's
# directory are removed. Best effort whatever the caller's `set -e`: parts may be gone already.
netns_cleanup() {
	set +e
	[ -f "${NS_DIR:-}/.netns/namespaces" ] || return 0
	for ns in $(cat "$NS_DIR/.netns/namespaces"); do netns_kill "${ns#"$NS_P"}"; done
	sleep 0.2
	for ns in $(cat "$NS_DIR/.netns/namespaces"); do
		netns_kill "${ns#"$NS_P"}" KILL
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$NS_DIR"
	return 0
}

# netns_wait_port HOST ADDR:PORT [SECONDS]: waits until a TCP port answers, seen from HOST
# (default 10 seconds).
netns_wait_port() {
	netns_exec "$1" "$PY" tests/lib/nymtest.py wait-port "$2" "${3:-10}" ||
		{ echo "timed out waiting for $2 in ${NS_P}$1" >&2; return 1; }
}
