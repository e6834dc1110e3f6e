import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "tsup";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

/**
 * Builds `bin.js` and `demo.js` from the current sources as `tsup` does for `dist/` (ESM, same
 * externals, no type declarations), into a fresh folder inside the package (`.tmp/`, ignored by
 * git) so the dependencies resolve, and returns that folder. The tests spawn what this builds,
 * so they run the command as shipped even when `dist/` is stale or absent (`pnpm test` builds
 * only the dependencies).
 */
export async function buildCli(): Promise<string> {
  await mkdir(join(PACKAGE_DIR, ".tmp"), { recursive: true });
  const outDir = await mkdtemp(join(PACKAGE_DIR, ".tmp", "test-build-"));
  await build({
    config: false,
    entry: { bin: join(PACKAGE_DIR, "src/bin.ts"), demo: join(PACKAGE_DIR, "src/demo.ts") },
    format: ["esm"],
    outDir,
    dts: false,
    sourcemap: false,
    clean: false,
    // As dist/ is built (tsup.config.ts): each command's module a chunk, loaded when it runs.
    splitting: true,
    shims: true,
    target: "es2022",
    external: ["naudiodon2"],
    silent: true,
  });
  return outDir;
}
