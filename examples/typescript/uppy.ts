// createSignRequest as @uppy/aws-s3's `signRequest`: tsc checks it against the plugin's own
// declarations (pinned in package-lock.json), so a change on either side that breaks the
// contract fails the test command. tests/e2e/uppy.test.mjs runs the same setup in Chromium.
import AwsS3 from "@uppy/aws-s3";
import Uppy from "@uppy/core";
import { createSignRequest, type PresignableRequest, type PresignedResponse } from "../../web/client.js";

const MiB = 1024 * 1024;

/** An Uppy whose S3 requests the worker signs, with the signed-in person's token. */
export function uploader(token: () => Promise<string>): Uppy {
  const signRequest: (request: PresignableRequest) => Promise<PresignedResponse> =
    createSignRequest({ endpoint: "https://app.example.com/api/uploads", token });
  return new Uppy().use(AwsS3, {
    signRequest,
    shouldUseMultipart: (file) => (file.size ?? 0) > 100 * MiB,
    getChunkSize: () => 8 * MiB,
  });
}

/** Companion mode: same origin, the token in a cookie the worker reads (UPLOAD_AUTH_COOKIE). */
export const companion = (): Uppy => new Uppy().use(AwsS3, { companionEndpoint: `${location.origin}/api/uploads` });
