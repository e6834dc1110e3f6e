// Runs the first ```typescript block of the README's "## Streaming" section on the tiny 24 kHz
// test model, its imports of "@encstream/codec" and "@encstream/codec/node" pointed at the
// sources, and checks that it prints the ```text block after it.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterEach, expect, test, vi } from "vitest";
import { fixturePath } from "./support/fixtures.js";

const packageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const readme = await readFile(path.join(packageDir, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("\n## Streaming\n"));
const match = /```typescript\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(section);

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.ENCSTREAM_CACHE_DIR;
});

test("the README's streaming example runs on the tiny model and prints what the README shows", async () => {
  expect(readme).toContain("\n## Streaming\n");
  expect(match, "a ```typescript block followed by a ```text block").not.toBeNull();
  const [, code, expected] = match as unknown as [string, string, string];
  expect(code).toContain('"./encodec_24khz"');
  await mkdir(path.join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(path.join(packageDir, ".tmp", "readme-streaming-"));
  process.env.ENCSTREAM_CACHE_DIR = path.join(dir, "cache");
  const file = path.join(dir, "example.mts");
  // The example names the published model's folder; here it runs on the tiny model of the same architecture.
  const source = (entry: string) => JSON.stringify(path.join(packageDir, "src", entry));
  await writeFile(
    file,
    code
      .replace('"./encodec_24khz"', JSON.stringify(fixturePath("tiny24")))
      .replaceAll('from "@encstream/codec/node"', `from ${source("node.ts")}`)
      .replaceAll('from "@encstream/codec"', `from ${source("index.ts")}`),
  );
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
