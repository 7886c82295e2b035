#!/bin/bash
# Adds to a .gpu-kit/ made by the workplace's pack.sh what a real install on a GPU box has and that
# kit leaves out: koffi (linux-x64 build only) and the OpenBLAS/LAPACK debs, so that the host's
# eigenvalues there take the LAPACK path (`npm install` puts OpenBLAS on a Debian box through
# scripts/setup-native.mjs) instead of the JS fallback, which is ~20× slower at width 512.
# Run from the project's root after pack.sh; the kit's unpack.sh extracts every .deb in debs/.
set -euo pipefail
k=.gpu-kit
[ -d "$k/node_modules" ] || { echo "gpu-kit-extras.sh: run pack.sh first" >&2; exit 1; }
src=node_modules/koffi; dst=$k/node_modules/koffi
rm -rf "$dst"; mkdir -p "$dst/build/koffi"
cp "$src/package.json" "$src/index.js" "$src/indirect.js" "$dst/"
[ -d "$src/lib" ] && cp -r "$src/lib" "$dst/"
cp -r "$src/build/koffi/linux_x64" "$dst/build/koffi/"
lists=$(mktemp -d); mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
apt-get $o update -qq >/dev/null 2>&1 || true
(cd "$k/debs" && apt-get $o download -qq libopenblas0-pthread libgfortran5 >/dev/null 2>&1) \
  || echo "gpu-kit-extras.sh: could not download OpenBLAS; eigenvalues there will use the JS fallback" >&2
du -sh "$k"
