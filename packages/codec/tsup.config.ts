import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    "index": "src/index.ts",
    "node": "src/node.ts",
    "web": "src/web.ts",
    // The worker thread of the ./node entry's worker codecs, found beside the bundle at run time.
    "codec-worker": "src/worker/codec-worker.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  splitting: true,
  // import.meta.url in the CommonJS build (the worker codecs locate codec-worker.js with it).
  shims: true,
});
