#!/usr/bin/env bash
# The test command: everything, in the order a failure is cheapest to see.
#   1. formatting and lints (host and wasm32)     4. deploy dry run (what Cloudflare would get)
#   2. native tests of the core (cargo test)       5. end-to-end tests: worker under wrangler dev,
#   3. the worker build                               real local S3, headless Chromium
# Installs what is missing first (scripts/setup.sh). Test artefacts go to test-output/.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

bash scripts/setup.sh --browser

log "formatting and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings

log "native tests (signing core, policy, keys, config, API contract)"
cargo test --locked

log "building the worker"
bash scripts/build.sh

log "deploy dry run"
rm -rf test-output && mkdir -p test-output
wrangler deploy --dry-run --outdir test-output/deploy
bash bench/bundle-size.sh test-output/deploy

log "end-to-end tests (wrangler dev + s3s-fs + Chromium)"
export TEST_OUTPUT="$ROOT/test-output"
node --test --test-reporter=spec --test-concurrency=1 tests/e2e/*.test.mjs
