// Types for client.js, the edge-presign browser client. The worker serves this file beside it
// (GET /client.d.ts), so TypeScript finds it for `import … from "./client.js"` when both are
// copied into a project, and a page importing the worker's URL can download it.

/** Largest file `checksum: true` accepts (256 MiB): hashing reads the whole file into memory. */
export declare const CHECKSUM_MAX_BYTES: number;

/** With `multipart: "auto"` (the default), files larger than this (100 MiB) upload in parts. */
export declare const MULTIPART_THRESHOLD: number;

/** The default part size of a multipart upload (8 MiB). */
export declare const PART_SIZE: number;

/** S3's smallest part (5 MiB; only the last part may be smaller). A smaller `partSize` is raised to it. */
export declare const MIN_PART_SIZE: number;

/** Who refused: the worker (its JSON answer), the bucket (its XML answer), the network, the
 * caller's AbortSignal, or this module before asking anyone. */
export type UploadErrorSource = "worker" | "storage" | "network" | "abort" | "client";

/** Codes the worker answers with (docs/api.md, "Errors"). */
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
  /** A PUT needs `size`; for `signRequest` (which sends none) on R2, use multipart. */
  | "size_required"
  /** The worker could not fetch the keys that verify tokens (HTTP 503). */
  | "auth_unavailable"
  /** `GET /downloads/{key}` for a key with no object. */
  | "object_not_found"
  /** The multipart upload is gone: completed, aborted, or expired by the bucket. */
  | "upload_not_found"
  /** Not an upload handle this worker answered (S3's own upload IDs are never handed out). */
  | "invalid_upload_id"
  /** An upload handle issued for another key or caller, changed, or expired (HTTP 403). */
  | "upload_not_allowed"
  /** A multipart completion found an object already under its key (HTTP 409). */
  | "object_exists"
  | "invalid_part_number"
  /** A completion listing parts out of order, or parts the bucket does not have. */
  | "invalid_parts"
  | "unknown_profile"
  | "profile_not_allowed"
  | "multipart_not_allowed"
  /** A part other than the last is under 5 MiB. */
  | "part_too_small"
  /** The bucket could not be reached, or answered 5xx (HTTP 502). */
  | "storage_unavailable"
  /** The bucket refused the worker's own call (HTTP 502). */
  | "storage_refused"
  | "storage_error"
  /** `POST /uploads/complete`: the stored object's size is not the declared one (HTTP 422). */
  | "size_mismatch"
  /** `POST /uploads/complete`: the stored object's type is not the declared one (HTTP 422). */
  | "type_mismatch"
  /** `POST /uploads/complete`: the stored object's SHA-256 is not the declared one (HTTP 422). */
  | "checksum_mismatch"
  | "internal_error"
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
  | "aborted"
  /** A part reached the bucket, but its CORS rule hides the `ETag` header a multipart upload
   * needs (add it to ExposeHeaders). Source "storage". */
  | "etag_unavailable";

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
  upload?: MultipartUpload;
}

/** Every failure of uploadFile, uploadFiles, downloadUrl, the multipart functions and
 * createSignRequest: one type, whoever refused. */
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
  /** A multipart upload that failed but can be resumed (a dropped connection, an expired
   * token): uploading the same file again sends only the parts the bucket does not have. */
  upload?: MultipartUpload;
}

