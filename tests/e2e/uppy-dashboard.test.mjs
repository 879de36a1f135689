// The Uppy example as a person uses it: files dropped into @uppy/dashboard (the file input the
// Dashboard renders), with the restrictions the page read from GET /uploads/limits. Headless
// Chromium against two workers: one with the default 10 MiB limit, one that takes up to
// 32 MiB in parts but only video/mp4 and image/png. Screenshots go to test-output/uppy-dashboard/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launchChromium, ROOT, startAll, startS3, startWorker, stopAll } from "./harness.mjs";

const OUTPUT = join(process.env.TEST_OUTPUT ?? join(ROOT, "test-output"), "uppy-dashboard");
const MiB = 1024 * 1024;
const LIMITS = { timeout: 120_000 };
const TYPES = "video/mp4,image/png";

let s3;
let plain; // every setting at its default: 10 MiB, any type
let roomy; // 32 MiB in parts, two types
let profiled; // an "avatar" upload profile: 1 KiB, image/png, no multipart
let browser;

before(async () => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-examples.mjs")], { stdio: "inherit" });
  s3 = await startS3({ cors: true });
  const avatar = { avatar: { max_bytes: 1024, allowed_types: ["image/png"], prefix: "avatars/", max_multipart_bytes: 0 } };
  [plain, profiled, roomy] = await startAll([
    () => startWorker(s3, { DEMO_PAGE: "true" }),
    () => startWorker(s3, { DEMO_PAGE: "true", UPLOAD_PROFILES: JSON.stringify(avatar) }),
    () => startWorker(s3, { DEMO_PAGE: "true", UPLOAD_MAX_MULTIPART_BYTES: String(32 * MiB), UPLOAD_ALLOWED_TYPES: TYPES }),
  ]);
  browser = await launchChromium();
  await mkdir(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.all([plain?.stop(), roomy?.stop(), profiled?.stop()]);
  await s3?.stop();
  await stopAll();
});

