#!/usr/bin/env bash
# Prints the size of what `wrangler deploy` would upload: the wasm module and the JS glue,
# raw and gzipped (Cloudflare's limits apply to the gzipped total).
#   bash bench/bundle-size.sh [dir]   dir: a `wrangler deploy --dry-run --outdir` output
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
dir="${1:-}"
if [[ -z "$dir" ]]; then
  dir="$(mktemp -d)"
  (cd "$ROOT" && bash scripts/build.sh && wrangler deploy --dry-run --outdir "$dir" >/dev/null)
fi
total_raw=0 total_gz=0
printf '%-28s %10s %10s\n' file bytes gzip
while IFS= read -r -d '' file; do
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz))
  printf '%-28s %10d %10d\n' "$(basename "$file")" "$raw" "$gz"
done < <(find "$dir" -maxdepth 1 -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.mjs' \) -print0 | sort -z)
printf '%-28s %10d %10d\n' total "$total_raw" "$total_gz"
