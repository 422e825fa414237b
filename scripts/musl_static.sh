#!/bin/sh
# scripts/musl_static.sh [OUT]: `make check-musl-static` (issue 16). The dependencies built with
# musl from Debian's source packages (scripts/musl_static_deps.sh OUT), nym-vpnd and nym-vpnc
# linked with -static against them and musl (the Makefile's OUT/bin rules), then run:
#   nym-vpnc --version; nym-vpnd --version and --check-config on the shipped configuration;
#   nym-vpnd started on a control socket in a temporary directory (no tunnel asked for) and
#   nym-vpnc's `info` and `status` answered by it.
# A program whose dependencies' sources the archive does not serve is not linked: said, and
# not counted as a failure (OUT/prefix/missing names them). Prints the stripped sizes.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build/musl-static}
T0=$(date +%s)
scripts/musl_static_deps.sh "$OUT"
P="$OUT/prefix"
T1=$(date +%s)

# Debian's sqlite3.h and microhttpd.h, and the headers of a library whose sources were not
# served, only for the library's modules that include them to compile (see the Makefile).
rm -rf "$OUT/hdr" && mkdir -p "$OUT/hdr"
for h in sqlite3.h sqlite3ext.h microhttpd.h; do ln -s "/usr/include/$h" "$OUT/hdr/$h"; done
for m in $(cat "$P/missing"); do ln -s "/usr/include/$m" "$OUT/hdr/$m"; done

# needs PROGRAM: the source packages of PROGRAM's libraries that the archive did not serve.
needs() {
	case $1 in
	nym-vpnc) want="libsodium jansson" ;;
	nym-vpnd) want="libsodium jansson libyaml liburing libmnl libnftnl openssl curl" ;;
	esac
	for w in $want; do grep -qx "$w" "$P/missing" && printf ' %s' "$w"; done
	return 0
}

pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }

BINS=""
for b in nym-vpnc nym-vpnd; do
	m=$(needs "$b")
	if [ -n "$m" ]; then
		skip=$((skip + 1))
		echo "  skip $b: not linked, Debian's archive did not serve the sources of:$m"
		continue
	fi
	BINS="$BINS $OUT/bin/$b"
done
[ -z "$BINS" ] || make --no-print-directory DEPS=0 -j"${JOBS:-2}" $BINS
T2=$(date +%s)

T=$(mktemp -d "${TMPDIR:-/tmp}/nym-muslstatic.XXXXXX")
VPND_PID=""
cleanup() {
	[ -z "$VPND_PID" ] || kill "$VPND_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# static FILE: an ELF executable without an interpreter nor shared libraries.
static() {
	file -L "$1" | grep -q 'statically linked' && ! readelf -d "$1" 2>/dev/null | grep -q NEEDED
}

for f in $BINS; do
	b=$(basename "$f")
	if static "$f"; then ok "$b is statically linked"; else bad "$b is not static: $(file -L "$f")"; fi
	strip -o "$T/$b.stripped" "$f"
	echo "       $b: $(stat -c %s "$f") bytes, stripped $(stat -c %s "$T/$b.stripped")"
done

VPNC="$OUT/bin/nym-vpnc"
VPND="$OUT/bin/nym-vpnd"
if [ -x "$VPNC" ] && case $BINS in *nym-vpnc*) true ;; *) false ;; esac; then
	if v=$("$VPNC" --version) && echo "$v" | grep -q "^nym-vpnc $(cat VERSION)"; then
		ok "nym-vpnc --version: $v"
	else
		bad "nym-vpnc --version: ${v:-nothing}"
	fi
	if "$VPNC" --socket "$T/none.sock" status >"$T/out" 2>&1; then
		bad "nym-vpnc status without a daemon succeeded"
	else
		ok "nym-vpnc status without a daemon: $(head -n 1 "$T/out")"
	fi
fi
if case $BINS in *nym-vpnd*) true ;; *) false ;; esac; then
	if v=$("$VPND" --version) && echo "$v" | grep -q "^nym-vpnd $(cat VERSION)"; then
		ok "nym-vpnd --version: $v"
	else
		bad "nym-vpnd --version: ${v:-nothing}"
	fi
	if out=$("$VPND" --config packaging/nym-vpnd.yaml --check-config 2>&1); then
		ok "nym-vpnd --check-config packaging/nym-vpnd.yaml: $out"
	else
		bad "nym-vpnd --check-config packaging/nym-vpnd.yaml: $out"
	fi
	# The daemon on a socket of its own, in a network namespace of its own (whatever it does to
	# routes or the firewall stays there), with an authority nobody answers on (loopback): it
	# stays disconnected and answers its control socket.
	mkdir -p "$T/data"
	unshare --net sh -c 'ip link set lo up 2>/dev/null; exec "$@"' vpnd "$VPND" --config packaging/nym-vpnd.yaml --socket "$T/vpnd.sock" --data-dir "$T/data" \
		--authority http://127.0.0.1:9/ --log-level info >"$T/vpnd.log" 2>&1 &
	VPND_PID=$!
	i=0
	while [ ! -S "$T/vpnd.sock" ] && [ $i -lt 50 ] && kill -0 "$VPND_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -x "$VPNC" ] && "$VPNC" --socket "$T/vpnd.sock" info >"$T/info" 2>&1; then
		ok "nym-vpnc info from the static nym-vpnd: $(head -n 1 "$T/info"), RSS $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$VPND_PID/status")"
	else
		bad "nym-vpnc info from the static nym-vpnd: $(cat "$T/info" 2>/dev/null) $(tail -n 5 "$T/vpnd.log")"
	fi
	if [ -x "$VPNC" ] && "$VPNC" --socket "$T/vpnd.sock" status >"$T/status" 2>&1; then
		ok "nym-vpnc status from the static nym-vpnd: $(head -n 1 "$T/status")"
	else
		bad "nym-vpnc status from the static nym-vpnd: $(cat "$T/status" 2>/dev/null)"
	fi
	kill "$VPND_PID" 2>/dev/null || true
	wait "$VPND_PID" 2>/dev/null || true
	VPND_PID=""
fi

T3=$(date +%s)
echo "check-musl-static: dependencies $((T1 - T0)) s, compile and link $((T2 - T1)) s, run $((T3 - T2)) s; sources: $(tr '\n' ' ' <"$P/sources")"
echo "check-musl-static: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
