// Builds the page with esbuild into dist/: the page, the decode worker and the playout worklet as
// ES modules, index.html, and onnxruntime-web's WebAssembly files under dist/ort/ (wasmPaths).
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, "ort"), { recursive: true });

await build({
  entryPoints: { page: "src/page.ts", "decode-worker": "src/decode-worker.ts", "playout-worklet": "src/playout-worklet.ts" },
  absWorkingDir: here,
  outdir: dist,
  bundle: true,
  format: "esm",
  splitting: false,
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
  // Only the wasm-only onnxruntime-web build is used (the worker passes it as `runtime`); the codec's
  // dynamic imports of the other builds never run, so they stay out of the bundle.
  plugins: [
    {
      name: "other-ort-builds-external",
      setup(b) {
        b.onResolve({ filter: /^onnxruntime-web(\/all)?$/ }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
});
copyFileSync(path.join(here, "src/index.html"), path.join(dist, "index.html"));
const ortDist = path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web/wasm"));
for (const file of ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"]) copyFileSync(path.join(ortDist, file), path.join(dist, "ort", file));
console.log(`web receiver built into ${path.relative(process.cwd(), dist) || "."}`);
