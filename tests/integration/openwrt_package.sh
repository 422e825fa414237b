#!/bin/sh
# packaging/openwrt/nym-vpn without OpenWrt: every shell file parses under `busybox ash -n`;
# the procd init script runs under `busybox ash` with the doubles of tests/lib/openwrt_doubles.sh
# (config_load / config_get / procd_*) for several UCI configurations (disabled, mixnet,
# two-hop, several LAN interfaces, custom DNS, bad values), and what it asks procd to run is
# compared with what it should be; the YAML it generates is loaded by the real daemon
# (nym-vpnd --check-config, which the script also runs itself before asking procd); the
# uci-defaults script runs twice against a `uci` double and changes nothing the second
# time, nor a 'global' section the owner already has; the feed's test.sh passes. Needs no
# root; touches nothing outside its temporary directory.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
B=${NYM_BUILD:-build}/bin
for prog in nym-vpnd nym-vpnc; do [ -x "$B/$prog" ] || die "no $B/$prog: build first (make)"; done
command -v busybox >/dev/null || die "busybox is missing (scripts/deps.sh installs busybox-static)"
VPND=$(cd "$B" && pwd)/nym-vpnd
VPNC=$(cd "$B" && pwd)/nym-vpnc
P=packaging/openwrt/nym-vpn
T=$(mktemp -d "${TMPDIR:-/tmp}/nym-openwrt.XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "# busybox ash -n"
for f in "$P/files/nym-vpn.init" "$P/files/nym-vpn.defaults" "$P/test.sh" tests/lib/openwrt_doubles.sh; do
	check "busybox ash -n $f" busybox ash -n "$f"
done
check "the Makefile defines Package/nym-vpn and calls BuildPackage" \
	sh -c "grep -q '^define Package/nym-vpn\$' '$P/Makefile' && grep -q 'BuildPackage,nym-vpn' '$P/Makefile'"
check "the Makefile depends on kmod-tun and kmod-wireguard" \
	sh -c "grep -q '+kmod-tun' '$P/Makefile' && grep -q '+kmod-wireguard' '$P/Makefile'"
check "the Makefile lists /etc/config/nym-vpn as a conffile" grep -q '^/etc/config/nym-vpn$' "$P/Makefile"
check "the shipped UCI config is disabled" grep -q "option enabled '0'" "$P/files/nym-vpn.config"

# run_init NAME ACTION...: the init script under busybox ash with the doubles, the UCI
# config $T/NAME/uci/nym-vpn; procd's log in $T/NAME/procd.log, output in $T/NAME/out.
run_init() {
	name=$1
	shift
	d=$T/$name
	mkdir -p "$d/uci"
	: >"$d/procd.log"
	UCI_DIR=$d/uci PROCD_LOG=$d/procd.log NYM_VPND=$VPND NYM_VPNC=$d/vpnc NYM_VPN_RUN_DIR=$d/run \
		busybox ash -c '. tests/lib/openwrt_doubles.sh; . "$0"; for a in "$@"; do $a || exit $?; done' \
		"$P/files/nym-vpn.init" "$@" >"$d/out" 2>&1
}

# uci NAME: writes the UCI file of case NAME from stdin (its data_dir inside $T).
uci_case() {
	mkdir -p "$T/$1/uci"
	{
		cat
		printf "\toption data_dir '%s'\n" "$T/$1/data"
	} >"$T/$1/uci/nym-vpn"
}

# The lines procd is asked for, expected exactly.
want_procd() {
	name=$1
	shift
	printf '%s\n' "$@" >"$T/$name/procd.want"
	if diff -u "$T/$name/procd.want" "$T/$name/procd.log" >"$T/$name/procd.diff"; then
		pass "$name: procd is asked exactly what it should"
	else
		sed 's/^/    /' "$T/$name/procd.diff"
		fail "$name: procd is asked something else"
	fi
}

procd_for() {
	echo "open_instance|nym-vpnd"
	echo "set_param|command|$VPND|--config|$T/$1/run/nym-vpnd.yaml"
	echo "set_param|respawn|3600|5|0"
	echo "set_param|stdout|1"
	echo "set_param|stderr|1"
	echo "set_param|file|/etc/config/nym-vpn"
	echo "close_instance"
}

echo "# disabled (as shipped)"
mkdir -p "$T/shipped/uci"
cp "$P/files/nym-vpn.config" "$T/shipped/uci/nym-vpn"
check "start_service exits 0 when disabled" run_init shipped start_service service_triggers
want_procd shipped "reload_trigger|nym-vpn"
expect "it says how to enable it" "nym-vpn is disabled*" cat "$T/shipped/out"
check "no daemon configuration generated" [ ! -e "$T/shipped/run/nym-vpnd.yaml" ]

echo "# mixnet, one LAN interface, the default DNS"
uci_case mixnet <<'EOF'
config nym_vpn 'global'
	option enabled '1'
	option mode 'mixnet'
	option entry_gateway 'random'
	option exit_gateway 'CH'
	option network 'sandbox'
	list authority 'http://198.51.100.2:8080'
	list authority_key '9qQjuT1Q67N7payy1AqzVDDEuewvu4TEiK13wBQ19kDo'
	list lan_interface 'br-lan'
	option log_level 'debug'
EOF
check "start_service exits 0" run_init mixnet start_service service_triggers
want_procd mixnet "$(procd_for mixnet)" "reload_trigger|nym-vpn"
Y=$T/mixnet/run/nym-vpnd.yaml
expect "the real daemon loads the generated YAML" "*: valid (router mode)" "$VPND" --check-config --config "$Y"
check "YAML: start.mode mixnet" grep -qx '  mode: "mixnet"' "$Y"
check "YAML: start.connect true" grep -qx '  connect: true' "$Y"
check "YAML: the exit country" grep -qx '  exit_gateway: "CH"' "$Y"
check "YAML: the authority and its key" \
	sh -c "grep -qx '  authorities: \[\"http://198.51.100.2:8080\"\]' '$Y' && grep -q 'authority_keys: \[\"9qQj' '$Y'"
check "YAML: router mode on br-lan" grep -qx '  lan_interfaces: \["br-lan"\]' "$Y"
check "YAML: no default_servers (the daemon's defaults)" sh -c "! grep -q default_servers '$Y'"
check "YAML: DNS by rewriting dnsmasq's upstream file" grep -qx '  resolv_conf: "/tmp/resolv.conf.d/resolv.conf.auto"' "$Y"
check "the data directory was made, mode 700" [ "$(stat -c %a "$T/mixnet/data")" = 700 ]

echo "# two-hop, several LAN interfaces, custom DNS"
uci_case twohop <<'EOF'
config nym_vpn 'global'
	option enabled 'yes'
	option mode 'two-hop'
	option entry_gateway '9qQjuT1Q67N7payy1AqzVDDEuewvu4TEiK13wBQ19kDo'
	option exit_gateway 'AjqZNarRz1ubZMJhTKVUUMcGfLH9JmnzYuWfB8nHksVJ'
	list lan_interface 'br-lan'
	list lan_interface 'br-guest'
	list lan_interface 'wlan1'
	list dns '9.9.9.9'
	list dns '2620:fe::fe'
	option wireguard_backend 'userspace'
EOF
check "start_service exits 0" run_init twohop start_service
want_procd twohop "$(procd_for twohop)"
Y=$T/twohop/run/nym-vpnd.yaml
expect "the real daemon loads the generated YAML" "*: valid (router mode)" "$VPND" --check-config --config "$Y"
check "YAML: start.mode two-hop" grep -qx '  mode: "two-hop"' "$Y"
check "YAML: three LAN interfaces" grep -qx '  lan_interfaces: \["br-lan", "br-guest", "wlan1"\]' "$Y"
check "YAML: the custom DNS servers" grep -qx '  default_servers: \["9.9.9.9", "2620:fe::fe"\]' "$Y"
check "YAML: the userspace WireGuard backend" grep -qx '  backend: "userspace"' "$Y"
check "YAML: the entry gateway's identity" grep -qx '  entry_gateway: "9qQjuT1Q67N7payy1AqzVDDEuewvu4TEiK13wBQ19kDo"' "$Y"

echo "# no LAN interface: the router alone"
uci_case nolan <<'EOF'
config nym_vpn 'global'
	option enabled '1'
EOF
check "start_service exits 0" run_init nolan start_service
want_procd nolan "$(procd_for nolan)"
expect "the real daemon: valid, no router mode" "*: valid" "$VPND" --check-config --config "$T/nolan/run/nym-vpnd.yaml"
check "YAML: lan_interfaces empty" grep -qx '  lan_interfaces: \[\]' "$T/nolan/run/nym-vpnd.yaml"

echo "# refused: nothing is started"
uci_case badmode <<'EOF'
config nym_vpn 'global'
	option enabled '1'
	option mode 'wireguard'
EOF
if run_init badmode start_service; then fail "a bad mode: start_service fails"; else pass "a bad mode: start_service fails"; fi
check "... and procd is asked nothing" [ ! -s "$T/badmode/procd.log" ]
expect "... saying why" "*mode must be mixnet or two-hop*" cat "$T/badmode/out"
uci_case baddns <<'EOF'
config nym_vpn 'global'
	option enabled '1'
	list dns '9.9.9'
	list lan_interface 'br-lan'
EOF
if run_init baddns start_service; then fail "a bad DNS address: start_service fails"; else pass "a bad DNS address: start_service fails (nym-vpnd --check-config)"; fi
expect "... the daemon's message names the key" "*dns.default_servers*" grep dns "$T/baddns/out"
check "... and procd is asked nothing" [ ! -s "$T/baddns/procd.log" ]
uci_case badlan <<'EOF'
config nym_vpn 'global'
	option enabled '1'
	list lan_interface 'nym0'
EOF
if run_init badlan start_service; then fail "the tunnel as a LAN interface: refused"; else pass "the tunnel as a LAN interface: refused"; fi
check "... and procd is asked nothing" [ ! -s "$T/badlan/procd.log" ]
uci_case quote <<'EOF'
config nym_vpn 'global'
	option enabled '1'
	option network 'a"b\c'
EOF
check "a value with quotes and backslashes: start_service exits 0" run_init quote start_service
"$VPND" --config "$T/quote/run/nym-vpnd.yaml" --write-config "$T/quote/back.yaml" >/dev/null 2>&1
check "... the daemon reads it as written (a, quote, b, backslash, c)" grep -qF 'name: "a\"b\' "$T/quote/back.yaml"

echo "# stop_service: disconnect first when the daemon's socket is there"
cat >"$T/mixnet/vpnc" <<EOF
#!/bin/sh
echo "\$*" >>"$T/mixnet/vpnc.log"
EOF
chmod +x "$T/mixnet/vpnc"
check "stop_service without a socket does nothing" run_init mixnet stop_service
check "... nym-vpnc not called" [ ! -e "$T/mixnet/vpnc.log" ]
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/mixnet/sock"
sed "s|^NYM_VPN_SOCKET=.*|NYM_VPN_SOCKET=$T/mixnet/sock|" "$P/files/nym-vpn.init" >"$T/mixnet/init"
UCI_DIR=$T/mixnet/uci PROCD_LOG=$T/mixnet/procd.log NYM_VPNC=$T/mixnet/vpnc busybox ash -c \
	'. tests/lib/openwrt_doubles.sh; . "$0"; stop_service' "$T/mixnet/init"
expect "stop_service disconnects through the socket" "--socket $T/mixnet/sock disconnect --wait" cat "$T/mixnet/vpnc.log"

echo "# uci-defaults, twice"
mkdir -p "$T/defaults/bin"
cat >"$T/defaults/bin/uci" <<'EOF'
#!/bin/sh
# A uci double: state in $UCI_STATE (KEY=VALUE lines), every change appended to $UCI_LOG.
[ "$1" = -q ] && shift
touch "$UCI_STATE"
case "$1" in
get)
	grep -q "^$2=" "$UCI_STATE" || exit 1
	sed -n "s/^$2=//p" "$UCI_STATE"
	;;
