// Only the right callers get forms: HS256 tokens, an identity provider's JWKS (RS256 and ES256,
// served on loopback), per-user key segments, the rate limiter, and secret hygiene, against
// the worker under wrangler dev and the real local S3.
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes, sign as signWith } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { freePort, postJson, startAll, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

const SECRET = randomBytes(32).toString("base64url");
const ISSUER = "https://id.example.test/";
const AUDIENCE = "uploads";
const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
/** Every token any test presents: none may come back in an answer or a log line. */
const presented = [];
/** Every answer any test got. */
const answers = [];

function token(header, payload, signer) {
  const input = `${b64(header)}.${b64(payload)}`;
  const jwt = `${input}.${signer(Buffer.from(input)).toString("base64url")}`;
  presented.push(jwt);
  return jwt;
}
const hs256 = (payload, { secret = SECRET, header = { alg: "HS256", typ: "JWT" } } = {}) =>
  token(header, payload, (input) => createHmac("sha256", secret).update(input).digest());
const rs256 = (payload, key, kid = "rsa-1") =>
  token({ alg: "RS256", kid }, payload, (input) => signWith("sha256", input, key));
const es256 = (payload, key, kid = "ec-1") =>
  token({ alg: "ES256", kid }, payload, (input) => signWith("sha256", input, { key, dsaEncoding: "ieee-p1363" }));
const claims = (extra = {}) => ({ sub: "alice", exp: now() + 600, iat: now(), ...extra });
const idClaims = (extra = {}) => claims({ iss: ISSUER, aud: AUDIENCE, ...extra });

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwks = {
  keys: [
    { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...ec.publicKey.export({ format: "jwk" }), kid: "ec-1", alg: "ES256", use: "sig" },
  ],
};

let s3;
let jwksServer;
let jwksFetches = 0;
let downFetches = 0;
const workers = {};

before(async () => {
  const jwksPort = await freePort();
  jwksServer = createServer((req, res) => {
    if (req.url === "/down") {
      // An identity provider in trouble: it takes the request and never answers.
      downFetches++;
      return;
    }
    jwksFetches++;
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "public, max-age=600" });
    res.end(JSON.stringify(jwks));
  });
  await new Promise((resolve) => jwksServer.listen(jwksPort, "127.0.0.1", resolve));
  s3 = await startS3();
  const [hs, id, down, limited] = await startAll([
    () => startWorker(s3, {}, { secrets: { UPLOAD_AUTH_SECRET: SECRET } }),
    () =>
      startWorker(s3, {
        UPLOAD_AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks`,
        UPLOAD_AUTH_ISSUER: ISSUER,
        UPLOAD_AUTH_AUDIENCE: AUDIENCE,
      }),
    () =>
      startWorker(s3, {
        UPLOAD_AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/down`,
        UPLOAD_AUTH_ISSUER: ISSUER,
        UPLOAD_AUTH_AUDIENCE: AUDIENCE,
      }),
    () =>
      startWorker(s3, { UPLOAD_RATE_LIMIT_PERIOD: "10" }, { secrets: { UPLOAD_AUTH_SECRET: SECRET }, rateLimit: 5 }),
  ]);
  Object.assign(workers, { hs, id, down, limited });
}, { timeout: 300_000 });

after(async () => {
  await Promise.all(Object.values(workers).map((w) => w?.stop()));
  await s3?.stop();
  jwksServer?.closeAllConnections();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await stopAll();
});

async function ask(worker, jwt, body = { file_name: "cat.png", size: 4 }, path = "/uploads") {
  const headers = jwt === undefined ? {} : { Authorization: `Bearer ${jwt}` };
  const res = await postJson(`${worker.url}${path}`, body, headers);
  answers.push(res);
  return res;
}

