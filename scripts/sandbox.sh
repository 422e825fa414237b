#!/bin/sh
# The sandbox of DESIGN.md as a tool: a whole Nym network on this machine, in network
# namespaces that it creates and removes, for the demo, the end-to-end tests and by hand.
#
#   scripts/sandbox.sh up [--prefix P] [--dir DIR] [--mixnodes N] [--ticket-bytes B]
#                         [--wireguard] [--wg-ticket-bytes B] [--wg-backend B] [--lan]
#                                                   build it, print `export` lines (eval them)
#   scripts/sandbox.sh exec [SEL] NAME CMD...       run CMD on one host
#   scripts/sandbox.sh voucher [SEL] N              print N voucher codes (one ticketbook each)
#   scripts/sandbox.sh status [SEL]                 what is up (every sandbox without SEL)
#   scripts/sandbox.sh down [SEL]                   remove everything `up` made
#
# SEL is --prefix P or --dir DIR; without it, $SANDBOX_DIR, else the only sandbox up. Hosts:
# auth, mix1..mix3 (--mixnodes N: mix1..mixN, 3 to 9, the authority spreads them over the
# three layers; 0: none, a dVPN-only sandbox whose topology has empty layers), entry, exit,
# client on 198.51.100.0/24 and 2001:db8:100::/64; internet on
# 203.0.113.0/24 and 2001:db8:113::/64 behind the exit gateway (uplink up0); router, the
# client's provider, joins both segments and is the client's default route, so traffic that
# bypasses a tunnel reaches the internet host and shows. The internet host serves DNS for
# names under .test (dnsmasq, from $DNS_HOSTS, re-read when it changes or on SIGHUP), HTTP on
# port 80 from $WWW_DIR and iperf3 on 5201. Each host's /etc/netns/<namespace>/resolv.conf
# names that DNS server, so nothing reads or changes this machine's resolver configuration.
# The internet host also answers, on its loopback, as NymVPN's default public resolvers
# ($RESOLVERS: 1.1.1.1, 1.0.0.1, 2606:4700:4700::1111, 2606:4700:4700::1001; same dnsmasq),
# reached through the exit gateway's default route and, for traffic that bypasses a tunnel,
# through the router. The client is ready for nym-vpnd: `up` writes $VPND_CONFIG
# ($SANDBOX_DIR/vpnd/nym-vpnd.yaml: network "sandbox" with this authority, socket $VPND_SOCKET
# of mode 666, data in $SANDBOX_DIR/vpnd/data, DNS by rewriting the client's /etc/resolv.conf,
# which inside `ip netns exec` is /etc/netns/<namespace>/resolv.conf).
# --ticket-bytes B sets what one mixnet-entry ticket buys at the gateways
# (gateway.bandwidth_per_ticket; tests use a tiny allowance to see top-ups). The nodes run
# --wireguard enables the WireGuard service on both gateways (wireguard.enabled: nymwg on UDP
# 51822, 10.1.0.1/16 and fc01::1/112, metadata on 10.1.0.1:51830, userspace backend unless the
# kernel has WireGuard); each gateway runs in a mount namespace of its own (ip netns exec makes
# one) with a private tmpfs on /run/wireguard, so the two wireguard-go sockets (both nymwg.sock)
# do not collide. --wg-ticket-bytes B sets what one wg-entry / wg-exit ticket buys
# (wireguard.bandwidth_per_ticket); --wg-backend auto|kernel|userspace sets both gateways'
# wireguard.backend (default auto; kernel needs a kernel with WireGuard, as in tests/vm/).
# --lan puts a LAN behind the client, which becomes a home router (nym-vpnd's router mode):
# host lan, eth0 $LAN_NET4.10/24 and $LAN_NET6:10/64, on a veth to the client's lan0
# ($LAN_NET4.1, $LAN_NET6:1; its default routes and its resolver). The client does not
# forward until nym-vpnd's router mode turns forwarding on. The nodes run
# without busy polling (mixnet.busy_poll 0: they share the cores); SANDBOX_BUSY_POLL=200us in
# the environment of `up` sets another budget.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/lib/netns.sh"
. "$ROOT/tests/lib/node.sh"
BASE=${TMPDIR:-/tmp}/nym-sandbox.
NODES="mix1 mix2 mix3 entry exit"
# Host, last part of its v4 and v6 addresses on the node segment (router: its provider side).
HOSTS="auth 2
mix1 11
mix2 12
mix3 13
entry 21
exit 22
client 30
router 1"
NET4=198.51.100
NET6=2001:db8:100:
INET4=203.0.113
INET6=2001:db8:113:
# The LAN behind the client with --lan.
LAN_NET4=192.168.77
LAN_NET6=fd77::
# NymVPN's default DNS servers (dns.default_servers of nym-vpnd), served by the internet host.
RESOLVERS="1.1.1.1 1.0.0.1 2606:4700:4700::1111 2606:4700:4700::1001"

