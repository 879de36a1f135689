// edge-presign browser client: asks the worker for a signed S3 upload (a POST form or a
// presigned PUT URL), then sends the file straight to the bucket. No dependencies, no build
// step: `import { uploadFile } from "/client.js"`.
//
// Options of uploadFile / uploadFiles, besides endpoint, onProgress, signal and fetch:
//   method: "POST" | "PUT"  asks the worker for a POST form or a presigned PUT. Sent only when
//                           given: by default the worker's UPLOAD_METHOD decides (R2 takes PUT
//                           only, and refuses POST with `method_not_supported`). The file then
//                           goes the way the worker's answer names, with the same progress,
//                           abort and errors either way.
//   checksum: true          sends the file's SHA-256 (`checksum_sha256`): the bucket refuses
//                           other bytes (S3 code `BadDigest`) and stores nothing. The digest
//                           reads the whole file into memory, so it is limited to
//                           CHECKSUM_MAX_BYTES (256 MiB): a larger file rejects with
//                           `checksum_too_large` before the worker is asked. Needs a secure
//                           context (https or localhost), where `crypto.subtle` exists.
//   token                   a string, or a function returning one (or a Promise of one), sent
//                           as `Authorization: Bearer <token>` on every request to the worker,
//                           never to the bucket. A function is called for each request, so a
//                           token that is refreshed is picked up. downloadUrl takes it too.
// downloadUrl(key) asks the worker for a short-lived GET URL of an uploaded object.
// Types, with every option and error code: client.d.ts, served beside this file.

const BATCH_LIMIT = 20;

/** Largest file `checksum: true` accepts: hashing reads the whole file into memory. */
export const CHECKSUM_MAX_BYTES = 256 * 1024 * 1024;

/**
 * A failed upload. `source` says who refused it:
 * "worker" | "storage" | "network" | "abort" | "client" (this module, before asking anyone).
 */
export class UploadError extends Error {
  /**
   * @param {string} code worker error code ("unauthorized" for every 401, "rate_limited" for every
   *   429), S3 <Code>, "network_error", "aborted", "http_<status>", or a client code
   *   ("checksum_too_large", "checksum_unavailable", "file_unreadable", "token_unavailable")
   * @param {string} message readable explanation
   * @param {{status?: number, source?: string, details?: any[], maxBytes?: number, storageMessage?: string,
   *   retryAfter?: number}} [extra]
   */
  constructor(code, message, { status = 0, source = "worker", ...rest } = {}) {
    super(message);
    this.name = "UploadError";
    this.code = code;
    this.status = status;
    this.source = source;
    Object.assign(this, rest);
  }
}

const FRIENDLY = {
  EntityTooLarge: "The file is larger than the bucket accepts",
  EntityTooSmall: "The file is smaller than the bucket accepts",
  SignatureDoesNotMatch: "The bucket did not accept the upload signature (check the worker's credentials)",
  InvalidPolicyDocument: "The bucket did not accept the signed upload form",
  ExpiredToken: "The worker's temporary credentials have expired",
  AccessDenied: "The bucket refused the upload",
  BadDigest: "The bytes that reached the bucket did not match the file's SHA-256 checksum (the file may have changed while uploading)",
};

function friendly(code, message) {
  if (code === "AccessDenied" && /expired/i.test(message)) {
    return "The upload form expired before the upload reached the bucket; please try again";
  }
  if (code === "AccessDenied" && /condition failed/i.test(message)) {
    return "The file did not match the signed upload form";
  }
  return FRIENDLY[code] || "The storage service rejected the upload";
}

const unescapeXml = (s) =>
  s.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-f]+));/gi, (m, name, dec, hex) =>
    dec ? String.fromCodePoint(+dec) : hex ? String.fromCodePoint(parseInt(hex, 16))
      : { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" }[name.toLowerCase()]);

function xmlFields(text, names) {
  const out = {};
  if (typeof DOMParser === "function") {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) return out;
    for (const name of names) {
      const el = doc.getElementsByTagName(name)[0];
      if (el) out[name] = el.textContent.trim();
    }
    return out;
  }
  for (const name of names) {
    const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(text);
    if (m) out[name] = unescapeXml(m[1]).trim();
  }
  return out;
}

/**
 * Turns a failed storage (S3) answer into an UploadError: the S3 <Code> becomes `code`, and the
 * message is a friendly sentence followed by S3's own <Message>. A body that is not an S3 XML
 * error gives code "http_<status>".
 * @param {string} xmlText response body
 * @param {number} status HTTP status
 * @returns {UploadError}
 */
