// End to end: forms from the worker under wrangler dev, uploads into s3s-fs, which checks the
// signature and every policy condition for real. What S3 must refuse, it must refuse here.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { requestUpload, startAll, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

let s3;
let worker;
// A second worker whose forms expire after one second and take at most 1,000 bytes. (A small
// limit keeps "too large" deterministic: s3s-fs refuses a large body mid-stream and closes the
// connection, and a client still writing then loses the answer to EPIPE, as against S3.)
let shortLived;
const SMALL_MAX_BYTES = 1000;

before(async () => {
  s3 = await startS3();
  [worker, shortLived] = await startAll([
    () => startWorker(s3),
    () => startWorker(s3, { UPLOAD_EXPIRES_SECONDS: "1", UPLOAD_MAX_BYTES: String(SMALL_MAX_BYTES) }),
  ]);
});

after(async () => {
  await Promise.all([worker?.stop(), shortLived?.stop()]);
  await s3?.stop();
  await stopAll();
});

const requestForm = (request, base = worker.url) => requestUpload(base, request);

// S3 answers a failed policy condition with AccessDenied ("Invalid according to Policy");
// s3s-fs names it InvalidPolicyDocument. Either is a refusal for that reason.
const CONDITION_FAILED = "AccessDenied|InvalidPolicyDocument";

/** Asserts S3 refused the upload for the expected reason and stored nothing. */
async function assertRefused(result, form, expectedCodes) {
  assert.ok(result.status >= 400 && result.status < 500, `expected a refusal, got ${result.status}: ${result.text}`);
  assert.match(result.text, new RegExp(`<Code>(${expectedCodes})</Code>`), result.text);
  assert.equal(await s3.readObject(form.key), null, "nothing may be stored");
}

describe("uploads through a signed form", () => {
  test("a browser-style upload lands byte for byte under the returned key", async () => {
    const bytes = randomBytes(300 * 1024);
    const form = await requestForm({ file_name: "holiday photo.JPG", content_type: "image/jpeg", size: bytes.length });
    assert.match(form.key, /^uploads\/[0-9a-f-]{36}\/holiday-photo\.jpg$/);
    assert.equal(form.fields.key, form.key);
    assert.equal(form.fields["Content-Type"], "image/jpeg");
    assert.equal(form.max_bytes, bytes.length);
    assert.ok(Date.parse(form.expires_at) > Date.now());
    assert.equal(form.url, `${s3.url}/${s3.bucket}`);

    const result = await uploadWithForm(form, bytes, { fileName: "holiday photo.JPG", type: "image/jpeg" });
    assert.ok([200, 201, 204].includes(result.status), `${result.status}: ${result.text}`);
    const stored = await s3.readObject(form.key);
    assert.ok(stored, "object stored");
    assert.ok(stored.equals(bytes), "stored bytes are identical");
  });

  test("without a size, anything from 1 byte to UPLOAD_MAX_BYTES is accepted", async () => {
    const form = await requestForm({ file_name: "notes.txt" });
    assert.equal(form.max_bytes, 10485760);
    // No type asked for: the extension's is pinned all the same.
    assert.equal(form.fields["Content-Type"], "text/plain");
    const bytes = Buffer.from("a few bytes of notes\n");
    const result = await uploadWithForm(form, bytes, { type: "text/plain" });
    assert.ok(result.status < 300, result.text);
    assert.ok((await s3.readObject(form.key)).equals(bytes));
  });

  test("each form gets its own key, so uploads never overwrite each other", async () => {
    const [a, b] = await Promise.all([requestForm({ file_name: "same.txt" }), requestForm({ file_name: "same.txt" })]);
    assert.notEqual(a.key, b.key);
    await uploadWithForm(a, Buffer.from("first"));
    await uploadWithForm(b, Buffer.from("second"));
    assert.equal((await s3.readObject(a.key)).toString(), "first");
    assert.equal((await s3.readObject(b.key)).toString(), "second");
  });
});

describe("the real server refuses tampered or out-of-policy uploads", () => {
  test("a changed key", async () => {
    const form = await requestForm({ file_name: "mine.txt" });
    const otherKey = form.key.replace("mine.txt", "someone-elses.txt");
    const result = await uploadWithForm(form, Buffer.from("x"), { fields: { ...form.fields, key: otherKey } });
    await assertRefused(result, form, CONDITION_FAILED);
    assert.match(result.text, /key/);
    assert.equal(await s3.readObject(otherKey), null);
  });

  test("a key moved outside the prefix", async () => {
    const form = await requestForm({ file_name: "mine.txt" });
    const result = await uploadWithForm(form, Buffer.from("x"), { fields: { ...form.fields, key: "elsewhere/mine.txt" } });
    await assertRefused(result, form, CONDITION_FAILED);
    assert.equal(await s3.readObject("elsewhere/mine.txt"), null);
  });

  test("a file larger than the size the form was issued for", async () => {
    const form = await requestForm({ file_name: "small.bin", size: 10 });
    const result = await uploadWithForm(form, randomBytes(11));
    await assertRefused(result, form, "EntityTooLarge");
  });

  test("a file larger than UPLOAD_MAX_BYTES when no size was given", async () => {
    const form = await requestForm({ file_name: "big.bin" }, shortLived.url);
    assert.equal(form.max_bytes, SMALL_MAX_BYTES);
    const result = await uploadWithForm(form, Buffer.alloc(SMALL_MAX_BYTES + 1));
    await assertRefused(result, form, "EntityTooLarge");
  });

  test("a Content-Type other than the pinned one", async () => {
    const form = await requestForm({ file_name: "cat.png", content_type: "image/png" });
    const fields = { ...form.fields, "Content-Type": "text/html" };
    const result = await uploadWithForm(form, Buffer.from("<script>alert(1)</script>"), { fields, type: "text/html" });
    await assertRefused(result, form, CONDITION_FAILED);
    assert.match(result.text, /content-type/i);
  });

  test("a forged signature", async () => {
    const form = await requestForm({ file_name: "forged.txt" });
    const signature = form.fields["x-amz-signature"];
    const forged = (signature[0] === "0" ? "1" : "0") + signature.slice(1);
    const result = await uploadWithForm(form, Buffer.from("x"), { fields: { ...form.fields, "x-amz-signature": forged } });
    await assertRefused(result, form, "SignatureDoesNotMatch");
  });

  test("a policy edited to allow more, keeping the old signature", async () => {
    const form = await requestForm({ file_name: "edit.bin", size: 5 });
    const policy = JSON.parse(Buffer.from(form.fields.policy, "base64").toString());
    policy.conditions = policy.conditions.map((c) => (Array.isArray(c) && c[0] === "content-length-range" ? [c[0], 1, 1000] : c));
    const edited = Buffer.from(JSON.stringify(policy)).toString("base64");
    const result = await uploadWithForm(form, randomBytes(100), { fields: { ...form.fields, policy: edited } });
    await assertRefused(result, form, "SignatureDoesNotMatch");
  });

  test("an expired policy", async () => {
    const form = await requestForm({ file_name: "late.txt" }, shortLived.url);
    assert.ok(Date.parse(form.expires_at) - Date.now() <= 1000);
    await new Promise((r) => setTimeout(r, 2500));
    const result = await uploadWithForm(form, Buffer.from("too late"));
    await assertRefused(result, form, CONDITION_FAILED);
    assert.match(result.text, /expired/i);
  });
});

test("no response and no log line carries the secret access key", () => {
  for (const w of [worker, shortLived]) assert.ok(!w.logs().includes(s3.secretKey), "secret in worker logs");
});
