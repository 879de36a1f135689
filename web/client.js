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
//   profile: "avatar"       the worker's upload profile (UPLOAD_PROFILES) whose rules apply;
//                           by default the worker's own settings (`default`).
//   token                   a string, or a function returning one (or a Promise of one), sent
//                           as `Authorization: Bearer <token>` on every request to the worker,
//                           never to the bucket. A function is called for each request, so a
//                           token that is refreshed is picked up. downloadUrl takes it too.
//   multipart: "auto"       large files (over `multipartThreshold`, 100 MiB) go as an S3
//                           multipart upload through the worker's Companion routes
//                           (/s3/multipart…): parts of `partSize` (8 MiB), `partConcurrency` (3)
//                           at a time, one progress across them. `true` forces it, `false`
//                           never. An unfinished upload is remembered (localStorage, by the
//                           file's name, size and lastModified): the next upload of the same
//                           file lists the parts already in the bucket and sends only the rest.
//                           Aborting deletes the upload and its parts.
//   complete: true          after a single upload, asks the worker to verify it
//                           (POST /uploads/complete with the size, type and checksum declared):
//                           the result then has `verified` ({key, size, content_type, etag,
//                           checksum_sha256?, event_id?}), and the worker sends its
//                           upload.completed event. Multipart uploads need no call: the
//                           worker's own completion sends the event.
// completeUpload(key, declared) is that call on its own.
// downloadUrl(key) asks the worker for a short-lived GET URL of an uploaded object.
// limits() asks the worker what it will sign for this caller (sizes, types, method), so a page
// can refuse a file before it uploads, with the worker's own message.
// createSignRequest({endpoint, token}) is @uppy/aws-s3's `signRequest`, signed by the worker.
// Types, with every option and error code: client.d.ts, served beside this file.

// The worker's MAX_BATCH (src/api.rs): a native test holds the two equal.
const BATCH_LIMIT = 20;
const MiB = 1024 * 1024;
/** S3's most parts in one upload. */
const MAX_PARTS = 10_000;

/** With `multipart: "auto"`, files larger than this (100 MiB) upload in parts. */
export const MULTIPART_THRESHOLD = 100 * MiB;
/** The default part size (8 MiB). */
export const PART_SIZE = 8 * MiB;
/** S3's smallest part (5 MiB; only the last part may be smaller): a smaller `partSize` is raised to it. */
export const MIN_PART_SIZE = 5 * MiB;

/** Largest file `checksum: true` accepts: hashing reads the whole file into memory. */
export const CHECKSUM_MAX_BYTES = 256 * 1024 * 1024;

/**
 * A failed upload. `source` says who refused it:
 * "worker" | "storage" | "network" | "abort" | "client" (this module, before asking anyone).
 */
