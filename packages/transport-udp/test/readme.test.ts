// Runs the README's first ```ts block as a user would: a .mts file inside this package that
// imports "@encstream/transport-udp" by name (resolved to the built dist through the package's
// own exports map), executed by tsx in a child process.
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

test("the README example runs and prints what the README says", async () => {
  const readme = await readFile(join(packageDir, "README.md"), "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  expect(example).toContain('from "@encstream/transport-udp"');
  const promised = /It prints `([^`]+)`/.exec(readme)?.[1];
  expect(promised).toBeDefined();

  const dir = join(packageDir, ".tmp");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `readme-example-${process.pid}.mts`);
  await writeFile(file, example as string);
  try {
    const started = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file], {
      cwd: packageDir,
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe(promised);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40); // three paced 20 ms frames
  } finally {
    await rm(file, { force: true });
  }
});
