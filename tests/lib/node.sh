# Node configurations for test networks. Source it after setting GENESIS (the Unix time the
# network's epochs count from).
#
#   node_short_epochs DIR [EPOCHS_PER_ROTATION]
#
# rewrites DIR/config/config.yaml (as `nym-node init` wrote it) for a network that comes
# together in seconds: 4 s epochs from $GENESIS, probes every second, 3 s of reachability,
# small replay filters and 2048-bit issuer keys. Real networks use 1 h epochs; only the
# configuration changes, never a code path.
node_short_epochs() {
	conf="$1/config/config.yaml"
	sed -i -e "s/^  epoch_duration: .*/  epoch_duration: 4s/" \
		-e "s/^  genesis: .*/  genesis: $GENESIS/" \
		-e "s/expected_packets_per_second: .*/expected_packets_per_second: 50/" \
		-e "s/probe_interval: .*/probe_interval: 1s/" \
		-e "s/probe_timeout: .*/probe_timeout: 1s/" \
		-e "s/reachable_window: .*/reachable_window: 3s/" \
		-e "s/issuer_key_bits: .*/issuer_key_bits: 2048/" "$conf"
	[ -z "${2:-}" ] || sed -i "s/^  epochs_per_rotation: .*/  epochs_per_rotation: $2/" "$conf"
}
