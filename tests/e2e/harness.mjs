// Starts a real local S3 (s3s-fs, which verifies POST signatures and policies) and the worker
// under `wrangler dev`, each on a free loopback port with fresh credentials, and stops them
// again. Every test file calls startStack() in before() and stack.stop() in after().
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const live = new Set();

// Last resort if a test process dies without running its after() hooks.
process.on("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});

export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Spawns `command` in its own process group, collecting its output. */
function launch(name, command, args, options = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", ...options.env },
  });
  const proc = { name, child, output: "" };
  const collect = (chunk) => {
    proc.output += chunk.toString();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  live.add(child);
  child.on("exit", () => live.delete(child));
  return proc;
}

/** Stops every process this test file started (for after() hooks, even after failures). */
export async function stopAll() {
  await Promise.all([...live].map((child) => stopProcess({ child })));
}

/**
 * Starts the given stack pieces together; if one fails, stops those that did start before
 * rethrowing, so a failed before() never leaves servers running.
 */
export async function startAll(starters) {
  const results = await Promise.allSettled(starters.map((start) => start()));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(results.filter((r) => r.status === "fulfilled").map((r) => r.value.stop()));
    throw failed.reason;
  }
  return results.map((r) => r.value);
}

async function stopProcess(proc) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((r) => proc.child.once("exit", r));
  killGroup(proc.child, "SIGTERM");
  const timer = setTimeout(() => killGroup(proc.child, "SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(description, proc, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited early (${proc.child.exitCode}):\n${proc.output.slice(-4000)}`);
    }
    try {
      if (await probe()) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${description}:\n${proc.output.slice(-4000)}`);
}

/** Starts s3s-fs with one bucket; returns its URL, credentials and on-disk root. */
export async function startS3({ bucket = "uploads-test" } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "edge-presign-s3-"));
  await mkdir(join(dir, bucket));
  const port = await freePort();
  const accessKey = `AK${randomBytes(8).toString("hex").toUpperCase()}`;
  const secretKey = randomBytes(24).toString("base64url");
  const proc = launch("s3s-fs", "s3s-fs", [
    "--host", "127.0.0.1", "--port", String(port),
    "--access-key", accessKey, "--secret-key", secretKey, dir,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor("s3s-fs", proc, async () => (await fetch(url)).status > 0, 30_000);
  return {
    url, bucket, accessKey, secretKey, dir, proc,
    /** The stored bytes of an object, or null when there is none. */
    async readObject(key) {
      try {
        return await readFile(join(dir, bucket, key));
      } catch {
        return null;
      }
    },
    async stop() {
      await stopProcess(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the worker under `wrangler dev` pointed at `s3`. `vars` override settings; secrets
 * go through an env file so they never appear on a command line.
 */
export async function startWorker(s3, vars = {}) {
  const dir = await mkdtemp(join(tmpdir(), "edge-presign-worker-"));
  const envFile = join(dir, "secrets.env");
  await writeFile(
    envFile,
    `AWS_ACCESS_KEY_ID=${s3.accessKey}\nAWS_SECRET_ACCESS_KEY=${s3.secretKey}\n`,
    { mode: 0o600 },
  );
  const settings = {
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.url,
    S3_FORCE_PATH_STYLE: "true",
    ...vars,
  };
  const port = await freePort();
  const inspectorPort = await freePort(); // the default 9229 would clash between instances
  const args = [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
    "--env-file", envFile, "--persist-to", join(dir, "state"),
    "--show-interactive-dev-session=false", "--log-level", "log",
  ];
  for (const [name, value] of Object.entries(settings)) args.push("--var", `${name}:${value}`);
  const proc = launch("wrangler dev", "wrangler", args);
  const url = `http://127.0.0.1:${port}`;
  await waitFor("wrangler dev", proc, async () => (await fetch(`${url}/healthz`)).status > 0, 240_000);
  return {
    url, proc,
    /** Everything wrangler and the worker printed so far. */
    logs: () => proc.output,
    async stop() {
      await stopProcess(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs JSON to the worker; returns {status, headers, body (parsed JSON or text)}. */
export async function postJson(url, value, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof value === "string" ? value : JSON.stringify(value),
  });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, headers: response.headers, body, text };
}

/**
 * Uploads as a browser does: every field in order, then the file last as `file`.
 * The multipart body is encoded first and sent in one write on a fresh connection: a server
 * that refuses a form after reading its fields may close the socket before reading the file,
 * and a streamed body would then fail with EPIPE instead of showing us the refusal.
 */
export async function uploadWithForm(form, bytes, { fileName = "file.bin", type = "application/octet-stream", fields } = {}) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields ?? form.fields)) data.append(name, value);
  data.append("file", new Blob([bytes], { type }), fileName);
  const encoded = new Request(form.url, { method: "POST", body: data });
  const body = Buffer.from(await encoded.arrayBuffer());
  return new Promise((resolveUpload, reject) => {
    const request = httpRequest(form.url, {
      method: "POST",
      agent: false,
      headers: { "Content-Type": encoded.headers.get("content-type"), "Content-Length": body.length },
    });
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolveUpload({ status: response.statusCode, text }));
    });
    // After a response, a write error only means the server stopped reading early.
    request.on("error", (error) => (request.res ? undefined : reject(error)));
    request.end(body);
  });
}
