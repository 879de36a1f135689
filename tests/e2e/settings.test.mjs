// Settings written in wrangler.toml as numbers, booleans, lists or tables. The worker must read
// the first three as they plainly mean and report the last by name: falling back to a default
// would quietly lift a size or type limit.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { postJson, ROOT, startAll, startS3, startWorker, stopAll } from "./harness.mjs";

const fixture = (name) => join(ROOT, "tests/e2e/fixtures", name);
let s3;
let typed;
let table;
let empty;

before(async () => {
  s3 = await startS3();
  // Only the bucket, endpoint and secrets come from --var/--env-file; the rest from the file.
  const base = { S3_FORCE_PATH_STYLE: undefined };
  [typed, table, empty] = await startAll([
    () => startWorker(s3, base, { config: fixture("typed-vars.wrangler.toml") }),
    () => startWorker(s3, base, { config: fixture("table-var.wrangler.toml") }),
    () => startWorker(s3, base, { config: fixture("empty-lists.wrangler.toml") }),
  ]);
});

after(async () => {
  await Promise.all([typed?.stop(), table?.stop(), empty?.stop()]);
  await s3?.stop();
  await stopAll();
});

test("a TOML number is the size limit", async () => {
  const tooBig = await postJson(`${typed.url}/uploads`, { file_name: "a.png", size: 1001 });
  assert.equal(tooBig.status, 413, tooBig.text);
  assert.equal(tooBig.body.error.code, "file_too_large");
  const ok = await postJson(`${typed.url}/uploads`, { file_name: "a.png" });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.max_bytes, 1000);
});

test("a TOML number is the form lifetime", async () => {
  const { body } = await postJson(`${typed.url}/uploads`, { file_name: "a.png" });
  const seconds = (Date.parse(body.expires_at) - Date.now()) / 1000;
  assert.ok(seconds > 50 && seconds <= 60, `expires in ${seconds} s`);
});

test("a TOML list is the type allow-list", async () => {
  const html = await postJson(`${typed.url}/uploads`, { file_name: "a.html", content_type: "text/html" });
  assert.equal(html.status, 415, html.text);
  const pdf = await postJson(`${typed.url}/uploads`, { file_name: "report.pdf" });
  assert.equal(pdf.body.fields["Content-Type"], "application/pdf");
});

test("a TOML boolean switches the demo page on", async () => {
  const page = await fetch(`${typed.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /text\/html/);
  assert.match(await page.text(), /<html/i);
});

test("a TOML table or fraction is reported by name and no form is issued", async () => {
  const health = await fetch(`${table.url}/healthz`);
  assert.equal(health.status, 503);
  const body = await health.json();
  assert.deepEqual(body.misconfigured, ["UPLOAD_MAX_BYTES", "UPLOAD_EXPIRES_SECONDS"]);
  const form = await postJson(`${table.url}/uploads`, { file_name: "a.png" });
  assert.equal(form.status, 500);
  assert.equal(form.body.error.code, "misconfigured");
  assert.match(form.body.error.message, /UPLOAD_MAX_BYTES/);
});

test("an empty list or an empty item is reported by name, never read as 'anything'", async () => {
  const health = await fetch(`${empty.url}/healthz`);
  assert.equal(health.status, 503);
  const body = await health.json();
  assert.deepEqual(body.misconfigured, ["UPLOAD_ALLOWED_TYPES", "UPLOAD_INLINE_TYPES"]);
  const res = await postJson(`${empty.url}/uploads`, { file_name: "x.html" });
  assert.equal(res.status, 500);
  assert.equal(res.body.error.code, "misconfigured");
});
