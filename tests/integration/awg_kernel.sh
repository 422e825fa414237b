#!/bin/sh
# nym_awg.ko (AmneziaWG 1.0 over the kernel's WireGuard): built here against the Debian
# kernel's headers (make kmod), then loaded and exercised in a VM booting that kernel
# (tests/vm/awg_kernel.sh through tests/vm/boot.sh).
set -u
cd "$(dirname "$0")/../.."
B=${NYM_BUILD:-build}
make -s kmod O="$B" >/dev/null || { echo "FAIL make kmod"; exit 1; }
exec tests/vm/boot.sh --mem 1024 env NYM_BUILD="$B" sh tests/vm/awg_kernel.sh
