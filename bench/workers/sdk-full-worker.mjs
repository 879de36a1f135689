// Size only: the whole job edge-presign does, written on the AWS SDK and jose, to weigh the
// bundle a JS developer would ship for it (bench/run checks its POST /uploads once, but does not
// load it). Presigned POST and PUT, presigned GET downloads, HS256 or remote-JWKS bearer tokens
// with the key under the caller's `sub`, and Uppy Companion's multipart routes.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand,
  GetObjectCommand, ListPartsCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { answer, fail, readUpload } from "./upload-contract.mjs";

let client, hsKey, jwks; // per isolate
const json = (value, status = 200) => Response.json(value, { status, headers: { "Cache-Control": "no-store" } });
const isoSeconds = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

// The caller's key prefix, `null` when auth is off, or a 401 Response.
async function callerPrefix(request, env) {
  if (!env.UPLOAD_AUTH_SECRET && !env.UPLOAD_AUTH_JWKS_URL) return null;
  const token = /^Bearer ([\w.-]+)$/.exec(request.headers.get("Authorization") ?? "")?.[1];
  if (!token) return fail(401, "unauthorized", "an Authorization: Bearer token is required");
  try {
    let payload;
    if (env.UPLOAD_AUTH_SECRET && decodeProtectedHeader(token).alg === "HS256") {
      hsKey ??= new TextEncoder().encode(env.UPLOAD_AUTH_SECRET);
      ({ payload } = await jwtVerify(token, hsKey, { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] }));
    } else {
      jwks ??= createRemoteJWKSet(new URL(env.UPLOAD_AUTH_JWKS_URL));
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: ["RS256", "ES256"], issuer: env.UPLOAD_AUTH_ISSUER,
        audience: env.UPLOAD_AUTH_AUDIENCE || undefined, requiredClaims: ["exp", "sub"],
      }));
    }
    // `sub` injectively as one key segment, as edge-presign encodes it.
    const segment = [...new TextEncoder().encode(payload.sub)]
      .map((b) => (/[a-z0-9-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `_${b.toString(16).padStart(2, "0")}`)).join("");
    return `${env.UPLOAD_PREFIX}${segment}/`;
  } catch {
    return fail(401, "unauthorized", "the token is not valid");
  }
}

// A key this caller may touch: under its prefix, no empty or dot segments.
const ownKey = (key, prefix) => typeof key === "string" && key.startsWith(prefix) && !key.split("/").some((s) => s === "" || s === "." || s === "..");

async function upload(request, env, prefix) {
  const up = await readUpload(request, env, prefix);
  if (up instanceof Response) return up;
  const wanted = up.body;
  const nowMs = Date.now();
  if ((wanted.method ?? env.UPLOAD_METHOD ?? "POST").toUpperCase() === "PUT") {
    const [type, disposition, cache] = up.fields.map(([, v]) => v);
    const command = new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: up.key, ContentType: type,
      ContentDisposition: disposition, CacheControl: cache, ContentLength: up.max, ChecksumSHA256: wanted.checksum_sha256 });
    const headers = { "Content-Type": type, "Content-Disposition": disposition, "Cache-Control": cache };
    const url = await getSignedUrl(client, command, { expiresIn: up.expires, signableHeaders: new Set(["content-type", "content-disposition", "cache-control", "content-length"]) });
    return json({ method: "PUT", url, headers, key: up.key, expires_at: isoSeconds(nowMs + up.expires * 1000), max_bytes: up.max });
  }
  const form = await createPresignedPost(client, { Bucket: env.S3_BUCKET, Key: up.key,
    Conditions: [["content-length-range", up.min, up.max]], Fields: Object.fromEntries(up.fields), Expires: up.expires });
  return answer(up, form.url, form.fields, nowMs);
}

// Uppy Companion's S3 multipart routes, under /s3/multipart.
async function multipart(request, env, prefix, parts) {
  const url = new URL(request.url);
  const Bucket = env.S3_BUCKET;
  const [uploadId, second] = parts;
  if (!uploadId && request.method === "POST") {
    const up = await readUpload(request, env, prefix);
    if (up instanceof Response) return up;
    const [type, disposition, cache] = up.fields.map(([, v]) => v);
    const made = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: up.key, ContentType: type, ContentDisposition: disposition, CacheControl: cache }));
    return json({ key: made.Key, uploadId: made.UploadId });
  }
  const Key = url.searchParams.get("key");
  if (!uploadId || !ownKey(Key, prefix)) return fail(400, "invalid_key", "a key this caller may upload to is required");
  const UploadId = decodeURIComponent(uploadId);
  if (request.method === "GET" && second) {
    const PartNumber = Number(second);
    if (!(Number.isInteger(PartNumber) && PartNumber >= 1 && PartNumber <= 10000)) return fail(400, "invalid_part", "part numbers are 1 to 10000");
    const signed = await getSignedUrl(client, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber }), { expiresIn: Number(env.UPLOAD_EXPIRES_SECONDS) });
    return json({ url: signed, expires: Number(env.UPLOAD_EXPIRES_SECONDS) });
  }
  if (request.method === "GET") {
    const all = [];
    let PartNumberMarker;
    do {
      const page = await client.send(new ListPartsCommand({ Bucket, Key, UploadId, PartNumberMarker }));
      all.push(...(page.Parts ?? []).map(({ PartNumber, ETag, Size }) => ({ PartNumber, ETag, Size })));
      PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (PartNumberMarker);
    return json(all);
  }
  if (request.method === "POST" && second === "complete") {
    const { parts: done } = await request.json().catch(() => ({}));
    if (!Array.isArray(done) || !done.length) return fail(400, "invalid_parts", "parts must list PartNumber and ETag");
    const result = await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId,
      MultipartUpload: { Parts: done.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) } }));
    return json({ location: result.Location });
  }
  if (request.method === "DELETE" && !second) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    return json({});
  }
  return fail(405, "method_not_allowed", "not a multipart route");
}

export default {
  async fetch(request, env) {
    client ??= new S3Client({
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT || undefined,
      forcePathStyle: env.S3_FORCE_PATH_STYLE === "true",
      // Otherwise presigned PUTs and parts carry the CRC32 of an empty body, which S3 refuses.
      requestChecksumCalculation: "WHEN_REQUIRED",
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
    });
    const path = new URL(request.url).pathname;
    const auth = await callerPrefix(request, env);
    if (auth instanceof Response) return auth;
    const prefix = auth ?? env.UPLOAD_PREFIX;
    try {
      if (path === "/uploads") {
        if (request.method !== "POST") return fail(405, "method_not_allowed", "use POST");
        if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json")) return fail(415, "unsupported_media_type", "send application/json");
        return await upload(request, env, prefix);
      }
      if (path.startsWith("/downloads/") && request.method === "GET") {
        const Key = decodeURIComponent(path.slice("/downloads/".length));
        if (!ownKey(Key, prefix)) return fail(403, "key_not_allowed", "not a key this caller may read");
        const expiresIn = Number(env.DOWNLOAD_EXPIRES_SECONDS || 300);
        const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: env.S3_BUCKET, Key }), { expiresIn });
        return json({ url, expires_at: isoSeconds(Date.now() + expiresIn * 1000) });
      }
      if (path === "/s3/multipart" || path.startsWith("/s3/multipart/")) {
        return await multipart(request, env, prefix, path.split("/").slice(3));
      }
      return fail(404, "not_found", "no such endpoint");
    } catch (error) {
      return fail(502, "storage_error", String(error?.name ?? "S3 refused the request"));
    }
  },
};
