#!/bin/sh
# The two-hop (dVPN) path with the kernel's WireGuard: this machine's kernel has no
# WireGuard, so tests/vm/dvpn_kernel.sh runs the sandbox with kernel gateways and nym-vpnd
# (kernel backend, then wireguard-go against the same gateways) in a VM booting Debian's
# kernel (tests/vm/boot.sh), against this build. NYM_TEST_RUNS and NYM_TEST_AMNEZIA pass
# through (see tests/vm/dvpn_kernel.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
exec tests/vm/boot.sh --mem 2048 --cpus 2 env NYM_BUILD="${NYM_BUILD:-build}" \
	NYM_TEST_RUNS="${NYM_TEST_RUNS:-kernel userspace}" NYM_TEST_AMNEZIA="${NYM_TEST_AMNEZIA:-off}" \
	NYM_TEST_GW_AMNEZIA="${NYM_TEST_GW_AMNEZIA:-}" sh tests/vm/dvpn_kernel.sh