batch)
	while read -r verb arg; do
		[ -n "$verb" ] || continue
		echo "$verb $arg" >>"$UCI_LOG"
		case "$verb" in
		set | add_list)
			key=${arg%%=*}
			val=$(echo "${arg#*=}" | tr -d "'")
			if [ "$verb" = set ]; then
				grep -v "^$key=" "$UCI_STATE" >"$UCI_STATE.new"
				mv "$UCI_STATE.new" "$UCI_STATE"
			fi
			echo "$key=$val" >>"$UCI_STATE"
			;;
		commit) ;;
		*) echo "uci double: $verb?" >&2; exit 1 ;;
		esac
	done
	;;
*) echo "uci double: $1?" >&2; exit 1 ;;
esac
EOF
chmod +x "$T/defaults/bin/uci"
run_defaults() {
	PATH=$T/defaults/bin:$PATH UCI_STATE=$T/defaults/state UCI_LOG=$T/defaults/$1.log busybox ash "$P/files/nym-vpn.defaults"
}
check "first run exits 0" run_defaults first
check "... made nym-vpn.global, disabled" grep -qx "nym-vpn.global.enabled=0" "$T/defaults/state"
check "... made the fw4 zone for nym0 and nym-wg-exit" \
	sh -c "grep -qx 'firewall.nym_vpn=zone' '$T/defaults/state' && grep -qx 'firewall.nym_vpn.device=nym0' '$T/defaults/state' && grep -qx 'firewall.nym_vpn.device=nym-wg-exit' '$T/defaults/state'"
