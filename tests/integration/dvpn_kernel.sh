#!/bin/sh
# The two-hop (dVPN) path with the kernel's WireGuard: this machine's kernel has no
# WireGuard, so tests/vm/dvpn_kernel.sh runs the sandbox with kernel gateways and nym-vpnd
# (kernel backend, then wireguard-go against the same gateways) in a VM booting Debian's
# kernel (tests/vm/boot.sh), against this build. By default the entry hop is AmneziaWG
# (issue 14): the entry gateway's nymwg under nym_awg.ko with a random parameter set, the
# client with `--amnezia random` (the module on the kernel run, the userspace relay on the
# wireguard-go run); the exit hop stays plain WireGuard, kernel to kernel and then
# wireguard-go to kernel. NYM_TEST_RUNS, NYM_TEST_AMNEZIA and NYM_TEST_GW_AMNEZIA pass
# through (see tests/vm/dvpn_kernel.sh); NYM_TEST_AMNEZIA=off NYM_TEST_GW_AMNEZIA= runs
# plain WireGuard on both hops.
set -u
cd "$(dirname "$0")/../.." || exit 1
NYM_TEST_AMNEZIA=${NYM_TEST_AMNEZIA-random}
NYM_TEST_GW_AMNEZIA=${NYM_TEST_GW_AMNEZIA-random}
if [ -n "$NYM_TEST_GW_AMNEZIA" ]; then
	make -s kmod O="${NYM_BUILD:-build}" >/dev/null || { echo "FAIL make kmod"; exit 1; }
fi
exec tests/vm/boot.sh --mem 2048 --cpus 2 env NYM_BUILD="${NYM_BUILD:-build}" \
	NYM_TEST_RUNS="${NYM_TEST_RUNS:-kernel userspace}" NYM_TEST_AMNEZIA="${NYM_TEST_AMNEZIA:-off}" \
	NYM_TEST_GW_AMNEZIA="$NYM_TEST_GW_AMNEZIA" sh tests/vm/dvpn_kernel.sh