/** The example from `worker`, once its Dashboard is up with the worker's limits; `seen` lists requests from then on. */
async function openDashboard(worker) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${worker.url}/examples/uppy/`);
  await page.waitForFunction(() => typeof window.uppyUpload === "function");
  const seen = [];
  page.on("request", (request) => seen.push({ method: request.method(), url: new URL(request.url()) }));
  return { page, seen, close: () => context.close() };
}

/** Drops `file` into the Dashboard through the file input it renders, as a person picking a file. */
const drop = (page, file) => page.setInputFiles(".uppy-Dashboard-input >> nth=0", file);

test("default 10 MiB: a 12 MB file is refused in the Dashboard, in the worker's words, before anything is sent", LIMITS, async () => {
  const { page, seen, close } = await openDashboard(plain);
  try {
    // What the worker itself says about such a file, to compare with the page.
    const said = await fetch(`${plain.url}/uploads/limits`).then((r) => r.json());
    assert.equal(said.messages.file_too_large, "file is larger than the 10485760 bytes allowed");
    await page.locator(".uppy-Dashboard-note").getByText("up to 10485760 bytes in one upload").waitFor();

    await drop(page, { name: "twelve.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(12_000_000) });
    const refusal = page.locator('#uploads li[data-state="refused"]');
    await refusal.waitFor();
    assert.equal(await refusal.textContent(), `twelve.bin: ${said.messages.file_too_large}`);
    assert.match(await page.locator(".uppy-Informer").first().textContent(), /10485760 bytes allowed/, "Uppy's own notice says it too");
    await page.screenshot({ path: join(OUTPUT, "refused-size.png"), fullPage: true });
    assert.equal(await page.locator(".uppy-Dashboard-Item").count(), 0, "the file was not added");
    assert.deepEqual(seen.filter((r) => r.url.origin === new URL(s3.url).origin || r.url.pathname.startsWith("/s3/")
      || r.url.pathname === "/uploads"), [], "nothing asked for a signature or sent to the bucket");
  } finally {
    await close();
  }
});

test("UPLOAD_MAX_MULTIPART_BYTES 32 MiB: a 12 MiB file uploads in parts through the Dashboard and lands whole", LIMITS, async () => {
  const { page, seen, close } = await openDashboard(roomy);
  try {
    await page.locator(".uppy-Dashboard-note").getByText(`up to ${32 * MiB} bytes in parts`).waitFor();
    const bytes = randomBytes(12 * MiB);
    await drop(page, { name: "clip.mp4", mimeType: "video/mp4", buffer: bytes });
    await page.locator(".uppy-StatusBar-actionBtn--upload").click();
    const done = page.locator('#uploads li[data-state="done"]');
    await done.waitFor({ timeout: 90_000 });
    const key = (await done.textContent()).match(/stored as (\S+)$/)?.[1];
    assert.match(key ?? "", /^uploads\/[0-9a-f-]{36}\/clip\.mp4$/, await done.textContent());
    const stored = await s3.readObject(key);
    assert.equal(stored?.length, 12 * MiB, "the object has the file's size");
    assert.ok(stored.equals(bytes), "byte for byte");
    // Over max_bytes (10 MiB), so in parts: Uppy's 5 MiB parts, three of them, no single form.
    const toBucket = seen.filter((r) => r.url.origin === new URL(s3.url).origin && r.method !== "OPTIONS");
    assert.deepEqual(toBucket.filter((r) => r.method === "PUT").map((r) => r.url.searchParams.get("partNumber")), ["1", "2", "3"]);
    assert.ok(!toBucket.some((r) => r.method === "POST" && !r.url.searchParams.has("uploadId")), "no single-request form");
    await page.screenshot({ path: join(OUTPUT, "uploaded-in-parts.png"), fullPage: true });
  } finally {
    await close();
  }
});

test("UPLOAD_ALLOWED_TYPES: a file of another type is refused in the Dashboard, naming the worker's types", LIMITS, async () => {
  const { page, seen, close } = await openDashboard(roomy);
  try {
    await drop(page, { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a video\n") });
    const refusal = page.locator('#uploads li[data-state="refused"]');
    await refusal.waitFor();
    assert.equal(await refusal.textContent(), "The worker takes only these types: video/mp4, image/png");
    assert.equal(await page.locator(".uppy-Dashboard-Item").count(), 0);
    assert.ok(!seen.some((r) => r.url.origin === new URL(s3.url).origin), "nothing went to the bucket");
    await page.screenshot({ path: join(OUTPUT, "refused-type.png"), fullPage: true });
    // A file of an allowed type is taken (it waits in the Dashboard for the Upload button).
    await drop(page, { name: "dot.png", mimeType: "image/png", buffer: Buffer.from("89504e470d0a1a0a", "hex") });
    await page.locator(".uppy-Dashboard-Item").first().waitFor();
  } finally {
    await close();
  }
});

test("an upload profile: its limits in the Dashboard, its prefix on the key, and the worker verifies the upload", LIMITS, async () => {
  const { page, close } = await openDashboard(profiled);
  try {
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(500)]);
    for (const mode of ["companion", "sign", "plain"]) {
      const report = await page.evaluate(async ({ mode, bytes }) => {
        const file = new File([new Uint8Array(bytes)], "me.png", { type: "image/png" });
        return window.uppyUpload(file, { mode, profile: "avatar" });
      }, { mode, bytes: [...png] });
      assert.deepEqual(report.errors, [], mode);
      assert.match(report.key ?? "", /^avatars\/[0-9a-f-]{36}\/me\.png$/, `${mode}: under the profile's prefix`);
      assert.equal(report.verified?.profile, "avatar", `${mode}: verified by the worker under the profile`);
      assert.equal(report.verified?.size, png.length);
      assert.equal((await s3.readObject(report.key)).length, png.length);
    }
    // The profile's own limits, from GET /uploads/limits?profile=avatar, refuse before upload.
    const refused = await page.evaluate(async () => {
      const file = new File([new Uint8Array(2048)], "big.png", { type: "image/png" });
      return window.uppyUpload(file, { profile: "avatar" });
    });
    assert.equal(refused.refused, "big.png: file is larger than the 1024 bytes allowed");
    await page.locator('#uploads li[data-state="verified"]').first().waitFor();
  } finally {
    await close();
  }
});

test("Companion mode: two files refused at once each show their own refusal, never the other's", LIMITS, async () => {
  const { page, close } = await openDashboard(roomy);
  try {
    // notes.txt: the worker refuses its type (415, JSON). dot.png: a proxy answers 502 with a
    // page, not the worker's JSON, and only once notes.txt's refusal has come back, so a page
    // that showed the latest refusal would put notes.txt's words on dot.png.
    let notesRefused;
    const afterNotes = new Promise((resolve) => (notesRefused = resolve));
    page.on("response", (response) => {
      if (response.url().includes("filename=notes.txt") && response.status() === 415) notesRefused();
    });
    await page.route("**/s3/params?*filename=dot.png*", async (route) => {
      await afterNotes;
      await route.fulfill({ status: 502, contentType: "text/html", body: "<h1>502 Bad Gateway</h1>" });
    });
    await page.evaluate(async () => {
      const { uppy } = await window.createUppy({ restrict: false });
      uppy.addFile({ name: "notes.txt", type: "text/plain", data: new Blob(["not a video\n"]) });
      uppy.addFile({ name: "dot.png", type: "image/png", data: new Blob([new Uint8Array(8)]) });
      await uppy.upload();
    });
    const errors = page.locator('#uploads li[data-state="error"]');
    await errors.nth(1).waitFor();
    const shown = Object.fromEntries((await errors.allTextContents()).map((line) => line.split(/: (.*)/s).slice(0, 2)));
    const said = await fetch(`${roomy.url}/uploads`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ file_name: "notes.txt", content_type: "text/plain" }),
    }).then((r) => r.json());
    assert.equal(shown["notes.txt"], `content_type_not_allowed: ${said.error.message}`);
    assert.match(shown["dot.png"], /^Companion request failed/, "dot.png shows its own failure");
    await page.screenshot({ path: join(OUTPUT, "two-refusals.png"), fullPage: true });
  } finally {
    await close();
  }
});
