// What each feature costs in the bundle: the worker is built again without it (its routes or
// its step taken out of the shell's route table, so the compiler drops all code only it used)
// and the gzip size compared with the whole build. Run from the repository:
//   node bench/feature-sizes.mjs
// It works in a temporary git worktree of HEAD, so the checkout is never touched; each build
// takes about a minute. Sizes are gzip -9 of the wasm plus its JS glue (wrangler's own figure
// differs by a few hundred bytes).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const ROOT = new URL("..", import.meta.url).pathname;
const SHELL = "src/shell/mod.rs";

/** Each feature: the lines that wire it (in src/shell/mod.rs unless a third item names the
 * file), and what replaces them. */
const FEATURES = {
  auth: [["*caller = apart(auth::caller(call)).await?;", "*caller = None;"]],
  "rate limit": [
    ["apart(rate_limit::check(call, caller.as_ref())).await?;", ""],
    ["apart(rate_limit::check(call, None)).await?;", ""],
  ],
  downloads: [["Route::Download(key) => apart(handlers::download(call, key, caller)).await,", ""]],
  "Companion routes": [
    ["Route::CompanionParams => uppy::params(call, caller),", ""],
    ["Route::CompanionCreate => apart(multipart::create(call, caller)).await,", ""],
    [/Route::CompanionUpload\(id\) if call\.method == "DELETE" => (\{[^}]*\}|[^\n]*,)\n/, ""],
    ["Route::CompanionUpload(id) => apart(multipart::list(call, id, caller)).await,", ""],
    ["Route::CompanionPart(id, number) => multipart::part(call, id, number, caller),", ""],
    ["Route::CompanionComplete(id) => return apart(multipart::complete(call, id, caller)).await,", ""],
  ],
  signRequest: [
    ["Route::Sign => apart(uppy::sign(call, caller)).await,", ""],
    ["Route::SignedCreated(id) => multipart::created(call, id),", ""],
  ],
  "audit lines": [
    ["web_sys::console::log_1(&JsValue::from_str(&grant.to_line()));", "let _ = grant;"],
    ["web_sys::console::log_1(&JsValue::from_str(&line));", "let _ = line;"],
  ],
  "upload limits route": [["Route::UploadLimits => handlers::limits(call, caller),", ""]],
  "completion and events": [
    ["Route::UploadsComplete => apart(events::complete(call, caller)).await,", ""],
    ["super::events::announce_completed(call, &key, sub).await;", "let _ = sub;", "src/shell/multipart.rs"],
    ["pub use shell::{fetch, internal_error, queue};", "pub use shell::{fetch, internal_error};", "src/lib.rs"],
    ["pub use events::queue;", ""],
    ["#[wasm_bindgen]\npub fn queue(", "#[allow(dead_code)]\npub fn queue(", "src/shell/events.rs"],
  ],
  "static files": [["Route::Static => apart(handlers::static_asset(call, &route_path(call))).await,", "Route::Static => Err(ApiError::not_found()),"]],
};
// Taken out together: the S3 calls, XML and multipart signing they share.
const GROUPS = {
  "all S3 calls (downloads, Companion routes, signRequest)": ["downloads", "Companion routes", "signRequest"],
  "everything above": Object.keys(FEATURES),
};

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

function build(dir) {
  run("bash", ["-c", "source scripts/env.sh && cargo build --quiet --lib --release --locked --target wasm32-unknown-unknown"], dir);
  const out = join(dir, "build-size");
  run("bash", ["-c", `source scripts/env.sh && "$WASM_BINDGEN_BIN" target/wasm32-unknown-unknown/release/edge_presign.wasm --out-dir ${out} --out-name index --target web --no-typescript --experimental-reset-state-function && "$WASM_OPT_BIN" -Oz --converge --low-memory-unused --strip-debug --strip-producers ${out}/index_bg.wasm -o ${out}/index_bg.wasm`], dir);
  const gz = (file) => gzipSync(readFileSync(join(out, file)), { level: 9 }).length;
  return gz("index_bg.wasm") + gz("index.js");
}

function without(dir, names) {
  const sources = new Map(); // file → its text, changed
  const read = (file) => sources.get(file) ?? readFileSync(join(dir, file), "utf8");
  for (const name of names) {
    for (const [from, to, file = SHELL] of FEATURES[name]) {
      const source = read(file);
      const next = source.replace(from, to);
      if (next === source) throw new Error(`${name}: ${file} no longer has ${from}`);
      sources.set(file, next);
    }
  }
  // A match that no route reaches any more still needs its arms.
  sources.set(SHELL, read(SHELL).replace("Route::Health | Route::Static => Err(ApiError::not_found()),", "_ => Err(ApiError::not_found()),"));
  for (const [file, text] of sources) writeFileSync(join(dir, file), text);
  try {
    return build(dir);
  } finally {
    run("git", ["checkout", "--", "."], dir);
  }
}

const dir = mkdtempSync(join(tmpdir(), "edge-presign-sizes-"));
run("git", ["worktree", "add", "--detach", dir, "HEAD"], ROOT);
try {
  // Share the compiled dependencies with the checkout instead of building them again.
  run("bash", ["-c", `ln -s ${join(ROOT, "node_modules")} node_modules`], dir);
  const whole = build(dir);
  const rows = [["the whole worker", whole, ""]];
  for (const name of Object.keys(FEATURES)) rows.push([name, without(dir, [name]), name]);
  for (const [label, names] of Object.entries(GROUPS)) rows.push([label, without(dir, names), label]);
  console.log("| feature | cost (gzip) | bundle without it |\n|---|---:|---:|");
  for (const [label, size] of rows) {
    const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
    console.log(`| ${label} | ${label === "the whole worker" ? "" : kib(whole - size)} | ${kib(size)} |`);
  }
} finally {
  run("git", ["worktree", "remove", "--force", dir], ROOT);
  rmSync(dir, { recursive: true, force: true });
}
