#!/bin/sh
# lib/wg's kernel backend (generic netlink, rtnetlink) and its interop with wireguard-go:
# this machine's kernel has no WireGuard, so tests/vm/wg_kernel.sh runs in a VM booting
# Debian's kernel (tests/vm/boot.sh), against this build.
set -u
cd "$(dirname "$0")/../.."
exec tests/vm/boot.sh --mem 1024 env NYM_BUILD="${NYM_BUILD:-build}" sh tests/vm/wg_kernel.sh
