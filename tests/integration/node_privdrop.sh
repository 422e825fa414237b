#!/bin/sh
# nym-node started by hand as root with `user:` set: it hands its directory to that user,
# switches to it before any thread starts and keeps only the capabilities its mode needs
# (CAP_NET_BIND_SERVICE; CAP_NET_ADMIN on gateways), no_new_privs set. An exit gateway so
# reduced still creates its TUN device. Without `user:` the node stays root (every other
# test). `nobody` stands in for the packaged user `nym` (the host's users are not touched).
set -eu
. tests/lib/netns.sh
. tests/lib/assert.sh
NODE="$(pwd)/${NYM_BUILD:-build}/bin/nym-node"
netns_init pd
T=$NS_DIR
chmod 755 "$T"
netns_host node 198.51.100.41/24
U=nobody
UID_N=$(id -u $U)

# status_of PID FIELD: a line of /proc/PID/status, its value only.
status_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
wait_port() { netns_wait_port node "$1"; }
stop() {
	kill -TERM "$1"
	for i in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

refuses "init names a missing user at run" "no such user" sh -c "
	'$NODE' init --id pdx --mode mixnode --public-ip 198.51.100.41 --data-dir '$T/x' --user no-such-user-pd >/dev/null &&
	'$NODE' run --data-dir '$T/x'"

# A manager's notification socket (systemd's Type=notify): READY=1 once the node serves.
"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20)
open(sys.argv[2], "wb").write(s.recv(256))' "$T/notify.sock" "$T/notify.got" &
NOTIFY_PID=$!
for i in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
chmod 777 "$T/notify.sock"
check "init --user writes the key" sh -c "'$NODE' init --id pd1 --mode mixnode --public-ip 198.51.100.41 --data-dir '$T/mix' --user $U >/dev/null && grep -q '^user: \"$U\"' '$T/mix/config/config.yaml'"
NOTIFY_SOCKET="$T/notify.sock" netns_bg node "$T/mix.log" "$NODE" run --data-dir "$T/mix" --workers 1
PID=$NS_LAST_PID
wait_port 198.51.100.41:8080
wait "$NOTIFY_PID" || true
check "it tells the service manager READY=1" test "$(cat "$T/notify.got" 2>/dev/null)" = READY=1
check "the mixnode runs as $U" test "$(status_of $PID Uid)" = "$UID_N"
check "its groups are only $U's" test "$(status_of $PID Groups)" = "$(id -g $U)"
check "the mixnode keeps CAP_NET_BIND_SERVICE only" test "$(status_of $PID CapEff)" = 0000000000000400
check "its bounding set is the same" test "$(status_of $PID CapBnd)" = 0000000000000400
check "no_new_privs is set" test "$(status_of $PID NoNewPrivs)" = 1
check "its directory was handed to $U" test "$(stat -c %U "$T/mix/data/ed25519_identity")" = $U
check "the log says so" grep -q "running as $U" "$T/mix.log"
check "the mixnode stops cleanly" stop $PID

"$NODE" init --id pd2 --mode exit-gateway --public-ip 198.51.100.41 --data-dir "$T/exit" --user $U >/dev/null
sed -i 's/^\( *\)tun_name: .*/\1tun_name: "pdtun0"/' "$T/exit/config/config.yaml"
netns_bg node "$T/exit.log" "$NODE" run --data-dir "$T/exit" --workers 1
PID=$NS_LAST_PID
wait_port 198.51.100.41:8080
check "the exit gateway runs as $U" test "$(status_of $PID Uid)" = "$UID_N"
check "the gateway keeps CAP_NET_ADMIN and CAP_NET_BIND_SERVICE" test "$(status_of $PID CapEff)" = 0000000000001400
check "they are ambient too (for wireguard-go)" test "$(status_of $PID CapAmb)" = 0000000000001400
check "it created its TUN device as $U" netns_exec node ip link show pdtun0
check "the gateway stops cleanly" stop $PID

"$NODE" init --id pd3 --mode mixnode --public-ip 198.51.100.41 --data-dir "$T/root" >/dev/null
check "without user: the key is empty" grep -q '^user: ""' "$T/root/config/config.yaml"
netns_bg node "$T/root.log" "$NODE" run --data-dir "$T/root" --workers 1
PID=$NS_LAST_PID
wait_port 198.51.100.41:8080
check "without user: the node stays root" test "$(status_of $PID Uid)" = 0
check "the root node stops cleanly" stop $PID

mkdir -m 700 "$T/closed"
"$NODE" init --id pd4 --mode mixnode --public-ip 198.51.100.41 --data-dir "$T/closed/n" --user $U >/dev/null
refuses "a directory the user cannot reach is named" "cannot use $T/closed/n" "$NODE" run --data-dir "$T/closed/n" --workers 1
finish
