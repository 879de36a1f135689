// The measuring half of bench/run (which installs everything first). Prints Markdown.
import { execFileSync, spawn } from "node:child_process";
import { cpus } from "node:os";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, resolve } from "node:path";
import { freePort, ROOT } from "../scripts/stack.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = process.env.DURATION ?? "5s";
const OUT = join(ROOT, "bench/out");
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: ROOT, encoding: "utf8", ...opts });
const benchLines = (text) =>
  Object.fromEntries([...text.matchAll(/^BENCH (\S+) ([\d.]+)$/gm)].map((m) => [m[1], Number(m[2])]));
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtNs = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} µs`);
const fmtInt = (n) => Math.round(n).toLocaleString("en-US");

rmSync(join(OUT, "workerd"), { recursive: true, force: true });
mkdirSync(join(OUT, "workerd"), { recursive: true });

// 1. Native signing core.
const native = benchLines(run("cargo", ["bench", "--quiet", "--bench", "presign"], { stdio: ["ignore", "pipe", "inherit"] }));
// 2. The SDKs per call, same inputs.
const sdk = benchLines(run("node", ["bench/per-call-sdk.mjs"]));
const boto = benchLines(run("python3", ["bench/per_call_boto3.py"], { env: { ...process.env, PYTHONPATH: join(ROOT, "bench/out/python") } }));

// 3. Bundles: ours as wrangler would upload it; the SDK worker bundled and minified.
const ourDir = join(OUT, "workerd/ours");
const dryRun = run("wrangler", ["deploy", "--dry-run", "--outdir", ourDir], { stdio: ["ignore", "pipe", "pipe"] });
const wranglerLine = dryRun.match(/Total Upload: .*/)?.[0] ?? "(no size line)";
const esbuild = join(ROOT, "node_modules/.bin/esbuild");
const bundle = (src, out) =>
  run(esbuild, [src, "--bundle", "--minify", "--format=esm", "--platform=browser", "--conditions=workerd,worker,browser", "--target=es2022", `--outfile=${out}`, "--log-level=warning"]);
bundle("bench/workers/sdk-worker.mjs", join(OUT, "workerd/sdk.js"));
bundle("bench/workers/trivial-worker.mjs", join(OUT, "workerd/trivial.js"));
const sizes = (files) => files.reduce((acc, f) => {
  const bytes = readFileSync(f);
  return { raw: acc.raw + bytes.length, gzip: acc.gzip + gzipSync(bytes, { level: 9 }).length };
}, { raw: 0, gzip: 0 });
const ourModules = readdirSync(ourDir).filter((f) => f.endsWith(".js") || f.endsWith(".wasm"));
const ourSize = sizes(ourModules.map((f) => join(ourDir, f)));
const sdkSize = sizes([join(OUT, "workerd/sdk.js")]);

// 4. One workerd, three workers on three loopback ports.
const compatibilityDate = readFileSync(join(ROOT, "wrangler.toml"), "utf8").match(/compatibility_date\s*=\s*"([^"]+)"/)[1];
const settings = {
  S3_BUCKET: "photos", S3_REGION: "us-east-1", S3_FORCE_PATH_STYLE: "false", UPLOAD_PREFIX: "uploads/",
  UPLOAD_MAX_BYTES: "10485760", UPLOAD_EXPIRES_SECONDS: "600", UPLOAD_ALLOWED_TYPES: "", ALLOWED_ORIGINS: "",
  DEMO_PAGE: "false", AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const bindings = Object.entries(settings).map(([k, v]) => `(name = "${k}", text = "${v}")`).join(", ");
const ports = { ours: await freePort(), sdk: await freePort(), trivial: await freePort() };
const modules = ourModules.filter((f) => !f.endsWith(".map")).map((f) =>
  f.endsWith(".wasm") ? `(name = "${f}", wasm = embed "ours/${f}")` : `(name = "${f}", esModule = embed "ours/${f}")`);
// The entry module first: workerd runs the first module's default export.
modules.sort((a) => (a.includes('"shim.js"') ? -1 : 1));
writeFileSync(join(OUT, "workerd/config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "ours", worker = (modules = [${modules.join(", ")}], compatibilityDate = "${compatibilityDate}", bindings = [${bindings}])),
    (name = "sdk", worker = (modules = [(name = "sdk.js", esModule = embed "sdk.js")], compatibilityDate = "${compatibilityDate}", bindings = [${bindings}])),
    (name = "trivial", worker = (modules = [(name = "trivial.js", esModule = embed "trivial.js")], compatibilityDate = "${compatibilityDate}")),
  ],
  sockets = [
    (name = "ours", address = "127.0.0.1:${ports.ours}", http = (), service = "ours"),
    (name = "sdk", address = "127.0.0.1:${ports.sdk}", http = (), service = "sdk"),
    (name = "trivial", address = "127.0.0.1:${ports.trivial}", http = (), service = "trivial"),
  ],
);
`);
const workerd = spawn(join(ROOT, "node_modules/.bin/workerd"), ["serve", join(OUT, "workerd/config.capnp")], {
  cwd: join(OUT, "workerd"), stdio: ["ignore", "pipe", "pipe"], detached: true,
});
let workerdLog = "";
workerd.stdout.on("data", (d) => (workerdLog += d));
workerd.stderr.on("data", (d) => (workerdLog += d));
const stop = () => { try { process.kill(-workerd.pid, "SIGTERM"); } catch { /* gone */ } };
process.on("exit", stop);

