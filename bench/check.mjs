// Before any load: one POST /uploads to a worker in workerd must answer 200 with a correct signed
// form, or bench/run stops here with the answer (a benchmark of error pages, or of a wrong
// signer, is worthless). Each form's policy must pin every field it carries, and its signature
// is recomputed here with node:crypto. Token workers also get a forged and a missing token.
//   BENCH_TOKEN=<HS256 JWT, sub "alice"> node bench/check.mjs <worker> <port> <file for the answer>
// worker: ours | lean | sdk | sdk-full | trivial (no token), ours-hs256 | sdk-jose (token),
// ours-profiles (a request naming the profile "photo"), ours-complete (POST /uploads/complete).
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";

const [name, port, saveTo] = process.argv.slice(2);
// bench/run's bindings.
const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const DISPOSITION = `inline; filename="holiday photo.JPG"; filename*=UTF-8''holiday%20photo.JPG`;
const withToken = name === "ours-hs256" || name === "sdk-jose";
const token = process.env.BENCH_TOKEN;
if (withToken && !token) throw new Error("BENCH_TOKEN is not set");
const COMPLETED_KEY = "uploads/2f1c0a8e-3b7d-4f0e-9a41-0c5e7d2b9f13/holiday-photo.jpg";
const body = JSON.stringify(name === "ours-complete"
  ? { key: COMPLETED_KEY, size: 123456, content_type: "image/jpeg" }
  : { file_name: "holiday photo.JPG", content_type: "image/jpeg", size: 123456, ...(name === "ours-profiles" ? { profile: "photo" } : {}) });
const url = `http://127.0.0.1:${port}/uploads${name === "ours-complete" ? "/complete" : ""}`;
const post = (auth) => fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
  body,
});

let response;
for (let i = 0; i < 100 && !response; i++) {
  try {
    response = await post(withToken ? token : undefined);
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 100)); // workerd still starting
  }
}
if (!response) throw new Error(`${name}: nothing answers on ${url}`);
const text = await response.text();
let json;
try {
  json = JSON.parse(text);
} catch {
  json = undefined;
}
const problems = [];
const expect = (ok, what) => ok || problems.push(what);

const hmac = (key, data) => createHmac("sha256", key).update(data).digest();
// SigV4 for a POST policy: the day's key from the credential scope, then one HMAC of the policy.
const sigv4 = (policy, date, region) => {
  const key = ["s3", "aws4_request"].reduce(hmac, hmac(hmac(`AWS4${SECRET}`, date), region));
  return hmac(key, policy).toString("hex");
};

function checkForm(j) {
  const fields = Object.entries(j?.fields ?? {});
  const field = (n) => fields.find(([k]) => k.toLowerCase() === n)?.[1];
  const segment = name === "sdk-jose" ? "alice/" : name === "ours-hs256" ? "(alice/)?" : "";
  expect(j?.method === "POST", "method is not POST");
  expect(typeof j?.url === "string", "no url");
  const prefix = name === "ours-profiles" ? "photos/" : "uploads/";
  expect(new RegExp(`^${prefix}${segment}[0-9a-f-]{36}/holiday-photo\\.jpg$`).test(j?.key), `unexpected key ${j?.key}`);
  expect(field("key") === j?.key, "the key field is not the key");
  expect(field("content-type") === "image/jpeg", "Content-Type is not image/jpeg");
  expect(typeof j?.expires_at === "string" && Date.parse(j.expires_at) > Date.now(), "expires_at is not in the future");
  expect(j?.max_bytes === 123456, "max_bytes is not the size asked for");
  // The JS workers must carry what ours carries (README: Content-Disposition, Cache-Control).
  if (!name.startsWith("ours")) {
    expect(field("content-disposition") === DISPOSITION, `Content-Disposition is not ${DISPOSITION}`);
    expect(field("cache-control") === "private, max-age=3600", "Cache-Control is not private, max-age=3600");
  }
  const credential = /^(\w+)\/(\d{8})\/([\w-]+)\/s3\/aws4_request$/.exec(field("x-amz-credential") ?? "");
  expect(field("x-amz-algorithm") === "AWS4-HMAC-SHA256", "x-amz-algorithm is not AWS4-HMAC-SHA256");
  expect(credential?.[1] === ACCESS_KEY_ID && credential[3] === "us-east-1", "unexpected x-amz-credential");
  expect(field("x-amz-date")?.startsWith(credential?.[2]), "x-amz-date is not the credential's day");

  const policy = field("policy");
  let decoded;
  try {
    decoded = JSON.parse(Buffer.from(policy, "base64").toString("utf8"));
  } catch {
    problems.push("policy is not base64 JSON");
    return;
  }
  expect(Date.parse(decoded.expiration) > Date.now(), "the policy has expired");
  const conditions = decoded.conditions ?? [];
  // S3's rule: every field but policy and the signature meets an exact or starts-with condition.
  const covers = (n, v) => conditions.some((c) => Array.isArray(c)
    ? (c[0] === "eq" && c[1].toLowerCase() === `$${n}` && c[2] === v) || (c[0] === "starts-with" && c[1].toLowerCase() === `$${n}` && v.startsWith(c[2]))
    : Object.entries(c).some(([k, cv]) => k.toLowerCase() === n && cv === v));
  for (const [n, v] of fields) {
    if (!["policy", "x-amz-signature"].includes(n.toLowerCase())) expect(covers(n.toLowerCase(), v), `the policy does not pin ${n}`);
  }
  expect(covers("bucket", "photos"), "the policy does not pin the bucket");
  const range = conditions.find((c) => Array.isArray(c) && c[0] === "content-length-range");
  expect(range && range[1] <= 123456 && 123456 <= range[2], "the policy has no content-length-range around the size");
  if (credential) expect(field("x-amz-signature") === sigv4(policy, credential[2], credential[3]), "x-amz-signature is not the SigV4 signature of the policy");
}

if (response.status !== 200) problems.push(`status ${response.status}`);
else if (name === "trivial") expect(json?.ok === true && json.file_name === "holiday photo.JPG", "unexpected answer");
else if (name === "ours-complete") {
  expect(json?.key === COMPLETED_KEY && json.size === 123456 && json.content_type === "image/jpeg", "not the verified object");
  expect(json?.profile === "default", "not verified by the default profile");
  expect(/^msg_[0-9a-f]{32}$/.test(json?.event_id ?? ""), "no event id: events are not on");
}
else checkForm(json);

// A token worker that verifies tokens refuses a forged one and a missing one. Ours before auth is
// wired in ignores the token (its key has no caller segment): report.mjs notes it.
const verifies = name === "sdk-jose" || (name === "ours-hs256" && /^uploads\/alice\//.test(json?.key));
if (withToken && verifies && !problems.length) {
  const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
  for (const [what, auth] of [["a forged token", forged], ["no token", undefined]]) {
    const refused = await post(auth);
    expect(refused.status === 401, `${what} got ${refused.status}, not 401`);
  }
}
if (problems.length) {
  console.error(`${name} on ${url} did not answer as expected: ${problems.join("; ")}\n${response.status} ${text}`);
  process.exit(1);
}
writeFileSync(saveTo, `${JSON.stringify(json, null, 2)}\n`);
