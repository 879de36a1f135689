#!/usr/bin/env bash
# Builds the worker into build/ (wrangler's [build] command calls this). Skips the work when
# nothing under src/, web/ or Cargo.* changed since the last build.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

stamp=build/.built
# Several `wrangler dev` instances (the tests start a few) run this at once: one builds, the
# others wait for it and then find the stamp fresh.
mkdir -p target
exec 9>target/.build.lock
flock 9
if [[ -z ${PROFILE_NAMES:-} && -f $stamp && -z "$(find src web Cargo.toml Cargo.lock scripts/worker-entry.mjs -newer "$stamp" -print -quit)" ]]; then
  exit 0
fi
[[ -x "$WASM_BINDGEN_BIN" && -x "$WASM_OPT_BIN" ]] || bash scripts/setup.sh
cargo build --lib --release --locked --target wasm32-unknown-unknown
# JS bindings for the wasm; `--target web` gives `initSync` for a module wrangler has compiled,
# and the reset function lets the entry start a fresh instance after a trap.
"$WASM_BINDGEN_BIN" target/wasm32-unknown-unknown/release/edge_presign.wasm --out-dir build \
  --out-name index --target web --no-typescript --experimental-reset-state-function
# Optimise for size, and drop the debug name section wasm-bindgen leaves (Cargo's `strip`
# would also drop the target_features section wasm-bindgen reads, so strip afterwards).
# `--low-memory-unused`: Rust puts nothing below address 1024 (its stack starts at 1 MiB and
# its data above), so constant offsets fold into loads and stores (0.4 KiB gzip).
# PROFILE_NAMES=1 keeps the function names, for bench/profile.mjs.
strip=(--strip-debug)
[[ -n ${PROFILE_NAMES:-} ]] && strip=(-g)
"$WASM_OPT_BIN" -Oz --converge --low-memory-unused "${strip[@]}" --strip-producers \
  build/index_bg.wasm -o build/index_bg.wasm
mkdir -p build/worker
cp scripts/worker-entry.mjs build/worker/shim.mjs
touch "$stamp"