export class UploadError extends Error {
  /**
   * @param {string} code worker error code ("unauthorized" for every 401, "rate_limited" for every
   *   429), S3 <Code>, "network_error", "aborted", "http_<status>", "etag_unavailable" (a part's
   *   ETag hidden by the bucket's CORS rule), or a client code ("checksum_too_large",
   *   "checksum_unavailable", "file_unreadable", "token_unavailable")
   * @param {string} message readable explanation
   * @param {{status?: number, source?: string, details?: any[], maxBytes?: number, storageMessage?: string,
   *   retryAfter?: number, upload?: {key: string, uploadId: string}}} [extra] `upload`: a failed multipart
   *   upload that uploading the same file again resumes
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
 * Calls the worker at `target` (POST of `body` as JSON, or GET when there is no body; or `method`), with the
 * caller's bearer token; resolves with its JSON answer or rejects with an UploadError.
 */
async function askWorker(target, body, { signal, fetch: customFetch, token, expected = "form",
  method = body === undefined ? "GET" : "POST" } = {}) {
  if (signal?.aborted) throw aborted();
  const headers = await authorization(token, signal);
  let response;
  try {
    response = await (customFetch || globalThis.fetch)(target, body === undefined
      ? { method, headers, signal }
      : { method, headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body), signal });
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
const describe = (file, { method, checksum, profile } = {}) => ({
  file_name: file.name,
  ...(file.type ? { content_type: file.type } : {}),
  size: file.size,
  ...(method ? { method } : {}),
  ...(checksum ? { checksum_sha256: checksum } : {}),
  ...(profile ? { profile } : {}),
});

/** Describes `file`, with its SHA-256 when `checksum` is on. */
async function entryFor(file, { method, checksum, profile, signal } = {}) {
  return describe(file, { method, profile, checksum: checksum ? await sha256Base64(file, signal) : undefined });
}

/**
 * Signed headers a page's script may not set: the browser sends them itself (XHR takes
 * `content-length` from the Blob). The worker's PUT answers sign no other forbidden header.
 */
const FORBIDDEN_HEADER = /^(content-length|host)$/i;

/**
 * Sends `body` to the bucket with XMLHttpRequest (fetch reports no upload progress). Resolves
 * with the XHR once the bucket answered 2xx; rejects with an UploadError (the bucket's own
 * code, "network_error" or "aborted"). `onProgress(loaded, total)` follows the bytes sent.
 */
function toBucket(method, url, body, { headers = [], onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const xhr = new XMLHttpRequest();
    try {
      xhr.open(method, url);
      for (const [name, value] of headers) xhr.setRequestHeader(name, value);
    } catch {
      return reject(new UploadError("network_error", `Network error: could not reach ${url}`, { source: "network" }));
    }
    const onAbort = () => xhr.abort();
    const done = (fn, value) => { signal?.removeEventListener("abort", onAbort); fn(value); };
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : body.size);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
      ? done(resolve, xhr)
      : done(reject, parseStorageError(xhr.responseText, xhr.status)));
    xhr.onerror = xhr.ontimeout = () => done(reject, new UploadError("network_error",
      `Network error: could not reach the storage bucket at ${origin(url)}`, { source: "network" }));
    xhr.onabort = () => done(reject, aborted());
    signal?.addEventListener("abort", onAbort, { once: true });
    try { xhr.send(body); } catch { xhr.onerror(); }
  });
}

/**
 * Sends `file` to storage the way the worker's answer says, reporting progress; resolves with
 * {key, url, size}. A POST answer (`fields`) is a multipart form with the file last; a PUT
 * answer (`headers`) is the bare file as the body, with those headers. Answers of older
 * workers name no method: they are POST forms.
 */
async function sendToStorage(file, answer, { onProgress, signal } = {}) {
  if (signal?.aborted) throw aborted();
  if (!answer || typeof answer.url !== "string" || typeof answer.key !== "string") {
    throw new UploadError("http_200", "The upload service answered without a valid form", { status: 200, source: "worker" });
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
    throw new UploadError("http_200", `The upload service answered with an unknown method ${method}`,
      { status: 200, source: "worker" });
  }
  const report = (loaded, total) => {
    if (onProgress) onProgress({ loaded, total, fraction: total ? Math.min(1, loaded / total) : 1 });
  };
  try {
    await toBucket(method, answer.url, body, { headers, signal, onProgress: report });
  } catch (error) {
    if (error.source === "storage" && error.maxBytes === undefined && answer.max_bytes) error.maxBytes = answer.max_bytes;
    throw error;
  }
  report(file.size, file.size);
  return { key: answer.key, url: objectAt, size: file.size };
}

// ---- Multipart uploads, on the worker's Companion routes ----------------------------------

/** Unfinished uploads when localStorage cannot be used (private windows, workers, Node). */
const memory = new Map();
const SAVED_PREFIX = "edge-presign:multipart:";
/** Uploads running in this page, by saved id: two uploads of one file must not share parts. */
const running = new Set();

/** Where the unfinished upload of `file` to this worker is remembered. */
function savedId(file, endpoint) {
  return SAVED_PREFIX + JSON.stringify([absolute(`${endpoint}/s3/multipart`), file.name, file.size, file.lastModified]);
}

