# WireGuard devices through `nym-node debug wg-*` for the wg tests (sourced after assert.sh
# and netns.sh, with $NODE and $TMP set).
#
#   wg_conf FILE PRIVATE PORT FWMARK PEER_PUB ENDPOINT ALLOWED...   a device configuration
#   wg_up HOST IF BACKEND CONF         wg-run in HOST, waits for it ($WG_PID, log $TMP/IF.run)
#   wg_verify HOST IF CONF WHAT        wg-show matches CONF and `wg show IF dump`

wg_conf() {
	file=$1 priv=$2 port=$3 mark=$4 peer=$5 ep=$6
	shift 6
	ips=$(printf '"%s",' "$@")
	cat >"$file" <<EOT
{"private_key": "$priv", "listen_port": $port, "fwmark": $mark, "replace_peers": true,
 "peers": [{"public_key": "$peer", "endpoint": "$ep", "persistent_keepalive": 0,
            "replace_allowed_ips": true, "allowed_ips": [${ips%,}]}]}
EOT
}

wg_up() {
	netns_bg "$1" "$TMP/$2.run" "$NODE" debug wg-run "$2" --backend "$3" --config "$4"
	WG_PID=$NS_LAST_PID
	i=0
	while ! grep -q '^{"ifname"' "$TMP/$2.run" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$TMP/$2.run" >&2; die "$2 did not come up"; }
		kill -0 "$WG_PID" 2>/dev/null || { cat "$TMP/$2.run" >&2; die "wg-run $2 exited"; }
		sleep 0.1
	done
}

wg_verify() {
	host=$1 ifn=$2 conf=$3 what=$4
	netns_exec "$host" "$NODE" debug wg-show "$ifn" --secrets >"$TMP/$ifn.show" 2>&1 ||
		{ fail "$what: wg-show: $(cat "$TMP/$ifn.show")"; return; }
	netns_exec "$host" wg show "$ifn" dump >"$TMP/$ifn.dump" 2>&1 ||
		{ fail "$what: wg show: $(cat "$TMP/$ifn.dump")"; return; }
	out=$("$PY" tests/lib/wg_check.py both "$TMP/$ifn.show" "$conf" "$TMP/$ifn.dump" 2>&1)
	rc=$?
	[ $((rc & 1)) -eq 0 ] && [ $rc -lt 4 ] && pass "$what: $ifn reads back what was written" ||
		fail "$what: $ifn: $(echo "$out" | grep -v '^dump:' | head -n 5)"
	[ $((rc & 2)) -eq 0 ] && [ $rc -lt 4 ] && pass "$what: $ifn agrees with wg show $ifn dump" ||
		fail "$what: $ifn: $(echo "$out" | grep -v '^written:' | head -n 5)"
}
