// Cold starts: for each worker, several fresh workerd processes (one worker each, port chosen by
// workerd and reported on --control-fd), each answering one POST /uploads. Prints, per start,
// `COLD <worker> <ms from spawn to listening> <ms of the first request>`. Workers are alternated
// within each start round so drift spreads over all; a first, discarded round warms Node up.
//   BENCH_TOKEN=… node bench/cold-start.mjs <workerd> <config dir> <starts> <worker>…
// Each worker's config is <config dir>/cold-<worker>.capnp, its socket named "http".
import { spawn } from "node:child_process";
import http from "node:http";
import { join } from "node:path";

const [workerd, dir, starts, ...workers] = process.argv.slice(2);
const extra = process.env.WORKERD_FLAGS ? process.env.WORKERD_FLAGS.split(" ") : [];
const body = JSON.stringify({ file_name: "holiday photo.JPG", content_type: "image/jpeg", size: 123456 });
const token = { "ours-hs256": true, "sdk-jose": true };

const post = (port, worker) => new Promise((resolve, reject) => {
  const headers = { "Content-Type": "application/json" };
  if (token[worker]) headers.Authorization = `Bearer ${process.env.BENCH_TOKEN}`;
  const request = http.request({ host: "127.0.0.1", port, path: "/uploads", method: "POST", headers, agent: false }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${worker}: status ${res.statusCode}`))));
  });
  request.on("error", reject);
  request.end(body);
});

async function once(worker) {
  const started = performance.now();
  const child = spawn(workerd, ["serve", join(dir, `cold-${worker}.capnp`), "--control-fd", "3", ...extra], {
    stdio: ["ignore", "ignore", "inherit", "pipe"],
  });
  try {
    const port = await new Promise((resolve, reject) => {
      let seen = "";
      child.stdio[3].on("data", (chunk) => {
        seen += chunk;
        const m = /"event":"listen".*?"port":(\d+)/.exec(seen);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", (code) => reject(new Error(`${worker}: workerd exited (${code}) before listening`)));
      setTimeout(() => reject(new Error(`${worker}: workerd did not listen within 20 s`)), 20_000).unref();
    });
    const listening = performance.now();
    await post(port, worker);
    return [listening - started, performance.now() - listening];
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    }
  }
}

for (let round = 0; round <= Number(starts); round++) {
  // Rotate the order each round, so no worker always follows the same one.
  const order = workers.map((_, i) => workers[(i + round) % workers.length]);
  for (const worker of order) {
    const [start, first] = await once(worker);
    if (round > 0) console.log(`COLD ${worker} ${start.toFixed(2)} ${first.toFixed(2)}`);
  }
}
