// Nothing a caller chooses can widen what the operator allowed: PUTs are bounded by a signed
// size, HTML and other scriptable uploads are stored and downloaded as attachments, a PUT pins
// its cache policy, every answer varies by Origin, and a trap still answers in JSON with CORS.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { postJson, requestUpload, startAll, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

const APP = "https://app.example.com";
let s3;
let small;
let plain;
let trapping;

before(async () => {
  s3 = await startS3();
  [small, plain, trapping] = await startAll([
    () => startWorker(s3, { UPLOAD_MAX_BYTES: "1000" }),
    () => startWorker(s3, { ALLOWED_ORIGINS: APP }),
    () => startWorker(s3, { ALLOWED_ORIGINS: APP, EDGE_PRESIGN_TEST_TRAP: "true" }),
  ]);
}, { timeout: 300_000 });

after(async () => {
  await Promise.all([small, plain, trapping].map((w) => w?.stop()));
  await s3?.stop();
  await stopAll();
});

async function put(answer, bytes, headers = {}) {
  const signed = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name !== "content-length"));
  return fetch(answer.url, { method: "PUT", headers: { ...signed, ...headers }, body: bytes });
}

async function downloadOf(worker, key) {
  const path = key.split("/").map(encodeURIComponent).join("/");
  const answer = await (await fetch(`${worker.url}/downloads/${path}`)).json();
  return { answer, response: await fetch(answer.url) };
}

describe("a PUT is bounded by UPLOAD_MAX_BYTES like a POST", () => {
  test("without a size it is refused at the worker; above the limit too; at the limit its length is signed", async () => {
    const bare = await postJson(`${small.url}/uploads`, { file_name: "a.bin", method: "PUT" });
    assert.equal(bare.status, 400, bare.text);
    assert.equal(bare.body.error.code, "size_required");
    const big = await postJson(`${small.url}/uploads`, { file_name: "a.bin", method: "PUT", size: 5000 });
    assert.equal(big.status, 413);
    const ok = await requestUpload(small.url, { file_name: "a.bin", method: "PUT", size: 1000 });
    assert.equal(ok.headers["content-length"], "1000");
    assert.match(ok.url, /X-Amz-SignedHeaders=cache-control%3Bcontent-disposition%3Bcontent-length%3Bcontent-type%3Bhost/);
    // The store refuses any other length for that URL.
    const longer = await put(ok, Buffer.alloc(2000, 1));
    assert.ok(longer.status >= 400, `a 2000-byte PUT was stored: ${longer.status}`);
    assert.equal(await s3.readObject(ok.key), null);
    assert.equal((await put(ok, Buffer.alloc(1000, 1))).status, 200);
  });
});

describe("no stored page renders from the bucket's origin", () => {
  test("an HTML upload is stored as an attachment and downloads as one", async () => {
    const form = await requestUpload(plain.url, { file_name: "page.html", content_type: "text/html" });
    assert.match(form.fields["Content-Disposition"], /^attachment; filename="page.html"/);
    const upload = await uploadWithForm(form, Buffer.from("<script>alert(1)</script>"), { type: "text/html" });
    assert.ok(upload.status < 300, upload.text);
    const { answer, response } = await downloadOf(plain, form.key);
    assert.match(answer.url, /response-content-disposition=attachment%3B/);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-disposition"), /^attachment; filename="page.html"/);
    assert.equal(response.headers.get("content-type"), "text/html");
  });

  test("a PUT without a type pins application/octet-stream; SVG and XML are attachments too", async () => {
    for (const [name, type, pinned] of [
      ["blob", undefined, "application/octet-stream"],
      ["x.svg", undefined, "image/svg+xml"],
      ["x.png", "image/svg+xml", "image/svg+xml"],
      ["feed.xml", undefined, "application/xml"],
    ]) {
      const answer = await requestUpload(plain.url, { file_name: name, content_type: type, method: "PUT", size: 3 });
      assert.equal(answer.headers["content-type"], pinned, name);
      assert.match(answer.headers["content-disposition"], /^attachment;/, name);
      assert.equal((await put(answer, Buffer.from("abc"))).status, 200, name);
      const { response } = await downloadOf(plain, answer.key);
      assert.match(response.headers.get("content-disposition"), /^attachment;/, name);
    }
  });

  test("a safe type downloads inline under its original name", async () => {
    const answer = await requestUpload(plain.url, { file_name: "Holiday Photo.PNG", method: "PUT", size: 3 });
    assert.equal(answer.headers["content-type"], "image/png");
    assert.equal((await put(answer, Buffer.from("png"))).status, 200);
    const { response } = await downloadOf(plain, answer.key);
    assert.equal(response.headers.get("content-disposition"), `inline; filename="Holiday Photo.PNG"; filename*=UTF-8''Holiday%20Photo.PNG`);
    assert.equal(response.headers.get("content-type"), "image/png");
    assert.equal(response.headers.get("cache-control"), "private, max-age=3600");
  });

  test("a download of a key with no object is 404 object_not_found, never a URL", async () => {
    const missing = "uploads/0b7e0c2a-0000-4000-8000-000000000000/none.txt";
    const res = await fetch(`${plain.url}/downloads/${missing}`);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "object_not_found");
  });
});

