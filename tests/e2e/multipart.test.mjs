// client.js's multipart uploads in headless Chromium, through the worker's Companion routes, to
// s3s-fs behind its CORS front: parts in parallel with one progress across them, abort that
// leaves nothing in the store, and resume after a dropped connection (from a reloaded page:
// the upload is remembered in localStorage). Then the same on the demo page, with its buttons.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launchChromium, ROOT, startS3, startWorker, stopAll, storeUploadId } from "./harness.mjs";

const OUTPUT = join(process.env.TEST_OUTPUT ?? join(ROOT, "test-output"), "multipart");
const MiB = 1024 * 1024;
const LIMITS = { timeout: 120_000 }; // a hung page fails its test instead of stalling the run

let s3;
let worker;
let browser;
let context;
let page;
let seen; // every request the page made

before(async () => {
  s3 = await startS3({ cors: true });
  // Files over UPLOAD_MAX_BYTES (10 MiB) go in parts only where the operator allows it.
  worker = await startWorker(s3, { DEMO_PAGE: "true", UPLOAD_MAX_MULTIPART_BYTES: String(1024 * MiB) });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  // The same bytes for the same seed in every page load, so a reloaded page has "the same file".
  await context.addInitScript(() => {
    window.makeFile = (seed, size, name, lastModified = 1_700_000_000_000) => {
      const words = new Uint32Array(Math.ceil(size / 4));
      let x = seed >>> 0 || 1;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        words[i] = x;
      }
      return new File([new Uint8Array(words.buffer, 0, size)], name, { type: "application/octet-stream", lastModified });
    };
    window.sha256 = async (blob) =>
      [...new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()))].map((b) => b.toString(16).padStart(2, "0")).join("");
  });
  page = await context.newPage();
  seen = [];
  page.on("request", (request) => seen.push(request));
  await page.goto(`${worker.url}/`);
  await mkdir(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  await s3?.stop();
  await stopAll();
});

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** `"{METHOD} {what}"` for each request since `start`: worker routes, and part numbers at the bucket. */
function requestsSince(start) {
  return seen.slice(start).flatMap((r) => {
    const url = new URL(r.url());
    if (r.method() === "OPTIONS") return [];
    if (url.origin === s3.url) {
      return [`${r.method()} bucket${url.searchParams.has("partNumber") ? ` part ${url.searchParams.get("partNumber")}` : ""}`];
    }
    if (url.origin === worker.url && !/\.(js|html)$|\/$/.test(url.pathname)) {
      return [`${r.method()} ${url.pathname.replace(/^\/s3\/multipart\/[^/]+/, "/s3/multipart/{id}")}`];
    }
    return [];
  });
}

/** The upload ID of the multipart upload whose part 1 went out since `start`. */
function uploadIdSince(start) {
  const part = seen.slice(start).find((r) => r.method() === "PUT" && new URL(r.url()).searchParams.get("partNumber") === "1");
  return part && new URL(part.url()).searchParams.get("uploadId");
}

/** Holds the bucket PUT of `partNumber` until `release()`; the page sees it as still sending. */
async function holdPart(partNumber) {
  let release;
  const released = new Promise((resolve) => (release = resolve));
  const pattern = (url) => url.origin === s3.url && url.searchParams.get("partNumber") === String(partNumber);
  const handler = async (route) => {
    await released;
    await route.abort().catch(() => {}); // the page has given up on it by now
  };
  await page.route(pattern, handler);
  return async () => {
    release();
    await page.unroute(pattern, handler);
  };
}

