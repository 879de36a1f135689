// Builds the browser examples into web/examples/ (git-ignored), where the worker serves them
// when DEMO_PAGE is on: esbuild bundles each app with its packages and the local
// web/client.js into one module.
//   examples/react/ → web/examples/react/  the seed's form, with React
//   examples/uppy/  → web/examples/uppy/   @uppy/core + @uppy/dashboard + @uppy/aws-s3 against the
//                                          worker; their CSS (imported by app.js) goes to app.css
// Run by scripts/test.sh and scripts/dev.sh before the stack starts.
import { build } from "esbuild";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLES = [
  { name: "react", entry: "app.jsx" },
  { name: "uppy", entry: "app.js" },
];

for (const { name, entry } of EXAMPLES) {
  const out = join(ROOT, "web/examples", name);
  const bundled = await build({
    entryPoints: [join(ROOT, "examples", name, entry)],
    outfile: join(out, "app.js"),
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
    { path: join(out, "index.html"), bytes: await readFile(join(ROOT, "examples", name, "index.html")) },
  ];
  // Only changed files are written: scripts/build.sh rebuilds the worker when anything under
  // web/ is newer than its last build, and an unchanged example must not cost that.
  await mkdir(out, { recursive: true });
  for (const { path, bytes } of files) {
    const old = await readFile(path).catch(() => null);
    if (!old?.equals(bytes)) await writeFile(path, bytes);
  }
}
