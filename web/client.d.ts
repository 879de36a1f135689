// Types for client.js, the edge-presign browser client. The worker serves this file beside it
// (GET /client.d.ts), so TypeScript finds it for `import … from "./client.js"` when both are
// copied into a project, and a page importing the worker's URL can download it.

/** Largest file `checksum: true` accepts (256 MiB): hashing reads the whole file into memory. */
export declare const CHECKSUM_MAX_BYTES: number;

/** Who refused: the worker (its JSON answer), the bucket (its XML answer), the network, the
 * caller's AbortSignal, or this module before asking anyone. */
export type UploadErrorSource = "worker" | "storage" | "network" | "abort" | "client";

/** Codes the worker answers with (README, "Errors"). */
export type WorkerErrorCode =
  | "invalid_json"
  | "unsupported_media_type"
  | "body_too_large"
  | "invalid_file_name"
  | "invalid_size"
  | "file_too_large"
  | "content_type_not_allowed"
  | "content_type_required"
  | "invalid_batch"
  | "invalid_checksum"
  | "method_not_supported"
  | "invalid_key"
  | "key_not_allowed"
  | "origin_not_allowed"
  | "not_found"
  | "method_not_allowed"
  | "misconfigured"
  | "clock_unavailable"
  | "entropy_unavailable"
  /** Every HTTP 401 from the worker, whatever code its body names: get a new token. */
  | "unauthorized"
  /** Every HTTP 429 from the worker: wait `retryAfter` seconds when it is given. */
  | "rate_limited";

/** Codes S3 (or an S3-compatible store) answers with that the client words for people. Any
 * other S3 `<Code>` arrives as it is. */
export type StorageErrorCode =
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "SignatureDoesNotMatch"
  | "InvalidPolicyDocument"
  | "ExpiredToken"
  | "AccessDenied"
  | "BadDigest";

/** Codes this module gives itself, before or instead of an answer. */
export type ClientErrorCode =
  /** `checksum: true` on a file over CHECKSUM_MAX_BYTES; nothing was asked or sent. */
  | "checksum_too_large"
  /** `checksum: true` without `crypto.subtle` (pages that are not https or localhost). */
  | "checksum_unavailable"
  /** The file could not be read to compute its checksum. */
  | "file_unreadable"
  /** The `token` function threw or rejected; nothing was sent. */
  | "token_unavailable"
  /** The worker or the bucket could not be reached (offline, DNS, CORS refused). */
  | "network_error"
  /** The caller's AbortSignal fired. */
  | "aborted";

/** Every code an UploadError can carry. `http_<status>` is an answer without a readable error;
 * the last member keeps unknown S3 codes typeable while the known ones still autocomplete. */
export type UploadErrorCode =
  | WorkerErrorCode
  | StorageErrorCode
  | ClientErrorCode
  | `http_${number}`
  | (string & {});

/** One bad entry of a refused batch (or one file too large for `checksum: true`). */
export interface ErrorDetail {
  /** Position in the `files` given to uploadFiles. */
  index: number;
  code: UploadErrorCode;
  message: string;
}

/** What UploadError's constructor takes besides code and message. */
export interface UploadErrorExtra {
  status?: number;
  source?: UploadErrorSource;
  details?: ErrorDetail[];
  maxBytes?: number;
  minBytes?: number;
  storageMessage?: string;
  retryAfter?: number;
}

/** Every failure of uploadFile, uploadFiles and downloadUrl: one type, whoever refused. */
export declare class UploadError extends Error {
  constructor(code: UploadErrorCode, message: string, extra?: UploadErrorExtra);
  readonly name: "UploadError";
  /** What went wrong, for code to act on; see UploadErrorCode. */
  code: UploadErrorCode;
  /** A sentence a page can show (S3's own words are appended for storage errors). */
  message: string;
  /** The HTTP status of the answer, 0 when there was none. */
  status: number;
  source: UploadErrorSource;
  /** For `invalid_batch` and a batch's `checksum_too_large`: one entry per bad file. */
  details?: ErrorDetail[];
  /** The largest size allowed, when the refusal says it (S3's MaxSizeAllowed or the form's). */
  maxBytes?: number;
  /** The smallest size allowed, when S3 says it. */
  minBytes?: number;
  /** S3's own `<Message>`, for storage errors. */
  storageMessage?: string;
  /** For `rate_limited`: seconds to wait, from the worker's `Retry-After` header, if sent. */
  retryAfter?: number;
}

