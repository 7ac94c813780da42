#!/bin/sh
# Vendor the browser libraries pinned in requirements/vendor-js.txt: `npm pack` each pinned version from the npm
# registry, refuse it unless its sha512 matches both the pin and what the registry publishes, then copy the one
# file the app loads plus the package's LICENSE and a VERSION note into the destination (committed to the repo).
set -eu
PINS=${1:-requirements/vendor-js.txt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

grep -v '^#' "$PINS" | grep -v '^[[:space:]]*$' | while read -r name version integrity file dest; do
  echo "vendor: $name@$version -> $dest"
  published=$(npm view "$name@$version" dist.integrity)
  if [ "$published" != "$integrity" ]; then
    echo "vendor: $name@$version: the registry publishes $published, the pin says $integrity" >&2
    exit 1
  fi
  tarball=$(cd "$work" && npm pack --silent "$name@$version")
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | openssl base64 -A)"
  if [ "$actual" != "$integrity" ]; then
    echo "vendor: $name@$version: downloaded tarball has $actual, expected $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name" "$dest"
  tar -xzf "$work/$tarball" -C "$work/$name"
  cp "$work/$name/package/$file" "$dest/"
  license=$(ls "$work/$name/package" | grep -i -m1 '^licen[cs]e' || true)
  if [ -z "$license" ]; then
    echo "vendor: $name@$version ships no LICENSE file" >&2
    exit 1
  fi
  cp "$work/$name/package/$license" "$dest/LICENSE"
  printf '%s %s\nfrom https://registry.npmjs.org/%s (npm pack)\n%s\nfile: %s\n' \
    "$name" "$version" "$name" "$integrity" "$file" > "$dest/VERSION"
done