usage() {
	sed -n '4,10s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# The host table for N mixnodes (mix4.. at .14 upwards).
hosts_for() {
	echo "$HOSTS" | grep -v '^mix'
	i=1
	while [ $i -le "$1" ]; do
		echo "mix$i 1$i"
		i=$((i + 1))
	done
}

die() {
	echo "sandbox: $*" >&2
	exit 1
}

say() { echo "sandbox: $*" >&2; }

# Chooses the sandbox from --prefix/--dir (consumed: SHIFTED tells how many arguments),
# $SANDBOX_DIR, or the only one up; loads it (NS_P, NS_DIR) unless NONE_OK and none is found.
select_sandbox() {
	SHIFTED=0
	dir=""
	case "${1:-}" in
	--prefix) [ $# -ge 2 ] || usage; dir=$BASE$2; SHIFTED=2 ;;
	--dir) [ $# -ge 2 ] || usage; dir=$2; SHIFTED=2 ;;
	esac
	[ -n "$dir" ] || dir=${SANDBOX_DIR:-}
	if [ -z "$dir" ]; then
		set -- "$BASE"*/.netns/prefix
		[ -f "$1" ] || die "no sandbox is up (scripts/sandbox.sh up)"
		[ $# -eq 1 ] || die "$# sandboxes are up: choose one with --prefix P, --dir DIR or \$SANDBOX_DIR"
		dir=${1%/.netns/prefix}
	fi
	[ -f "$dir/.netns/prefix" ] || die "no sandbox at $dir (one made with --dir needs that --dir again)"
	netns_load "$dir"
	# Absent while `up` runs or if it was stopped half-way; `down` works all the same.
	# shellcheck disable=SC1091 # written by `up`
	[ ! -f "$NS_DIR/sandbox.env" ] || . "$NS_DIR/sandbox.env"
}

resolv_dir() { echo "/etc/netns/${NS_P}$1"; }

# Removes the namespaces' resolver files, then the namespaces, their processes and the state.
teardown() {
	set +e
	for ns in $(cat "$NS_DIR/.netns/namespaces" 2>/dev/null); do rm -rf "/etc/netns/$ns"; done
	rmdir /etc/netns 2>/dev/null
	netns_cleanup
}

# Every node is in the signed topology: the mixnodes in the layers and two gateways.
topology_complete() {
	# shellcheck disable=SC2086
	netns_exec client "$NODE" debug topology-fetch --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --json \
		>"$NS_DIR/topology.json" 2>/dev/null &&
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); n=sum(len(l) for l in d["layers"]); sys.exit(0 if n==int(sys.argv[2]) and len(d["gateways"])==2 else 1)' \
			"$NS_DIR/topology.json" "${MIXNODES:-${SANDBOX_MIXNODES:-3}}" 2>/dev/null
}

cmd_up() {
	prefix="sb$$"
	dir=""
	MIXNODES=3
	ticket_bytes=""
	wireguard=""
	wg_ticket_bytes=""
	wg_backend=""
	lan=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
		--dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
		--mixnodes) [ $# -ge 2 ] || usage; MIXNODES=$2; shift 2 ;;
		--ticket-bytes) [ $# -ge 2 ] || usage; ticket_bytes=$2; shift 2 ;;
		--wireguard) wireguard=1; shift ;;
		--lan) lan=1; shift ;;
		--wg-ticket-bytes) [ $# -ge 2 ] || usage; wg_ticket_bytes=$2; wireguard=1; shift 2 ;;
		--wg-backend) [ $# -ge 2 ] || usage; wg_backend=$2; wireguard=1; shift 2 ;;
		*) usage ;;
		esac
	done
	case "$MIXNODES" in 0 | [3-9]) ;; *) die "--mixnodes takes 0 (a dVPN-only sandbox) or 3 to 9, got '$MIXNODES'" ;; esac
	case "$ticket_bytes" in *[!0-9]*) die "--ticket-bytes takes a number of bytes, got '$ticket_bytes'" ;; esac
	case "$wg_ticket_bytes" in *[!0-9]*) die "--wg-ticket-bytes takes a number of bytes, got '$wg_ticket_bytes'" ;; esac
	case "$wg_backend" in "" | auto | kernel | userspace) ;; *) die "--wg-backend takes auto, kernel or userspace, got '$wg_backend'" ;; esac
	HOSTS=$(hosts_for "$MIXNODES")
	NODES="$(echo "$HOSTS" | awk '$1 ~ /^mix/ { printf "%s ", $1 }')entry exit"
	case "$prefix" in
	*[!a-z0-9]* | "") die "the prefix must be lower-case letters and digits: '$prefix'" ;;
	esac
	[ ${#prefix} -le 16 ] || die "the prefix must be at most 16 characters: '$prefix'"
	[ -n "$dir" ] || dir=$BASE$prefix
	case "$dir" in /*) ;; *) dir=$(pwd)/$dir ;; esac
	[ "$(id -u)" -eq 0 ] || die "up needs root (network namespaces)"
	[ ! -e "$dir" ] || die "$dir exists: is a sandbox up there? (scripts/sandbox.sh down --dir $dir)"
	! ip netns list | grep -q "^${prefix}auth\b" || die "namespaces with prefix $prefix exist already"
	B=${NYM_BUILD:-build}
	case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
	NODE=$B/bin/nym-node
	NTM=$B/bin/nym-ntm
	for prog in "$NODE" "$NTM"; do [ -x "$prog" ] || die "no $prog: build first (make)"; done
	for tool in dnsmasq iperf3; do
		command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs it)"
	done
	cd "$ROOT"

	netns_new "$prefix" "$dir" exact
	# shellcheck disable=SC2154 # set by the trap itself
	trap 'rc=$?; [ $rc -eq 0 ] || [ -n "${SANDBOX_KEEP:-}" ] || { say "up failed; removing what it made"; teardown; }; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	say "prefix $NS_P, state in $NS_DIR"

	echo "$HOSTS" | while read -r host n; do netns_host "$host" "$NET4.$n/24" "$NET6:$n/64"; done
	netns_bridge inet0
	netns_attach exit inet0 up0 "$INET4.1/24" "$INET6:1/64"
	netns_attach router inet0 up0 "$INET4.254/24" "$INET6:254/64"
	netns_host_on inet0 internet "$INET4.10/24" "$INET6:10/64"
	netns_exec router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "${NS_P}client" route add default via "$NET4.1"
	ip -n "${NS_P}client" -6 route add default via "$NET6:1"
	ip -n "${NS_P}exit" route add default via "$INET4.10"
	ip -n "${NS_P}exit" -6 route add default via "$INET6:10"
	ip -n "${NS_P}internet" route add default via "$INET4.254"
	ip -n "${NS_P}internet" -6 route add default via "$INET6:254"
	# The authority first: its issuer keys take a while, made while the rest comes up (the
	# operator's admissions below reach it through its registry database as it runs).
	mkdir -p "$NS_DIR/logs"
	GENESIS=$(($(date +%s) - 1))
	"$NODE" init --id auth --mode authority --public-ip "$NET4.2" --data-dir "$NS_DIR/auth" >/dev/null
	node_short_epochs "$NS_DIR/auth" 15
	netns_bg auth "$NS_DIR/logs/auth.log" "$NODE" run --data-dir "$NS_DIR/auth"
	if [ -n "$lan" ]; then
		netns_add lan
		netns_veth client lan0 lan eth0
		ip -n "${NS_P}client" addr add "$LAN_NET4.1/24" dev lan0
		ip -n "${NS_P}client" -6 addr add "${LAN_NET6}1/64" dev lan0 nodad
		ip -n "${NS_P}lan" addr add "$LAN_NET4.10/24" dev eth0
		ip -n "${NS_P}lan" -6 addr add "${LAN_NET6}10/64" dev eth0 nodad
		ip -n "${NS_P}lan" route add default via "$LAN_NET4.1"
		ip -n "${NS_P}lan" -6 route add default via "${LAN_NET6}1"
		netns_exec client sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
		mkdir -p "$(resolv_dir lan)"
		printf 'nameserver %s\n' "$LAN_NET4.1" >"$(resolv_dir lan)/resolv.conf"
		say "LAN behind the client: lan $LAN_NET4.10 / ${LAN_NET6}10, the client's lan0 $LAN_NET4.1 / ${LAN_NET6}1"
	fi
	listen=""
	for r in $RESOLVERS; do
		case "$r" in
		*:*) ip -n "${NS_P}internet" -6 addr add "$r/128" dev lo; via=$INET6:10 ;;
		*) ip -n "${NS_P}internet" addr add "$r/32" dev lo; via=$INET4.10 ;;
		esac
		# The exit reaches them by its default route; the router (the path of anything that
		# bypasses a tunnel) by these, so that a leaked query would be answered and show.
		ip -n "${NS_P}router" route add "$r" via "$via"
		listen="$listen --listen-address=$r"
	done
	for host in $(echo "$HOSTS" | cut -d' ' -f1) internet; do
		mkdir -p "$(resolv_dir "$host")"
		printf 'nameserver %s\nnameserver %s\n' "$INET4.10" "$INET6:10" >"$(resolv_dir "$host")/resolv.conf"
	done
	mixes="mixnodes .11 to .1$MIXNODES"
	[ "$MIXNODES" -gt 0 ] || mixes="no mixnodes"
	say "hosts up: auth $NET4.2, $mixes, entry .21, exit .22 (uplink $INET4.1), client .30"
	say "          (default route via its provider, router .1 / $INET4.254), internet $INET4.10; v6 alike"

	mkdir -p "$NS_DIR/www" "$NS_DIR/dns" "$NS_DIR/logs"
	WWW_DIR=$NS_DIR/www
	DNS_HOSTS=$NS_DIR/dns/hosts
	printf '%s internet.test www.test\n%s internet.test www.test\n' "$INET4.10" "$INET6:10" >"$DNS_HOSTS"
	echo "the sandbox's internet host" >"$WWW_DIR/index.html"
	# Nothing of this machine's: no /etc/resolv.conf, /etc/hosts or /etc/dnsmasq.conf; only
	# the internet host's own addresses; names under .test never forwarded; no root once bound.
	# shellcheck disable=SC2086 # $listen is a list of options
	netns_bg internet "$NS_DIR/logs/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- --log-queries \
		--no-resolv --no-hosts --conf-file=/dev/null --user=nobody --group=nogroup --pid-file="$NS_DIR/dnsmasq.pid" \
		--bind-interfaces --listen-address="$INET4.10" --listen-address="$INET6:10" $listen \
		--local=/test/ --domain-needed --hostsdir="$NS_DIR/dns"
	netns_bg internet "$NS_DIR/logs/http.log" "$PY" -m http.server 80 --bind :: --directory "$WWW_DIR"
	netns_bg internet "$NS_DIR/logs/iperf3.log" iperf3 -s
	netns_wait_port client "$INET4.10:80" 10
	netns_wait_port client "$INET4.10:5201" 10
	netns_wait_port client "$INET4.10:53" 10
	for r in $RESOLVERS; do
		case "$r" in *:*) r="[$r]" ;; esac
		netns_wait_port exit "$r:53" 10
	done
	say "internet host: DNS (.test) on :53 (also as $RESOLVERS), HTTP on :80, iperf3 on :5201"

	i=1
	while [ $i -le "$MIXNODES" ]; do
		"$NODE" init --id "mix$i" --mode mixnode --public-ip "$NET4.1$i" --location DE --data-dir "$NS_DIR/mix$i" >/dev/null
		i=$((i + 1))
	done
	"$NODE" init --id entry --mode entry-gateway --public-ip "$NET4.21" --location NL --data-dir "$NS_DIR/entry" >/dev/null
	"$NODE" init --id exit --mode exit-gateway --public-ip "$NET4.22" --location CH --data-dir "$NS_DIR/exit" >/dev/null
	# Replay filters sized for the throughput the probe and the benchmarks reach (node.sh's 50
	# packets a second saturate within seconds of a download, and then drop as replays).
	for n in $NODES; do
		node_short_epochs "$NS_DIR/$n" 15
		sed -i "s/expected_packets_per_second: .*/expected_packets_per_second: 5000/" "$NS_DIR/$n/config/config.yaml"
		# No busy polling (mixnet.busy_poll, 200us by default): here six processes share the
		# machine's cores, and a worker spinning after each packet takes the core from the next
		# hop (16 MiB through the probe: 5.3 s of node CPU instead of 7.3-8.9 s with 200us).
		# SANDBOX_BUSY_POLL=200us restores it to compare.
		sed -i "s/^  busy_poll: .*/  busy_poll: ${SANDBOX_BUSY_POLL:-0us}/" "$NS_DIR/$n/config/config.yaml"
	done
	# The exit's IP packet router checks client packets against the policy nym-ntm applies.
	sed -i "s|^    policy_file: .*|    policy_file: \"$ROOT/packaging/exit-policy.txt\"|" "$NS_DIR/exit/config/config.yaml"
	AUTH_URL=http://$NET4.2:8080
	AUTH_KEY=$(cat "$NS_DIR/auth/data/ed25519_identity.pub")
	# Where the authority admits only listed nodes (authority.admission: allowlist), the
	# operator admits these nodes.
	if "$NODE" authority admit --help >/dev/null 2>&1; then
		for n in $NODES; do
			"$NODE" authority admit --data-dir "$NS_DIR/auth" "$(cat "$NS_DIR/$n/data/ed25519_identity.pub")" |
				sed "s/^/sandbox: $n /" >&2
		done
	fi

	# What one ticket buys at the gateways (tests set a tiny allowance to see top-ups).
	if [ -n "$ticket_bytes" ]; then
		for n in entry exit; do
			grep -q "^  bandwidth_per_ticket: " "$NS_DIR/$n/config/config.yaml" ||
				die "--ticket-bytes: this nym-node has no gateway.bandwidth_per_ticket"
			sed -i "s/^  bandwidth_per_ticket: .*/  bandwidth_per_ticket: $ticket_bytes/" "$NS_DIR/$n/config/config.yaml"
		done
	fi
	if [ -n "$wireguard" ]; then
		for n in entry exit; do
			sed -i "/^wireguard:/,/^[a-z]/ s/^  enabled: .*/  enabled: true/" "$NS_DIR/$n/config/config.yaml"
			[ -z "$wg_ticket_bytes" ] ||
				sed -i "/^wireguard:/,/^[a-z]/ s/^  bandwidth_per_ticket: .*/  bandwidth_per_ticket: $wg_ticket_bytes/" \
					"$NS_DIR/$n/config/config.yaml"
			[ -z "$wg_backend" ] ||
				sed -i "/^wireguard:/,/^[a-z]/ s/^  backend: .*/  backend: \"$wg_backend\"/" "$NS_DIR/$n/config/config.yaml"
		done
		# The mount point of the gateways' private tmpfs (wireguard-go makes it anyway).
		mkdir -p /run/wireguard
	fi
	# The authority started first, above: it makes its issuer keys before it listens (six
	# 2048-bit RSA keys: seconds here, 10 to 20 s or more in an emulated VM).
	netns_wait_port client "$NET4.2:8080" 60
	for n in $NODES; do
		case "$wireguard:$n" in
		1:entry | 1:exit)
			# ip netns exec gave the process a mount namespace of its own (slave to ours):
			# the tmpfs stays private to this gateway.
			netns_bg "$n" "$NS_DIR/logs/$n.log" sh -c 'mount -t tmpfs -o mode=0700 nym-wg /run/wireguard && exec "$@"' \
				sh "$NODE" run --data-dir "$NS_DIR/$n" --workers 1 --authority "$AUTH_URL" --authority-key "$AUTH_KEY"
			;;
		*)
			netns_bg "$n" "$NS_DIR/logs/$n.log" "$NODE" run --data-dir "$NS_DIR/$n" --workers 1 \
				--authority "$AUTH_URL" --authority-key "$AUTH_KEY"
			;;
		esac
	done
	# Forwarding, NAT and Nym's exit policy on the exit gateway, as an operator installs them.
	netns_exec exit "$NTM" apply --mode exit-gateway --policy "$ROOT/packaging/exit-policy.txt" \
		--uplink-v4 up0 --uplink-v6 up0 >"$NS_DIR/logs/ntm-apply.log" 2>&1 ||
		{ cat "$NS_DIR/logs/ntm-apply.log" >&2; die "nym-ntm apply failed on the exit gateway"; }
	say "exit gateway: nym-ntm table applied (uplink up0, packaging/exit-policy.txt)"
	if [ -n "$wireguard" ]; then
		# The entry forwards its WireGuard clients only to the exit's WireGuard port and
		# client link (two-hop: registration with the exit, then the inner tunnel).
		cat >"$NS_DIR/entry-ntm.yaml" <<EOF
