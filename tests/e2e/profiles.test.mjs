// Upload profiles (UPLOAD_PROFILES): one worker, several sets of rules, each enforced on every
// way in (a form, a PUT, a multipart upload, Uppy's routes), against s3s-fs, which checks
// policies and signatures for real. The settings themselves stay the profile `default`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { mintToken, postJson, putWhole, ROOT, startAll, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

const MiB = 1024 * 1024;
const SECRET = "profiles-test-secret-of-at-least-32-bytes!";
const PROFILES = {
  avatar: { max_bytes: 1000, allowed_types: ["image/png"], prefix: "avatars/", max_multipart_bytes: 0 },
  video: { method: "PUT", max_bytes: 2 * MiB, max_multipart_bytes: 12 * MiB, prefix: "videos/" },
};

let s3;
let worker; // the profiles above over UPLOAD_MAX_BYTES 1 MiB
let authed; // the same, with HS256 tokens
let table; // the profiles as a TOML table in wrangler.toml's [vars]

/** The test wrangler.toml with the profiles as a `[vars.UPLOAD_PROFILES]` table. */
async function configWithTable() {
  const source = await readFile(join(ROOT, ".wrangler", "test-1000000.wrangler.toml"), "utf8");
  const file = join(ROOT, ".wrangler", "test-profiles.wrangler.toml");
  await writeFile(file, `${source}\n[vars.UPLOAD_PROFILES]\navatar = { max_bytes = 1000, prefix = "avatars/" }\n`);
  return file;
}

before(async () => {
  s3 = await startS3();
  const vars = { UPLOAD_MAX_BYTES: String(MiB), UPLOAD_PROFILES: JSON.stringify(PROFILES) };
  [worker, authed] = await startAll([
    () => startWorker(s3, vars),
    () => startWorker(s3, vars, { secrets: { UPLOAD_AUTH_SECRET: SECRET } }),
  ]);
  table = await startWorker(s3, { UPLOAD_PROFILES: undefined }, { config: await configWithTable() });
});

after(async () => {
  await Promise.all([worker?.stop(), authed?.stop(), table?.stop()]);
  await s3?.stop();
  await stopAll();
});

const outcome = ({ status, body }) => `${status} ${body?.error?.code ?? "ok"}`;
const get = (url) => fetch(url).then(async (r) => ({ status: r.status, body: await r.json() }));
const policyOf = (form) => JSON.parse(Buffer.from(form.fields.policy, "base64").toString());
const lengthRange = (form) => policyOf(form).conditions.find((c) => c[0] === "content-length-range").slice(1);

