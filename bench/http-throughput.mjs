// Requests per second and latency of POST /uploads under `wrangler dev` (local workerd) on
// loopback. Bounded: REQUESTS requests (default 3000) at CONCURRENCY (default 16), then stops.
//   bash -c 'source scripts/env.sh && bash scripts/build.sh && node bench/http-throughput.mjs'
// No S3 is contacted while signing, so none is started; the endpoint is a placeholder.
import { performance } from "node:perf_hooks";
import { startWorker, stopAll } from "../scripts/stack.mjs";

const REQUESTS = Number(process.env.REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const placeholderS3 = {
  bucket: "bench",
  url: "http://127.0.0.1:9",
  accessKey: "AKIAIOSFODNN7EXAMPLE",
  secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

const worker = await startWorker(placeholderS3);

/** Sends REQUESTS requests at CONCURRENCY; prints requests/s and latency percentiles. */
async function measure(label, url, init) {
  const send = async () => {
    const started = performance.now();
    const response = await fetch(url, init);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${label}: status ${response.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 200; i++) await send(); // warm-up: isolate start, JIT, signing key
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        latencies.push(await send());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  console.log(
    `${label.padEnd(44)} ${(latencies.length / seconds).toFixed(0).padStart(6)} req/s   p50 ${pct(50)} ms   p99 ${pct(99)} ms`,
  );
}

try {
  console.log(`wrangler dev on loopback, ${REQUESTS} requests per line, concurrency ${CONCURRENCY}`);
  // The baseline shows what wrangler dev's local proxy costs on its own.
  await measure("GET /healthz (baseline: no signing)", `${worker.url}/healthz`);
  await measure("POST /uploads (parse, sign, answer)", `${worker.url}/uploads`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ file_name: "holiday photo.JPG", content_type: "image/jpeg", size: 123456 }),
  });
} finally {
  await worker.stop();
  await stopAll();
}
