// Every byte bounded by what the operator allowed, whichever way it comes in, and nothing that
// landed overwritten: against s3s-fs, which verifies signatures and signed headers for real.
//   - multipart follows UPLOAD_MAX_BYTES unless UPLOAD_MAX_MULTIPART_BYTES says otherwise;
//   - a part of known size signs that size, and part numbers stop where the limit would pass;
//   - a presigned PUT signs `If-None-Match: *` (unless UPLOAD_ALLOW_OVERWRITE), so a second PUT
//     with the same URL is refused by the store.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { postJson, putWhole, requestUpload, startAll, startS3, startWorker, stopAll, storeUploadId } from "./harness.mjs";

const MiB = 1024 * 1024;

let s3;
let small; // UPLOAD_MAX_BYTES 1 MiB, and nothing said about multipart
let parts; // multipart allowed up to 16 MiB
let overwriting; // UPLOAD_ALLOW_OVERWRITE

before(async () => {
  s3 = await startS3();
  [small, parts, overwriting] = await startAll([
    () => startWorker(s3, { UPLOAD_MAX_BYTES: String(MiB) }),
    () => startWorker(s3, { UPLOAD_MAX_MULTIPART_BYTES: String(16 * MiB) }),
    () => startWorker(s3, { UPLOAD_ALLOW_OVERWRITE: "true" }),
  ]);
});

after(async () => {
  await Promise.all([small?.stop(), parts?.stop(), overwriting?.stop()]);
  await s3?.stop();
  await stopAll();
});

const get = (url) => fetch(url).then(async (r) => ({ status: r.status, body: await r.json() }));
const outcome = ({ status, body }) => `${status} ${body?.error?.code ?? "ok"}`;

test("with UPLOAD_MAX_BYTES at 1 MiB, an 8 MiB multipart upload is refused on every step", async () => {
  const announced = await postJson(`${small.url}/s3/multipart`, { filename: "big.bin", size: 8 * MiB });
  assert.equal(outcome(announced), "413 file_too_large", "announced: refused before an upload exists");

  // Uppy's Companion create sends no size: the upload starts, and every step after it holds.
  const { body: { key, uploadId } } = await postJson(`${small.url}/s3/multipart`, { filename: "big.bin" });
  const at = (n, size) => `${small.url}/s3/multipart/${encodeURIComponent(uploadId)}/${n}?${new URLSearchParams({ key, ...(size ? { size } : {}) })}`;
  assert.equal(outcome(await get(at(1, 6 * MiB))), "413 file_too_large", "a 6 MiB part");
  assert.equal(outcome(await get(at(2))), "413 file_too_large", "a second part: 1 MiB holds one part");
  // Part 1 of unknown size can be signed (Uppy's part requests carry no size)...
  const part1 = await get(at(1));
  assert.equal(part1.status, 200);
  const bytes = randomBytes(6 * MiB);
  const sent = await fetch(part1.body.url, { method: "PUT", body: bytes });
  assert.equal(sent.status, 200);
  // ...and the completion counts it, refuses, and aborts the upload.
  const done = await postJson(`${small.url}/s3/multipart/${encodeURIComponent(uploadId)}/complete?${new URLSearchParams({ key })}`,
    { parts: [{ PartNumber: 1, ETag: sent.headers.get("etag") }] });
  assert.equal(outcome(done), "413 file_too_large");
  assert.equal(await s3.readObject(key), null, "nothing stored");
  assert.ok(!(await s3.listUploads()).some((u) => u.uploadId === storeUploadId(uploadId)), "no parts kept");
});

