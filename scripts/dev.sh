#!/usr/bin/env bash
# The run command: installs what is missing, builds the worker, then starts a local S3 (with
# bucket-style CORS) and the worker under `wrangler dev`. Ctrl-C stops everything.
#   WORKER_PORT (default 8787) and S3_PORT (default 9000) choose the ports.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/setup.sh"
node "$ROOT/scripts/build-examples.mjs" # the React and Uppy examples, served at /examples/react/ and /examples/uppy/
bash "$ROOT/scripts/build.sh"
exec node "$ROOT/scripts/dev.mjs"
