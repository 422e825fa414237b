#!/bin/sh
# Runs inside the VM of tests/vm/boot.sh (Debian's kernel, which has wireguard.ko): the whole
# two-hop (dVPN) path with the kernel's WireGuard. The sandbox (scripts/sandbox.sh up
# --wireguard --wg-backend kernel) runs both gateways' nymwg as kernel links; nym-vpnd
# connects two-hop, first with wireguard.backend kernel, then (same sandbox, same daemon
# state) with userspace (wireguard-go) against the same kernel gateways, to show that the
# two interoperate. Each run: connect --wait; `status --json` names the backend; the client's
# nym-wg-entry / nym-wg-exit are links of type wireguard (kernel) or tun devices
# (wireguard-go), as the gateways' nymwg are of type wireguard; `wg show` on the client (kernel
# run) and on the gateways shows the handshakes, the client's entry key a peer of the entry
# only and its exit key a peer of the exit only; ping and a 1 MiB download with matching
# SHA-256 over IPv4 and IPv6 through both gateways; disconnect --wait.
#
# Environment:
#   NYM_TEST_RUNS      the client backends to run, in order (default "kernel userspace")
#   NYM_TEST_GW_BACKEND the gateways' backend (default kernel; userspace runs the script on a
#                      machine without WireGuard, to try it out)
#   NYM_TEST_AMNEZIA   off (default here; the wrapper's default is random) | base | random:
#                      AmneziaWG on the entry hop. Anything but off is handed to
#                      `nym-vpnc tunnel set --amnezia VALUE` before the runs, and the runs
#                      then expect `status --json` to show it (connection.wireguard.amnezia)
#                      and, with random on both sides, the entry's nym_awg.ko to have
#                      decoded and encoded the hop's datagrams.
#   NYM_TEST_GW_AMNEZIA the entry gateway's wireguard.amnezia (sandbox --wg-amnezia; default:
#                      unset, the gateways' default, off), with nym_awg.ko loaded from
#                      $NYM_BUILD/kmod first (the wrapper runs `make kmod`).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
T0=$(date +%s)
RUNS=${NYM_TEST_RUNS:-kernel userspace}
GW_BACKEND=${NYM_TEST_GW_BACKEND:-kernel}
AMNEZIA=${NYM_TEST_AMNEZIA:-off}
case "$AMNEZIA" in off | base | random) ;; *) die "NYM_TEST_AMNEZIA: off, base or random, got '$AMNEZIA'" ;; esac
[ -n "$RUNS" ] || die "NYM_TEST_RUNS is empty"
for be in $RUNS $GW_BACKEND; do
	case "$be" in kernel | userspace) ;; *) die "NYM_TEST_RUNS / NYM_TEST_GW_BACKEND: kernel or userspace, got '$be'" ;; esac
done
vpnd_require
command -v wg >/dev/null || die "wg (wireguard-tools) missing"
# wireguard-go (the mixed run) needs /dev/net/tun, which the VM's devtmpfs has only once tun
# is loaded.
modprobe tun 2>/dev/null
[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
case "$GW_BACKEND $RUNS" in *kernel*) modprobe wireguard || die "this kernel has no wireguard module" ;; esac
# The gateways' nym-ntm tables need about twenty netfilter modules. Loaded on demand, each
# one makes the kernel abort and replay the whole nftables batch (15 to 35 s of emulated CPU
# for the exit's table); one modprobe, in the background while the sandbox makes its hosts,
# takes them off the critical path (whatever it misses still loads on demand).
modprobe -a nf_tables nft_ct nft_chain_nat nft_masq nft_reject_inet nft_limit nft_flow_offload \
	nf_flow_table_inet 2>/dev/null &
