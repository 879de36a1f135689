// End to end: verified completion (POST /uploads/complete) and upload.completed events, under
// wrangler dev (with its local Queues) against s3s-fs, delivered to a receiver here that
// verifies every delivery with the npm `standardwebhooks` package, as a backend would.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import standardwebhooks from "standardwebhooks";
import { mintToken, postJson, requestUpload, startAll, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

const { Webhook } = standardwebhooks;
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;

let s3;
let worker; // events through the queue
let deleting; // UPLOAD_DELETE_REJECTED, no receiver
let owned; // UPLOAD_DELETE_REJECTED with auth on: an owner's mismatch is deleted
const AUTH_SECRET = "events-test-auth-secret-of-32-bytes-or-more";
let receiver;

/** A receiver that records every delivery, and answers 500 to the first `failFirst` of a key. */
async function startReceiver() {
  const deliveries = [];
  const failures = new Map(); // key → deliveries still to refuse
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      let key;
      try {
        key = JSON.parse(body).data.key;
      } catch {
        /* recorded as it came */
      }
      const left = failures.get(key) ?? 0;
      const status = left > 0 ? 500 : 204;
      if (left > 0) failures.set(key, left - 1);
      deliveries.push({ headers, body, key, status });
      response.writeHead(status).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    deliveries,
    failFirst: (key, times) => failures.set(key, times),
    /** Resolves with the deliveries of `key` once `count` have arrived. */
    async waitFor(key, count = 1, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mine = deliveries.filter((d) => d.key === key);
        if (mine.length >= count) return mine;
        if (Date.now() > deadline) throw new Error(`${mine.length} of ${count} deliveries of ${key} arrived`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

before(async () => {
  s3 = await startS3();
  receiver = await startReceiver();
  [worker, deleting, owned] = await startAll([
    () => startWorker(s3, { UPLOAD_WEBHOOK_URL: receiver.url, UPLOAD_MAX_MULTIPART_BYTES: String(64 * 1024 * 1024) },
      { secrets: { UPLOAD_WEBHOOK_SECRET: SECRET } }),
    () => startWorker(s3, { UPLOAD_DELETE_REJECTED: "true" }),
    () => startWorker(s3, { UPLOAD_DELETE_REJECTED: "true" }, { secrets: { UPLOAD_AUTH_SECRET: AUTH_SECRET } }),
  ]);
});

after(async () => {
  await Promise.all([worker?.stop(), deleting?.stop(), owned?.stop()]);
  await receiver?.stop();
  await s3?.stop();
  await stopAll();
});

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("base64");

/** Asks `base` for a form for `request`, posts `bytes` to the store, and answers the form. */
async function uploaded(base, request, bytes, type = request.content_type ?? "application/octet-stream") {
  const form = await requestUpload(base, request);
  const sent = await uploadWithForm(form, bytes, { fileName: request.file_name, type });
  assert.equal(sent.status, 204, sent.text);
  return form;
}

const complete = (base, body) => postJson(`${base}/uploads/complete`, body);

describe("POST /uploads/complete", () => {
  test("a key with no object is 404 object_not_found", async () => {
    const form = await requestUpload(worker.url, { file_name: "never-sent.txt", size: 5 });
    const { status, body } = await complete(worker.url, { key: form.key, size: 5 });
    assert.equal(status, 404, JSON.stringify(body));
    assert.equal(body.error.code, "object_not_found");
  });

  test("a key the worker did not issue is refused before the store is asked", async () => {
    const { status, body } = await complete(worker.url, { key: "uploads/report.pdf" });
    assert.equal(status, 403, JSON.stringify(body));
    assert.equal(body.error.code, "key_not_allowed");
  });

  test("a wrong declared size or type is refused with what was found, and kept by default", async () => {
    const bytes = Buffer.from("hello world");
    const form = await uploaded(worker.url, { file_name: "a.txt", content_type: "text/plain" }, bytes);
    let { status, body } = await complete(worker.url, { key: form.key, size: bytes.length + 1 });
    assert.equal(status, 422, JSON.stringify(body));
    assert.equal(body.error.code, "size_mismatch");
    assert.equal(body.error.message, `the stored object is ${bytes.length} bytes, but ${bytes.length + 1} were declared`);
    ({ status, body } = await complete(worker.url, { key: form.key, content_type: "image/png" }));
    assert.equal(status, 422, JSON.stringify(body));
    assert.equal(body.error.code, "type_mismatch");
    assert.equal(body.error.message, "the stored object is text/plain, but image/png was declared");
    assert.ok(await s3.readObject(form.key), "without UPLOAD_DELETE_REJECTED the object stays");
  });

  test("with UPLOAD_DELETE_REJECTED an owner's mismatched object is deleted, and nobody else's", async () => {
    const bytes = Buffer.from("hello world");
    const alice = { Authorization: `Bearer ${mintToken("alice", AUTH_SECRET)}` };
    const bob = { Authorization: `Bearer ${mintToken("bob", AUTH_SECRET)}` };
    const asked = await postJson(`${owned.url}/uploads`, { file_name: "b.txt", content_type: "text/plain" }, alice);
    assert.equal((await uploadWithForm(asked.body, bytes, { fileName: "b.txt", type: "text/plain" })).status, 204);
    const key = asked.body.key;
    const other = await postJson(`${owned.url}/uploads/complete`, { key, size: 3 }, bob);
    assert.equal(other.status, 403, "another user cannot even name it");
    assert.ok(await s3.readObject(key));
    const { status, body } = await postJson(`${owned.url}/uploads/complete`, { key, size: 3 }, alice);
    assert.equal(status, 422, JSON.stringify(body));
    assert.equal(body.error.code, "size_mismatch");
    assert.match(body.error.message, /; the object was deleted$/);
    assert.equal(await s3.readObject(key), null);
  });

  test("with auth off, a declared mismatch never deletes: anyone who knows the key could declare one", async () => {
    const bytes = Buffer.from("hello world");
    const form = await uploaded(deleting.url, { file_name: "b.txt", content_type: "text/plain" }, bytes);
    assert.equal((await complete(deleting.url, { key: form.key, size: bytes.length })).status, 200);
    const { status, body } = await complete(deleting.url, { key: form.key, size: 1 });
    assert.equal(status, 422, JSON.stringify(body));
    assert.equal(body.error.message, `the stored object is ${bytes.length} bytes, but 1 were declared`);
    assert.ok(await s3.readObject(form.key), "kept");
  });

  test("a wrong declared checksum is refused; the right one is verified and answered", async () => {
    const bytes = randomBytes(1000);
    const checksum = sha256(bytes);
    const form = await uploaded(deleting.url, { file_name: "c.bin", size: bytes.length, checksum_sha256: checksum }, bytes);
    let { status, body } = await complete(deleting.url, { key: form.key, checksum_sha256: sha256(Buffer.from("other")) });
    assert.equal(status, 422, JSON.stringify(body));
    assert.equal(body.error.code, "checksum_mismatch");
    assert.ok(body.error.message.includes(checksum), body.error.message);
    const again = await uploaded(deleting.url, { file_name: "c.bin", size: bytes.length, checksum_sha256: checksum }, bytes);
    ({ status, body } = await complete(deleting.url, { key: again.key, size: bytes.length, checksum_sha256: checksum }));
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ["checksum_sha256", "content_type", "etag", "key", "profile", "size"],
      "no event_id without UPLOAD_WEBHOOK_URL");
    assert.equal(body.checksum_sha256, checksum);
  });
});

test("client.js's completeUpload sends what was declared and rejects a mismatch with its code", async () => {
  const { completeUpload, UploadError } = await import("../../web/client.js");
  const bytes = Buffer.from("from the client");
  const form = await uploaded(deleting.url, { file_name: "d.txt", content_type: "text/plain", size: bytes.length }, bytes);
  const verified = await completeUpload(form.key, { size: bytes.length, content_type: "text/plain", checksum_sha256: "" },
    { endpoint: deleting.url });
  assert.equal(verified.key, form.key);
  assert.equal(verified.size, bytes.length);
  const refused = await completeUpload(form.key, { size: 1 }, { endpoint: deleting.url }).catch((e) => e);
  assert.ok(refused instanceof UploadError, String(refused));
  assert.equal(refused.code, "size_mismatch");
  assert.equal(refused.status, 422);
});

describe("upload.completed events", () => {
  test("a verified upload is one event, signed as Standard Webhooks says, with the same id however often it is reported", async () => {
    const bytes = Buffer.from("a picture, honestly");
    const name = "Holiday photo (1).txt";
    const form = await uploaded(worker.url, { file_name: name, content_type: "text/plain", size: bytes.length }, bytes);
    receiver.failFirst(form.key, 1); // the first delivery fails: the queue tries again
    const first = await complete(worker.url, { key: form.key, size: bytes.length, content_type: "text/plain" });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.match(first.body.event_id, /^msg_[0-9a-f]{32}$/);
    const second = await complete(worker.url, { key: form.key });
    assert.equal(second.body.event_id, first.body.event_id, "one object, one id");

    const deliveries = await receiver.waitFor(form.key, 3);
    assert.equal(deliveries[0].status, 500);
    assert.ok(deliveries.some((d) => d.status === 204), "delivered after the receiver's 500");
    assert.deepEqual(new Set(deliveries.map((d) => d.headers["webhook-id"])), new Set([first.body.event_id]));

    const webhook = new Webhook(SECRET);
    for (const delivery of deliveries) {
      const event = webhook.verify(delivery.body, delivery.headers);
      assert.equal(event.type, "upload.completed");
      assert.deepEqual(Object.keys(event.data).sort(), ["content_type", "etag", "file_name", "key", "profile", "size", "time"]);
      assert.equal(event.data.key, form.key);
      assert.equal(event.data.size, bytes.length);
      assert.equal(event.data.content_type, "text/plain");
      assert.equal(event.data.etag, first.body.etag);
      assert.equal(event.data.file_name, name);
      assert.equal(event.data.profile, "default");
      assert.ok(Math.abs(Date.parse(event.timestamp) - Date.now()) < 120_000);
    }
    assert.throws(() => webhook.verify(deliveries[0].body.replace("text/plain", "text/html"), deliveries[0].headers),
      "a changed body fails verification");
  });

  test("a multipart upload completed through the worker sends its event without a complete call", async () => {
    const MiB = 1024 * 1024;
    const bytes = randomBytes(5 * MiB + 100);
    const call = async (path, init = {}) => {
      const response = await fetch(`${worker.url}${path}`, {
        ...init, headers: { "Content-Type": "application/json" }, body: init.body && JSON.stringify(init.body),
      });
      const body = await response.json();
      assert.equal(response.status, 200, JSON.stringify(body));
      return body;
    };
    const created = await call("/s3/multipart", { method: "POST", body: { filename: "big.bin", type: "application/octet-stream", size: bytes.length } });
    const id = encodeURIComponent(created.uploadId);
    const q = `?key=${encodeURIComponent(created.key)}`;
    const parts = [];
    for (const [n, chunk] of [[1, bytes.subarray(0, 5 * MiB)], [2, bytes.subarray(5 * MiB)]]) {
      const { url } = await call(`/s3/multipart/${id}/${n}${q}`);
      const put = await fetch(url, { method: "PUT", body: chunk });
      assert.equal(put.status, 200, await put.text());
      parts.push({ PartNumber: n, ETag: put.headers.get("etag") });
    }
    await call(`/s3/multipart/${id}/complete${q}`, { method: "POST", body: { parts } });
    const [delivery] = await receiver.waitFor(created.key, 1);
    const event = new Webhook(SECRET).verify(delivery.body, delivery.headers);
    assert.equal(event.data.size, bytes.length);
    assert.equal(event.data.file_name, "big.bin");
    assert.match(event.data.etag, /-2"$/, "a multipart object's ETag");
    const reported = await complete(worker.url, { key: created.key, size: bytes.length });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    assert.equal(reported.body.event_id, delivery.headers["webhook-id"], "the same id as the worker's own event");
  });

  test("the worker's log never shows the webhook secret", () => {
    const logs = worker.logs();
    assert.match(logs, /"event":"upload.completed"/, "deliveries are logged");
    assert.ok(!logs.includes(SECRET) && !logs.includes(SECRET.slice(6)), "the secret is not in the log");
    for (const delivery of receiver.deliveries) {
      assert.ok(!logs.includes(delivery.headers["webhook-signature"].slice(3)), "no signature in the log");
    }
  });
});
