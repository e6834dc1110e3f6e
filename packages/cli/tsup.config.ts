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
  // Code splitting (tsup's default: the ESM build only, the CommonJS one stays one file a
  // entry): the command modules that main.ts imports when a command runs become chunks of their
  // own, so `encstream receive` loads none of send's, encode's or the web relay's code.
  // import.meta.url in the CommonJS build (the demo finds its sample relative to itself).
  shims: true,
  // tsup keeps dependencies and peers external but bundles optional dependencies: naudiodon2 (a
  // native addon, loaded lazily for playback) and node-datachannel (WebRTC for receive --web,
  // loaded lazily) must stay runtime imports.
  external: ["naudiodon2", "node-datachannel"],
});