elapsed() { echo "$(($(date +%s) - T0)) s"; }
# gw_wg GATEWAY ARGS...: wg on that gateway, in its node's namespaces (the mount namespace
# too, where a userspace nymwg keeps its UAPI socket).
gw_wg() {
	pid=$(ip netns pids "$SANDBOX_PREFIX$1" | xargs -r ps -o pid=,comm= -p | awk '$2 == "nym-node" { print $1; exit }')
	[ -n "$pid" ] || { echo "no nym-node on $1" >&2; return 1; }
	shift
	nsenter -t "$pid" -m -n wg "$@"
}
# peers GATEWAY: the public keys of nymwg's peers.
peers() { gw_wg "$1" show nymwg peers 2>/dev/null; }
# jfields FILE PATH...: the JSON members, one a line (one python start: they are slow when
# emulated).
jfields() {
	"$PY" - "$@" <<'EOT'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
for p in sys.argv[2:]:
    v = d
    try:
        for k in p.split("."):
            v = v[k]
    except Exception:
        v = ""
    print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)
EOT
}

# Only what the two-hop path needs: the authority, the two gateways, the client, router and
# internet hosts (no mixnodes: their three hosts, keys and processes cost about a minute of
# emulated CPU and nothing here uses them).
GW_AMNEZIA=${NYM_TEST_GW_AMNEZIA:-}
if [ -n "$GW_AMNEZIA" ]; then
	# The entry gateway's side of AmneziaWG (wireguard.amnezia): the module before the sandbox starts it.
	KO="$(pwd)/${NYM_BUILD:-build}/kmod/nym_awg.ko"
	[ -d /sys/module/nym_awg ] || insmod "$KO" || die "NYM_TEST_GW_AMNEZIA: cannot insmod $KO (make kmod)"
	vpnd_sandbox --mixnodes 0 --wireguard --wg-backend "$GW_BACKEND" --wg-amnezia "$GW_AMNEZIA"
else
	vpnd_sandbox --mixnodes 0 --wireguard --wg-backend "$GW_BACKEND"
fi
echo "# sandbox up ($(elapsed))"
if [ -n "$GW_AMNEZIA" ] && [ "$GW_AMNEZIA" != off ]; then
	expect "entry: nymwg under nym_awg.ko as RESPONDER" '*"mode":"responder"*' \
		"$S" exec --dir "$SANDBOX_DIR" entry "$(pwd)/${NYM_BUILD:-build}/bin/nym-node" debug awg-show nymwg
fi
for gw in entry exit; do
	check "$gw: nymwg made with the $GW_BACKEND backend (its log)" \
		grep -q "wireguard: device nymwg, backend $GW_BACKEND" "$SANDBOX_DIR/logs/$gw.log"
	[ "$GW_BACKEND" = kernel ] || continue
	expect "$gw: nymwg is a kernel link (ip -d link: type wireguard)" "*wireguard*" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' $gw ip -d link show nymwg | sed -n 2,3p | tr '\n' ' '"
	expect "$gw: wg show nymwg (kernel netlink) lists port 51822" "*51822*" gw_wg $gw show nymwg listen-port
done

# The daemon's configuration as the sandbox wrote it; each run appends its backend (the
# daemon starts here with the first run's).
cp "$VPND_CONFIG" "$WORK/nym-vpnd.yaml.base"
vpnd_config() { { cat "$WORK/nym-vpnd.yaml.base"; printf 'wireguard:\n  backend: "%s"\n' "$1"; } >"$VPND_CONFIG"; }
vpnd_config "${RUNS%% *}"
vpnd_start
codes=$($S voucher --dir "$SANDBOX_DIR" 2) || die "no vouchers from the authority"
vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
	--voucher "$(echo "$codes" | sed -n 1p)" --voucher "$(echo "$codes" | sed -n 2p)" \
	--type wg-entry --type wg-exit >"$WORK/obtain.out" 2>&1
