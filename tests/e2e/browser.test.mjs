// A person uploads from a real browser: headless Chromium opens the demo page the worker
// serves, picks files, and the page uploads them cross-origin to the local S3 (s3s-fs behind
// its CORS front), with progress, exactly as it would against a bucket with a CORS rule.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, startS3, startWorker, stopAll } from "./harness.mjs";

const OUTPUT = join(process.env.TEST_OUTPUT ?? join(ROOT, "test-output"), "browser");
const MAX_BYTES = 1_000_000;

let s3;
let worker;
let browser;
let page;

before(async () => {
  s3 = await startS3({ cors: true });
  worker = await startWorker(s3, { DEMO_PAGE: "true", UPLOAD_MAX_BYTES: String(MAX_BYTES) });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await mkdir(OUTPUT, { recursive: true });
});

after(async () => {
  if (page) await page.screenshot({ path: join(OUTPUT, "demo-final.png"), fullPage: true }).catch(() => {});
  await browser?.close();
  await worker?.stop();
  await s3?.stop();
  await stopAll();
});

test("two files chosen in the page upload to the bucket byte for byte", async () => {
  await page.goto(`${worker.url}/`);
  assert.equal(await page.title(), "edge-presign demo");
  const small = Buffer.from("hello from a real browser\n");
  const large = randomBytes(600 * 1024);
  await page.setInputFiles("#file-input", [
    { name: "notes.txt", mimeType: "text/plain", buffer: small },
    { name: "holiday photo.JPG", mimeType: "image/jpeg", buffer: large },
  ]);
  const done = page.locator('[data-testid="upload-item"][data-state="done"]');
  await done.nth(1).waitFor({ timeout: 60_000 });
  assert.equal(await done.count(), 2);

  const keys = await page.locator('[data-testid="upload-key"]').allTextContents();
  assert.equal(keys.length, 2);
  const byName = Object.fromEntries(keys.map((k) => [k.trim().split("/").pop(), k.trim()]));
  assert.deepEqual(Object.keys(byName).sort(), ["holiday-photo.jpg", "notes.txt"]);
  assert.ok((await s3.readObject(byName["notes.txt"])).equals(small), "small file stored intact");
  assert.ok((await s3.readObject(byName["holiday-photo.jpg"])).equals(large), "600 KB file stored intact");

  const progress = page.locator('[data-testid="upload-item"][data-state="done"] progress');
  for (const bar of await progress.all()) {
    assert.equal(await bar.getAttribute("value"), await bar.getAttribute("max"), "progress reached the end");
  }
  await page.screenshot({ path: join(OUTPUT, "demo-uploaded.png"), fullPage: true });
});

