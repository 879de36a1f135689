// Uppy's Dashboard uploading through the worker, in both of @uppy/aws-s3's modes
// (docs/browser-and-uppy.md, "Uppy"):
//  - Companion: `companionEndpoint` is the worker with its BASE_PATH. The worker starts,
//    signs and completes the uploads itself. Uppy sends no Authorization header there, so
//    with auth on the token travels as a cookie (UPLOAD_AUTH_COOKIE): same origin only.
//  - signRequest: every S3 request Uppy makes is signed by the worker's POST /s3/sign,
//    through client.js's createSignRequest, which sends a bearer token from any allowed origin
//    and turns refusals into UploadErrors with the worker's codes.
//  - plain signRequest ("plain"): the same without client.js, as anyone writes it: post Uppy's
//    request to /s3/sign with the token, return the answer.
// Before anything uploads, the page asks the worker what it signs for this caller
// (GET /uploads/limits) and gives Uppy those restrictions, so a file the worker would refuse
// is refused at once, in the worker's words. Refusals that still happen (the worker's or the
// bucket's) are shown as what they are, not as Uppy's generic "network error".
// scripts/build-examples.mjs bundles this, Uppy, its CSS and web/client.js into
// web/examples/uppy/; tests/e2e/uppy.test.mjs and uppy-dashboard.test.mjs drive it.
import AwsS3 from "@uppy/aws-s3";
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";
import { completeUpload, createSignRequest, limits as askLimits } from "../../web/client.js";

const MiB = 1024 * 1024;
// Uppy's own default: files above it go in parts even when one request would do.
const MULTIPART_ABOVE = 100 * MiB;
// The worker serves this page at {worker}{BASE_PATH}/examples/uppy/ (with DEMO_PAGE on).
const WORKER = new URL("../..", location.href).href.replace(/\/$/, "");

let current = null; // the Uppy on the page: one at a time, in #dashboard
const verifications = new Map(); // Uppy file id → the worker's verification of its upload

/** The worker's limits for this caller and upload profile, asked once per endpoint, token and profile. */
const asked = new Map();
function limitsFor(endpoint, token, profile) {
  const id = `${endpoint} ${token ?? ""} ${profile ?? ""}`;
  if (!asked.has(id)) asked.set(id, askLimits({ endpoint, token, profile }));
  return asked.get(id);
}

/** Uppy's restrictions and words from the worker's limits: what the worker takes, as it says it. */
function restrictionsFrom(said) {
  if (!said) return { restrictions: {}, strings: {} };
  const largest = Math.max(said.maxBytes, said.multipart ? said.maxMultipartBytes : 0);
  return {
    restrictions: {
      maxFileSize: largest || null,
      allowedFileTypes: said.allowedTypes.length ? said.allowedTypes : null,
    },
    strings: {
      exceedsSize: `%{file}: ${said.messages.fileTooLarge}`,
      youCanOnlyUploadFileTypes: "The worker takes only these types: %{types}",
    },
  };
}

/**
 * Uppy's Companion client throws "Companion request failed" without reading the worker's
 * answer, so the page keeps the worker's JSON refusals ({code, message}) to show instead, each
 * under the file it was about: the file name its request named (Uppy sends `file.name` as
 * `filename`), or the upload ID in its path. Only answers from the worker in use are read,
 * and only failed ones (a clone: Uppy's copy is untouched).
 */
const refusals = new Map(); // "name:<file name>" or "id:<upload ID>" → the worker's refusal
let watched = WORKER; // the endpoint of the Uppy on the page
function keepWorkerRefusals() {
  const fetchBefore = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await fetchBefore(input, init);
    const url = typeof input === "string" ? input : input.url;
    if (!response.ok && url.startsWith(watched)) {
      const body = await response.clone().json().catch(() => null);
      // A failure that is not the worker's JSON (a proxy's 502 page) forgets an older refusal.
      for (const tag of requestTags(url, init)) {
        if (body?.error?.code) refusals.set(tag, body.error);
        else refusals.delete(tag);
      }
    }
    return response;
  };
  return () => (window.fetch = fetchBefore);
}

/** Which file a Companion request is about: its `filename` (query or JSON body) and upload ID. */
function requestTags(url, init) {
  const { pathname, searchParams } = new URL(url, location.href);
  let filename = searchParams.get("filename");
  try { filename ??= JSON.parse(init?.body ?? "null")?.filename ?? null; } catch { /* not JSON */ }
  const id = /\/s3\/multipart\/([^/]+)/.exec(pathname)?.[1];
  return [...(filename ? [`name:${filename}`] : []), ...(id ? [`id:${decodeURIComponent(id)}`] : [])];
}