export function parseStorageError(xmlText, status) {
  const text = String(xmlText || "");
  const f = /<Error[\s>]/.test(text)
    ? xmlFields(text, ["Code", "Message", "MaxSizeAllowed", "MinSizeAllowed", "ProposedSize"])
    : {};
  if (!f.Code) {
    return new UploadError(`http_${status}`, `The storage service answered HTTP ${status}`,
      { status, source: "storage" });
  }
  const s3 = f.Message || f.Code;
  const extra = { status, source: "storage", storageMessage: s3 };
  if (f.MaxSizeAllowed) extra.maxBytes = Number(f.MaxSizeAllowed);
  if (f.MinSizeAllowed) extra.minBytes = Number(f.MinSizeAllowed);
  return new UploadError(f.Code, `${friendly(f.Code, s3)}. S3 said: "${s3}"`, extra);
}

/**
 * The object's URL: the form URL plus the key, each key segment percent-encoded.
 * Works for path-style ("https://s3.eu-west-1.amazonaws.com/bucket") and virtual-hosted
 * ("https://bucket.s3.amazonaws.com/") form URLs.
 * @param {string} url the form's `url`
 * @param {string} key the object key
 */
export function objectUrl(url, key) {
  const base = url.endsWith("/") ? url : `${url}/`;
  return base + String(key).split("/").map(encodeURIComponent).join("/");
}

const aborted = () => new UploadError("aborted", "The upload was cancelled", { source: "abort" });

function absolute(url) {
  try { return new URL(url, globalThis.location?.href).href; } catch { return url; }
}
function origin(url) {
  try { return new URL(url, globalThis.location?.href).origin; } catch { return url; }
}

/** The `Authorization` header for `token` (a string or a function giving one), if any. */
async function authorization(token, signal) {
  let value = token;
  try {
    if (typeof token === "function") value = await token();
  } catch (e) {
    throw new UploadError("token_unavailable", `Could not get a token for the upload service: ${e?.message || e}`,
      { source: "client" });
  }
  if (signal?.aborted) throw aborted();
  return value ? { Authorization: `Bearer ${value}` } : {}; // no token: the worker decides
}

/** `Retry-After` (seconds, or an HTTP date) as whole seconds from now; undefined when absent. */
function retryAfterSeconds(value) {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * Calls the worker at `target` (POST of `body` as JSON, or GET when there is no body), with the
 * caller's bearer token; resolves with its JSON answer or rejects with an UploadError.
 */
async function askWorker(target, body, { signal, fetch: customFetch, token, expected = "form" } = {}) {
  if (signal?.aborted) throw aborted();
  const headers = await authorization(token, signal);
  let response;
  try {
    response = await (customFetch || globalThis.fetch)(target, body === undefined
      ? { method: "GET", headers, signal }
      : { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body), signal });
  } catch (e) {
    if (signal?.aborted || e?.name === "AbortError") throw aborted();
    throw new UploadError("network_error",
      `Network error: could not reach the upload service at ${absolute(target)}`,
      { source: "network" });
  }
  let json = null;
  try { json = await response.json(); } catch (e) {
    if (signal?.aborted || e?.name === "AbortError") throw aborted();
  }
  if (response.ok && json && typeof json === "object") return json;
  const status = response.status;
  // Fixed codes whatever the body says, so a page can handle them without knowing the
  // worker's own codes: sign in again, or wait `retryAfter` seconds.
  if (status === 401) {
    throw new UploadError("unauthorized", json?.error?.message || "The upload service needs a valid token (HTTP 401)",
      { status, source: "worker" });
  }
  if (status === 429) {
    const retryAfter = retryAfterSeconds(response.headers?.get?.("Retry-After"));
    throw new UploadError("rate_limited", json?.error?.message || "Too many uploads at once; try again later (HTTP 429)",
      { status, source: "worker", ...(retryAfter === undefined ? {} : { retryAfter }) });
  }
  if (!response.ok && json?.error?.code) {
    const { code, message, details } = json.error;
    throw new UploadError(code, message || code, { status, source: "worker", details });
  }
  throw new UploadError(`http_${status}`,
    `The upload service answered HTTP ${status}${response.ok ? ` without a valid ${expected}` : ""}`,
    { status, source: "worker" });
}

const sizeLimit = (file) => `${file.name} is ${file.size} bytes, but checksum: true is limited to files of ` +
  `at most ${CHECKSUM_MAX_BYTES} bytes (256 MiB), because the SHA-256 is computed over the whole file in memory`;

/** Refuses, before anything is sent, a file too large to hash in memory. */
function checkChecksumSize(file) {
  if (!(file.size <= CHECKSUM_MAX_BYTES)) {
    throw new UploadError("checksum_too_large", sizeLimit(file), { source: "client" });
  }
}

