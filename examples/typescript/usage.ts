// The browser client from TypeScript: every export and every option of web/client.js, typed by
// web/client.d.ts. A page would import the worker's copy ("https://uploads.example.com/client.js")
// or a copy of both files; here it is the repository's, so `tsc` checks the real declarations.
import {
  CHECKSUM_MAX_BYTES,
  downloadUrl,
  objectUrl,
  parseStorageError,
  uploadFile,
  uploadFiles,
  UploadError,
  type DownloadLink,
  type Progress,
  type Token,
  type UploadErrorCode,
  type UploadOutcome,
  type UploadResult,
} from "../../web/client.js";

const endpoint = "https://uploads.example.com";

/** A token from the page's sign-in, fetched again for every call to the worker. */
const token: Token = async () => (await fetch("/session/token")).text();

/** Uploads one file with a progress bar, retrying once when the worker says to slow down. */
export async function uploadOne(file: File, bar: HTMLProgressElement, signal: AbortSignal): Promise<UploadResult> {
  const options = {
    endpoint,
    token,
    signal,
    method: "PUT" as const,
    checksum: file.size <= CHECKSUM_MAX_BYTES,
    onProgress: ({ fraction }: Progress) => (bar.value = fraction),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, credentials: "omit" }),
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

/** Opens a presigned download of `key`. */
export async function open(key: string): Promise<Date> {
  const link: DownloadLink = await downloadUrl(key, { endpoint, token: () => "sync-token", signal: AbortSignal.timeout(5000), fetch });
  window.open(link.url, "_blank", "noopener");
  return link.expiresAt;
}

// The helpers client.js uses itself, exported for pages that upload their own way.
const refused: UploadError = parseStorageError("<Error><Code>AccessDenied</Code></Error>", 403);
const made = new UploadError("aborted", "cancelled", { source: "abort", status: 0, minBytes: 1 });
export const examples = [refused.code, made.code, objectUrl("https://bucket.s3.amazonaws.com/", "uploads/a b.txt")];
