#!/bin/sh
# nym-ntm as an entry gateway, which is not an exit: tunnel clients reach only the listed
# gateways, and only on their WireGuard and registration ports; everything else, DNS
# included, is refused. `check` explains each decision.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/ntm.sh

ntm_topology
ntm_servers

CFG=$TMP/entry.yaml
cat >"$CFG" <<'EOF'
# An entry gateway that forwards to two exit gateways.
mode: entry-gateway
uplink: up0
entry_gateway:
  gateways: [203.0.113.20, "2001:db8:2::20"]
  ports: [51822/udp, 41264/tcp]
EOF
netns_exec "$GW" "$NTM" apply --config "$CFG" >"$TMP/apply.out" 2>&1 || die "apply: $(cat "$TMP/apply.out")"
grep -q "entry-gateway" "$TMP/apply.out" && pass "applied: $(cat "$TMP/apply.out")" || fail "apply output: $(cat "$TMP/apply.out")"

echo "# the listed gateways' WireGuard and registration ports"
expect "udp 51822 to a listed gateway" "ok hello 198.51.100.2" probe "$C1" udp 203.0.113.20 51822
expect "tcp 41264 to a listed gateway" "ok hello 198.51.100.2" probe "$C1" tcp 203.0.113.20 41264
expect "udp6 51822 to a listed gateway" "ok hello 2001:db8:1::2" probe "$C1" udp 2001:db8:2::20 51822
expect "tcp6 41264 to a listed gateway" "ok hello 2001:db8:1::2" probe "$C1" tcp 2001:db8:2::20 41264
expect "udp 51822 via nymtun0" "ok hello 198.51.100.2" probe "$C2" udp 203.0.113.20 51822

echo "# nothing else"
expect "tcp 443 to a listed gateway" "reset" probe "$C1" tcp 203.0.113.20 443
expect "udp 443 to a listed gateway" "icmp-unreachable" probe "$C1" udp 203.0.113.20 443
expect "tcp 41264 to an unlisted host" "reset" probe "$C1" tcp 203.0.113.10 41264
expect "udp 51822 to an unlisted host" "icmp-unreachable" probe "$C1" udp 203.0.113.10 51822
expect "tcp6 41264 to an unlisted host" "reset" probe "$C1" tcp 2001:db8:2::10 41264
expect "tcp 80, an exit's job" "reset" probe "$C1" tcp 203.0.113.10 80
expect "dns is not forwarded" "failed*" probe "$C1" dns 203.0.113.10 example.org --timeout 1
expect "ping is not forwarded" "*100% packet loss*" netns_exec "$C1" sh -c "ping -c 1 -W 1 203.0.113.10 | grep loss"

echo "# check explains it"
expect "check a listed gateway" "accept" netns_exec "$GW" "$NTM" check 203.0.113.20 51822 udp
expect "check names the line" "*line 2: accept 203.0.113.20:51822 udp" netns_exec "$GW" sh -c "$NTM check 203.0.113.20 51822 udp | sed -n 2p"
expect "check an unlisted host (status 1)" "1" netns_exec "$GW" sh -c "$NTM check 203.0.113.10 51822 udp >/dev/null; echo \$?"
netns_exec "$GW" "$NTM" status --config "$CFG" >"$TMP/status" 2>&1 && grep -q "apply would install: yes" "$TMP/status" &&
	pass "status: matches" || fail "status: $(head -n 5 "$TMP/status")"

finish
