// edge-presign browser client: asks the worker for a signed S3 POST form, then sends the file
// straight to the bucket. No dependencies, no build step: `import { uploadFile } from "/client.js"`.

const BATCH_LIMIT = 20;

/** A failed upload. `source` says who refused it: "worker" | "storage" | "network" | "abort". */
export class UploadError extends Error {
  /**
   * @param {string} code worker error code, S3 <Code>, "network_error", "aborted" or "http_<status>"
   * @param {string} message readable explanation
   * @param {{status?: number, source?: string, details?: any[], maxBytes?: number, storageMessage?: string}} [extra]
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

/** Calls the worker; resolves with its JSON answer or rejects with an UploadError. */
async function askWorker(endpoint, body, { signal, fetch: customFetch } = {}) {
  if (signal?.aborted) throw aborted();
  const target = `${endpoint}/uploads`;
  let response;
  try {
    response = await (customFetch || globalThis.fetch)(target, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
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
  if (!response.ok && json?.error?.code) {
    const { code, message, details } = json.error;
    throw new UploadError(code, message || code, { status, source: "worker", details });
  }
  throw new UploadError(`http_${status}`,
    `The upload service answered HTTP ${status}${response.ok ? " without a valid form" : ""}`,
    { status, source: "worker" });
}

const describe = (file) => ({
  file_name: file.name,
  ...(file.type ? { content_type: file.type } : {}),
  size: file.size,
});

/** Sends `file` to storage with a signed form, reporting progress; resolves with {key, url, size}. */
function sendToStorage(file, form, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    if (!form || typeof form.url !== "string" || typeof form.key !== "string") {
      return reject(new UploadError("http_200", "The upload service answered without a valid form",
        { status: 200, source: "worker" }));
    }
    const data = new FormData();
    for (const [name, value] of Object.entries(form.fields || {})) data.append(name, value);
    data.append("file", file); // S3 ignores every field after "file": it must come last.
    const xhr = new XMLHttpRequest();
    try { xhr.open("POST", form.url); } catch {
      return reject(new UploadError("network_error", `Network error: could not reach ${form.url}`,
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
        return done(resolve, { key: form.key, url: objectUrl(form.url, form.key), size: file.size });
      }
      const error = parseStorageError(xhr.responseText, xhr.status);
      if (error.maxBytes === undefined && form.max_bytes) error.maxBytes = form.max_bytes;
      done(reject, error);
    };
    xhr.onerror = xhr.ontimeout = () => done(reject, new UploadError("network_error",
      `Network error: could not reach the storage bucket at ${origin(form.url)}`,
      { source: "network" }));
    xhr.onabort = () => done(reject, aborted());
    signal?.addEventListener("abort", onAbort, { once: true });
    try { xhr.send(data); } catch { xhr.onerror(); }
  });
}

/**
 * Uploads one file: asks the worker for a signed form, then POSTs the file straight to the bucket.
 * @param {File} file
 * @param {{endpoint?: string, onProgress?: (p: {loaded: number, total: number, fraction: number}) => void,
 *          signal?: AbortSignal, fetch?: typeof fetch}} [options]
 * @returns {Promise<{key: string, url: string, size: number}>} rejects with an UploadError
 */
export async function uploadFile(file, { endpoint = "", onProgress, signal, fetch: customFetch } = {}) {
  const form = await askWorker(endpoint, describe(file), { signal, fetch: customFetch });
  return sendToStorage(file, form, { onProgress, signal });
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
 * @param {FileList|File[]} files
 * @param {{endpoint?: string, onProgress?: (index: number, p: {loaded: number, total: number, fraction: number}) => void,
 *          signal?: AbortSignal, concurrency?: number, fetch?: typeof fetch}} [options]
 * @returns {Promise<Array<{status: "fulfilled", value: {key: string, url: string, size: number}} | {status: "rejected", reason: UploadError}>>}
 */
export async function uploadFiles(files, { endpoint = "", onProgress, signal, concurrency = 3, fetch: customFetch } = {}) {
  const list = Array.from(files || []);
  const forms = [];
  for (let start = 0; start < list.length; start += BATCH_LIMIT) {
    const chunk = list.slice(start, start + BATCH_LIMIT);
    try {
      const answer = await askWorker(endpoint, { files: chunk.map(describe) }, { signal, fetch: customFetch });
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
