// The worker's entry module (scripts/build.sh copies it to build/worker/shim.mjs): starts the
// wasm once per isolate and hands every request to Rust's `fetch`. A Rust panic aborts as a
// WebAssembly.RuntimeError: the instance is replaced, and that request and every other one
// still in flight on the broken instance get the JSON 500 (with CORS) from the fresh one, so
// one bad request cannot leave the isolate, or its other callers, hanging.
import wasmModule from "../index_bg.wasm";
import { __wbg_reset_state as resetState, fetch as handle, initSync, internal_error as internalError, queue as consume } from "../index.js";

const BROKEN = Symbol("instance replaced");
/**
 * How to end each request in flight on the current instance. Each request makes its own
 * promise: a promise made in one request cannot be awaited by another (workerd).
 */
let inFlight = new Set();

function replaceInstance() {
  const broken = inFlight;
  inFlight = new Set();
  try {
    resetState();
  } catch (error) {
    // The next request tries again; this one and the others in flight are answered below.
    console.error("the wasm instance could not be replaced:", String(error?.message ?? error));
  } finally {
    for (const end of broken) end(BROKEN);
  }
}

// Rust's async handlers run as microtasks (wasm-bindgen-futures queues them with
// `queueMicrotask`): anything thrown there (a trap, or a JS exception Rust raised) would
// escape every `await`, leave its request hanging and perhaps a RefCell borrowed. Caught
// here, it replaces the instance like a trap anywhere else. Only this worker's own code
// queues microtasks, so nothing else is caught.
const queueMicrotask = globalThis.queueMicrotask.bind(globalThis);
globalThis.queueMicrotask = (task) =>
  queueMicrotask(() => {
    try {
      task();
    } catch (error) {
      const kind = error instanceof WebAssembly.RuntimeError ? "wasm trap" : "exception";
      console.error(`${kind} in a task; a fresh instance answers from now on:`, String(error?.message ?? error));
      replaceInstance();
    }
  });

initSync({ module: wasmModule });

export default {
  // The Queues consumer of upload.completed events: Rust acks or retries each message. If the
  // instance fails, every message is retried (on a fresh instance), none is lost.
  async queue(batch, env, ctx) {
    try {
      await consume(batch, env, ctx);
    } catch (error) {
      replaceInstance();
      console.error("wasm failure in the queue consumer; its messages are retried:", String(error?.message ?? error));
      batch.retryAll({ delaySeconds: 5 });
    }
  },

  async fetch(request, env, ctx) {
    const mine = inFlight;
    const { promise: replaced, resolve: end } = Promise.withResolvers();
    mine.add(end);
    try {
      const response = await Promise.race([handle(request, env, ctx), replaced]);
      if (response !== BROKEN) return response;
    } catch (error) {
      // Only a failure of the current instance replaces it (not one of the old's stragglers).
      if (mine === inFlight) replaceInstance();
      console.error("wasm failure; a fresh instance answers from now on:", String(error?.message ?? error));
    } finally {
      mine.delete(end);
    }
    try {
      return internalError(request, env);
    } catch {
      const body = { error: { code: "internal_error", message: "the request could not be handled; try again" } };
      return Response.json(body, { status: 500, headers: { "Cache-Control": "no-store" } });
    }
  },
};
