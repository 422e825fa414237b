#!/bin/sh
# Three nym-node mixnodes on separate hosts (network namespaces), a client that builds
# packets with the independent Sphinx implementation and a sink at the end of the route.
# The checks are in mixnode_net.py.
set -eu
. tests/lib/netns.sh
. tests/lib/node.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init mx
T=$NS_DIR
export T NODE

netns_host mix1 198.51.100.11/24
netns_host mix2 198.51.100.12/24
netns_host mix3 198.51.100.13/24
netns_host sink 198.51.100.20/24
netns_host client 198.51.100.30/24

# Rotations of 8 s with a 4 s overlap, counted from a genesis all three share.
GENESIS=$(($(date +%s) - 2))
export GENESIS NS_P
for i in 1 2 3; do
	"$NODE" init --id "mix$i" --mode mixnode --public-ip "198.51.100.1$i" --location DE --data-dir "$T/mix$i" >/dev/null
	node_short_epochs "$T/mix$i" 2
	sed -i -e "s/connection_idle_timeout: .*/connection_idle_timeout: 3s/" \
		-e "s/maximum_forward_packet_delay: .*/maximum_forward_packet_delay: 2s/" \
		-e "s/packet_forwarding_initial_backoff: .*/packet_forwarding_initial_backoff: 3s/" \
		-e "s/packet_forwarding_maximum_backoff: .*/packet_forwarding_maximum_backoff: 12s/" \
		"$T/mix$i/config/config.yaml"
done

"$NODE" debug keygen >"$T/sink_key.json"
# Topology: the three mixnodes, the sink, and a host that does not exist.
/usr/bin/python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
nodes = []
for i in (1, 2, 3):
    ident = open(f"{T}/mix{i}/data/ed25519_identity.pub").read().strip()
    noise = open(f"{T}/mix{i}/data/x25519_noise.pub").read().strip()
    nodes.append({"identity": ident, "mix_address": f"198.51.100.1{i}:1789", "noise_key": noise})
nodes.append({"mix_address": "198.51.100.20:1789"})
nodes.append({"mix_address": "198.51.100.99:1789"})
json.dump(nodes, open(f"{T}/topology.json", "w"))
PY

for i in 1 2 3; do
	netns_bg "mix$i" "$T/mix$i.log" "$NODE" run --data-dir "$T/mix$i" --topology "$T/topology.json" --workers 2
done
SINK_SK=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret_key"])' "$T/sink_key.json")
netns_bg sink "$T/sink.err" sh -c "exec '$NODE' debug mix-sink --listen 198.51.100.20:1789 --sphinx-key $SINK_SK > '$T/sink.jsonl'"
for i in 1 2 3; do
	netns_wait_port client "198.51.100.1$i:1789"
	netns_wait_port client "198.51.100.1$i:8080"
done
netns_wait_port client 198.51.100.20:1789

if ! netns_exec client /usr/bin/python3 tests/integration/mixnode_net.py; then
	for i in 1 2 3; do echo "--- mix$i log"; tail -n 30 "$T/mix$i.log"; done
	exit 1
fi