mode: entry-gateway
uplink: eth0
entry_gateway:
  gateways: [$NET4.22, "$NET6:22"]
  ports: [51822/udp, 9000/tcp]
EOF
		netns_exec entry "$NTM" apply --config "$NS_DIR/entry-ntm.yaml" >"$NS_DIR/logs/ntm-entry.log" 2>&1 ||
			{ cat "$NS_DIR/logs/ntm-entry.log" >&2; die "nym-ntm apply failed on the entry gateway"; }
		say "entry gateway: nym-ntm table applied (entry-gateway: to the exit's 51822/udp and 9000/tcp only)"
	fi
	say "waiting for an epoch whose signed topology lists every node..."
	waited=0
	until topology_complete; do
		waited=$((waited + 1))
		[ $waited -lt 60 ] || die "after 60 s the signed topology still lacks nodes (logs in $NS_DIR/logs)"
		sleep 1
	done
	say "the signed topology lists all $((MIXNODES + 2)) nodes (after ${waited} s)"
	write_vpnd_config

	cat >"$NS_DIR/sandbox.env" <<EOF
export SANDBOX_PREFIX=$NS_P
export SANDBOX_MIXNODES=$MIXNODES
export SANDBOX_DIR=$NS_DIR
export NODE=$NODE
export NTM=$NTM
export SANDBOX_WIREGUARD=${wireguard:-0}
export AUTH_URL=$AUTH_URL
export AUTH_KEY=$AUTH_KEY
export WWW_DIR=$WWW_DIR
export DNS_HOSTS=$DNS_HOSTS
export AUTH_IP=$NET4.2
export AUTH_IP6=$NET6:2
export CLIENT_IP=$NET4.30
export CLIENT_IP6=$NET6:30
export ENTRY_IP=$NET4.21
export ENTRY_IP6=$NET6:21
export EXIT_IP=$NET4.22
export EXIT_IP6=$NET6:22
export EXIT_UPLINK_IP=$INET4.1
export EXIT_UPLINK_IP6=$INET6:1
export ROUTER_IP=$NET4.1
export ROUTER_IP6=$NET6:1
export INTERNET_IP=$INET4.10
export INTERNET_IP6=$INET6:10
export RESOLVERS="$RESOLVERS"
export VPND=$B/bin/nym-vpnd
export VPNC=$B/bin/nym-vpnc
export VPND_CONFIG=$NS_DIR/vpnd/nym-vpnd.yaml
export VPND_SOCKET=$NS_DIR/vpnd/nym-vpnd.sock
export VPND_DATA=$NS_DIR/vpnd/data
export CLIENT_IF=eth0
export SANDBOX_LAN=${lan:-0}
export LAN_IF=lan0
export LAN_ROUTER_IP=$LAN_NET4.1
export LAN_ROUTER_IP6=${LAN_NET6}1
export LAN_HOST_IP=$LAN_NET4.10
export LAN_HOST_IP6=${LAN_NET6}10
EOF
	cat "$NS_DIR/sandbox.env"
	trap - EXIT INT TERM
}

