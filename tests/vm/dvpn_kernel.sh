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
#   NYM_TEST_AMNEZIA   off (default) | base | random: the hook for AmneziaWG (issue 13's AWG
#                      work, contract K4). Anything but off is handed to
#                      `nym-vpnc tunnel set --amnezia VALUE` before the runs, and the runs
#                      then expect `status --json` to show it (connection.wireguard.amnezia);
#                      a build without that option fails the test with a clear message.
#                      The gateways' side (wireguard.amnezia, contract K3) is set with
#                      NYM_TEST_GW_AMNEZIA (default: unset, the gateways' default).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
T0=$(date +%s)
RUNS=${NYM_TEST_RUNS:-kernel userspace}
AMNEZIA=${NYM_TEST_AMNEZIA:-off}
case "$AMNEZIA" in off | base | random) ;; *) die "NYM_TEST_AMNEZIA: off, base or random, got '$AMNEZIA'" ;; esac
vpnd_require
command -v wg >/dev/null || die "wg (wireguard-tools) missing"
# wireguard-go (the mixed run) needs /dev/net/tun, which the VM's devtmpfs has only once tun
# is loaded.
modprobe tun 2>/dev/null
[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
modprobe wireguard || die "this kernel has no wireguard module"
elapsed() { echo "$(($(date +%s) - T0)) s"; }

vpnd_sandbox --wireguard --wg-backend kernel
echo "# sandbox up ($(elapsed))"
# The gateways' side of the AmneziaWG hook (K3): their config before they (re)start.
if [ -n "${NYM_TEST_GW_AMNEZIA:-}" ]; then
	die "NYM_TEST_GW_AMNEZIA: not wired yet (set wireguard.amnezia on both gateways and restart them here)"
fi
for gw in entry exit; do
	check "$gw: nymwg made with the kernel backend (its log)" \
		grep -q "wireguard: device nymwg, backend kernel" "$SANDBOX_DIR/logs/$gw.log"
	expect "$gw: nymwg is a kernel link (ip -d link: type wireguard)" "*wireguard*" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' $gw ip -d link show nymwg | sed -n 2,3p | tr '\n' ' '"
	expect "$gw: wg show nymwg (kernel netlink) lists port 51822" "*51822*" on $gw wg show nymwg listen-port
done

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
		die "tunnel set --amnezia $AMNEZIA failed (does this nym-vpnc have it? contract K4): $(cat "$WORK/amnezia.out")"
	pass "tunnel set --amnezia $AMNEZIA"
fi
vpnd_stop
echo "# daemon configured ($(elapsed))"

NAME=dvpn$$.test
FILE=d$$.bin
printf '%s %s\n%s %s\n' "$INTERNET_IP" "$NAME" "$INTERNET_IP6" "$NAME" >>"$DNS_HOSTS"
head -c 1048576 /dev/urandom >"$WWW_DIR/$FILE"
WANT=$(sha256sum <"$WWW_DIR/$FILE" | cut -d' ' -f1)
# The daemon's configuration as the sandbox wrote it; each run appends its backend.
cp "$VPND_CONFIG" "$WORK/nym-vpnd.yaml.base"

# pubkey HOST DEV: the device's public key, as wg show reads it (kernel links).
pubkey() { on "$1" wg show "$2" public-key 2>/dev/null; }
# peers HOST: the public keys of nymwg's peers on a gateway.
peers() { on "$1" wg show nymwg peers 2>/dev/null; }

# two_hop_run BACKEND: one connection with the client's devices on BACKEND, the checks, and
# disconnect; the daemon is started and stopped here.
two_hop_run() {
	be=$1
	echo "# two-hop, client backend $be, gateways kernel ($(elapsed))"
	{ cat "$WORK/nym-vpnd.yaml.base"; printf 'wireguard:\n  backend: "%s"\n' "$be"; } >"$VPND_CONFIG"
	vpnd_start
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
	expect "[$be] status: connected" connected jget "$WORK/status-$be.json" state
	expect "[$be] status: mode wireguard" wireguard jget "$WORK/status-$be.json" mode
	expect "[$be] status --json: backend $be" "$be" jget "$WORK/status-$be.json" connection.wireguard.backend
	expect "[$be] status: the entry gateway" "$ENTRY_ID" jget "$WORK/status-$be.json" connection.entry.id
	expect "[$be] status: the exit gateway" "$EXIT_ID" jget "$WORK/status-$be.json" connection.exit.id
	if [ "$AMNEZIA" != off ]; then
		expect "[$be] status: AmneziaWG $AMNEZIA" "*$AMNEZIA*" jget "$WORK/status-$be.json" connection.wireguard.amnezia
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

	echo "# [$be] through both gateways"
	expect "[$be] ping -c 3 the internet host (IPv4)" "*3 packets transmitted, [1-3] received*" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client ping -c 3 -W 10 '$INTERNET_IP' | grep transmitted"
	expect "[$be] ping -6 -c 3 the internet host (IPv6)" "*3 packets transmitted, [1-3] received*" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client ping -6 -c 3 -W 10 '$INTERNET_IP6' | grep transmitted"
	expect "[$be] curl -4 http://$NAME/$FILE: 1 MiB with the file's SHA-256" "$WANT" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client curl -4 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"
	expect "[$be] curl -6 http://$NAME/$FILE: the same bytes over IPv6" "$WANT" \
		sh -c "'$S' exec --dir '$SANDBOX_DIR' client curl -6 -sS -m 90 'http://$NAME/$FILE' | sha256sum | cut -d' ' -f1"

	echo "# [$be] wg show"
	for gw in entry exit; do
		on $gw wg show nymwg >"$WORK/wg-$be-$gw" 2>&1
		check "[$be] $gw: wg show nymwg shows a handshake" grep -q "latest handshake" "$WORK/wg-$be-$gw"
	done
	if [ "$be" = kernel ]; then
		for dev in nym-wg-entry nym-wg-exit; do
			on client wg show "$dev" >"$WORK/wg-$be-$dev" 2>&1
			check "[$be] client: wg show $dev shows a handshake and traffic" \
				sh -c "grep -q 'latest handshake' '$WORK/wg-$be-$dev' && grep -q 'transfer:' '$WORK/wg-$be-$dev'"
		done
		KE=$(pubkey client nym-wg-entry)
		KX=$(pubkey client nym-wg-exit)
	else
		# wireguard-go's UAPI sockets are in the daemon's mount namespace
		# ($SANDBOX_DIR/client-wireguard on its /run/wireguard): read them there.
		KE=$(on client sh -c 'mount --bind "$0" /run/wireguard && wg show nym-wg-entry public-key' "$SANDBOX_DIR/client-wireguard" 2>&1)
		KX=$(on client sh -c 'mount --bind "$0" /run/wireguard && wg show nym-wg-exit public-key' "$SANDBOX_DIR/client-wireguard" 2>&1)
	fi
	peers entry >"$WORK/peers-$be-entry"
	peers exit >"$WORK/peers-$be-exit"
	check "[$be] the client's entry key is a peer of the entry, not of the exit" \
		sh -c "[ -n '$KE' ] && grep -qxF '$KE' '$WORK/peers-$be-entry' && ! grep -qxF '$KE' '$WORK/peers-$be-exit'"
	check "[$be] the client's exit key is a peer of the exit, not of the entry" \
		sh -c "[ -n '$KX' ] && grep -qxF '$KX' '$WORK/peers-$be-exit' && ! grep -qxF '$KX' '$WORK/peers-$be-entry'"

	vpnc disconnect --wait >"$WORK/disconnect-$be.out" 2>&1
	check "[$be] disconnect --wait exits 0" [ $? -eq 0 ]
	check "[$be] the client's devices are gone" sh -c "! '$S' exec --dir '$SANDBOX_DIR' client ip link show nym-wg-entry 2>/dev/null"
	vpnd_stop
	check "[$be] nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
}

for be in $RUNS; do
	case "$be" in kernel | userspace) ;; *) die "NYM_TEST_RUNS: kernel or userspace, got '$be'" ;; esac
	two_hop_run "$be"
done
echo "($(elapsed) in the VM after boot)"
finish