const saved = {
  get(id) {
    try {
      const text = globalThis.localStorage?.getItem(id);
      if (text) return JSON.parse(text);
    } catch { /* unavailable or not ours: fall back to memory */ }
    return memory.get(id) ?? null;
  },
  set(id, upload) {
    memory.set(id, upload);
    try { globalThis.localStorage?.setItem(id, JSON.stringify(upload)); } catch { /* memory only */ }
  },
  /** Forgets `id`, or every remembered upload with this `uploadId`. */
  delete(id, uploadId) {
    const ids = id ? [id] : [];
    if (uploadId) {
      for (const [known, upload] of memory) if (upload.uploadId === uploadId) ids.push(known);
      try {
        const store = globalThis.localStorage;
        for (let i = 0; store && i < store.length; i++) {
          const known = store.key(i);
          if (known?.startsWith(SAVED_PREFIX) && JSON.parse(store.getItem(known))?.uploadId === uploadId) ids.push(known);
        }
      } catch { /* nothing stored there */ }
    }
    for (const known of ids) {
      memory.delete(known);
      try { globalThis.localStorage?.removeItem(known); } catch { /* memory only */ }
    }
  },
};

/**
 * The unfinished multipart upload of `file` this page remembers, `{key, uploadId, partSize}`,
 * or null. Uploading the same file again resumes it.
 * @param {File} file
 * @param {{endpoint?: string}} [options]
 */
export function savedMultipart(file, { endpoint = "" } = {}) {
  const upload = saved.get(savedId(file, endpoint));
  return upload && typeof upload.key === "string" && typeof upload.uploadId === "string" ? upload : null;
}

/**
 * `${endpoint}/s3/multipart/{uploadId}{rest}?key=…[&size=…]`: a Companion route on one upload.
 * `uploadId` is the worker's handle for the upload; a part's `size` is signed into its URL.
 */
const uploadRoute = (endpoint, { key, uploadId }, rest = "", size) =>
  `${endpoint}/s3/multipart/${encodeURIComponent(uploadId)}${rest}?${new URLSearchParams(size === undefined ? { key } : { key, size: String(size) })}`;

/**
 * The parts of a multipart upload already in the bucket (`GET /s3/multipart/{uploadId}`).
 * @param {{key: string, uploadId: string}} upload
 * @returns {Promise<Array<{partNumber: number, size: number, etag: string}>>}
 */
export async function listParts(upload, { endpoint = "", signal, fetch: customFetch, token } = {}) {
  const answer = await askWorker(uploadRoute(endpoint, upload), undefined,
    { signal, fetch: customFetch, token, expected: "part list" });
  if (!Array.isArray(answer)) {
    throw new UploadError("http_200", "The upload service answered without a part list", { status: 200, source: "worker" });
  }
  return answer.map((p) => ({ partNumber: Number(p.PartNumber), size: Number(p.Size), etag: String(p.ETag) }));
}

/**
 * Aborts a multipart upload (`DELETE /s3/multipart/{uploadId}`): the bucket deletes its parts,
 * and this page forgets it.
 * @param {{key: string, uploadId: string}} upload
 */
export async function abortMultipart(upload, { endpoint = "", signal, fetch: customFetch, token } = {}) {
  saved.delete(null, upload.uploadId);
  await askWorker(uploadRoute(endpoint, upload), undefined,
    { method: "DELETE", signal, fetch: customFetch, token, expected: "answer" });
}

/** The part size for a file: at least S3's minimum, and few enough parts for S3's maximum. */
function partSizeFor(fileSize, wanted = PART_SIZE) {
  return Math.max(MIN_PART_SIZE, Number(wanted) || PART_SIZE, Math.ceil(fileSize / MAX_PARTS));
}

/**
 * A failure after which a remembered upload is not worth resuming: the worker or the store
 * refused it (gone, completed, another user's). Not the network, the caller's abort, a token
 * problem, a rate limit or an outage, which a later attempt can get past.
 */
function refusesUpload(error) {
  if (error.source !== "worker" || error.status === 401 || error.status === 429) return false;
  return error.status < 500 || error.code === "storage_refused";
}

/**
 * Runs `task` over `items`, `lanes` at a time. After a failure no new task starts, but those
 * running finish (a part that reaches the bucket need not be sent again); then the first
 * failure is thrown.
 */
async function inLanes(items, lanes, task) {
  let next = 0;
  let failure = null;
  const lane = async () => {
    while (next < items.length && !failure) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(Number(lanes) || 1, items.length)) }, lane));
  if (failure) throw failure;
}

