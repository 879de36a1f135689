// The recipes of the README and of docs/, run as a reader pastes them, in the order the README
// links the pages. A recipe is a fenced block whose info
// string is `sh recipe` (GitHub highlights it as `sh` and ignores the second word). Each runs
// in bash, in order and in one temporary directory (later recipes read files earlier ones
// wrote, such as put.json), against a fresh local stack: only the documented addresses
// http://127.0.0.1:8787 (worker) and http://127.0.0.1:9000 (S3) are replaced by the started
// servers' URLs. What the README prints beside a recipe is what it must answer:
//   - a trailing comment `# 204 No Content` on a line: the last HTTP status line it printed;
//   - a ```json block right after it (before the next heading): its answer has the same keys,
//     at every depth, with values of the same JSON kinds.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { ROOT, requestUpload, startS3, startWorker, stopAll, uploadWithForm } from "./harness.mjs";

const WORKER = "http://127.0.0.1:8787";
const S3 = "http://127.0.0.1:9000";

/** The marked recipes of `markdown`, each with its expected status and JSON answer. */
function recipes(markdown, file) {
  const found = [];
  let block = null; // the fenced block being read: {info, lines, line}
  let last = null; // the recipe still waiting for a ```json block under the same heading
  markdown.split("\n").forEach((text, index) => {
    const fence = /^ {0,3}```+([^`]*)$/.exec(text); // CommonMark: no backtick in the info string
    if (block) {
      if (!fence) return block.lines.push(text);
      const body = block.lines.join("\n");
      if (block.info === "sh recipe") {
        const status = [...body.matchAll(/#\s*(\d{3} [A-Za-z][A-Za-z -]*?)\s*$/gm)].pop()?.[1];
        last = { file, line: block.line, script: body, status, json: undefined };
        found.push(last);
      } else {
        if (last && block.info === "json") last.json = JSON.parse(body);
        last = null; // only the block right after a recipe is its answer
      }
      block = null;
    } else if (fence) {
      block = { info: fence[1].trim(), lines: [], line: index + 1 };
    } else if (/^#{1,6} /.test(text)) {
      last = null;
    }
  });
  return found;
}

/** The JSON kind of a value, and for objects and arrays the shapes inside. */
function shape(value) {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape(value[k])]));
  }
  return value === null ? "null" : typeof value;
}

// Every page with recipes or snippets, README first (docs in the order its contents list them).
const PAGES = ["README.md", "docs/api.md", "docs/authentication.md", "docs/browser-and-uppy.md",
  "docs/events.md", "docs/configuration.md", "docs/deploying.md", "docs/measured.md", "docs/testing.md", "docs/design.md"];
const TEXTS = await Promise.all(PAGES.map((page) => readFile(join(ROOT, page), "utf8")));
const RECIPES = PAGES.flatMap((page, i) => recipes(TEXTS[i], page));
const README = TEXTS.join("\n");

let s3;
let worker;
let dir;

before(async () => {
  for (const tool of ["bash", "curl", "jq"]) {
    const found = spawnSync("bash", ["-c", `command -v ${tool}`]).status === 0;
    assert.ok(found, `the README's recipes need ${tool} (bash scripts/setup.sh installs it)`);
  }
  s3 = await startS3({ cors: true, bucket: "edge-presign-dev" }); // the bucket the README shows
  worker = await startWorker(s3);
  dir = await mkdtemp(join(tmpdir(), "edge-presign-readme-"));
});

