// Builds examples/react/ into web/examples/react/ (git-ignored), where the worker serves it
// when DEMO_PAGE is on: esbuild bundles the app, React and the local web/client.js into one
// module. Run by scripts/test.sh and scripts/dev.sh before the stack starts.
import { build } from "esbuild";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "web/examples/react");

const bundled = await build({
  entryPoints: [join(ROOT, "examples/react/app.jsx")],
  outfile: join(OUT, "app.js"),
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' }, // React's production build
  write: false,
  logLevel: "warning",
});
const files = [
  ...bundled.outputFiles.map((f) => ({ path: f.path, bytes: Buffer.from(f.contents) })),
  { path: join(OUT, "index.html"), bytes: await readFile(join(ROOT, "examples/react/index.html")) },
];

// Only changed files are written: scripts/build.sh rebuilds the worker when anything under
// web/ is newer than its last build, and an unchanged example must not cost that.
await mkdir(OUT, { recursive: true });
for (const { path, bytes } of files) {
  const old = await readFile(path).catch(() => null);
  if (!old?.equals(bytes)) await writeFile(path, bytes);
}