test("a file over the limit shows a readable error and stores nothing", async () => {
  const before = (await s3.listObjects()).length;
  await page.setInputFiles("#file-input", [
    { name: "too big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(MAX_BYTES + 1) },
  ]);
  const failed = page.locator('[data-testid="upload-item"][data-state="error"]');
  await failed.first().waitFor({ timeout: 30_000 });
  const message = await failed.first().locator('[data-testid="upload-error"]').textContent();
  assert.match(message, /too large/i);
  assert.match(message, /too big\.bin/);
  assert.equal((await s3.listObjects()).length, before, "no object was added");
  await page.screenshot({ path: join(OUTPUT, "demo-too-large.png"), fullPage: true });
});

test("client.js uploadFiles: one batch call for the forms, then every file lands", async () => {
  const answer = await page.evaluate(async () => {
    const { uploadFiles } = await import("/client.js");
    const files = [
      new File(["alpha bytes"], "a.txt", { type: "text/plain" }),
      new File([new Uint8Array(2000).fill(7)], "b.bin"),
    ];
    const progressFor = new Set();
    const results = await uploadFiles(files, { onProgress: (index) => progressFor.add(index) });
    return {
      results: results.map((r) => (r.status === "fulfilled" ? { ok: true, key: r.value.key } : { ok: false, code: r.reason.code })),
      progressFor: [...progressFor].sort(),
    };
  });
  assert.deepEqual(answer.results.map((r) => r.ok), [true, true], JSON.stringify(answer));
  assert.deepEqual(answer.progressFor, [0, 1]);
  assert.equal((await s3.readObject(answer.results[0].key)).toString(), "alpha bytes");
  assert.ok((await s3.readObject(answer.results[1].key)).equals(Buffer.alloc(2000, 7)));
});

test("client.js uploadFiles: a bad entry fails the batch with its index and uploads nothing", async () => {
  const before = (await s3.listObjects()).length;
  const error = await page.evaluate(async (max) => {
    const { uploadFiles } = await import("/client.js");
    const files = [new File(["fine"], "ok.txt"), new File([new Uint8Array(max + 1)], "huge.bin")];
    try {
      await uploadFiles(files);
      return null;
    } catch (e) {
      return { name: e.name, code: e.code, source: e.source, status: e.status, details: e.details };
    }
  }, MAX_BYTES);
  assert.equal(error?.name, "UploadError");
  assert.equal(error.code, "invalid_batch");
  assert.equal(error.source, "worker");
  assert.equal(error.status, 400);
  assert.deepEqual(error.details.map((d) => [d.index, d.code]), [[1, "file_too_large"]]);
  assert.equal((await s3.listObjects()).length, before);
});

test("the demo page uploads with PUT through the CORS front, and downloads it back", async () => {
  const name = "Café résumé © 2026 — 履歴書.pdf";
  const bytes = randomBytes(300 * 1024);
  await page.selectOption("#method", "PUT");
  await page.setInputFiles("#file-input", [{ name, mimeType: "application/pdf", buffer: bytes }]);
  const done = page.locator('[data-testid="upload-item"][data-state="done"]').filter({ hasText: "履歴書" });
  await done.first().waitFor({ timeout: 60_000 });
  const key = (await done.first().locator('[data-testid="upload-key"]').textContent()).trim();
  assert.match(key, /^uploads\/[0-9a-f-]{36}\/Café-résumé-2026-履歴書\.pdf$/);
  assert.ok((await s3.readObject(key)).equals(bytes), "PUT stored the bytes intact");
  const bar = done.first().locator("progress");
  assert.equal(await bar.getAttribute("value"), await bar.getAttribute("max"), "PUT progress reached the end");

  // The page's download link asks the worker for a presigned GET; the browser fetches it
  // cross-origin from the bucket and gets the same bytes.
  const link = done.first().locator(".download");
  assert.equal(await link.getAttribute("data-key"), key);
  const downloaded = await page.evaluate(async (key) => {
    const { downloadUrl } = await import("/client.js");
    const { url, expiresAt } = await downloadUrl(key);
    const response = await fetch(url);
    return { status: response.status, expiresAt: String(expiresAt), bytes: [...new Uint8Array(await response.arrayBuffer())] };
  }, key);
  assert.equal(downloaded.status, 200);
  assert.ok(Buffer.from(downloaded.bytes).equals(bytes), "downloaded bytes are identical");
  await page.screenshot({ path: join(OUTPUT, "demo-put.png"), fullPage: true });
  await page.selectOption("#method", "");
});

test("client.js checksum: true sends the SHA-256 the store verifies, with POST and with PUT", async () => {
  const answer = await page.evaluate(async () => {
    const { uploadFile } = await import("/client.js");
    const file = new File([new Uint8Array(50_000).fill(3)], "summed.bin", { type: "application/octet-stream" });
    const out = {};
    for (const method of ["POST", "PUT"]) {
      try {
        const result = await uploadFile(file, { method, checksum: true });
        out[method] = { ok: true, key: result.key };
      } catch (e) {
        out[method] = { ok: false, code: e.code, message: e.message };
      }
    }
    return out;
  });
  for (const method of ["POST", "PUT"]) {
    assert.ok(answer[method].ok, `${method}: ${JSON.stringify(answer[method])}`);
    assert.ok((await s3.readObject(answer[method].key)).equals(Buffer.alloc(50_000, 3)));
  }
});

test("client.js token: Authorization: Bearer on every request to the worker, never to the bucket", async () => {
  const seen = [];
  const record = (request) => seen.push({ url: request.url(), method: request.method(), auth: request.headers().authorization });
  page.on("request", record);
  let answer;
  try {
    answer = await page.evaluate(async () => {
      const { uploadFile, uploadFiles, downloadUrl } = await import("/client.js");
      let calls = 0;
      const one = await uploadFile(new File(["one"], "one.txt"), { token: "static-token" });
      const [two] = await uploadFiles([new File(["two"], "two.txt")], { token: async () => `refreshed-${++calls}` });
      const three = await uploadFile(new File(["three"], "three.txt"), { method: "PUT", token: () => "sync-token" });
      await downloadUrl(one.key, { token: () => "download-token" });
      return { keys: [one.key, two.value?.key, three.key], calls };
    });
  } finally {
    page.off("request", record);
  }
  assert.equal(answer.calls, 1);
  for (const key of answer.keys) assert.ok(await s3.readObject(key), `${key} stored`);
  const toWorker = seen.filter((r) => r.url.startsWith(worker.url) && !r.url.endsWith("/client.js"));
  assert.deepEqual(toWorker.map((r) => [r.method, new URL(r.url).pathname.split("/")[1], r.auth]), [
    ["POST", "uploads", "Bearer static-token"],
    ["POST", "uploads", "Bearer refreshed-1"],
    ["POST", "uploads", "Bearer sync-token"],
    ["GET", "downloads", "Bearer download-token"],
  ]);
  const toBucket = seen.filter((r) => r.url.startsWith(s3.url));
  assert.deepEqual(toBucket.map((r) => [r.method, r.auth]), [["POST", undefined], ["POST", undefined], ["PUT", undefined]]);
});

test("client.js: 401 is unauthorized, 429 is rate_limited with Retry-After, a failing token function is token_unavailable", async () => {
  // Answers played here whatever their bodies say (the worker runs without auth in this file;
  // auth.test.mjs meets the real ones): the client keys on the status alone.
  const answers = [
    { status: 401, headers: {}, body: { error: { code: "invalid_token", message: "the token has expired" } } },
    { status: 401, headers: {}, body: "" },
    { status: 429, headers: { "Retry-After": "7" }, body: { error: { code: "too_many", message: "slow down" } } },
    { status: 429, headers: { "Retry-After": new Date(Date.now() + 60_000).toUTCString() }, body: {} },
    { status: 429, headers: {}, body: "" },
  ];
  let next = 0;
  await page.route(`${worker.url}/{uploads,downloads/**}`, (route) => {
    const { status, headers, body } = answers[next++ % answers.length];
    return route.fulfill({ status, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  });
  try {
    const errors = await page.evaluate(async (count) => {
      const { uploadFile, uploadFiles, downloadUrl } = await import("/client.js");
      const file = new File(["x"], "x.txt");
      const calls = [
        () => uploadFile(file, { token: "t" }),
        () => downloadUrl("uploads/00000000-0000-4000-8000-000000000000/x.txt", { token: "t" }),
        () => uploadFiles([file], { token: "t" }),
        () => uploadFile(file, { token: "t" }),
        () => uploadFile(file, { token: "t" }),
        () => uploadFile(file, { token: async () => { throw new Error("not signed in"); } }),
      ];
      const out = [];
      for (const call of calls.slice(0, count)) {
        try {
          await call();
          out.push(null);
        } catch (e) {
          out.push({ name: e.name, code: e.code, status: e.status, source: e.source, message: e.message, retryAfter: e.retryAfter });
        }
      }
      return out;
    }, answers.length + 1);
    assert.deepEqual(errors.map((e) => [e.name, e.code, e.status, e.source]), [
      ["UploadError", "unauthorized", 401, "worker"],
      ["UploadError", "unauthorized", 401, "worker"],
      ["UploadError", "rate_limited", 429, "worker"],
      ["UploadError", "rate_limited", 429, "worker"],
      ["UploadError", "rate_limited", 429, "worker"],
      ["UploadError", "token_unavailable", 0, "client"],
    ]);
    assert.equal(errors[0].message, "the token has expired", "the worker's message is kept");
    assert.match(errors[1].message, /401/);
    assert.equal(errors[2].retryAfter, 7);
    assert.ok(errors[3].retryAfter > 50 && errors[3].retryAfter <= 61, `an HTTP date: ${errors[3].retryAfter}`);
    assert.equal(errors[4].retryAfter, undefined);
    assert.match(errors[5].message, /not signed in/);
    assert.equal(next, answers.length, "the failing token function sent nothing");
  } finally {
    await page.unrouteAll({ behavior: "ignoreErrors" });
  }
});

test("the worker never logged its secret", () => {
  assert.ok(!worker.logs().includes(s3.secretKey));
});
