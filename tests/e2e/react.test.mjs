// The seed's React form, finished (examples/react/, bundled by scripts/build-examples.mjs into
// web/examples/react/): headless Chromium picks a file and presses Submit, and the file goes
// through the worker's client to the local S3 behind its CORS front.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { postJson, ROOT, startS3, startWorker, stopAll } from "./harness.mjs";

const OUTPUT = join(process.env.TEST_OUTPUT ?? join(ROOT, "test-output"), "react");
const MAX_BYTES = 300_000;

let s3;
let worker;
let browser;
let page;

before(async () => {
  // The bundle of the sources as they are now (cheap, and writes nothing when unchanged).
  execFileSync(process.execPath, [join(ROOT, "scripts/build-examples.mjs")], { stdio: "inherit" });
  s3 = await startS3({ cors: true });
  worker = await startWorker(s3, { DEMO_PAGE: "true", UPLOAD_MAX_BYTES: String(MAX_BYTES) });
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
  await s3?.stop();
  await stopAll();
});

/** Opens the example afresh, picks `file` and presses Submit. */
async function submit(file) {
  await page.goto(`${worker.url}/examples/react/`);
  await page.setInputFiles('input[name="my_file"]', file);
  await page.getByRole("button", { name: "Submit" }).click();
}

test("a file chosen in the React form lands in the bucket byte for byte", async () => {
  const bytes = randomBytes(200 * 1024);
  await submit({ name: "holiday photo.JPG", mimeType: "image/jpeg", buffer: bytes });
  const result = page.getByTestId("result");
  await result.waitFor({ timeout: 60_000 });
  const key = (await result.locator("code").textContent()).trim();
  assert.match(key, /^uploads\/[0-9a-f-]{36}\/holiday-photo\.jpg$/);
  assert.ok((await s3.readObject(key))?.equals(bytes), "stored bytes are the file's");
  assert.equal(await page.locator("progress").evaluate((bar) => bar.value), 1, "progress reached the end");
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

test("Abort cancels the upload in flight", async () => {
  // Hold the worker's answer until Abort is pressed, so the upload is surely in flight.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route(`${worker.url}/uploads`, async (route) => {
    await held;
    await route.continue().catch(() => {}); // the page gave up on it: nothing left to answer
  });
  try {
    const before = (await s3.listObjects()).length;
    await submit({ name: "kept.txt", mimeType: "text/plain", buffer: Buffer.from("never stored\n") });
    await page.getByRole("button", { name: "Abort" }).click(); // waits until it is enabled
    const error = page.getByTestId("error");
    await error.waitFor({ timeout: 30_000 });
    assert.match(await error.textContent(), /^aborted: /);
    assert.ok(await page.getByRole("button", { name: "Submit" }).isEnabled(), "the form is usable again");
    assert.equal((await s3.listObjects()).length, before);
  } finally {
    release();
    await page.unrouteAll({ behavior: "ignoreErrors" });
  }
});
