// Runs the first ```ts block of README.md as a module that imports "@encstream/codec/node" by
// name (vitest.config.ts maps the name to the sources) on the tiny 24 kHz test model, and checks
// that it prints the ```text block that follows it.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterEach, expect, test, vi } from "vitest";
import { fixturePath } from "./support/fixtures.js";

const packageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const readme = await readFile(path.join(packageDir, "README.md"), "utf8");
const match = /```ts\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(readme);

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.ENCSTREAM_CACHE_DIR;
});

test("the README's first example runs on the tiny model and prints what the README shows", async () => {
  expect(match, "a ```ts block followed by a ```text block").not.toBeNull();
  const [, code, expected] = match as unknown as [string, string, string];
  expect(code).toContain('from "@encstream/codec/node"');
  expect(code).toContain('"./encodec_24khz"');
  expect(code.trim().split("\n").length).toBeLessThanOrEqual(14);
  await mkdir(path.join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(path.join(packageDir, ".tmp", "readme-"));
  process.env.ENCSTREAM_CACHE_DIR = path.join(dir, "cache");
  const file = path.join(dir, "example.mts");
  // The example names the published model's folder; here it runs on the tiny model of the same architecture.
  await writeFile(file, code.replace('"./encodec_24khz"', JSON.stringify(fixturePath("tiny24"))));
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(format(...args));
  });
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  expect(lines.join("\n")).toBe(expected.trimEnd());
});