async function download(worker, jwt, key) {
  const path = key.split("/").map(encodeURIComponent).join("/");
  const response = await fetch(`${worker.url}/downloads/${path}`, { headers: { Authorization: `Bearer ${jwt}` } });
  const text = await response.text();
  const res = { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
  answers.push(res);
  return res;
}

function assertUnauthorized(res, jwt, why) {
  assert.equal(res.status, 401, `${why}: ${res.text}`);
  assert.equal(res.body.error.code, "unauthorized", why);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, why);
  assert.ok(res.body.error.message.length > 0);
  if (jwt) assert.ok(!res.text.includes(jwt), `${why}: the answer quotes the token`);
}

describe("HS256", () => {
  test("every bad token gets 401 with WWW-Authenticate and a message that names the check", async () => {
    const tampered = (() => {
      const [h, , s] = hs256(claims()).split(".");
      return `${h}.${b64(claims({ sub: "mallory" }))}.${s}`;
    })();
    presented.push(tampered);
    const cases = [
      ["no token", undefined, /required/],
      ["expired", hs256(claims({ exp: now() - 120 })), /expired/],
      ["nbf in the future", hs256(claims({ nbf: now() + 600 })), /not valid yet/],
      ["wrong secret", hs256(claims(), { secret: randomBytes(32).toString("hex") }), /signature/],
      ["alg none", `${b64({ alg: "none" })}.${b64(claims())}.`, /alg/],
      ["alg HS512", hs256(claims(), { header: { alg: "HS512" } }), /alg/],
      ["tampered payload", tampered, /signature/],
      ["no exp", hs256({ sub: "alice" }), /exp/],
      ["no sub", hs256({ exp: now() + 600 }), /sub/],
      ["exp as a string", hs256(claims({ exp: "2030-01-01" })), /exp/],
      ["garbage", "not.a.token", /malformed/],
      ["16 KiB", "a".repeat(16 * 1024), /too long/],
      ["a crit header", hs256(claims(), { header: { alg: "HS256", typ: "JWT", crit: ["exp"] } }), /crit/],
    ];
    for (const [why, jwt, message] of cases) {
      const res = await ask(workers.hs, jwt);
      assertUnauthorized(res, jwt, why);
      assert.match(res.body.error.message, message, why);
    }
    // A request with no token at all gets the bare challenge (RFC 6750); a bad one says so.
    assert.equal((await ask(workers.hs, undefined)).headers.get("www-authenticate"), "Bearer");
    assert.equal((await ask(workers.hs, "x.y.z")).headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  });

  test("a valid token gets a form under the caller's segment, and the upload lands", async () => {
    const res = await ask(workers.hs, hs256(claims()), { file_name: "cat.png", content_type: "image/png", size: 4 });
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.key, /^uploads\/alice\/[0-9a-f-]{36}\/cat\.png$/);
    const bytes = Buffer.from("meow");
    const upload = await uploadWithForm(res.body, bytes, { type: "image/png" });
    assert.ok(upload.status < 300, upload.text);
    assert.ok((await s3.readObject(res.body.key)).equals(bytes));
  });

  test("claims narrow the form, never widen it", async () => {
    const narrow = hs256(claims({ max_bytes: 10, content_types: ["image/*"] }));
    assert.equal((await ask(workers.hs, narrow, { file_name: "a.png", size: 11 })).status, 413);
    assert.equal((await ask(workers.hs, narrow, { file_name: "a.pdf", size: 5 })).status, 415);
    const ok = await ask(workers.hs, narrow, { file_name: "a.png" });
    assert.equal(ok.body.max_bytes, 10);
    const wide = hs256(claims({ max_bytes: 10 ** 12 }));
    assert.equal((await ask(workers.hs, wide, { file_name: "a.png" })).body.max_bytes, 10485760);
  });

  test("a second user never gets a form or a download in the first user's segment", async () => {
    const alice = hs256(claims());
    const own = await ask(workers.hs, alice, { file_name: "notes.txt", size: 5 });
    await uploadWithForm(own.body, Buffer.from("notes"), { type: "text/plain" });
    const subs = ["bob", "Alice", "alice/x", "../alice", "alice/..", "alice ", "аlice", "ALICE", "alice_"];
    for (const sub of subs) {
      const jwt = hs256(claims({ sub }));
      for (const fileName of ["../alice/x.txt", "alice/x.txt", "/uploads/alice/x.txt"]) {
        const res = await ask(workers.hs, jwt, { file_name: fileName, size: 1 });
        assert.equal(res.status, 200, res.text);
        assert.ok(!res.body.key.startsWith("uploads/alice/"), `${sub}: ${res.body.key}`);
      }
      const stolen = await download(workers.hs, jwt, own.body.key);
      assert.equal(stolen.status, 403, `${sub} downloads alice's file: ${stolen.text}`);
      assert.equal(stolen.body.error.code, "key_not_allowed");
      assert.ok(!stolen.text.includes("X-Amz-Signature"));
    }
    const mine = await download(workers.hs, alice, own.body.key);
    assert.equal(mine.status, 200, mine.text);
    assert.equal(await (await fetch(mine.body.url)).text(), "notes");
  });
});