st=$?
check "credentials obtain: wg-entry and wg-exit ($(tr '\n' ' ' <"$WORK/obtain.out" | head -c 160))" [ $st -eq 0 ]
check "gateway set --entry-id --exit-id" vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID"
check "tunnel set --two-hop on" vpnc tunnel set --two-hop on
if [ "$AMNEZIA" != off ]; then
	vpnc tunnel set --amnezia "$AMNEZIA" >"$WORK/amnezia.out" 2>&1 ||
		die "tunnel set --amnezia $AMNEZIA failed: $(cat "$WORK/amnezia.out")"
	pass "tunnel set --amnezia $AMNEZIA"
fi
echo "# daemon configured ($(elapsed))"

NAME=dvpn$$.test
FILE=d$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 1048576 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)


# two_hop_run BACKEND: one connection with the client's devices on BACKEND, the checks, and
# disconnect; the daemon is started here (unless it runs already, with BACKEND) and stopped.
two_hop_run() {
	be=$1
	echo "# two-hop, client backend $be, gateways $GW_BACKEND ($(elapsed))"
	if [ -z "$VPND_PID" ]; then
		vpnd_config "$be"
		vpnd_start
	fi
	t0=$(date +%s)
	on client timeout 150 "$VPNC" --socket "$VPND_SOCKET" connect --wait >"$WORK/connect-$be.out" 2>&1
	st=$?
	check "[$be] connect --wait exits 0 ($(($(date +%s) - t0)) s)" [ $st -eq 0 ]
	if [ $st -ne 0 ]; then
		sed 's/^/    /' "$WORK/connect-$be.out"
		tail -n 40 "$VPND_LOG"
		vpnd_stop
		return 1
	fi
	vpnd_status "$WORK/status-$be.json"
	jfields "$WORK/status-$be.json" state mode connection.wireguard.backend connection.entry.id \
		connection.exit.id connection.wireguard.amnezia >"$WORK/fields-$be"
	field() { sed -n "${1}p" "$WORK/fields-$be"; }
	expect "[$be] status: connected" connected field 1
	expect "[$be] status: mode wireguard" wireguard field 2
	expect "[$be] status --json: backend $be" "$be" field 3
	expect "[$be] status: the entry gateway" "$ENTRY_ID" field 4
	expect "[$be] status: the exit gateway" "$EXIT_ID" field 5
	if [ "$AMNEZIA" != off ]; then
		expect "[$be] status: AmneziaWG $AMNEZIA" "*$AMNEZIA*" field 6
	fi
	for dev in nym-wg-entry nym-wg-exit; do
		on client ip -d link show "$dev" >"$WORK/link-$be-$dev" 2>&1
		if [ "$be" = kernel ]; then
			check "[$be] $dev is a kernel link (ip -d link: type wireguard)" grep -qw wireguard "$WORK/link-$be-$dev"
		else
			check "[$be] $dev is wireguard-go's tun device (ip -d link: tun)" grep -qw tun "$WORK/link-$be-$dev"
		fi
	done
	expect "[$be] nym-wg-entry's MTU 1420" "*mtu 1420*" on client ip link show nym-wg-entry
	expect "[$be] nym-wg-exit's MTU 1340" "*mtu 1340*" on client ip link show nym-wg-exit

	echo "# [$be] through both gateways ($(elapsed))"
	expect "[$be] ping -c 3 the internet host (IPv4)" "*3 packets transmitted, [1-3] received*" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client ping -c 3 -W 10 '$INTERNET_IP' | grep transmitted"
	expect "[$be] ping -6 -c 3 the internet host (IPv6)" "*3 packets transmitted, [1-3] received*" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client ping -6 -c 3 -W 10 '$INTERNET_IP6' | grep transmitted"
	expect "[$be] curl -4 http://$NAME/$FILE: 1 MiB with the file's SHA-256" "$WANT" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client curl -4 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
	expect "[$be] curl -6 http://$NAME/$FILE: the same bytes over IPv6" "$WANT" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client curl -6 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"

	echo "# [$be] wg show ($(elapsed))"
	for gw in entry exit; do
		gw_wg $gw show nymwg >"$WORK/wg-$be-$gw" 2>&1
		check "[$be] $gw: wg show nymwg shows a handshake" grep -q "latest handshake" "$WORK/wg-$be-$gw"
	done
	if [ "$be" = kernel ]; then
		for dev in nym-wg-entry nym-wg-exit; do
			on client wg show "$dev" >"$WORK/wg-$be-$dev" 2>&1
			check "[$be] client: wg show $dev shows a handshake and traffic" \
				sh -c "grep -q 'latest handshake' '$WORK/wg-$be-$dev' && grep -q 'transfer:' '$WORK/wg-$be-$dev'"
		done
		KE=$(on client wg show nym-wg-entry public-key 2>&1)
		KX=$(on client wg show nym-wg-exit public-key 2>&1)
	else
		# wireguard-go's UAPI sockets are in the daemon's mount namespace
		# ($SANDBOX_DIR/client-wireguard on its /run/wireguard): read them there.
		# shellcheck disable=SC2016 # $0: expanded by the inner shell
		KE=$(on client sh -c 'mount --bind "$0" /run/wireguard && wg show nym-wg-entry public-key' "$SANDBOX_DIR/client-wireguard" 2>&1)
		# shellcheck disable=SC2016
		KX=$(on client sh -c 'mount --bind "$0" /run/wireguard && wg show nym-wg-exit public-key' "$SANDBOX_DIR/client-wireguard" 2>&1)
	fi
	peers entry >"$WORK/peers-$be-entry"
	peers exit >"$WORK/peers-$be-exit"
	check "[$be] the client's entry key is a peer of the entry, not of the exit" \
		sh -c "[ -n '$KE' ] && grep -qxF '$KE' '$WORK/peers-$be-entry' && ! grep -qxF '$KE' '$WORK/peers-$be-exit'"
	check "[$be] the client's exit key is a peer of the exit, not of the entry" \
		sh -c "[ -n '$KX' ] && grep -qxF '$KX' '$WORK/peers-$be-exit' && ! grep -qxF '$KX' '$WORK/peers-$be-entry'"

	if [ -n "$GW_AMNEZIA" ] && [ "$GW_AMNEZIA" != off ] && [ "$AMNEZIA" = random ]; then
		# The entry hop really was AWG: the entry's module decoded it and learned the client.
		"$S" exec --dir "$SANDBOX_DIR" entry "$(pwd)/${NYM_BUILD:-build}/bin/nym-node" debug awg-show nymwg \
			>"$WORK/awg-$be.json" 2>&1
		jfields "$WORK/awg-$be.json" endpoints counters.rx_decoded counters.tx_encoded >"$WORK/awgf-$be"
		if [ "$(sed -n 1p "$WORK/awgf-$be")" -ge 1 ] 2>/dev/null && [ "$(sed -n 2p "$WORK/awgf-$be")" -gt 10 ] &&
			[ "$(sed -n 3p "$WORK/awgf-$be")" -gt 10 ]; then
			pass "[$be] the entry hop was AmneziaWG: nym_awg on the entry decoded $(sed -n 2p "$WORK/awgf-$be"), encoded $(sed -n 3p "$WORK/awgf-$be")"
		else
			fail "[$be] the entry's nym_awg saw no AWG client: $(cat "$WORK/awg-$be.json")"
		fi
	fi
	echo "# [$be] disconnect ($(elapsed))"
	vpnc disconnect --wait >"$WORK/disconnect-$be.out" 2>&1
	check "[$be] disconnect --wait exits 0" [ $? -eq 0 ]
	check "[$be] the client's devices are gone" sh -c "! '$S' exec --dir '$SANDBOX_DIR' client ip link show nym-wg-entry 2>/dev/null"
	vpnd_stop
	check "[$be] nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
}

for be in $RUNS; do
	two_hop_run "$be"
done
echo "($(elapsed) after boot)"
finish
