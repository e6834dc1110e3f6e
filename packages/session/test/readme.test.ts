// Runs the README's ```ts block with the tiny 24 kHz model in place of "./encodec_24khz" (the
// package name resolves to src/index.ts, see vitest.config.ts) and checks it prints the ```text block.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { expect, test, vi } from "vitest";
import { FIXTURES_DIR } from "./support/tiny-codec.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

test("the README example sends a tone over the in-memory transport and receives all of it", async () => {
  const readme = await readFile(join(packageDir, "README.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(readme);
  expect(match, "README.md has a ```ts block followed by its ```text output").not.toBeNull();
  const [, code, expected] = match!;
  expect(code).toContain('"./encodec_24khz"');
  await mkdir(join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(packageDir, ".tmp", "readme-"));
  process.env.ENCSTREAM_CACHE_DIR = join(dir, "cache");
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(format(...args)));
  try {
    const file = join(dir, "example.mts");
    await writeFile(file, code!.replace('"./encodec_24khz"', JSON.stringify(join(FIXTURES_DIR, "tiny24"))));
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    log.mockRestore();
    delete process.env.ENCSTREAM_CACHE_DIR;
    await rm(dir, { recursive: true, force: true });
  }
  expect(lines.join("\n")).toBe(expected!.trim());
});
