// End to end: presigned PUT uploads, presigned GET downloads, SHA-256 integrity and original
// names, against s3s-fs, which verifies query signatures, signed headers and checksums for real.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { postJson, requestUpload, startAll, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

const ORIGINAL_NAME = "Café résumé © 2026 — 履歴书.pdf";

let s3;
let worker;
let shortLived; // uploads and downloads expire after one second
let r2; // pointed at an R2 endpoint: only signs, nothing is sent there

before(async () => {
  s3 = await startS3();
  [worker, shortLived, r2] = await startAll([
    () => startWorker(s3),
    () => startWorker(s3, { UPLOAD_EXPIRES_SECONDS: "1", DOWNLOAD_EXPIRES_SECONDS: "1", UPLOAD_METHOD: "PUT" }),
    () => startWorker(s3, {
      S3_ENDPOINT: "https://0123456789abcdef.r2.cloudflarestorage.com",
      S3_REGION: "auto",
      S3_FORCE_PATH_STYLE: undefined,
    }),
  ]);
});

after(async () => {
  await Promise.all([worker?.stop(), shortLived?.stop(), r2?.stop()]);
  await s3?.stop();
  await stopAll();
});

const ask = (request, base = worker.url) => requestUpload(base, request);

/** PUTs `bytes` with the answer's headers; `content-length` is the body's own, as in a browser. */
async function put(answer, bytes, { url = answer.url, headers = {} } = {}) {
  const sent = { ...answer.headers, ...headers };
  delete sent["content-length"];
  const response = await fetch(url, { method: "PUT", headers: sent, body: bytes });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function download(key, base = worker.url) {
  const path = key.split("/").map(encodeURIComponent).join("/");
  const response = await fetch(`${base}/downloads/${path}`);
  return { status: response.status, body: await response.json() };
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("base64");

async function assertRefused(result, key, codes) {
  assert.ok(result.status >= 400 && result.status < 500, `expected a refusal, got ${result.status}: ${result.text}`);
  assert.match(result.text, new RegExp(`<Code>(${codes})</Code>`), result.text);
  // (Not assert.equal on the bytes: a failure would print a diff of the whole file.)
  const stored = await s3.readObject(key);
  assert.ok(stored === null, `nothing may be stored, found ${stored?.length} bytes under ${key}`);
}

describe("presigned PUT uploads", () => {
  test("a PUT lands byte for byte, and a download returns the same bytes under the original name", async () => {
    const bytes = randomBytes(200 * 1024);
    const answer = await ask({ file_name: ORIGINAL_NAME, content_type: "application/pdf", size: bytes.length, method: "PUT" });
    assert.equal(answer.method, "PUT");
    assert.deepEqual(Object.keys(answer).sort(), ["expires_at", "headers", "key", "method", "url"]);
    assert.match(answer.key, /^uploads\/[0-9a-f-]{36}\/Café-résumé-2026-履歴书\.pdf$/);
    assert.equal(answer.headers["content-type"], "application/pdf");
    assert.equal(answer.headers["content-length"], String(bytes.length));
    assert.equal(
      answer.headers["content-disposition"],
      `inline; filename="Caf_ r_sum_ _ 2026 _ ___.pdf"; filename*=UTF-8''${encodeURIComponent(ORIGINAL_NAME).replace(/'/g, "%27")}`,
    );
    assert.ok(Date.parse(answer.expires_at) > Date.now());

    const result = await put(answer, bytes);
    assert.equal(result.status, 200, result.text);
    assert.ok((await s3.readObject(answer.key)).equals(bytes), "stored bytes are identical");

    const { status, body } = await download(answer.key);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ["expires_at", "url"]);
    assert.ok(Date.parse(body.expires_at) > Date.now());
    const fetched = await fetch(body.url);
    assert.equal(fetched.status, 200);
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(bytes), "downloaded bytes are identical");
    assert.equal(fetched.headers.get("content-type"), "application/pdf");
    assert.equal(fetched.headers.get("content-disposition"), answer.headers["content-disposition"]);
  });

  test("a POST form stores the original name too", async () => {
    const bytes = Buffer.from("a form upload\n");
    const form = await ask({ file_name: ORIGINAL_NAME, size: bytes.length });
    assert.equal(form.method, "POST");
    const result = await uploadWithForm(form, bytes);
    assert.ok(result.status < 300, result.text);
    const { body } = await download(form.key);
    const fetched = await fetch(body.url);
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(bytes));
    assert.equal(fetched.headers.get("content-disposition"), form.fields["Content-Disposition"]);
    assert.match(form.fields["Content-Disposition"], /filename\*=UTF-8''Caf%C3%A9%20r%C3%A9sum%C3%A9/);
  });

  test("the store refuses a PUT to another key, with a changed signature, or of another type or size", async () => {
    const bytes = randomBytes(1024);
    const answer = await ask({ file_name: "a.png", content_type: "image/png", size: bytes.length, method: "PUT" });
    const url = new URL(answer.url);

    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace(/a\.png$/, "b.png");
    await assertRefused(await put(answer, bytes, { url: otherKey.href }), answer.key.replace(/a\.png$/, "b.png"), "SignatureDoesNotMatch|AccessDenied");

    const forged = new URL(url);
    const signature = forged.searchParams.get("X-Amz-Signature");
    forged.searchParams.set("X-Amz-Signature", `${signature[0] === "0" ? "1" : "0"}${signature.slice(1)}`);
    await assertRefused(await put(answer, bytes, { url: forged.href }), answer.key, "SignatureDoesNotMatch|AccessDenied");

    await assertRefused(await put(answer, bytes, { headers: { "content-type": "text/html" } }), answer.key, "SignatureDoesNotMatch|AccessDenied");
    await assertRefused(await put(answer, Buffer.concat([bytes, bytes])), answer.key, "SignatureDoesNotMatch|AccessDenied");

    // The untouched URL still works: the refusals above were for the tampering.
    assert.equal((await put(answer, bytes)).status, 200);
  });

  test("the store refuses an expired PUT and an expired download", async () => {
    const bytes = Buffer.from("late");
    const answer = await ask({ file_name: "late.txt", size: bytes.length }, shortLived.url);
    assert.equal(answer.method, "PUT", "UPLOAD_METHOD sets the default");
    await new Promise((r) => setTimeout(r, 2_100));
    await assertRefused(await put(answer, bytes), answer.key, "AccessDenied|ExpiredToken|RequestExpired");

    const fresh = await ask({ file_name: "late.txt", size: bytes.length });
    assert.equal((await uploadWithForm(fresh, bytes)).status < 300, true);
    const { body } = await download(fresh.key, shortLived.url);
    await new Promise((r) => setTimeout(r, 2_100));
    const fetched = await fetch(body.url);
    assert.equal(fetched.status, 403, await fetched.text());
  });

  test("a download URL for one key does not open another", async () => {
    const bytes = Buffer.from("mine");
    const form = await ask({ file_name: "mine.txt", size: bytes.length });
    await uploadWithForm(form, bytes);
    const { body } = await download(form.key);
    const other = new URL(body.url);
    other.pathname = other.pathname.replace(/mine\.txt$/, "yours.txt");
    const fetched = await fetch(other);
    assert.equal(fetched.status, 403, await fetched.text());
  });
});

