// The local stack, used by the run command (scripts/dev.mjs) and by every end-to-end test:
// s3s-fs (a real S3 that verifies POST signatures and policies), optionally nginx in front of
// it adding the CORS a real bucket's CORS rule adds, and the worker under `wrangler dev`.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const live = new Set();

// Last resort if a process dies without running its cleanup.
process.on("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});

/** Ports this process has handed out: the OS may offer a just-closed port again at once. */
const handedOut = new Set();

export async function freePort() {
  for (;;) {
    const port = await new Promise((resolvePort, reject) => {
      const server = createServer();
      server.unref();
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address();
        server.close(() => resolvePort(port));
      });
    });
    // Servers started side by side (startAll) each ask for ports before any binds them: never
    // give two of them the same one.
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Spawns `command` in its own process group, collecting its output (and echoing if asked). */
function launch(name, command, args, { echo = false } = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  const proc = { name, child, output: "" };
  const collect = (chunk) => {
    proc.output += chunk.toString();
    if (echo) process.stdout.write(chunk);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  live.add(child);
  child.on("exit", () => live.delete(child));
  return proc;
}

async function stopProcess(proc) {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Stops every process this module started (for after() hooks, even after failures). */
export async function stopAll() {
  await Promise.all([...live].map((child) => stopProcess({ child })));
}

/**
 * Starts stack pieces together; if one fails, stops those that did start before rethrowing,
 * so a failed start never leaves servers running.
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

const answers = (url) => async () => (await fetch(url)).status > 0;

function nginxBinary() {
  return ["/usr/sbin/nginx", "/usr/bin/nginx"].find(existsSync) ?? "nginx";
}

/** nginx on `port` adding bucket-style CORS in front of `upstreamPort`. */
async function startCorsProxy(port, upstreamPort) {
  const prefix = await mkdtemp(join(tmpdir(), "edge-presign-cors-"));
  const template = await readFile(join(ROOT, "scripts/local-s3/nginx.conf.template"), "utf8");
  const config = template
    .replaceAll("__PREFIX__", prefix)
    .replaceAll("__LISTEN__", `127.0.0.1:${port}`)
    .replaceAll("__UPSTREAM__", `127.0.0.1:${upstreamPort}`);
  await writeFile(join(prefix, "nginx.conf"), config);
  const proc = launch("nginx", nginxBinary(), ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", "stderr"]);
  return { proc, prefix };
}

/**
 * Starts s3s-fs with one bucket. Fresh random credentials and a temporary directory unless
 * given. With `cors`, nginx fronts it and `url` is nginx's. Returns URL, credentials, root.
 */
export async function startS3({
  bucket = "uploads-test",
  dir,
  port,
  accessKey = `AK${randomBytes(8).toString("hex").toUpperCase()}`,
  secretKey = randomBytes(24).toString("base64url"),
  cors = false,
} = {}) {
  const temporary = !dir;
  dir ??= await mkdtemp(join(tmpdir(), "edge-presign-s3-"));
  await mkdir(join(dir, bucket), { recursive: true });
  const s3Port = cors ? await freePort() : (port ?? (await freePort()));
  const proc = launch("s3s-fs", "s3s-fs", [
    "--host", "127.0.0.1", "--port", String(s3Port),
    // `=`: a random base64url secret may start with '-', which would read as a flag.
    `--access-key=${accessKey}`, `--secret-key=${secretKey}`, dir,
  ]);
  const procs = [proc];
  let url = `http://127.0.0.1:${s3Port}`;
  const stop = async () => {
    await Promise.all(procs.map(stopProcess));
    if (temporary) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("s3s-fs", proc, answers(url), 30_000);
    if (cors) {
      const proxyPort = port ?? (await freePort());
      const proxy = await startCorsProxy(proxyPort, s3Port);
      procs.push(proxy.proc);
      url = `http://127.0.0.1:${proxyPort}`;
      await waitFor("nginx (CORS for the local S3)", proxy.proc, answers(url), 30_000);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url, bucket, accessKey, secretKey, dir,
    /** The stored bytes of an object, or null when there is none. */
    async readObject(key) {
      try {
        return await readFile(join(dir, bucket, key));
      } catch {
        return null;
      }
    },
    /** Keys of every object in the bucket. */
    async listObjects() {
      const entries = await readdir(join(dir, bucket), { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath ?? e.path, e.name).slice(join(dir, bucket).length + 1));
    },
    /**
     * Multipart uploads s3s-fs still holds (started, neither completed nor aborted), each with
     * the part numbers stored for it. s3s-fs keeps them beside the buckets, not in them:
     * `.upload-{id}.json` per upload and `.upload_id-{id}.part-{n}` per part.
     */
    async listUploads() {
      const names = await readdir(dir);
      const ids = new Set();
      for (const name of names) {
        const match = /^\.upload(?:_id)?-([0-9a-f-]{36})[.]/.exec(name);
        if (match) ids.add(match[1]);
      }
      return [...ids].map((uploadId) => ({
        uploadId,
        parts: names
          .map((name) => name.startsWith(`.upload_id-${uploadId}.part-`) && Number(name.split(".part-")[1]))
          .filter(Boolean)
          .sort((a, b) => a - b),
      }));
    },
    stop,
  };
}

/**
 * Starts the worker under `wrangler dev` pointed at `s3`. `vars` override settings; `config`
 * names another wrangler config. Secrets go through an env file, never a command line.
 */
export async function startWorker(s3, vars = {}, options = {}) {
  // A port found free can be taken before wrangler binds it (by another instance starting at
  // the same time, or by one of workerd's own ephemeral sockets): try again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(s3, vars, options);
    } catch (error) {
      const clash = /Address already in use|EADDRINUSE/.test(String(error?.message));
      if (!clash || options.port !== undefined || attempt === 3) throw error;
      console.error(`[stack] wrangler dev: a port was taken while it started (attempt ${attempt}); trying fresh ports`);
    }
  }
}

/**
 * wrangler.toml as the tests run it: the same file, with the rate limiter's limit set to
 * `limit` requests per 10 s (by default high enough never to interfere), and no [build] step
 * (the tests build once, first). Written under .wrangler/ so its relative paths still hold.
 */
async function testConfig(limit) {
  const source = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const config = source
    .replace(/^main = "/m, 'main = "../')
    .replace(/^directory = "\.\//m, 'directory = "../')
    .replace(/^\[build\]\ncommand = .*\n/m, "")
    .replace(/^simple = \{[^}]*\}/m, `simple = { limit = ${limit}, period = 10 }`);
  if (!config.includes(`limit = ${limit},`)) throw new Error("wrangler.toml has no [[ratelimits]] simple limit");
  const file = join(ROOT, ".wrangler", `test-${limit}.wrangler.toml`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, config);
  return file;
}

async function startWorkerOnce(s3, vars, { port, echo = false, config, secrets = {}, rateLimit = 1_000_000 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "edge-presign-worker-"));
  const envFile = join(dir, "secrets.env");
  // Secrets through an env file, as .dev.vars: wrangler never prints their values.
  const lines = { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, ...secrets };
  await writeFile(envFile, Object.entries(lines).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
  config ??= await testConfig(rateLimit);
  const settings = { S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.url, S3_FORCE_PATH_STYLE: "true", ...vars };
  port ??= await freePort();
  const inspectorPort = await freePort(); // the default 9229 would clash between instances
  const args = [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
    "--env-file", envFile, "--persist-to", join(dir, "state"),
    "--show-interactive-dev-session=false", "--log-level", "log",
  ];
  args.push("--config", config);
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined) args.push("--var", `${name}:${value}`); // undefined: leave it to the config
  }
  const proc = launch("wrangler dev", "wrangler", args, { echo });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcess(proc);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("wrangler dev", proc, answers(`${url}/healthz`), 240_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    /** Everything wrangler and the worker printed so far. */
    logs: () => proc.output,
    stop,
  };
}
