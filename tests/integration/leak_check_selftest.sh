#!/bin/sh
# tests/lib/leak_check.py (the VPN leak tests' judge) on synthetic captures: allowed endpoints,
# ARP/NDP/DHCP, LAN networks, and every kind of leak it must report.
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 tests/lib/leak_check.py selftest
