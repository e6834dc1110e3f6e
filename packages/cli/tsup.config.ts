import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    "index": "src/index.ts",
    bin: "src/bin.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  splitting: false,
  // tsup keeps dependencies and peers external but bundles optional dependencies: naudiodon2 (a
  // native addon, loaded lazily for playback) must stay a runtime import.
  external: ["naudiodon2"],
});
