// `createPresignedPost` per call in Node, on the inputs `cargo bench` signs: prints ns/call.
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
    Conditions: [["content-length-range", 1, 123456], { "Content-Type": "image/jpeg" }],
    Fields: { "Content-Type": "image/jpeg" },
    Expires: 600,
  });
for (let i = 0; i < 2000; i++) await sign(); // warm-up: JIT, the SDK's key cache
let calls = 0;
const started = process.hrtime.bigint();
while (process.hrtime.bigint() - started < 2_000_000_000n) {
  await sign();
  calls++;
}
console.log(`BENCH sdk_per_call ${Number(process.hrtime.bigint() - started) / calls}`);
