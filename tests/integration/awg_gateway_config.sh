#!/bin/sh
# wireguard.amnezia on a gateway, where this machine's kernel cannot load nym_awg.ko: a broken
# parameter set and the userspace backend are configuration errors naming the rule, and a
# gateway with AmneziaWG on refuses to start without the module (it never announces AWG it
# does not apply). The working gateway is in tests/vm/awg_kernel.sh.
set -u
. tests/lib/netns.sh
. tests/lib/assert.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init awgc
T=$NS_DIR
netns_host gw 198.51.100.50/24
D="$T/gw"
"$NODE" init --id awgc --mode entry-gateway --public-ip 198.51.100.50 --data-dir "$D" >/dev/null || die "init"
cp "$D/config/config.yaml" "$T/base.yaml"
# amnezia VALUE [BACKEND]: the configuration with the WireGuard service on.
amnezia() {
	sed '/^wireguard:/,/^[a-z]/ { s/^  enabled: .*/  enabled: true/; s/^  backend: .*/  backend: "'"${2:-auto}"'"/
		s/^  amnezia: .*/  amnezia: "'"$1"'"/ }' "$T/base.yaml" >"$D/config/config.yaml"
}
amnezia "jc=3,jmin=10,jmax=20,s1=10,s2=66"
refuses "S1 + 56 = S2 is a configuration error naming the rule" "wireguard.amnezia: .*S1 + 56 must differ from S2" \
	netns_exec gw "$NODE" run --data-dir "$D"
amnezia "teapot"
refuses "an unknown value names what is expected" "wireguard.amnezia: expected off, base, random" \
	netns_exec gw "$NODE" run --data-dir "$D"
amnezia random userspace
refuses "AmneziaWG with the userspace backend is refused" "needs the kernel backend" \
	netns_exec gw "$NODE" run --data-dir "$D"
if [ -d /sys/module/nym_awg ]; then
	pass "(nym_awg is loaded here: the refusal to start without it is not checked)"
else
	amnezia random
	refuses "without the module a gateway with AmneziaWG refuses to start" \
		"nym_awg kernel module cannot be loaded.*refusing to start" netns_exec gw "$NODE" run --data-dir "$D" --workers 1
	[ ! -e "$D/data/amnezia" ] && pass "... and draws no parameters" || fail "data/amnezia was written"
fi
check "init writes wireguard.amnezia off" grep -q '^  amnezia: "off"' "$T/base.yaml"
finish
