/**
 * Runs the README's first ```ts example as a user would: written to a file that imports
 * "@encstream/ola" by name (mapped to this package's source by a tsconfig `paths` entry, so no
 * build is needed) and executed with tsx. Checks what it prints.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

test("the README example runs and prints what its comment says", async () => {
  const readme = await readFile(join(packageDir, "README.md"), "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const expected = /\/\/ → (.*)\n/.exec(example as string)?.[1];
  expect(expected).toBeDefined();

  // Inside the package (so tsx finds its dependencies), under the git-ignored .tmp/.
  await mkdir(join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(packageDir, ".tmp", "readme-"));
  try {
    await writeFile(join(dir, "example.mts"), example as string);
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "ESNext",
          moduleResolution: "Bundler",
          paths: { "@encstream/ola": [join(packageDir, "src/index.ts")] },
        },
      }),
    );
    const tsx = createRequire(import.meta.url).resolve("tsx/cli");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [tsx, "--tsconfig", join(dir, "tsconfig.json"), join(dir, "example.mts")],
      { cwd: dir },
    );
    expect(stdout.trim()).toBe(expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
