#!/usr/bin/env bash
# Rebuilds the browser verifier from source and compares it with the
# committed build outputs in crates/tallyboard-read/assets/ (what every site
# serves as site/verify.js, site/tallyboard_web.js, site/tallyboard_web_bg.wasm).
#
#   scripts/build-web.sh           rebuild, compare byte for byte, exit 1 on any difference
#   scripts/build-web.sh --write   rebuild and replace the committed outputs
#
# The build is reproducible: the Rust toolchain and the wasm-bindgen CLI are
# pinned (assets/SHA256SUMS records both), paths are remapped out of the
# binary, and nothing records a time. The SHA-256 sums printed are the ones a
# results page shows for the files it ran (README, "Checking the checker").
# Installs the wasm32 target and the pinned wasm-bindgen CLI when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ASSETS=crates/tallyboard-read/assets
MODE=${1:-check}

# The wasm-bindgen CLI must be the version of the crate in Cargo.lock.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WB_VERSION" ] || { echo "wasm-bindgen is not in Cargo.lock" >&2; exit 2; }

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB_VERSION"; then
  echo "installing wasm-bindgen-cli $WB_VERSION (a few minutes, once)" >&2
  # Not --locked: the CLI's own lock names a crate version that is no longer
  # on the registry (RECIPES). The version itself is pinned exactly.
  cargo install wasm-bindgen-cli --version "=$WB_VERSION" --force
fi

RUSTC=$(rustc --version)
SYSROOT=$(rustc --print sysroot)
CARGO_DIR=${CARGO_HOME:-$HOME/.cargo}
export RUSTFLAGS="--remap-path-prefix=$ROOT=/tallyboard --remap-path-prefix=$CARGO_DIR=/cargo --remap-path-prefix=$SYSROOT=/rustc"
export SOURCE_DATE_EPOCH=0
cargo build -p tallyboard-web --target wasm32-unknown-unknown --profile wasm --locked

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
  target/wasm32-unknown-unknown/wasm/tallyboard_web.wasm
cp crates/tallyboard-web/js/verify.js "$OUT/verify.js"

FILES="verify.js tallyboard_web.js tallyboard_web_bg.wasm"
{
  echo "# Built by scripts/build-web.sh with $RUSTC and wasm-bindgen $WB_VERSION."
  (cd "$OUT" && sha256sum $FILES)
} > "$OUT/SHA256SUMS"

if [ "$MODE" = "--write" ]; then
  mkdir -p "$ASSETS"
  for f in $FILES SHA256SUMS; do cp "$OUT/$f" "$ASSETS/$f"; done
  echo "wrote $ASSETS:"
  cat "$ASSETS/SHA256SUMS"
  exit 0
fi

cat "$OUT/SHA256SUMS"
status=0
for f in $FILES; do
  if ! cmp -s "$OUT/$f" "$ASSETS/$f"; then
    echo "DIFFERS: $ASSETS/$f is not what the source builds (run scripts/build-web.sh --write and commit)" >&2
    status=1
  fi
done
if ! cmp -s "$OUT/SHA256SUMS" "$ASSETS/SHA256SUMS"; then
  echo "DIFFERS: $ASSETS/SHA256SUMS (toolchain or outputs changed):" >&2
  diff "$ASSETS/SHA256SUMS" "$OUT/SHA256SUMS" >&2 || true
  status=1
fi
[ $status -eq 0 ] && echo "the committed browser verifier is what the source builds"
exit $status