/**
 * Uploads `file` as an S3 multipart upload through the worker's Companion routes: the worker
 * starts it and chooses the key, signs each part, and completes it (refusing, with 413
 * "file_too_large", a total over UPLOAD_MAX_MULTIPART_BYTES). Parts of `partSize` go
 * `partConcurrency` at a time; `onProgress` counts bytes across all of them.
 *
 * Resume: until it completes, the upload is remembered by the file's name, size and
 * lastModified. If it fails (a dropped connection, a closed tab), uploading the same file again
 * lists the parts already in the bucket and sends only the others. Aborting `signal` deletes
 * the upload and its parts (DELETE /s3/multipart/{uploadId}) and forgets it.
 * @param {File} file
 * @returns {Promise<{key: string, url: string, size: number}>} rejects with an UploadError;
 *   one that can be resumed carries `upload: {key, uploadId}`
 */
export async function uploadMultipart(file, { endpoint = "", onProgress, signal, fetch: customFetch, token,
  partSize, partConcurrency = 3, resume = true, profile } = {}) {
  if (signal?.aborted) throw aborted();
  const worker = { fetch: customFetch, token };
  const id = savedId(file, endpoint);
  const remember = resume && !running.has(id); // a second upload of the same file starts its own
  const done = new Map(); // part number → ETag
  let upload = remember ? savedMultipart(file, { endpoint }) : null;
  let size = partSizeFor(file.size, upload?.partSize ?? partSize);
  const partBytes = (n) => Math.max(0, Math.min(size, file.size - (n - 1) * size));
  if (remember) running.add(id);
  try {
    if (upload) {
      upload = { ...upload, partSize: size };
      try {
        for (const part of await listParts(upload, { ...worker, endpoint, signal })) {
          // A part of another size than this file's slice would corrupt the object: send it again.
          if (part.size === partBytes(part.partNumber)) done.set(part.partNumber, part.etag);
        }
      } catch (error) {
        if (!refusesUpload(error)) throw error;
        saved.delete(id);
        upload = null;
        done.clear();
      }
    }
    if (!upload) {
      size = partSizeFor(file.size, partSize);
      const created = await askWorker(`${endpoint}/s3/multipart`, { filename: file.name, type: file.type, size: file.size, ...(profile ? { profile } : {}) },
        { ...worker, signal, expected: "multipart upload" });
      if (typeof created.key !== "string" || typeof created.uploadId !== "string") {
        throw new UploadError("http_200", "The upload service answered without a multipart upload", { status: 200, source: "worker" });
      }
      upload = { key: created.key, uploadId: created.uploadId, partSize: size };
      if (remember) saved.set(id, upload);
    }
    return await sendParts(file, upload, done, { endpoint, worker, signal, onProgress, partConcurrency });
  } catch (error) {
    if (upload && (error.code === "aborted" || signal?.aborted)) {
      // Nothing may be left behind: the parts already sent go with the upload. If this fails
      // too, the bucket's lifecycle rule (AbortIncompleteMultipartUpload) removes them.
      await abortMultipart(upload, { ...worker, endpoint }).catch(() => {});
      throw aborted();
    }
    if (upload && error.status === 413 && error.source === "worker") saved.delete(id); // the worker aborted it
    else if (upload && remember) error.upload = { key: upload.key, uploadId: upload.uploadId };
    throw error;
  } finally {
    if (remember) running.delete(id);
  }
}