/** The file's SHA-256 as padded base64 (44 characters), as `checksum_sha256` wants it. */
async function sha256Base64(file, signal) {
  checkChecksumSize(file); // before reading anything, and before the worker is asked
  if (signal?.aborted) throw aborted();
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new UploadError("checksum_unavailable",
      "This page cannot compute a SHA-256 checksum: crypto.subtle needs a secure context (https or localhost)",
      { source: "client" });
  }
  let digest;
  try {
    digest = await subtle.digest("SHA-256", await file.arrayBuffer());
  } catch (e) {
    if (signal?.aborted) throw aborted();
    throw new UploadError("file_unreadable", `Could not read ${file.name} to compute its checksum: ${e?.message || e}`,
      { source: "client" });
  }
  if (signal?.aborted) throw aborted();
  let binary = "";
  for (const byte of new Uint8Array(digest)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** One request entry: what the worker signs for `file`; `method` only when given. */
const describe = (file, { method, checksum } = {}) => ({
  file_name: file.name,
  ...(file.type ? { content_type: file.type } : {}),
  size: file.size,
  ...(method ? { method } : {}),
  ...(checksum ? { checksum_sha256: checksum } : {}),
});

/** Describes `file`, with its SHA-256 when `checksum` is on. */
async function entryFor(file, { method, checksum, signal } = {}) {
  return describe(file, { method, checksum: checksum ? await sha256Base64(file, signal) : undefined });
}

/**
 * Signed headers a page's script may not set: the browser sends them itself (XHR takes
 * `content-length` from the Blob). The worker's PUT answers sign no other forbidden header.
 */
const FORBIDDEN_HEADER = /^(content-length|host)$/i;

/**
 * Sends `file` to storage the way the worker's answer says, reporting progress; resolves with
 * {key, url, size}. A POST answer (`fields`) is a multipart form with the file last; a PUT
 * answer (`headers`) is the bare file as the body, with those headers. Answers of older
 * workers name no method: they are POST forms.
 */
function sendToStorage(file, answer, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    if (!answer || typeof answer.url !== "string" || typeof answer.key !== "string") {
      return reject(new UploadError("http_200", "The upload service answered without a valid form",
        { status: 200, source: "worker" }));
    }
    const method = String(answer.method || "POST").toUpperCase();
    let body;
    let objectAt;
    const headers = [];
    if (method === "POST") {
      body = new FormData();
      for (const [name, value] of Object.entries(answer.fields || {})) body.append(name, value);
      body.append("file", file); // S3 ignores every field after "file": it must come last.
      objectAt = objectUrl(answer.url, answer.key);
    } else if (method === "PUT") {
      body = file;
      for (const [name, value] of Object.entries(answer.headers || {})) {
        if (!FORBIDDEN_HEADER.test(name)) headers.push([name, String(value)]);
      }
      objectAt = answer.url.replace(/[?#].*$/, ""); // the signed URL without its signature
    } else {
      return reject(new UploadError("http_200", `The upload service answered with an unknown method ${method}`,
        { status: 200, source: "worker" }));
    }
    const xhr = new XMLHttpRequest();
    try {
      xhr.open(method, answer.url);
      for (const [name, value] of headers) xhr.setRequestHeader(name, value);
    } catch {
      return reject(new UploadError("network_error", `Network error: could not reach ${answer.url}`,
        { source: "network" }));
    }
    const onAbort = () => xhr.abort();
    const done = (fn, value) => { signal?.removeEventListener("abort", onAbort); fn(value); };
    const report = (loaded, total) => {
      if (onProgress) onProgress({ loaded, total, fraction: total ? Math.min(1, loaded / total) : 1 });
    };
    xhr.upload.onprogress = (e) => report(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        report(file.size, file.size);
        return done(resolve, { key: answer.key, url: objectAt, size: file.size });
      }
      const error = parseStorageError(xhr.responseText, xhr.status);
      if (error.maxBytes === undefined && answer.max_bytes) error.maxBytes = answer.max_bytes;
      done(reject, error);
    };
    xhr.onerror = xhr.ontimeout = () => done(reject, new UploadError("network_error",
      `Network error: could not reach the storage bucket at ${origin(answer.url)}`,
      { source: "network" }));
    xhr.onabort = () => done(reject, aborted());
    signal?.addEventListener("abort", onAbort, { once: true });
    try { xhr.send(body); } catch { xhr.onerror(); }
  });
}

/**
 * Uploads one file: asks the worker for a signed form or PUT URL, then sends the file straight
 * to the bucket. With `checksum: true` the SHA-256 is computed first (files up to
 * CHECKSUM_MAX_BYTES; a larger one rejects with code "checksum_too_large", nothing asked or sent).
 * @param {File} file
 * @param {{endpoint?: string, onProgress?: (p: {loaded: number, total: number, fraction: number}) => void,
 *          signal?: AbortSignal, fetch?: typeof fetch, method?: "POST" | "PUT", checksum?: boolean,
 *          token?: string | (() => string | Promise<string>)}} [options]
 * @returns {Promise<{key: string, url: string, size: number}>} rejects with an UploadError
 */