const body = JSON.stringify({ file_name: "holiday photo.JPG", content_type: "image/jpeg", size: 123456 });
const expectShape = {
  ours: (j) => j.fields?.["x-amz-signature"] && j.key?.startsWith("uploads/"),
  sdk: (j) => j.fields?.["X-Amz-Signature"] && j.key?.startsWith("uploads/"),
  trivial: (j) => j.key === "holiday photo.JPG",
};
for (const [name, port] of Object.entries(ports)) {
  let answer;
  for (let i = 0; i < 100 && !answer; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/uploads`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      answer = { status: res.status, json: await res.json() };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (answer?.status !== 200 || !expectShape[name](answer.json)) {
    stop();
    throw new Error(`${name} worker did not answer a form: ${JSON.stringify(answer)}\n${workerdLog}`);
  }
}

function wrk(port) {
  const out = run("wrk", ["-t1", "-c16", `-d${DURATION}`, "--latency", "-s", "bench/post.lua", `http://127.0.0.1:${port}/uploads`]);
  const ms = (label) => {
    const m = out.match(new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, "m"));
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (errors) throw new Error(`wrk saw ${errors[1]} failed responses:\n${out}`);
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]), p50: ms(50), p99: ms(99) };
}
const results = { ours: [], sdk: [], trivial: [] };
try {
  for (const port of Object.values(ports)) run("wrk", ["-t1", "-c16", "-d2s", "-s", "bench/post.lua", `http://127.0.0.1:${port}/uploads`]); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(ports)) results[name].push(wrk(ports[name]));
  }
} finally {
  stop();
}
const med = Object.fromEntries(Object.entries(results).map(([name, rs]) => [name, {
  rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)),
}]));

const rustc = run("rustc", ["--version"]).trim();
const cpu = cpus()[0]?.model ?? "unknown CPU";
const lines = [
  `### bench/run, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
  "",
  `${cpus().length} cores (${cpu}), ${run("uname", ["-m"]).trim()}, ${rustc}, workerd ${run(join(ROOT, "node_modules/.bin/workerd"), ["--version"]).trim().replace("workerd ", "")}, wrk -t1 -c16, ${ROUNDS} alternated rounds of ${DURATION}, medians.`,
  "",
  "**Native signing core** (`cargo bench`, release profile as the wasm is built: opt-level z)",
  "",
  "| case | time per call | vs crypto floor |",
  "|---|---|---|",
  `| crypto floor: one HMAC of a same-size base64 policy + hex | ${fmtNs(native.crypto_floor)} | 1 |`,
  `| one form, day's key cached | ${fmtNs(native.form_cached)} | ${ratio(native.form_cached, native.crypto_floor)} |`,
  `| one form, key derived first | ${fmtNs(native.form_uncached)} | ${ratio(native.form_uncached, native.crypto_floor)} |`,
  `| JSON request body → JSON response | ${fmtNs(native.json_to_json)} | ${ratio(native.json_to_json, native.crypto_floor)} |`,
  "",
  "**The SDKs per call, same inputs** (ratio: how many of our native forms fit in one of theirs)",
  "",
  "| signer | time per call | vs ours (cached key) |",
  "|---|---|---|",
  `| edge-presign, native | ${fmtNs(native.form_cached)} | 1 |`,
  `| \`@aws-sdk/s3-presigned-post\` \`createPresignedPost\`, Node ${process.versions.node} | ${fmtNs(sdk.sdk_per_call)} | ${ratio(sdk.sdk_per_call, native.form_cached)} |`,
  `| boto3 ${"1.44.8"} \`generate_presigned_post\`, ${run("python3", ["--version"]).trim()} | ${fmtNs(boto.boto3_per_call)} | ${ratio(boto.boto3_per_call, native.form_cached)} |`,
  "",
  "**One workerd, `POST /uploads`**",
  "",
  "| worker | requests/s | p50 | p99 | vs JS SDK worker | vs trivial floor |",
  "|---|---|---|---|---|---|",
  ...[["edge-presign (this build)", "ours"], ["JS worker with `@aws-sdk/s3-presigned-post`", "sdk"], ["trivial JS worker (parse JSON, answer)", "trivial"]].map(
    ([label, k]) => `| ${label} | ${fmtInt(med[k].rps)} | ${med[k].p50.toFixed(2)} ms | ${med[k].p99.toFixed(2)} ms | ${ratio(med[k].rps, med.sdk.rps)} | ${(100 * med[k].rps / med.trivial.rps).toFixed(0)} % |`),
  "",
  "**Bundles**",
  "",
  "| bundle | raw | gzip -9 |",
  "|---|---|---|",
  `| edge-presign (wasm + JS glue, from \`wrangler deploy --dry-run\`) | ${fmtInt(ourSize.raw)} B | ${fmtInt(ourSize.gzip)} B |`,
  `| JS SDK worker (esbuild, minified) | ${fmtInt(sdkSize.raw)} B | ${fmtInt(sdkSize.gzip)} B |`,
  "",
  `wrangler: \`${wranglerLine.trim()}\``,
  "",
];
const markdown = lines.join("\n");
writeFileSync(join(OUT, "latest.md"), markdown);
console.log(markdown);
