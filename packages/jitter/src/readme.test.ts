// Runs the first ```ts block of README.md as a module that imports "@encstream/jitter" by name
// (vitest.config.ts maps the name to src/index.ts, so no build is needed) and checks that it
// prints exactly the ```text block that follows it in the README.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterEach, expect, test, vi } from "vitest";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

afterEach(() => {
  vi.restoreAllMocks();
});

test("the README example runs and prints the output the README shows", async () => {
  const readme = await readFile(join(packageDir, "README.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```[\s\S]*?```text\n([\s\S]*?)```/.exec(readme);
  expect(match, "README.md has a ```ts block followed by a ```text block").not.toBeNull();
  const [, example, expected] = match as RegExpExecArray;
  expect(example).toContain('from "@encstream/jitter"');
  expect(example!.trim().split("\n").length).toBeLessThanOrEqual(12);

  await mkdir(join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(packageDir, ".tmp", "readme-"));
  const file = join(dir, "example.mts");
  await writeFile(file, example!);
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(format(...args));
  });
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  expect(lines.join("\n")).toBe(expected!.trimEnd());
});
