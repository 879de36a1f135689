// @uppy/aws-s3 against the worker, in both of its modes (docs/browser-and-uppy.md, "Uppy"):
//  - Companion: `companionEndpoint` is the worker with its BASE_PATH. The worker starts,
//    signs and completes the uploads itself. Uppy sends no Authorization header there, so
//    with auth on the token travels as a cookie (UPLOAD_AUTH_COOKIE): same origin only.
//  - signRequest: every S3 request Uppy makes is signed by the worker's POST /s3/sign,
//    through client.js's createSignRequest, which sends a bearer token from any allowed origin
//    and turns refusals into UploadErrors with the worker's codes.
//  - plain signRequest ("plain"): the same without client.js, as anyone writes it: post Uppy's
//    request to /s3/sign with the token, return the answer.
// scripts/build-examples.mjs bundles this, Uppy and web/client.js into web/examples/uppy/;
// tests/e2e/uppy.test.mjs drives it through `window.uppyUpload`.
import AwsS3 from "@uppy/aws-s3";
import Uppy from "@uppy/core";
import { createSignRequest } from "../../web/client.js";

const MiB = 1024 * 1024;
// The worker serves this page at {worker}{BASE_PATH}/examples/uppy/ (with DEMO_PAGE on).
const WORKER = new URL("../..", location.href).href.replace(/\/$/, "");

/**
 * Uploads `file` with a fresh Uppy and reports what happened, in the page and as the result.
 * `multipart: true` forces multipart with parts of `partSize` (by default Uppy uses it above
 * 100 MiB); `cancelAfterParts` cancels the upload once that many parts are in the bucket.
 */
async function uppyUpload(file, { mode = "companion", endpoint = WORKER, token, multipart, partSize = 5 * MiB,
  cancelAfterParts } = {}) {
  const uppy = new Uppy();
  const signing = {
    companion: { companionEndpoint: endpoint },
    sign: { signRequest: createSignRequest({ endpoint, token }) },
    plain: { signRequest: plainSignRequest(endpoint, token) },
  }[mode];
  uppy.use(AwsS3, {
    ...signing,
    ...(multipart === undefined ? {} : { shouldUseMultipart: multipart, getChunkSize: () => partSize }),
  });
  const view = show(file, mode);
  const report = { mode, progress: [], parts: [], errors: [] };
  uppy.on("upload-progress", (_, { bytesUploaded, bytesTotal }) => {
    report.progress.push(bytesUploaded);
    view.bar.value = bytesTotal ? bytesUploaded / bytesTotal : 0;
  });
  let cancelled;
  const whenCancelled = new Promise((resolve) => (cancelled = resolve));
  uppy.on("s3-multipart:part-uploaded", (_, part) => {
    report.parts.push(part.PartNumber);
    view.text.textContent = `part ${part.PartNumber} uploaded`;
    if (report.parts.length === cancelAfterParts) {
      uppy.cancelAll(); // aborts the multipart upload: its parts are deleted
      cancelled({ cancelled: true });
    }
  });
  uppy.on("upload-error", (_, error) => {
    // An UploadError from createSignRequest keeps the worker's code and status.
    report.errors.push({ message: error.message, code: error.code, status: error.status });
  });
  uppy.addFile({ name: file.name, type: file.type, data: file });
  const outcome = await Promise.race([uppy.upload().then((result) => ({ result })), whenCancelled]);
  if (outcome.cancelled) {
    view.text.textContent = "cancelled";
    return { ...report, cancelled: true };
  }
  const done = outcome.result?.successful?.[0];
  report.key = done?.response?.body?.key;
  report.location = done?.uploadURL;
  view.text.textContent = report.key ? `stored as ${report.key}` : `failed: ${report.errors.map((e) => e.message).join("; ")}`;
  view.item.dataset.state = report.key ? "done" : "error";
  return report;
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

/** One line in the page per upload, for people and screenshots. */
function show(file, mode) {
  const item = document.createElement("li");
  const bar = Object.assign(document.createElement("progress"), { max: 1, value: 0 });
  const text = document.createElement("span");
  item.append(`${file.name} (${file.size} bytes, ${mode}) `, bar, " ", text);
  document.getElementById("uploads").append(item);
  return { item, bar, text };
}

window.uppyUpload = uppyUpload;
document.getElementById("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  uppyUpload(form.get("file"), { mode: form.get("mode"), token: form.get("token") || undefined });
});
