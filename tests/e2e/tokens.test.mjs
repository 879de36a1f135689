// Tokens held to one issuer and one audience whatever signed them, a JWKS taken only from its
// own URL and never in bulk, and anonymous callers rate limited by their IPv6 /64: against
// the worker under wrangler dev and the real local S3 (issue #22, items 4 and 5).
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes, sign as signWith } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { freePort, postJson, startAll, startS3, startWorker, stopAll } from "./harness.mjs";

const SECRET = randomBytes(32).toString("base64url");
const ISSUER = "https://id.example.test/";
const AUDIENCE = "uploads";
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ sub: "alice", exp: now() + 600, iss: ISSUER, aud: AUDIENCE, ...extra });
const hs256 = (payload, header = { alg: "HS256", typ: "JWT" }) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
};
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rs256 = (payload) => {
  const input = `${b64({ alg: "RS256", kid: "rsa-1" })}.${b64(payload)}`;
  return `${input}.${signWith("sha256", Buffer.from(input), rsa.privateKey).toString("base64url")}`;
};
const jwks = { keys: [{ ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-1", alg: "RS256", use: "sig" }] };

let s3;
let jwksServer;
const served = { moved: 0, jwks: 0, huge: 0 };
const workers = {};

before(async () => {
  const port = await freePort();
  jwksServer = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname.slice(1);
    served[path] = (served[path] ?? 0) + 1;
    if (path === "moved") {
      res.writeHead(302, { Location: `http://127.0.0.1:${port}/jwks` });
      return res.end();
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    if (path !== "huge") return res.end(JSON.stringify(jwks));
    // A valid JWKS padded past 64 KiB, sent in chunks with no Content-Length to trust.
    const text = JSON.stringify({ ...jwks, padding: "x".repeat(70 * 1024) });
    for (let i = 0; i < text.length; i += 8192) res.write(text.slice(i, i + 8192));
    res.end();
  });
  await new Promise((resolve) => jwksServer.listen(port, "127.0.0.1", resolve));
  const provider = (path, extra = {}) =>
    startWorker(s3, { UPLOAD_AUTH_JWKS_URL: `http://127.0.0.1:${port}/${path}`, UPLOAD_AUTH_ISSUER: ISSUER, ...extra });
  s3 = await startS3();
  const [strict, noAudience, moved, huge, anonymous] = await startAll([
    () => startWorker(s3, { UPLOAD_AUTH_ISSUER: ISSUER, UPLOAD_AUTH_AUDIENCE: AUDIENCE }, { secrets: { UPLOAD_AUTH_SECRET: SECRET } }),
    () => provider("jwks"),
    () => provider("moved", { UPLOAD_AUTH_AUDIENCE: AUDIENCE }),
    () => provider("huge", { UPLOAD_AUTH_AUDIENCE: AUDIENCE }),
    () => startWorker(s3, { UPLOAD_RATE_LIMIT_PERIOD: "10" }, { rateLimit: 2 }),
  ]);
  Object.assign(workers, { strict, noAudience, moved, huge, anonymous });
}, { timeout: 300_000 });

after(async () => {
  await Promise.all(Object.values(workers).map((w) => w?.stop()));
  await s3?.stop();
  jwksServer?.closeAllConnections();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await stopAll();
});

const ask = (worker, headers = {}) => postJson(`${worker.url}/uploads`, { file_name: "a.txt", size: 1 }, headers);
const bearer = (jwt) => ({ Authorization: `Bearer ${jwt}` });

describe("issuer and audience", () => {
  test("an HS256 token for another audience or issuer gets 401; one for us gets a form", async () => {
    for (const [why, payload, message] of [
      ["another app's audience", claims({ aud: "billing" }), /audience/],
      ["no audience", claims({ aud: undefined }), /audience/],
      ["another issuer", claims({ iss: "https://evil.example.test/" }), /issuer/],
    ]) {
      const res = await ask(workers.strict, bearer(hs256(payload)));
      assert.equal(res.status, 401, `${why}: ${res.text}`);
      assert.equal(res.body.error.code, "unauthorized", why);
      assert.match(res.body.error.message, message, why);
    }
    const ok = await ask(workers.strict, bearer(hs256(claims({ aud: ["api", AUDIENCE] }))));
    assert.equal(ok.status, 200, ok.text);
  });

  test("a JWKS without UPLOAD_AUTH_AUDIENCE is a settings error that names it, and takes no token", async () => {
    const health = await fetch(`${workers.noAudience.url}/healthz`);
    assert.equal(health.status, 503);
    assert.deepEqual((await health.json()).misconfigured, ["UPLOAD_AUTH_AUDIENCE"]);
    const res = await ask(workers.noAudience, bearer(rs256(claims({ aud: "another-app" }))));
    assert.equal(res.status, 500, res.text);
    assert.equal(res.body.error.code, "misconfigured");
    assert.match(res.body.error.message, /UPLOAD_AUTH_AUDIENCE/);
  });
});

describe("JWKS fetch", () => {
  test("a redirect is not followed: no keys, 503", async () => {
    const res = await ask(workers.moved, bearer(rs256(claims())));
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.error.code, "auth_unavailable");
    assert.equal(served.moved, 1);
    assert.equal(served.jwks, 0, "the worker fetched where the redirect pointed");
  });

  test("a document over 64 KiB is refused: no keys, 503", async () => {
    const res = await ask(workers.huge, bearer(rs256(claims())));
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.error.code, "auth_unavailable");
    assert.equal(served.huge, 1);
  });
});

test("two IPv6 addresses of one /64 share one rate limit; another /64 has its own", async () => {
  // wrangler dev counts in 10 s windows aligned to the clock: start early in one.
  const left = 10_000 - (Date.now() % 10_000);
  if (left < 6_000) await new Promise((r) => setTimeout(r, left + 100));
  const from = (ip) => ask(workers.anonymous, { "CF-Connecting-IP": ip });
  for (let i = 0; i < 2; i++) assert.equal((await from("2001:db8:aa:1::1")).status, 200);
  const neighbour = await from("2001:db8:aa:1:ffff:ffff:ffff:fffe");
  assert.equal(neighbour.status, 429, `the same /64 got its own count: ${neighbour.text}`);
  assert.equal(neighbour.body.error.code, "rate_limited");
  assert.equal((await from("2001:db8:aa:2::1")).status, 200, "another /64 shares the count");
  assert.equal((await from("203.0.113.7")).status, 200, "an IPv4 caller shares the count");
});
