// What a careful Workers developer writes by hand instead of edge-presign or the SDK: the same
// contract (upload-contract.mjs), the SigV4 POST policy signed with WebCrypto, no dependencies.
import { answer, readUpload, refuseRoute } from "./upload-contract.mjs";

const utf8 = new TextEncoder();
const hmacKey = (raw) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
const hmac = async (key, text) => new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(text)));
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex = (bytes) => { let s = ""; for (const b of bytes) s += HEX[b]; return s; };
const base64 = (text) => { let s = ""; for (const b of utf8.encode(text)) s += String.fromCharCode(b); return btoa(s); };

// The day's signing key (four HMACs), derived once per UTC day per isolate. The promise is
// cached, so concurrent first requests share one derivation.
let day = { date: "", key: null };
function signingKey(env, date) {
  if (day.date !== date) {
    const derive = async () => {
      let raw = utf8.encode(`AWS4${env.AWS_SECRET_ACCESS_KEY}`);
      for (const part of [date, env.S3_REGION, "s3", "aws4_request"]) raw = await hmac(await hmacKey(raw), part);
      return hmacKey(raw);
    };
    // A failed derivation is not kept for the rest of the day.
    day = { date, key: derive().catch((e) => { day = { date: "", key: null }; throw e; }) };
  }
  return day.key;
}

export default {
  async fetch(request, env) {
    const refusal = refuseRoute(request);
    if (refusal) return refusal;
    const upload = await readUpload(request, env);
    if (upload instanceof Response) return upload;

    const nowMs = Date.now();
    const amzDate = new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(/[-:]|\.000/g, ""); // 20261124T120000Z
    const date = amzDate.slice(0, 8);
    const fields = { key: upload.key, ...Object.fromEntries(upload.fields) };
    const signed = {
      "x-amz-algorithm": "AWS4-HMAC-SHA256",
      "x-amz-credential": `${env.AWS_ACCESS_KEY_ID}/${date}/${env.S3_REGION}/s3/aws4_request`,
      "x-amz-date": amzDate,
    };
    // Every field the browser sends is pinned exactly, with the size range, bucket and key.
    const policy = base64(JSON.stringify({
      expiration: new Date((Math.floor(nowMs / 1000) + upload.expires) * 1000).toISOString().replace(".000Z", "Z"),
      conditions: [
        ...upload.fields.map(([name, value]) => ({ [name]: value })),
        ["content-length-range", upload.min, upload.max],
        { bucket: env.S3_BUCKET },
        { key: upload.key },
        ...Object.entries(signed).map(([name, value]) => ({ [name]: value })),
      ],
    }));
    const signature = hex(await hmac(await signingKey(env, date), policy));
    const url = `https://${env.S3_BUCKET}.s3.${env.S3_REGION}.amazonaws.com/`;
    return answer(upload, url, { ...fields, ...signed, policy, "x-amz-signature": signature }, nowMs);
  },
};
