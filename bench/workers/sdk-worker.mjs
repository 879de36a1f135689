// The JavaScript worker edge-presign replaces: the same request and answer, signed by the AWS
// SDK's `createPresignedPost`. bench/run bundles it with esbuild (minified, ES module, browser
// platform) and loads it in the same workerd as ours, with the same bindings.
import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

let client; // per isolate, as ours keeps its settings and signing key

const fail = (status, code, message) =>
  Response.json({ error: { code, message } }, { status, headers: { "Cache-Control": "no-store" } });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/uploads") return fail(404, "not_found", "no such endpoint");
    if (request.method !== "POST") return fail(405, "method_not_allowed", "use POST");
    if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json")) {
      return fail(415, "unsupported_media_type", "send application/json");
    }
    client ??= new S3Client({
      region: env.S3_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    let body;
    try {
      body = await request.json();
    } catch {
      return fail(400, "invalid_json", "the body is not JSON");
    }
    const { file_name: fileName, content_type: contentType, size } = body ?? {};
    if (typeof fileName !== "string") return fail(400, "invalid_file_name", "file_name is required");
    const maxBytes = Number(env.UPLOAD_MAX_BYTES);
    if (size !== undefined && !(Number.isInteger(size) && size > 0)) return fail(400, "invalid_size", "bad size");
    if (size > maxBytes) return fail(413, "file_too_large", "file is too large");
    // A simple version of our name rule: last path segment, lowercase extension, safe characters.
    const base = fileName.split(/[\\/]/).pop();
    const dot = base.lastIndexOf(".");
    const stem = (dot > 0 ? base.slice(0, dot) : base).replace(/[^\p{L}\p{N}_()-]+/gu, "-") || "file";
    const name = dot > 0 ? `${stem}.${base.slice(dot + 1).toLowerCase()}` : stem;
    const key = `${env.UPLOAD_PREFIX}${crypto.randomUUID()}/${name}`;
    const expires = Number(env.UPLOAD_EXPIRES_SECONDS);
    const conditions = [["content-length-range", size ?? 1, size ?? maxBytes]];
    const fields = {};
    if (typeof contentType === "string") {
      conditions.push({ "Content-Type": contentType });
      fields["Content-Type"] = contentType;
    }
    const form = await createPresignedPost(client, {
      Bucket: env.S3_BUCKET,
      Key: key,
      Conditions: conditions,
      Fields: fields,
      Expires: expires,
    });
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + expires) * 1000).toISOString().replace(".000Z", "Z");
    return Response.json(
      { url: form.url, fields: form.fields, key, expires_at: expiresAt, max_bytes: size ?? maxBytes },
      { headers: { "Cache-Control": "no-store" } },
    );
  },
};
