// Test helpers on top of the local stack (scripts/stack.mjs starts and stops the servers).
import { createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { chromium } from "playwright-core";

export { freePort, ROOT, startAll, startS3, startWorker, stopAll } from "../../scripts/stack.mjs";

/** POSTs JSON to the worker; returns {status, headers, body (parsed JSON or text)}. */
export async function postJson(url, value, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof value === "string" ? value : JSON.stringify(value),
  });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** Asks the worker at `base` for a signed upload; asserts it answered 200 and returns the answer. */
export async function requestUpload(base, request) {
  const { status, body } = await postJson(`${base}/uploads`, request);
  if (status !== 200) throw new Error(`POST /uploads answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * Uploads as a browser does: every field in order, then the file last as `file`.
 * The multipart body is encoded first and sent in one write on a fresh connection: a server
 * that refuses a form after reading its fields may close the socket before reading the file,
 * and a streamed body would then fail with EPIPE instead of showing us the refusal.
 */
export async function uploadWithForm(form, bytes, { fileName = "file.bin", type = "application/octet-stream", fields } = {}) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields ?? form.fields)) data.append(name, value);
  data.append("file", new Blob([bytes], { type }), fileName);
  const encoded = new Request(form.url, { method: "POST", body: data });
  const body = Buffer.from(await encoded.arrayBuffer());
  return answerOf(httpRequest(form.url, {
    method: "POST",
    agent: false,
    headers: { "Content-Type": encoded.headers.get("content-type"), "Content-Length": body.length },
  }), (request) => request.end(body));
}

/** `{status, text}` of `request`'s answer, once `send(request)` has sent it. */
function answerOf(request, send) {
  return new Promise((resolve, reject) => {
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode, text }));
    });
    // After a response, a write error only means the server stopped reading early.
    request.on("error", (error) => (request.res ? undefined : reject(error)));
    send(request);
  });
}

/**
 * PUTs `body` with `Expect: 100-continue`: the body goes only once the server asks for it, so a
 * store that refuses on the headers alone (a signed length that differs) answers, rather than
 * closing a connection the client is still writing to.
 */
export function putWhole(url, body, headers = {}) {
  return answerOf(httpRequest(url, {
    method: "PUT", agent: false, headers: { ...headers, "Content-Length": body.length, Expect: "100-continue" },
  }), (request) => {
    request.on("continue", () => request.end(body));
    request.flushHeaders();
  });
}

/** Headless Chromium as every browser test runs it (CHROMIUM_PATH overrides the binary). */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** An HS256 JWT for `sub`, as UPLOAD_AUTH_SECRET verifies it, valid `seconds` from now. */
export function mintToken(sub, secret, { seconds = 600, ...claims } = {}) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + seconds, ...claims })}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/**
 * The store's upload ID inside a worker's upload handle (`{expires}.{mac}.{S3 upload ID}`): the
 * handle is MACed, not secret, so tests can find the upload it names in the store.
 */
export function storeUploadId(handle) {
  const [expires, mac, ...rest] = handle.split(".");
  if (!/^\d+$/.test(expires) || !/^[0-9a-f]{32}$/.test(mac) || rest.length === 0) throw new Error(`not an upload handle: ${handle}`);
  return rest.join(".");
}
