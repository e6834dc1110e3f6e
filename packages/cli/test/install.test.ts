import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { version } from "../package.json";
import { TEST_24K_WAV, TINY24_DIR } from "./codec-fixtures.js";
import { makeTempDir } from "./helpers.js";

/*
 * `node scripts/install-cli.mjs` (the README's way to install the `encstream` command from the
 * repository): it packs every package with npm as a publish would and installs the tarballs
 * with `npm install --global`. Packing runs always (needs the packages built, as `pnpm test`
 * does). The install itself fetches the third-party dependencies (onnxruntime-node is 290 MB
 * unpacked) and takes a minute or more on a cold npm cache, so it runs when
 * ENCSTREAM_TEST_INSTALL=1 (the release checks set it).
 */

const SCRIPT = fileURLToPath(new URL("../../../scripts/install-cli.mjs", import.meta.url));
const dir = await makeTempDir("install");

function node(args: readonly string[], timeoutMs: number) {
  return spawnSync(process.execPath, args, { encoding: "utf8", timeout: timeoutMs, cwd: dir });
}

/** The package.json inside a tarball. */
function manifestOf(tarball: string): Record<string, Record<string, string> | string> {
  const listed = spawnSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" });
  expect(listed.status, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout) as Record<string, Record<string, string> | string>;
}

describe("scripts/install-cli.mjs", () => {
  test("--pack-only: one tarball per package, workspace ranges written as published versions, dist inside", () => {
    const packed = join(dir, "packed");
    const result = node([SCRIPT, "--pack-only", packed], 120_000);
    expect(result.status, result.stderr).toBe(0);
    const names = ["cli", "codec", "jitter", "ola", "packet", "session", "transport-udp"];
    expect(result.stdout).toContain(`packed ${names.length} packages into ${packed}`);
    const tarballs = readdirSync(packed).sort();
    expect(tarballs).toEqual(names.map((name) => `encstream-${name}-${version}.tgz`));
    const cli = manifestOf(join(packed, `encstream-cli-${version}.tgz`));
    expect(cli.dependencies).toMatchObject({ "@encstream/codec": `^${version}`, "@encstream/session": `^${version}`, "@encstream/transport-udp": `^${version}`, "onnxruntime-node": "1.30.0" });
    expect(JSON.stringify(cli)).not.toContain("workspace:");
    expect(cli.scripts).toBeUndefined();
    const files = spawnSync("tar", ["-tzf", join(packed, `encstream-cli-${version}.tgz`)], { encoding: "utf8" }).stdout.split("\n");
    expect(files).toContain("package/dist/bin.js");
    expect(files).toContain("package/README.md");
    expect(files.some((f) => f.startsWith("package/src/"))).toBe(false);
  });

  test.runIf(process.env.ENCSTREAM_TEST_INSTALL === "1")(
    "installs the command into a prefix with npm; the installed encstream encodes a file",
    () => {
      const prefix = join(dir, "prefix");
      const installed = node([SCRIPT, "--prefix", prefix, "--no-playback"], 600_000);
      expect(installed.status, installed.stderr).toBe(0);
      const bin = join(prefix, process.platform === "win32" ? "encstream.cmd" : "bin/encstream");
      expect(existsSync(bin)).toBe(true);
      const shown = spawnSync(bin, ["--version"], { encoding: "utf8" });
      expect(shown.stdout).toBe(`${version}\n`);
      const out = join(dir, "speech.ecdc");
      const encoded = spawnSync(bin, ["encode", "--model", TINY24_DIR, "--cache-dir", join(dir, "cache"), "--no-lm", "--bandwidth", "3", TEST_24K_WAV, out], { encoding: "utf8", timeout: 120_000 });
      expect(encoded.status, encoded.stderr).toBe(0);
      expect(encoded.stdout).toContain(`wrote ${out}: `);
    },
    900_000,
  );
});