/** Upload progress of one file, in bytes; `fraction` runs from 0 to 1. */
export interface Progress {
  loaded: number;
  total: number;
  fraction: number;
  /** Multipart uploads only: parts in the bucket, and parts in all. A resumed upload's first
   * report counts the parts that were already there. */
  parts?: { done: number; total: number };
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

/** How a multipart upload goes (uploadMultipart, and uploadFile when it chooses multipart). */
export interface PartOptions {
  /** Bytes per part (default PART_SIZE, 8 MiB); at least MIN_PART_SIZE, and raised so a file
   * needs at most 10,000 parts. A resumed upload keeps the part size it started with. */
  partSize?: number;
  /** How many parts upload at the same time (default 3). */
  partConcurrency?: number;
  /** Remember the unfinished upload (localStorage, by the file's name, size and lastModified)
   * and resume it when the same file is uploaded again (default true). */
  resume?: boolean;
}

/** Options of uploadMultipart. */
export interface MultipartOptions extends WorkerOptions, PartOptions {
  /** Called as bytes reach the bucket, across all parts. */
  onProgress?: (progress: Progress) => void;
  /** The worker's upload profile (UPLOAD_PROFILES) whose rules apply; by default its own. */
  profile?: string;
}

/** Options of uploadFile. */
export interface UploadOptions extends WorkerOptions, PartOptions {
  /** Called as bytes reach the bucket, and once with fraction 1 when it has them all. */
  onProgress?: (progress: Progress) => void;
  /** A POST form or a presigned PUT, for single uploads; by default the worker's
   * UPLOAD_METHOD decides. */
  method?: "POST" | "PUT";
  /** The worker's upload profile (UPLOAD_PROFILES) whose rules apply: its prefix, size limit,
   * types, method and expiry. By default the worker's own settings ("default"). */
  profile?: string;
  /** Send the file's SHA-256 so the bucket refuses other bytes (files up to CHECKSUM_MAX_BYTES).
   * Single uploads only: with `multipart: "auto"` it keeps the file in one upload, and with
   * `multipart: true` it rejects with "checksum_unavailable". */
  checksum?: boolean;
  /** Multipart (through the worker's /s3/multipart routes) for files over
   * `multipartThreshold` ("auto", the default), for every non-empty file (true), or never
   * (false). Multipart is for large files: one upload may hold UPLOAD_MAX_MULTIPART_BYTES,
   * and a dropped connection loses only the parts in flight. */
  multipart?: boolean | "auto";
  /** The size above which "auto" goes multipart (default MULTIPART_THRESHOLD, 100 MiB). */
  multipartThreshold?: number;
  /** After a single upload, ask the worker to verify it (completeUpload, with the size, type
   * and checksum declared): the result then has `verified`, and the worker sends its
   * upload.completed event. Multipart uploads need no call: the worker's own completion sends
   * the event. Default false. */
  complete?: boolean;
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
  /** With `complete: true`: what the worker verified. */
  verified?: VerifiedUpload;
}

/** What `POST /uploads/complete` verified (completeUpload). */
export interface VerifiedUpload {
  key: string;
  /** Bytes stored. */
  size: number;
  content_type: string;
  /** As the bucket sent it, quotes included. */
  etag: string;
  /** The upload profile whose rules it was verified by ("default": the worker's own). */
  profile: string;
  /** Only when one was declared. */
  checksum_sha256?: string;
  /** The upload.completed event's `webhook-id`, when the worker sends events. */
  event_id?: string;
}

/** What the client declared when it asked for the upload (completeUpload). */
export interface DeclaredUpload {
  size?: number;
  content_type?: string;
  checksum_sha256?: string;
}

/** One file's outcome in uploadFiles, as Promise.allSettled gives it. */
export type UploadOutcome =
  | { status: "fulfilled"; value: UploadResult }
  | { status: "rejected"; reason: UploadError };

/** A multipart upload in the bucket: the key the worker chose, and S3's upload ID. */
export interface MultipartUpload {
  key: string;
  uploadId: string;
}

/** An unfinished multipart upload this page remembers, with the part size it uses. */
export interface SavedMultipart extends MultipartUpload {
  partSize: number;
}

/** One part already in the bucket (ListParts). */
export interface UploadedPart {
  partNumber: number;
  /** Bytes. */
  size: number;
  /** As the bucket sent it, quotes included. */
  etag: string;
}

/** A presigned download of an uploaded object. */
export interface DownloadLink {
  url: string;
  expiresAt: Date;
}

/** What the worker will sign for this caller (`GET /uploads/limits`). */
export interface UploadLimits {
  /** The upload profile these are of ("default": the worker's own settings). */
  profile: string;
  /** Largest single upload (form or PUT), bytes: `UPLOAD_MAX_BYTES`, or the token's `max_bytes` when lower. */
  maxBytes: number;
  /** Largest multipart upload, bytes: `UPLOAD_MAX_MULTIPART_BYTES`, or the token's `max_bytes` when lower. */
  maxMultipartBytes: number;
  /** Types signed, as `type/subtype` or `type/*` (what an `accept` attribute takes); empty: any type. */
  allowedTypes: string[];
  /** What a request naming no method gets (`UPLOAD_METHOD`). */
  method: "POST" | "PUT";
  /** Whether a multipart upload can be started (false when the profile takes none, or no type can be uploaded at all). */
  multipart: boolean;
  /** How long a signed form or URL stays valid. */
  expiresSeconds: number;
  /** The worker's own words. */
  messages: {
    /** Its refusal of a file over the larger of the two sizes, word for word. */
    fileTooLarge: string;
  };
}

/**
 * What the worker will sign for this caller: a page refuses a file early with it (the worker
 * still checks). Rejects with an UploadError ("unauthorized", "rate_limited", …).
 */
export declare function limits(options?: WorkerOptions & {
  /** An upload profile (UPLOAD_PROFILES) to ask about; by default the worker's own settings. */
  profile?: string;
}): Promise<UploadLimits>;

/**
 * Uploads one file: asks the worker for a signed form or PUT URL, then sends the file straight
 * to the bucket; a file over `multipartThreshold` (or any, with `multipart: true`) goes
 * through uploadMultipart instead. Rejects with an UploadError.
 */
export declare function uploadFile(file: File, options?: UploadOptions): Promise<UploadResult>;

/**
 * Uploads several files: one worker call per 20 files for the forms (all-or-nothing: a bad
 * entry rejects the call with `invalid_batch` and uploads nothing), then at most `concurrency`
 * uploads at a time, each succeeding or failing on its own. Files that go multipart are not in
 * the batch calls: each starts its own upload in its turn.
 */
export declare function uploadFiles(
  files: FileList | ArrayLike<File> | Iterable<File>,
  options?: UploadFilesOptions,
): Promise<UploadOutcome[]>;

/**
 * Asks the worker to verify an uploaded object (`POST /uploads/complete`): it exists, within
 * the worker's limits, with the declared size, type and SHA-256. The worker then sends its
 * upload.completed event. Rejects with an UploadError ("object_not_found", "size_mismatch",
 * "type_mismatch", "checksum_mismatch", …).
 */
export declare function completeUpload(
  key: string,
  declared?: DeclaredUpload,
  options?: WorkerOptions,
): Promise<VerifiedUpload>;

/**
 * A short-lived GET URL of an uploaded object (`GET /downloads/{key}`); opening it saves the
 * file under the person's original name. Rejects with an UploadError ("invalid_key",
 * "key_not_allowed", …).
 */
export declare function downloadUrl(key: string, options?: DownloadOptions): Promise<DownloadLink>;

/**
 * Uploads `file` as an S3 multipart upload through the worker's Companion routes: the worker
 * starts it (choosing the key), signs each part and completes it, refusing with 413
 * "file_too_large" (and aborting the upload) a total over UPLOAD_MAX_MULTIPART_BYTES.
 * Until it completes, the upload is remembered: uploading the same file again (after a
 * dropped connection, or in a new page load) sends only the missing parts. Aborting `signal`
 * deletes the upload and its parts.
 */
export declare function uploadMultipart(file: File, options?: MultipartOptions): Promise<UploadResult>;

/** The parts of a multipart upload the bucket has (`GET /s3/multipart/{uploadId}`). */
export declare function listParts(upload: MultipartUpload, options?: WorkerOptions): Promise<UploadedPart[]>;

/** Aborts a multipart upload (`DELETE /s3/multipart/{uploadId}`): the bucket deletes its parts,
 * and this page forgets it. */
export declare function abortMultipart(upload: MultipartUpload, options?: WorkerOptions): Promise<void>;

/** The unfinished multipart upload of `file` this page remembers (by name, size and
 * lastModified, per worker), or null. */
export declare function savedMultipart(file: File, options?: { endpoint?: string }): SavedMultipart | null;

/** What @uppy/aws-s3 asks `signRequest` to sign: PutObject (`PUT`, no uploadId),
 * CreateMultipartUpload (`POST`, no uploadId), UploadPart, ListParts (`GET`), Complete
 * (`POST`) and Abort (`DELETE`) on an upload. */
export interface PresignableRequest {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Uppy's proposed key (`{uuid}-{name}` for a new file: the worker keeps only the name and
   * chooses the key), or the worker's key for an existing upload. */
  key: string;
  uploadId?: string;
  partNumber?: number;
  contentType?: string;
  expiresIn?: number;
}

