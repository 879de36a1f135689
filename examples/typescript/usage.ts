// The browser client from TypeScript: every export and every option of web/client.js, typed by
// web/client.d.ts. A page would import the worker's copy ("https://uploads.example.com/client.js")
// or a copy of both files; here it is the repository's, so `tsc` checks the real declarations.
import {
  abortMultipart,
  CHECKSUM_MAX_BYTES,
  completeUpload,
  createSignRequest,
  downloadUrl,
  limits,
  listParts,
  MIN_PART_SIZE,
  MULTIPART_THRESHOLD,
  objectUrl,
  PART_SIZE,
  parseStorageError,
  savedMultipart,
  uploadFile,
  uploadFiles,
  uploadMultipart,
  UploadError,
  type DeclaredUpload,
  type DownloadLink,
  type MultipartOptions,
  type MultipartUpload,
  type PresignableRequest,
  type PresignedResponse,
  type Progress,
  type SavedMultipart,
  type Token,
  type UploadedPart,
  type UploadErrorCode,
  type UploadLimits,
  type UploadOptions,
  type UploadOutcome,
  type UploadResult,
  type VerifiedUpload,
} from "../../web/client.js";

const endpoint = "https://uploads.example.com";

/** A token from the page's sign-in, fetched again for every call to the worker. */
const token: Token = async () => (await fetch("/session/token")).text();

/** Uploads one file with a progress bar, retrying once when the worker says to slow down. */
export async function uploadOne(file: File, bar: HTMLProgressElement, signal: AbortSignal): Promise<UploadResult> {
  const options: UploadOptions = {
    endpoint,
    token,
    signal,
    method: "PUT" as const,
    checksum: file.size <= CHECKSUM_MAX_BYTES,
    onProgress: ({ fraction }: Progress) => (bar.value = fraction),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, credentials: "omit" }),
    // Large files in parts (the defaults, spelt out): resumable, several parts at a time.
    multipart: "auto",
    multipartThreshold: MULTIPART_THRESHOLD,
    partSize: PART_SIZE,
    partConcurrency: 3,
    resume: true,
  };
  try {
    return await uploadFile(file, options);
  } catch (error) {
    if (error instanceof UploadError && error.code === "rate_limited") {
      await new Promise((resolve) => setTimeout(resolve, (error.retryAfter ?? 1) * 1000));
      return uploadFile(file, options);
    }
    throw error;
  }
}

/** A sentence for a person, from any failure. */
export function explain(error: unknown): string {
  if (!(error instanceof UploadError)) return String(error);
  const code: UploadErrorCode = error.code;
  switch (code) {
    case "unauthorized":
      return "Please sign in again.";
    case "file_too_large":
    case "EntityTooLarge":
      return `Too large${error.maxBytes ? ` (at most ${error.maxBytes} bytes)` : ""}.`;
    case "invalid_batch":
      return (error.details ?? []).map((d) => `file ${d.index + 1}: ${d.code}: ${d.message}`).join("\n");
    case "aborted":
      return "Cancelled.";
    case "network_error":
      return error.upload ? "The connection dropped: upload the same file again to send the rest." : "Offline?";
    case "etag_unavailable":
      return "The bucket's CORS rule must expose ETag.";
    default:
      return `${error.message} (${error.source}, HTTP ${error.status}${error.storageMessage ? `, S3: ${error.storageMessage}` : ""})`;
  }
}

/** Uploads many files, two at a time, and lists what landed and what did not. */
export async function uploadMany(files: FileList, signal: AbortSignal): Promise<string[]> {
  const outcomes: UploadOutcome[] = await uploadFiles(files, {
    endpoint,
    token: "a-static-token",
    signal,
    concurrency: 2,
    method: "POST",
    checksum: false,
    onProgress: (index: number, { loaded, total }: Progress) => console.log(`file ${index}: ${loaded}/${total}`),
    fetch,
  });
  return outcomes.map((o) => (o.status === "fulfilled" ? o.value.key : explain(o.reason)));
}

