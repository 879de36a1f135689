// web/client.d.ts must refuse wrong calls, not only accept right ones. tsc checks, in one run,
// a copy of examples/typescript/usage.ts (which must still pass: the copy is made correctly)
// and one small file per wrong call, each of which must fail on the line of that call.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./harness.mjs";

const CLIENT = join(ROOT, "web/client.js");
const WRONG_CALLS = [
  'uploadFile(file, { method: "PATCH" });', // not a method the worker signs
  "uploadFile(file, { token: 42 });", // a token is a string or gives one
  'uploadFile(file, { token: async () => ({ jwt: "x" }) });',
  'uploadFile(file, { endpiont: "https://uploads.example.com" });', // a misspelt option
  'uploadFile("cat.png");', // a name is not a File
  "uploadFiles([file], { onProgress: (p: Progress) => p.fraction });", // (index, progress)
  'uploadFiles([file], { concurrency: "3" });',
  "downloadUrl(file);",
  'new UploadError("aborted");', // the message is required
  'const source: UploadError["source"] = "bucket";',
  'uploadFile(file, { multipart: "always" });', // true, false or "auto"
  'uploadMultipart(file, { partSize: "8 MiB" });',
  'listParts({ key: "uploads/k" });', // an upload is its key and its uploadId
  "createSignRequest({ token: 42 });",
  'createSignRequest()({ method: "PATCH", key: "k" });', // Uppy asks for S3's methods only
];
const HEADER = `import { uploadFile, uploadFiles, downloadUrl, UploadError, uploadMultipart, listParts, createSignRequest, type Progress } from ${JSON.stringify(CLIENT)};
declare const file: File;
`;
const WRONG_LINE = 3;

test("tsc accepts usage.ts and refuses each wrong call to the client", async () => {
  const dir = await mkdtemp(join(tmpdir(), "edge-presign-types-"));
  try {
    const usage = await readFile(join(ROOT, "examples/typescript/usage.ts"), "utf8");
    const copied = usage.replace('"../../web/client.js"', JSON.stringify(CLIENT));
    assert.notEqual(copied, usage, "usage.ts imports ../../web/client.js");
    await writeFile(join(dir, "usage.ts"), copied);
    const wrong = WRONG_CALLS.map((_, i) => `wrong-${i}.ts`);
    await Promise.all(wrong.map((name, i) => writeFile(join(dir, name), HEADER + WRONG_CALLS[i] + "\n")));
    await writeFile(join(dir, "tsconfig.json"), JSON.stringify({
      extends: join(ROOT, "examples/typescript/tsconfig.json"),
      files: ["usage.ts", ...wrong],
    }));

    const run = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", dir, "--pretty", "false"], { encoding: "utf8" });
    const output = run.stdout + run.stderr;
    assert.notEqual(run.status, 0, `tsc passed a wrong call:\n${output}`);
    // Lines such as: wrong-0.ts(3,20): error TS2322: Type '"PATCH"' is not assignable …
    const errors = [...output.matchAll(/([\w.-]+\.ts)\((\d+),\d+\): error (TS\d+)/g)]
      .map(([, file, line, code]) => ({ file, line: Number(line), code }));
    assert.deepEqual(errors.filter((e) => e.file === "usage.ts"), [], output);
    for (const [i, name] of wrong.entries()) {
      const mine = errors.filter((e) => e.file === name);
      assert.ok(mine.length > 0, `tsc accepted ${WRONG_CALLS[i]}\n${output}`);
      assert.ok(mine.every((e) => e.line === WRONG_LINE), `${name}: errors only on the wrong call\n${output}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
