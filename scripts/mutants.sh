#!/usr/bin/env bash
# Mutation testing of the security checks (token rules, key rules, policy, presigned URLs,
# origins, content types, S3 answers and the completion check): every mutant cargo-mutants
# makes of them must make a test fail. Not part of the test command: on 2 cores the whole
# scope (about 660 mutants) takes about 20 minutes. The scope is in .cargo/mutants.toml.
#   bash scripts/mutants.sh --iterate    only what the last run missed, and what changed since
#   bash scripts/mutants.sh              the whole scope
#   bash scripts/mutants.sh --file src/key.rs   one file
# Results go to mutants.out/ (missed.txt lists the mutants no test caught).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
MUTANTS_VERSION=27.1.0
if ! "$TOOLS/bin/cargo-mutants" mutants --version 2>/dev/null | grep -qF "$MUTANTS_VERSION"; then
  log "installing cargo-mutants $MUTANTS_VERSION (compiles from crates.io; a few minutes, once)"
  cargo install --root "$TOOLS" cargo-mutants --version "$MUTANTS_VERSION" --locked \
    || cargo install --root "$TOOLS" cargo-mutants --version "$MUTANTS_VERSION"
fi
# Fewer property-test cases per mutant: the table tests decide, the properties add breadth.
export FUZZ_CASES="${FUZZ_CASES:-200}"
# `--file` adds to the config's examine_globs rather than narrowing them: with it, the config is
# left out and only its exclusions kept, so `--file src/key.rs` means that file alone.
scope=()
for arg in "$@"; do
  if [[ "$arg" == --file || "$arg" == -f ]]; then
    scope=(--no-config -E "impl fmt::Display for AuthError" -E "properties::")
  fi
done
exec "$TOOLS/bin/cargo-mutants" mutants --jobs 2 --timeout 120 "${scope[@]}" "$@" -- --lib
