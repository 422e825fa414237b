#!/bin/sh
# tests/packages/unit_boot.sh ROOT: boots ROOT (the package test's root, packages installed and
# the exit gateway t1 initialised) with systemd-nspawn inside a network namespace of this
# test (a veth to a second one standing in for the provider; nothing else is reachable),
# with nym-node@t1 enabled. The gateway must come up from its unit: running as nym with
# exactly CAP_NET_BIND_SERVICE and CAP_NET_ADMIN, no_new_privs, its TUN device made, its
# HTTP API answering, nym-ntm's table installed before it (nym-ntm.service) and again after.
set -eu
cd "$(dirname "$0")/../.."
. tests/lib/netns.sh
. tests/lib/assert.sh
R=$(cd "$1" && pwd)
netns_init pkb
T=$NS_DIR
netns_add gw
netns_add up
netns_veth gw eth0 up eth0
netns_exec gw ip addr add 198.51.100.7/24 dev eth0
netns_exec up ip addr add 198.51.100.1/24 dev eth0
netns_exec gw ip link set eth0 up
netns_exec up ip link set eth0 up
netns_exec gw ip route add default via 198.51.100.1
netns_exec gw ip link set lo up

# The IPv4 uplink only (the namespace has no IPv6 default route).
sed -i 's/^uplink_v6: .*/uplink_v6: none/' "$R/etc/nym/ntm.yaml"
systemctl --root="$R" enable nym-node@t1.service >/dev/null 2>&1
rm -f "$R/usr/sbin/policy-rc.d" # a booted system starts its services

# Not under ip netns exec (its fresh /sys hides the cgroup tree nspawn needs): nspawn joins
# the namespace itself, and so treats the network as private (CAP_NET_ADMIN and a writable
# /proc/sys/net in the container).
mkdir -p "$R/var/log/journal" # the container's journal stays for the log below
systemd-nspawn -q -D "$R" --register=no --keep-unit --boot --network-namespace-path="/run/netns/${NS_P}gw" \
	--capability=CAP_NET_ADMIN --bind=/dev/net/tun --console=read-only >"$T/nspawn.log" 2>&1 &
NSPAWN=$!
# The node: the nym-node process in this test's network namespace.
NETNS_INO=$(stat -L -c %i "/run/netns/${NS_P}gw")
node_pid() {
	for p in $(pgrep -x nym-node); do
		[ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$NETNS_INO" ] && { echo "$p"; return 0; }
	done
	return 1
}
PID=
for i in $(seq 1 60); do
	PID=$(node_pid) && netns_exec gw curl -sf -o /dev/null http://198.51.100.7:8080/api/v1/health && break
	sleep 0.5
done 2>/dev/null
status_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
if [ -n "$PID" ]; then
	NYM_UID=$(awk -F: '$1 == "nym" { print $3 }' "$R/etc/passwd")
	check "the gateway runs as nym" test "$(status_of "$PID" Uid)" = "$NYM_UID"
	check "with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only" test "$(status_of "$PID" CapEff)" = 0000000000001400
	check "its bounding set is the same" test "$(status_of "$PID" CapBnd)" = 0000000000001400
	check "no_new_privs" test "$(status_of "$PID" NoNewPrivs)" = 1
	check "seccomp filter on" test "$(status_of "$PID" Seccomp)" = 2
	check "its TUN device exists" netns_exec gw ip link show nymtun0
	check "its HTTP API answers" netns_exec gw curl -sf -o /dev/null http://198.51.100.7:8080/api/v1/health
	check "nym-ntm's table is installed" sh -c "ip netns exec '${NS_P}gw' nft list table inet nym-ntm >/dev/null"
	check "its keys stayed nym's" test "$(stat -c %u "$R/var/lib/nym-node/t1/data/ed25519_identity")" = "$NYM_UID"
	check "nym-ntm ran again once the node was ready" test "$(journalctl -D "$R/var/log/journal" --no-pager -u nym-node@t1 | grep -c 'table inet nym-ntm installed')" -ge 1
	check "nym-node@t1.service is active" sh -c "journalctl -D '$R/var/log/journal' -u nym-node@t1 --no-pager | grep -q 'Started nym-node@t1'"
else
	fail "the gateway did not come up from nym-node@t1.service"
fi
# nym-vpnd.service, enabled by the package, started at boot too.
VPID=
for i in $(seq 1 20); do
	for p in $(pgrep -x nym-vpnd); do
		[ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$NETNS_INO" ] && VPID=$p
	done
	[ -n "$VPID" ] && [ -S "/proc/$VPID/root/run/nym-vpnd.sock" ] && break
	sleep 0.5
done
if [ -n "$VPID" ]; then
	VPN_GID=$(awk -F: '$1 == "nym-vpn" { print $3 }' "$R/etc/group")
	check "nym-vpnd's socket belongs to the group nym-vpn, mode 660" \
		test "$(stat -c %g:%a "/proc/$VPID/root/run/nym-vpnd.sock")" = "$VPN_GID:660"
	check "nym-vpnc talks to it (info)" nsenter -t "$VPID" -a nym-vpnc info
else
	fail "nym-vpnd.service did not start at boot"
fi
journalctl -D "$R/var/log/journal" --no-pager -u nym-node@t1 -u nym-ntm | tail -n 30
kill -TERM "$NSPAWN" 2>/dev/null || true
for i in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$NSPAWN" 2>/dev/null || true
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
finish
