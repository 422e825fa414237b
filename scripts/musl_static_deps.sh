#!/bin/sh
# scripts/musl_static_deps.sh OUT: the dependencies of nym-vpnd and nym-vpnc built as static
# libraries with Debian's musl-gcc, from Debian's source packages (make check-musl-static).
#
# The sources are fetched with `apt-get source` through a private apt configuration under
# OUT/apt (the host's deb lines turned into deb-src); nothing of the host's apt is touched.
# Each library is built with the fewest features the programs need into OUT/deps-KEY, KEY
# being a hash of the source packages' .dsc files and of this script, so that a second run
# with the same sources only checks. OUT/prefix points at the prefix in use.
#
# A source package the archive does not serve (some files of the mirror answer 404) is left
# out: its name goes to OUT/prefix/missing and the programs that need it are not linked,
# unless MUSL_STATIC_SRC=DIR holds its source tree as DIR/<source package> (a tree from
# elsewhere, for a local check: the build then says "local" for it).
set -eu
OUT=$(realpath -m "$1")
JOBS=${JOBS:-2}
SELF=$(realpath "$0")
# Source package : what it gives.
PKGS="libsodium jansson libyaml liburing libmnl libnftnl openssl curl"

mkdir -p "$OUT/apt/parts" "$OUT/apt/lists/partial" "$OUT/apt/cache/archives/partial" "$OUT/src"
: >"$OUT/apt/sources.list"
HOSTSRC=/etc/apt/sources.list.d/debian.sources
[ -f "$HOSTSRC" ] || { echo "musl_static_deps: no $HOSTSRC to take the archive from" >&2; exit 1; }
sed 's/^Types:.*/Types: deb-src/' "$HOSTSRC" >"$OUT/apt/parts/debian-src.sources"
APT="-o Dir::Etc::SourceList=$OUT/apt/sources.list -o Dir::Etc::SourceParts=$OUT/apt/parts
 -o Dir::State::Lists=$OUT/apt/lists -o Dir::Cache=$OUT/apt/cache
 -o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get -q $APT update >"$OUT/apt/update.log" 2>&1 ||
	{ cat "$OUT/apt/update.log" >&2; echo "musl_static_deps: apt-get update (deb-src) failed" >&2; exit 1; }

# fetch PKG: download its newest source version that the archive serves whole into
# OUT/src (the archive's index may name a version whose files are not there yet).
# Prints the .dsc's name, or nothing.
fetch() {
	# shellcheck disable=SC2086
	vers=$(apt-cache $APT showsrc --only-source "$1" 2>/dev/null | sed -n 's/^Version: //p' | sort -u |
		while read -r v; do echo "$v"; done | sort -r -V)
	for v in $vers; do
		# shellcheck disable=SC2086
		if (cd "$OUT/src" && apt-get -q $APT source --download-only --only-source "$1=$v") \
			>>"$OUT/src/fetch.log" 2>&1; then
			echo "$1_$(echo "$v" | sed 's/^[0-9]*://').dsc"
			return 0
		fi
	done
	return 0
}

DSCS=""
MISSING=""
LOCAL=""
for p in $PKGS; do
	d=$(fetch "$p")
	if [ -n "$d" ]; then
		DSCS="$DSCS $d"
	elif [ -n "${MUSL_STATIC_SRC:-}" ] && [ -d "$MUSL_STATIC_SRC/$p" ]; then
		LOCAL="$LOCAL $p"
	else
		MISSING="$MISSING $p"
	fi
done
KEY=$( { cat "$SELF"; for d in $DSCS; do cat "$OUT/src/$d"; done; echo "$MISSING"
	for l in $LOCAL; do (cd "$MUSL_STATIC_SRC/$l" && find . -type f ! -path './.git/*' | sort | xargs cat); done
	} | sha256sum | cut -c1-16)
P="$OUT/deps-$KEY"
# use: OUT/prefix points at P; OUT/prefix.stamp is touched when it changes (the objects
# compiled against the prefix depend on it).
use() {
	if [ "$(readlink "$OUT/prefix" 2>/dev/null)" != "deps-$KEY" ]; then
		ln -sfn "deps-$KEY" "$OUT/prefix"
		touch "$OUT/prefix.stamp"
	fi
}
if [ -f "$P/.done" ]; then
	use
	echo "musl_static_deps: $P (cached): $(tr '\n' ' ' <"$P/sources")"
	exit 0
fi
rm -rf "$P" "$OUT/build"
mkdir -p "$P/include" "$P/lib" "$OUT/build"

# The kernel's headers (linux-libc-dev) for musl-gcc, which sees only musl's.
MA=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
K="$OUT/kinc"
rm -rf "$K" && mkdir -p "$K"
ln -s /usr/include/linux /usr/include/asm-generic "$K/"
ln -s "/usr/include/$MA/asm" "$K/asm"

