#!/bin/sh
# Three authorities, four mixnodes and three gateways on separate hosts (network namespaces),
# with 4-second epochs: the signed topology, k-of-n, reachability, layers, ticketbooks over
# HTTP, double spending across gateways, and hostile requests. The checks are in
# authority_net.py, which runs on the client host.
set -eu
. tests/lib/netns.sh
. tests/lib/node.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init au
T=$NS_DIR
export T NODE

AUTH="1 2 3"
MIX="1 2 3 4"
GW="1 2 3"
for i in $AUTH; do netns_host "a$i" "198.51.100.$i/24"; done
for i in $MIX; do netns_host "m$i" "198.51.100.1$i/24"; done
for i in $GW; do netns_host "g$i" "198.51.100.2$i/24"; done
netns_host client 198.51.100.30/24

GENESIS=$(($(date +%s) - 1))
export GENESIS NS_P

for i in $AUTH; do
	"$NODE" init --id "a$i" --mode authority --public-ip "198.51.100.$i" --data-dir "$T/a$i" >/dev/null
	node_short_epochs "$T/a$i" 3
done
# Each authority lists the other two ("URL KEY") and needs 2 signatures.
for i in $AUTH; do
	peers=""
	for j in $AUTH; do
		[ "$i" = "$j" ] && continue
		peers="$peers\"http://198.51.100.$j:8080 $(cat "$T/a$j/data/ed25519_identity.pub")\", "
	done
	sed -i -e "s|^  peers: \[\]|  peers: [${peers%, }]|" -e "/^authority:/,/^$/s/^  threshold: 0$/  threshold: 2/" \
		"$T/a$i/config/config.yaml"
	grep -q "^  peers: \[\"http" "$T/a$i/config/config.yaml"
done
for i in $MIX; do
	"$NODE" init --id "m$i" --mode mixnode --public-ip "198.51.100.1$i" --location DE --data-dir "$T/m$i" >/dev/null
	node_short_epochs "$T/m$i" 3
done
"$NODE" init --id g1 --mode entry-gateway --public-ip 198.51.100.21 --location DE --data-dir "$T/g1" >/dev/null
"$NODE" init --id g2 --mode exit-gateway --public-ip 198.51.100.22 --location CH --data-dir "$T/g2" >/dev/null
"$NODE" init --id g3 --mode entry-gateway --public-ip 198.51.100.23 --location DE --data-dir "$T/g3" >/dev/null
for i in $GW; do node_short_epochs "$T/g$i" 3; done
sed -i -e "/^wireguard:/,/^$/s/^  enabled: false/  enabled: true/" "$T/g1/config/config.yaml"

# Admission (authority.admission: allowlist): the operator admits every node at a1 only;
# a2 and a3 learn the decisions from a1's signed list.
for n in m1 m2 m3 m4 g1 g2 g3; do
	"$NODE" authority admit --data-dir "$T/a1" "$(cat "$T/$n/data/ed25519_identity.pub")" >/dev/null
done

DIRECTORY=""
for i in $AUTH; do
	DIRECTORY="$DIRECTORY --authority http://198.51.100.$i:8080 --authority-key $(cat "$T/a$i/data/ed25519_identity.pub")"
done
export DIRECTORY

for i in $AUTH; do
	netns_bg "a$i" "$T/a$i.log" "$NODE" run --data-dir "$T/a$i"
	echo "$NS_LAST_PID" >"$T/a$i.pid"
done
for i in $AUTH; do netns_wait_port client "198.51.100.$i:8080" 20; done
# shellcheck disable=SC2086
for i in $MIX; do
	netns_bg "m$i" "$T/m$i.log" "$NODE" run --data-dir "$T/m$i" --workers 1 $DIRECTORY --authority-threshold 2
	echo "$NS_LAST_PID" >"$T/m$i.pid"
done
# shellcheck disable=SC2086
# g1 runs its WireGuard service: wireguard-go's socket in a /run/wireguard of its own (a tmpfs
# in the mount namespace ip netns exec made), as scripts/sandbox.sh does.
mkdir -p /run/wireguard
for i in $GW; do
	if [ "$i" = 1 ]; then
		netns_bg "g$i" "$T/g$i.log" sh -c 'mount -t tmpfs -o mode=0700 nym-wg /run/wireguard && exec "$@"' sh \
			"$NODE" run --data-dir "$T/g$i" --workers 1 $DIRECTORY --authority-threshold 2
	else
		netns_bg "g$i" "$T/g$i.log" "$NODE" run --data-dir "$T/g$i" --workers 1 $DIRECTORY --authority-threshold 2
	fi
	echo "$NS_LAST_PID" >"$T/g$i.pid"
done

if ! netns_exec client /usr/bin/python3 tests/integration/authority_net.py; then
	for n in a1 a2 a3 m1 m4 g1; do echo "--- $n log"; tail -n 25 "$T/$n.log"; done
	exit 1
fi
