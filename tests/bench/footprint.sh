#!/bin/sh
# The client's footprint, for routers (128 MB of RAM, small flash): the stripped sizes of
# nym-vpnd and nym-vpnc, and nym-vpnd's memory while connected in each mode. Prints one JSON
# object on stdout (progress on stderr); a measurement, not a pass/fail test.
#
#   tests/bench/footprint.sh [--os] [--no-rss]
#
# Sizes: the build's binaries (NYM_BUILD, default build/: -O2 -g) stripped; with --os also a
# build as OpenWrt's package makes it (make SYSTEMD=0 CFLAGS=-Os into build/footprint, the
# library built again: about 2 minutes on 2 cores). Libraries are not counted (OpenWrt ships
# them as packages of their own).
# Memory: the sandbox (scripts/sandbox.sh up --wireguard --lan), the daemon in router mode on
# the client host; VmRSS and VmHWM (peak) of nym-vpnd from /proc: idle (started,
# disconnected), connected in mixnet mode after a 1 MiB download, connected in two-hop mode
# after the same (its devices are wireguard-go here, separate processes whose RSS is given
# apart; a router uses kmod-wireguard). Targets: binaries under 2 MB together, RSS under
# 24 MiB in each mode.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
OS=0
RSS=1
while [ $# -gt 0 ]; do
	case "$1" in
	--os) OS=1 ;;
	--no-rss) RSS=0 ;;
	*) die "usage: tests/bench/footprint.sh [--os] [--no-rss]" ;;
	esac
	shift
done
B=${NYM_BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/nym-footprint.XXXXXX")
trap 'rm -rf "$T"' EXIT
size_of() { strip -o "$T/s" "$1" && stat -c %s "$T/s"; }
VPND_SIZE=$(size_of "$B/bin/nym-vpnd") || die "no $B/bin/nym-vpnd: build first (make)"
VPNC_SIZE=$(size_of "$B/bin/nym-vpnc") || die "no $B/bin/nym-vpnc"
OS_JSON=""
if [ $OS -eq 1 ]; then
	echo "footprint: building nym-vpnd and nym-vpnc as OpenWrt's package does (-Os, SYSTEMD=0)..." >&2
	nice make -j2 O=build/footprint SYSTEMD=0 CFLAGS="-Os" build/footprint/bin/nym-vpnd build/footprint/bin/nym-vpnc \
		>"$T/make.log" 2>&1 || { tail -n 20 "$T/make.log" >&2; die "the -Os build failed"; }
	OS_VPND=$(size_of build/footprint/bin/nym-vpnd)
	OS_VPNC=$(size_of build/footprint/bin/nym-vpnc)
	OS_JSON=$(printf ', "os_nosystemd": {"nym_vpnd_bytes": %s, "nym_vpnc_bytes": %s, "total_bytes": %s}' \
		"$OS_VPND" "$OS_VPNC" $((OS_VPND + OS_VPNC)))
fi
echo "footprint: stripped nym-vpnd $VPND_SIZE bytes, nym-vpnc $VPNC_SIZE bytes" >&2

RSS_JSON=""
if [ $RSS -eq 1 ]; then
	. tests/lib/vpnd.sh
	vpnd_require
	# proc_kib PID FIELD: VmRSS / VmHWM in KiB.
	proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
	# The RSS of the client host's wireguard-go processes, summed (KiB).
	wg_go_kib() {
		s=0
		for p in $(ip netns pids "${SANDBOX_PREFIX}client"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = wireguard-go ] || continue
			s=$((s + $(proc_kib "$p" VmRSS)))
		done
		echo $s
	}
	{
		vpnd_sandbox --wireguard --lan
		printf 'router:\n  lan_interfaces: ["%s"]\n' "$LAN_IF" >>"$VPND_CONFIG"
		vpnd_start
		[ "$(cat "/proc/$VPND_PID/comm")" = nym-vpnd ] || die "pid $VPND_PID is not nym-vpnd"
		sleep 2
		IDLE=$(proc_kib "$VPND_PID" VmRSS)
		vpnd_credentials || die "credentials obtain failed"
		codes=$($S voucher --dir "$SANDBOX_DIR" 2) || die "no vouchers"
		vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" \
			--voucher "$(echo "$codes" | sed -n 1p)" --voucher "$(echo "$codes" | sed -n 2p)" \
			--type wg-entry --type wg-exit >"$WORK/obtain-wg.out" 2>&1 || die "wg credentials failed"
		vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null || die "gateway set failed"
		head -c 1048576 /dev/urandom >"$WWW_DIR/f.bin"
		vpnc connect --wait >"$WORK/connect.out" 2>&1 || die "connect failed: $(cat "$WORK/connect.out")"
		on lan curl -sS -m 120 -o /dev/null "http://$INTERNET_IP/f.bin" || die "the LAN download failed (mixnet)"
		on client curl -sS -m 120 -o /dev/null "http://$INTERNET_IP/f.bin" || die "the download failed (mixnet)"
		MIX=$(proc_kib "$VPND_PID" VmRSS)
		MIX_PEAK=$(proc_kib "$VPND_PID" VmHWM)
		vpnc tunnel set --two-hop on >/dev/null || die "tunnel set --two-hop on failed"
		vpnd_reconnect 120 || die "no two-hop connection"
		on lan curl -sS -m 120 -o /dev/null "http://$INTERNET_IP/f.bin" || die "the LAN download failed (two-hop)"
		on client curl -sS -m 120 -o /dev/null "http://$INTERNET_IP/f.bin" || die "the download failed (two-hop)"
		TWO=$(proc_kib "$VPND_PID" VmRSS)
		TWO_PEAK=$(proc_kib "$VPND_PID" VmHWM)
		WG=$(wg_go_kib)
		vpnc disconnect --wait >/dev/null 2>&1
		vpnd_stop
	} >&2
	RSS_JSON=$(printf ', "rss_kib": {"idle": %s, "mixnet": %s, "two_hop": %s}, "peak_rss_kib": {"mixnet": %s, "two_hop": %s}, "wireguard_go_rss_kib": %s' \
		"$IDLE" "$MIX" "$TWO" "$MIX_PEAK" "$TWO_PEAK" "$WG")
	PEAK=$MIX_PEAK
	[ "$TWO_PEAK" -le "$PEAK" ] || PEAK=$TWO_PEAK
	RSS_OK=$([ "$PEAK" -lt 24576 ] && echo true || echo false)
fi
TOTAL=$((VPND_SIZE + VPNC_SIZE))
printf '{"build": "%s", "nym_vpnd_stripped_bytes": %s, "nym_vpnc_stripped_bytes": %s, "total_stripped_bytes": %s%s%s, "targets": {"binaries_under_2mb": %s%s}}\n' \
	"$B" "$VPND_SIZE" "$VPNC_SIZE" "$TOTAL" "$OS_JSON" "$RSS_JSON" \
	"$([ $TOTAL -lt 2097152 ] && echo true || echo false)" "${RSS_OK:+, \"rss_under_24mib\": $RSS_OK}"
