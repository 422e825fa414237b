#!/bin/sh
# The feed's CI test (OpenWrt's packages CI runs it on the target with the package
# installed: $1 is the package name, $2 its version).
case "$1" in
nym-vpn)
	nym-vpnc --version | grep -F "$2" && nym-vpnd --version | grep -F "$2"
	;;
esac
