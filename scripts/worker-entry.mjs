// The worker's entry module (scripts/build.sh copies it to build/worker/shim.mjs): starts the
// wasm once per isolate and hands every request to Rust's `fetch`. A Rust panic aborts as a
// WebAssembly.RuntimeError: that request, and any other still in flight on the broken
// instance, get the JSON 500 (with CORS) from a fresh instance, so one bad request cannot
// leave the isolate broken for everyone.
import wasmModule from "../index_bg.wasm";
import { __wbg_reset_state as resetState, fetch as handle, initSync, internal_error as internalError } from "../index.js";

initSync({ module: wasmModule });
// Counts instances; a failure only resets the instance it happened on.
let instance = 0;

export default {
  async fetch(request, env, ctx) {
    const mine = instance;
    try {
      return await handle(request, env, ctx);
    } catch (error) {
      if (mine === instance) {
        instance++;
        resetState();
      }
      console.error("wasm failure; a fresh instance answers from now on:", String(error?.message ?? error));
      try {
        return internalError(request, env);
      } catch {
        const body = { error: { code: "internal_error", message: "the request could not be handled; try again" } };
        return Response.json(body, { status: 500, headers: { "Cache-Control": "no-store" } });
      }
    }
  },
};
