#!/bin/sh
# A registration flood against one authority (issue 10): a host posts 5,000 valid, distinct,
# self-signed mixnode descriptions while three real mixnodes run, first with
# `authority.admission: open`, then with `allowlist` (the real nodes admitted by the
# operator), then open with the per-address rate limit lifted ("open-unlimited"), so the
# flood reaches the registry's cap (2,000 here), the bounded prober, the pages of /v1/nodes
# and the per-address limit of the vote. The checks are in directory_flood.py, which runs on the attacker's host: the
# real nodes stay in the next signed topology, the authority's memory stays under 100 MB and
# it keeps answering. 4-second epochs by configuration.
set -eu
. tests/lib/netns.sh
. tests/lib/node.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init fl
T=$NS_DIR
export T NODE

netns_host auth 198.51.100.2/24
for i in 1 2 3; do netns_host "m$i" "198.51.100.1$i/24"; done
netns_host evil 198.51.100.66/24

GENESIS=$(($(date +%s) - 1))
export GENESIS
# No Sphinx key rotation during the run (100 epochs per rotation): with 4-second epochs a node's announcement of its
# next key can reach the authority after the mid-epoch vote when the machine is loaded,
# which would leave it out of that one document for reasons that are not the flood's.

# The flood: fresh identities announcing 100 addresses of the nodes' subnet that nobody
# holds, so every probe of them waits for a timeout.
"${FLOOD_GEN:-$NODE}" debug descriptors --count 5000 --address 198.51.100.100 --spread 100 >"$T/flood.jsonl"

run_mode() {
	MODE=$1
	export MODE
	D="$T/$MODE"
	mkdir -p "$D"
	"$NODE" init --id auth --mode authority --public-ip 198.51.100.2 --data-dir "$D/auth" >/dev/null
	node_short_epochs "$D/auth" 100
	case $MODE in
	open-unlimited)
		sed -i -e "s/^  admission: .*/  admission: open/" -e "s/^  registrations_per_epoch: .*/  registrations_per_epoch: 1000000/" \
			-e "s/^  registration_burst: .*/  registration_burst: 1000000/" \
			-e "s/^  max_registered_nodes: .*/  max_registered_nodes: 2000/" "$D/auth/config/config.yaml"
		;;
	*) sed -i -e "s/^  admission: .*/  admission: $MODE/" "$D/auth/config/config.yaml" ;;
	esac
	for i in 1 2 3; do
		"$NODE" init --id "m$i" --mode mixnode --public-ip "198.51.100.1$i" --data-dir "$D/m$i" >/dev/null
		node_short_epochs "$D/m$i" 100
		if [ "$MODE" = allowlist ]; then
			"$NODE" authority admit --data-dir "$D/auth" "$(cat "$D/m$i/data/ed25519_identity.pub")" >/dev/null
		fi
	done
	netns_bg auth "$D/auth.log" "$NODE" run --data-dir "$D/auth"
	echo "$NS_LAST_PID" >"$D/auth.pid"
	netns_wait_port evil 198.51.100.2:8080 20
	key=$(cat "$D/auth/data/ed25519_identity.pub")
	for i in 1 2 3; do
		netns_bg "m$i" "$D/m$i.log" "$NODE" run --data-dir "$D/m$i" --workers 1 \
			--authority http://198.51.100.2:8080 --authority-key "$key"
		echo "$NS_LAST_PID" >"$D/m$i.pid"
	done
	if ! D="$D" netns_exec evil /usr/bin/python3 tests/integration/directory_flood.py; then
		for n in auth m1; do echo "--- $n log"; tail -n 25 "$D/$n.log"; done
		exit 1
	fi
	for n in auth m1 m2 m3; do kill "$(cat "$D/$n.pid")" 2>/dev/null || true; done
	sleep 0.5
}

for m in ${FLOOD_MODES:-open allowlist open-unlimited}; do run_mode "$m"; done
