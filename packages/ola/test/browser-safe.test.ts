/**
 * The package must run in browsers: its source (tests aside) may not use Node built-ins, Buffer
 * or process, and it has no runtime dependencies.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return Promise.resolve(entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : []);
    }),
  );
  return nested.flat();
}

test("src uses no Node built-ins, Buffer or process, and imports only its own files", async () => {
  const files = await sourceFiles(join(packageDir, "src"));
  expect(files.length).toBeGreaterThan(5);
  const problems: string[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(/from\s+"([^"]+)"/g)) {
      if (!(match[1] as string).startsWith("./") && !(match[1] as string).startsWith("../")) {
        problems.push(`${file}: imports ${match[1]}`);
      }
    }
    if (/\b(Buffer|process|require)\b/.test(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""))) {
      problems.push(`${file}: uses Buffer, process or require`);
    }
  }
  expect(problems).toEqual([]);
});

test("package.json declares no runtime dependencies", async () => {
  const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as Record<string, unknown>;
  expect(manifest.dependencies ?? {}).toEqual({});
  expect(manifest.peerDependencies ?? {}).toEqual({});
});
