#!/bin/sh
# make check-packages: the Debian packages in build/deb/ (make deb) checked as Debian and an
# operator meet them:
#   - lintian: no errors and no warnings;
#   - systemd-analyze security (offline) of every unit, each in the OK band or better;
#   - in a throwaway Debian root (tests/packages/rootfs.sh: a cached debootstrap of this
#     machine's suite and mirror, copied fresh, in a private mount namespace): apt installs
#     the previous version (the same packages relabelled one version lower) resolving every
#     dependency; the user nym, the group nym-vpn and /var/lib/nym-node exist; as nym:
#     nym-node --version, nym-node init, nym-ntm policy test, nym-vpnc --help; `man -k nym`
#     lists every page; systemd-analyze verify passes on every unit; an upgrade keeps the
#     node's keys and an edited conffile; remove keeps keys and conffiles; purge (with
#     --autoremove) leaves the root's file list as it was before the install.
# Needs root (chroot, mounts). Nothing of the host changes: its apt configuration is only read.
set -eu
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
t0=$(date +%s)
[ "$(id -u)" -eq 0 ] || die "check-packages needs root (chroot)"
ls build/deb/nym-node_*.deb build/deb/nym-vpn_*.deb >/dev/null 2>&1 || die "no packages in build/deb (make deb)"

