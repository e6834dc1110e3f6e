import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    "index": "src/index.ts",
    bin: "src/bin.ts",
    // `pnpm demo` at the repository root runs dist/demo.js.
    demo: "src/demo.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  splitting: false,
  // import.meta.url in the CommonJS build (the demo finds its sample relative to itself).
  shims: true,
  // tsup keeps dependencies and peers external but bundles optional dependencies: naudiodon2 (a
  // native addon, loaded lazily for playback) and node-datachannel (WebRTC for receive --web,
  // loaded lazily) must stay runtime imports.
  external: ["naudiodon2", "node-datachannel"],
});
