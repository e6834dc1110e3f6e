import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // README examples import the package by name; tests run them against the sources (no build needed).
    alias: [
      { find: /^@encstream\/codec\/node$/, replacement: src("node.ts") },
      { find: /^@encstream\/codec\/web$/, replacement: src("web.ts") },
      { find: /^@encstream\/codec$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
