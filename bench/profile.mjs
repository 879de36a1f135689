// Where a request's time goes: one workerd serving one build of the worker, wrk on POST
// /uploads, and workerd's V8 CPU profiler (over its inspector) sampling meanwhile. Prints the
// self time of the hottest functions, and the time per group of them (the stage table in
// docs/measured.md), in µs per request.
//   node bench/profile.mjs <workerd> <outdir> [seconds] [KEY=VALUE settings…]
//   node bench/profile.mjs <workerd> <outdir> first   only the first request after start-up
// <outdir>: a `wrangler deploy --dry-run --outdir` directory. For function names in the wasm,
// build it with PROFILE_NAMES=1 bash scripts/build.sh (keeps the name section).
import { spawn, execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

// Stages of a request, by the functions that do them (wasm names need PROFILE_NAMES=1). Self
// time only: a function's callees count in their own stage.
const STAGES = [
  ["the audit line (`console.log`)", /__wbg_log\b|^log\b/],
  ["body read (`arrayBuffer`)", /arrayBuffer/],
  ["JSON parse (serde_json / the hand-written reader)", /serde_json::de|json::Parser|json::parse|edge_presign::json::Value/],
  ["answer and policy JSON written", /serde_json::ser|json::push_|json::Object|json::list|serde_json::to_string/],
  ["SHA-256 and HMAC (signing)", /sha2::|hmac::|digest::|hex::|sigv4::/],
  ["presigning: settings, policy, key, pins", /edge_presign::(presign|policy|form|object_url|key|media_type|config|api)::/],
  ["randomness", /getRandomValues|crypto::random/],
  ["routing, CORS, auth, shell", /edge_presign::(shell|routes|auth|origin|audit|rate_limit)/],
  ["`Headers` and `Response`", /^(Response|Headers|get|set|headers)\b|__wbg_(new|set|get|headers|method|url|status)\b|__wbg_instanceof_Response/],
  ["executor: promises, microtasks, the boundary", /wasm_bindgen_futures|js_sys::futures|queueMicrotask|__wbg_queueMicrotask|wasm-to-js|js-to-wasm|__wbindgen|^fetch \[js|^(then|resolve)\b|Promise|__wbg_(then|resolve|cb|call)\b/],
  ["allocator and copies", /talc::|alloc::|__rust_(alloc|realloc|dealloc)|memcpy|memmove|to_vec|core::ptr|RawVec/],
  ["garbage collector", /\(garbage collector\)/],
  ["idle (waiting for wrk)", /\(idle\)/],
  ["V8 and workerd, not attributed to a function", /\(program\)|^\(anonymous\)$|tracing/],
  ["other", /./],
];

const BENCH = dirname(fileURLToPath(import.meta.url));
// `seconds` "first": profile only the first request after start-up (the cold start's share).
const [workerd, outdir, seconds = "10", ...overrides] = process.argv.slice(2);
if (!workerd || !outdir) throw new Error("usage: node bench/profile.mjs <workerd> <outdir> [seconds] [KEY=VALUE…]");

const settings = { ...JSON.parse(readFileSync(join(BENCH, "settings.json"), "utf8")) };
for (const kv of overrides) settings[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
const compat = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(BENCH, "../wrangler.toml"), "utf8"))[1];

const dir = mkdtempSync(join(tmpdir(), "edge-presign-profile-"));
cpSync(outdir, join(dir, "ours"), { recursive: true });
const modules = [`(name = "shim.js", esModule = embed "ours/shim.js")`];
for (const f of readdirSync(join(dir, "ours"))) if (f.endsWith(".wasm")) modules.push(`(name = "${f}", wasm = embed "ours/${f}")`);
const bindings = Object.entries(settings).map(([k, v]) => `(name = "${k}", text = ${JSON.stringify(v)})`).join(", ");
writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "ours", worker = (modules = [${modules.join(", ")}], compatibilityDate = "${compat}", bindings = [${bindings}]))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "ours")],
);
`);

const inspectorPort = 9300 + Math.floor(Math.random() * 500);
const child = spawn(workerd, ["serve", join(dir, "config.capnp"), "--control-fd", "3", `--inspector-addr=127.0.0.1:${inspectorPort}`], {
  stdio: ["ignore", "ignore", "inherit", "pipe"],
});
const port = await new Promise((resolve, reject) => {
  let seen = "";
  child.stdio[3].on("data", (chunk) => {
    seen += chunk;
    const m = /"event":"listen","socket":"http".*?"port":(\d+)/.exec(seen);
    if (m) resolve(Number(m[1]));
  });
  child.on("exit", (code) => reject(new Error(`workerd exited (${code})`)));
});
const url = `http://127.0.0.1:${port}/uploads`;
const wrk = (duration) => execFileSync("wrk", ["-t1", "-c16", `-d${duration}`, "-s", join(BENCH, "post.lua"), url], { encoding: "utf8" });

