// The `POST /uploads` contract the JS contenders share (routing, validation, the key, the form's
// fields, the answer), so that their rows differ only in how they sign and authenticate. It
// pins what edge-presign's form pins: Content-Type (requested, else inferred from the
// extension, else application/octet-stream), Content-Disposition with the original name, and
// Cache-Control.
const NO_STORE = { "Cache-Control": "no-store" };
const TYPES = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp",
  avif: "image/avif", pdf: "application/pdf", txt: "text/plain", mp4: "video/mp4", mp3: "audio/mpeg" };
// Shown inline only when a browser runs nothing the uploader wrote (edge-presign's safe set).
const INLINE = /^(image\/(png|jpeg|gif|webp|avif|bmp|vnd\.microsoft\.icon)|audio\/[\w.+-]+|video\/[\w.+-]+|application\/pdf|text\/plain)$/;

export const fail = (status, code, message) => Response.json({ error: { code, message } }, { status, headers: NO_STORE });

// A refusal for anything but `POST /uploads` with a JSON body, else null.
export function refuseRoute(request) {
  if (new URL(request.url).pathname !== "/uploads") return fail(404, "not_found", "no such endpoint");
  if (request.method !== "POST") return fail(405, "method_not_allowed", "use POST");
  if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json")) {
    return fail(415, "unsupported_media_type", "send application/json");
  }
  return null;
}

// RFC 5987 `filename*` (MDN's encodeRFC5987ValueChars), and a printable-ASCII `filename` fallback.
const rfc5987 = (s) => encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  .replace(/%(7C|60|5E)/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
const disposition = (kind, name) => `${kind}; filename="${name.replace(/[^\x20-\x7e]|["\\]/gu, "_")}"; filename*=UTF-8''${rfc5987(name)}`;

// The upload to sign (key under `prefix`, fields to pin in order, size range, lifetime, and the
// body for callers that read more of it), or a refusal Response.
export async function readUpload(request, env, prefix = env.UPLOAD_PREFIX) {
  let body;
  try {
    body = await request.json();
  } catch {
    return fail(400, "invalid_json", "the body is not JSON");
  }
  const { file_name: fileName, content_type: requested, size } = body ?? {};
  if (typeof fileName !== "string" || !fileName.trim()) return fail(400, "invalid_file_name", "file_name is required");
  const maxBytes = Number(env.UPLOAD_MAX_BYTES);
  if (size !== undefined && !(Number.isInteger(size) && size > 0)) return fail(400, "invalid_size", "bad size");
  if (size > maxBytes) return fail(413, "file_too_large", "file is too large");
  if (requested !== undefined && !(typeof requested === "string" && /^[\w.+-]+\/[\w.+-]+(;[ -~]*)?$/.test(requested))) {
    return fail(400, "invalid_content_type", "content_type must be a media type");
  }
  // A simple version of our name rule: last path segment, lowercase extension, safe characters.
  const base = fileName.split(/[\\/]/).pop().trim();
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  const stem = (dot > 0 ? base.slice(0, dot) : base).replace(/[^\p{L}\p{N}_()-]+/gu, "-") || "file";
  const key = `${prefix}${crypto.randomUUID()}/${ext ? `${stem}.${ext}` : stem}`;
  const contentType = requested ?? TYPES[ext] ?? "application/octet-stream";
  const essence = contentType.split(";")[0].trim().toLowerCase();
  const fields = [
    ["Content-Type", contentType],
    ["Content-Disposition", disposition(INLINE.test(essence) ? "inline" : "attachment", base)],
    ["Cache-Control", env.UPLOAD_CACHE_CONTROL || "private, max-age=3600"],
  ];
  const expires = Number(env.UPLOAD_EXPIRES_SECONDS);
  return { key, fields, min: size ?? 1, max: size ?? maxBytes, expires, body };
}

export const answer = (upload, url, fields, signedAtMs) => Response.json(
  {
    method: "POST",
    url,
    fields,
    key: upload.key,
    expires_at: new Date(Math.floor(signedAtMs / 1000 + upload.expires) * 1000).toISOString().replace(".000Z", "Z"),
    max_bytes: upload.max,
  },
  { headers: NO_STORE },
);
