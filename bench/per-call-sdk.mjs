// `createPresignedPost` per call in Node, on the inputs `cargo bench` signs: prints
// `BENCH sdk_per_call <ns>` for bench/run. Warm-up first (JIT, the SDK's signing-key cache).
import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

const client = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
});
const sign = () =>
  createPresignedPost(client, {
    Bucket: "photos",
    Key: `uploads/${crypto.randomUUID()}/holiday-photo.jpg`,
    Fields: { "Content-Type": "image/jpeg" },
    Conditions: [{ "Content-Type": "image/jpeg" }, ["content-length-range", 1, 123456]],
    Expires: 600,
  });

const first = await sign();
if (!first.fields?.Policy || !first.fields["X-Amz-Signature"]) throw new Error(`unexpected form: ${JSON.stringify(first)}`);
for (let i = 0; i < 2000; i++) await sign();
let calls = 0;
const started = process.hrtime.bigint();
while (process.hrtime.bigint() - started < 1_500_000_000n) {
  await sign();
  calls++;
}
console.log(`BENCH sdk_per_call ${(Number(process.hrtime.bigint() - started) / calls).toFixed(1)}`);
console.log(`BENCHINFO node ${process.version}`);
