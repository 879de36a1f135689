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
if [[ -f $stamp && -z "$(find src web Cargo.toml Cargo.lock -newer "$stamp" -print -quit)" ]]; then
  exit 0
fi
[[ -x "$WASM_BINDGEN_BIN" && -x "$WASM_OPT_BIN" ]] || bash scripts/setup.sh
worker-build --release
# Drop the debug name section (85 KB here) that wasm-bindgen leaves; Cargo's `strip = true`
# would also drop the target_features section wasm-bindgen reads, so strip afterwards.
"$WASM_OPT_BIN" --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm
touch "$stamp"
