// The SDK worker behind an HS256 bearer token, verified with `jose`: a bad or missing token is
// refused with 401, and the key goes under the caller's `sub` (`uploads/<sub>/<uuid>/<name>`).
import { jwtVerify } from "jose";
import { fail, readUpload, refuseRoute } from "./upload-contract.mjs";
import { signAndAnswer } from "./sdk-worker.mjs";

let secret; // imported once per isolate

export default {
  async fetch(request, env) {
    const refusal = refuseRoute(request);
    if (refusal) return refusal;
    const token = /^Bearer ([\w.-]+)$/.exec(request.headers.get("Authorization") ?? "")?.[1];
    if (!token) return fail(401, "unauthorized", "an Authorization: Bearer token is required");
    secret ??= await crypto.subtle.importKey("raw", new TextEncoder().encode(env.UPLOAD_AUTH_SECRET),
      { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    let sub;
    try {
      ({ payload: { sub } } = await jwtVerify(token, secret, { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] }));
    } catch {
      return fail(401, "unauthorized", "the token is not valid");
    }
    // Only a `sub` that is one safe key segment (edge-presign encodes the others instead).
    if (!/^[a-z0-9-]{1,96}$/.test(sub)) return fail(401, "unauthorized", "the token's sub cannot be a key segment");
    const upload = await readUpload(request, env, `${env.UPLOAD_PREFIX}${sub}/`);
    return upload instanceof Response ? upload : signAndAnswer(upload, env);
  },
};