check "... with masquerading and MSS clamping" \
	sh -c "grep -qx 'firewall.nym_vpn.masq=1' '$T/defaults/state' && grep -qx 'firewall.nym_vpn.mtu_fix=1' '$T/defaults/state'"
check "... and forwarding lan -> nymvpn" \
	sh -c "grep -qx 'firewall.nym_vpn_lan.src=lan' '$T/defaults/state' && grep -qx 'firewall.nym_vpn_lan.dest=nymvpn' '$T/defaults/state'"
cp "$T/defaults/state" "$T/defaults/state.first"
check "second run exits 0" run_defaults second
check "... and changes nothing (idempotent)" [ ! -s "$T/defaults/second.log" ]
check "... the state is the same" cmp -s "$T/defaults/state" "$T/defaults/state.first"
rm -f "$T/defaults/state"
printf 'nym-vpn.global=nym_vpn\nnym-vpn.global.enabled=1\n' >"$T/defaults/state"
check "with the owner's own section" run_defaults owned
check "... it is left alone" sh -c "! grep -q '^set nym-vpn' '$T/defaults/owned.log' && grep -qx 'nym-vpn.global.enabled=1' '$T/defaults/state'"

echo "# the feed's test.sh"
expect "test.sh nym-vpn VERSION" "nym-vpnc $(cat VERSION)*" env PATH="$(dirname "$VPNC"):$PATH" busybox ash "$P/test.sh" nym-vpn "$(cat VERSION)"
finish
