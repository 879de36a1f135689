// Uppy against the worker: the real @uppy/core and @uppy/aws-s3 from npm (pinned in
// package.json), bundled by scripts/build-examples.mjs into web/examples/uppy/, run in headless
// Chromium, uploading to s3s-fs (which verifies every signature) behind its CORS front. Both of
// the plugin's modes: `companionEndpoint` (the worker's /s3/… routes) and `signRequest`
// (client.js's createSignRequest → POST /s3/sign).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort, launchChromium, mintToken, ROOT, startAll, startS3, startWorker, stopAll, storeUploadId } from "./harness.mjs";

const OUTPUT = join(process.env.TEST_OUTPUT ?? join(ROOT, "test-output"), "uppy");
const MiB = 1024 * 1024;
const MULTIPART_LIMIT = 16 * MiB;
const SECRET = randomBytes(32).toString("base64url");
const COOKIE = "upload_session";
const BASE_PATH = "/api/uploads";
const MODES = { companion: "companionEndpoint", sign: "signRequest", plain: "plain signRequest" };
// A hung page should fail its test, not stall the run.
const LIMITS = { timeout: 120_000 };
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

let s3;
let open; // auth off
let secured; // HS256 tokens, the cookie, under BASE_PATH
let app; // another origin serving the same page, for bearer tokens across origins
let browser;

/** A static server for web/examples/uppy/ on its own origin (a page that is not the worker's). */
async function serveApp() {
  const dir = join(ROOT, "web/examples/uppy");
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const name = path === "/" ? "index.html" : path === "/app.css" ? "app.css" : "app.js";
    res.writeHead(200, { "Content-Type": types[name.slice(name.lastIndexOf("."))] });
    res.end(await readFile(join(dir, name)));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(resolve)) };
}

before(async () => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-examples.mjs")], { stdio: "inherit" });
  app = await serveApp();
  s3 = await startS3({ cors: true });
  [open, secured] = await startAll([
    () => startWorker(s3, { DEMO_PAGE: "true", UPLOAD_MAX_MULTIPART_BYTES: String(MULTIPART_LIMIT) }),
    () => startWorker(s3, {
      DEMO_PAGE: "true", BASE_PATH, UPLOAD_AUTH_SECRET: SECRET, UPLOAD_AUTH_COOKIE: COOKIE,
      ALLOWED_ORIGINS: app.url, UPLOAD_MAX_MULTIPART_BYTES: String(MULTIPART_LIMIT),
    }),
  ]);
  browser = await launchChromium();
  await mkdir(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.all([open?.stop(), secured?.stop(), app?.stop()]);
  await s3?.stop();
  await stopAll();
});

/** A fresh page (its own cookies) at `url`, once the Uppy bundle is loaded; `seen` lists its requests. */
async function openPage(url, cookies = []) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  if (cookies.length) await context.addCookies(cookies);
  const page = await context.newPage();
  const seen = [];
  page.on("request", (request) => seen.push(request));
  await page.goto(url);
  await page.waitForFunction(() => typeof window.uppyUpload === "function");
  return { page, seen, close: () => context.close() };
}

/** Hands `file` to the page (through a file input of the test's own) and uploads it with a fresh
 * Uppy in the Dashboard; resolves with the page's report. */
async function uppy(page, file, options) {
  await page.evaluate(() => {
    if (document.getElementById("test-file")) return;
    document.body.append(Object.assign(document.createElement("input"), { type: "file", id: "test-file", hidden: true }));
  });
  await page.setInputFiles("#test-file", file);
  return page.evaluate((options) => window.uppyUpload(document.getElementById("test-file").files[0], options), options);
}

/** `{method, path}` of each request to `origin` from `index` on, without the page's own files. */
function requestsTo(seen, origin, index = 0) {
  return seen.slice(index).filter((r) => r.url().startsWith(origin) && !/\/examples\/|\/$/.test(new URL(r.url()).pathname))
    .map((r) => ({ method: r.method(), url: new URL(r.url()), request: r }));
}

