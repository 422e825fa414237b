#!/bin/sh
# tests/packages/rootfs.sh DIR: a Debian root for the package tests at DIR (a fresh copy of a
# cached debootstrap under build/pkgroot/base, made once). The mirror and suite are the ones
# this machine's apt already uses (its own configuration is only read); the root gets its own
# sources list. Prints nothing on success.
set -eu
cd "$(dirname "$0")/../.."
dest=$1
cache=build/pkgroot
base=$cache/base

# The host's Debian mirror and suite: the first deb822 or one-line source naming /debian.
mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)/*$|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's|^deb  *\(http[^ ]*/debian\)/* .*|\1|p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")

if [ ! -f "$base/.complete" ]; then
	rm -rf "$base"
	mkdir -p "$cache"
	echo "rootfs: debootstrap $suite from $mirror into $base (once; cached)" >&2
	debootstrap --variant=minbase --include=systemd,man-db "$suite" "$base" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
		tail -n 20 "$cache/debootstrap.log" >&2
		exit 1
	}
	cat >"$base/etc/apt/sources.list" <<EOS
deb $mirror $suite main
deb $mirror $suite-updates main
EOS
	sec=$(sed -n 's|^URIs: *\(http[^ ]*/debian-security\)/*$|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -z "$sec" ] || echo "deb $sec $suite-security main" >>"$base/etc/apt/sources.list"
	# Services never start inside the root.
	printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
	chmod 755 "$base/usr/sbin/policy-rc.d"
	touch "$base/.complete"
fi
rm -rf "$dest"
cp -a "$base" "$dest"