if (seconds === "first") {
  try {
    const { send, close } = await inspector();
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 20 });
    await send("Profiler.start");
    const started = performance.now();
    const answer = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ file_name: "holiday photo.JPG", content_type: "image/jpeg", size: 123456 }) });
    await answer.text();
    const ms = performance.now() - started;
    const { result: { profile } } = await send("Profiler.stop");
    close();
    console.log(`first request: ${answer.status} in ${ms.toFixed(1)} ms`);
    summarise(profile, 1, "Requests/sec: 0");
  } finally {
    child.kill();
  }
  process.exit(0);
}

async function inspector() {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ours`);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (pending.has(message.id)) pending.get(message.id)(message);
  };
  const send = (method, params = {}) => new Promise((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  return { send, close: () => ws.close() };
}

try {
  wrk("2s"); // warm: the isolate, the JIT, the signing key
  const { send, close } = await inspector();
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const report = wrk(`${seconds}s`);
  const { result: { profile } } = await send("Profiler.stop");
  close();
  const requests = Number(/(\d+) requests in/.exec(report)[1]);
  summarise(profile, requests, report);
} finally {
  child.kill();
}

// wasm-bindgen's glue functions are anonymous (`__wbg_log_…: function (e) {…}`): named here by
// the import they implement, read off the bundled shim.js just before the function.
function glueName({ lineNumber, columnNumber }) {
  const before = (readFileSync(join(outdir, "shim.js"), "utf8").split("\n")[lineNumber] ?? "").slice(Math.max(0, columnNumber - 120), columnNumber);
  const names = [...before.matchAll(/(__wbg_[A-Za-z]+|__wbindgen_[A-Za-z_]+)/g)];
  return names.length ? names.at(-1)[1] : "";
}

function summarise(profile, requests, report) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const perFunction = new Map();
  let total = 0;
  for (const [nodeId, us] of self) {
    const { callFrame } = byId.get(nodeId);
    const where = callFrame.url.endsWith(".wasm") || /wasm/.test(callFrame.url) ? "wasm" : callFrame.url ? "js" : "";
    const at = where === "js" ? ` ${callFrame.url.split("/").pop()}:${callFrame.lineNumber + 1}:${callFrame.columnNumber + 1}` : "";
    const glue = where === "js" && !callFrame.functionName ? glueName(callFrame) : "";
    const name = `${callFrame.functionName || glue || "(anonymous)"}${where ? ` [${where}${at}]` : ""}`;
    perFunction.set(name, (perFunction.get(name) ?? 0) + us);
    total += us;
  }
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(report)[1];
  console.log(`${requests} requests, ${rps} req/s; ${(total / requests).toFixed(1)} µs sampled per request (idle included)`);
  const rows = [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 45);
  for (const [name, us] of rows) console.log(`${(us / requests).toFixed(2).padStart(7)} µs  ${(100 * us / total).toFixed(1).padStart(5)} %  ${name}`);
  // The stage table: each function's self time in the first stage whose pattern names it.
  const perStage = new Map(STAGES.map(([stage]) => [stage, 0]));
  for (const [name, us] of perFunction) {
    const [stage] = STAGES.find(([, pattern]) => pattern.test(name));
    perStage.set(stage, perStage.get(stage) + us);
  }
  console.log("\n| stage | µs per request | share |\n|---|---:|---:|");
  for (const [stage, us] of perStage) console.log(`| ${stage} | ${(us / requests).toFixed(1)} | ${(100 * us / total).toFixed(0)} % |`);
}
