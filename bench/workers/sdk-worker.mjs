// The JavaScript worker edge-presign replaces: the same request and answer, signed by the AWS
// SDK's `createPresignedPost`. bench/run bundles it with esbuild (minified) and loads it in the
// same workerd as ours.
import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

let client; // per isolate, as the seed's Lambda keeps its boto3 client

export default {
  async fetch(request, env) {
    client ??= new S3Client({
      region: env.S3_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    const { file_name: fileName, content_type: contentType, size } = await request.json();
    const name = String(fileName).toLowerCase().replace(/[^\p{L}\p{N}._()-]+/gu, "-");
    const key = `${env.UPLOAD_PREFIX}${crypto.randomUUID()}/${name}`;
    const expires = Number(env.UPLOAD_EXPIRES_SECONDS);
    const { url, fields } = await createPresignedPost(client, {
      Bucket: env.S3_BUCKET,
      Key: key,
      Conditions: [["content-length-range", 1, size], { "Content-Type": contentType }],
      Fields: { "Content-Type": contentType },
      Expires: expires,
    });
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + expires * 1000).toISOString();
    return Response.json(
      { url, fields, key, expires_at: expiresAt, max_bytes: size },
      { headers: { "Cache-Control": "no-store" } },
    );
  },
};
