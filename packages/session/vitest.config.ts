import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The README example imports the package by name; point the name at the sources so the test
  // runs without a build (the built dist is checked by publint, attw and the browser-bundle test).
  resolve: {
    alias: { "@encstream/session": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