/** Sends the parts not in `done`, then completes the upload; resolves with {key, url, size}. */
async function sendParts(file, upload, done, { endpoint, worker, signal, onProgress, partConcurrency }) {
  const size = upload.partSize;
  const count = Math.max(1, Math.ceil(file.size / size));
  const sending = new Map(); // part number → bytes sent so far
  let doneBytes = 0;
  for (const n of done.keys()) doneBytes += Math.min(size, file.size - (n - 1) * size);
  const report = () => {
    if (!onProgress) return;
    let loaded = doneBytes;
    for (const sent of sending.values()) loaded += sent;
    loaded = Math.min(loaded, file.size);
    onProgress({ loaded, total: file.size, fraction: file.size ? loaded / file.size : 1, parts: { done: done.size, total: count } });
  };
  report(); // a resumed upload starts where it was
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !done.has(n));
  await inLanes(missing, partConcurrency, async (n) => {
    const blob = file.slice((n - 1) * size, n * size);
    // The part's exact size is signed: the bucket takes no other.
    const { url } = await askWorker(uploadRoute(endpoint, upload, `/${n}`, blob.size), undefined,
      { ...worker, signal, expected: "part URL" });
    if (typeof url !== "string") {
      throw new UploadError("http_200", "The upload service answered without a part URL", { status: 200, source: "worker" });
    }
    try {
      const xhr = await toBucket("PUT", url, blob, {
        signal,
        onProgress: (sent) => { sending.set(n, Math.min(sent, blob.size)); report(); },
      });
      const etag = xhr.getResponseHeader("ETag");
      if (!etag) {
        throw new UploadError("etag_unavailable", "The bucket stored the part but its answer shows no ETag: " +
          "the bucket's CORS rule must expose the ETag header (ExposeHeaders)", { status: xhr.status, source: "storage" });
      }
      done.set(n, etag);
      doneBytes += blob.size;
    } finally {
      sending.delete(n);
    }
    report();
  });
  if (signal?.aborted) throw aborted();
  const parts = [...done].sort(([a], [b]) => a - b).map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
  const result = await askWorker(uploadRoute(endpoint, upload, "/complete"), { parts },
    { ...worker, signal, expected: "completed upload" });
  saved.delete(null, upload.uploadId);
  return { key: typeof result.key === "string" ? result.key : upload.key, url: result.location, size: file.size };
}

/** Whether `file` goes multipart under the `multipart` option. */
function goesMultipart(file, { multipart = "auto", multipartThreshold = MULTIPART_THRESHOLD, checksum }) {
  // An empty file has no part to send; S3 wants at least one.
  if (!(file.size > 0) || multipart === false) return false;
  if (multipart === true) {
    if (checksum) {
      throw new UploadError("checksum_unavailable", "checksum: true cannot be combined with multipart: true: " +
        "the worker pins a SHA-256 on single uploads only", { source: "client" });
    }
    return true;
  }
  // checksum: true asks for a pinned digest, which only a single upload has (up to 256 MiB).
  return !checksum && file.size > multipartThreshold;
}

// ---- Uppy ------------------------------------------------------------------------------------

/**
 * `signRequest` for @uppy/aws-s3: each request Uppy wants signed (PutObject,
 * CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload, AbortMultipartUpload)
 * goes to the worker's `POST /s3/sign`, with `Authorization: Bearer <token>` when a token is
 * given; the worker chooses keys and answers `{url, key?, headers?, fields?}`. A refusal
 * rejects with an UploadError. A creation and a completion are not signed for the bucket:
 * their URLs are the worker's own routes, which start the upload (answering with its upload
 * handle) and check the total and complete it; each URL carries its own MAC, so no token goes
 * with it (a refusal there reaches Uppy with the worker's code, e.g. "file_too_large", and
 * status). A plain `signRequest` that posts to `/s3/sign` and returns the answer works too.
 * @param {{endpoint?: string, token?: string | (() => string | Promise<string>), fetch?: typeof fetch}} [options]
 */
export function createSignRequest({ endpoint = "", token, fetch: customFetch } = {}) {
  return async (request) => {
    const answer = await askWorker(`${endpoint}/s3/sign`, request, { token, fetch: customFetch, expected: "signed request" });
    if (typeof answer.url !== "string") {
      throw new UploadError("http_200", "The upload service answered without a signed URL", { status: 200, source: "worker" });
    }
    // A multipart upload's creation and completion are sent to the worker's own routes, which
    // authorise themselves (a MAC in the URL, no token needed). The worker names them at the
    // address it was reached at; the page reaches it at `endpoint`, maybe a proxy in front of it.
    const own = request.method === "POST" && request.partNumber == null;
    const at = answer.url.indexOf("/s3/multipart/");
    if (!own || !endpoint || at < 0) return answer;
    return { ...answer, url: `${endpoint}${answer.url.slice(at)}` };
  };
}