/** The upload ID and key of the multipart upload whose part 1 the page sent. */
function uploadOf(seen) {
  const part = requestsTo(seen, s3.url).find((r) => r.method === "PUT" && r.url.searchParams.get("partNumber") === "1");
  assert.ok(part, "part 1 was sent");
  const key = decodeURIComponent(part.url.pathname.split("/").slice(2).join("/"));
  return { uploadId: part.url.searchParams.get("uploadId"), key };
}

/** Waits until s3s-fs holds no upload `uploadId` (the abort reaches it after Uppy moves on). */
async function waitUntilGone(uploadId) {
  const deadline = Date.now() + 15_000;
  while ((await s3.listUploads()).some((u) => u.uploadId === uploadId)) {
    assert.ok(Date.now() < deadline, `upload ${uploadId} is still in the store`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const file = (name, mimeType, buffer) => ({ name, mimeType, buffer });

/**
 * The worker's refusals as its audit log lines say them, `"{route} {status} {code}"`. (The
 * answer's body cannot be read from the page's side: Uppy's Companion client never reads a
 * failed answer, and Chromium then never finishes loading it.)
 */
function refusals(worker) {
  return worker.logs().split("\n").filter((line) => line.startsWith('{"audit":"refusal"')).map((line) => {
    const { route, status, code } = JSON.parse(line);
    return `${route} ${status} ${code}`;
  });
}

/** A small file in one request and a 12 MiB one in three 5 MiB parts, byte for byte. */
async function smallAndMultipart(page, seen, { mode, endpoint, token, keyPrefix }) {
  const small = Buffer.from(`hello from Uppy, ${mode}\n`);
  let start = seen.length;
  const one = await uppy(page, file("hello uppy.txt", "text/plain", small), { mode, endpoint, token, multipart: false });
  assert.match(one.key ?? "", new RegExp(`^${keyPrefix}${UUID}/hello-uppy\\.txt$`), JSON.stringify(one));
  assert.ok((await s3.readObject(one.key))?.equals(small), "the small file landed byte for byte");
  const toBucket = requestsTo(seen, s3.url, start).filter((r) => r.method !== "OPTIONS");
  assert.deepEqual(toBucket.map((r) => r.method), ["POST"], "one request: the signed form");
  assert.equal(one.verified?.size, small.length, "the page had the worker verify the upload");

  const big = randomBytes(12 * MiB + 123_456);
  start = seen.length;
  const many = await uppy(page, file("big video.mp4", "video/mp4", big), { mode, endpoint, token, multipart: true, partSize: 5 * MiB });
  // Uppy's own `{uuid}-` prefix (signRequest) is not part of the name the worker keeps.
  assert.match(many.key ?? "", new RegExp(`^${keyPrefix}${UUID}/big-video\\.mp4$`), JSON.stringify(many.errors));
  assert.deepEqual(many.parts, [1, 2, 3]);
  assert.ok((await s3.readObject(many.key))?.equals(big), "the 12 MiB file landed byte for byte");
  assert.equal(Math.max(...many.progress), big.length, "progress reached the whole file");
  assert.ok(many.progress.some((n) => n >= 5 * MiB && n < big.length), "progress counted across parts");
  const parts = requestsTo(seen, s3.url, start).filter((r) => r.method === "PUT");
  assert.deepEqual(parts.map((r) => r.url.searchParams.get("partNumber")), ["1", "2", "3"]);
  assert.equal(many.verified?.size, big.length, "the page had the worker verify the upload");
  return { one, many, start };
}

for (const mode of ["companion", "sign"]) {
  test(`${MODES[mode]}, auth off: a small file in one request, a 12 MiB file in 5 MiB parts, byte for byte`, LIMITS, async () => {
    const { page, seen, close } = await openPage(`${open.url}/examples/uppy/`);
    try {
      const { start } = await smallAndMultipart(page, seen, { mode, endpoint: open.url, keyPrefix: "uploads/" });
      const routes = requestsTo(seen, open.url, start).map((r) => `${r.method} ${r.url.pathname.replace(/multipart\/[^/]+/, "multipart/{id}")}`);
      assert.deepEqual(routes, mode === "companion"
        ? ["POST /s3/multipart", ...[1, 2, 3].map((n) => `GET /s3/multipart/{id}/${n}`), "POST /s3/multipart/{id}/complete",
          "POST /uploads/complete"]
        // create signed (the worker starts the upload; Uppy reads its answer at the worker's
        // `created` URL), three parts and the completion signed, the completion sent to the
        // worker; then, on upload-success, the page has the worker verify the object
        : ["POST /s3/sign", "POST /s3/multipart/{id}/created", ...Array(4).fill("POST /s3/sign"), "POST /s3/multipart/{id}/complete",
          "POST /uploads/complete"],
      );
      await page.screenshot({ path: join(OUTPUT, `${mode}-uploaded.png`), fullPage: true });
    } finally {
      await close();
    }
  });
}

for (const mode of ["sign", "plain"]) {
  test(`${MODES[mode]} with an HS256 bearer token, from a page on another origin: keys under the caller's segment`, LIMITS, async () => {
    const token = mintToken("alice", SECRET);
    const endpoint = `${secured.url}${BASE_PATH}`;
    const { page, seen, close } = await openPage(`${app.url}/`);
    try {
      await smallAndMultipart(page, seen, { mode, endpoint, token, keyPrefix: "uploads/alice/" });
      const posts = requestsTo(seen, secured.url).filter((r) => r.method === "POST");
      const paths = posts.map((r) => r.url.pathname.replace(/multipart\/[^/]+\//, "multipart/{id}/"));
      const sign = `${BASE_PATH}/s3/sign`;
      const verify = `${BASE_PATH}/uploads/complete`;
      assert.deepEqual(paths, [sign, verify, sign, `${BASE_PATH}/s3/multipart/{id}/created`, sign, sign, sign, sign,
        `${BASE_PATH}/s3/multipart/{id}/complete`, verify],
        "the form signed and its upload verified; create signed, the creation's answer read, three parts and complete signed, the completion sent to the worker, the upload verified");
      // Only /s3/sign and the verification need the token: the worker's own URLs carry their own MAC.
      for (const r of posts) {
        const signing = r.url.pathname === sign || r.url.pathname === verify;
        assert.equal(r.request.headers().authorization, signing ? `Bearer ${token}` : undefined, r.url.pathname);
      }
      for (const r of requestsTo(seen, s3.url)) assert.equal(r.request.headers().authorization, undefined, "no token to the bucket");
      assert.ok(!requestsTo(seen, s3.url).some((r) => r.method === "POST" && r.url.searchParams.has("uploadId")),
        "the browser never completes an upload at the bucket");
      await page.screenshot({ path: join(OUTPUT, `${mode}-token.png`), fullPage: true });
    } finally {
      await close();
    }
  });
}

test("companionEndpoint with the token in a cookie, on a page the worker serves under BASE_PATH", LIMITS, async () => {
  const cookie = { name: COOKIE, value: mintToken("bob@example.com", SECRET), url: secured.url, httpOnly: true, sameSite: "Strict" };
  const endpoint = `${secured.url}${BASE_PATH}`;
  const { page, seen, close } = await openPage(`${endpoint}/examples/uppy/`, [cookie]);
  try {
    // `sub` "bob@example.com": "@" and "." are written as _40 and _2e in the key.
    await smallAndMultipart(page, seen, { mode: "companion", endpoint, keyPrefix: "uploads/bob_40example_2ecom/" });
    await page.screenshot({ path: join(OUTPUT, "companion-cookie.png"), fullPage: true });

    // Without the cookie the same page is refused: 401 before anything is signed.
    await page.context().clearCookies();
    const start = seen.length;
    const refused = await uppy(page, file("late.txt", "text/plain", Buffer.from("late\n")), { mode: "companion", endpoint, multipart: false });
    assert.equal(refused.key, undefined);
    assert.equal(refused.errors.length, 1);
    const [params] = requestsTo(seen, secured.url, start);
    assert.equal(params.url.pathname, `${BASE_PATH}/s3/params`);
    assert.equal((await params.request.response()).status(), 401);
    assert.equal(refusals(secured).at(-1), "s3/params 401 unauthorized");
  } finally {
    await close();
  }
});

for (const mode of ["companion", "sign"]) {
  test(`${MODES[mode]}: a cancelled multipart upload leaves no object and no upload in the store`, LIMITS, async () => {
    const { page, seen, close } = await openPage(`${open.url}/examples/uppy/`);
    try {
      const bytes = randomBytes(12 * MiB);
      const report = await uppy(page, file("cancelled.bin", "application/octet-stream", bytes),
        { mode, multipart: true, partSize: 5 * MiB, cancelAfterParts: 1 });
      assert.equal(report.cancelled, true);
      const { uploadId, key } = uploadOf(seen);
      await waitUntilGone(uploadId);
      // The abort went out the way the mode sends it: through the worker, or signed to the bucket.
      const abort = requestsTo(seen, mode === "companion" ? open.url : s3.url).find((r) => r.method === "DELETE");
      assert.ok(abort, "an AbortMultipartUpload was sent");
      // Signed to the bucket it names the store's upload; sent to the worker, the worker's handle.
      assert.equal(abort.url.searchParams.get("uploadId") ?? storeUploadId(decodeURIComponent(abort.url.pathname.split("/")[3])), uploadId);
      assert.equal(await s3.readObject(key), null);
      assert.ok(!(await s3.listObjects()).some((k) => k.endsWith("/cancelled.bin")), "no object of that name");
    } finally {
      await close();
    }
  });

  test(`${MODES[mode]}: a multipart upload over UPLOAD_MAX_MULTIPART_BYTES is refused with 413 and aborted`, LIMITS, async () => {
    const { page, seen, close } = await openPage(`${open.url}/examples/uppy/`);
    try {
      const bytes = randomBytes(MULTIPART_LIMIT + MiB); // 17 MiB: four parts, each within the rules
      // `restrict: false`: the page's own limits (GET /uploads/limits) would refuse the file
      // before a byte is sent; here the worker must refuse it by itself.
      const report = await uppy(page, file("too much.bin", "application/octet-stream", bytes),
        { mode, multipart: true, partSize: 5 * MiB, restrict: false });
      assert.equal(report.key, undefined);
      assert.deepEqual(report.parts, [1, 2, 3, 4]);
      // The person reads the worker's own refusal, not Uppy's "Companion request failed".
      const shown = `too much.bin: file_too_large: file is larger than the ${MULTIPART_LIMIT} bytes allowed`;
      assert.ok((await page.locator("#uploads li").last().textContent()).startsWith(shown));
      // The Dashboard's file carries it too (its "?" button's tooltip).
      assert.ok((await page.locator(".uppy-Dashboard-Item-errorDetails").first().getAttribute("aria-label")).includes(shown.slice("too much.bin: ".length)));
      // In both modes the worker completes, and refuses: signRequest's completion is sent to
      // the worker's completion route (as S3's XML), never signed for the bucket.
      const completion = requestsTo(seen, open.url).at(-1);
      const [, s3Route, multipart, handle, action] = completion.url.pathname.split("/");
      assert.deepEqual([s3Route, multipart, storeUploadId(decodeURIComponent(handle)), action],
        ["s3", "multipart", uploadOf(seen).uploadId, "complete"]);
      assert.equal(completion.request.headers()["content-type"], mode === "companion" ? "application/json" : "application/xml");
      const refusal = await completion.request.response();
      assert.equal(refusal.status(), 413);
      assert.equal(refusals(open).at(-1), "s3/multipart/{uploadId}/complete 413 file_too_large");
      if (mode === "sign") {
        assert.equal(refusal.headers()["x-amz-error-code"], "file_too_large");
        assert.deepEqual(report.errors.map((e) => [e.code, e.status]), [["file_too_large", 413]], "the worker's code reached Uppy");
      }
      const { uploadId, key } = uploadOf(seen);
      assert.ok(!(await s3.listUploads()).some((u) => u.uploadId === uploadId), "the worker aborted the upload");
      assert.equal(await s3.readObject(key), null);
      assert.ok(!requestsTo(seen, s3.url).some((r) => r.method === "POST" && r.url.searchParams.has("uploadId")), "nothing completed it");
      await page.screenshot({ path: join(OUTPUT, `${mode}-too-large.png`), fullPage: true });
    } finally {
      await close();
    }
  });
}

for (const mode of ["companion", "sign"]) {
  test(`${MODES[mode]}: a form the bucket refuses is shown as the bucket's refusal, with S3's code`, LIMITS, async () => {
    const { page, close } = await openPage(`${open.url}/examples/uppy/`);
    try {
      // One request of 11 MiB against a form signed for at most 10 MiB (no size is announced in
      // either mode, and the page's restrictions are off): the bucket answers EntityTooLarge.
      const report = await uppy(page, file("eleven.bin", "application/octet-stream", randomBytes(11 * MiB)),
        { mode, multipart: false, restrict: false });
      assert.equal(report.key, undefined);
      assert.equal(await page.locator("#uploads li").last().textContent(), "eleven.bin: the storage refused the file: EntityTooLarge");
      assert.ok(!(await s3.listObjects()).some((k) => k.endsWith("/eleven.bin")), "nothing stored");
    } finally {
      await close();
    }
  });
}

test("auth on: no token is 401 on every route; another user's token is 403 on every route naming a key", LIMITS, async () => {
  const base = `${secured.url}${BASE_PATH}`;
  const alice = mintToken("alice", SECRET);
  const bob = mintToken("bob", SECRET);
  const call = async (path, { method = "GET", token, body, headers = {} } = {}) => {
    const response = await fetch(base + path, {
      method,
      headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body && JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  };

  // Alice starts a multipart upload and sends part 1; she also has a finished object.
  const created = await call("/s3/multipart", { method: "POST", token: alice, body: { filename: "mine.bin", type: "application/octet-stream" } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const { key, uploadId } = created.body;
  assert.match(key, new RegExp(`^uploads/alice/${UUID}/mine\\.bin$`));
  const q = `?${new URLSearchParams({ key })}`;
  const id = encodeURIComponent(uploadId);
  const partBytes = randomBytes(5 * MiB + 1);
  const partUrl = await call(`/s3/multipart/${id}/1${q}`, { token: alice });
  const sent = await fetch(partUrl.body.url, { method: "PUT", body: partBytes });
  assert.equal(sent.status, 200);
  const etag = sent.headers.get("etag");
  assert.deepEqual((await s3.listUploads()).find((u) => u.uploadId === storeUploadId(uploadId))?.parts, [1], "the store holds part 1");
  const note = await call("/uploads", { method: "POST", token: alice, body: { file_name: "note.txt", content_type: "text/plain", size: 5, method: "PUT" } });
  assert.equal(note.status, 200, JSON.stringify(note.body));
  const { "content-length": _, ...putHeaders } = note.body.headers;
  assert.equal((await fetch(note.body.url, { method: "PUT", headers: putHeaders, body: "note\n" })).status, 200);

  const naming = [
    ["UploadPart URL", `/s3/multipart/${id}/2${q}`],
    ["ListParts", `/s3/multipart/${id}${q}`],
    ["Complete", `/s3/multipart/${id}/complete${q}`, { method: "POST", body: { parts: [{ PartNumber: 1, ETag: etag }] } }],
    ["Abort", `/s3/multipart/${id}${q}`, { method: "DELETE" }],
    ["sign UploadPart", "/s3/sign", { method: "POST", body: { method: "PUT", key, uploadId, partNumber: 2 } }],
    ["sign ListParts", "/s3/sign", { method: "POST", body: { method: "GET", key, uploadId } }],
    ["sign Complete", "/s3/sign", { method: "POST", body: { method: "POST", key, uploadId } }],
    ["sign Abort", "/s3/sign", { method: "POST", body: { method: "DELETE", key, uploadId } }],
    ["download", `/downloads/${note.body.key.split("/").map(encodeURIComponent).join("/")}`],
  ];
  const fresh = [
    ["POST /uploads", "/uploads", { method: "POST", body: { file_name: "x.txt", size: 1, method: "PUT" } }],
    ["GET /s3/params", "/s3/params?filename=x.txt&type=text%2Fplain"],
    ["POST /s3/multipart", "/s3/multipart", { method: "POST", body: { filename: "x.bin" } }],
    ["sign PutObject", "/s3/sign", { method: "POST", body: { method: "PUT", key: "x.txt" } }],
    ["sign CreateMultipartUpload", "/s3/sign", { method: "POST", body: { method: "POST", key: "x.bin" } }],
  ];
  const outcome = async (routes, options) => Object.fromEntries(await Promise.all(routes.map(async ([name, path, init]) => {
    const { status, body } = await call(path, { ...init, ...options });
    return [name, `${status} ${body?.error?.code}`];
  })));
  const everyRoute = [...fresh, ...naming];
  assert.deepEqual(await outcome(everyRoute, {}), Object.fromEntries(everyRoute.map(([name]) => [name, "401 unauthorized"])));
  assert.deepEqual(await outcome(naming, { token: bob }), Object.fromEntries(naming.map(([name]) => [name, "403 key_not_allowed"])));

  // Bob knows Alice's upload handle and names it with a key in his own segment (from an upload
  // of his own): the handle is bound to Alice's key and to Alice, so every route refuses it
  // before the store is asked. Her bare S3 upload ID is no handle at all.
  const his = await call("/s3/multipart", { method: "POST", token: bob, body: { filename: "his.bin" } });
  assert.equal(his.status, 200, JSON.stringify(his.body));
  const hisQ = `?${new URLSearchParams({ key: his.body.key })}`;
  const borrowing = (handle) => [
    ["UploadPart URL", `/s3/multipart/${handle}/2${hisQ}`],
    ["ListParts", `/s3/multipart/${handle}${hisQ}`],
    ["Complete", `/s3/multipart/${handle}/complete${hisQ}`, { method: "POST", body: { parts: [{ PartNumber: 1, ETag: etag }] } }],
    ["Abort", `/s3/multipart/${handle}${hisQ}`, { method: "DELETE" }],
    ["sign UploadPart", "/s3/sign", { method: "POST", body: { method: "PUT", key: his.body.key, uploadId: decodeURIComponent(handle), partNumber: 2 } }],
    ["sign ListParts", "/s3/sign", { method: "POST", body: { method: "GET", key: his.body.key, uploadId: decodeURIComponent(handle) } }],
    ["sign Complete", "/s3/sign", { method: "POST", body: { method: "POST", key: his.body.key, uploadId: decodeURIComponent(handle) } }],
    ["sign Abort", "/s3/sign", { method: "POST", body: { method: "DELETE", key: his.body.key, uploadId: decodeURIComponent(handle) } }],
  ];
  const borrowed = borrowing(id);
  assert.deepEqual(await outcome(borrowed, { token: bob }), Object.fromEntries(borrowed.map(([name]) => [name, "403 upload_not_allowed"])));
  const bare = borrowing(encodeURIComponent(storeUploadId(uploadId)));
  assert.deepEqual(await outcome(bare, { token: bob }), Object.fromEntries(bare.map(([name]) => [name, "400 invalid_upload_id"])));
  // Alice's own handle with another of her keys is refused too: a handle names one upload.
  const other = await call("/s3/multipart", { method: "POST", token: alice, body: { filename: "other.bin" } });
  const otherQ = `?${new URLSearchParams({ key: other.body.key })}`;
  assert.deepEqual(await call(`/s3/multipart/${id}${otherQ}`, { token: alice }).then((r) => `${r.status} ${r.body?.error?.code}`), "403 upload_not_allowed");
  assert.equal(await s3.readObject(his.body.key), null, "Bob completed nothing into his key");

  // The cookie stands for the caller only on the worker's own origin.
  const cookie = { Cookie: `${COOKIE}=${alice}` };
  assert.equal((await call("/s3/params?filename=x.txt", { headers: cookie })).status, 200, "same origin (no Origin header)");
  assert.equal((await call("/s3/params?filename=x.txt", { headers: { ...cookie, Origin: app.url } })).status, 401, "an allowed but other origin");
  assert.equal((await call("/s3/params?filename=x.txt", { headers: { ...cookie, "Sec-Fetch-Site": "same-site" } })).status, 401);

  // Nothing Bob tried touched Alice's upload: she lists her part and completes it.
  const listed = await call(`/s3/multipart/${id}${q}`, { token: alice });
  assert.deepEqual(listed.body, [{ PartNumber: 1, Size: partBytes.length, ETag: etag }]);
  const done = await call(`/s3/multipart/${id}/complete${q}`, { method: "POST", token: alice, body: { parts: [{ PartNumber: 1, ETag: etag }] } });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.key, key);
  assert.ok((await s3.readObject(key))?.equals(partBytes));
});

// A large upload's parts list (Uppy's parts are file size / 10,000 and at least 5 MiB; client.js's
// 8 MiB) runs well past the 16 KiB other bodies may have: a completion takes up to 1 MiB.
test("Companion complete takes the parts list of a large upload (300 parts)", LIMITS, async () => {
  const post = (path, body) => fetch(`${open.url}${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const { body: { key, uploadId } } = await post("/s3/multipart", { filename: "huge.bin" });
  // ETags as S3 writes them (32 hex digits in quotes); these parts were never sent, so the
  // store refuses the completion, but that refusal must come from the store, not the body size.
  const parts = Array.from({ length: 300 }, (_, i) => ({ PartNumber: i + 1, ETag: `"${randomBytes(16).toString("hex")}"` }));
  const answer = await post(`/s3/multipart/${encodeURIComponent(uploadId)}/complete?${new URLSearchParams({ key })}`, { parts });
  await fetch(`${open.url}/s3/multipart/${encodeURIComponent(uploadId)}?${new URLSearchParams({ key })}`, { method: "DELETE" });
  assert.notEqual(answer.body.error?.code, "body_too_large", `${JSON.stringify({ parts }).length}-byte body: ${JSON.stringify(answer)}`);
});

// signRequest mode's completion: /s3/sign answers the worker's own completion route, which
// takes S3's XML as an S3 client sends it, completes only parts listed with the ETags named,
// and answers as S3 would (errors also carry x-amz-error-code, where an S3 client reads them).
test("signRequest completions go to the worker, which checks each named part's ETag and answers S3's XML", LIMITS, async () => {
  const json = (path, body) => fetch(`${open.url}${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const { body: { key, uploadId } } = await json("/s3/multipart", { filename: "parts.bin", type: "application/octet-stream" });
  const q = `?${new URLSearchParams({ key })}`;
  const partUrl = (await fetch(`${open.url}/s3/multipart/${encodeURIComponent(uploadId)}/1${q}`).then((r) => r.json())).url;
  const bytes = randomBytes(1000);
  const etag = (await fetch(partUrl, { method: "PUT", body: bytes })).headers.get("etag");
  // A part over the whole limit, uploaded but not named: the total counts only named parts.
  const part2Url = (await fetch(`${open.url}/s3/multipart/${encodeURIComponent(uploadId)}/2${q}`).then((r) => r.json())).url;
  assert.equal((await fetch(part2Url, { method: "PUT", body: randomBytes(MULTIPART_LIMIT + 1) })).status, 200);
  const signed = await json("/s3/sign", { method: "POST", key, uploadId });
  assert.equal(signed.status, 200);
  // The worker's own completion route, with its own MAC over the upload, key, limit and expiry.
  const completeUrl = new URL(signed.body.url);
  assert.equal(completeUrl.origin + completeUrl.pathname, `${open.url}/s3/multipart/${encodeURIComponent(uploadId)}/complete`);
  assert.equal(completeUrl.searchParams.get("key"), key);
  assert.equal(completeUrl.searchParams.get("limit"), String(MULTIPART_LIMIT));
  assert.match(completeUrl.searchParams.get("signature"), /^[0-9a-f]{32}$/);
  // Any change to what the MAC covers is refused before S3 is asked.
  for (const [name, value] of [["limit", String(MULTIPART_LIMIT * 2)], ["expires", String(Number(completeUrl.searchParams.get("expires")) + 60)],
    ["signature", "0".repeat(32)], ["sub", "mallory"]]) {
    const tampered = new URL(completeUrl);
    tampered.searchParams.set(name, value);
    const refused = await fetch(tampered, { method: "POST", headers: { "Content-Type": "application/xml" }, body: "<CompleteMultipartUpload/>" });
    assert.equal(refused.status, 403, name);
    assert.equal(refused.headers.get("x-amz-error-code"), "upload_not_allowed", name);
  }
  const complete = (parts) => fetch(signed.body.url, {
    method: "POST", headers: { "Content-Type": "application/xml" },
    body: `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`,
  });
  for (const [parts, why] of [
    [[[1, '"0123456789abcdef0123456789abcdef"']], "another ETag (the part uploaded again since)"],
    [[[1, etag], [2, etag]], "a part named with another part's ETag"],
    [[[1, etag], [3, etag]], "a part never uploaded"],
  ]) {
    const refused = await complete(parts);
    assert.equal(refused.status, 400, why);
    assert.equal(refused.headers.get("x-amz-error-code"), "invalid_parts", why);
    assert.equal((await refused.json()).error.code, "invalid_parts", why);
  }
  const done = await complete([[1, etag.replaceAll('"', "")]]); // unquoted, as Uppy sends it
  assert.equal(done.status, 200);
  assert.equal(done.headers.get("content-type"), "application/xml");
  const xml = await done.text();
  assert.match(xml, /^<\?xml [^>]*\?>\n<CompleteMultipartUploadResult><Location>http[^<]+<\/Location><Bucket>[^<]+<\/Bucket><Key>([^<]+)<\/Key>/);
  assert.equal(xml.match(/<Key>([^<]+)<\/Key>/)[1], key);
  assert.ok((await s3.readObject(key))?.equals(bytes));
  assert.equal(open.logs().split("\n").filter((l) => l.includes('"CompleteMultipartUpload"') && l.includes(key)).length, 1, "one audit line");
});

test("the workers never logged their secrets", () => {
  for (const worker of [open, secured]) {
    assert.ok(!worker.logs().includes(s3.secretKey));
    assert.ok(!worker.logs().includes(SECRET));
  }
});

test("a multipart upload announced over UPLOAD_MAX_MULTIPART_BYTES is refused before any part is sent", LIMITS, async () => {
  const before = await s3.listUploads();
  const res = await fetch(`${open.url}/s3/multipart`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ filename: "too-big.bin", type: "", size: MULTIPART_LIMIT + 1 }),
  });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, "file_too_large");
  assert.equal((await s3.listUploads()).length, before.length, "no upload was created");
});