# ---- lintian ----
# (lintian's "running with root privileges is not recommended" is no finding.)
if lintian --fail-on error,warning build/deb/*.changes >"${TMPDIR:-/tmp}/nym-lintian.$$" 2>&1; then
	pass "lintian: no errors or warnings"
else
	fail "lintian: $(grep -v 'running with root privileges' "${TMPDIR:-/tmp}/nym-lintian.$$")"
fi
rm -f "${TMPDIR:-/tmp}/nym-lintian.$$"

# ---- unit hardening ----
W=$(mktemp -d "${TMPDIR:-/tmp}/nym-pkgcheck.XXXXXX")
R=
cleanup() {
	rm -rf "$W"
	[ -z "$R" ] || [ -n "${KEEP_ROOT:-}" ] || rm -rf "$R"
}
trap cleanup EXIT INT TERM
for d in build/deb/nym-node_*.deb build/deb/nym-vpn_*.deb build/deb/nym-awg-dkms_*.deb; do
	[ -f "$d" ] && dpkg-deb -x "$d" "$W/tree"
done
cp "$W/tree/lib/systemd/system/nym-node@.service" "$W/nym-node@test.service"
cp "$W/tree/lib/systemd/system/nym-ntm.service" "$W/tree/lib/systemd/system/nym-vpnd.service" "$W/"
for u in nym-node@test.service nym-ntm.service nym-vpnd.service; do
	line=$(cd "$W" && systemd-analyze security --offline=yes --no-pager "$u" 2>&1 | tail -n 1)
	case "$line" in
	*" OK "* | *" SAFE "* | *" PERFECT "*) pass "security: $(echo "$line" | sed 's/.*for //; s/ *[^ ]*$//')" ;;
	*) fail "security: $line" ;;
	esac
done

# ---- the throwaway root ----
R=build/pkgroot/run
tests/packages/rootfs.sh "$R" || die "cannot make the Debian root"
mkdir -p build/pkgroot/apt-archives/partial "$R/debs/prev" "$R/debs/cur"

# The previous version: these packages relabelled one version lower (~prev sorts before).
for d in build/deb/nym-node_*.deb build/deb/nym-vpn_*.deb build/deb/nym-awg-dkms_*.deb; do
	[ -f "$d" ] || continue
	cp "$d" "$R/debs/cur/"
	x="$W/prev-$(basename "$d")"
	dpkg-deb -R "$d" "$x"
	sed -i 's/^Version: \(.*\)$/Version: \1~prev/' "$x/DEBIAN/control"
	dpkg-deb -Zxz -b "$x" "$R/debs/prev/" >/dev/null
done
cur_version=$(dpkg-deb -f "$(ls build/deb/nym-node_*.deb)" Version)

# The tests inside the root: one script, in a private mount namespace (the mounts vanish
# with it), its output checked line by line by the same assertions.
cp tests/lib/assert.sh "$R/assert.sh"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
cat >"$R/inside.sh" <<'IN'
set -eu
. /assert.sh
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
apt() { apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null >>/apt.log 2>&1; }
as_nym() { runuser -u nym -- "$@"; }
# Files of the root, less what apt and dpkg keep about themselves.
snapshot() {
	find / -xdev \( -path /proc -o -path /dev -o -path /sys -o -path /debs -o -path /var/cache/apt \
		-o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log -o -path /tmp -o -path /run \
		-o -path /var/cache/man -o -path /var/cache/debconf -o -path /var/lib/systemd/deb-systemd-helper-masked \
		-o -name '*.log' -o -path /inside.sh -o -path /assert.sh -o -path /apt.log -o -path /key.sum \
		-o -path /var/lib/systemd -o -path /var/tmp -o -path /etc/machine-id \) -prune -o -print | sort
}
if [ "$PHASE" = install ]; then
apt-get -q update >>/apt.log 2>&1 || die "apt-get update (see apt.log)"
snapshot >/before.list

check "apt installs the previous version, resolving every dependency" apt install --no-install-recommends /debs/prev/*.deb
check "the user nym exists" getent passwd nym
check "the group nym-vpn exists" getent group nym-vpn
check "/var/lib/nym-node belongs to nym" test "$(stat -c %U:%a /var/lib/nym-node)" = nym:750
check "nym-node --version as nym" as_nym nym-node --version
check "nym-node init as nym" as_nym nym-node init --id t1 --data-dir /var/lib/nym-node/t1 --mode exit-gateway --public-ip 198.51.100.7 --location DE
check "the packaged init writes user: nym" grep -q '^user: "nym"' /var/lib/nym-node/t1/config/config.yaml
check "nym-ntm policy test as nym" as_nym nym-ntm policy test /etc/nym/exit-policy.txt
check "nym-vpnc --help as nym" as_nym nym-vpnc --help
check "nym-vpnd --version" nym-vpnd --version
pages=$(man -k nym 2>/dev/null | awk '$1 ~ /^nym/ {print $1 $2}' | sort | tr '\n' ' ')
expect_pages="nym-exit-policy(5) nym-node(8) nym-node.yaml(5) nym-ntm(8) nym-ntm.yaml(5) nym-vpnc(1) nym-vpnd(8) nym-vpnd.yaml(5) "
check "man -k nym lists every page ($pages)" test "$pages" = "$expect_pages"
for u in nym-node@t1.service nym-ntm.service nym-vpnd.service; do
	out=$(systemd-analyze verify "/lib/systemd/system/$u" 2>&1 | grep -v 'Unit sysinit.target not found' || true)
	check "systemd-analyze verify $u${out:+: $out}" test -z "$out"
done
check "nym-vpnd.service is enabled on install" test -L /etc/systemd/system/multi-user.target.wants/nym-vpnd.service
check "nym-ntm.service is not enabled by itself" test ! -e /etc/systemd/system/multi-user.target.wants/nym-ntm.service
if [ -n "$(ls /debs/cur/nym-awg-dkms_*.deb 2>/dev/null)" ]; then
	check "dkms knows nym-awg" sh -c "dkms status nym-awg | grep -q ^nym-awg/"
	check "the module loads at boot (modules-load.d)" grep -qx nym_awg /usr/lib/modules-load.d/nym-awg.conf
fi
key=$(sha256sum /var/lib/nym-node/t1/data/ed25519_identity)
echo "# operator's change" >>/etc/nym/ntm.yaml

check "apt upgrades to $CUR" apt install --no-install-recommends /debs/cur/*.deb
check "the upgrade is $CUR" test "$(dpkg-query -W -f='${Version}' nym-node)" = "$CUR"
check "the upgrade keeps the node's keys" test "$(sha256sum /var/lib/nym-node/t1/data/ed25519_identity)" = "$key"
check "the upgrade keeps the edited conffile" grep -q "operator's change" /etc/nym/ntm.yaml
echo "$key" >/key.sum
finish
fi

if [ "$PHASE" = remove ]; then
key=$(cat /key.sum)

AWG=$(ls /debs/cur/nym-awg-dkms_*.deb >/dev/null 2>&1 && echo nym-awg-dkms || true)
check "apt remove" apt remove nym-node nym-vpn $AWG
check "remove keeps the keys" test "$(sha256sum /var/lib/nym-node/t1/data/ed25519_identity)" = "$key"
check "remove keeps the conffiles" test -f /etc/nym/ntm.yaml -a -f /etc/nym/nym-vpnd.yaml
check "remove takes the programs" test ! -e /usr/bin/nym-node -a ! -e /usr/sbin/nym-vpnd

# A package without conffiles is gone after remove: purge only what dpkg still knows.
[ -z "$AWG" ] || dpkg-query -W -f='${Status}' nym-awg-dkms 2>/dev/null | grep -qv not-installed || AWG=
check "apt purge --autoremove" apt purge --autoremove nym-node nym-vpn $AWG
check "purge deletes the node state" test ! -e /var/lib/nym-node
check "purge deletes /etc/nym" test ! -e /etc/nym
check "purge deletes the module source" sh -c '! ls -d /usr/src/nym-awg-* /var/lib/dkms/nym-awg 2>/dev/null' 
snapshot >/after.list
# Dependencies purged by --autoremove may leave generated files of their own (ca-certificates'
# /etc/ssl/certs, netbase's /etc/hosts); nothing of ours may remain.
diff /before.list /after.list | sed -n 's/^> //p' >/left.list || true
if grep -i nym /left.list >/ours.list; then
	fail "purge leaves files of ours: $(head -c 600 /ours.list)"
else
	pass "purge leaves no file of ours ($(wc -l </left.list) left by purged dependencies)"
	echo "left by dependencies, by directory:"; cut -d/ -f1-4 /left.list | sort | uniq -c | sort -rn | head -n 8
fi
finish
fi
IN
# phase PHASE: inside.sh's part PHASE in the root, its verdicts shown as "root:" lines.
phase() {
	if unshare --mount --propagation private sh -c '
		set -e
		R=$1
		mount -t proc proc "$R/proc"
		mount --rbind /dev "$R/dev"
		mount --bind build/pkgroot/apt-archives "$R/var/cache/apt/archives"
		PHASE=$3 CUR=$2 chroot "$R" /bin/sh /inside.sh
	' sh "$R" "$cur_version" "$1" >"build/pkgroot/$1.log" 2>&1; then rc=0; else rc=$?; fi
	grep -a -E '^(ok|FAIL) ' "build/pkgroot/$1.log" | sed 's/^/  root: /'
	if [ $rc -eq 0 ]; then
		pass "$1 phase in the throwaway root"
	else
		tail -n 30 "build/pkgroot/$1.log"
		[ -f "$R/apt.log" ] && tail -n 30 "$R/apt.log"
		fail "$1 phase in the throwaway root (log: build/pkgroot/$1.log)"
	fi
}
phase install
# The installed root booted with systemd (systemd-nspawn) in a network namespace of this
# test: the gateway runs from its unit, as nym, sandboxed.
if [ "$ASSERT_FAILS" -eq 0 ]; then
	if tests/packages/unit_boot.sh "$R" >build/pkgroot/unit_boot.log 2>&1; then rc=0; else rc=$?; fi
	grep -a -E '^(ok|FAIL) ' build/pkgroot/unit_boot.log | sed 's/^/  boot: /'
	if [ $rc -eq 0 ]; then pass "the gateway's unit in a booted root"; else
		tail -n 20 build/pkgroot/unit_boot.log
		fail "the gateway's unit in a booted root (log: build/pkgroot/unit_boot.log)"
	fi
fi
[ -n "${KEEP_ROOT:-}" ] || phase remove
echo "check-packages: $(($(date +%s) - t0)) s"
finish