test("uploadFile, multipart: parts go three at a time with one progress across them, and the bytes land", LIMITS, async () => {
  // Part 1 is held until parts 2 and 3 have been sent: they go at the same time.
  const pattern = (url) => url.origin === s3.url && url.searchParams.get("partNumber") === "1";
  await page.route(pattern, async (route) => {
    const deadline = Date.now() + 20_000;
    const sent = (n) => seen.some((r) => r.method() === "PUT" && new URL(r.url()).searchParams.get("partNumber") === n);
    while (!(sent("2") && sent("3")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await route.continue();
  });
  const start = seen.length;
  let answer;
  try {
    answer = await page.evaluate(async () => {
      const { uploadFile } = await import("/client.js");
      const file = window.makeFile(1, 12 * 1024 * 1024 + 1000, "three parts.bin");
      const progress = [];
      const result = await uploadFile(file, { multipart: true, partSize: 5 * 1024 * 1024, onProgress: (p) => progress.push(p) });
      return { result, progress, sha: await window.sha256(file) };
    });
  } finally {
    await page.unroute(pattern);
  }
  const { result, progress, sha } = answer;
  assert.match(result.key, /^uploads\/[0-9a-f-]{36}\/three-parts\.bin$/);
  assert.equal(result.size, 12 * MiB + 1000);
  assert.equal(sha256(await s3.readObject(result.key)), sha, "the stored object is the file, byte for byte");
  assert.equal(result.url, `${s3.url}/${s3.bucket}/${result.key}`);

  assert.deepEqual(requestsSince(start).filter((r) => !r.startsWith("GET /s3/multipart/{id}/")).map((r) => r.replace(/ part \d/, " part")),
    ["POST /s3/multipart", "PUT bucket part", "PUT bucket part", "PUT bucket part", "POST /s3/multipart/{id}/complete"]);
  // One progress over the whole file: never backwards, part counts along the way, ending whole.
  for (const [i, p] of progress.entries()) {
    assert.equal(p.total, result.size);
    assert.equal(p.parts.total, 3);
    if (i) assert.ok(p.loaded >= progress[i - 1].loaded && p.parts.done >= progress[i - 1].parts.done, "never backwards");
  }
  assert.deepEqual(progress.at(-1), { loaded: result.size, total: result.size, fraction: 1, parts: { done: 3, total: 3 } });
  assert.deepEqual([...new Set(progress.map((p) => p.parts.done))], [0, 1, 2, 3]);
});

test("uploadFiles: small files share one batch call, a large one goes in parts, all land", LIMITS, async () => {
  const start = seen.length;
  const answer = await page.evaluate(async () => {
    const { uploadFiles } = await import("/client.js");
    const files = [window.makeFile(2, 1000, "small.bin"), window.makeFile(3, 7 * 1024 * 1024, "large.bin"), window.makeFile(4, 2000, "also small.bin")];
    const results = await uploadFiles(files, { multipartThreshold: 6 * 1024 * 1024 });
    return { results, shas: await Promise.all(files.map(window.sha256)) };
  });
  assert.deepEqual(answer.results.map((r) => r.status), ["fulfilled", "fulfilled", "fulfilled"], JSON.stringify(answer.results));
  for (const [i, { value }] of answer.results.entries()) {
    assert.equal(sha256(await s3.readObject(value.key)), answer.shas[i], `file ${i} landed`);
  }
  const calls = requestsSince(start);
  assert.equal(calls.filter((r) => r === "POST /uploads").length, 1, "one batch call for the two small files");
  assert.equal(calls.filter((r) => r === "POST /s3/multipart").length, 1);
  const batch = seen.slice(start).find((r) => new URL(r.url()).pathname === "/uploads");
  assert.deepEqual(JSON.parse(batch.postData()).files.map((f) => f.file_name), ["small.bin", "also small.bin"]);
});

test("uploadFile, multipart: aborting deletes the upload, leaving no object and no parts", LIMITS, async () => {
  const start = seen.length;
  const answer = await page.evaluate(async () => {
    const { uploadFile, savedMultipart } = await import("/client.js");
    const file = window.makeFile(5, 11 * 1024 * 1024, "aborted.bin");
    const controller = new AbortController();
    try {
      await uploadFile(file, {
        multipart: true, partSize: 5 * 1024 * 1024, partConcurrency: 1, signal: controller.signal,
        onProgress: ({ parts }) => parts.done === 1 && controller.abort(), // once part 1 is in the bucket
      });
      return { error: null };
    } catch (e) {
      return { error: { name: e.name, code: e.code, source: e.source }, saved: savedMultipart(file) };
    }
  });
  assert.deepEqual(answer.error, { name: "UploadError", code: "aborted", source: "abort" });
  assert.equal(answer.saved, null, "the page forgot it");
  const uploadId = uploadIdSince(start);
  assert.ok(uploadId);
  assert.deepEqual(requestsSince(start), [
    "POST /s3/multipart", "GET /s3/multipart/{id}/1", "PUT bucket part 1", "DELETE /s3/multipart/{id}",
  ]);
  const abort = seen.slice(start).find((r) => r.method() === "DELETE");
  assert.equal((await abort.response()).status(), 200);
  assert.deepEqual((await s3.listUploads()).filter((u) => u.uploadId === uploadId), [], "no upload, no parts");
  assert.ok(!(await s3.listObjects()).some((key) => key.endsWith("/aborted.bin")), "no object");
});

test("uploadFile, multipart: after a dropped connection and a reload, the same file sends only the missing parts", LIMITS, async () => {
  const options = { multipart: true, partSize: 5 * 1024 * 1024, partConcurrency: 1 };
  // The connection drops as part 3 goes out.
  const pattern = (url) => url.origin === s3.url && url.searchParams.get("partNumber") === "3";
  await page.route(pattern, (route) => route.abort("connectionreset"));
  let start = seen.length;
  let failed;
  try {
    failed = await page.evaluate(async (options) => {
      const { uploadFile, savedMultipart } = await import("/client.js");
      const file = window.makeFile(6, 17 * 1024 * 1024 + 5, "resumed.bin");
      try {
        await uploadFile(file, options);
        return null;
      } catch (e) {
        return { code: e.code, source: e.source, upload: e.upload, saved: savedMultipart(file) };
      }
    }, options);
  } finally {
    await page.unroute(pattern);
  }
  assert.equal(failed?.code, "network_error", JSON.stringify(failed));
  assert.equal(failed.source, "network");
  const { key, uploadId: handle } = failed.upload;
  assert.deepEqual(failed.saved, { key, uploadId: handle, partSize: 5 * MiB }, "remembered for later");
  const uploadId = storeUploadId(handle);
  assert.deepEqual((await s3.listUploads()).find((u) => u.uploadId === uploadId)?.parts, [1, 2]);
  assert.equal(await s3.readObject(key), null);

  // A new page load: only localStorage remembers the upload.
  await page.reload();
  start = seen.length;
  const resumed = await page.evaluate(async (options) => {
    const { uploadFile, savedMultipart } = await import("/client.js");
    const file = window.makeFile(6, 17 * 1024 * 1024 + 5, "resumed.bin");
    const progress = [];
    const result = await uploadFile(file, { ...options, onProgress: (p) => progress.push(p) });
    return { result, first: progress[0], saved: savedMultipart(file), sha: await window.sha256(file) };
  }, options);
  assert.equal(resumed.result.key, key, "the same upload was finished");
  assert.deepEqual(requestsSince(start), [
    "GET /s3/multipart/{id}", // ListParts: 1 and 2 are there
    "GET /s3/multipart/{id}/3", "PUT bucket part 3",
    "GET /s3/multipart/{id}/4", "PUT bucket part 4",
    "POST /s3/multipart/{id}/complete",
  ]);
  assert.deepEqual(resumed.first.parts, { done: 2, total: 4 }, "progress starts with what the bucket had");
  assert.equal(resumed.first.loaded, 10 * MiB);
  assert.equal(resumed.saved, null, "forgotten once complete");
  assert.equal(sha256(await s3.readObject(key)), resumed.sha, "the bytes landed, byte for byte");
  assert.deepEqual((await s3.listUploads()).filter((u) => u.uploadId === uploadId), []);
});

test("demo page: a large file goes in parts, and Resume sends only what a dropped connection lost", LIMITS, async () => {
  await page.goto(`${worker.url}/`);
  await page.selectOption("#multipart", "true");
  const bytes = randomBytes(12 * MiB + 300);
  const pattern = (url) => url.origin === s3.url && url.searchParams.get("partNumber") === "2";
  await page.route(pattern, (route) => route.abort("connectionreset"));
  const item = page.locator('[data-testid="upload-item"]').filter({ hasText: "film.mov" });
  try {
    await page.setInputFiles("#file-input", [{ name: "film.mov", mimeType: "video/quicktime", buffer: bytes }]);
    await item.locator('[data-testid="upload-error"]').waitFor({ timeout: 60_000 });
  } finally {
    await page.unroute(pattern);
  }
  assert.match(await item.locator('[data-testid="upload-error"]').textContent(), /connection dropped/);
  // The page asked the worker which parts the bucket has: part 1, 8 MiB (the default part size).
  await item.getByText("1 part (8 MB) already in the bucket.").waitFor();
  await page.screenshot({ path: join(OUTPUT, "demo-dropped.png"), fullPage: true });

  const start = seen.length;
  await item.getByRole("button", { name: "Resume film.mov" }).click();
  await item.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
  assert.match(await item.locator(".detail").textContent(), /^Stored as/);
  const key = (await item.locator('[data-testid="upload-key"]').textContent()).trim();
  assert.ok((await s3.readObject(key))?.equals(bytes), "stored byte for byte");
  assert.deepEqual(requestsSince(start), [
    "GET /s3/multipart/{id}", "GET /s3/multipart/{id}/2", "PUT bucket part 2", "POST /s3/multipart/{id}/complete",
  ]);
  const bar = item.locator("progress");
  assert.equal(await bar.getAttribute("value"), await bar.getAttribute("max"));
  await page.screenshot({ path: join(OUTPUT, "demo-resumed.png"), fullPage: true });
});

test("demo page: Discard after a dropped connection deletes the parts the bucket kept", LIMITS, async () => {
  await page.goto(`${worker.url}/`);
  await page.selectOption("#multipart", "true");
  const pattern = (url) => url.origin === s3.url && url.searchParams.get("partNumber") === "2";
  await page.route(pattern, (route) => route.abort("connectionreset"));
  const start = seen.length;
  const item = page.locator('[data-testid="upload-item"]').filter({ hasText: "discarded.bin" });
  try {
    await page.setInputFiles("#file-input", [{ name: "discarded.bin", mimeType: "application/octet-stream", buffer: randomBytes(9 * MiB) }]);
    await item.getByText("1 part (8 MB) already in the bucket.").waitFor({ timeout: 60_000 });
  } finally {
    await page.unroute(pattern);
  }
  const uploadId = uploadIdSince(start);
  assert.deepEqual((await s3.listUploads()).find((u) => u.uploadId === uploadId)?.parts, [1]);
  const deleted = page.waitForResponse((r) => r.request().method() === "DELETE");
  await item.getByRole("button", { name: "Discard discarded.bin" }).click();
  assert.equal((await deleted).status(), 200);
  assert.deepEqual((await s3.listUploads()).filter((u) => u.uploadId === uploadId), [], "no parts left");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "the page forgot it");
});

test("demo page: Abort on a multipart upload deletes it from the bucket", LIMITS, async () => {
  await page.goto(`${worker.url}/`);
  await page.selectOption("#multipart", "true");
  const releasePart2 = await holdPart(2); // part 2 is "still uploading" when Abort is pressed
  const start = seen.length;
  const item = page.locator('[data-testid="upload-item"]').filter({ hasText: "abort me.bin" });
  try {
    await page.setInputFiles("#file-input", [{ name: "abort me.bin", mimeType: "application/octet-stream", buffer: randomBytes(12 * MiB) }]);
    await item.getByText("(1 of 2 parts)").waitFor({ timeout: 60_000 });
    await item.getByRole("button", { name: "Abort abort me.bin" }).click();
    await item.locator('[data-testid="upload-error"]').waitFor({ timeout: 30_000 });
  } finally {
    await releasePart2();
  }
  assert.equal(await item.locator('[data-testid="upload-error"]').textContent(), "Upload aborted");
  assert.equal(await item.getByRole("button", { name: /^Resume/ }).count(), 0, "nothing to resume");
  const uploadId = uploadIdSince(start);
  const deleted = seen.slice(start).find((r) => r.method() === "DELETE");
  assert.ok(deleted, "the page deleted the upload");
  assert.equal((await deleted.response()).status(), 200);
  assert.deepEqual((await s3.listUploads()).filter((u) => u.uploadId === uploadId), []);
  assert.ok(!(await s3.listObjects()).some((k) => k.endsWith("/abort-me.bin")));
  await page.screenshot({ path: join(OUTPUT, "demo-aborted.png"), fullPage: true });
});

test("the worker never logged its secret", () => {
  assert.ok(!worker.logs().includes(s3.secretKey));
});
