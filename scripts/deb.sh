#!/bin/sh
# make deb: the Debian packages of this tree, as it is (tracked and new files), into build/deb/.
# dpkg-buildpackage wants debian/ at the top of the source, so the tree is copied to
# build/deb-src/nym-c-VERSION/ with packaging/debian/ as its debian/ and a changelog made
# here. Version: VERSION, the commit count and the commit (0.1.0+git123.gabc1234); DEB_VERSION
# in the environment replaces it (the upgrade test builds two).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh

upstream=$(cat VERSION)
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
	count=$(git rev-list --count HEAD)
	version=${DEB_VERSION:-$upstream+git$count.g$commit}
else
	commit=unknown
	version=${DEB_VERSION:-$upstream}
fi

stage=build/deb-src
src=$stage/nym-c-$version
rm -rf "$stage"
mkdir -p "$src" build/deb
# Tracked and untracked-but-not-ignored files: what `git status` calls the tree.
git ls-files -z -co --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' | \
	tar -c --null -T - | tar -x -C "$src"
echo "$commit" >"$src/COMMIT"
cp -r packaging/debian "$src/debian"

if [ ! -f kmod/Kbuild ]; then
	# Without the module source there is nothing to package for DKMS.
	echo "deb.sh: no kmod/Kbuild in this tree: building without nym-awg-dkms" >&2
	awk 'BEGIN { RS = ""; ORS = "\n\n" } !/^Package: nym-awg-dkms/' "$src/debian/control" >"$src/debian/control.new"
	mv "$src/debian/control.new" "$src/debian/control"
	rm -f "$src/debian/nym-awg-dkms."*
fi

cat >"$src/debian/changelog" <<EOC
nym-c ($version) unstable; urgency=medium

  * Built from commit $commit.

 -- nym-c developers <nym-c@example.org>  $(date -R)
EOC

log=$stage/build.log
echo "deb.sh: building $version (log: $log)" >&2
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb.sh: dpkg-buildpackage failed (log: $log)" >&2
	exit 1
fi
rm -f build/deb/*.deb build/deb/*.changes build/deb/*.buildinfo
mv "$stage"/*.deb "$stage"/*.changes "$stage"/*.buildinfo build/deb/
ls build/deb/