/**
 * Uploads one file: asks the worker for a signed form or PUT URL, then sends the file straight
 * to the bucket; a file over `multipartThreshold` (or any, with `multipart: true`) goes through
 * uploadMultipart instead. With `checksum: true` the SHA-256 is computed first (files up to
 * CHECKSUM_MAX_BYTES; a larger one rejects with code "checksum_too_large", nothing asked or sent).
 * @param {File} file
 * @param {{endpoint?: string, onProgress?: (p: {loaded: number, total: number, fraction: number,
 *          parts?: {done: number, total: number}}) => void,
 *          signal?: AbortSignal, fetch?: typeof fetch, method?: "POST" | "PUT", checksum?: boolean,
 *          token?: string | (() => string | Promise<string>), multipart?: boolean | "auto",
 *          multipartThreshold?: number, partSize?: number, partConcurrency?: number, resume?: boolean}} [options]
 * @returns {Promise<{key: string, url: string, size: number}>} rejects with an UploadError
 */
export async function uploadFile(file, options = {}) {
  const { endpoint = "", onProgress, signal, fetch: customFetch, method, checksum = false, token, profile } = options;
  if (goesMultipart(file, options)) return uploadMultipart(file, options);
  const entry = await entryFor(file, { method, checksum, profile, signal });
  const answer = await askWorker(`${endpoint}/uploads`, entry, { signal, fetch: customFetch, token });
  const result = await sendToStorage(file, answer, { onProgress, signal });
  return afterUpload(result, entry, options);
}

/** With `complete: true`, the result of a single upload once the worker has verified it. */
async function afterUpload(result, entry, { complete = false, endpoint = "", signal, fetch: customFetch, token }) {
  if (!complete) return result;
  const { size, content_type, checksum_sha256 } = entry;
  const verified = await completeUpload(result.key, { size, content_type, checksum_sha256 },
    { endpoint, signal, fetch: customFetch, token });
  return { ...result, verified };
}

/**
 * Asks the worker to verify an uploaded object (`POST /uploads/complete`): it exists, and its
 * size, type and SHA-256 are those declared (any of them may be left out) and within the
 * worker's limits. The worker then sends its upload.completed event. Rejects with an
 * UploadError: "object_not_found", "size_mismatch", "type_mismatch", "checksum_mismatch",
 * "file_too_large", "content_type_not_allowed", "key_not_allowed", …
 * @param {string} key
 * @param {{size?: number, content_type?: string, checksum_sha256?: string}} [declared]
 * @param {{endpoint?: string, signal?: AbortSignal, fetch?: typeof fetch,
 *          token?: string | (() => string | Promise<string>)}} [options]
 * @returns {Promise<{key: string, size: number, content_type: string, etag: string,
 *          checksum_sha256?: string, event_id?: string}>}
 */
export async function completeUpload(key, declared = {}, { endpoint = "", signal, fetch: customFetch, token } = {}) {
  const body = { key };
  for (const name of ["size", "content_type", "checksum_sha256"]) {
    if (declared[name] !== undefined && declared[name] !== "") body[name] = declared[name];
  }
  return askWorker(`${endpoint}/uploads/complete`, body,
    { signal, fetch: customFetch, token, expected: "verification" });
}

/**
 * Uploads several files: one batch call per 20 files for the forms, then at most `concurrency`
 * uploads at a time. Files that go multipart (see uploadFile) are not in the batch calls: each
 * starts its own upload when its turn comes.
 *
 * Forms are all-or-nothing (the worker refuses a whole batch when one entry is bad), so if a
 * batch call fails this rejects with that UploadError (its `details` give each bad entry, with
 * `index` into `files`) and nothing is uploaded. Uploads, however, are independent: one failing
 * does not stop the others, so it resolves with `Promise.allSettled`-style results in the order
 * of `files`: `{status: "fulfilled", value: {key, url, size}}` or
 * `{status: "rejected", reason: UploadError}`. Aborting `signal` rejects every unfinished entry
 * with code "aborted".
 *
 * `method`, `checksum` and the multipart options apply to every file. With `checksum: true`, a
 * file over CHECKSUM_MAX_BYTES rejects the whole call with code "checksum_too_large" (its
 * `details` give each such file, with `index`) before the worker is asked.
 * @param {FileList|File[]} files
 * @param {{endpoint?: string, onProgress?: (index: number, p: {loaded: number, total: number, fraction: number}) => void,
 *          signal?: AbortSignal, concurrency?: number, fetch?: typeof fetch, method?: "POST" | "PUT", checksum?: boolean,
 *          token?: string | (() => string | Promise<string>), multipart?: boolean | "auto",
 *          multipartThreshold?: number, partSize?: number, partConcurrency?: number, resume?: boolean}} [options]
 * @returns {Promise<Array<{status: "fulfilled", value: {key: string, url: string, size: number}} | {status: "rejected", reason: UploadError}>>}
 */