/** The worker's answer for Uppy: a presigned URL, the key it chose for a new file, the
 * headers it signed, or a POST form's fields (PutObject). */
export interface PresignedResponse {
  url: string;
  key?: string;
  headers?: Record<string, string>;
  fields?: Record<string, string>;
}

/** Options of createSignRequest. */
export interface SignRequestOptions {
  /** The worker's origin and BASE_PATH, e.g. "https://app.example.com/api/uploads". */
  endpoint?: string;
  /** Sent as `Authorization: Bearer <token>` with every request to sign. */
  token?: Token;
  /** Used instead of the global fetch for requests to the worker. */
  fetch?: typeof fetch;
}

/**
 * @uppy/aws-s3's `signRequest` option, signed by the worker's `POST /s3/sign`:
 * `new Uppy().use(AwsS3, { signRequest: createSignRequest({ endpoint, token }) })`. A refusal
 * rejects with an UploadError that Uppy passes on in its `upload-error` event. A multipart
 * completion is answered with the worker's own completion route (with the token), never a
 * presigned one: the worker checks the total and completes the upload; a refusal there reaches
 * Uppy as its S3 error with the worker's `code` and `status`.
 */
export declare function createSignRequest(options?: SignRequestOptions): (request: PresignableRequest) => Promise<PresignedResponse>;

/** Turns a failed storage answer (S3's XML error) into an UploadError with S3's code. */
export declare function parseStorageError(xmlText: string, status: number): UploadError;

/** The object's URL: the form's `url` plus the key, each key segment percent-encoded. */
export declare function objectUrl(url: string, key: string): string;