test("a part URL for a known size takes exactly that many bytes", async () => {
  const { body: { key, uploadId } } = await postJson(`${parts.url}/s3/multipart`, { filename: "sized.bin" });
  const url = (size) => get(`${parts.url}/s3/multipart/${encodeURIComponent(uploadId)}/1?${new URLSearchParams({ key, size })}`);
  const signed = await url(5 * MiB);
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  const longer = await putWhole(signed.body.url, randomBytes(5 * MiB + 1));
  assert.equal(longer.status, 403, "one byte over the signed size: the signature does not match");
  assert.match(longer.text, /<Code>SignatureDoesNotMatch<\/Code>/);
  const exact = await fetch(signed.body.url, { method: "PUT", body: randomBytes(5 * MiB) });
  assert.equal(exact.status, 200);
  // Sizes the limit cannot hold, and part numbers past it, are not signed at all.
  assert.equal(outcome(await url(16 * MiB + 1)), "413 file_too_large");
  assert.equal(outcome(await url(0)), "400 invalid_size");
  const fifth = await get(`${parts.url}/s3/multipart/${encodeURIComponent(uploadId)}/5?${new URLSearchParams({ key })}`);
  assert.equal(outcome(fifth), "413 file_too_large", "16 MiB holds at most 4 parts of 5 MiB");
  await fetch(`${parts.url}/s3/multipart/${encodeURIComponent(uploadId)}?${new URLSearchParams({ key })}`, { method: "DELETE" });
});

test("a presigned PUT lands once: the same URL again is refused by the store", async () => {
  const answer = await requestUpload(parts.url, { file_name: "once.txt", content_type: "text/plain", size: 6, method: "PUT" });
  assert.equal(answer.headers["if-none-match"], "*");
  const { "content-length": _, ...headers } = answer.headers;
  const first = await fetch(answer.url, { method: "PUT", headers, body: "first\n" });
  assert.equal(first.status, 200);
  const again = await fetch(answer.url, { method: "PUT", headers, body: "again\n" });
  assert.equal(again.status, 412, "a second PUT to the same key");
  assert.match(await again.text(), /<Code>PreconditionFailed<\/Code>/);
  const { "if-none-match": __, ...withoutCondition } = headers;
  const unconditional = await fetch(answer.url, { method: "PUT", headers: withoutCondition, body: "third\n" });
  assert.equal(unconditional.status, 403, "the condition is signed: it cannot be left out");
  assert.equal((await s3.readObject(answer.key)).toString(), "first\n", "the first version stays");
});

test("a multipart completion never replaces an object already under its key", async () => {
  const complete = async (worker) => {
    const { body: { key, uploadId } } = await postJson(`${worker.url}/s3/multipart`, { filename: "late.bin" });
    const q = new URLSearchParams({ key });
    const part = await get(`${worker.url}/s3/multipart/${encodeURIComponent(uploadId)}/1?${q}`);
    const sent = await fetch(part.body.url, { method: "PUT", body: "parts\n" });
    // Something lands under the key first (another writer, a copy, a restore).
    await mkdir(dirname(join(s3.dir, s3.bucket, key)), { recursive: true });
    await writeFile(join(s3.dir, s3.bucket, key), "first\n");
    const done = await postJson(`${worker.url}/s3/multipart/${encodeURIComponent(uploadId)}/complete?${q}`,
      { parts: [{ PartNumber: 1, ETag: sent.headers.get("etag") }] });
    return { done, stored: (await s3.readObject(key)).toString() };
  };
  const refused = await complete(parts);
  assert.equal(outcome(refused.done), "409 object_exists", JSON.stringify(refused.done.body));
  assert.equal(refused.stored, "first\n", "the object that was there stays");
  const replaced = await complete(overwriting);
  assert.equal(replaced.done.status, 200, "UPLOAD_ALLOW_OVERWRITE: the completion replaces it");
  assert.equal(replaced.stored, "parts\n");
});

test("UPLOAD_ALLOW_OVERWRITE: a presigned PUT may write its key again until it expires", async () => {
  const answer = await requestUpload(overwriting.url, { file_name: "twice.txt", content_type: "text/plain", size: 6, method: "PUT" });
  assert.equal(answer.headers["if-none-match"], undefined);
  const { "content-length": _, ...headers } = answer.headers;
  for (const body of ["first\n", "again\n"]) {
    assert.equal((await fetch(answer.url, { method: "PUT", headers, body })).status, 200);
  }
  assert.equal((await s3.readObject(answer.key)).toString(), "again\n");
});

test("the workers never logged their secrets", () => {
  for (const worker of [small, parts, overwriting]) assert.ok(!worker.logs().includes(s3.secretKey));
});
