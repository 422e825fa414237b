#!/bin/sh
# A mixnode under an ingress exhaustion attack (issue 10): 1,100 connections from one
# address, each sending a byte now and then and never a whole frame, while another address
# sends Sphinx packets through the node to a sink. The checks are in mixnet_exhaustion.py.
set -eu
. tests/lib/netns.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init mxx
T=$NS_DIR
export T NODE

netns_host mix1 198.51.100.11/24
netns_host sink 198.51.100.20/24
netns_host client 198.51.100.30/24
netns_host flood 198.51.100.40/24
export NS_P

# Two workers of 512 slots: the flood outnumbers the node's 1,024 slots, and the
# per-address limit has to hold across workers. The other limits keep their defaults,
# except the deadlines, shortened so that they act within the test's time.
"$NODE" init --id mix1 --mode mixnode --public-ip 198.51.100.11 --location DE --data-dir "$T/mix1" >/dev/null
sed -i -e "s/^\(  *\)maximum_connections: .*/\1maximum_connections: 512/" \
	-e "s/^\(  *\)connection_idle_timeout: .*/\1connection_idle_timeout: 5s/" \
	-e "s/^\(  *\)first_frame_timeout: .*/\1first_frame_timeout: 4s/" \
	-e "s/expected_packets_per_second: .*/expected_packets_per_second: 100/" \
	"$T/mix1/config/config.yaml"
"$NODE" debug keygen >"$T/sink_key.json"
/usr/bin/python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
ident = open(f"{T}/mix1/data/ed25519_identity.pub").read().strip()
noise = open(f"{T}/mix1/data/x25519_noise.pub").read().strip()
json.dump([{"identity": ident, "mix_address": "198.51.100.11:1789", "noise_key": noise},
           {"mix_address": "198.51.100.20:1789"}], open(f"{T}/topology.json", "w"))
PY

netns_bg mix1 "$T/mix1.log" "$NODE" run --data-dir "$T/mix1" --topology "$T/topology.json" --workers 2
SINK_SK=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret_key"])' "$T/sink_key.json")
netns_bg sink "$T/sink.err" sh -c "exec '$NODE' debug mix-sink --listen 198.51.100.20:1789 --sphinx-key $SINK_SK > '$T/sink.jsonl'"
netns_wait_port client 198.51.100.11:1789
netns_wait_port client 198.51.100.11:8080
netns_wait_port client 198.51.100.20:1789

netns_bg flood "$T/flood.log" /usr/bin/python3 tests/integration/mixnet_exhaustion_flood.py 198.51.100.11:1789 1100 32 "$T/flood.json"
if ! netns_exec client /usr/bin/python3 tests/integration/mixnet_exhaustion.py; then
	echo "--- mix1 log"
	tail -n 30 "$T/mix1.log"
	echo "--- flood log"
	tail -n 10 "$T/flood.log"
	exit 1
fi