/** A large video in 16 MiB parts, four at a time, saying how much a resumed upload had. */
export async function uploadVideo(file: File, label: HTMLElement, signal: AbortSignal): Promise<UploadResult> {
  const saved: SavedMultipart | null = savedMultipart(file, { endpoint });
  if (saved) {
    const parts: UploadedPart[] = await listParts(saved, { endpoint, token, signal, fetch });
    label.textContent = `Resuming: ${parts.length} parts (${parts.reduce((n, p) => n + p.size, 0)} bytes) of ${saved.partSize}`;
  }
  const options: MultipartOptions = {
    endpoint,
    token,
    signal,
    fetch,
    partSize: Math.max(16 * 1024 * 1024, MIN_PART_SIZE),
    partConcurrency: 4,
    resume: true,
    onProgress: ({ fraction, parts }: Progress) => (label.textContent = `${Math.round(fraction * 100)}%, part ${parts?.done} of ${parts?.total}`),
  };
  try {
    return await uploadMultipart(file, options);
  } catch (error) {
    // A refusal that uploading again will not get past: delete the parts now.
    const upload: MultipartUpload | undefined = error instanceof UploadError ? error.upload : undefined;
    if (upload && error instanceof UploadError && error.code !== "network_error") {
      await abortMultipart(upload, { endpoint, token });
    }
    throw error;
  }
}

/** The signRequest of @uppy/aws-s3 (examples/typescript/uppy.ts plugs it in), called by hand. */
export async function signForUppy(): Promise<string> {
  const signRequest = createSignRequest({ endpoint: `${endpoint}/api/uploads`, token, fetch });
  const request: PresignableRequest = { method: "PUT", key: "photo.png", contentType: "image/png" };
  const signed: PresignedResponse = await signRequest(request);
  return signed.fields?.key ?? signed.key ?? signed.url;
}

/** Opens a presigned download of `key`. */
export async function open(key: string): Promise<Date> {
  const link: DownloadLink = await downloadUrl(key, { endpoint, token: () => "sync-token", signal: AbortSignal.timeout(5000), fetch });
  window.open(link.url, "_blank", "noopener");
  return link.expiresAt;
}

/** Uploads `file` and has the worker verify it; or verifies a key uploaded another way. */
export async function verified(file: File, key?: string): Promise<string | undefined> {
  if (key === undefined) {
    const result: UploadResult = await uploadFile(file, { endpoint, token, complete: true });
    return result.verified?.event_id;
  }
  const declared: DeclaredUpload = { size: file.size, content_type: file.type };
  const checked: VerifiedUpload = await completeUpload(key, declared, { endpoint, token });
  return `${checked.key} ${checked.size} ${checked.etag} ${checked.checksum_sha256 ?? ""}`;
}

/** Refuses a file the worker would refuse, before it uploads, in the worker's words. */
export async function refusalOf(file: File): Promise<string | null> {
  const said: UploadLimits = await limits({ endpoint, token, signal: AbortSignal.timeout(5000), fetch });
  const largest = Math.max(said.maxBytes, said.multipart ? said.maxMultipartBytes : 0);
  if (file.size > largest) return said.messages.fileTooLarge;
  const typeOk = said.allowedTypes.length === 0 || said.allowedTypes.some((range) =>
    range.endsWith("/*") ? file.type.startsWith(range.slice(0, -1)) : file.type === range);
  return typeOk ? null : `only ${said.allowedTypes.join(", ")} (${said.method} uploads, valid ${said.expiresSeconds} s)`;
}

// The helpers client.js uses itself, exported for pages that upload their own way.
const refused: UploadError = parseStorageError("<Error><Code>AccessDenied</Code></Error>", 403);
const made = new UploadError("aborted", "cancelled", { source: "abort", status: 0, minBytes: 1, upload: { key: "k", uploadId: "u" } });
export const examples = [refused.code, made.code, objectUrl("https://bucket.s3.amazonaws.com/", "uploads/a b.txt")];
