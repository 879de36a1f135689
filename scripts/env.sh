# Sourced by the other scripts: where the project's tools live and which versions it pins.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Compiled tools are cached per user (not per checkout) so a fresh clone reuses them.
TOOLS="${EDGE_PRESIGN_TOOLS:-$HOME/.cache/edge-presign/tools}"
# s3s-fs 0.17.0 checks x-amz-checksum-sha256 before it keeps the file (0.14-0.16 answered
# BadDigest but left the bytes stored, unlike S3).
S3S_FS_VERSION=0.17.0
# PyPI's standardwebhooks, for the README's Python verification snippet, in its own venv.
STANDARDWEBHOOKS_PY_VERSION=1.3.0
PY_TOOLS="$TOOLS/python"
# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock, byte for byte of the version.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock")"

export PATH="$ROOT/node_modules/.bin:$TOOLS/bin:$HOME/.cargo/bin:$PATH"
# The pinned wasm-bindgen CLI (compiled by setup.sh) and wasm-opt (npm binaryen).
export WASM_BINDGEN_BIN="$TOOLS/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export PY_TOOLS
export WRANGLER_SEND_METRICS=false
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '\033[1m[edge-presign]\033[0m %s\n' "$*" >&2; }