describe("JWKS (RS256 and ES256 through WebCrypto)", () => {
  test("valid RS256 and ES256 tokens get forms whose uploads land", async () => {
    for (const [alg, jwt] of [
      ["RS256", rs256(idClaims({ sub: "rs-user" }), rsa.privateKey)],
      ["ES256", es256(idClaims({ sub: "es-user" }), ec.privateKey)],
    ]) {
      const res = await ask(workers.id, jwt, { file_name: "a.txt", size: 2 });
      assert.equal(res.status, 200, `${alg}: ${res.text}`);
      assert.match(res.body.key, /^uploads\/(rs|es)-user\//);
      const upload = await uploadWithForm(res.body, Buffer.from("ok"), { type: "text/plain" });
      assert.ok(upload.status < 300, `${alg}: ${upload.text}`);
    }
  });

  test("every token the provider did not sign for us gets 401", async () => {
    const pem = rsa.publicKey.export({ type: "spki", format: "pem" });
    const cases = [
      ["a key not in the set", rs256(idClaims(), stranger.privateKey)],
      ["an unknown kid", rs256(idClaims(), rsa.privateKey, "rotated-away")],
      ["a wrong iss", rs256(idClaims({ iss: "https://evil.example.test/" }), rsa.privateKey)],
      ["a wrong aud", es256(idClaims({ aud: "other-app" }), ec.privateKey)],
      ["expired", rs256(idClaims({ exp: now() - 300 }), rsa.privateKey)],
      ["HS256 signed with the RSA public key (algorithm confusion)", hs256(idClaims(), { secret: pem, header: { alg: "HS256", kid: "rsa-1" } })],
      ["alg none", `${b64({ alg: "none", kid: "rsa-1" })}.${b64(idClaims())}.`],
      ["a crit header", token({ alg: "RS256", kid: "rsa-1", crit: ["exp"] }, idClaims(), (i) => signWith("sha256", i, rsa.privateKey))],
      ["RS256 header on the EC key", token({ alg: "RS256", kid: "ec-1" }, idClaims(), (i) => signWith("sha256", i, rsa.privateKey))],
    ];
    for (const [why, jwt] of cases) assertUnauthorized(await ask(workers.id, jwt), jwt, why);
  });

  test("the JWKS is fetched once and kept; an unknown kid refetches at most once a minute", async () => {
    const before = jwksFetches;
    for (let i = 0; i < 3; i++) await ask(workers.id, rs256(idClaims(), rsa.privateKey));
    assert.equal(jwksFetches, before, "cached keys verify without a fetch");
    for (let i = 0; i < 3; i++) await ask(workers.id, rs256(idClaims(), rsa.privateKey, `new-${i}`));
    assert.ok(jwksFetches - before <= 1, `${jwksFetches - before} refetches for unknown kids`);
  });

  test("keys that cannot be fetched answer 503 auth_unavailable and let nothing through; a failed fetch is not retried at once", async () => {
    // The provider never answers: the worker gives up after 5 s rather than hang with it.
    const noAnswer = new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 15 s: the JWKS fetch has no timeout")), 15_000).unref());
    for (let i = 0; i < 5; i++) {
      const res = await Promise.race([ask(workers.down, rs256(idClaims(), rsa.privateKey, `kid-${i}`)), noAnswer]);
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.error.code, "auth_unavailable");
    }
    assert.equal(downFetches, 1, "five tokens in a row, one fetch (then none for JWKS_RETRY_SECONDS)");
  });
});

