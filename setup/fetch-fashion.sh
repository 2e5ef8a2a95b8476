#!/bin/sh
# Fetches Fashion-MNIST from the Debian package dataset-fashion-mnist (it
# holds the four IDX files, gzipped, in /usr/share/datasets/fashion-mnist/),
# checks each file against setup/fashion-mnist.sha256 and installs them into
# data/fashion-mnist/ under the MNIST file names, so that
#   pff train --data data/fashion-mnist
# reads them. No root needed: `apt-get download` fetches the .deb into a
# temporary directory and `dpkg-deb -x` unpacks it there. Where the package
# is already installed its files are used; where the download fails and we
# are root, the package is installed with apt-get instead. Nothing is left in
# data/fashion-mnist/ unless every check passed.
set -eu
PKG=dataset-fashion-mnist
SYSDIR=/usr/share/datasets/fashion-mnist
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../data/fashion-mnist"
sums="$here/fashion-mnist.sha256"
say() { echo "fetch-fashion: $*"; }
die() { echo "fetch-fashion: $*" >&2; exit 1; }

if [ -f "$dest/.verified" ] && (cd "$dest" && sha256sum --quiet -c "$sums") >/dev/null 2>&1; then
    echo "data/fashion-mnist: present and verified"
    exit 0
fi
for tool in sha256sum gzip; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. Where the four files come from: an installed package, a downloaded
#    .deb unpacked here, or (as root, when the download failed) apt-get install.
src=""
if [ -d "$SYSDIR" ] && ls "$SYSDIR"/train-images-idx3-ubyte* >/dev/null 2>&1; then
    say "using the installed package ($SYSDIR)"
    src="$SYSDIR"
else
    command -v apt-get >/dev/null 2>&1 || die "apt-get is needed (a Debian or Ubuntu system)"
    say "apt-get download $PKG"
    if (cd "$tmp" && apt-get download -q "$PKG" >"$tmp/apt.log" 2>&1); then
        command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is needed"
        deb=$(ls "$tmp"/"$PKG"_*.deb)
        say "unpacking $(basename "$deb")"
        mkdir "$tmp/root"
        dpkg-deb -x "$deb" "$tmp/root"
        src="$tmp/root"
    elif [ "$(id -u)" = 0 ]; then
        say "download failed ($(tail -n 1 "$tmp/apt.log")); installing $PKG with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$PKG" >"$tmp/apt.log" 2>&1 || {
            apt-get update -q >/dev/null 2>&1 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$PKG" >"$tmp/apt.log" 2>&1
        } || die "apt-get install $PKG failed: $(tail -n 1 "$tmp/apt.log")"
        src=$(dpkg -L "$PKG" | grep '/train-images-idx3-ubyte' | head -n 1)
        [ -n "$src" ] || die "dpkg -L $PKG lists no train-images-idx3-ubyte"
        src=$(dirname "$src")
    else
        die "apt-get download $PKG failed ($(tail -n 1 "$tmp/apt.log")); as root, run
  apt-get update && apt-get install $PKG
and run this script again (it then reads $SYSDIR)"
    fi
fi

# 2. Find each IDX file (plain or .gz) and stage it, uncompressed, in $tmp/out.
mkdir "$tmp/out"
for f in $FILES; do
    path=$(find "$src" \( -name "$f" -o -name "$f.gz" \) -type f 2>/dev/null | head -n 1)
    [ -n "$path" ] || die "$f(.gz) not found in the package"
    case "$path" in
    *.gz) gzip -dc "$path" >"$tmp/out/$f" || die "$path: cannot gunzip" ;;
    *) cp "$path" "$tmp/out/$f" ;;
    esac
done

# 3. Check, then move into place.
(cd "$tmp/out" && sha256sum -c "$sums") || die "checksum mismatch against setup/fashion-mnist.sha256"
mkdir -p "$dest"
rm -f "$dest/.verified"
for f in $FILES; do
    mv "$tmp/out/$f" "$dest/$f.part" && mv "$dest/$f.part" "$dest/$f"
done
touch "$dest/.verified"
say "data/fashion-mnist ready (4 IDX files, SHA-256 verified); train with --data data/fashion-mnist"
