// Before any load: one POST /uploads to a worker in workerd must answer 200 with the expected
// JSON shape, or bench/run stops here with the answer (a benchmark of error pages is worthless).
//   node bench/check.mjs <ours|sdk|trivial> <port> <file to save the answer in>
import { writeFileSync } from "node:fs";

const [name, port, saveTo] = process.argv.slice(2);
const body = JSON.stringify({ file_name: "holiday photo.JPG", content_type: "image/jpeg", size: 123456 });
const url = `http://127.0.0.1:${port}/uploads`;

let response;
for (let i = 0; i < 100 && !response; i++) {
  try {
    response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 100)); // workerd still starting
  }
}
if (!response) throw new Error(`${name}: nothing answers on ${url}`);
const text = await response.text();
let json;
try {
  json = JSON.parse(text);
} catch {
  json = undefined;
}

// A signed form: {url, fields: {key, Content-Type, policy, signature…}, key, expires_at, max_bytes}.
const lower = (fields) => Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
const isForm = (j) => {
  const f = lower(j?.fields);
  return (
    typeof j?.url === "string" &&
    /^uploads\/[0-9a-f-]{36}\/holiday-photo\.jpg$/.test(j.key) &&
    f.key === j.key &&
    f["content-type"] === "image/jpeg" &&
    typeof f.policy === "string" &&
    /^[0-9a-f]{64}$/.test(f["x-amz-signature"]) &&
    f["x-amz-algorithm"] === "AWS4-HMAC-SHA256" &&
    /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request$/.test(f["x-amz-credential"]) &&
    typeof j.expires_at === "string" &&
    j.max_bytes === 123456
  );
};
const expected = {
  ours: isForm,
  sdk: isForm,
  trivial: (j) => j?.ok === true && j.file_name === "holiday photo.JPG",
}[name];

if (response.status !== 200 || !expected(json)) {
  console.error(`${name} on ${url} did not answer as expected: ${response.status}\n${text}`);
  process.exit(1);
}
writeFileSync(saveTo, `${JSON.stringify(json, null, 2)}\n`);