# nym-vpnd's configuration for the client host (the daemon itself is started by whoever uses
# it, in the client namespace: `scripts/sandbox.sh exec client $VPND --config $VPND_CONFIG`).
write_vpnd_config() {
	mkdir -p "$NS_DIR/vpnd/data" "$NS_DIR/logs"
	# Unprivileged users (the permission tests) reach the socket through these directories.
	chmod 755 "$NS_DIR" "$NS_DIR/vpnd"
	cat >"$NS_DIR/vpnd/nym-vpnd.yaml" <<EOF
# nym-vpnd on the sandbox's client host (written by scripts/sandbox.sh up).
network:
  name: "sandbox"
  authorities: ["$AUTH_URL"]
  authority_keys: ["$AUTH_KEY"]
daemon:
  socket: "$NS_DIR/vpnd/nym-vpnd.sock"
  socket_mode: "666"
  data_dir: "$NS_DIR/vpnd/data"
dns:
  backend: "static-file"
  resolv_conf: "/etc/resolv.conf"
EOF
}

cmd_exec() {
	select_sandbox "$@"
	shift "$SHIFTED"
	[ $# -ge 2 ] || usage
	if [ "$1" = sw ] || ! grep -qx "${NS_P}$1" "$NS_DIR/.netns/namespaces"; then
		die "no host '$1' (hosts: $(echo "$HOSTS" | cut -d' ' -f1 | tr '\n' ' ')internet)"
	fi
	ns=${NS_P}$1
	shift
	exec ip netns exec "$ns" "$@"
}

cmd_voucher() {
	select_sandbox "$@"
	shift "$SHIFTED"
	[ $# -eq 1 ] || usage
	"$NODE" authority voucher create --data-dir "$NS_DIR/auth" --books "$1" --json |
		"$PY" -c 'import json,sys; print("\n".join(json.load(sys.stdin)["vouchers"]))'
}

cmd_down() {
	select_sandbox "$@"
	shift "$SHIFTED"
	[ $# -eq 0 ] || usage
	say "removing $NS_P ($NS_DIR)"
	teardown
}

# One sandbox: its hosts, whether each namespace is there, and what runs in it.
show_one() {
	echo "sandbox $NS_P in $NS_DIR"
	for ns in $(cat "$NS_DIR/.netns/namespaces"); do
		host=${ns#"$NS_P"}
		[ "$host" != sw ] || continue
		if ip netns pids "$ns" >/dev/null 2>&1; then
			procs=$(ip netns pids "$ns" | xargs -r ps -o comm= -p | sort | uniq -c | awk '{ printf "%s%s", sep, $2 ($1 > 1 ? "x" $1 : ""); sep = " " }')
			printf '  %-9s %-20s %s\n' "$host" "$ns" "${procs:-(no process)}"
		else
			printf '  %-9s %-20s MISSING\n' "$host" "$ns"
		fi
	done
}

cmd_status() {
	if [ $# -eq 0 ] && [ -z "${SANDBOX_DIR:-}" ]; then
		found=0
		for f in "$BASE"*/.netns/prefix; do
			[ -f "$f" ] || continue
			netns_load "${f%/.netns/prefix}"
			show_one
			found=1
		done
		[ $found -eq 1 ] || echo "no sandbox is up"
		return 0
	fi
	select_sandbox "$@"
	show_one
	if topology_complete; then
		echo "  signed topology: all $((${SANDBOX_MIXNODES:-3} + 2)) nodes listed"
	else
		echo "  signed topology: incomplete or unreachable"
	fi
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
up) cmd_up "$@" ;;
exec) cmd_exec "$@" ;;
voucher) cmd_voucher "$@" ;;
down) cmd_down "$@" ;;
status) cmd_status "$@" ;;
*) usage ;;
esac