export async function uploadFiles(files, options = {}) {
  const { endpoint = "", onProgress, signal, concurrency = 3, fetch: customFetch, method, checksum = false, token, profile } = options;
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
  const multipart = list.map((file) => goesMultipart(file, options));
  const singles = list.flatMap((_, index) => (multipart[index] ? [] : [index])); // indexes into `list`
  const forms = new Array(list.length);
  const declared = new Array(list.length); // what each entry asked for, for `complete: true`
  for (let start = 0; start < singles.length; start += BATCH_LIMIT) {
    const chunk = singles.slice(start, start + BATCH_LIMIT);
    const entries = [];
    for (const i of chunk) entries.push(await entryFor(list[i], { method, checksum, profile, signal })); // one file in memory at a time
    try {
      const answer = await askWorker(`${endpoint}/uploads`, { files: entries }, { signal, fetch: customFetch, token });
      if (!Array.isArray(answer.uploads) || answer.uploads.length !== chunk.length) {
        throw new UploadError("http_200", "The upload service answered without the expected forms",
          { status: 200, source: "worker" });
      }
      chunk.forEach((i, j) => {
        forms[i] = answer.uploads[j];
        declared[i] = entries[j];
      });
    } catch (error) {
      if (Array.isArray(error.details)) {
        error.details = error.details.map((d) => ({ ...d, index: chunk[d.index] ?? d.index }));
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
        const value = multipart[i]
          ? await uploadMultipart(list[i], { ...options, onProgress: progress })
          : await afterUpload(await sendToStorage(list[i], forms[i], { onProgress: progress, signal }), declared[i], options);
        results[i] = { status: "fulfilled", value };
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

/**
 * What the worker will sign for this caller (`GET /uploads/limits`): the sizes (the token's
 * own when it narrows them), the types (empty: any), the default method, whether multipart
 * uploads can start, how long a signed upload lasts, and the worker's own message for a file
 * over the larger size. A page refuses a file early with it; the worker still checks.
 * Rejects with an UploadError ("unauthorized", "rate_limited", "network_error", …).
 * @param {{endpoint?: string, signal?: AbortSignal, fetch?: typeof fetch,
 *          token?: string | (() => string | Promise<string>)}} [options]
 * @returns {Promise<{maxBytes: number, maxMultipartBytes: number, allowedTypes: string[],
 *          method: "POST" | "PUT", multipart: boolean, expiresSeconds: number,
 *          messages: {fileTooLarge: string}}>}
 */
export async function limits({ endpoint = "", signal, fetch: customFetch, token, profile } = {}) {
  const query = profile ? `?${new URLSearchParams({ profile })}` : "";
  const answer = await askWorker(`${endpoint}/uploads/limits${query}`, undefined,
    { signal, fetch: customFetch, token, expected: "limits answer" });
  if (typeof answer.max_bytes !== "number" || !Array.isArray(answer.allowed_types)) {
    throw new UploadError("http_200", "The upload service answered without valid limits",
      { status: 200, source: "worker" });
  }
  return {
    profile: answer.profile,
    maxBytes: answer.max_bytes,
    maxMultipartBytes: answer.max_multipart_bytes,
    allowedTypes: answer.allowed_types,
    method: answer.method,
    multipart: answer.multipart,
    expiresSeconds: answer.expires_seconds,
    messages: { fileTooLarge: answer.messages?.file_too_large ?? "" },
  };
}