after(async () => {
  await worker?.stop();
  await s3?.stop();
  await stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `script` in bash, stopping at the first failing command; resolves with its output. */
function bash(script) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", script], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading) => heading.replace(/^#+\s*/, "").toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, "").replaceAll(" ", "-");

test("the README is a front door, and every link between the pages lands on a heading", async () => {
  assert.ok(TEXTS[0].split("\n").length <= 250, "README.md stays within 250 lines: depth goes to docs/");
  const anchors = new Map(PAGES.map((page, i) => [page, new Set(TEXTS[i].split("\n").filter((l) => /^#{1,6} /.test(l)).map(anchorOf))]));
  for (const [i, page] of PAGES.entries()) {
    for (const [, target, anchor] of TEXTS[i].matchAll(/\]\(((?!https?:)[^)#\s]*)(?:#([^)\s]+))?\)/g)) {
      const file = target ? join(page, "..", target).replace(/^\.\//, "") : page;
      const known = anchors.get(file) ?? new Set((await readFile(join(ROOT, file), "utf8")).split("\n").filter((l) => /^#{1,6} /.test(l)).map(anchorOf));
      if (anchor) assert.ok(known.has(anchor), `${page}: the link to ${target || ""}#${anchor} lands on no heading`);
    }
  }
});

test("the README marks its recipes, and each says what it answers", () => {
  assert.ok(RECIPES.length >= 6, `expected the README's recipes, found ${RECIPES.length}`);
  for (const r of RECIPES) {
    assert.ok(r.status || r.json, `${r.file}:${r.line}: a recipe needs a '# 200 OK' comment or a json block after it`);
  }
});

for (const recipe of RECIPES) {
  test(`${recipe.file}:${recipe.line} runs as printed`, async () => {
    const script = recipe.script.replaceAll(WORKER, worker.url).replaceAll(S3, s3.url);
    const run = await bash(script);
    const shown = `\n--- recipe\n${script}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
    assert.equal(run.code, 0, `exit status ${run.code}${shown}`);
    if (recipe.status) {
      const got = [...run.stdout.matchAll(/^HTTP\/[\d.]+ (\d{3} [^\r\n]*?)\r?$/gm)].pop()?.[1];
      assert.equal(got, recipe.status, `HTTP status${shown}`);
    }
    if (recipe.json) {
      let answer;
      try {
        answer = JSON.parse(run.stdout);
      } catch {
        assert.fail(`the json block after it expects JSON on stdout${shown}`);
      }
      assert.deepEqual(shape(answer), shape(recipe.json), `the answer's keys differ from the README's${shown}`);
    }
  });
}

/** The blocks fenced ```` ```js mint ```` and ```` ```python mint ````: token minting for a backend. */
function mintSnippets(markdown) {
  return [...markdown.matchAll(/^```(js|python) mint\n([\s\S]*?)^```$/gm)].map((m) => ({ language: m[1], code: m[2] }));
}

test("the README's token minting, in Node and in Python, gives tokens the worker accepts", async (t) => {
  const snippets = mintSnippets(README);
  assert.deepEqual(snippets.map((s) => s.language).sort(), ["js", "python"]);
  const secret = "a-readme-secret-of-at-least-32-bytes!";
  const authed = await startWorker(s3, {}, { secrets: { UPLOAD_AUTH_SECRET: secret } });
  t.after(() => authed.stop());
  for (const { language, code } of snippets) {
    // Each snippet leaves its token in `token`: print it.
    const [command, args, source] =
      language === "js"
        ? ["node", ["--input-type=module", "-e"], `${code}\nconsole.log(token);`]
        : ["python3", ["-c"], `${code}\nprint(token)`];
    const run = spawnSync(command, [...args, source], { env: { ...process.env, UPLOAD_AUTH_SECRET: secret }, encoding: "utf8" });
    assert.equal(run.status, 0, `${language}: ${run.stderr}`);
    const token = run.stdout.trim();
    const res = await fetch(`${authed.url}/uploads`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ file_name: "from-readme.txt", size: 5 }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, `${language}: ${JSON.stringify(body)}`);
    assert.match(body.key, /^uploads\/user-42\//, language);
    const refused = await fetch(`${authed.url}/uploads`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ file_name: "x.txt" }),
    });
    assert.equal(refused.status, 401);
  }
});

/** The blocks fenced ```` ```js verify ```` and ```` ```python verify ````: a backend verifying an event. */
function verifySnippets(markdown) {
  return [...markdown.matchAll(/^```(js|python) verify\n([\s\S]*?)^```$/gm)].map((m) => ({ language: m[1], code: m[2] }));
}

/** Runs a verify snippet with `body` and `headers` defined as a backend's handler has them. */
function runVerify({ language, code }, delivery, secret) {
  const input = JSON.stringify(delivery);
  const [command, args, source] = language === "js"
    ? ["node", ["--input-type=module", "-e"],
      `import { readFileSync } from "node:fs";\nconst { body, headers } = JSON.parse(readFileSync(0, "utf8"));\n${code}`]
    : [join(process.env.PY_TOOLS ?? "", "bin/python"), ["-c"],
      `import json, sys\n_delivery = json.load(sys.stdin)\nbody, headers = _delivery["body"], _delivery["headers"]\n${code}`];
  return spawnSync(command, [...args, source], { cwd: ROOT, input, env: { ...process.env, UPLOAD_WEBHOOK_SECRET: secret }, encoding: "utf8" });
}

test("the README's event verification, in Node and in Python, accepts a real delivery and refuses a forged one", async (t) => {
  const snippets = verifySnippets(README);
  assert.deepEqual(snippets.map((s) => s.language).sort(), ["js", "python"]);
  const deliveries = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      deliveries.push({ body, headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])) });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const hooked = await startWorker(s3, { UPLOAD_WEBHOOK_URL: `http://127.0.0.1:${server.address().port}/` },
    { secrets: { UPLOAD_WEBHOOK_SECRET: secret } });
  t.after(() => hooked.stop());
  const bytes = Buffer.from("verified by the README");
  const form = await requestUpload(hooked.url, { file_name: "readme.txt", content_type: "text/plain", size: bytes.length });
  assert.equal((await uploadWithForm(form, bytes, { type: "text/plain" })).status, 204);
  const res = await fetch(`${hooked.url}/uploads/complete`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key: form.key, size: bytes.length }),
  });
  assert.equal(res.status, 200, await res.text());
  for (let waited = 0; deliveries.length === 0 && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  assert.equal(deliveries.length, 1, "one delivery");
  for (const snippet of snippets) {
    const run = runVerify(snippet, deliveries[0], secret);
    assert.equal(run.status, 0, `${snippet.language}: ${run.stderr}`);
    assert.equal(run.stdout.trim(), `${form.key} ${bytes.length}`, snippet.language);
    const forged = { ...deliveries[0], body: deliveries[0].body.replace(`"size":${bytes.length}`, `"size":1`) };
    assert.notEqual(forged.body, deliveries[0].body);
    assert.notEqual(runVerify(snippet, forged, secret).status, 0, `${snippet.language} refuses a changed body`);
  }
});