describe("rate limit", () => {
  test("a burst from one caller meets 429 with Retry-After; a batch counts once", async () => {
    const jwt = hs256(claims({ sub: "bursty" }));
    const batch = await ask(workers.limited, jwt, { files: Array.from({ length: 20 }, (_, i) => ({ file_name: `f${i}.txt` })) });
    assert.equal(batch.status, 200, batch.text);
    const statuses = [];
    let limited;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await ask(workers.limited, jwt);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.ok(limited, `no 429 in ${statuses}`);
    assert.equal(limited.body.error.code, "rate_limited");
    assert.equal(limited.headers.get("retry-after"), "10");
    // Another caller has its own count.
    assert.equal((await ask(workers.limited, hs256(claims({ sub: "calm" })))).status, 200);
  });
});

test("no answer and no log line carries a secret, the signing key or a presented token", () => {
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const hmac = (key, data) => createHmac("sha256", key).update(data).digest();
  const signingKey = ["us-east-1", "s3", "aws4_request"].reduce(
    (key, part) => hmac(key, part),
    hmac(`AWS4${s3.secretKey}`, day),
  ).toString("hex");
  const secrets = [s3.secretKey, SECRET, signingKey, ...presented.filter((t) => t.length > 20)];
  const texts = [
    ...answers.map((res) => `${res.text}\n${JSON.stringify(Object.fromEntries(res.headers))}`),
    ...Object.values(workers).map((w) => w.logs()),
  ];
  for (const secret of secrets) {
    for (const text of texts) assert.ok(!text.includes(secret), `a secret or token leaked: ${secret.slice(0, 12)}…`);
  }
  assert.ok(answers.length > 40);
});

test("the audit trail has a line for each grant and each refusal, and no secret in any", () => {
  const lines = workers.hs
    .logs()
    .split("\n")
    .filter((line) => line.startsWith('{"audit"'))
    .map((line) => JSON.parse(line));
  const grant = lines.find((l) => l.audit === "grant" && l.sub === "alice" && l.route === "uploads");
  assert.ok(grant, "no grant line for alice's upload");
  assert.match(grant.key, /^uploads\/alice\//);
  assert.equal(grant.method, "POST");
  assert.ok(grant.max_bytes > 0 && grant.content_type && grant.expires_at);
  assert.ok(lines.some((l) => l.audit === "grant" && l.route === "downloads" && l.sub === "alice"));
  const refusal = lines.find((l) => l.audit === "refusal" && l.status === 401);
  assert.deepEqual(Object.keys(refusal).sort(), ["audit", "code", "route", "status"]);
  assert.equal(refusal.code, "unauthorized");
  const stolen = lines.find((l) => l.audit === "refusal" && l.code === "key_not_allowed");
  assert.ok(stolen?.sub, "a refusal of an authenticated caller names its sub");
  const text = JSON.stringify(lines);
  for (const secret of [SECRET, s3.secretKey, ...presented.filter((t) => t.length > 20)]) {
    assert.ok(!text.includes(secret), "an audit line carries a secret or a token");
  }
  assert.ok(!/X-Amz-Signature|policy|signature/i.test(text), "an audit line carries a signature");
});
