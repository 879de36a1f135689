// The JavaScript worker edge-presign replaces: the same request and answer (upload-contract.mjs),
// signed by the AWS SDK's `createPresignedPost`. bench/run bundles it with esbuild (minified, ES
// module, browser platform) and loads it in the same workerd as ours, with the same bindings.
import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { answer, readUpload, refuseRoute } from "./upload-contract.mjs";

let client; // per isolate, as ours keeps its settings and signing key

// Signs `upload` and answers; sdk-jose-worker.mjs reuses it after checking the token.
export async function signAndAnswer(upload, env) {
  client ??= new S3Client({
    region: env.S3_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  const nowMs = Date.now();
  // The SDK pins every field it is given (and bucket, key and its own x-amz-* fields).
  const form = await createPresignedPost(client, {
    Bucket: env.S3_BUCKET,
    Key: upload.key,
    Conditions: [["content-length-range", upload.min, upload.max]],
    Fields: Object.fromEntries(upload.fields),
    Expires: upload.expires,
  });
  return answer(upload, form.url, form.fields, nowMs);
}

export default {
  async fetch(request, env) {
    const refusal = refuseRoute(request);
    if (refusal) return refusal;
    const upload = await readUpload(request, env);
    return upload instanceof Response ? upload : signAndAnswer(upload, env);
  },
};
