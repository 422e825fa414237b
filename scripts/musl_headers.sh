#!/bin/sh
# scripts/musl_headers.sh DIR: an include directory for Debian's musl-gcc (make check-musl):
# the headers of the project's dependencies (Debian's -dev packages, for glibc, in
# /usr/include and /usr/include/<multiarch>) and the kernel's (linux-libc-dev) as symlinks,
# nothing else of glibc's, so that musl's own libc headers are the only ones a source sees.
set -eu
DIR=$1
MA=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
rm -rf "$DIR"
mkdir -p "$DIR"
# link NAME: /usr/include/NAME, else /usr/include/<multiarch>/NAME.
link() {
	for d in /usr/include "/usr/include/$MA"; do
		if [ -e "$d/$1" ]; then
			ln -s "$d/$1" "$DIR/$1"
			return 0
		fi
	done
	return 1
}
# Whole directories and single headers of the dependencies and of the kernel.
for h in sodium.h sodium liburing.h liburing libmnl libnftnl yaml.h jansson.h jansson_config.h \
	sqlite3.h sqlite3ext.h microhttpd.h curl linux asm-generic; do
	link "$h" || { echo "musl_headers: no /usr/include/$h (scripts/deps.sh)" >&2; exit 1; }
done
ln -s "/usr/include/$MA/asm" "$DIR/asm"
# OpenSSL: its headers, with the configuration headers of the multiarch directory.
mkdir "$DIR/openssl"
for f in /usr/include/openssl/*.h "/usr/include/$MA/openssl/"*.h; do
	ln -sf "$f" "$DIR/openssl/$(basename "$f")"
done
