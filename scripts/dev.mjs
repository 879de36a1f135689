// Starts the local development stack and keeps it running until Ctrl-C (see scripts/dev.sh).
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startS3, startWorker, stopAll } from "./stack.mjs";
import { startReceiver } from "./webhook-receiver.mjs";

const workerPort = Number(process.env.WORKER_PORT ?? 8787);
const webhookPort = Number(process.env.WEBHOOK_PORT ?? 8790);
const s3Port = Number(process.env.S3_PORT ?? 9000);
const bucket = "edge-presign-dev"; // S3_BUCKET in wrangler.toml

// Development credentials, made once: the local S3 accepts them and wrangler gives them to
// the worker. They protect nothing but this machine's loopback S3.
const devVars = join(ROOT, ".dev.vars");
if (!existsSync(devVars)) {
  writeFileSync(
    devVars,
    `# Written by scripts/dev.mjs for the local S3 only. See .dev.vars.example.\n` +
      `AWS_ACCESS_KEY_ID=LOCALDEV${randomBytes(6).toString("hex").toUpperCase()}\n` +
      `AWS_SECRET_ACCESS_KEY=${randomBytes(30).toString("base64url")}\n`,
    { mode: 0o600 },
  );
}
// A Standard Webhooks secret for the local receiver of upload.completed events, made once.
if (!/^UPLOAD_WEBHOOK_SECRET=/m.test(readFileSync(devVars, "utf8"))) {
  appendFileSync(devVars, `UPLOAD_WEBHOOK_SECRET=whsec_${randomBytes(32).toString("base64")}\n`);
}
const vars = Object.fromEntries(
  readFileSync(devVars, "utf8")
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim()]),
);

// The local S3 takes its credentials on its command line (visible to `ps`): never real ones.
if (/^(AKIA|ASIA)/.test(vars.AWS_ACCESS_KEY_ID ?? "") || !vars.AWS_SECRET_ACCESS_KEY) {
  console.error(
    ".dev.vars must hold local development credentials for scripts/dev.sh, not real AWS keys.\n" +
      "Delete it to have new local ones made, and see .dev.vars.example for using a real bucket.",
  );
  process.exit(1);
}

let receiver;
const shutdown = async () => {
  console.log("\nstopping…");
  await receiver?.stop();
  await stopAll();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

try {
  const s3 = await startS3({
    bucket,
    dir: join(ROOT, ".local/s3"),
    port: s3Port,
    accessKey: vars.AWS_ACCESS_KEY_ID,
    secretKey: vars.AWS_SECRET_ACCESS_KEY,
    cors: true,
  });
  // The shipped wrangler.toml, rate limiter included.
  // Every other secret in .dev.vars (UPLOAD_AUTH_SECRET, say) goes to the worker too.
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...secrets } = vars;
  // Every verified upload's event, verified again here and printed as it arrives.
  receiver = await startReceiver({ secret: vars.UPLOAD_WEBHOOK_SECRET, port: webhookPort });
  const worker = await startWorker(s3, { DEMO_PAGE: "true", UPLOAD_WEBHOOK_URL: receiver.url }, {
    port: workerPort, echo: true, config: join(ROOT, "wrangler.toml"), secrets,
  });
  console.log(`
  edge-presign is running.

    worker (endpoint)  ${worker.url}
    demo page          ${worker.url}/
    React example      ${worker.url}/examples/react/   (progress, Abort, the worker's codes)
    Uppy example       ${worker.url}/examples/uppy/    (Dashboard, restricted by GET /uploads/limits)
    local S3           ${s3.url}/${bucket}   (objects under .local/s3/${bucket}/)
    webhook receiver   ${receiver.url}   (prints each upload.completed event, verified)

  Ask for an upload form:

    curl -s -X POST ${worker.url}/uploads \\
      -H 'Content-Type: application/json' \\
      -d '{"file_name": "hello.txt", "content_type": "text/plain"}'

  Then post its "fields" and the file (last, as "file") to its "url"; README.md and docs/api.md show how.
  POST /uploads/complete {"key": …} (or a multipart upload from the demo page) prints its event here.
  What the worker signs (sizes, types, method): curl -s ${worker.url}/uploads/limits
  Ctrl-C stops everything.
`);
} catch (error) {
  console.error(`could not start the stack: ${error.message}`);
  await receiver?.stop();
  await stopAll();
  process.exit(1);
}
