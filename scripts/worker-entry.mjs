// The worker's entry module (scripts/build.sh copies it to build/worker/shim.mjs): starts the
// wasm once per isolate and hands every request to Rust's `fetch`. A Rust panic aborts as a
// WebAssembly.RuntimeError; the request gets a JSON 500 and the next one a fresh instance,
// so one bad request cannot leave the isolate broken for everyone.
import wasmModule from "../index_bg.wasm";
import { __wbg_reset_state as resetState, fetch as handle, initSync } from "../index.js";

initSync({ module: wasmModule });
let trapped = false;

export default {
  async fetch(request, env, ctx) {
    if (trapped) {
      resetState();
      trapped = false;
    }
    try {
      return await handle(request, env, ctx);
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      trapped = true;
      console.error("wasm trap; the next request gets a fresh instance:", error.message);
      const body = { error: { code: "internal_error", message: "the request could not be handled; try again" } };
      return Response.json(body, { status: 500, headers: { "Cache-Control": "no-store" } });
    }
  },
};
