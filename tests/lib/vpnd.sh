# nym-vpnd / nym-vpnc tests' helpers (sourced from the top of the tree after
# tests/lib/assert.sh, not run): one sandbox per test script (scripts/sandbox.sh), the daemon
# on its client host, the client's network configuration, captures of its physical interface
# and the leak judge (tests/lib/leak_check.py).
#
#   vpnd_require                      # the build and the tools, or die
#   vpnd_sandbox [sandbox up options] # the sandbox, its exports loaded, removed at exit
#   vpnc ARGS...                      # nym-vpnc on the client host, talking to the daemon
#   quiet CMD...                      # CMD, its output kept in $WORK/quiet.out
#   vpnd_start [nym-vpnd options]     # the daemon in the background, answering ($VPND_PID)
#   vpnd_stop                         # SIGTERM, waits for it to exit (its status in $VPND_RC)
#   vpnd_kill9                        # kill -9
#   vpnd_status FILE                  # status --json into FILE; vpnd_state prints the state
#   vpnd_wait_state STATE SECONDS     # polls until the daemon is in STATE (0) or not (1)
#   vpnd_reconnect SECONDS            # `reconnect`, and waits for the new connection
#   vpnd_credentials                  # a voucher from the authority, `credentials obtain`
#   vpn_snapshot FILE                 # the client's rules, routes, nftables, resolv.conf
#   vpn_capture_start NAME            # tcpdump of the client's eth0 into $WORK/NAME.pcap
#   vpn_capture_stop                  # flushed and stopped
#   vpn_leaks NAME WHAT [options]     # leak_check.py on $WORK/NAME.pcap: a check named WHAT
#
# Every file goes to $WORK ($SANDBOX_DIR/test); daemon logs to $SANDBOX_DIR/logs/vpnd.N.log.

. tests/lib/mixnet.sh
VPND_PID=""
VPND_RUNS=0
VPN_CAPTURE_PID=""

vpnd_require() {
	b=${NYM_BUILD:-build}/bin
	for prog in nym-node nym-vpnd nym-vpnc; do
		[ -x "$b/$prog" ] || die "no $b/$prog: build first (make)"
	done
	for tool in tcpdump curl dnsmasq getent setpriv nft ping; do
		command -v $tool >/dev/null || die "$tool is missing (scripts/deps.sh)"
	done
}

vpnd_sandbox() {
	env=$($S up --prefix "vd$$" "$@") || die "scripts/sandbox.sh up $* failed"
	eval "$env"
	# shellcheck disable=SC2154 # SANDBOX_DIR comes from the eval
	trap 'st=$?; vpn_capture_stop; vpnd_kill9 2>/dev/null; vpnd_failure_log $st; $S down --dir "$SANDBOX_DIR" >/dev/null 2>&1; exit $st' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ENTRY_ID=$(cat "$SANDBOX_DIR/entry/data/ed25519_identity.pub")
	EXIT_ID=$(cat "$SANDBOX_DIR/exit/data/ed25519_identity.pub")
	WORK=$SANDBOX_DIR/test
	mkdir -p "$WORK"
	CLIENT_MAC=$(mac client "$CLIENT_IF")
}

# On a failed run: the end of the daemon's log, for the test log.
vpnd_failure_log() {
	[ "$1" -ne 0 ] && [ -n "${VPND_LOG:-}" ] && [ -f "$VPND_LOG" ] || return 0
	echo "--- the last 60 lines of $VPND_LOG"
	tail -n 60 "$VPND_LOG"
}

vpnc() { on client "$VPNC" --socket "$VPND_SOCKET" "$@"; }
# quiet CMD...: CMD with its output to $WORK/quiet.out (for `check`).
quiet() { "$@" >"$WORK/quiet.out" 2>&1; }