test("a form is signed and held to its profile's prefix, size and types", async () => {
  const avatar = await postJson(`${worker.url}/uploads`, { file_name: "me.png", content_type: "image/png", profile: "avatar" });
  assert.equal(avatar.status, 200, JSON.stringify(avatar.body));
  assert.match(avatar.body.key, /^avatars\/[0-9a-f-]{36}\/me\.png$/);
  assert.deepEqual(lengthRange(avatar.body), [1, 1000]);
  const over = await uploadWithForm(avatar.body, randomBytes(1001), { fileName: "me.png", type: "image/png" });
  assert.equal(over.status, 400, "the store refuses a byte over the profile's limit");
  assert.match(over.text, /EntityTooLarge/);
  const fits = await uploadWithForm(avatar.body, randomBytes(1000), { fileName: "me.png", type: "image/png" });
  assert.equal(fits.status, 204, fits.text);
  assert.equal((await s3.readObject(avatar.body.key)).length, 1000);
  const verified = await postJson(`${worker.url}/uploads/complete`, { key: avatar.body.key, size: 1000, content_type: "image/png" });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  assert.equal(verified.body.profile, "avatar", "verified by the profile it was signed under");

  const refusals = [
    [{ file_name: "me.png", content_type: "image/png", size: 1001, profile: "avatar" }, "413 file_too_large"],
    [{ file_name: "cv.pdf", content_type: "application/pdf", profile: "avatar" }, "415 content_type_not_allowed"],
    [{ file_name: "me.png", profile: "nope" }, "400 unknown_profile"],
    [{ file_name: "me.png", profile: 7 }, "400 unknown_profile"],
    [{ file_name: "big.bin", size: MiB + 1 }, "413 file_too_large"],
  ];
  for (const [request, expected] of refusals) {
    assert.equal(outcome(await postJson(`${worker.url}/uploads`, request)), expected, JSON.stringify(request));
  }
  // The default profile is the settings' own: a PDF of 2 KiB is fine there, named or not.
  for (const profile of [undefined, "default"]) {
    const pdf = await postJson(`${worker.url}/uploads`, { file_name: "cv.pdf", size: 2048, profile });
    assert.equal(pdf.status, 200);
    assert.match(pdf.body.key, /^uploads\//);
    assert.deepEqual(lengthRange(pdf.body), [2048, 2048]);
  }
  // A batch: each entry under its own profile, all refused when one is bad.
  const batch = await postJson(`${worker.url}/uploads`, { files: [
    { file_name: "a.png", content_type: "image/png", profile: "avatar" }, { file_name: "b.pdf", size: 10 },
  ] });
  assert.deepEqual(batch.body.uploads.map((u) => u.key.split("/")[0]), ["avatars", "uploads"]);
  const bad = await postJson(`${worker.url}/uploads`, { files: [{ file_name: "a.png", profile: "nope" }, { file_name: "b.pdf" }] });
  assert.deepEqual(bad.body.error.details.map((d) => [d.index, d.code]), [[0, "unknown_profile"]]);
});

test("a profile's method and size bound its presigned PUT", async () => {
  const bytes = randomBytes(1.5 * MiB);
  const video = await postJson(`${worker.url}/uploads`, { file_name: "clip.mp4", size: bytes.length, profile: "video" });
  assert.equal(video.status, 200, JSON.stringify(video.body));
  assert.equal(video.body.method, "PUT", "the profile's method");
  assert.match(video.body.key, /^videos\//);
  const sent = await putWhole(video.body.url, bytes, Object.fromEntries(Object.entries(video.body.headers).filter(([n]) => !/^content-length$/i.test(n))));
  assert.equal(sent.status, 200, sent.text);
  assert.equal((await s3.readObject(video.body.key)).length, bytes.length);
  assert.equal(outcome(await postJson(`${worker.url}/uploads`, { file_name: "clip.mp4", size: 2 * MiB + 1, profile: "video" })),
    "413 file_too_large");
  assert.equal(outcome(await postJson(`${worker.url}/uploads`, { file_name: "clip.mp4", profile: "video" })),
    "400 size_required", "a PUT needs a size, as it always did");
});

test("multipart: refused where a profile takes none, held to each profile's limit where it does", async () => {
  const create = (body) => postJson(`${worker.url}/s3/multipart`, body);
  assert.equal(outcome(await create({ filename: "me.png", type: "image/png", metadata: { profile: "avatar" } })),
    "403 multipart_not_allowed");
  assert.equal(outcome(await create({ filename: "v.mp4", size: 12 * MiB + 1, profile: "video" })), "413 file_too_large");
  assert.equal(outcome(await create({ filename: "v.mp4", size: 2 * MiB })), "413 file_too_large",
    "the default's multipart limit is UPLOAD_MAX_BYTES, 1 MiB");
  assert.equal(outcome(await create({ filename: "v.mp4", metadata: { profile: "nope" } })), "400 unknown_profile");

  const video = await create({ filename: "v.mp4", type: "video/mp4", metadata: { profile: "video" } });
  assert.equal(video.status, 200, JSON.stringify(video.body));
  const { key, uploadId } = video.body;
  assert.match(key, /^videos\//);
  const part = (n) => get(`${worker.url}/s3/multipart/${encodeURIComponent(uploadId)}/${n}?${new URLSearchParams({ key })}`);
  assert.equal((await part(3)).status, 200, "12 MiB holds three parts of 5 MiB");
  assert.equal(outcome(await part(4)), "413 file_too_large");
  // Parts past the profile's limit are refused at completion too: 3 × 5 MiB > 12 MiB.
  const etags = [];
  for (const n of [1, 2, 3]) {
    const sent = await fetch((await part(n)).body.url, { method: "PUT", body: randomBytes(5 * MiB) });
    etags.push({ PartNumber: n, ETag: sent.headers.get("etag") });
  }
  const done = await postJson(`${worker.url}/s3/multipart/${encodeURIComponent(uploadId)}/complete?${new URLSearchParams({ key })}`,
    { parts: etags });
  assert.equal(outcome(done), "413 file_too_large");
  assert.equal(await s3.readObject(key), null);
});

test("Uppy's routes pick a profile from the file's metadata", async () => {
  const params = await get(`${worker.url}/s3/params?${new URLSearchParams({ filename: "me.png", type: "image/png", "metadata[profile]": "avatar" })}`);
  assert.equal(params.status, 200, JSON.stringify(params.body));
  assert.match(params.body.fields.key, /^avatars\//);
  assert.deepEqual(lengthRange(params.body), [1, 1000]);
  const wrongType = await get(`${worker.url}/s3/params?${new URLSearchParams({ filename: "a.pdf", type: "application/pdf", "metadata[profile]": "avatar" })}`);
  assert.equal(outcome(wrongType), "415 content_type_not_allowed");
  const unknown = await get(`${worker.url}/s3/params?${new URLSearchParams({ filename: "a.png", "metadata[profile]": "nope" })}`);
  assert.equal(outcome(unknown), "400 unknown_profile");

  const sign = (body) => postJson(`${worker.url}/s3/sign`, body);
  const form = await sign({ method: "PUT", key: "me.png", contentType: "image/png", profile: "avatar" });
  assert.equal(form.status, 200, JSON.stringify(form.body));
  assert.match(form.body.fields.key, /^avatars\//);
  assert.deepEqual(lengthRange(form.body), [1, 1000]);
  const created = await sign({ method: "POST", key: "clip.mp4", contentType: "video/mp4", profile: "video" });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.match(new URL(created.body.url).searchParams.get("key"), /^videos\//);
  assert.equal(outcome(await sign({ method: "PUT", key: "clip.mp4", contentType: "video/mp4", profile: "video" })),
    "400 size_required", "a PUT profile's whole file needs a size, which signRequest does not send: parts then");
  assert.equal(outcome(await sign({ method: "POST", key: "me.png", contentType: "image/png", profile: "avatar" })),
    "403 multipart_not_allowed");
  assert.equal(outcome(await sign({ method: "PUT", key: "x.png", contentType: "image/png", profile: "nope" })),
    "400 unknown_profile");
});

test("a token's profiles claim lists the profiles its caller may use", async () => {
  const only = mintToken("alice", SECRET, { profiles: ["avatar"] });
  const ask = (body, token) => postJson(`${authed.url}/uploads`, body, { Authorization: `Bearer ${token}` });
  assert.equal(outcome(await ask({ file_name: "me.png", content_type: "image/png", profile: "avatar" }, only)), "200 ok");
  assert.equal(outcome(await ask({ file_name: "cv.pdf", size: 10 }, only)), "403 profile_not_allowed");
  assert.equal(outcome(await ask({ file_name: "v.mp4", size: 10, profile: "video" }, only)), "403 profile_not_allowed");
  const any = mintToken("alice", SECRET);
  const video = await ask({ file_name: "v.mp4", size: 10, profile: "video" }, any);
  assert.equal(video.status, 200);
  assert.match(video.body.key, /^videos\/[^/]+\/[0-9a-f-]{36}\/v\.mp4$/, "under the caller's segment");
  // That key is not the avatar-only caller's to name, even for a download.
  const download = await fetch(`${authed.url}/downloads/${encodeURIComponent(video.body.key)}`, { headers: { Authorization: `Bearer ${only}` } });
  assert.equal(download.status, 403);
  assert.equal(outcome(await ask({ file_name: "x", profiles: 1, profile: ["avatar"] }, any)), "400 unknown_profile");
});

test("a TOML table in [vars] is read as the same profiles", async () => {
  const health = await get(`${table.url}/healthz`);
  assert.equal(health.status, 200, JSON.stringify(health.body));
  const avatar = await postJson(`${table.url}/uploads`, { file_name: "me.png", profile: "avatar" });
  assert.equal(avatar.status, 200, JSON.stringify(avatar.body));
  assert.match(avatar.body.key, /^avatars\//);
  assert.deepEqual(lengthRange(avatar.body), [1, 1000]);
});

test("a bad profile is a configuration error naming the variable, never its value", async () => {
  const bad = await startWorker(s3, { UPLOAD_PROFILES: JSON.stringify({ avatar: { max_bytes: 0, prefix: "secret-looking-prefix" } }) });
  try {
    const health = await get(`${bad.url}/healthz`);
    assert.equal(health.status, 503);
    assert.deepEqual(health.body.misconfigured, ["UPLOAD_PROFILES"]);
    assert.ok(!JSON.stringify(health.body).includes("secret-looking-prefix"));
    assert.match(JSON.stringify(health.body.problems), /profile avatar: max_bytes/);
  } finally {
    await bad.stop();
  }
});
