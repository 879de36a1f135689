// The seed's React form, finished (examples/react/, bundled by scripts/build-examples.mjs into
// web/examples/react/): headless Chromium picks a file and presses Submit, and the file goes
// through the worker's client to the local S3 behind its CORS front: progress to 100 %, the
// worker's refusals by code, and an Abort that cancels the request to the bucket.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { mintToken, postJson, ROOT, startS3, startWorker, stopAll } from "./harness.mjs";

const OUTPUT = join(process.env.TEST_OUTPUT ?? join(ROOT, "test-output"), "react");
const MAX_BYTES = 300_000;

let s3;
let worker;
let secured; // checks HS256 tokens (UPLOAD_AUTH_SECRET)
const SECRET = randomBytes(32).toString("hex");
let browser;
let page;

before(async () => {
  // The bundle of the sources as they are now (cheap, and writes nothing when unchanged).
  execFileSync(process.execPath, [join(ROOT, "scripts/build-examples.mjs")], { stdio: "inherit" });
  s3 = await startS3({ cors: true });
  worker = await startWorker(s3, { DEMO_PAGE: "true", UPLOAD_MAX_BYTES: String(MAX_BYTES) });
  secured = await startWorker(s3, { DEMO_PAGE: "true", UPLOAD_AUTH_SECRET: SECRET });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  await mkdir(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  await secured?.stop();
  await s3?.stop();
  await stopAll();
});

/** Opens the example (of `from`) afresh, picks `file` and presses Submit. */
async function submit(file, from = worker) {
  await page.goto(`${from.url}/examples/react/`);
  await page.setInputFiles('input[name="my_file"]', file);
  await page.getByRole("button", { name: "Submit" }).click();
}

test("a file chosen in the React form lands in the bucket byte for byte, its progress reaching 100 %", async () => {
  const bytes = randomBytes(200 * 1024);
  await submit({ name: "holiday photo.JPG", mimeType: "image/jpeg", buffer: bytes });
  const result = page.getByTestId("result");
  await result.waitFor({ timeout: 60_000 });
  const key = (await result.locator("code").textContent()).trim();
  assert.match(key, /^uploads\/[0-9a-f-]{36}\/holiday-photo\.jpg$/);
  assert.ok((await s3.readObject(key))?.equals(bytes), "stored bytes are the file's");
  assert.equal(await page.getByTestId("progress").textContent(), `${bytes.length} of ${bytes.length} bytes (100 %)`);
  assert.equal(await page.locator("progress").evaluate((bar) => bar.value / bar.max), 1, "the bar is full");
  // The worker's limit, as GET /uploads/limits states it, is shown before anything is chosen.
  assert.equal(await page.getByTestId("limits").textContent(), `Files up to ${MAX_BYTES} bytes.`);
  await page.screenshot({ path: join(OUTPUT, "uploaded.png"), fullPage: true });
});

test("a file over UPLOAD_MAX_BYTES shows the worker's code and message, and nothing is stored", async () => {
  const file = { name: "too big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(MAX_BYTES + 1) };
  const said = await postJson(`${worker.url}/uploads`, { file_name: file.name, content_type: file.mimeType, size: MAX_BYTES + 1 });
  assert.equal(said.status, 413, said.text);
  const before = (await s3.listObjects()).length;
  await submit(file);
  const error = page.getByTestId("error");
  await error.waitFor({ timeout: 30_000 });
  assert.equal(await error.textContent(), `${said.body.error.code}: ${said.body.error.message}`);
  assert.equal((await s3.listObjects()).length, before);
  await page.screenshot({ path: join(OUTPUT, "too-large.png"), fullPage: true });
});

test("Abort cancels the upload on its way to the bucket: nothing is stored, even once the request could go on", async () => {
  // Hold the file's request to the bucket until Abort is pressed, so it is surely in flight;
  // then let it go on: an upload that was not really aborted would land now.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  let reachedBucket;
  const atBucket = new Promise((resolve) => (reachedBucket = resolve));
  const failed = [];
  let cancelled;
  const seenCancelled = new Promise((resolve) => (cancelled = resolve));
  const onFailed = (request) => {
    failed.push(request.url());
    if (request.url().startsWith(s3.url)) cancelled();
  };
  page.on("requestfailed", onFailed);
  await page.route(`${s3.url}/**`, async (route) => {
    if (route.request().method() === "OPTIONS") return route.continue();
    reachedBucket();
    await held;
    // The page cancelled it: Playwright could still send a cancelled request on if asked to
    // (it did once under load), which would test Playwright rather than the page.
    if (failed.includes(route.request().url())) return route.abort().catch(() => {});
    await route.continue().catch(() => {}); // not cancelled: an upload not really aborted lands now
  });
  try {
    const before = (await s3.listObjects()).length;
    await submit({ name: "kept.txt", mimeType: "text/plain", buffer: Buffer.from("never stored\n") });
    await atBucket;
    await page.getByRole("button", { name: "Abort" }).click();
    const error = page.getByTestId("error");
    await error.waitFor({ timeout: 30_000 });
    assert.equal(await error.textContent(), "aborted: Upload cancelled; nothing was stored.");
    assert.ok(await page.getByRole("button", { name: "Submit" }).isEnabled(), "the form is usable again");
    // Under load Chromium may report the cancel after the page has already shown it; release the
    // held request only once the cancel is known (or 5 s have passed: a page that did not cancel
    // gets its request sent on, and the checks below fail).
    await Promise.race([seenCancelled, new Promise((r) => setTimeout(r, 5000))]);
    release();
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(failed.some((url) => url.startsWith(s3.url)), "the browser cancelled the bucket request");
    assert.equal((await s3.listObjects()).length, before);
  } finally {
    release();
    page.off("requestfailed", onFailed);
    await page.unrouteAll({ behavior: "ignoreErrors" });
  }
});

test("the caller's token: without one the worker's 401 is said as a sign-in; with one the file lands in the caller's segment", async () => {
  const file = { name: "report.txt", mimeType: "text/plain", buffer: randomBytes(1024) };
  const said = await postJson(`${secured.url}/uploads`, { file_name: file.name, content_type: file.mimeType });
  assert.equal(said.status, 401, said.text);
  await submit(file, secured);
  const error = page.getByTestId("error");
  await error.waitFor({ timeout: 30_000 });
  assert.equal(await error.textContent(), `unauthorized: Please sign in again. (${said.body.error.message})`);
  await page.screenshot({ path: join(OUTPUT, "unauthorized.png"), fullPage: true });

  // What a sign-in does: the page reads the token from where the app keeps it, for each call.
  await page.evaluate((token) => sessionStorage.setItem("upload-token", token), mintToken("alice", SECRET));
  const sent = [];
  const watch = (request) => request.url().startsWith(secured.url) && sent.push(request.headers().authorization);
  page.on("request", watch);
  try {
    await submit(file, secured);
    const result = page.getByTestId("result");
    await result.waitFor({ timeout: 30_000 });
    const key = (await result.locator("code").textContent()).trim();
    assert.match(key, /^uploads\/alice\/[0-9a-f-]{36}\/report\.txt$/);
    assert.ok((await s3.readObject(key))?.equals(file.buffer), "stored bytes are the file's");
    assert.ok(sent.some((header) => header?.startsWith("Bearer ")), "the token went to the worker");
  } finally {
    page.off("request", watch);
    await page.evaluate(() => sessionStorage.clear());
  }
});

test("a rate limit is said by its code, with the wait the worker named", async () => {
  // A burst big enough to trip the worker's limit is not worth a test's time here; the answer's
  // shape is fixed (docs/api.md), so the page is fed it and must say it by its code.
  await page.route(`${worker.url}/uploads`, (route) => route.fulfill({
    status: 429, headers: { "Retry-After": "7", "Content-Type": "application/json" },
    body: JSON.stringify({ error: { code: "rate_limited", message: "too many requests from this caller; try again later" } }),
  }));
  try {
    await submit({ name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("a\n") });
    const error = page.getByTestId("error");
    await error.waitFor({ timeout: 30_000 });
    assert.equal(await error.textContent(),
      "rate_limited: Too many uploads from here; try again in 7 s. (too many requests from this caller; try again later)");
  } finally {
    await page.unrouteAll({ behavior: "ignoreErrors" });
  }
});
