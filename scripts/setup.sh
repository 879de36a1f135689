#!/usr/bin/env bash
# Installs everything the project needs, pinned and idempotent: a second run does nothing.
#   bash scripts/setup.sh            tools for building and running (and nginx, from Debian)
#   bash scripts/setup.sh --browser  also Chromium for the browser test (from Debian)
# Debian packages need root or sudo; everything else goes to $TOOLS and node_modules/.
set -euo pipefail
source "$(dirname "$0")/env.sh"

want_browser=false
[[ "${1:-}" == "--browser" ]] && want_browser=true

have_version() { # binary, expected version substring
  [[ -x "$TOOLS/bin/$1" ]] && "$TOOLS/bin/$1" --version 2>/dev/null | grep -qF "$2"
}

cargo_tool() { # crate version binary [extra cargo install args...]
  local crate=$1 version=$2 binary=$3
  shift 3
  if have_version "$binary" "$version"; then return; fi
  log "installing $crate $version (compiles from crates.io; a few minutes, once)"
  cargo install --root "$TOOLS" "$crate" --version "$version" --locked "$@" \
    || { log "retrying $crate without --locked (a locked dependency may have been yanked)";
         cargo install --root "$TOOLS" "$crate" --version "$version" "$@"; }
}

rust_minor=$(rustc --version | awk '{ split($2, v, "."); print v[2] }')
if ((rust_minor < 91)); then
  log "Rust 1.91 or newer is needed (found $(rustc --version)): run 'rustup update stable'"
  exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

# Debian packages: a C toolchain and OpenSSL headers to compile the tools below, nginx for the
# local S3's CORS, curl and jq for the README's recipes (the test command runs them), Chromium
# for the browser test. Only what is missing is installed.
debian_packages=()
command -v cc >/dev/null || debian_packages+=(build-essential)
command -v pkg-config >/dev/null || debian_packages+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || debian_packages+=(libssl-dev)
[[ -x /usr/sbin/nginx ]] || debian_packages+=(nginx-light)
command -v curl >/dev/null || debian_packages+=(curl)
command -v jq >/dev/null || debian_packages+=(jq)
# Python's venv (with pip) for the README's Python webhook verification, tested with PyPI's
# `standardwebhooks`.
python3 -c 'import venv, ensurepip' 2>/dev/null || debian_packages+=(python3-venv)
$want_browser && ! command -v chromium >/dev/null && debian_packages+=(chromium)
if ((${#debian_packages[@]})); then
  log "installing ${debian_packages[*]} from Debian"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
fi

mkdir -p "$TOOLS"
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
# It declares Rust 1.96 but builds with 1.95 (checked), hence --ignore-rust-version.
cargo_tool s3s-fs "$S3S_FS_VERSION" s3s-fs --features binary --ignore-rust-version

# The README's Python snippet verifies events with PyPI's standardwebhooks, pinned, in a venv.
if ! "$PY_TOOLS/bin/python" -c 'import standardwebhooks' 2>/dev/null \
  || [[ "$("$PY_TOOLS/bin/pip" show standardwebhooks 2>/dev/null | awk '/^Version:/ { print $2 }')" != "$STANDARDWEBHOOKS_PY_VERSION" ]]; then
  log "installing standardwebhooks $STANDARDWEBHOOKS_PY_VERSION from PyPI into $PY_TOOLS"
  python3 -m venv "$PY_TOOLS"
  "$PY_TOOLS/bin/pip" install --quiet --disable-pip-version-check "standardwebhooks==$STANDARDWEBHOOKS_PY_VERSION"
fi

# npm ci whenever package-lock.json differs from the one last installed (by content: a merge or
# a checkout can leave the lock older than node_modules while naming other packages).
INSTALLED_LOCK="$ROOT/node_modules/.edge-presign-installed-lock.json"
if [[ ! -x "$ROOT/node_modules/.bin/wrangler" ]] || ! cmp -s "$ROOT/package-lock.json" "$INSTALLED_LOCK"; then
  log "installing npm packages (wrangler, binaryen, playwright-core, node 22 for wrangler; esbuild, react, typescript, Uppy and standardwebhooks for the examples and tests)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/package-lock.json" "$INSTALLED_LOCK"
fi

log "tools ready"