export async function uploadFile(file, { endpoint = "", onProgress, signal, fetch: customFetch, method, checksum = false,
  token } = {}) {
  const entry = await entryFor(file, { method, checksum, signal });
  const answer = await askWorker(`${endpoint}/uploads`, entry, { signal, fetch: customFetch, token });
  return sendToStorage(file, answer, { onProgress, signal });
}

/**
 * Uploads several files: one batch call per 20 files for the forms, then at most `concurrency`
 * uploads at a time.
 *
 * Forms are all-or-nothing (the worker refuses a whole batch when one entry is bad), so if a
 * batch call fails this rejects with that UploadError (its `details` give each bad entry, with
 * `index` into `files`) and nothing is uploaded. Uploads, however, are independent: one failing
 * does not stop the others, so it resolves with `Promise.allSettled`-style results in the order
 * of `files`: `{status: "fulfilled", value: {key, url, size}}` or
 * `{status: "rejected", reason: UploadError}`. Aborting `signal` rejects every unfinished entry
 * with code "aborted".
 *
 * `method` and `checksum` apply to every file. With `checksum: true`, a file over
 * CHECKSUM_MAX_BYTES rejects the whole call with code "checksum_too_large" (its `details` give
 * each such file, with `index`) before the worker is asked.
 * @param {FileList|File[]} files
 * @param {{endpoint?: string, onProgress?: (index: number, p: {loaded: number, total: number, fraction: number}) => void,
 *          signal?: AbortSignal, concurrency?: number, fetch?: typeof fetch, method?: "POST" | "PUT", checksum?: boolean,
 *          token?: string | (() => string | Promise<string>)}} [options]
 * @returns {Promise<Array<{status: "fulfilled", value: {key: string, url: string, size: number}} | {status: "rejected", reason: UploadError}>>}
 */
export async function uploadFiles(files, { endpoint = "", onProgress, signal, concurrency = 3, fetch: customFetch,
  method, checksum = false, token } = {}) {
  const list = Array.from(files || []);
  if (checksum) {
    const details = list.flatMap((file, index) => (file.size <= CHECKSUM_MAX_BYTES ? []
      : [{ index, code: "checksum_too_large", message: sizeLimit(file) }]));
    if (details.length) {
      throw new UploadError("checksum_too_large", details.length === 1 ? details[0].message
        : `${details.length} files are over the ${CHECKSUM_MAX_BYTES}-byte (256 MiB) limit of checksum: true`,
      { source: "client", details });
    }
  }
  const forms = [];
  for (let start = 0; start < list.length; start += BATCH_LIMIT) {
    const chunk = list.slice(start, start + BATCH_LIMIT);
    const entries = [];
    for (const file of chunk) entries.push(await entryFor(file, { method, checksum, signal })); // one file in memory at a time
    try {
      const answer = await askWorker(`${endpoint}/uploads`, { files: entries }, { signal, fetch: customFetch, token });
      if (!Array.isArray(answer.uploads) || answer.uploads.length !== chunk.length) {
        throw new UploadError("http_200", "The upload service answered without the expected forms",
          { status: 200, source: "worker" });
      }
      forms.push(...answer.uploads);
    } catch (error) {
      if (Array.isArray(error.details)) {
        error.details = error.details.map((d) => ({ ...d, index: d.index + start }));
      }
      throw error;
    }
  }
  const results = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      try {
        const progress = onProgress && ((p) => onProgress(i, p));
        results[i] = { status: "fulfilled", value: await sendToStorage(list[i], forms[i], { onProgress: progress, signal }) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  const lanes = Math.max(1, Math.min(Number(concurrency) || 1, list.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  return results;
}

/**
 * Asks the worker for a short-lived GET URL of an uploaded object (`GET /downloads/{key}`, each
 * key segment percent-encoded). Opening it shows or downloads the file under the person's
 * original name. Rejects with an UploadError: worker codes "invalid_key", "key_not_allowed"
 * (a key outside the upload prefix), or "network_error" / "aborted" as for uploads.
 * @param {string} key the object key an upload resolved with
 * @param {{endpoint?: string, signal?: AbortSignal, fetch?: typeof fetch,
 *          token?: string | (() => string | Promise<string>)}} [options]
 * @returns {Promise<{url: string, expiresAt: Date}>}
 */
export async function downloadUrl(key, { endpoint = "", signal, fetch: customFetch, token } = {}) {
  const path = String(key).split("/").map(encodeURIComponent).join("/");
  const answer = await askWorker(`${endpoint}/downloads/${path}`, undefined,
    { signal, fetch: customFetch, token, expected: "download URL" });
  if (typeof answer.url !== "string") {
    throw new UploadError("http_200", "The upload service answered without a valid download URL",
      { status: 200, source: "worker" });
  }
  return { url: answer.url, expiresAt: new Date(answer.expires_at) };
}