/** Upload progress of one file, in bytes; `fraction` runs from 0 to 1. */
export interface Progress {
  loaded: number;
  total: number;
  fraction: number;
}

/** A bearer token, or a function giving one (called for each request to the worker, so a
 * refreshed token is picked up). Sent as `Authorization: Bearer <token>` to the worker only,
 * never to the bucket; an empty value sends no header. */
export type Token = string | (() => string | Promise<string>);

/** Options every call to the worker takes. */
export interface WorkerOptions {
  /** The worker's origin, e.g. "https://uploads.example.com"; "" (default) is the page's own. */
  endpoint?: string;
  /** Cancels the call; it then rejects with code "aborted". */
  signal?: AbortSignal;
  /** Used instead of the global fetch for requests to the worker (not for the upload itself). */
  fetch?: typeof fetch;
  token?: Token;
}

/** Options of uploadFile. */
export interface UploadOptions extends WorkerOptions {
  /** Called as bytes reach the bucket, and once with fraction 1 when it has them all. */
  onProgress?: (progress: Progress) => void;
  /** A POST form or a presigned PUT; by default the worker's UPLOAD_METHOD decides. */
  method?: "POST" | "PUT";
  /** Send the file's SHA-256 so the bucket refuses other bytes (files up to CHECKSUM_MAX_BYTES). */
  checksum?: boolean;
}

/** Options of uploadFiles: those of uploadFile, for every file, plus how many at once. */
export interface UploadFilesOptions extends Omit<UploadOptions, "onProgress"> {
  /** Called with the file's index into `files` and its progress. */
  onProgress?: (index: number, progress: Progress) => void;
  /** How many files upload at the same time (default 3). */
  concurrency?: number;
}

/** Options of downloadUrl. */
export type DownloadOptions = WorkerOptions;

/** A file stored in the bucket. */
export interface UploadResult {
  /** The object key the worker chose: `{UPLOAD_PREFIX}{uuid}/{safe name}`. */
  key: string;
  /** The object's URL (not signed: readable only if the bucket allows it; see downloadUrl). */
  url: string;
  /** Bytes sent. */
  size: number;
}

/** One file's outcome in uploadFiles, as Promise.allSettled gives it. */
export type UploadOutcome =
  | { status: "fulfilled"; value: UploadResult }
  | { status: "rejected"; reason: UploadError };

/** A presigned download of an uploaded object. */
export interface DownloadLink {
  url: string;
  expiresAt: Date;
}

/**
 * Uploads one file: asks the worker for a signed form or PUT URL, then sends the file straight
 * to the bucket. Rejects with an UploadError.
 */
export declare function uploadFile(file: File, options?: UploadOptions): Promise<UploadResult>;

/**
 * Uploads several files: one worker call per 20 files for the forms (all-or-nothing: a bad
 * entry rejects the call with `invalid_batch` and uploads nothing), then at most `concurrency`
 * uploads at a time, each succeeding or failing on its own.
 */
export declare function uploadFiles(
  files: FileList | ArrayLike<File> | Iterable<File>,
  options?: UploadFilesOptions,
): Promise<UploadOutcome[]>;

/**
 * A short-lived GET URL of an uploaded object (`GET /downloads/{key}`); opening it saves the
 * file under the person's original name. Rejects with an UploadError ("invalid_key",
 * "key_not_allowed", …).
 */
export declare function downloadUrl(key: string, options?: DownloadOptions): Promise<DownloadLink>;

/** Turns a failed storage answer (S3's XML error) into an UploadError with S3's code. */
export declare function parseStorageError(xmlText: string, status: number): UploadError;

/** The object's URL: the form's `url` plus the key, each key segment percent-encoded. */
export declare function objectUrl(url: string, key: string): string;