/** The worker's refusal of `file`'s last Companion request, if the worker refused it. */
function refusalOf(file) {
  const id = file?.s3Multipart?.uploadId;
  return (id && refusals.get(`id:${id}`)) || (file && refusals.get(`name:${file.name}`)) || null;
}

/** The S3 `<Code>` of a bucket's XML error, or null. */
function storageCode(text) {
  return /<Error>[\s\S]*?<Code>([^<]+)<\/Code>/.exec(text ?? "")?.[1] ?? null;
}

/**
 * What went wrong with `file`, in the words of whoever refused: the worker, the bucket, or the
 * network.
 */
function explain(error, file) {
  if (error?.name === "UploadError") return `${error.code}: ${error.message}`; // createSignRequest's
  // signRequest mode: Uppy's S3 client read the answer (the worker's JSON, or the bucket's XML).
  // (Its class name does not survive minifying: known by its fields.)
  if (error && "serviceCode" in error && "body" in error) {
    let worker = null;
    try { worker = JSON.parse(error.body)?.error; } catch { /* the bucket's XML */ }
    if (worker?.code) return `${worker.code}: ${worker.message}`;
    return `the storage refused the file: ${storageCode(error.body) ?? error.code ?? `HTTP ${error.status}`}`;
  }
  // Companion mode: the worker refused (its answer kept above), or the bucket did (the XHR).
  const refusal = /^Companion request failed/.test(error?.message ?? "") ? refusalOf(file) : null;
  if (refusal) return `${refusal.code}: ${refusal.message}`;
  const xhr = error?.request;
  if (xhr?.status > 0) return `the storage refused the file: ${storageCode(xhr.responseText) ?? `HTTP ${xhr.status}`}`;
  return error?.message ?? String(error);
}

const signers = {
  // Companion mode sends each file's meta (the profile among it) as Uppy's `metadata`.
  companion: (endpoint) => ({ companionEndpoint: endpoint }),
  sign: (endpoint, token, profile) => ({ signRequest: withProfile(createSignRequest({ endpoint, token }), profile) }),
  plain: (endpoint, token, profile) => ({ signRequest: withProfile(plainSignRequest(endpoint, token), profile) }),
};

/** A `signRequest` that names the upload profile (UPLOAD_PROFILES) its files go under. */
function withProfile(signRequest, profile) {
  return profile ? (request) => signRequest({ ...request, profile }) : signRequest;
}

/** The simplest `signRequest`: Uppy's request to the worker, its answer back unchanged. */
function plainSignRequest(endpoint, token) {
  return async (request) => {
    const response = await fetch(`${endpoint}/s3/sign`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(request),
    });
    return response.json();
  };
}

/**
 * A fresh Uppy with its Dashboard in #dashboard, restricted to what the worker signs for this
 * caller. `multipart` (true/false) overrides the choice; by default a file goes in parts when
 * the worker takes it only that way (over `max_bytes`) or when it is over 100 MiB.
 * `restrict: false` skips the limits: the worker and the bucket still refuse (the tests show it).
 */
async function createUppy({ mode = "companion", endpoint = WORKER, token, multipart, partSize, restrict = true,
  profile } = {}) {
  let said = null;
  if (restrict) {
    said = await limitsFor(endpoint, token, profile).catch((error) => {
      note(`could not read the worker's limits: ${explain(error)}`, "error");
      return null;
    });
  }
  current?.destroy();
  watched = endpoint;
  const { restrictions, strings } = restrictionsFrom(said);
  const uppy = new Uppy({ restrictions, locale: { strings }, ...(profile ? { meta: { profile } } : {}) });
  uppy.use(Dashboard, {
    inline: true, target: "#dashboard", height: 380, proudlyDisplayPoweredByUppy: false,
    note: said ? describe(said) : null,
  });
  const inParts = (file) => file.size > (said?.maxBytes ?? MULTIPART_ABOVE) || file.size > MULTIPART_ABOVE;
  uppy.use(AwsS3, {
    ...signers[mode](endpoint, token, profile),
    shouldUseMultipart: multipart ?? inParts,
    ...(partSize ? { getChunkSize: () => partSize } : {}),
  });
  uppy.on("restriction-failed", (file, error) => note(error.message, "refused"));
  uppy.on("upload-error", (file, error) => {
    const text = `${file.name}: ${explain(error, uppy.getFile(file.id) ?? file)}`;
    uppy.setFileState(file.id, { error: text }); // what the Dashboard shows on the file
    note(text, "error");
  });
  uppy.on("upload-success", (file, response) => {
    const key = response.body?.key;
    note(`${file.name}: stored as ${key}`, "done");
    // Tell the worker it landed: it checks the object in the bucket against what was declared
    // and its rules, and sends the upload.completed event your backend can trust.
    const declared = { size: file.size, ...(file.type ? { content_type: file.type } : {}) };
    verifications.set(file.id, completeUpload(key, declared, { endpoint, token }).then((verified) => {
      note(`${file.name}: verified by the worker (${verified.size} bytes, ${verified.content_type})`, "verified");
      return verified;
    }, (error) => {
      note(`${file.name}: not verified: ${explain(error)}`, "error");
      return { error: error.code };
    }));
  });
  current = uppy;
  return { uppy, said };
}

