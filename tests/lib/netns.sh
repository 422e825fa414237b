# Network namespaces for integration tests and the sandbox: hosts on one bridge, all inside
# namespaces this run creates, named with a per-run prefix so runs never collide and cleanup
# removes exactly what was made. Source it, then:
#
#   netns_init mx                     # prefix "mx<pid>", a switch namespace with bridge br0
#   netns_host mix1 198.51.100.11/24  # namespace mx<pid>mix1 with eth0 on the bridge
#   netns_bridge inet0                # a second segment
#   netns_attach mix1 inet0 up0 203.0.113.1/24   # another interface of a host on it
#   netns_exec mix1 CMD...            # run in it
#   netns_bg mix1 LOG CMD...          # run in the background, output to LOG, killed at exit
#
# Cleanup runs on exit (trap), killing every process left in the namespaces.

netns_init() {
	NS_P="$1$$"
	NS_HOSTS=""
	NS_N=0
	NS_PIDS=""
	ip netns add "${NS_P}sw"
	ip -n "${NS_P}sw" link set lo up
	ip -n "${NS_P}sw" link add br0 type bridge
	ip -n "${NS_P}sw" link set br0 up
	trap netns_cleanup EXIT
	trap 'exit 130' INT TERM
}

netns_bridge() {
	ip -n "${NS_P}sw" link add "$1" type bridge
	ip -n "${NS_P}sw" link set "$1" up
}

# netns_attach HOST BRIDGE IFNAME ADDR...: a veth from the host to a bridge of the switch.
netns_attach() {
	ns="${NS_P}$1"
	bridge=$2
	ifname=$3
	shift 3
	NS_N=$((NS_N + 1))
	a="${NS_P}a${NS_N}"
	b="${NS_P}b${NS_N}"
	ip link add "$a" type veth peer name "$b"
	ip link set "$a" netns "$ns"
	ip link set "$b" netns "${NS_P}sw"
	ip -n "$ns" link set "$a" name "$ifname"
	ip -n "$ns" link set "$ifname" up
	ip -n "${NS_P}sw" link set "$b" master "$bridge" up
	for addr in "$@"; do
		ip -n "$ns" addr add "$addr" dev "$ifname" nodad 2>/dev/null || ip -n "$ns" addr add "$addr" dev "$ifname"
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
	ns="${NS_P}${name}"
	ip netns add "$ns"
	NS_HOSTS="$NS_HOSTS $ns"
	ip -n "$ns" link set lo up
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
	NS_PIDS="$NS_PIDS $!"
	NS_LAST_PID=$!
}

netns_cleanup() {
	# Best effort, whatever the caller's `set -e`: processes may be gone already.
	set +e
	for p in $NS_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for ns in $NS_HOSTS "${NS_P}sw"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# Waits until a TCP port answers inside a namespace (up to $3 seconds, default 10).
netns_wait_port() {
	ns="${NS_P}$1"
	addr=$2
	tries=$((${3:-10} * 10))
	while [ "$tries" -gt 0 ]; do
		if ip netns exec "$ns" /usr/bin/python3 -c "import socket,sys; h,p=sys.argv[1].rsplit(':',1); socket.create_connection((h.strip('[]'),int(p)),0.5).close()" "$addr" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		tries=$((tries - 1))
	done
	echo "timed out waiting for $addr in $ns" >&2
	return 1
}