# The daemon answers `status` within SECONDS (default 20); 1 if it exited or never answered.
vpnd_wait_ready() {
	i=0
	while [ $i -lt $((${1:-20} * 5)) ]; do
		vpnc status --json >/dev/null 2>&1 && return 0
		[ -n "$VPND_PID" ] && ! kill -0 "$VPND_PID" 2>/dev/null && return 1
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# The client's processes that run wireguard-go (nym-vpnd in two-hop mode, probe --two-hop)
# get this sandbox's own /run/wireguard ($SANDBOX_DIR/client-wireguard): wireguard-go keeps
# its sockets there, one directory for all namespaces of the machine, so it keeps the
# client's devices apart from other runs' while every run of the daemon (a restart after
# kill -9 too) finds the sockets of the one before.
vpnd_start() {
	VPND_RUNS=$((VPND_RUNS + 1))
	VPND_LOG=$SANDBOX_DIR/logs/vpnd.$VPND_RUNS.log
	mkdir -p /run/wireguard "$SANDBOX_DIR/client-wireguard"
	bg_on client "$VPND_LOG" sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' "$SANDBOX_DIR/client-wireguard" \
		"$VPND" --config "$VPND_CONFIG" --log-level debug "$@"
	VPND_PID=$BG_PID
	vpnd_wait_ready 20 || {
		echo "--- $VPND_LOG"
		tail -n 30 "$VPND_LOG"
		die "nym-vpnd did not come up"
	}
}

vpnd_stop() {
	VPND_RC=""
	[ -n "$VPND_PID" ] || return 0
	kill -TERM "$VPND_PID" 2>/dev/null
	i=0
	while kill -0 "$VPND_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if kill -0 "$VPND_PID" 2>/dev/null; then
		kill -KILL "$VPND_PID"
		fail "nym-vpnd did not stop within 20 s of SIGTERM (killed)"
	fi
	wait "$VPND_PID"
	VPND_RC=$?
	VPND_PID=""
}

vpnd_kill9() {
	[ -n "$VPND_PID" ] || return 0
	kill -KILL "$VPND_PID" 2>/dev/null
	wait "$VPND_PID" 2>/dev/null
	VPND_PID=""
}

vpnd_status() { vpnc status --json >"$1" 2>&1; }

vpnd_state() {
	vpnd_status "$WORK/state.json" || { echo "unreachable"; return 0; }
	jget "$WORK/state.json" state "?"
}

vpnd_wait_state() {
	i=0
	while [ $i -lt $(($2 * 4)) ]; do
		[ "$(vpnd_state)" = "$1" ] && return 0
		sleep 0.25
		i=$((i + 1))
	done
	return 1
}

# vpnd_reconnect SECONDS: `reconnect`, then waits for a new connection: connected again after
# having left Connected, or with a later `since` (a state change quicker than a poll).
vpnd_reconnect() {
	vpnd_status "$WORK/pre-reconnect.json"
	since=$(jget "$WORK/pre-reconnect.json" connection.since 0)
	vpnc reconnect >"$WORK/reconnect.out" 2>&1 || return 1
	left=""
	i=0
	while [ $i -lt $(($1 * 4)) ]; do
		vpnd_status "$WORK/post-reconnect.json"
		st=$(jget "$WORK/post-reconnect.json" state)
		if [ "$st" = connected ]; then
			[ -n "$left" ] && return 0
			[ "$(jget "$WORK/post-reconnect.json" connection.since 0)" != "$since" ] && return 0
		else
			left=1
		fi
		sleep 0.25
		i=$((i + 1))
	done
	return 1
}

vpnd_credentials() {
	code=$($S voucher --dir "$SANDBOX_DIR" 1) || die "no voucher from the authority"
	vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher "$code" \
		>"$WORK/obtain.out" 2>&1
}

# Everything of the client's networking a VPN may change (diffable; counters and timers
# left out).
vpn_snapshot() {
	on client sh -c '
		echo "## ip -4 rule"; ip -4 rule
		echo "## ip -6 rule"; ip -6 rule
		echo "## ip -4 route show table all"; ip -4 route show table all
		echo "## ip -6 route show table all"; ip -6 route show table all
		echo "## links"; ip -o link show | sed "s/^[0-9]*: //; s/ qlen [0-9]*//" | cut -d" " -f1-3
		echo "## addresses"; ip -o addr show | awk "{ print \$2, \$3, \$4 }"
		echo "## nft list ruleset"; nft list ruleset
		echo "## /etc/resolv.conf"; cat /etc/resolv.conf
		echo "## sysctl"; sysctl net.ipv4.conf.all.src_valid_mark net.ipv4.ip_forward' >"$1" 2>&1
}

# tcpdump on the client's physical interface: every frame (its first 256 bytes: the headers
# are what the judge reads), each written as it comes, with a 32 MiB kernel buffer so that
# a loaded machine does not drop frames.
vpn_capture_start() {
	VPN_CAPTURE=$WORK/$1.pcap
	bg_on client "$VPN_CAPTURE.log" tcpdump -i "$CLIENT_IF" -s 256 -B 32768 -U --immediate-mode -n -Z root -w "$VPN_CAPTURE"
	VPN_CAPTURE_PID=$BG_PID
	i=0
	until grep -q "listening on" "$VPN_CAPTURE.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "tcpdump on the client did not start: $(cat "$VPN_CAPTURE.log")"
		sleep 0.05
	done
}

# Stops the capture once the file has stopped growing (everything the kernel handed over is
# written), and says whether the kernel dropped any frame.
vpn_capture_stop() {
	[ -n "$VPN_CAPTURE_PID" ] || return 0
	last=-1
	i=0
	while [ $i -lt 20 ]; do
		size=$(stat -c %s "$VPN_CAPTURE" 2>/dev/null || echo 0)
		[ "$size" = "$last" ] && break
		last=$size
		sleep 0.2
		i=$((i + 1))
	done
	kill -TERM "$VPN_CAPTURE_PID" 2>/dev/null
	wait "$VPN_CAPTURE_PID" 2>/dev/null
	VPN_CAPTURE_PID=""
	dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$VPN_CAPTURE.log")
	[ "${dropped:-0}" -eq 0 ] || fail "the capture $VPN_CAPTURE lost $dropped frames (kernel drops)"
}

# vpn_leaks NAME WHAT [leak_check options]: the capture NAME holds nothing but the entry
# gateway's client link, the authority's API, ARP/NDP/DHCP (and what the options allow).
vpn_leaks() {
	name=$1
	what=$2
	shift 2
	"$PY" tests/lib/leak_check.py "$WORK/$name.pcap" --mac "$CLIENT_MAC" --label "$name" \
		--allow "tcp:$ENTRY_IP:9000" --allow "tcp:[$ENTRY_IP6]:9000" --allow "tcp:$AUTH_IP:8080" \
		"$@" >"$WORK/$name.leaks" 2>&1
	st=$?
	sed 's/^/    /' "$WORK/$name.leaks"
	check "$what" [ $st -eq 0 ]
}

# Attempts that must not get out while blocked: each must fail, and the capture shows whether
# anything left. Prints what happened.
vpn_try_traffic() {
	if on client curl -sS -m 3 -o /dev/null "http://$INTERNET_IP/" 2>/dev/null; then
		fail "$1: HTTP to the internet host got through"
	else
		pass "$1: HTTP to the internet host fails"
	fi
	if on client ping -c 1 -W 2 -q "$INTERNET_IP" >/dev/null 2>&1; then
		fail "$1: ping to the internet host got through"
	else
		pass "$1: ping to the internet host fails"
	fi
	if on client "$PY" tests/lib/dnsq.py "$INTERNET_IP" internet.test --timeout 2 >/dev/null 2>&1; then
		fail "$1: DNS to the internet host got through"
	else
		pass "$1: DNS to the internet host fails"
	fi
	if on client "$PY" tests/lib/dnsq.py 1.1.1.1 internet.test --timeout 2 >/dev/null 2>&1; then
		fail "$1: DNS to 1.1.1.1 got through"
	else
		pass "$1: DNS to 1.1.1.1 fails"
	fi
}