/** The worker's limits in a line under the Dashboard. */
function describe(said) {
  const types = said.allowedTypes.length ? said.allowedTypes.join(", ") : "any type";
  const parts = said.multipart && said.maxMultipartBytes > said.maxBytes
    ? `, up to ${said.maxMultipartBytes} bytes in parts` : "";
  return `The worker takes ${types}: up to ${said.maxBytes} bytes in one upload${parts}.`;
}

/** One line in the page's log (refusals, errors, results), kept after Uppy's own notices fade. */
function note(text, state) {
  const item = Object.assign(document.createElement("li"), { textContent: text });
  item.dataset.state = state;
  document.getElementById("uploads").append(item);
}

/**
 * Uploads `file` with a fresh Uppy (shown in the Dashboard) and reports what happened.
 * `multipart: true` forces multipart with parts of `partSize`; `cancelAfterParts` cancels the
 * upload once that many parts are in the bucket. Tests call it as `window.uppyUpload`.
 */
async function uppyUpload(file, { mode = "companion", endpoint = WORKER, token, multipart, partSize = 5 * MiB,
  cancelAfterParts, restrict = true, profile } = {}) {
  refusals.clear();
  const { uppy } = await createUppy({ mode, endpoint, token, multipart, partSize: multipart === undefined ? undefined : partSize, restrict, profile });
  const report = { mode, progress: [], parts: [], errors: [] };
  uppy.on("upload-progress", (_, { bytesUploaded }) => report.progress.push(bytesUploaded));
  let cancelled;
  const whenCancelled = new Promise((resolve) => (cancelled = resolve));
  uppy.on("s3-multipart:part-uploaded", (_, part) => {
    report.parts.push(part.PartNumber);
    if (report.parts.length === cancelAfterParts) {
      uppy.cancelAll(); // aborts the multipart upload: its parts are deleted
      cancelled({ cancelled: true });
    }
  });
  uppy.on("upload-error", (file, error) => {
    // An UploadError from createSignRequest keeps the worker's code and status.
    const shown = explain(error, uppy.getFile(file.id) ?? file);
    report.errors.push({ message: error.message, code: error.code, status: error.status, shown });
  });
  try {
    uppy.addFile({ name: file.name, type: file.type, data: file });
  } catch (error) {
    return { ...report, refused: error.message }; // a restriction: nothing was sent
  }
  const outcome = await Promise.race([uppy.upload().then((result) => ({ result })), whenCancelled]);
  if (outcome.cancelled) return { ...report, cancelled: true };
  const done = outcome.result?.successful?.[0];
  report.key = done?.response?.body?.key;
  report.location = done?.uploadURL;
  report.verified = done ? await verifications.get(done.id) : undefined;
  return report;
}

/** The Dashboard for the mode and token chosen in the form. */
function fromForm() {
  const form = new FormData(document.getElementById("form"));
  return createUppy({ mode: form.get("mode"), token: form.get("token") || undefined,
    profile: form.get("profile") || undefined });
}

const stopKeeping = keepWorkerRefusals();
window.addEventListener("pagehide", stopKeeping);
document.getElementById("form").addEventListener("change", fromForm);
await fromForm();
// Tests call these once the first Dashboard is up (so they never race its creation).
window.uppyUpload = uppyUpload;
window.createUppy = createUppy;
