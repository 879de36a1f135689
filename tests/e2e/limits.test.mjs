// GET /uploads/limits against a worker under wrangler dev: the caller's effective limits, with
// the same token rules, rate limit and CORS as POST /uploads, and exactly the limits POST
// /uploads then enforces (its refusal one byte over is the message the answer quotes).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { mintToken, postJson, startS3, startWorker, stopAll } from "./harness.mjs";

const SECRET = randomBytes(32).toString("base64url");
const PAGE = "http://127.0.0.1:5999"; // an allowed origin; nothing needs to listen there
const MAX_BYTES = 200_000;
const MULTIPART_BYTES = 64 * 1024 * 1024;

let s3;
let worker;

before(async () => {
  s3 = await startS3();
  worker = await startWorker(s3, {
    UPLOAD_MAX_BYTES: String(MAX_BYTES), UPLOAD_MAX_MULTIPART_BYTES: String(MULTIPART_BYTES),
    UPLOAD_ALLOWED_TYPES: "image/*,application/pdf", UPLOAD_METHOD: "PUT", UPLOAD_EXPIRES_SECONDS: "300",
    ALLOWED_ORIGINS: PAGE,
  }, { secrets: { UPLOAD_AUTH_SECRET: SECRET }, rateLimit: 5 });
});

after(async () => {
  await worker?.stop();
  await s3?.stop();
  await stopAll();
});

const limits = (headers = {}) => fetch(`${worker.url}/uploads/limits`, { headers })
  .then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json() }));
const bearer = (sub, claims) => ({ Authorization: `Bearer ${mintToken(sub, SECRET, claims)}` });

test("with auth on, no token or a bad one is 401, as on POST /uploads", async () => {
  const none = await limits();
  assert.deepEqual([none.status, none.body.error.code], [401, "unauthorized"]);
  assert.equal(none.headers.get("www-authenticate"), "Bearer");
  const forged = await limits({ Authorization: `Bearer ${mintToken("eve", "another secret of at least 32 bytes!!")}` });
  assert.deepEqual([forged.status, forged.body.error.code], [401, "unauthorized"]);
});

test("a token answers the settings; the worker refuses one byte over in the words the answer quotes", async () => {
  const headers = bearer("alice");
  const answer = await limits(headers);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(answer.body, {
    profile: "default", max_bytes: MAX_BYTES, max_multipart_bytes: MULTIPART_BYTES, allowed_types: ["image/*", "application/pdf"],
    method: "PUT", multipart: true, expires_seconds: 300,
    messages: { file_too_large: `file is larger than the ${MULTIPART_BYTES} bytes allowed` },
  });
  assert.equal(answer.headers.get("cache-control"), "no-store");
  const fits = await postJson(`${worker.url}/uploads`, { file_name: "a.png", size: MAX_BYTES }, headers);
  assert.equal(fits.status, 200, fits.text);
  const over = await postJson(`${worker.url}/uploads`, { file_name: "a.png", size: MAX_BYTES + 1 }, headers);
  assert.deepEqual([over.status, over.body.error.message], [413, `file is larger than the ${MAX_BYTES} bytes allowed`]);
});

test("a token's max_bytes lowers both sizes; its content_types meet the setting's", async () => {
  const headers = bearer("bob", { max_bytes: 1234, content_types: ["image/png", "text/plain"] });
  const { status, body } = await limits(headers);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual([body.max_bytes, body.max_multipart_bytes, body.allowed_types], [1234, 1234, ["image/png"]]);
  assert.equal(body.messages.file_too_large, "file is larger than the 1234 bytes allowed");
  const over = await postJson(`${worker.url}/uploads`, { file_name: "a.png", size: 1235 }, headers);
  assert.deepEqual([over.status, over.body.error.message], [413, body.messages.file_too_large]);
});

test("CORS as on every signing route: a preflight grants GET to an allowed origin, refuses another", async () => {
  const preflight = await fetch(`${worker.url}/uploads/limits`, {
    method: "OPTIONS",
    headers: { Origin: PAGE, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), PAGE);
  assert.match(preflight.headers.get("access-control-allow-methods"), /\bGET\b/);
  assert.match(preflight.headers.get("access-control-allow-headers"), /authorization/i);
  const answer = await limits({ ...bearer("carol"), Origin: PAGE });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("access-control-allow-origin"), PAGE);
  const stranger = await limits({ ...bearer("carol"), Origin: "http://127.0.0.1:1" });
  assert.deepEqual([stranger.status, stranger.body.error.code], [403, "origin_not_allowed"]);
  const post = await fetch(`${worker.url}/uploads/limits`, { method: "POST", ...bearer("carol") });
  assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET, OPTIONS"]);
});

test("the rate limit counts it, per caller", async () => {
  const headers = bearer("bursty");
  let limited;
  for (let i = 0; i < 12 && !limited; i++) {
    const answer = await limits(headers);
    if (answer.status === 429) limited = answer;
  }
  assert.ok(limited, "a burst met the rate limit");
  assert.equal(limited.body.error.code, "rate_limited");
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
  assert.equal((await limits(bearer("calm"))).status, 200, "another caller has its own count");
});