describe("SHA-256 integrity", () => {
  for (const method of ["POST", "PUT"]) {
    test(`${method}: matching bytes land; differing bytes are refused with BadDigest and nothing is stored`, async () => {
      const bytes = randomBytes(64 * 1024);
      const send = (answer, body) => (method === "PUT" ? put(answer, body) : uploadWithForm(answer, body));

      const good = await ask({ file_name: "sum.bin", size: bytes.length, checksum_sha256: sha256(bytes), method });
      assert.equal(good.method, method);
      if (method === "POST") {
        assert.equal(good.fields["x-amz-checksum-sha256"], sha256(bytes));
        assert.equal(good.fields["x-amz-checksum-algorithm"], "SHA256");
      } else {
        assert.equal(good.headers["x-amz-checksum-sha256"], sha256(bytes));
      }
      const landed = await send(good, bytes);
      assert.ok(landed.status < 300, landed.text);
      assert.ok((await s3.readObject(good.key)).equals(bytes));

      const tampered = Buffer.from(bytes);
      tampered[100] ^= 0xff;
      const bad = await ask({ file_name: "sum.bin", size: bytes.length, checksum_sha256: sha256(bytes), method });
      await assertRefused(await send(bad, tampered), bad.key, "BadDigest");
    });
  }

  test("a malformed checksum_sha256 gets 400 invalid_checksum", async () => {
    const digest = sha256(Buffer.from("x"));
    for (const checksum of ["", "abc", digest.slice(0, 43), `${digest}=`, digest.replace(/=$/, ""), 42, createHash("sha1").update("x").digest("base64")]) {
      const { status, body } = await postJson(`${worker.url}/uploads`, { file_name: "a.txt", checksum_sha256: checksum });
      assert.equal(status, 400, `${JSON.stringify(checksum)}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, "invalid_checksum");
    }
  });
});

describe("downloads only inside the prefix", () => {
  test("keys outside UPLOAD_PREFIX or malformed get a coded refusal, never a URL", async () => {
    const cases = [
      ["secrets/passwords.txt", 403, "key_not_allowed"],
      ["uploadsX/a.txt", 403, "key_not_allowed"],
      ["uploads/report.pdf", 403, "key_not_allowed"], // under the prefix, but never issued
      ["uploads/0b7e0c2a-0000-4000-8000-000000000000/a/b.txt", 403, "key_not_allowed"],
      ["uploads//a.txt", 400, "invalid_key"],
      ["uploads/a%2F..%2Fb", 400, "invalid_key"],
      ["uploads/%2E%2E/secrets.txt", 403, "key_not_allowed"], // the URL parser resolves the dots first
      ["uploads/a%07b.txt", 400, "invalid_key"],
      ["uploads/%FF.txt", 400, "invalid_key"],
      ["uploads/%E0%A4%A.txt", 400, "invalid_key"],
      ["", 400, "invalid_key"],
    ];
    for (const [path, status, code] of cases) {
      const response = await fetch(`${worker.url}/downloads/${path}`);
      const body = await response.json();
      assert.equal(response.status, status, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error?.code, code, path);
      assert.equal(body.url, undefined);
    }
    const wrongMethod = await fetch(`${worker.url}/downloads/uploads/a.txt`, { method: "POST" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "GET, OPTIONS");
  });
});

describe("Cloudflare R2", () => {
  test("region auto is accepted, uploads default to PUT, and POST is refused with a reason", async () => {
    const health = await fetch(`${r2.url}/healthz`);
    assert.equal(health.status, 200, await health.text());
    const answer = await ask({ file_name: "a.txt", size: 3 }, r2.url);
    assert.equal(answer.method, "PUT");
    const url = new URL(answer.url);
    assert.equal(url.host, "0123456789abcdef.r2.cloudflarestorage.com");
    assert.match(url.pathname, new RegExp(`^/${s3.bucket}/uploads/`));
    assert.match(url.searchParams.get("X-Amz-Credential"), /\/auto\/s3\/aws4_request$/);

    const { status, body } = await postJson(`${r2.url}/uploads`, { file_name: "a.txt", method: "POST" });
    assert.equal(status, 400);
    assert.equal(body.error.code, "method_not_supported");
    assert.match(body.error.message, /R2.*no POST Object/);
  });
});
