#!/bin/sh
# nym-vpnc's command-line edges against a scripted control socket (no daemon, no root, no
# namespaces): request lines, --json shape, --help of every command, error messages and exit
# statuses, connect/disconnect --wait, status --listen. The checks are in vpnc_cli.py. ~10 s.
set -eu
B=${NYM_BUILD:-build}
exec python3 tests/integration/vpnc_cli.py "$B/bin/nym-vpnc"