export CC="musl-gcc"
export CFLAGS="-O2 -fno-strict-aliasing -isystem $K -I$P/include"
export CPPFLAGS="-isystem $K -I$P/include"
export LDFLAGS="-L$P/lib"
export PKG_CONFIG_PATH="$P/lib/pkgconfig" PKG_CONFIG_LIBDIR="$P/lib/pkgconfig"
AC="--prefix=$P --disable-shared --enable-static --host=x86_64-linux-musl --build=$(gcc -dumpmachine)"

# unpack PKG: the source tree of PKG with Debian's patches applied (or a copy of the local
# one); prints its path.
unpack() {
	case " $LOCAL " in *" $1 "*)
		cp -a "$MUSL_STATIC_SRC/$1" "$OUT/build/$1" && echo "$OUT/build/$1"
		return 0 ;;
	esac
	d=""
	for x in $DSCS; do case $x in "$1"_*) d=$x ;; esac; done
	(cd "$OUT/build" && dpkg-source --no-check -x "$OUT/src/$d" "$1") >"$OUT/build/$1.unpack.log" 2>&1
	echo "$OUT/build/$1"
}
has() { case " $DSCS $LOCAL " in *" $1"_* | *" $1 "*) return 0 ;; esac; return 1; }
# step NAME CMD...: run CMD into a log, show the log's tail on failure.
step() {
	n=$1; shift
	t0=$(date +%s)
	if ! ( "$@" ) >"$OUT/build/$n.log" 2>&1; then
		tail -n 40 "$OUT/build/$n.log" >&2
		echo "musl_static_deps: $n failed (log: $OUT/build/$n.log)" >&2
		exit 1
	fi
	echo "  $n: $(( $(date +%s) - t0 )) s"
}

b_libsodium() {
	cd "$1" && ./autogen.sh -s >/dev/null 2>&1 || autoreconf -fi
	./configure $AC --disable-pie --disable-ssp && make -j"$JOBS" && make install
}
b_jansson() {
	cd "$1" && autoreconf -fi && ./configure $AC && make -j"$JOBS" -C src && make -C src install &&
		make install-pkgconfigDATA
}
b_libyaml() {
	cd "$1" && autoreconf -fi && ./configure $AC && make -j"$JOBS" -C src && make -C src install &&
		make install-pkgconfigDATA && install -m 644 include/yaml.h "$P/include/yaml.h"
}
b_liburing() {
	cd "$1" && ./configure --prefix="$P" --cc=musl-gcc && make -j"$JOBS" -C src liburing.a &&
		make -C src install && rm -f "$P"/lib/liburing*.so*
}
b_libmnl() {
	cd "$1" && { [ -x configure ] || autoreconf -fi; } && ./configure $AC && make -j"$JOBS" && make install
}
b_libnftnl() {
	cd "$1" && { [ -x configure ] || autoreconf -fi; } && ./configure $AC && make -j"$JOBS" && make install
}
# OpenSSL: libcrypto and libssl only (curl's TLS), no shared objects, engines, modules or
# legacy algorithms.
b_openssl() {
	cd "$1" && ./Configure linux-x86_64 --prefix="$P" --libdir=lib no-shared no-tests \
		no-engine no-dso no-module no-legacy no-async no-afalgeng no-comp no-ssl3 no-dtls \
		no-srp no-gost no-ui-console -isystem "$K" &&
		make -j"$JOBS" build_libs && make install_dev
}
# curl: HTTP and HTTPS only (lib/http/http_client.c), OpenSSL, nothing optional. Debian's last
# two patches make its GnuTLS and NSS flavours (libcurl-gnutls, libcurl-nss): taken back off,
# as its debian/rules does for the OpenSSL one.
b_curl() {
	cd "$1" && for f in 99_nss.patch 90_gnutls.patch; do
		[ ! -f "debian/patches/$f" ] || patch -R -s -p1 <"debian/patches/$f" || return 1
	done && autoreconf -fi && ./configure $AC --with-openssl="$P" \
		--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
		--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
		--disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
		--disable-gopher --disable-mqtt --disable-manual --disable-ntlm --disable-ntlm-wb \
		--disable-alt-svc --disable-hsts --disable-cookies --disable-netrc --disable-doh \
		--without-libpsl --without-zlib --without-brotli --without-zstd --without-libidn2 \
		--without-nghttp2 --without-librtmp --without-libssh2 --without-libgsasl &&
		make -j"$JOBS" -C lib && make -C lib install && make -C include install &&
		make install-pkgconfigDATA
}

T0=$(date +%s)
for p in $PKGS; do
	has "$p" || continue
	src=$(unpack "$p")
	step "$p" "b_$p" "$src"
done
printf '%s\n' $MISSING >"$P/missing"
{ echo "$DSCS" | tr ' ' '\n'; for l in $LOCAL; do echo "$l(local)"; done; } | sed '/^$/d' >"$P/sources"
touch "$P/.done"
use
rm -rf "$OUT/build"
echo "musl_static_deps: $P built in $(( $(date +%s) - T0 )) s: $(tr '\n' ' ' <"$P/sources")"
[ -z "$MISSING" ] || echo "musl_static_deps: not served by the archive:$MISSING" >&2
