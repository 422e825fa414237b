#!/bin/sh
# nym-vpnd and nym-vpnc given bad input, each a clear error while the daemon keeps serving and
# keeps its state: the daemon absent; a corrupt configuration (the daemon exits non-zero and
# names FILE:LINE); unknown commands, options and arguments; malformed, oversized and
# ill-typed requests on the control socket (an error reply, then `status` still answers); an
# unprivileged user (setpriv nobody) may read but not change anything (permission denied); a
# corrupt ticketbook in the data directory is reported and the good one still serves a
# connection. Also `--help` of nym-vpnc and of every command.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh
. tests/lib/vpnd.sh
vpnd_require
vpnd_sandbox

# fails WHAT PATTERN CMD...: CMD exits non-zero with PATTERN (grep -i -E) in what it prints.
fails() {
	what=$1
	pattern=$2
	shift 2
	if out=$("$@" 2>&1); then rc=0; else rc=$?; fi
	if [ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -q -i -E -- "$pattern"; then
		pass "$what (exit $rc): $(printf '%s' "$out" | head -n 1 | head -c 160)"
	else
		fail "$what (exit $rc): $(printf '%s' "$out" | head -c 300)"
	fi
}
nobody() { on client setpriv --reuid=nobody --regid=nogroup --clear-groups "$VPNC" --socket "$VPND_SOCKET" "$@"; }

echo "# help"
check "nym-vpnc --help" on client "$VPNC" --help
for c in info status connect disconnect reconnect gateway tunnel dns lan credentials network; do
	expect "nym-vpnc --help lists '$c'" "*$c*" sh -c "$S exec --dir '$SANDBOX_DIR' client '$VPNC' --help 2>&1 | grep -w '$c' | head -n 1"
done
for c in info status connect disconnect reconnect "gateway get" "gateway set" "gateway list" "tunnel get" \
	"tunnel set" "dns get" "dns set" "dns clear" "lan get" "lan set" "credentials obtain" "credentials list" \
	"network get" "network set"; do
	# shellcheck disable=SC2086 # the command's words
	check "nym-vpnc $c --help" on client "$VPNC" $c --help
done
check "nym-vpnd --help" on client "$VPND" --help

echo "# the daemon absent"
refuses "status without a daemon: 'not running'" "the daemon is not running" vpnc status
refuses "connect without a daemon: 'not running', with what to do" "systemctl start nym-vpnd" vpnc connect
expect "--json without a daemon: one JSON error object" '{*"error"*' vpnc status --json

echo "# corrupt configurations"
cp "$VPND_CONFIG" "$WORK/bad1.yaml"
sed -i 's/^  socket_mode: .*/  socket_mode: "999"/' "$WORK/bad1.yaml"
line=$(grep -n socket_mode "$WORK/bad1.yaml" | cut -d: -f1)
fails "socket_mode 999: nym-vpnd exits non-zero naming bad1.yaml:$line" "bad1.yaml:$line" \
	on client timeout 20 "$VPND" --config "$WORK/bad1.yaml"
cp "$VPND_CONFIG" "$WORK/bad2.yaml"
printf 'tunnel:\n  mtu: lots\n' >>"$WORK/bad2.yaml"
line=$(grep -n "mtu: lots" "$WORK/bad2.yaml" | cut -d: -f1)
fails "mtu: lots: nym-vpnd exits non-zero naming bad2.yaml:$line" "bad2.yaml:$line" \
	on client timeout 20 "$VPND" --config "$WORK/bad2.yaml"
cp "$VPND_CONFIG" "$WORK/bad3.yaml"
printf 'daemon:\n  sockit: /tmp/x\n' >>"$WORK/bad3.yaml"
fails "an unknown key: nym-vpnd exits non-zero naming it" "bad3.yaml:[0-9]+.*sockit" \
	on client timeout 20 "$VPND" --config "$WORK/bad3.yaml"
printf 'network: [unclosed\n' >"$WORK/bad4.yaml"
# (libyaml reports an unclosed flow sequence where it finds the end: line 2)
fails "broken YAML: nym-vpnd exits non-zero naming bad4.yaml:LINE" "bad4.yaml:[12]:" \
	on client timeout 20 "$VPND" --config "$WORK/bad4.yaml"
fails "a missing --config file is named" "nothere.yaml" on client timeout 20 "$VPND" --config "$WORK/nothere.yaml"
fails "nym-vpnd --bogus" "bogus" on client timeout 20 "$VPND" --bogus
check "no socket left by the failed starts" [ ! -e "$VPND_SOCKET" ]

vpnd_start
echo "# unknown commands, options and arguments"
fails "an unknown command" "frobnicate" vpnc frobnicate
fails "an unknown option" "bogus" vpnc status --bogus
fails "an unknown subcommand" "sideways|unknown" vpnc gateway sideways
fails "lan set maybe" "maybe|allow|block" vpnc lan set maybe
fails "tunnel set --ipv6 sideways" "sideways|on|off" vpnc tunnel set --ipv6 sideways
fails "tunnel set --average-packet-delay lots" "lots|number|delay" vpnc tunnel set --average-packet-delay lots
fails "dns set not-an-ip" "not-an-ip|address|invalid" vpnc dns set not-an-ip
fails "gateway set --entry-id with a bad key" "entry|identity|invalid|base58" vpnc gateway set --entry-id 'not-a-key!'
fails "gateway set --entry-country with a bad country" "country|XYZ|invalid" vpnc gateway set --entry-country XYZ
fails "network set without a name" "network|name|usage|missing" vpnc network set
fails "credentials obtain without --voucher" "voucher" vpnc credentials obtain --authority "$AUTH_URL"
fails "credentials obtain with an unknown voucher" "voucher|unknown|refused|invalid" \
	vpnc credentials obtain --authority "$AUTH_URL" --authority-key "$AUTH_KEY" --voucher nosuchvoucher
expect "--json error: one object with error.code" '{*"code"*' vpnc dns set not-an-ip --json
check "lan set allow (root)" vpnc lan set allow

echo "# malformed requests on the socket"
on client "$PY" - "$VPND_SOCKET" >"$WORK/raw.out" 2>&1 <<'EOF'
import json, socket, sys

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s, s.makefile("rb")

def ask(line):
    """Sends raw bytes; the reply line (parsed), or 'closed'."""
    s, f = conn()
    try:
        s.sendall(line)
        r = f.readline()
        return json.loads(r) if r else "closed"
    except (OSError, ValueError) as e:
        return "error: %s" % e
    finally:
        s.close()

def show(name, r):
    if isinstance(r, dict) and not r.get("ok", True):
        print("%s: %s %s" % (name, r["error"]["code"], r["error"].get("message", "")))
    else:
        print("%s: %s" % (name, json.dumps(r)[:200]))

show("garbage", ask(b"this is not json\n"))
show("array", ask(b"[1, 2, 3]\n"))
show("no cmd", ask(b'{"id": 7}\n'))
show("cmd not a string", ask(b'{"id": 8, "cmd": 5}\n'))
show("unknown cmd", ask(b'{"id": 9, "cmd": "self_destruct"}\n'))
show("bad args", ask(b'{"id": 10, "cmd": "lan_set", "args": {"lan": 5}}\n'))
show("bad utf8", ask(b'{"id": 11, "cmd": "\xff\xfe"}\n'))
show("oversized", ask(b'{"id": 12, "cmd": "status", "pad": "' + b"x" * 70000 + b'"}\n'))
# A request cut short and a connection closed without a newline.
s, f = conn(); s.sendall(b'{"id": 13, "cmd": "sta'); s.close()
# After all that, on one connection: garbage then a good request.
s, f = conn()
s.sendall(b"garbage\n")
first = f.readline()
try:
    s.sendall(b'{"id": 14, "cmd": "status"}\n')
    second = f.readline()
except OSError:
    second = b""
print("same connection after garbage: %s" % (json.loads(second).get("ok") if second else "closed"))
show("status afterwards", ask(b'{"id": 15, "cmd": "status"}\n'))
EOF
sed 's/^/    /' "$WORK/raw.out"
expect "garbage: a bad_request error reply" "*bad_request*" grep "^garbage:" "$WORK/raw.out"
expect "a JSON array: bad_request" "*bad_request*" grep "^array:" "$WORK/raw.out"
expect "no cmd: bad_request" "*bad_request*" grep "^no cmd:" "$WORK/raw.out"
expect "cmd not a string: bad_request" "*bad_request*" grep "^cmd not a string:" "$WORK/raw.out"
expect "an unknown command: unknown_command" "*unknown_command*" grep "^unknown cmd:" "$WORK/raw.out"
check "ill-typed arguments: invalid_argument or bad_request" grep -E -q "^bad args: (invalid_argument|bad_request) " "$WORK/raw.out"
expect "invalid UTF-8: an error reply" "*bad_request*" grep "^bad utf8:" "$WORK/raw.out"
check "a line over 64 KiB: refused (an error reply, or the connection closed)" \
	grep -E -q "^oversized: (bad_request|invalid_argument|\"closed\"|error)" "$WORK/raw.out"
expect "status still answers after all of it" '*"state"*' grep "^status afterwards:" "$WORK/raw.out"
check "the daemon is still running" kill -0 "$VPND_PID"
expect "the daemon kept its settings (lan allow)" "*allow*" vpnc lan get
expect "and its state (disconnected)" disconnected vpnd_state

echo "# an unprivileged user (nobody)"
check "nobody may read status" nobody status
check "nobody may read lan get" nobody lan get
check "nobody may list credentials" nobody credentials list
refuses "nobody may not connect: permission denied" "[Pp]ermission denied\|run it as root" nobody connect
refuses "nobody may not lan set block" "[Pp]ermission denied\|run it as root" nobody lan set block
refuses "nobody may not dns set" "[Pp]ermission denied\|run it as root" nobody dns set 9.9.9.9
refuses "nobody may not network set" "[Pp]ermission denied\|run it as root" nobody network set mainnet
expect "nobody's --json error code" '*permission_denied*' nobody connect --json
expect "nothing changed: still disconnected" disconnected vpnd_state
expect "nothing changed: lan still allow" "*allow*" vpnc lan get
vpnc dns get --json >"$WORK/dns.json" 2>&1
expect "nothing changed: no custom DNS" "[]" jget "$WORK/dns.json" servers
check "lan set block (root)" vpnc lan set block

echo "# a corrupt ticketbook beside a good one"
vpnd_credentials || die "credentials obtain failed: $(cat "$WORK/obtain.out")"
TICKETS=$VPND_DATA/sandbox/tickets
check "the ticketbook is stored in $TICKETS" sh -c "ls '$TICKETS'/*.json >/dev/null"
printf '{"version": 1, "type": "mixnet-entry", "tickets": [tru' >"$TICKETS/corrupt.json"
vpnc credentials list >"$WORK/creds.out" 2>&1
st=$?
sed 's/^/    /' "$WORK/creds.out"
check "credentials list still works (exit $st)" [ $st -eq 0 ]
check "it still counts the good book's mixnet-entry tickets" grep -q "mixnet-entry *50 " "$WORK/creds.out"
check "credentials list names the unreadable book (corrupt.json)" grep -q "corrupt.json" "$WORK/creds.out"
vpnc credentials list --json >"$WORK/creds.json" 2>&1
expect "credentials list --json: the book in 'unreadable'" '\["corrupt.json"\]' jget "$WORK/creds.json" unreadable
check "the daemon still answers" vpnc status
vpnc gateway set --entry-id "$ENTRY_ID" --exit-id "$EXIT_ID" >/dev/null
vpnc connect --wait >"$WORK/connect.out" 2>&1
st=$?
check "connect --wait works with the corrupt book lying beside the good one" [ $st -eq 0 ]
[ $st -eq 0 ] || { cat "$WORK/connect.out"; tail -n 20 "$VPND_LOG"; }
check "disconnect --wait" quiet vpnc disconnect --wait
vpnd_stop
check "nym-vpnd exits 0 on SIGTERM" [ "${VPND_RC:-1}" -eq 0 ]
check "the socket is removed on exit" [ ! -e "$VPND_SOCKET" ]
refuses "status after the daemon stopped: 'not running'" "not running" vpnc status
finish