describe("a PUT signs every header the worker sets", () => {
  test("another Cache-Control, type or disposition is refused by the store", async () => {
    for (const changed of [
      { "cache-control": "public, max-age=31536000" },
      { "content-type": "text/html" },
      { "content-disposition": "inline" },
    ]) {
      const answer = await requestUpload(plain.url, { file_name: "a.txt", method: "PUT", size: 2 });
      const res = await put(answer, Buffer.from("hi"), changed);
      assert.ok(res.status >= 400, `${JSON.stringify(changed)} was stored: ${res.status}`);
      assert.equal(await s3.readObject(answer.key), null);
    }
  });
});

describe("CORS caches", () => {
  test("every answer varies by Origin, granted or not", async () => {
    const cases = [
      ["GET", "/healthz", undefined],
      ["GET", "/client.js", undefined],
      ["GET", "/nope", undefined],
      ["POST", "/uploads", JSON.stringify({ file_name: "a.txt" })],
      ["POST", "/uploads", "{"],
    ];
    for (const [method, path, body] of cases) {
      for (const origin of [undefined, APP]) {
        const headers = { ...(body ? { "Content-Type": "application/json" } : {}), ...(origin ? { Origin: origin } : {}) };
        const res = await fetch(`${plain.url}${path}`, { method, headers, body });
        assert.match(res.headers.get("vary") ?? "", /Origin/, `${method} ${path} from ${origin}: ${res.status}`);
        assert.equal(res.headers.get("access-control-allow-origin"), origin ?? null, `${method} ${path}`);
      }
    }
    const preflight = await fetch(`${plain.url}/uploads`, {
      method: "OPTIONS",
      headers: { Origin: APP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get("vary"), /Origin/);
    assert.match(preflight.headers.get("access-control-allow-headers"), /Authorization/);
  });
});

/** A POST whose body arrives in two halves, the second only when `release` is called. */
function slowUpload(base, origin) {
  const { hostname, port } = new URL(base);
  let release;
  const done = new Promise((resolve, reject) => {
    const req = httpRequest({
      host: hostname, port, path: "/uploads", method: "POST", agent: false,
      headers: { "Content-Type": "application/json", Origin: origin },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.write('{"file_name": ');
    release = () => req.end('"a.txt"}');
  });
  return { done, release: () => release() };
}

describe("a trap", () => {
  test("the trapped request and one still in flight get the JSON 500 with CORS; the next is served", async () => {
    const inFlight = slowUpload(trapping.url, APP);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const trapped = await fetch(`${trapping.url}/__trap`, { headers: { Origin: APP } });
    assert.equal(trapped.status, 500);
    assert.equal(trapped.headers.get("access-control-allow-origin"), APP);
    assert.match(trapped.headers.get("content-type"), /^application\/json/);
    assert.equal((await trapped.json()).error.code, "internal_error");
    inFlight.release();
    const straggler = await inFlight.done;
    assert.equal(straggler.status, 500, straggler.text);
    assert.equal(straggler.headers["access-control-allow-origin"], APP);
    assert.equal(JSON.parse(straggler.text).error.code, "internal_error");
    const next = await postJson(`${trapping.url}/uploads`, { file_name: "a.txt" }, { Origin: APP });
    assert.equal(next.status, 200, next.text);
  });

  test("a JS exception thrown out of Rust is handled as a trap: the JSON 500, and the next is served", async () => {
    const inFlight = slowUpload(trapping.url, APP);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const thrown = await fetch(`${trapping.url}/__throw`, { headers: { Origin: APP }, signal: AbortSignal.timeout(10_000) });
    assert.equal(thrown.status, 500);
    assert.equal(thrown.headers.get("access-control-allow-origin"), APP);
    assert.equal((await thrown.json()).error.code, "internal_error");
    inFlight.release();
    const straggler = await inFlight.done;
    assert.equal(straggler.status, 500, straggler.text);
    const next = await postJson(`${trapping.url}/uploads`, { file_name: "a.txt" }, { Origin: APP });
    assert.equal(next.status, 200, next.text);
  });
});
