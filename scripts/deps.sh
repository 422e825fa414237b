#!/bin/sh
# Install the Debian packages the build, tests and sandbox need (DESIGN.md, "Dependencies").
# Idempotent and silent when everything is already present.
set -eu

PKGS="build-essential pkg-config clang llvm libclang-rt-14-dev
libsodium-dev libssl-dev liburing-dev libmnl-dev libnftnl-dev libyaml-dev libjansson-dev
libsqlite3-dev sqlite3 libmicrohttpd-dev libcurl4-openssl-dev libcriterion-dev libsystemd-dev dbus-daemon
wireguard-tools wireguard-go nftables iproute2 iperf3 dnsmasq-base tcpdump qemu-system-x86 linux-image-amd64 linux-headers-amd64 sparse
busybox-static python3 python3-cryptography curl iputils-ping musl-tools autoconf automake libtool file
debhelper dh-dkms dkms lintian debootstrap pandoc fakeroot systemd-container"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -qq update >/dev/null
# shellcheck disable=SC2086
apt-get -qq install -y --no-install-recommends $missing >/dev/null
