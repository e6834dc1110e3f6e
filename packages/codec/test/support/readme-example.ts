// Runs a README example as a module and collects what it prints: shared by the README tests
// (test/readme.test.ts, test/streaming-readme.test.ts, src/lm/readme-lm.test.ts).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { vi } from "vitest";

/** Absolute path of the package folder (where README.md is). */
export const packageDir = fileURLToPath(new URL("../..", import.meta.url));

/** Options of {@link runExampleModule}. */
export interface RunExampleOptions {
  /** Name prefix of the temp folder made under `<packageDir>/.tmp`. */
  readonly tmpPrefix: string;
  /** Point ENCSTREAM_CACHE_DIR at `<temp folder>/cache` while the example runs (then unset it). @default false */
  readonly isolateCache?: boolean;
}

/**
 * Write `code` (imports already pointed where they should resolve) to `example.mts` in a fresh
 * temp folder, import it, and return the lines it printed with `console.log` (formatted like
 * console.log does) joined by "\n". The console spy, the environment variable and the folder are
 * undone afterwards, also when the example throws (the error propagates).
 */
export async function runExampleModule(code: string, options: RunExampleOptions): Promise<string> {
  await mkdir(path.join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(path.join(packageDir, ".tmp", options.tmpPrefix));
  if (options.isolateCache) process.env.ENCSTREAM_CACHE_DIR = path.join(dir, "cache");
  const file = path.join(dir, "example.mts");
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(format(...args));
  });
  try {
    await writeFile(file, code);
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    log.mockRestore();
    if (options.isolateCache) delete process.env.ENCSTREAM_CACHE_DIR;
    await rm(dir, { recursive: true, force: true });
  }
  return lines.join("\n");
}
