// Runs the ```ts blocks of README.md as modules that import "@encstream/packet" by name
// (vitest.config.ts maps the name to src/index.ts, so no build is needed) and checks their output.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, expect, test, vi } from "vitest";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

afterEach(() => {
  vi.restoreAllMocks();
});

async function runBlock(index: number): Promise<unknown[][]> {
  const readme = await readFile(join(packageDir, "README.md"), "utf8");
  const example = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)][index]?.[1];
  expect(example, `README.md has ${index + 1} \`\`\`ts blocks`).toBeDefined();
  expect(example).toContain('from "@encstream/packet"');
  await mkdir(join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(packageDir, ".tmp", "readme-"));
  const file = join(dir, "example.mts");
  await writeFile(file, example!);
  const lines: unknown[][] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args);
  });
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

test("the README example runs and prints the output its comments show", async () => {
  expect(await runBlock(0)).toEqual([
    [[220, 220, 132]],
    [{ seqNum: 42, totalLength: 500, hasOverlap: true, fragId: 7, totalFrags: 3, fragIndex: 2 }],
    [42, true],
    [{ received: 4, completed: 1, duplicate: 1, malformed: 0, expired: 0, refused: 0 }],
  ]);
});

test("the README's authenticated-datagram example seals, opens, and refuses the replay", async () => {
  expect(await runBlock(1)).toEqual([[154, "opened", "rejected"]]);
});
